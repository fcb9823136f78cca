#include "engine.h"

#include <cstring>

#include "http_request.h"
#include "ip_format.h"
#include "packet_decoder.h"
#include "proxy_handshake.h"
#include "quic_initial.h"
#include "quic_latency.h"
#include "ssh_fingerprint.h"
#include "tcp_reassembler.h"
#include "tls_hello.h"
#include "x509.h"

namespace ja4 {

namespace {

enum class Mode : uint8_t { Unknown, Tls, Http, Done };

constexpr uint8_t kTlsHandshake = 22;
constexpr size_t kMaxHttpHead = 65536;
constexpr uint32_t kMaxQuicPacketsInspected = 32;
// tshark, whose dissection FoxIO's JA4SSH counts follow, decodes SSH on
// these ports only; elsewhere an "SSH-" banner starts the fingerprinter late.
constexpr uint16_t kSshPorts[] = {22, 29418};
// Finished flows' analyses are reused (an analysis is over a kilobyte, and
// its buffers grow with every handshake): at most this many wait for reuse,
// each keeping buffers of at most this many bytes.
constexpr size_t kMaxPooledAnalyses = 256;
constexpr size_t kKeptBufferCapacity = 4096;

uint32_t load_u24(const uint8_t* p) { return (uint32_t(p[0]) << 16) | (uint32_t(p[1]) << 8) | p[2]; }

std::string format_ip(const FlowKey& k, int side) {
  const uint8_t* a = side == 0 ? k.addr_a : k.addr_b;
  return k.version == 4 ? format_ipv4(a) : format_ipv6(a);
}

}  // namespace

struct SideState {
  TcpReassembler tcp;
  Mode mode = Mode::Unknown;
  std::string buf;     // bytes awaiting a complete TLS record or HTTP head
  std::string hs;      // TLS handshake messages, record layer removed
  uint64_t skip = 0;   // HTTP body bytes still to skip
  uint32_t quic_packets = 0;
  uint8_t proxy_stage = 0;  // position in a SOCKS/CONNECT exchange (proxy_handshake.h)

  void reset() {
    tcp = TcpReassembler{};
    mode = Mode::Unknown;
    // Kept for the next flow unless a large handshake grew them.
    if (buf.capacity() > kKeptBufferCapacity) std::string().swap(buf); else buf.clear();
    if (hs.capacity() > kKeptBufferCapacity) std::string().swap(hs); else hs.clear();
    skip = 0;
    quic_packets = 0;
    proxy_stage = 0;
  }
};

struct FlowAnalysis {
  SideState side[2];
  std::unique_ptr<quic::InitialReassembler> quic[2];
  std::unique_ptr<ssh::SshFingerprinter> ssh;
  FlowRecord rec;                 // fingerprints gathered so far
  int8_t client_hello_side = -1;  // endpoint that sent the ClientHello
  int8_t server_hello_side = -1;
  int8_t http_side = -1;          // endpoint that sent HTTP requests
  bool udp_dtls = false;
  QuicLatencyTracker quic_latency;
  uint32_t datagrams_after_hellos = 0;
  ProxyKind proxy = ProxyKind::None;  // a proxy handshake precedes TLS
  int8_t proxy_client = -1;           // endpoint that sent the proxy request

  // Back to a fresh analysis's state, for reuse by another flow.
  void reset() {
    for (SideState& s : side) s.reset();
    quic[0].reset();
    quic[1].reset();
    ssh.reset();
    rec = FlowRecord{};
    client_hello_side = server_hello_side = http_side = -1;
    udp_dtls = false;
    quic_latency = QuicLatencyTracker{};
    datagrams_after_hellos = 0;
    proxy = ProxyKind::None;
    proxy_client = -1;
  }
};

Flow::Flow() = default;
Flow::~Flow() = default;
Flow::Flow(Flow&&) noexcept = default;
Flow& Flow::operator=(Flow&&) noexcept = default;

Engine::Engine(const EngineConfig& config) : config_(config), table_(config.max_flows) {
  ready_.reserve(64);  // records are taken in batches: grows to a batch once, then reused
}
Engine::~Engine() = default;

FlowAnalysis& Engine::analysis(Flow& f) {
  if (!f.an) {
    if (analysis_pool_.empty()) {
      f.an = std::make_unique<FlowAnalysis>();
    } else {
      f.an = std::move(analysis_pool_.back());
      analysis_pool_.pop_back();
    }
    for (int s = 0; s < 2; ++s)
      if (f.has_isn[s]) f.an->side[s].tcp.on_syn(f.isn[s]);
  }
  return *f.an;
}

void Engine::process(int linktype, const uint8_t* data, size_t caplen, int64_t ts) {
  ++counters_.packets;
  counters_.bytes += caplen;
  if (defrag_.pending()) defrag_.expire(ts, counters_);
  // A member, not a local: decode_packet resets it anyway, and a local
  // would be zeroed twice per packet.
  DecodedPacket& p = packet_;
  if (!decode_packet(linktype, data, caplen, p, counters_)) {
    if (!p.fragment.present || !defrag_.add(p, ts, reassembled_, counters_)) return;
    // The reassembled datagram is decoded like a packet of its own (its
    // bytes live in reassembled_ until the next fragment completes).
    if (!decode_packet(kLinkRaw, reinterpret_cast<const uint8_t*>(reassembled_.data()),
                       reassembled_.size(), p, counters_))
      return;
  }
  bool from_a;
  Flow* f = lookup(p, from_a, ts);
  int side = from_a ? 0 : 1;
  // Once its record is out, a flow's packet count and last time are read
  // only by its close record: without close records, the bulk packets of a
  // finished handshake leave the flow's second cache line alone.
  if (!f->emitted || config_.close_events) {
    ++f->packets;
    f->last_ts = ts;
  }
  if (p.protocol == 6)
    on_tcp(*f, side, p, ts);
  else
    on_udp(*f, side, p, ts);
}

// A hash of a connection ID, for Flow::quic_dcid (FNV-1a; never 0).
static uint64_t dcid_hash(const std::vector<uint8_t>& dcid) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (uint8_t b : dcid) h = (h ^ b) * 0x100000001b3ull;
  return h | 1;
}

// Whether a client datagram opens a new QUIC connection: an Initial (in a
// datagram of at least 1,200 bytes) that opens with keys from its own DCID
// and carries CRYPTO data, the DCID being neither of the flow's (`known`).
// A client's later Initials of the same connection either use those DCIDs
// (retransmissions, after a Retry its DCID) or open only with their keys
// (after the server's first Initial the DCID changes, the keys do not).
// Any CRYPTO piece counts, not only offset 0: the pieces of a new
// connection's ClientHello may come in either order. Decrypting costs a key
// derivation: only client Initials on a flow already reported come here.
static bool new_quic_connection(const DecodedPacket& p, const uint64_t known[2]) {
  if (p.payload_len < quic::kMinClientDatagram || !quic::looks_like_initial(p.payload, p.payload_len)) return false;
  quic::InitialReassembler r(quic::InitialReassembler::Side::Client);
  r.feed(p.payload, p.payload_len);
  if (r.counters().crypto_frames == 0 || r.original_dcid().empty()) return false;
  const uint64_t h = dcid_hash(r.original_dcid());
  return h != known[0] && h != known[1];
}

Flow* Engine::lookup(const DecodedPacket& p, bool& from_a, int64_t ts) {
  int64_t oldest;
  if (table_.oldest_seen(oldest) && oldest + config_.idle_timeout_us < ts) expire_idle(ts);
  FlowKey key = make_flow_key(p, from_a);
  Flow* f = table_.find_recent(key);
  uint64_t h = f ? f->hash : hash_flow_key(key);
  if (!f) f = table_.find(key, h);
  if (f) {
    // Port reuse: a new SYN on a finished connection starts a new stream.
    bool new_syn = p.protocol == 6 && (p.tcp_flags & (kSyn | kAck)) == kSyn;
    // QUIC has no SYN: a ClientHello from the flow's client under a DCID
    // the connection never used, on a flow already reported, is a new
    // connection (a UDP socket reused for the next connection, a NAT that
    // reuses a port fast); it was never fingerprinted.
    bool new_quic = p.protocol == 17 && f->emitted && f->quic_dcid[0] != 0 && (from_a ? 0 : 1) == f->first_side &&
                    new_quic_connection(p, f->quic_dcid);
    if ((new_syn && (f->emitted || f->rst || f->fin_mask == 3)) || new_quic) {
      if (!f->emitted) emit(*f);
      report_close(*f, CloseReason::Evicted);
      table_.erase(*f);
      f = nullptr;
    } else {
      table_.touch(*f, ts);
      return f;
    }
  }
  if (table_.full()) {
    Flow* victim = table_.oldest();
    ++counters_.flows_evicted_capacity;
    if (!victim->emitted) emit(*victim);
    report_close(*victim, CloseReason::Evicted);
    table_.erase(*victim);
  }
  f = table_.insert(key, h, ts);
  ++counters_.flows_created;
  f->stream = next_stream_[p.protocol == 6 ? 0 : 1]++;
  f->first_ts = ts;
  f->first_side = from_a ? 0 : 1;
  if (p.protocol == 6) {
    for (uint16_t port : kSshPorts) {
      if (key.port_a != port && key.port_b != port) continue;
      if (p.payload_len > 0) {
        start_ssh(*f, port);
      } else {
        f->ssh_port_pending = port;
        f->first_flags = p.tcp_flags12;
        f->first_window = p.window;
        f->first_seq = p.seq;
        f->first_ack = p.ack;
      }
      break;
    }
  }
  return f;
}

void Engine::expire_idle(int64_t ts) {
  // The table's own record of when its oldest flow was seen (that flow's
  // last_ts) keeps this per-packet check off the flow itself.
  for (int64_t seen; table_.oldest_seen(seen) && seen + config_.idle_timeout_us < ts;) {
    Flow* old = table_.oldest();
    if (!old->emitted) {
      ++counters_.flows_evicted_idle;
      emit(*old);
    }
    report_close(*old, CloseReason::Idle);
    table_.erase(*old);
  }
}

void Engine::on_tcp(Flow& f, int side, const DecodedPacket& p, int64_t ts) {
  uint8_t flags = p.tcp_flags;
  if (f.emitted) {
    // Post-handshake bulk data: nothing left to learn but the close (the
    // record holds the handshake's JA4T/JA4L; a new SYN on a finished
    // connection never gets here, lookup() starts a new stream for it).
    if (!f.rst && f.fin_mask != 3) {
      if (flags & kRst) f.rst = true;
      if (flags & kFin) f.fin_mask |= static_cast<uint8_t>(1u << side);
      if (f.rst || f.fin_mask == 3) {
        ++counters_.flows_closed;
        report_close(f, f.rst ? CloseReason::Rst : CloseReason::Fin);
      }
    }
    return;
  }
  if (!f.ja4l.done()) f.ja4l.on_packet(flags, ts, p.ttl);
  if (flags & kSyn) {
    f.ttl[side] = p.ttl;
    if (!(flags & kAck)) {
      if (f.syn_side < 0) {
        f.syn_side = static_cast<int8_t>(side);
        f.ja4t = ja4t_fingerprint(p.window, p.tcp_options, p.tcp_options_len);
      }
    } else if (f.synack_side < 0) {
      f.synack_side = static_cast<int8_t>(side);
      f.ja4ts = ja4t_fingerprint(p.window, p.tcp_options, p.tcp_options_len);
    }
    // A retransmitted SYN carrying a new ISN (the client gave up and retried
    // on the same port) replaces the old one while no data has flowed.
    if (!f.has_isn[side] || (f.isn[side] != p.seq && !(f.an && f.an->side[side].tcp.has_data()))) {
      f.has_isn[side] = true;
      f.isn[side] = p.seq;
      if (f.an) f.an->side[side].tcp.on_syn(p.seq);
    }
  }
  if (f.ssh_port_pending && f.packets > 1) start_pending_ssh(f);
  if (!(f.an && f.an->ssh) && p.payload_len >= 4 && std::memcmp(p.payload, "SSH-", 4) == 0) {
    // The SSH port is the server's: the SYN's receiver, else the first packet's.
    int server = f.syn_side >= 0 ? 1 - f.syn_side : 1 - f.first_side;
    start_ssh(f, server == 0 ? f.key.port_a : f.key.port_b);
  }
  if (f.an && f.an->ssh) feed_ssh(f, side, p, ts);

  if (p.payload_len && f.inspect[side]) {
    FlowAnalysis& an = analysis(f);
    // RFC 7413 (TCP Fast Open): data in a SYN starts at ISN + 1.
    uint32_t seq = (flags & kSyn) ? p.seq + 1 : p.seq;
    bool ok = an.side[side].tcp.on_data(
        seq, p.payload, p.payload_len, config_.max_buffered_per_direction, counters_,
        [&](const uint8_t* d, size_t n) { consume_tcp(f, side, d, n); });
    if (!ok) finish_side(f, side);
  }

  if (flags & kRst) f.rst = true;
  bool fin_before = f.fin_mask == 3;
  if (flags & kFin) f.fin_mask |= static_cast<uint8_t>(1u << side);
  if (f.rst || f.fin_mask == 3) {
    // JA4SSH counts the last ACK after both FINs too: an SSH flow closes on
    // the packet after the second FIN (or at idle/end of input without one).
    if (f.an && f.an->ssh && !f.rst && !fin_before) return;
    ++counters_.flows_closed;
    emit(f);
    report_close(f, f.rst ? CloseReason::Rst : CloseReason::Fin);
    return;
  }
  maybe_emit_early(f);
}

// SSH flows are fingerprinted from every TCP segment (the SSH module does
// its own reassembly, as tshark would), so the engine's own inspection of
// the payload stops.
void Engine::start_ssh(Flow& f, uint16_t ssh_port) {
  FlowAnalysis& an = analysis(f);
  if (an.ssh) return;
  an.ssh = std::make_unique<ssh::SshFingerprinter>(ssh::SshFingerprinter::kDefaultSampleSize,
                                                   ssh::SshFingerprinter::kDefaultMaxWindows, ssh_port);
  f.inspect[0] = f.inspect[1] = false;
}

// The second packet of a flow to an SSH port whose first had no payload:
// the fingerprinter starts now and sees that first packet before this one,
// as if it had been there from the start.
void Engine::start_pending_ssh(Flow& f) {
  uint16_t port = f.ssh_port_pending;
  f.ssh_port_pending = 0;
  start_ssh(f, port);
  DecodedPacket first;
  first.seq = f.first_seq;
  first.ack = f.first_ack;
  first.tcp_flags12 = f.first_flags;
  first.window = f.first_window;
  first.payload = nullptr;
  first.payload_len = 0;
  feed_ssh(f, f.first_side, first, f.first_ts);
}

void Engine::feed_ssh(Flow& f, int side, const DecodedPacket& p, int64_t ts) {
  ssh::TcpSegment seg;
  // FoxIO's direction rule: a packet is the client's when its source IP is
  // the first packet's source IP (so on a same-host flow, every packet is).
  const uint8_t* src = side == 0 ? f.key.addr_a : f.key.addr_b;
  const uint8_t* first = f.first_side == 0 ? f.key.addr_a : f.key.addr_b;
  seg.from_client = std::memcmp(src, first, 16) == 0;
  seg.side = static_cast<int8_t>(side);
  seg.src_port = side == 0 ? f.key.port_a : f.key.port_b;
  seg.dst_port = side == 0 ? f.key.port_b : f.key.port_a;
  seg.ts_ns = ts * 1000;
  seg.seq = p.seq;
  seg.ack = p.ack;
  seg.flags = p.tcp_flags12;
  seg.window = p.window;
  seg.payload_len = p.payload_len;
  seg.payload = p.payload;
  seg.captured_len = p.payload_len;
  f.an->ssh->on_segment(seg);
}

// The server side's reassembler, made once the client side knows the
// original DCID (RFC 9001 5.2: both directions' Initial keys derive from
// it); null until then.
static quic::InitialReassembler* server_reassembler(FlowAnalysis& an, int client_side) {
  auto& sq = an.quic[1 - client_side];
  if (!sq) {
    auto& cq = an.quic[client_side];
    if (!cq || cq->original_dcid().empty()) return nullptr;  // keys unknown yet
    sq = std::make_unique<quic::InitialReassembler>(quic::InitialReassembler::Side::Server);
    sq->set_original_dcid(cq->original_dcid().data(), cq->original_dcid().size());
  }
  return sq.get();
}

void Engine::finish_side(Flow& f, int side) {
  f.inspect[side] = false;
  if (f.an) {
    SideState& s = f.an->side[side];
    s.mode = Mode::Done;
    std::string().swap(s.buf);
    std::string().swap(s.hs);
    // out-of-order segments held for a side no longer inspected would stay
    // until the flow ends (up to the idle timeout)
    s.tcp.release();
    // and a QUIC side's CRYPTO stream and keys: the client's DCID, which
    // keys the server's Initials too, goes to the server side first
    if (auto& q = f.an->quic[side]) {
      if (side == f.first_side) server_reassembler(*f.an, side);
      q.reset();
    }
  }
}

// A TLS flow whose handshakes are both parsed has nothing more to give: emit
// it now, so memory and latency do not depend on how long the bulk transfer
// lasts. SSH flows wait for the close (JA4SSH counts every packet).
//
// Cleartext HTTP: for `ja4 pcap` (one record per stream) the record waits
// for the close and lists every request's JA4H. With close events on (live
// capture and replay, whose consumer is the correlator), the record goes at
// the first complete request: its TCP fingerprints (JA4T, JA4TS, JA4L) are
// known by then, the correlator must hold them before the request's
// mod_reqin_log record arrives to join them, and a keep-alive connection
// would otherwise be reported only when it ends, after all its rows were
// written. Its end still comes as a close record; the later requests' JA4H
// are the correlator's (computed from mod_reqin_log's header names).
void Engine::maybe_emit_early(Flow& f) {
  if (!f.an || f.an->ssh) return;
  if (f.an->http_side >= 0) {
    if (!config_.close_events || f.an->rec.http.empty()) return;
  } else {
    if (f.inspect[0] || f.inspect[1]) return;
    if (f.an->client_hello_side < 0) return;
  }
  if (f.syn_side >= 0 && !f.ja4l.done()) return;
  emit(f);
}

void Engine::consume_tcp(Flow& f, int side, const uint8_t* data, size_t len) {
  FlowAnalysis& an = *f.an;
  SideState& s = an.side[side];
  if (s.mode == Mode::Done) return;
  std::string joined;  // bytes held back while the protocol was undecided, plus these
  if (s.mode == Mode::Unknown) {
    // The first bytes decide the protocol; an HTTP method or "SSH-" may be
    // split across segments, so wait for up to 8 bytes before deciding.
    if (data[0] != kTlsHandshake && s.buf.size() + len < 8 &&
        std::memchr(data, ' ', len) == nullptr && std::memchr(data, '-', len) == nullptr) {
      s.buf.append(reinterpret_cast<const char*>(data), len);
      return;
    }
    if (!s.buf.empty()) {
      joined = std::move(s.buf);
      s.buf.clear();
      joined.append(reinterpret_cast<const char*>(data), len);
      data = reinterpret_cast<const uint8_t*>(joined.data());
      len = joined.size();
    }
    if (!skip_proxy_handshake(f, side, data, len)) return;
    if (data[0] == kTlsHandshake) {
      s.mode = Mode::Tls;
    } else if (looks_like_http_request(data, len)) {
      s.mode = Mode::Http;
      an.http_side = static_cast<int8_t>(side);
    } else {
      // Neither TLS nor HTTP (an HTTP response, SSH, ...): not ours.
      finish_side(f, side);
      return;
    }
  }
  switch (s.mode) {
    case Mode::Tls:
      consume_tls(f, side, data, len);
      break;
    case Mode::Http: {
      if (s.skip) {
        size_t n = s.skip < len ? static_cast<size_t>(s.skip) : len;
        s.skip -= n;
        data += n;
        len -= n;
        if (!len) return;
      }
      if (s.buf.size() + len > kMaxHttpHead) {
        ++counters_.malformed_http;
        finish_side(f, side);
        return;
      }
      s.buf.append(reinterpret_cast<const char*>(data), len);
      consume_http(f, side);
      break;
    }
    default:
      break;
  }
}

// Skips the SOCKS4/SOCKS5/HTTP CONNECT messages at the start of this side's
// stream (data/len are advanced past them). False when the bytes were all
// proxy handshake, or a message is incomplete (kept in the side's buffer).
bool Engine::skip_proxy_handshake(Flow& f, int side, const uint8_t*& data, size_t& len) {
  FlowAnalysis& an = *f.an;
  SideState& s = an.side[side];
  while (len > 0 && s.proxy_stage != kProxyDone) {
    bool client = an.proxy == ProxyKind::None || an.proxy_client == side;
    // Only the side that speaks first may open a proxy exchange.
    if (an.proxy == ProxyKind::None && (data[0] != 4 && data[0] != 5)) break;
    size_t n = 0;
    ProxyKind before = an.proxy;
    ProxyStep st = client ? proxy_client_message(an.proxy, s.proxy_stage, data, len, n)
                          : proxy_server_message(an.proxy, s.proxy_stage, data, len, n);
    if (st == ProxyStep::NotProxy) {
      s.proxy_stage = kProxyDone;
      break;
    }
    if (st == ProxyStep::NeedMore) {
      if (len > kMaxHttpHead) {
        finish_side(f, side);
        return false;
      }
      s.buf.assign(reinterpret_cast<const char*>(data), len);
      return false;
    }
    if (before == ProxyKind::None) {
      ++counters_.proxy_handshakes;
      an.proxy_client = static_cast<int8_t>(side);
    }
    data += n;
    len -= n;
  }
  // With no proxy seen, the other side has nothing to skip either.
  if (an.proxy == ProxyKind::None) s.proxy_stage = kProxyDone;
  return len > 0;
}

// TLS records of one direction. Bytes are copied only when they must wait:
// a segment holding whole records (the usual ClientHello or ServerHello) is
// parsed where it lies; only an incomplete record's bytes are kept in
// s.buf, and only a handshake message split across records goes to s.hs.
void Engine::consume_tls(Flow& f, int side, const uint8_t* data, size_t len) {
  SideState& s = f.an->side[side];
  if (s.buf.size() + len > config_.max_handshake_bytes) {
    ++counters_.handshake_overflow;
    finish_side(f, side);
    return;
  }
  bool held = !s.buf.empty();
  if (held) {
    s.buf.append(reinterpret_cast<const char*>(data), len);
    data = reinterpret_cast<const uint8_t*>(s.buf.data());
    len = s.buf.size();
  }
  size_t pos = 0;
  // The handshake code may end this side (finish_side releases s.buf, which
  // `data` may point into): every exit after a record is parsed checks
  // s.mode before touching the bytes again.
  while (len - pos >= 5) {
    const uint8_t* h = data + pos;
    uint8_t type = h[0];
    size_t rlen = (size_t(h[3]) << 8) | h[4];
    // RFC 8446 5.1: content types 20..24, legacy record version 0x03xx.
    if (type < 20 || type > 24 || h[1] != 3) {
      ++counters_.malformed_tls_record;
      finish_side(f, side);
      return;
    }
    if (len - pos < 5 + rlen) break;
    if (type != kTlsHandshake) {
      // ChangeCipherSpec, alert or application data: the cleartext
      // handshake of this direction is over.
      finish_side(f, side);
      return;
    }
    pos += 5 + rlen;
    consume_handshake_bytes(f, side, h + 5, rlen);
    if (s.mode != Mode::Tls) return;
  }
  if (held) {
    s.buf.erase(0, pos);
  } else if (pos < len) {
    s.buf.assign(reinterpret_cast<const char*>(data) + pos, len - pos);
  }
}

// Handshake messages may span records (RFC 8446 5.1: "Handshake messages MAY
// be coalesced into a single TLSPlaintext record or fragmented across
// several records"): a message's head waits in s.hs for the rest.
void Engine::consume_handshake_bytes(Flow& f, int side, const uint8_t* data, size_t len) {
  SideState& s = f.an->side[side];
  bool held = !s.hs.empty();
  if (held) {
    s.hs.append(reinterpret_cast<const char*>(data), len);
    data = reinterpret_cast<const uint8_t*>(s.hs.data());
    len = s.hs.size();
  }
  size_t hp = 0;
  while (len - hp >= 4) {
    const uint8_t* m = data + hp;
    size_t mlen = load_u24(m + 1);
    if (mlen > config_.max_handshake_bytes) {
      ++counters_.handshake_overflow;
      finish_side(f, side);
      return;
    }
    if (len - hp < 4 + mlen) break;
    handle_handshake(f, side, m[0], m + 4, mlen, 't');
    if (s.mode != Mode::Tls) return;
    hp += 4 + mlen;
  }
  if (held) {
    s.hs.erase(0, hp);
  } else if (hp < len) {
    s.hs.assign(reinterpret_cast<const char*>(data) + hp, len - hp);
  }
}

void Engine::handle_handshake(Flow& f, int side, uint8_t type, const uint8_t* body, size_t len,
                              char transport) {
  FlowAnalysis& an = *f.an;
  FlowRecord& rec = an.rec;
  TlsTransport tt = static_cast<TlsTransport>(transport);
  switch (type) {
    case kClientHello: {
      // Only the first ClientHello is fingerprinted; the second one sent
      // after a HelloRetryRequest describes the same client.
      if (rec.has_client_hello) break;
      ClientHello& ch = client_hello_;
      ch.clear();
      if (!parse_client_hello(body, len, transport == 'd', ch)) ++counters_.malformed_client_hello;
      if (ch.ciphers.empty() && ch.extensions.empty() && ch.legacy_version == 0) break;
      ++counters_.tls_client_hellos;
      rec.has_client_hello = true;
      rec.ja4 = ja4_fingerprint(ch, tt, config_.forms);
      rec.ja3 = ja3_fingerprint(ch, config_.forms);
      rec.has_sni = ch.has_sni;
      // ch is done with: its strings move into the record.
      rec.sni = std::move(ch.sni);
      if (!ch.alpn.empty()) rec.alpn = std::move(ch.alpn.front());
      rec.tls_version = rec.ja4.ja4.substr(1, 2);
      an.client_hello_side = static_cast<int8_t>(side);
      if (transport == 't') finish_side(f, side);
      break;
    }
    case kServerHello: {
      if (rec.has_server_hello) break;
      ServerHello& sh = server_hello_;
      sh.clear();
      if (!parse_server_hello(body, len, sh)) {
        ++counters_.malformed_server_hello;
        if (sh.cipher == 0) break;
      }
      ++counters_.tls_server_hellos;
      rec.has_server_hello = true;
      rec.ja4s = ja4s_fingerprint(sh, tt, config_.forms);
      rec.ja3s = ja3s_fingerprint(sh, config_.forms);
      an.server_hello_side = static_cast<int8_t>(side);
      // TLS 1.3 encrypts everything after the ServerHello.
      if (sh.selected_version == 0x0304 || transport != 't') finish_side(f, side);
      break;
    }
    case kCertificate: {
      std::vector<CertificateView>& certs = certificates_;
      certs.clear();
      if (!parse_certificate_list(body, len, certs)) ++counters_.malformed_certificate;
      for (const CertificateView& c : certs) {
        x509::CertInfo info;
        if (!x509::parse_certificate(c.der, c.len, info)) {
          ++counters_.malformed_certificate;
          continue;
        }
        ++counters_.tls_certificates;
        rec.certs.push_back(CertRecord{std::move(info.ja4x), std::move(info.ja4x_r), std::move(info.fields)});
      }
      finish_side(f, side);
      break;
    }
    case 14:  // ServerHelloDone: nothing cleartext of interest follows
      finish_side(f, side);
      break;
    default:
      break;
  }
}

void Engine::consume_http(Flow& f, int side) {
  FlowAnalysis& an = *f.an;
  SideState& s = an.side[side];
  size_t pos = 0;
  while (pos < s.buf.size()) {
    HttpRequest req;
    size_t consumed = 0;
    bool chunked = false;
    const uint8_t* d = reinterpret_cast<const uint8_t*>(s.buf.data()) + pos;
    size_t avail = s.buf.size() - pos;
    HttpParse r = parse_http_request(d, avail, kMaxHttpHead, req, consumed, chunked);
    if (r == HttpParse::NeedMore) break;
    if (r != HttpParse::Ok) {
      ++counters_.malformed_http;
      finish_side(f, side);
      return;
    }
    ++counters_.http_requests;
    if (an.rec.http.size() < config_.max_http_per_flow) {
      HttpRecord hr;
      hr.fp = ja4h_fingerprint(req);
      hr.method = req.method;
      hr.target = req.target;
      hr.version = req.version;
      for (const HttpHeader& h : req.headers) {
        if (hr.host.empty() && header_name_is(h.name, "host")) hr.host = h.value;
        if (hr.user_agent.empty() && header_name_is(h.name, "user-agent")) hr.user_agent = h.value;
      }
      an.rec.http.push_back(std::move(hr));
    }
    if (req.method == "CONNECT" && an.proxy == ProxyKind::None) {
      // RFC 9110 9.3.6: after a 2xx answer the connection is a tunnel; the
      // client's next bytes are the tunneled protocol (TLS, usually).
      ++counters_.proxy_handshakes;
      an.proxy = ProxyKind::HttpConnect;
      an.proxy_client = static_cast<int8_t>(side);
      an.http_side = -1;  // a TLS flow from here on: emitted once both hellos are in
      s.proxy_stage = kProxyDone;
      std::string rest = consumed < avail ? s.buf.substr(pos + consumed) : std::string();
      s.buf.clear();
      s.mode = Mode::Unknown;
      if (!rest.empty()) consume_tcp(f, side, reinterpret_cast<const uint8_t*>(rest.data()), rest.size());
      return;
    }
    if (chunked) {
      // A chunked body would have to be parsed to find the next request;
      // one request is enough to fingerprint the client.
      finish_side(f, side);
      return;
    }
    if (consumed > avail) {
      s.skip = consumed - avail;
      pos = s.buf.size();
    } else {
      pos += consumed;
    }
  }
  s.buf.erase(0, pos);
}

void Engine::on_udp(Flow& f, int side, const DecodedPacket& p, int64_t ts) {
  if (f.emitted) return;
  if (f.packets == 1) {
    // The first datagram decides: a QUIC Initial or a DTLS handshake record;
    // anything else (DNS, NTP, ...) is not inspected at all.
    bool quic = quic::looks_like_initial(p.payload, p.payload_len);
    if (quic && p.payload_len < quic::kMinClientDatagram) {
      // a client's first datagram is at least 1,200 bytes (RFC 9000 14.1,
      // below): a shorter one is not a connection a server would take, and
      // costs no analysis here
      ++counters_.quic_short_datagrams;
      quic = false;
    }
    bool dtls = !quic && p.payload_len >= 13 && p.payload[0] == kTlsHandshake && p.payload[1] == 0xfe;
    if (!quic && !dtls) {
      f.inspect[0] = f.inspect[1] = false;
      return;
    }
    analysis(f).udp_dtls = dtls;
  }
  if (!f.an) return;
  FlowAnalysis& an = *f.an;
  if (!an.udp_dtls) an.quic_latency.on_datagram(side == f.first_side, p.payload, p.payload_len, ts, p.ttl);
  if (f.inspect[side]) inspect_datagram(f, side, p);
  // Done once both hellos are in and (QUIC) the latency handshake completed,
  // or a few datagrams later if it never does.
  if (an.rec.has_client_hello && an.rec.has_server_hello &&
      (an.udp_dtls || an.quic_latency.done() || ++an.datagrams_after_hellos > kMaxQuicPacketsInspected))
    emit(f);
}

void Engine::inspect_datagram(Flow& f, int side, const DecodedPacket& p) {
  FlowAnalysis& an = *f.an;
  SideState& s = an.side[side];
  if (++s.quic_packets > kMaxQuicPacketsInspected) {
    finish_side(f, side);
    return;
  }
  if (an.udp_dtls) {
    // RFC 6347 4.1/4.2.2: 13-byte record header, then a 12-byte handshake
    // header (type, length, message_seq, fragment_offset, fragment_length).
    // Only unfragmented hellos are fingerprinted.
    const uint8_t* d = p.payload;
    size_t n = p.payload_len;
    if (n < 25 || d[0] != kTlsHandshake) return;
    size_t rlen = (size_t(d[11]) << 8) | d[12];
    if (rlen + 13 > n || rlen < 12) return;
    const uint8_t* hsh = d + 13;
    uint32_t mlen = load_u24(hsh + 1), off = load_u24(hsh + 6), flen = load_u24(hsh + 9);
    if (off != 0 || flen != mlen || mlen + 12 > rlen) return;
    handle_handshake(f, side, hsh[0], hsh + 12, mlen, 'd');
    if (an.rec.has_client_hello && an.client_hello_side == side) finish_side(f, side);
  } else {
    bool is_client = side == f.first_side;
    if (is_client && p.payload_len < quic::kMinClientDatagram && quic::looks_like_initial(p.payload, p.payload_len)) {
      // RFC 9000 14.1: "A server MUST discard an Initial packet that is
      // carried in a UDP datagram with a payload that is smaller than the
      // smallest allowed maximum datagram size of 1200 bytes."
      ++counters_.quic_short_datagrams;
      return;
    }
    auto& q = an.quic[side];
    if (!q) {
      if (is_client) {
        q = std::make_unique<quic::InitialReassembler>(quic::InitialReassembler::Side::Client);
      } else if (!server_reassembler(an, f.first_side)) {
        return;
      }
    }
    quic::FeedResult r = q->feed(p.payload, p.payload_len);
    if (is_client && f.quic_dcid[0] == 0 && !q->original_dcid().empty()) f.quic_dcid[0] = dcid_hash(q->original_dcid());
    if (f.quic_dcid[1] == 0 && !q->retry_dcid().empty()) f.quic_dcid[1] = dcid_hash(q->retry_dcid());
    if (r == quic::FeedResult::Decrypted) ++counters_.quic_initials;
    else if (r == quic::FeedResult::DecryptFailed) ++counters_.quic_decrypt_failures;
    else if (r == quic::FeedResult::Malformed) ++counters_.malformed_quic;
    std::string_view cs = q->crypto_stream();
    if (cs.size() >= 4) {
      const uint8_t* m = reinterpret_cast<const uint8_t*>(cs.data());
      size_t mlen = load_u24(m + 1);
      if (cs.size() >= 4 + mlen) {
        handle_handshake(f, side, m[0], m + 4, mlen, 'q');
        finish_side(f, side);
      }
    }
  }
}

void Engine::release_analysis(Flow& f) {
  if (!f.an) return;
  if (analysis_pool_.size() < kMaxPooledAnalyses) {
    f.an->reset();
    analysis_pool_.push_back(std::move(f.an));
  } else {
    f.an.reset();
  }
}

void Engine::emit(Flow& f) {
  if (f.emitted) return;
  f.emitted = true;
  f.inspect[0] = f.inspect[1] = false;
  // Built in place at the end of ready_ from what the analysis gathered
  // (dropped again when it holds no fingerprint).
  FlowRecord& rec = f.an ? ready_.emplace_back(std::move(f.an->rec)) : ready_.emplace_back();
  int client = f.first_side;
  if (f.syn_side >= 0) client = f.syn_side;
  else if (f.synack_side >= 0) client = 1 - f.synack_side;
  else if (f.an && f.an->client_hello_side >= 0) client = f.an->client_hello_side;
  else if (f.an && f.an->http_side >= 0) client = f.an->http_side;
  else if (f.an && f.an->server_hello_side >= 0) client = 1 - f.an->server_hello_side;
  if (f.an) {
    if (f.an->ssh) {
      f.an->ssh->finish();
      rec.ssh.ja4ssh = f.an->ssh->ja4ssh();
      if (f.an->ssh->has_extras()) {
        const ssh::SshExtras& x = f.an->ssh->extras();
        rec.ssh.has_extras = true;
        rec.ssh.hassh = x.hassh;
        rec.ssh.hassh_server = x.hassh_server;
        rec.ssh.protocol_client = x.ssh_protocol_client;
        rec.ssh.protocol_server = x.ssh_protocol_server;
        rec.ssh.encryption_algorithm = x.encryption_algorithm;
      }
    }
  }
  rec.stream = f.stream;
  rec.transport = f.key.protocol == 6 ? 't' : 'u';
  rec.src = format_ip(f.key, client);
  rec.dst = format_ip(f.key, 1 - client);
  rec.src_port = client == 0 ? f.key.port_a : f.key.port_b;
  rec.dst_port = client == 0 ? f.key.port_b : f.key.port_a;
  rec.first_ts_us = f.first_ts;
  rec.last_ts_us = f.last_ts;
  rec.packets = f.packets;
  rec.closed = f.rst || f.fin_mask == 3;
  // The flow is done with them: later packets only count towards the close.
  rec.ja4t = std::move(f.ja4t);
  rec.ja4ts = std::move(f.ja4ts);
  rec.client_ttl = f.ttl[client];
  if (f.ja4l.done()) {
    rec.ja4l_c = f.ja4l.client();
    rec.ja4l_s = f.ja4l.server();
  } else if (f.an && f.an->quic_latency.done()) {
    rec.ja4l_c = f.an->quic_latency.client();
    rec.ja4l_s = f.an->quic_latency.server();
  }
  release_analysis(f);
  if (!rec.has_fingerprint()) {
    ready_.pop_back();
    return;
  }
  ++counters_.records_emitted;
  f.reported = true;
  f.client_side = static_cast<int8_t>(client);
}

// Close records describe TCP connections the consumer already knows about
// (a flow record was handed out); the rest end silently, as before.
void Engine::report_close(Flow& f, CloseReason reason) {
  if (!config_.close_events || !f.reported || f.close_sent || f.key.protocol != 6) return;
  f.close_sent = true;
  FlowRecord rec;
  rec.kind = RecordKind::Close;
  rec.close_reason = reason;
  rec.stream = f.stream;
  rec.transport = 't';
  rec.src = format_ip(f.key, f.client_side);
  rec.dst = format_ip(f.key, 1 - f.client_side);
  rec.src_port = f.client_side == 0 ? f.key.port_a : f.key.port_b;
  rec.dst_port = f.client_side == 0 ? f.key.port_b : f.key.port_a;
  rec.first_ts_us = f.first_ts;
  rec.last_ts_us = f.last_ts;
  rec.packets = f.packets;
  rec.closed = true;
  ++counters_.close_records;
  ready_.push_back(std::move(rec));
}

void Engine::finish() {
  table_.for_each([&](Flow& f) {
    if (!f.emitted) emit(f);
    report_close(f, CloseReason::Evicted);
  });
}

void Engine::end_segment() {
  finish();
  while (Flow* f = table_.oldest()) table_.erase(*f);
}

void Engine::advance(int64_t ts) { expire_idle(ts); }

}  // namespace ja4
