// One mod_reqin_log record (docs/mod_reqin_log.md) parsed straight into the
// bytes of its database columns: the correlator's fast path for `ja4 run`'s
// Native inserts. The JSON text is read once, each field is written in its
// Native per-row encoding ("cells"), and only the join's facts (time,
// addresses, connection id) are kept apart for JavaScript.
//
// The reference is the JavaScript reader (src/correlator/http-record.ts:
// JSON.parse, then toHttpRecord). This parser accepts only what it can
// decode exactly as that reader would: a line it is unsure of (a number
// written 1.0 or 1e3, a duplicate key, a lone surrogate, invalid UTF-8, an
// integer-like header name whose place JavaScript's object order would
// change, an IPv6 zone, a control byte in the connection id ...) is
// refused, never guessed, and the caller hands it to the JavaScript reader,
// which counts it (not_json, schema_invalid) or accepts it and re-writes
// it in the canonical form this parser takes. So "refused" is not an error
// here, only "not mine to decide".
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace ja4::reqin {

// A record's cells, each in the Native encoding of one row of its column:
// fixed-width little-endian values, a String as LEB128 length + bytes, a
// list (Array(String), a Map's keys or values) as a UInt32 count followed
// by its Strings (the block writer turns counts into Native's offsets).
enum Cell : uint8_t {
  kTs,           // DateTime64(6): UInt64 microseconds
  kRequestId,    // String: unique_id, else "conn:req_n"
  kConn,         // String
  kReqN,         // UInt32
  kClientIp,     // IPv6 (IPv4 mapped)
  kClientPort,   // UInt16
  kLocalIp,      // IPv6 ('' -> ::)
  kLocalPort,    // UInt16
  kDuration,     // UInt32
  kMethod,       // String
  kScheme,       // String
  kHost,         // String
  kUri,          // String
  kProto,        // String
  kStatus,       // UInt16
  kBytesIn,      // UInt64
  kBytesOut,     // UInt64
  kHeaderNames,  // list
  kHeaderKeys,   // list: the logged headers' names
  kHeaderValues, // list: their values, same count
  kCookies,      // list
  kJa4h,         // String
  kUniqueId,     // String
  kTlsProtocol,  // String
  kTlsCipher,    // String
  kTlsSni,       // String
  kTlsVersion,   // String: mod_ssl's protocol in the engine's two-digit form, for a handshake not seen
  kTruncated,    // Bool
  kCellCount
};

struct Record {
  // the cells back to back; cell c is cells[c == 0 ? 0 : ends[c - 1], ends[c])
  std::string cells;
  uint32_t ends[kCellCount] = {};
  // the join's facts (what src/correlator/correlator.ts reads)
  uint64_t ts_us = 0;
  uint32_t client_port = 0;
  uint32_t local_port = 0;
  bool tls_request = false;  // a tls object, or scheme "https"
  std::string client_ip;     // normalized as normalizeIp() does
  std::string local_ip;      // normalized; '' when not logged
  std::string conn;

  std::string_view cell(Cell c) const {
    uint32_t start = c == 0 ? 0 : ends[c - 1];
    return std::string_view(cells).substr(start, ends[c] - start);
  }
  bool local_ip_known() const { return !local_ip.empty(); }
};

// JA4H values of the header layouts seen (most requests repeat a few: one
// per client software). Bounded: cleared when full.
class Ja4hCache {
 public:
  explicit Ja4hCache(size_t max_entries = 50000) : max_(max_entries) {}
  // the JA4H of the layout `key` (every input of the value), made by `make` on a miss
  template <class F>
  const std::string& get(const std::string& key, F make) {
    auto it = map_.find(key);
    if (it != map_.end()) return it->second;
    if (map_.size() >= max_) map_.clear();
    return map_.emplace(key, make()).first->second;
  }

 private:
  size_t max_;
  std::unordered_map<std::string, std::string> map_;
};

struct Scratch;

// Reads records; keeps its scratch space (and the JA4H memo) between them.
class RecordParser {
 public:
  RecordParser();
  ~RecordParser();
  RecordParser(const RecordParser&) = delete;
  RecordParser& operator=(const RecordParser&) = delete;

  // Parses the line [p, p + n) (no '\n') into `out`. False: refused (see
  // the top of this file); `out` then holds nothing of use.
  bool parse(const char* p, size_t n, Record& out) { return read(p, n, out, nullptr); }

  // A record the JavaScript reader accepted and re-wrote (JSON.stringify of
  // its fields, lone surrogates made U+FFFD), with the JA4H it computed:
  // what only the JavaScript reader decides exactly (JA4H over non-ASCII
  // input, the key order of integer-like header names, an IPv6 zone, which
  // the column ignores as putIpv6 does) is taken as given. The join's
  // strings in `out` are then not used (the caller has its own).
  bool parse_canonical(const char* p, size_t n, std::string_view ja4h, Record& out) { return read(p, n, out, &ja4h); }

 private:
  bool read(const char* p, size_t n, Record& out, const std::string_view* given_ja4h);
  Scratch* s_;
  Ja4hCache ja4h_;
};

}  // namespace ja4::reqin
