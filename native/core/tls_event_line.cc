#include "tls_event_line.h"

#include "byte_cursor.h"
#include "ip_text.h"
#include "json_reader.h"

namespace ja4::tlsevent {

namespace {

using json::items;
using json::members;
using json::peek;
using json::Reader;
using json::Span;

constexpr uint64_t kMaxSafeInteger = 9007199254740991ULL;  // Number.MAX_SAFE_INTEGER: toTlsInput's isInt bound

// The keys toTlsInput reads; anything else is checked as JSON and skipped.
// The strings the columns keep come first, in the blob's order after sni.
enum Key : uint8_t {
  // tls_version .. ja4l_s: the blob's Strings, in its order (TlsEntry)
  kTlsVersion, kAlpn, kJa4, kJa4R, kJa4O, kJa3, kJa4s, kJa4t, kJa4ts, kJa4lC, kJa4lS,
  kSni,  // tls_server_name
  // the other STRING_FIELDS: type-checked only
  kJa4Ro, kJa3R, kJa4sR, kJa3s, kJa3sR, kSensor,
  kEvent, kTransport, kSrc, kDst, kSrcPort, kDstPort, kFirstTs, kLastTs, kReason, kClosed, kClientTtl, kTlsCerts,
  kUnknown
};
constexpr int kColumnStrings = kSni;  // tls_version .. ja4l_s
constexpr int kStringFields = kSensor + 1;

// By length first: one or two comparisons per key.
Key key_of(Span k) {
  switch (k.size()) {
    case 3:
      if (k == "src") return kSrc;
      if (k == "dst") return kDst;
      if (k == "ja4") return kJa4;
      if (k == "ja3") return kJa3;
      break;
    case 4:
      if (k == "alpn") return kAlpn;
      if (k == "ja4s") return kJa4s;
      if (k == "ja4t") return kJa4t;
      if (k == "ja3s") return kJa3s;
      break;
    case 5:
      if (k == "event") return kEvent;
      if (k == "ja4_r") return kJa4R;
      if (k == "ja4_o") return kJa4O;
      if (k == "ja3_r") return kJa3R;
      if (k == "ja4ts") return kJa4ts;
      break;
    case 6:
      if (k == "ja4l_c") return kJa4lC;
      if (k == "ja4l_s") return kJa4lS;
      if (k == "closed") return kClosed;
      if (k == "ja4_ro") return kJa4Ro;
      if (k == "ja4s_r") return kJa4sR;
      if (k == "ja3s_r") return kJa3sR;
      if (k == "reason") return kReason;
      if (k == "sensor") return kSensor;
      break;
    case 8:
      if (k == "src_port") return kSrcPort;
      if (k == "dst_port") return kDstPort;
      break;
    case 9:
      if (k == "transport") return kTransport;
      if (k == "tls_certs") return kTlsCerts;
      break;
    case 10:
      if (k == "last_ts_us") return kLastTs;
      if (k == "client_ttl") return kClientTtl;
      break;
    case 11:
      if (k == "first_ts_us") return kFirstTs;
      if (k == "tls_version") return kTlsVersion;
      break;
    case 15:
      if (k == "tls_server_name") return kSni;
      break;
    default:
      break;
  }
  return kUnknown;
}

// tls_certs, as toTlsInput checks it and ja4xList reads it: a list of
// objects (an array is one too), each chain's "x509" list read when it is
// one, each certificate's "ja4x" taken when it is a string. A key twice in
// an object the reader looks into is refused (JSON.parse keeps the last).
bool read_certs(Reader& r, std::vector<Span>& ja4x) {
  return items(r, [&] {
    char c = peek(r);
    if (c == '[') return r.skip(2);
    if (c != '{') return false;  // toTlsInput: every chain an object
    bool seen_x509 = false;
    return members(r, [&](Span key) {
      if (key != "x509") return r.skip(2);
      if (seen_x509) return false;
      seen_x509 = true;
      if (peek(r) != '[') return r.skip(2);  // not a list: no certificates
      return items(r, [&] {
        if (peek(r) != '{') return r.skip(3);  // not an object: no ja4x
        bool seen_ja4x = false;
        return members(r, [&](Span cert_key) {
          if (cert_key != "ja4x") return r.skip(4);
          if (seen_ja4x) return false;
          seen_ja4x = true;
          if (peek(r) != '"') return r.skip(4);  // not a string: not taken
          Span v;
          bool ascii;
          if (!r.string(v, ascii)) return false;
          ja4x.push_back(v);
          return true;
        });
      });
    });
  });
}

}  // namespace

bool Parser::parse(const char* p, size_t n, Line& out) {
  text_.clear();
  text_.reserve(n);  // decoding never grows a string: pieces of it stay put
  ja4x_.clear();
  Reader r{p, p + n, &text_};

  uint64_t seen = 0;
  Span strings[kStringFields];
  Span event, transport, src, dst, reason;
  bool reason_string = false, closed = false;
  uint64_t src_port = 0, dst_port = 0, first = 0, last = 0, ttl = 0;

  bool ok = members(r, [&](Span k) {
    bool ascii;
    Key key = key_of(k);
    if (key == kUnknown) return r.skip(1);
    // a duplicate key: JSON.parse keeps the last value, the reader decides
    uint64_t bit = uint64_t{1} << key;
    if (seen & bit) return false;
    seen |= bit;
    if (key < kStringFields) return r.string(strings[key], ascii);  // null or another type: the reader decides
    switch (key) {
      case kEvent: return r.string(event, ascii);
      case kTransport: return r.string(transport, ascii);
      case kSrc: return r.string(src, ascii);
      case kDst: return r.string(dst, ascii);
      case kSrcPort: return r.uint(65535, src_port);
      case kDstPort: return r.uint(65535, dst_port);
      case kFirstTs: return r.uint(kMaxSafeInteger, first);
      case kLastTs: return r.uint(kMaxSafeInteger, last);
      case kClientTtl: return r.uint(255, ttl);
      case kReason:
        // only a close event reads it
        if (peek(r) != '"') return r.skip(1);
        reason_string = true;
        return r.string(reason, ascii);
      case kClosed:
        // e.closed === true
        if (peek(r) == 't') {
          closed = true;
          return r.literal("true");
        }
        return r.skip(1);
      case kTlsCerts: return read_certs(r, ja4x_);
      default: return false;
    }
  });
  if (!ok) return false;
  r.ws();
  if (r.p != r.end) return false;

  // "event": absent or "flow" -> a flow, "close" -> a close; anything else the reader refuses
  if (!(seen & (uint64_t{1} << kEvent)) || event == "flow") {
    out.kind = Kind::kFlow;
  } else if (event == "close") {
    out.kind = Kind::kClose;
  } else {
    return false;
  }
  constexpr uint64_t kRequired = (uint64_t{1} << kSrc) | (uint64_t{1} << kDst) | (uint64_t{1} << kSrcPort) |
                                 (uint64_t{1} << kDstPort) | (uint64_t{1} << kTransport);
  if ((seen & kRequired) != kRequired) return false;
  if (transport != "tcp" && transport != "udp") return false;
  out.udp = transport == "udp";
  uint8_t src_bytes[16], dst_bytes[16];
  if (!json::parse_ip(src, src_bytes, out.src, false) || !json::parse_ip(dst, dst_bytes, out.dst, false)) return false;
  out.src_port = static_cast<uint32_t>(src_port);
  out.dst_port = static_cast<uint32_t>(dst_port);
  // "Records from `ja4 pcap` before live capture had no times: 0 = unknown."
  out.first_ts_us = first;
  out.last_ts_us = (seen & (uint64_t{1} << kLastTs)) ? last : first;
  out.closed = closed;
  out.blob.clear();

  if (out.kind == Kind::kClose) {
    if (!reason_string) return false;
    if (reason == "fin") out.reason = CloseReason::kFin;
    else if (reason == "rst") out.reason = CloseReason::kRst;
    else if (reason == "idle") out.reason = CloseReason::kIdle;
    else if (reason == "evicted") out.reason = CloseReason::kEvicted;
    else return false;
    return true;
  }

  // the blob, as the Native encoder's connectionTls writes it
  size_t size = 16 + 2 + 1 + 4 + 5 * (kColumnStrings + 1 + ja4x_.size()) + strings[kSni].size();
  for (int i = 0; i < kColumnStrings; ++i) size += strings[i].size();
  for (Span s : ja4x_) size += s.size();
  out.blob.resize(size);
  ByteCursor o{out.blob.data()};
  o.string(strings[kSni]);
  o.bytes(Span(reinterpret_cast<const char*>(dst_bytes), 16));
  o.u16(static_cast<uint32_t>(dst_port));
  o.byte(static_cast<char>(ttl));
  o.u32(static_cast<uint32_t>(ja4x_.size()));
  for (int i = 0; i < kColumnStrings; ++i) o.string(strings[i]);
  for (Span s : ja4x_) o.string(s);
  out.blob.resize(static_cast<size_t>(o.p - out.blob.data()));
  return true;
}

}  // namespace ja4::tlsevent
