#include "reqin_record.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "byte_cursor.h"
#include "hash.h"
#include "http_request.h"
#include "ip_text.h"
#include "ja4h.h"
#include "json_reader.h"

namespace ja4::reqin {

namespace {

// toHttpRecord's bounds (src/correlator/http-record.ts)
constexpr uint64_t kMaxTsUs = 4102444800000000ULL;  // 2100-01-01
constexpr uint64_t kMaxU32 = 0xffffffffULL;
constexpr uint64_t kMaxSafeInteger = 9007199254740991ULL;  // Number.MAX_SAFE_INTEGER
constexpr size_t kMaxMemoKey = 4096;  // JA4H memo: longer layouts are not kept

// a decoded string (json_reader.h): decoded escapes live in Scratch::text
using json::Span;
using json::Reader;
using json::parse_ip;

}  // namespace

struct Scratch {
  std::string text;   // the decoded strings that had escapes, back to back
  std::string cells;  // room for a record's cells while they are written
  std::vector<Span> header_order, header_keys, header_values, cookies;
  std::string key;   // the JA4H memo's key
  std::string last_key, last_ja4h;  // the last layout's
  std::vector<std::string_view> names, sorted_cookies;
  std::string joined;
};

namespace {

bool all_ascii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// mod_ssl's SSL_PROTOCOL in the engine's two-digit form, as tlsVersionOf():
// /^TLSv1(?:\.(\d))?$/ -> "1" + digit (or "10"), "SSLv3" -> "s3", else "".
std::string_view tls_version_of(std::string_view p) {
  static const char* const kDigits[] = {"10", "11", "12", "13", "14", "15", "16", "17", "18", "19"};
  if (p == "TLSv1") return "10";
  if (p.size() == 7 && p.substr(0, 6) == "TLSv1." && p[6] >= '0' && p[6] <= '9') return kDigits[p[6] - '0'];
  if (p == "SSLv3") return "s3";
  return "";
}

// The record's JA4H, memoised on its inputs; nullptr when an input is not
// ASCII (the JavaScript reader decides those).
const std::string* ja4h_of(Scratch& s, Ja4hCache& cache, Span method, Span proto) {
  std::string_view language;
  bool has_language_value = false;
  for (size_t i = 0; i < s.header_keys.size(); ++i) {
    if (s.header_keys[i] == "accept-language") {
      language = s.header_values[i];
      has_language_value = true;
    }
  }
  // the memo's key: every input, each with its length (a name may hold any byte)
  size_t size = 32 + method.size() + proto.size() + language.size();
  for (Span sp : s.header_order) size += 4 + sp.size();
  for (Span sp : s.cookies) size += 4 + sp.size();
  std::string& memo = s.key;
  memo.resize(size);
  ByteCursor o{memo.data()};
  auto piece = [&](Span sp) {
    o.u32(static_cast<uint32_t>(sp.size()));
    o.bytes(sp);
  };
  piece(method);
  piece(proto);
  o.u32(static_cast<uint32_t>(s.header_order.size()));
  for (Span sp : s.header_order) piece(sp);
  if (has_language_value) piece(language);
  else o.byte('\xff');
  o.u32(static_cast<uint32_t>(s.cookies.size()));
  for (Span sp : s.cookies) piece(sp);
  memo.resize(static_cast<size_t>(o.p - memo.data()));
  // requests come in runs from one client (keep-alive): the last layout first
  if (memo == s.last_key) return &s.last_ja4h;  // whose inputs passed the checks below
  if (!all_ascii(method) || !all_ascii(language)) return nullptr;
  for (Span sp : s.header_order) {
    if (!all_ascii(sp)) return nullptr;
  }
  for (Span sp : s.cookies) {
    if (!all_ascii(sp)) return nullptr;
  }
  auto compute = [&] {
    bool cookie = !s.cookies.empty(), referer = false, lang = false;
    s.names.clear();
    for (Span sp : s.header_order) {
      std::string_view name = sp;
      // "Cookie and Referer headers are not counted and not in the header list."
      if (header_name_is(name, "cookie")) {
        cookie = true;
      } else if (header_name_is(name, "referer")) {
        referer = true;
      } else {
        if (header_name_is(name, "accept-language")) lang = true;
        s.names.push_back(name);
      }
    }
    // the language from the logged value, when the header was sent and its value logged
    std::string a = ja4h_section_a(method, proto, cookie, referer, s.names.size(), lang && has_language_value ? &language : nullptr);
    s.joined.clear();
    for (size_t i = 0; i < s.names.size(); ++i) {
      if (i) s.joined.push_back(',');
      s.joined.append(s.names[i]);
    }
    std::string b = ja4_hash12(s.joined);
    s.sorted_cookies.clear();
    for (Span sp : s.cookies) s.sorted_cookies.push_back(sp);
    std::sort(s.sorted_cookies.begin(), s.sorted_cookies.end());
    s.joined.clear();
    for (size_t i = 0; i < s.sorted_cookies.size(); ++i) {
      if (i) s.joined.push_back(',');
      s.joined.append(s.sorted_cookies[i]);
    }
    std::string c = ja4_hash12(s.joined);
    return a + "_" + b + "_" + c + "_" + c;
  };
  // a layout is a few hundred bytes; a huge one (a record of 100 long header
  // names) is computed, not kept: the memo's memory stays bounded by its count
  s.last_ja4h = memo.size() <= kMaxMemoKey ? cache.get(memo, compute) : compute();
  s.last_key = memo;
  return &s.last_ja4h;
}

// The record's keys (docs/mod_reqin_log.md); anything else is skipped.
enum class Key : uint8_t {
  kTs, kDur, kConn, kReqN, kClientIp, kClientPort, kLocalIp, kLocalPort, kVhost, kMethod, kScheme, kHost, kUri,
  kProto, kStatus, kBytesIn, kBytesOut, kUniqueId, kTls, kHeaderOrder, kHeaders, kCookies, kTruncated, kUnknown
};

// By length first: one or two comparisons per key, not a chain of them.
Key key_of(std::string_view k) {
  switch (k.size()) {
    case 3:
      if (k == "uri") return Key::kUri;
      if (k == "tls") return Key::kTls;
      break;
    case 4:
      if (k == "conn") return Key::kConn;
      if (k == "host") return Key::kHost;
      break;
    case 5:
      if (k == "ts_us") return Key::kTs;
      if (k == "req_n") return Key::kReqN;
      if (k == "vhost") return Key::kVhost;
      if (k == "proto") return Key::kProto;
      break;
    case 6:
      if (k == "dur_us") return Key::kDur;
      if (k == "method") return Key::kMethod;
      if (k == "scheme") return Key::kScheme;
      if (k == "status") return Key::kStatus;
      break;
    case 7:
      if (k == "headers") return Key::kHeaders;
      if (k == "cookies") return Key::kCookies;
      break;
    case 8:
      if (k == "local_ip") return Key::kLocalIp;
      if (k == "bytes_in") return Key::kBytesIn;
      break;
    case 9:
      if (k == "client_ip") return Key::kClientIp;
      if (k == "bytes_out") return Key::kBytesOut;
      if (k == "unique_id") return Key::kUniqueId;
      if (k == "truncated") return Key::kTruncated;
      break;
    case 10:
      if (k == "local_port") return Key::kLocalPort;
      break;
    case 11:
      if (k == "client_port") return Key::kClientPort;
      break;
    case 12:
      if (k == "header_order") return Key::kHeaderOrder;
      break;
    default:
      break;
  }
  return Key::kUnknown;
}

}  // namespace

RecordParser::RecordParser() : s_(new Scratch) {}
RecordParser::~RecordParser() { delete s_; }

bool RecordParser::read(const char* line, size_t n, Record& out, const std::string_view* given_ja4h) {
  const bool trusted = given_ja4h != nullptr;
  Scratch& s = *s_;
  s.text.clear();
  s.text.reserve(n);  // decoding never grows a string: pieces of it stay put
  s.header_order.clear();
  s.header_keys.clear();
  s.header_values.clear();
  s.cookies.clear();
  Reader r{line, line + n, &s.text};

  uint32_t seen = 0;
  uint64_t ts = 0, dur = 0, req_n = 0, client_port = 0, local_port = 0, status = 0, bytes_in = 0, bytes_out = 0;
  Span conn, client_ip, local_ip, method, scheme, host, uri, proto, unique_id, tls_protocol, tls_cipher, tls_sni, vhost;
  bool has_tls = false;
  size_t truncated = 0;
  bool ascii = true;

  // a string (null -> '')
  auto str = [&](Span& sp, bool nullable) -> bool {
    if (r.null()) {
      sp = Span();
      return nullable;
    }
    return r.string(sp, ascii);
  };
  auto num = [&](uint64_t& v, uint64_t max, bool nullable) -> bool {
    if (r.null()) return nullable;
    return r.uint(max, v);
  };
  auto list = [&](std::vector<Span>* out) -> bool {
    if (r.null()) return true;
    return json::items(r, [&] {
      Span sp;
      if (!str(sp, false)) return false;
      if (out) out->push_back(sp);
      else ++truncated;
      return true;
    });
  };

  if (!r.take('{')) return false;
  if (r.take('}')) return false;
  do {
    Span key;
    bool key_ascii;
    if (!r.string(key, key_ascii) || !r.take(':')) return false;
    Key k = key_of(key);
    if (k != Key::kUnknown) {
      // a duplicate key: JSON.parse keeps the last value, the reader decides
      uint32_t bit = 1u << static_cast<unsigned>(k);
      if (seen & bit) return false;
      seen |= bit;
    }
    bool ok;
    switch (k) {
      case Key::kTs: ok = num(ts, kMaxTsUs, false) && ts >= 1; break;
      case Key::kDur: ok = num(dur, kMaxU32, true); break;
      case Key::kConn: ok = str(conn, false) && (ascii || trusted) && !conn.empty(); break;
      case Key::kReqN: ok = num(req_n, kMaxU32, true); break;
      case Key::kClientIp: ok = str(client_ip, false); break;
      case Key::kClientPort: ok = num(client_port, 65535, false); break;
      case Key::kLocalIp: ok = str(local_ip, true); break;
      case Key::kLocalPort: ok = num(local_port, 65535, true); break;
      case Key::kVhost: ok = str(vhost, true); break;
      case Key::kMethod: ok = str(method, true); break;
      case Key::kScheme: ok = str(scheme, true); break;
      case Key::kHost: ok = str(host, true); break;
      case Key::kUri: ok = str(uri, true); break;
      case Key::kProto: ok = str(proto, true); break;
      case Key::kStatus: ok = num(status, 65535, true); break;
      case Key::kBytesIn: ok = num(bytes_in, kMaxSafeInteger, true); break;
      case Key::kBytesOut: ok = num(bytes_out, kMaxSafeInteger, true); break;
      case Key::kUniqueId: ok = str(unique_id, true); break;
      case Key::kHeaderOrder: ok = list(&s.header_order); break;
      case Key::kCookies: ok = list(&s.cookies); break;
      case Key::kTruncated: ok = list(nullptr); break;
      case Key::kTls:
        ok = true;
        if (!r.null()) {
          has_tls = true;
          uint32_t tseen = 0;
          ok = json::members(r, [&](Span tk) {
            uint32_t bit = tk == "protocol" ? 1 : tk == "cipher" ? 2 : tk == "sni" ? 4 : 0;
            if (bit & tseen) return false;
            tseen |= bit;
            return bit == 1 ? str(tls_protocol, true) : bit == 2 ? str(tls_cipher, true) : bit == 4 ? str(tls_sni, true) : r.skip(1);
          });
        }
        break;
      case Key::kHeaders:
        ok = true;
        if (!r.null()) {
          ok = json::members(r, [&](Span hk) {
            Span hv;
            if (!str(hv, false)) return false;
            // an integer-like key comes first in JavaScript's key order
            if (!trusted && !hk.empty() && std::all_of(hk.begin(), hk.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
            // a duplicate: JSON.parse keeps the last value at the first place; the
            // JavaScript reader's canonical line lists what its map held
            if (!trusted) {
              for (Span prev : s.header_keys) {
                if (prev == hk) return false;
              }
            }
            s.header_keys.push_back(hk);
            s.header_values.push_back(hv);
            return true;
          });
        }
        break;
      case Key::kUnknown:
        ok = r.skip(1);
        break;
    }
    if (!ok) return false;
  } while (r.take(','));
  if (!r.take('}')) return false;
  r.ws();
  if (r.p != r.end) return false;
  constexpr uint32_t kRequired = (1u << static_cast<unsigned>(Key::kTs)) | (1u << static_cast<unsigned>(Key::kConn)) |
                                 (1u << static_cast<unsigned>(Key::kClientIp)) | (1u << static_cast<unsigned>(Key::kClientPort));
  if ((seen & kRequired) != kRequired) return false;

  // addresses (node:net isIP, then normalizeIp)
  uint8_t client_bytes[16], local_bytes[16] = {};
  if (!parse_ip(client_ip, client_bytes, out.client_ip, trusted)) return false;
  if (!local_ip.empty()) {
    if (!parse_ip(local_ip, local_bytes, out.local_ip, trusted)) return false;
  } else {
    out.local_ip.clear();
  }

  // JA4H (src/correlator/ja4h.ts sectionAB): its inputs are compared and
  // hashed as UTF-16 text there, as bytes here: the same only for ASCII
  std::string_view ja4h;
  if (trusted) {
    ja4h = *given_ja4h;
  } else {
    const std::string* made = ja4h_of(s, ja4h_, method, proto);
    if (made == nullptr) return false;
    ja4h = *made;
  }

  // the cells, in Cell order, written through a cursor into scratch space
  // that holds the worst case (every string a cell, with a 3-byte length;
  // the request id repeats the connection id), then copied once
  size_t bound = 4 * n + 256;
  if (s.cells.size() < bound) s.cells.resize(bound);
  ByteCursor o{s.cells.data()};
  char* const base = o.p;
  uint32_t* ends = out.ends;
  auto end_cell = [&](Cell c) { ends[c] = static_cast<uint32_t>(o.p - base); };
  auto put_list = [&](const std::vector<Span>& items) {
    o.u32(static_cast<uint32_t>(items.size()));
    for (Span sp : items) o.string(sp);
  };
  o.u64(ts);
  end_cell(kTs);
  if (!unique_id.empty()) {
    o.string(unique_id);
  } else {
    // requestId(): `${conn}:${req_n}`
    char digits[12];
    size_t k = sizeof digits;
    uint64_t v = req_n;
    do {
      digits[--k] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    size_t len = sizeof digits - k;
    o.varint(conn.size() + 1 + len);
    o.bytes(conn);
    o.byte(':');
    o.bytes(Span(digits + k, len));
  }
  end_cell(kRequestId);
  o.string(conn);
  end_cell(kConn);
  o.u32(static_cast<uint32_t>(req_n));
  end_cell(kReqN);
  o.bytes(Span(reinterpret_cast<const char*>(client_bytes), 16));
  end_cell(kClientIp);
  o.u16(static_cast<uint32_t>(client_port));
  end_cell(kClientPort);
  o.bytes(Span(reinterpret_cast<const char*>(local_bytes), 16));
  end_cell(kLocalIp);
  o.u16(static_cast<uint32_t>(local_port));
  end_cell(kLocalPort);
  o.u32(static_cast<uint32_t>(dur));
  end_cell(kDuration);
  o.string(method);
  end_cell(kMethod);
  o.string(scheme);
  end_cell(kScheme);
  o.string(host);
  end_cell(kHost);
  o.string(uri);
  end_cell(kUri);
  o.string(proto);
  end_cell(kProto);
  o.u16(static_cast<uint32_t>(status));
  end_cell(kStatus);
  o.u64(bytes_in);
  end_cell(kBytesIn);
  o.u64(bytes_out);
  end_cell(kBytesOut);
  put_list(s.header_order);
  end_cell(kHeaderNames);
  put_list(s.header_keys);
  end_cell(kHeaderKeys);
  put_list(s.header_values);
  end_cell(kHeaderValues);
  put_list(s.cookies);
  end_cell(kCookies);
  o.string(ja4h);
  end_cell(kJa4h);
  o.string(unique_id);
  end_cell(kUniqueId);
  o.string(tls_protocol);
  end_cell(kTlsProtocol);
  o.string(tls_cipher);
  end_cell(kTlsCipher);
  o.string(tls_sni);
  end_cell(kTlsSni);
  o.string(tls_version_of(tls_protocol));
  end_cell(kTlsVersion);
  o.byte(truncated > 0 ? 1 : 0);
  end_cell(kTruncated);
  out.cells.assign(base, static_cast<size_t>(o.p - base));

  out.ts_us = ts;
  out.client_port = static_cast<uint32_t>(client_port);
  out.local_port = static_cast<uint32_t>(local_port);
  out.tls_request = has_tls || scheme == "https";
  out.conn.assign(conn);
  return true;
}

}  // namespace ja4::reqin
