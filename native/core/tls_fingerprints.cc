#include "tls_fingerprints.h"

#include <algorithm>
#include <charconv>
#include <initializer_list>
#include <string_view>

#include "hash.h"

namespace ja4 {

namespace {

bool is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

void append_count(std::string& out, size_t n) {
  // "If there are more than 99 ... then the count is 99."
  if (n > 99) n = 99;
  out.push_back(static_cast<char>('0' + n / 10));
  out.push_back(static_cast<char>('0' + n % 10));
}

// "0a0a,1301,..." appended to s in place: no per-value append.
void append_hex_list(std::string& s, const uint16_t* values, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  if (!n) return;
  size_t at = s.size();
  s.resize(at + n * 5 - 1, ',');
  char* p = s.data() + at;
  for (size_t i = 0; i < n; ++i, p += 5) {
    uint16_t v = values[i];
    p[0] = kHex[(v >> 12) & 0xf];
    p[1] = kHex[(v >> 8) & 0xf];
    p[2] = kHex[(v >> 4) & 0xf];
    p[3] = kHex[v & 0xf];
  }
}

// GREASE-free copy into `out` (reused scratch: no allocation once grown).
void without_grease(const std::vector<uint16_t>& in, std::vector<uint16_t>& out) {
  out.clear();
  for (uint16_t v : in)
    if (!is_grease(v)) out.push_back(v);
}

// Concatenation with one allocation (a + "_" + b + ... made a temporary per +).
std::string concat(std::initializer_list<std::string_view> parts) {
  size_t n = 0;
  for (std::string_view p : parts) n += p.size();
  std::string s;
  s.reserve(n);
  for (std::string_view p : parts) s.append(p.data(), p.size());
  return s;
}

// "TLS version: ... If extension 0x002b exists (supported_versions), then the
// version is the highest value in the extension. Remember to ignore GREASE
// values. If the extension doesn't exist, then the TLS version is the value
// of the Protocol Version."
uint16_t client_version(const ClientHello& ch) {
  uint16_t best = 0;
  bool found = false;
  for (uint16_t v : ch.supported_versions) {
    if (is_grease(v)) continue;
    // DTLS versions count down (0xfeff = 1.0, 0xfefd = 1.2, 0xfefc = 1.3).
    if (!found || (ch.dtls ? v < best : v > best)) best = v;
    found = true;
  }
  return found ? best : ch.legacy_version;
}

}  // namespace

const char* ja4_version_chars(uint16_t version) {
  switch (version) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    default: return "00";
  }
}

std::string ja4_alpn_chars(const std::string& alpn) {
  // "If there are no ALPN values or no ALPN extension then we print '00'."
  if (alpn.empty()) return "00";
  unsigned char first = static_cast<unsigned char>(alpn.front());
  unsigned char last = static_cast<unsigned char>(alpn.back());
  // "If the first or last byte of the first ALPN is non-alphanumeric (meaning
  // not 0x30-0x39, 0x41-0x5A, or 0x61-0x7A), then we print the first and last
  // characters of the hex representation of the first ALPN instead."
  // (The reference tool prints '9' here instead; we follow the spec.)
  if (!is_alnum(first) || !is_alnum(last)) {
    static const char kHex[] = "0123456789abcdef";
    return std::string{kHex[first >> 4], kHex[last & 0x0f]};
  }
  // A one-character ALPN: that character is both the first and the last.
  return std::string{static_cast<char>(first), static_cast<char>(last)};
}

Ja4Client ja4_fingerprint(const ClientHello& ch, TlsTransport transport, FingerprintForms forms) {
  // Per-thread scratch lists: a handshake then allocates only its output strings.
  thread_local std::vector<uint16_t> ciphers, exts, sigalgs, exts_sorted;
  // Raw strings nobody asked for are built here instead (they are what is hashed).
  thread_local std::string raw_scratch;
  without_grease(ch.ciphers, ciphers);
  without_grease(ch.extensions, exts);
  without_grease(ch.signature_algorithms, sigalgs);

  // Part a: protocol, version, SNI marker, cipher count, extension count, ALPN.
  std::string a;
  a.push_back(static_cast<char>(transport));
  a += ja4_version_chars(client_version(ch));
  // "If the SNI extension (0x0000) exists, then the destination of the
  // connection is a domain, or 'd'. If it does not exist, then it's an IP, 'i'."
  a.push_back(ch.has_sni ? 'd' : 'i');
  // "Number of ciphers ... Number of extensions ... ignore GREASE. Include SNI and ALPN."
  append_count(a, ciphers.size());
  append_count(a, exts.size());
  a += ja4_alpn_chars(ch.alpn.empty() ? std::string() : ch.alpn.front());

  // The raw forms are written straight into their output strings; the
  // hashed forms hash the cipher and extension parts inside them.
  struct Parts {
    std::string_view ciphers, exts;
  };
  auto raw = [&](std::string& s, const std::vector<uint16_t>& cs, const std::vector<uint16_t>& es) {
    s.reserve(a.size() + 3 + 5 * (cs.size() + es.size() + sigalgs.size()));
    s = a;
    s.push_back('_');
    size_t c_at = s.size();
    append_hex_list(s, cs.data(), cs.size());
    size_t c_len = s.size() - c_at;
    s.push_back('_');
    size_t e_at = s.size();
    append_hex_list(s, es.data(), es.size());
    // "If there are no signature algorithms in the hello packet, then the
    // string ends without an underscore."
    if (!sigalgs.empty()) {
      s.push_back('_');
      append_hex_list(s, sigalgs.data(), sigalgs.size());
    }
    std::string_view v(s);
    return Parts{v.substr(c_at, c_len), v.substr(e_at)};
  };

  Ja4Client out;
  // Original order (JA4_o / JA4_ro): ciphers and extensions as on the wire,
  // SNI and ALPN kept.
  if (forms.original) {
    Parts o = raw(forms.raw ? out.ja4_ro : raw_scratch, ciphers, exts);
    out.ja4_o = concat({a, "_", ja4_hash12(o.ciphers), "_", ja4_hash12(o.exts)});
  }

  // Sorted form: "the list is sorted in hex order"; "the extension list
  // ignores the SNI extension (0000) and the ALPN extension (0010)".
  std::sort(ciphers.begin(), ciphers.end());
  exts_sorted.clear();
  for (uint16_t e : exts)
    if (e != kExtServerName && e != kExtAlpn) exts_sorted.push_back(e);
  std::sort(exts_sorted.begin(), exts_sorted.end());
  Parts r = raw(forms.raw ? out.ja4_r : raw_scratch, ciphers, exts_sorted);

  // "If there are no ciphers in the sorted cipher list, then the value of
  // JA4_b is set to 000000000000"; likewise for extensions (ja4_hash12).
  out.ja4 = concat({a, "_", ja4_hash12(r.ciphers), "_", ja4_hash12(r.exts)});
  return out;
}

Ja4Server ja4s_fingerprint(const ServerHello& sh, TlsTransport transport, FingerprintForms forms) {
  std::string a;
  a.push_back(static_cast<char>(transport));
  a += ja4_version_chars(sh.selected_version ? sh.selected_version : sh.legacy_version);
  // JA4S: "number of extensions" (as sent, in the order sent), then the
  // chosen ALPN's first and last characters.
  append_count(a, sh.extensions.size());
  a += ja4_alpn_chars(sh.has_alpn ? sh.alpn : std::string());
  a.push_back('_');
  append_hex4(a, sh.cipher);
  Ja4Server out;
  thread_local std::string raw_scratch;
  std::string& r = forms.raw ? out.ja4s_r : raw_scratch;
  r.reserve(a.size() + 1 + 5 * sh.extensions.size());
  r = a;
  r.push_back('_');
  append_hex_list(r, sh.extensions.data(), sh.extensions.size());
  out.ja4s = concat({a, "_", ja4_hash12(std::string_view(r).substr(a.size() + 1))});
  return out;
}

namespace {
// Decimal values written straight into s (at most 5 digits and a '-' each).
template <class List>
void append_dec_list(std::string& s, const List& v) {
  size_t start = s.size();
  s.resize(start + v.size() * 6);
  char* p = s.data() + start;
  char* const end = s.data() + s.size();
  bool first = true;
  for (uint16_t x : v) {
    if (is_grease(x)) continue;  // JA3: GREASE values are ignored
    if (!first) *p++ = '-';
    first = false;
    p = std::to_chars(p, end, x).ptr;
  }
  s.resize(static_cast<size_t>(p - s.data()));
}
}  // namespace

// JA3: "SSLVersion,Cipher,SSLExtension,EllipticCurve,EllipticCurvePointFormat",
// decimal values, '-' within a field.
Ja3 ja3_fingerprint(const ClientHello& ch, FingerprintForms forms) {
  thread_local std::string scratch;
  std::string owned;
  std::string& s = forms.raw ? owned : scratch;
  s.clear();
  s.reserve(8 + 6 * (ch.ciphers.size() + ch.extensions.size() + ch.supported_groups.size() +
                     ch.ec_point_formats.size()));
  char num[8];
  s.append(num, std::to_chars(num, num + sizeof num, ch.legacy_version).ptr);
  s.push_back(',');
  append_dec_list(s, ch.ciphers);
  s.push_back(',');
  append_dec_list(s, ch.extensions);
  s.push_back(',');
  append_dec_list(s, ch.supported_groups);
  s.push_back(',');
  append_dec_list(s, ch.ec_point_formats);
  std::string hash = md5_hex(s);
  return Ja3{std::move(hash), std::move(owned)};
}

// JA3S: "SSLVersion,Cipher,SSLExtension".
Ja3 ja3s_fingerprint(const ServerHello& sh, FingerprintForms forms) {
  thread_local std::string scratch;
  std::string owned;
  std::string& s = forms.raw ? owned : scratch;
  s.clear();
  char num[8];
  s.append(num, std::to_chars(num, num + sizeof num, sh.legacy_version).ptr);
  s.push_back(',');
  s.append(num, std::to_chars(num, num + sizeof num, sh.cipher).ptr);
  s.push_back(',');
  append_dec_list(s, sh.extensions);
  std::string hash = md5_hex(s);
  return Ja3{std::move(hash), std::move(owned)};
}

}  // namespace ja4
