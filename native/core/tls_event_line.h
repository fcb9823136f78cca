// One TLS event line (a flow or close event of the capture, as
// src/capture/tls-event.ts describes them) parsed in C++ for the
// correlator's native path: the join's facts for JavaScript, and for a
// flow the connection's TLS columns already in the form the request store
// keeps them (RequestStore::add_tls). JSON.parse of a ~900-byte event, its
// object, its strings and their re-encoding were most of what the worker
// still spent on TLS events (docs/correlator.md).
//
// The reference is the JavaScript reader (JSON.parse, then toTlsInput in
// src/correlator/tls-event-input.ts, then the Native encoder's
// connectionTls). As reqin_record.h does for requests, this parser accepts
// only what it decodes exactly as that reader would, and refuses the rest
// (a number written 443.0, a duplicate key, a null where the reader would
// default or refuse, a lone surrogate, invalid UTF-8, an IPv6 zone, an
// event kind or close reason it does not know ...): the caller hands a
// refused line to the JavaScript reader, which decides it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ja4::tlsevent {

enum class Kind : uint8_t { kFlow = 0, kClose = 1 };
// the CLOSE_REASONS of tls-event-input.ts, in this order
enum class CloseReason : uint8_t { kFin = 0, kRst = 1, kIdle = 2, kEvicted = 3 };

struct Line {
  Kind kind = Kind::kFlow;
  CloseReason reason = CloseReason::kFin;  // close events
  bool udp = false;                        // "transport": "udp" (else "tcp")
  bool closed = false;                     // a flow's "closed": true
  uint32_t src_port = 0;
  uint32_t dst_port = 0;
  uint64_t first_ts_us = 0;  // absent: 0 (records of `ja4 pcap` before live capture)
  uint64_t last_ts_us = 0;   // absent: first_ts_us
  std::string src;           // join keys, spelled as normalizeIp() does
  std::string dst;
  // A flow's TLS columns as RequestStore::add_tls takes them (request_blocks.h
  // TlsEntry): sni, the server address (16 bytes), port, client TTL, the ja4x
  // count, then tls_version, alpn, ja4, ja4_r, ja4_o, ja3, ja4s, ja4t, ja4ts,
  // ja4l_c, ja4l_s and the ja4x items, each a ClickHouse String. Empty for a close.
  std::string blob;
};

class Parser {
 public:
  // Parses the line [p, p + n) (no '\n') into `out`. False: refused (see
  // the top of this file); `out` then holds nothing of use.
  bool parse(const char* p, size_t n, Line& out);

 private:
  std::string text_;  // decoded escapes of the current line
  std::vector<std::string_view> ja4x_;
};

}  // namespace ja4::tlsevent
