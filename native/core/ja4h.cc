#include "ja4h.h"

#include <algorithm>

#include "hash.h"

namespace ja4 {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// "HTTP version: 10, 11, 20, 30."
const char* version_code(std::string_view v) {
  if (v == "HTTP/1.0") return "10";
  if (v == "HTTP/1.1") return "11";
  if (v == "HTTP/2" || v == "HTTP/2.0") return "20";
  if (v == "HTTP/3" || v == "HTTP/3.0") return "30";
  return "00";
}

// "The first 4 characters of the Accept-Language header's primary language,
// lowercase, dashes removed, padded with 0s."
void language_code(std::string_view value, std::string& out) {
  size_t i = 0;
  while (i < value.size() && (value[i] == ' ' || value[i] == '\t')) ++i;
  size_t before = out.size();
  for (; i < value.size() && out.size() - before < 4; ++i) {
    char c = value[i];
    if (c == ',') break;
    if (c == '-') continue;
    out.push_back(lower(c));
  }
  while (out.size() - before < 4) out.push_back('0');
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s.push_back(',');
    s += v[i];
  }
  return s;
}

}  // namespace

std::string ja4h_section_a(std::string_view method, std::string_view version, bool cookie, bool referer,
                           size_t header_count, const std::string_view* language) {
  std::string a;
  // "2 character request method, lowercase."
  for (size_t i = 0; i < 2; ++i) a.push_back(i < method.size() ? lower(method[i]) : '0');
  a += version_code(version);
  a.push_back(cookie ? 'c' : 'n');
  a.push_back(referer ? 'r' : 'n');
  size_t n = std::min<size_t>(header_count, 99);
  a.push_back(static_cast<char>('0' + n / 10));
  a.push_back(static_cast<char>('0' + n % 10));
  if (language) language_code(*language, a);
  else a += "0000";
  return a;
}

Ja4H ja4h_fingerprint(const HttpRequest& req) {
  bool has_cookie = false, has_referer = false;
  const std::string* cookie_value = nullptr;
  const std::string* language = nullptr;
  std::vector<std::string> names;
  for (const HttpHeader& h : req.headers) {
    // "Cookie and Referer headers are not counted and not in the header list."
    if (header_name_is(h.name, "cookie")) {
      if (!has_cookie) cookie_value = &h.value;
      has_cookie = true;
    } else if (header_name_is(h.name, "referer")) {
      has_referer = true;
    } else {
      if (!language && header_name_is(h.name, "accept-language")) language = &h.value;
      names.push_back(h.name);
    }
  }

  std::string_view language_value = language ? std::string_view(*language) : std::string_view();
  std::string a = ja4h_section_a(req.method, req.version, has_cookie, has_referer, names.size(), language ? &language_value : nullptr);

  std::string headers = join(names);

  // Cookie fields are separated by "; " (RFC 6265 4.2.1).
  std::vector<std::string> cookies;
  if (cookie_value) {
    size_t pos = 0;
    const std::string& v = *cookie_value;
    while (pos <= v.size()) {
      size_t sep = v.find("; ", pos);
      std::string item = v.substr(pos, sep == std::string::npos ? std::string::npos : sep - pos);
      if (!item.empty()) cookies.push_back(item);
      if (sep == std::string::npos) break;
      pos = sep + 2;
    }
  }
  auto cookie_parts = [](const std::vector<std::string>& items, std::string& keys, std::string& all) {
    for (size_t i = 0; i < items.size(); ++i) {
      if (i) { keys.push_back(','); all.push_back(','); }
      keys += items[i].substr(0, items[i].find('='));
      all += items[i];
    }
  };
  std::string keys_o, items_o, keys_s, items_s;
  cookie_parts(cookies, keys_o, items_o);
  // Sorted forms: the cookie names sorted, and the "name=value" items sorted
  // by name (then by value), as FoxIO's reference output has them
  // (single-packets.pcap stream 7: "visitor_id413862" sorts before
  // "visitor_id413862-hash" in both lists).
  std::vector<std::string> sorted = cookies;
  auto name_of = [](const std::string& item) { return item.substr(0, item.find('=')); };
  std::sort(sorted.begin(), sorted.end(), [&](const std::string& x, const std::string& y) {
    std::string nx = name_of(x), ny = name_of(y);
    return nx != ny ? nx < ny : x < y;
  });
  cookie_parts(sorted, keys_s, items_s);

  std::string hh = ja4_hash12(headers);
  Ja4H out;
  out.ja4h = a + "_" + hh + "_" + ja4_hash12(keys_s) + "_" + ja4_hash12(items_s);
  out.ja4h_r = a + "_" + headers + "_" + keys_s + "_" + items_s;
  out.ja4h_o = a + "_" + hh + "_" + ja4_hash12(keys_o) + "_" + ja4_hash12(items_o);
  out.ja4h_ro = a + "_" + headers + "_" + keys_o + "_" + items_o;
  return out;
}

}  // namespace ja4
