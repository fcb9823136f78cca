// The fingerprint engine: frames in, one FlowRecord per stream out.
//
// Single-threaded by design: the capture or file-reading thread owns an
// Engine and calls process() for every frame; records are collected in
// ready() and handed out in batches by the caller. Nothing here knows about
// Node: native/binding/ wraps it.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "counters.h"
#include "flow_record.h"
#include "flow_table.h"
#include "ip_defrag.h"
#include "packet_decoder.h"
#include "tcp_fingerprints.h"
#include "tls_fingerprints.h"
#include "tls_hello.h"

namespace ja4 {

struct EngineConfig {
  size_t max_flows = 262144;                 // table cap; the LRU flow is evicted past it
  size_t max_buffered_per_direction = 262144;  // out-of-order bytes per direction
  size_t max_handshake_bytes = 65536;        // TLS handshake bytes kept per direction
  int64_t idle_timeout_us = 120LL * 1000000; // in capture time
  size_t max_http_per_flow = 1000;           // JA4H records kept per connection
  // Live capture and replay: after a TCP connection's flow record, report
  // its end (FIN, RST, idle, evicted) as a close record (FlowRecord::kind).
  // Off for `ja4 pcap`, whose output is one record per stream. On, a
  // cleartext HTTP flow's record goes at its first complete request, with
  // that request's JA4H only (Engine::maybe_emit_early).
  bool close_events = false;
  // Fingerprint forms records carry besides the sorted hashed ones
  // (tls_fingerprints.h): all by default; `ja4 pcap --jsonl` asks only for
  // those its flags print (PcapFileReader).
  FingerprintForms forms;
};

struct FlowAnalysis;  // per-flow parsing state, allocated only when payload is inspected

// Laid out for the per-packet path: the first cache line holds what finding
// the flow and the bulk-data check read (key, state flags), the second what
// every packet updates (last_ts, packets, JA4L); the rest is read at the
// handshake and at emission. Aligned so that no flow straddles more lines.
struct alignas(64) Flow {
  FlowKey key{};
  uint64_t hash = 0;
  uint32_t index = 0;       // in the FlowTable
  int8_t first_side = 0;    // endpoint (0 = a, 1 = b) of the first packet seen
  int8_t syn_side = -1;     // endpoint that sent the SYN
  int8_t synack_side = -1;  // endpoint that sent the SYN-ACK
  uint8_t fin_mask = 0;     // bit per endpoint
  bool rst = false;
  bool emitted = false;     // record already produced; later packets are only counted
  bool reported = false;    // that record had fingerprints and was handed out
  bool close_sent = false;  // its close record too (close_events)
  int8_t client_side = 0;   // endpoint reported as src
  bool inspect[2] = {true, true};  // still parsing this endpoint's payload
  int64_t last_ts = 0;
  uint64_t packets = 0;
  std::unique_ptr<FlowAnalysis> an;
  Ja4LTracker ja4l;
  uint64_t stream = 0;
  int64_t first_ts = 0;
  uint32_t isn[2] = {0, 0};
  bool has_isn[2] = {false, false};
  uint8_t ttl[2] = {0, 0};
  std::string ja4t, ja4ts;
  // A flow to an SSH port whose first packet had no payload (a SYN): the
  // SSH fingerprinter (~2.4 KB with the flow's analysis) starts at its
  // second packet, fed this one first, so that a flood of SYNs that are
  // never answered costs what any other flow costs.
  uint16_t ssh_port_pending = 0;
  uint16_t first_flags = 0, first_window = 0;
  uint32_t first_seq = 0, first_ack = 0;
  // QUIC: hashes of the DCIDs the connection's Initial keys derive from
  // (the client's original one, and the one a Retry gave; 0 until known),
  // which tell a new connection on the same 5-tuple from this one (lookup)
  uint64_t quic_dcid[2] = {0, 0};

  Flow();
  ~Flow();
  Flow(Flow&&) noexcept;
  Flow& operator=(Flow&&) noexcept;
};

class Engine {
 public:
  explicit Engine(const EngineConfig& config = EngineConfig{});
  ~Engine();

  // One captured frame; ts_us is the capture timestamp in microseconds.
  void process(int linktype, const uint8_t* data, size_t caplen, int64_t ts_us);
  // End of input: every flow still open produces its record (and, with
  // close_events, a close record with reason "evicted").
  void finish();
  // End of a replay pass: as finish(), then every flow is forgotten, so the
  // next pass's packets start new connections (TCP would by its SYNs; a QUIC
  // connection replayed under the same DCID would not: one record in all).
  void end_segment();
  // Live input: capture time moves on without packets (a quiet link);
  // flows idle past the timeout are reported and dropped.
  void advance(int64_t ts_us);

  // Records produced so far; the caller takes them (e.g. swaps the vector).
  std::vector<FlowRecord>& ready() { return ready_; }
  Counters& counters() { return counters_; }
  size_t active_flows() const { return table_.size(); }

 private:
  Flow* lookup(const DecodedPacket& p, bool& from_a, int64_t ts);
  void expire_idle(int64_t ts);
  void on_tcp(Flow& f, int side, const DecodedPacket& p, int64_t ts);
  void on_udp(Flow& f, int side, const DecodedPacket& p, int64_t ts);
  void inspect_datagram(Flow& f, int side, const DecodedPacket& p);
  void consume_tcp(Flow& f, int side, const uint8_t* data, size_t len);
  bool skip_proxy_handshake(Flow& f, int side, const uint8_t*& data, size_t& len);
  void consume_tls(Flow& f, int side, const uint8_t* data, size_t len);
  void consume_handshake_bytes(Flow& f, int side, const uint8_t* data, size_t len);
  void handle_handshake(Flow& f, int side, uint8_t type, const uint8_t* body, size_t len, char transport);
  void consume_http(Flow& f, int side);
  void finish_side(Flow& f, int side);
  void start_ssh(Flow& f, uint16_t ssh_port);
  void feed_ssh(Flow& f, int side, const DecodedPacket& p, int64_t ts);
  void start_pending_ssh(Flow& f);
  void maybe_emit_early(Flow& f);
  void emit(Flow& f);
  void report_close(Flow& f, CloseReason reason);
  FlowAnalysis& analysis(Flow& f);
  void release_analysis(Flow& f);

  EngineConfig config_;
  Counters counters_;
  FlowTable<Flow> table_;
  std::vector<FlowRecord> ready_;
  DecodedPacket packet_;     // the frame being processed (process())
  IpDefragmenter defrag_;
  std::string reassembled_;  // the last datagram rebuilt from fragments
  // Parse scratch reused for every handshake message (cleared, capacity kept).
  ClientHello client_hello_;
  ServerHello server_hello_;
  std::vector<CertificateView> certificates_;
  std::vector<std::unique_ptr<FlowAnalysis>> analysis_pool_;  // see kMaxPooledAnalyses
  uint64_t next_stream_[2] = {0, 0};  // tcp, udp: numbered like tshark's tcp.stream/udp.stream
};

}  // namespace ja4
