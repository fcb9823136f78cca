#include "http_request.h"

#include <cstring>

namespace ja4 {

namespace {

bool is_token_upper(uint8_t c) { return c >= 'A' && c <= 'Z'; }

std::string trim(const char* b, const char* e) {
  while (b < e && (*b == ' ' || *b == '\t')) ++b;
  while (e > b && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) --e;
  return std::string(b, e);
}

// RFC 9110 section 8.6: "Content-Length = 1*DIGIT". Anything else (a sign,
// spaces inside, a list, an empty value) is not a length; and RFC 9112
// section 6.3: "If a message is received without Transfer-Encoding and with
// an invalid Content-Length header field, then the message framing is
// invalid". Values past kMaxContentLength are refused too: the head plus the
// body must not wrap a size_t (a wrapped sum of 0 would parse the same bytes
// forever).
constexpr uint64_t kMaxContentLength = uint64_t(1) << 53;

bool parse_content_length(const std::string& v, uint64_t& out) {
  if (v.empty()) return false;
  uint64_t n = 0;
  for (char ch : v) {
    if (ch < '0' || ch > '9') return false;
    n = n * 10 + static_cast<uint64_t>(ch - '0');
    if (n > kMaxContentLength) return false;
  }
  out = n;
  return true;
}

}  // namespace

bool header_name_is(std::string_view name, const char* lower) {
  size_t n = std::strlen(lower);
  if (name.size() != n) return false;
  for (size_t i = 0; i < n; ++i) {
    char x = name[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (x != lower[i]) return false;
  }
  return true;
}

bool looks_like_http_request(const uint8_t* data, size_t len) {
  size_t i = 0;
  for (; i < len && i < 8; ++i) {
    if (data[i] == ' ') return i >= 3;  // GET, PUT, POST, DELETE, OPTIONS, ...
    if (!is_token_upper(data[i])) return false;
  }
  return false;
}

HttpParse parse_http_request(const uint8_t* data, size_t len, size_t max_head, HttpRequest& out,
                             size_t& consumed, bool& chunked) {
  const char* p = reinterpret_cast<const char*>(data);
  const char* end = p + (len < max_head ? len : max_head);
  // Find the end of the head: CRLFCRLF (bare LF tolerated, RFC 9112 2.2).
  const char* head_end = nullptr;
  for (const char* q = p; q < end; ++q) {
    if (*q != '\n') continue;
    if (q + 1 < end && q[1] == '\n') { head_end = q + 2; break; }
    if (q + 2 < end && q[1] == '\r' && q[2] == '\n') { head_end = q + 3; break; }
  }
  if (!head_end) return len >= max_head ? HttpParse::Bad : HttpParse::NeedMore;

  // Request line: method SP target SP version
  const char* line_end = static_cast<const char*>(std::memchr(p, '\n', head_end - p));
  const char* sp1 = static_cast<const char*>(std::memchr(p, ' ', line_end - p));
  if (!sp1) return HttpParse::NotHttp;
  const char* sp2 = nullptr;
  for (const char* q = line_end; q > sp1; --q)
    if (*q == ' ') { sp2 = q; break; }
  if (!sp2 || sp2 == sp1) return HttpParse::Bad;
  out.method.assign(p, sp1);
  out.target.assign(sp1 + 1, sp2);
  out.version = trim(sp2 + 1, line_end);
  if (out.version.compare(0, 5, "HTTP/") != 0) return HttpParse::Bad;

  uint64_t content_length = 0;
  bool have_length = false;
  chunked = false;
  const char* q = line_end + 1;
  while (q < head_end) {
    const char* le = static_cast<const char*>(std::memchr(q, '\n', head_end - q));
    if (!le) break;
    if (le == q || (le == q + 1 && *q == '\r')) break;  // blank line
    const char* colon = static_cast<const char*>(std::memchr(q, ':', le - q));
    if (colon) {
      HttpHeader h{std::string(q, colon), trim(colon + 1, le)};
      if (header_name_is(h.name, "content-length")) {
        // Repeated fields must agree (RFC 9110 8.6: a recipient may reject
        // differing values; a proxy and a server reading different ones is
        // request smuggling).
        uint64_t n = 0;
        if (!parse_content_length(h.value, n) || (have_length && n != content_length)) return HttpParse::Bad;
        content_length = n;
        have_length = true;
      } else if (header_name_is(h.name, "transfer-encoding") &&
                 h.value.find("chunked") != std::string::npos) {
        chunked = true;
      }
      out.headers.push_back(std::move(h));
    }
    q = le + 1;
  }
  consumed = static_cast<size_t>(head_end - p) + (chunked ? 0 : static_cast<size_t>(content_length));
  return HttpParse::Ok;
}

}  // namespace ja4
