#include "ssh_fingerprint.h"

#include <algorithm>
#include <cstring>

#include "byte_reader.h"
#include "hash.h"

namespace ja4::ssh {

namespace {

constexpr uint16_t kFlagFin = 0x001, kFlagSyn = 0x002, kFlagRst = 0x004, kFlagAck = 0x010;
constexpr uint16_t kBareAck = 0x010;  // ssh.rs: tcp.flags == "0x0010"

constexpr int kVersionUnknown = 0, kVersion1 = 1, kVersion2 = 2;
constexpr int kKexDh = 0, kKexDhGex = 1, kKexEcdh = 2;

constexpr uint8_t kMsgKexinit = 20, kMsgNewkeys = 21;

// Wireshark's sequence-number comparisons (packet-tcp.h LT_SEQ / GT_SEQ).
bool lt_seq(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) < 0; }
bool gt_seq(uint32_t a, uint32_t b) { return static_cast<int32_t>(b - a) < 0; }

// tshark keeps offsets in a C int; adding a guint wraps modulo 2^32.
int64_t add32(int64_t off, uint32_t delta) {
  return static_cast<int32_t>(static_cast<uint32_t>(off) + delta);
}

// A field value as tshark shows an ENC_ASCII string: the C string stops at
// the first NUL, bytes >= 0x80 become U+FFFD.
std::string ascii_field(const uint8_t* p, size_t n) {
  std::string s;
  s.reserve(n);
  for (size_t i = 0; i < n && p[i] != 0; ++i) {
    if (p[i] < 0x80)
      s.push_back(static_cast<char>(p[i]));
    else
      s.append("\xEF\xBF\xBD");
  }
  return s;
}

// The same value as FoxIO reads it: tshark's PDML "show" attribute, which
// rtshark passes on without undoing the XML escaping (print_escaped_xml():
// entities for & < > " ', "\x%x" for other control characters).
std::string pdml_show(const uint8_t* p, size_t n) {
  static const char kHexDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(n);
  for (size_t i = 0; i < n && p[i] != 0; ++i) {
    const uint8_t ch = p[i];
    switch (ch) {
      case '&': s.append("&amp;"); break;
      case '<': s.append("&lt;"); break;
      case '>': s.append("&gt;"); break;
      case '"': s.append("&quot;"); break;
      case '\'': s.append("&#x27;"); break;
      case '\t': case '\n': case '\r': s.push_back(static_cast<char>(ch)); break;
      default:
        if (ch >= 0x80) {
          s.append("\xEF\xBF\xBD");
        } else if (ch < 0x20 || ch == 0x7f) {
          s.append("\\x");
          if (ch >= 0x10) s.push_back(kHexDigits[ch >> 4]);
          s.push_back(kHexDigits[ch & 0xf]);
        } else {
          s.push_back(static_cast<char>(ch));
        }
    }
  }
  return s;
}

bool has_prefix(const std::string& s, const char* prefix) {
  return s.compare(0, std::strlen(prefix), prefix) == 0;
}

bool caseeq_prefix(const uint8_t* p, size_t n, const char* lit) {
  size_t k = std::strlen(lit);
  if (n < k) return false;  // tvb_strncaseeql() fails when bytes are missing
  for (size_t i = 0; i < k; ++i) {
    uint8_t a = p[i], b = static_cast<uint8_t>(lit[i]);
    if (a >= 'A' && a <= 'Z') a = static_cast<uint8_t>(a - 'A' + 'a');
    if (b >= 'A' && b <= 'Z') b = static_cast<uint8_t>(b - 'A' + 'a');
    if (a != b) return false;
  }
  return true;
}

// g_strsplit(s, ",", 0): "" gives no element.
std::vector<std::string> split_commas(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty()) return out;
  size_t start = 0;
  for (;;) {
    size_t comma = s.find(',', start);
    if (comma == std::string::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, comma - start));
    start = comma + 1;
  }
}

// packet-ssh.c ssh_choose_algo(): the first client algorithm the server has.
bool choose_algo(const std::string& client, const std::string& server, std::string& out) {
  std::vector<std::string> s = split_commas(server);
  for (const std::string& c : split_commas(client)) {
    if (std::find(s.begin(), s.end(), c) != s.end()) {
      out = c;
      return true;
    }
  }
  return false;
}

}  // namespace

// The bytes one SSH dissector call sees, with tshark's bounds rules: every
// accessor returns false where tshark would throw (ending that dissection).
struct SshFingerprinter::Tvb {
  const uint8_t* p;
  int64_t len;

  bool has(int64_t off, int64_t n) const { return off >= 0 && n >= 0 && off <= len && n <= len - off; }
  bool u8(int64_t off, uint8_t& v) const {
    if (!has(off, 1)) return false;
    v = p[off];
    return true;
  }
  bool u32(int64_t off, uint32_t& v) const {
    if (!has(off, 4)) return false;
    ByteReader r(p + off, 4);
    v = r.u32();
    return r.ok();
  }
  // proto_tree_add_item() / tvb_memdup() / tvb_get_string_enc() with a
  // length that tshark holds in a gint: -1 means "to the end" (needs at
  // least one byte there), other negative lengths throw.
  bool item(int64_t off, uint32_t len_u) const {
    int32_t l = static_cast<int32_t>(len_u);
    if (l == -1) return off >= 0 && off < len;
    if (l < 0) return false;
    return has(off, l);
  }
  // The bytes item() accepted, as an ENC_ASCII field value.
  std::string str(int64_t off, uint32_t len_u) const {
    int32_t l = static_cast<int32_t>(len_u);
    size_t n = l == -1 ? static_cast<size_t>(len - off) : static_cast<size_t>(l);
    return ascii_field(p + off, n);
  }
  std::string show(int64_t off, uint32_t len_u) const {
    int32_t l = static_cast<int32_t>(len_u);
    size_t n = l == -1 ? static_cast<size_t>(len - off) : static_cast<size_t>(l);
    return pdml_show(p + off, n);
  }
  // ssh_tree_add_mpint() / ssh_tree_add_string(): uint32 length + bytes;
  // returns what tshark returns (4 + length, as an int).
  bool mpint(int64_t off, uint32_t& adv) const {
    uint32_t n;
    if (!u32(off, n) || !item(off + 4, n)) return false;
    adv = 4u + n;
    return true;
  }
};

SshFingerprinter::SshFingerprinter(size_t sample_size, size_t max_windows, uint16_t ssh_port)
    : sample_size_(sample_size ? sample_size : kDefaultSampleSize),
      max_windows_(max_windows),
      ssh_port_(ssh_port) {}

// ---------------------------------------------------------------------------
// Entry points

void SshFingerprinter::on_segment(const TcpSegment& seg) {
  if (finished_) return;
  process(seg, true);
}

// Fallback API. The engine reports a packet, then the in-order bytes its
// reassembler releases (that packet's, possibly followed by buffered later
// ones). A packet is processed when the next one arrives (or at finish()),
// as new in-order data made of the bytes received after it; a packet that
// got no bytes was not new data (a retransmission, or out of order) and is
// counted without SSH dissection. Bytes with no packet before them (the
// engine started feeding mid-segment) become a synthetic PSH/ACK packet.
void SshFingerprinter::on_packet(bool from_client, uint32_t payload_len, uint16_t tcp_flags) {
  if (finished_) return;
  flush_awaiting();
  awaiting_ = true;
  awaiting_from_client_ = from_client;
  awaiting_len_ = payload_len;
  awaiting_flags_ = tcp_flags;
  awaiting_bytes_.clear();
}

void SshFingerprinter::on_stream_data(bool from_client, const uint8_t* data, size_t len) {
  if (finished_ || !data || !len) return;
  if (!awaiting_ || awaiting_from_client_ != from_client || awaiting_len_ == 0) {
    flush_awaiting();
    awaiting_ = true;
    awaiting_from_client_ = from_client;
    awaiting_len_ = static_cast<uint32_t>(std::min<size_t>(len, kMaxPduBytes));
    awaiting_flags_ = kFlagAck | 0x008;  // PSH, ACK
    awaiting_bytes_.clear();
  }
  const size_t want = awaiting_len_ > awaiting_bytes_.size() ? awaiting_len_ - awaiting_bytes_.size() : 0;
  awaiting_bytes_.append(reinterpret_cast<const char*>(data), std::min(want, len));
}

void SshFingerprinter::flush_awaiting() {
  if (!awaiting_) return;
  awaiting_ = false;
  Direction& d = dir_[awaiting_from_client_ ? 0 : 1];
  TcpSegment seg;
  seg.from_client = awaiting_from_client_;
  seg.flags = awaiting_flags_;
  seg.payload_len = awaiting_len_;
  if (awaiting_len_ > 0 && awaiting_bytes_.empty()) {
    ++frame_;
    fields_ = Fields();
    last_was_ssh_ = false;
    last_analysis_ = 0;
    count_packet(seg.from_client, seg.payload_len, seg.flags, false);
    return;
  }
  seg.seq = d.synth_seq;
  d.synth_seq += awaiting_len_ + ((awaiting_flags_ & (kFlagSyn | kFlagFin)) ? 1u : 0u);
  std::string bytes;
  bytes.swap(awaiting_bytes_);
  seg.payload = reinterpret_cast<const uint8_t*>(bytes.data());
  seg.captured_len = bytes.size();
  process(seg, false);
}

void SshFingerprinter::finish() {
  if (finished_) return;
  flush_awaiting();
  finished_ = true;
  if (!len_counts_[0].empty() || !len_counts_[1].empty()) emit_window();
  std::vector<Msp>().swap(dir_[0].msps);
  std::vector<Msp>().swap(dir_[1].msps);
  std::string().swap(awaiting_bytes_);
}

size_t SshFingerprinter::buffered_bytes() const {
  size_t n = awaiting_bytes_.size();
  for (const Direction& d : dir_)
    for (const Msp& m : d.msps) n += m.bytes;
  return n;
}

bool SshFingerprinter::has_extras() const {
  return !extras_.hassh.empty() || !extras_.hassh_server.empty() ||
         !extras_.ssh_protocol_client.empty() || !extras_.ssh_protocol_server.empty() ||
         !extras_.encryption_algorithm.empty();
}

// ---------------------------------------------------------------------------
// TCP (packet-tcp.c): which payloads reach the SSH dissector, and how.

namespace {
// tcp_analyze_sequence_number() verdicts that matter here.
constexpr uint32_t kAKeepAlive = 1, kAZeroWindowProbe = 2, kASpurious = 4, kAFastRetrans = 8,
                   kAOutOfOrder = 16, kARetrans = 32, kAAckLost = 64;
constexpr uint64_t kFastRetransWindowNs = 20000000;   // 20 ms
constexpr uint64_t kDefaultOooThresholdNs = 3000000;  // 3 ms, until the iRTT is known
constexpr uint32_t kMaxFirstFragment = 1024 * 1024;   // desegment_tcp(): larger tails get no MSP
constexpr uint16_t kSshPortGerrit = 29418;            // packet-ssh.c TCP_RANGE_SSH "22,29418"
bool le_seq(uint32_t a, uint32_t b) { return static_cast<int32_t>(a - b) <= 0; }
}  // namespace

void SshFingerprinter::process(const TcpSegment& seg, bool analysis) {
  ++frame_;
  fields_ = Fields();
  int side = seg.from_client ? 0 : 1;
  if (seg.side == 0 || seg.side == 1) {
    side = seg.side;
  } else if (seg.src_port != seg.dst_port) {
    if (!have_first_port_) {
      have_first_port_ = true;
      first_src_port_ = seg.src_port;
    }
    side = seg.src_port == first_src_port_ ? 0 : 1;
  }
  Direction& d = dir_[side];
  Direction& peer = dir_[side ^ 1];
  const uint16_t flags = seg.flags;
  const uint32_t len = seg.payload_len;

  // Relative sequence numbers (dissect_tcp): a direction's base is its SYN,
  // else its first packet's seq - 1, else the first ACK number the other
  // side sends, minus one -- whichever comes first.
  if (!d.seen) {
    d.seen = true;
    d.base = (flags & kFlagSyn) ? seg.seq : seg.seq - 1;
  }
  if (!peer.seen && (flags & kFlagAck)) {
    peer.seen = true;
    peer.base = seg.ack - 1;
  }
  const uint32_t fl = analysis ? analyze(d, peer, seg) : 0;
  // After the analysis: the server port and the most recent SYN's time from
  // the handshake, then the iRTT at the first packet with ACK and no SYN.
  if ((flags & (kFlagSyn | kFlagAck)) == kFlagSyn) {
    server_port_ = seg.dst_port;
    mru_syn_ns_ = seg.ts_ns;
    have_syn_ = true;
  } else if ((flags & (kFlagSyn | kFlagAck)) == (kFlagSyn | kFlagAck)) {
    server_port_ = seg.src_port;
  } else if ((flags & (kFlagSyn | kFlagAck)) == kFlagAck && have_syn_ && first_rtt_ns_ == 0) {
    first_rtt_ns_ = seg.ts_ns - mru_syn_ns_;
  }

  // decode_tcp_ports(): the SSH dissector is the one registered for the
  // server port seen in the handshake, else the lower, else the higher port
  // (22 and 29418); is_response = the destination port is not that port.
  const bool ports_known = seg.src_port != 0 || seg.dst_port != 0;
  uint16_t match = 0;
  if (ports_known && ssh_port_) {
    auto is_ssh = [&](uint16_t p) { return p != 0 && (p == ssh_port_ || p == kSshPortGerrit); };
    uint16_t lo = std::min(seg.src_port, seg.dst_port), hi = std::max(seg.src_port, seg.dst_port);
    if (is_ssh(server_port_)) match = server_port_;
    else if (is_ssh(lo)) match = lo;
    else if (is_ssh(hi)) match = hi;
  }
  const bool ssh_flow = !ports_known || !ssh_port_ || match != 0;
  const bool server_role = (ports_known && ssh_port_) ? seg.dst_port != match : !seg.from_client;

  bool has_ssh = false;
  // desegment_tcp() drops retransmissions and spurious retransmissions;
  // keep-alives and out-of-order segments are reassembled but not handed to
  // SSH (decode_tcp_ports(), tcp.no_subdissector_on_error); fast
  // retransmissions and zero-window probes are treated as new data. RST
  // payloads are shown as text, never dissected.
  if (ssh_flow && len > 0 && !(flags & kFlagRst) && !(fl & kARetrans)) {
    const bool dissect = !(fl & (kAOutOfOrder | kAKeepAlive));
    size_t captured = seg.payload ? std::min<size_t>(seg.captured_len, len) : 0;
    if (captured < len) {
      // Truncated capture: no reassembly (and no desegment_tcp(), so a
      // spurious retransmission is dissected); the dissector sees what is
      // there.
      if (dissect && captured > 0) {
        Desegment ds;
        dissect_bytes(server_role, seg.payload, captured, false, ds);
        has_ssh = true;
      }
    } else if (!(fl & kASpurious)) {
      // A SYN's payload starts one after its sequence number.
      uint32_t rel = seg.seq - d.base + ((flags & kFlagSyn) ? 1u : 0u);
      has_ssh = desegment(d, server_role, rel, seg.payload, len, dissect);
    }
  }

  last_was_ssh_ = has_ssh;
  last_analysis_ = fl;
  count_packet(seg.from_client, len, flags, has_ssh);
  if (has_ssh) update_extras(seg.from_client);
}

// tcp_analyze_sequence_number(), on raw sequence/ACK numbers and raw windows
// as tshark calls it, reduced to what decides dissection.
uint32_t SshFingerprinter::analyze(Direction& d, Direction& peer, const TcpSegment& seg) {
  const uint16_t flags = seg.flags;
  const uint32_t seq = seg.seq, ack = seg.ack, len = seg.payload_len;
  const uint32_t window = seg.window;
  const int64_t now = seg.ts_ns;
  const bool syn_fin = (flags & (kFlagSyn | kFlagFin)) != 0;
  const bool syn_fin_rst = (flags & (kFlagSyn | kFlagFin | kFlagRst)) != 0;
  uint32_t fl = 0;

  if (len == 1 && seq == d.nextseq && peer.window == 0) {
    fl |= kAZeroWindowProbe;
  } else {
    if (len <= 1 && seq == d.nextseq - 1 && !syn_fin_rst) fl |= kAKeepAlive;
    const bool ack_only = len == 0 && seq == d.nextseq && ack == d.lastack && !syn_fin_rst;
    if (ack_only && window != 0 && window == d.window && (peer.last_flags & kAKeepAlive)) {
      // keep-alive ACK
    } else if (ack_only && window == 0 && window == d.window &&
               (peer.last_flags & kAZeroWindowProbe)) {
      // zero-window-probe ACK
    } else if (ack_only && window != 0 && window == d.window) {
      d.dupacknum = d.dupacknum == 0xffffffffu ? 1 : d.dupacknum + 1;  // duplicate ACK
    }
  }
  if (ack != d.lastack) d.dupacknum = 0;
  // ACKed unseen segment. The dup-ACK count (a guint32) becomes -1, which
  // satisfies the ">= 2" of the fast-retransmission test below.
  if (peer.maxseqtobeacked != 0 && gt_seq(ack, peer.maxseqtobeacked) && (flags & kFlagAck)) {
    if (lt_seq(peer.maxseqtobeacked, peer.nextseq)) {
      peer.maxseqtobeacked = peer.nextseq;
      fl |= kAAckLost;
    } else {
      if (peer.dupacknum == 0) fl |= kAAckLost;
      peer.dupacknum = 0xffffffffu;
    }
  }

  if ((len > 0 || syn_fin) && !(fl & kAKeepAlive)) {
    bool not_advanced = d.nextseq != 0 && lt_seq(seq, d.nextseq);
    if (len > 1 && d.nextseq - 1 == seq) not_advanced = false;  // new data from one byte back
    const uint64_t ooo_threshold =
        first_rtt_ns_ != 0 ? static_cast<uint64_t>(first_rtt_ns_) : kDefaultOooThresholdNs;
    if (len > 0 && peer.lastack != 0 && le_seq(seq + len, peer.lastack)) {
      fl |= kASpurious;
    } else if (not_advanced && peer.dupacknum >= 2 && peer.lastack == seq &&
               static_cast<uint64_t>(now - peer.lastack_time) < kFastRetransWindowNs) {
      fl |= kAFastRetrans;
    } else if (not_advanced && static_cast<uint64_t>(now - d.nextseq_time) < ooo_threshold &&
               d.nextseq != seq + len + (syn_fin ? 1u : 0u)) {
      fl |= kAOutOfOrder;
    } else if (not_advanced) {
      fl |= kARetrans;
    }
  }

  // A SYN/FIN counts one (tshark stops adding it after 1000 unACKed
  // segments; not modelled).
  const uint32_t nextseq = seq + len + (syn_fin ? 1u : 0u);
  if (!(fl & kAZeroWindowProbe)) {
    if (d.nextseq == 0 || gt_seq(nextseq, d.nextseq)) {
      d.nextseq = nextseq;
      d.nextseq_time = now;
    }
    if (d.maxseqtobeacked == 0 || seq == d.maxseqtobeacked) d.maxseqtobeacked = d.nextseq;
  }
  d.window = window;
  d.lastack = ack;
  d.lastack_time = now;
  d.last_flags = fl;
  return fl;
}

SshFingerprinter::Msp* SshFingerprinter::msp_exact(Direction& d, uint32_t seq) {
  for (Msp& m : d.msps)
    if (m.seq == seq) return &m;
  return nullptr;
}

// wmem_tree_lookup32_le(multisegment_pdus, seq - 1): the MSP with the
// largest start <= seq - 1 (plain unsigned keys).
SshFingerprinter::Msp* SshFingerprinter::msp_before(Direction& d, uint32_t seq) {
  Msp* best = nullptr;
  for (Msp& m : d.msps)
    if (m.seq <= seq - 1 && (!best || m.seq > best->seq)) best = &m;
  return best;
}

// pdu_store_sequencenumber_of_next_pdu(): a new MSP (replacing one with the
// same start).
SshFingerprinter::Msp& SshFingerprinter::msp_new(Direction& d, uint32_t seq, uint32_t nxtpdu,
                                                 bool entire) {
  // Only the newest MSP keeps bytes; an older one can only be completed by
  // a late (out-of-order) segment, which is not dissected anyway.
  for (Msp& m : d.msps) msp_drop_bytes(m);
  Msp* m = msp_exact(d, seq);
  if (!m) {
    if (d.msps.size() >= kMaxMsps) {
      auto lowest = std::min_element(d.msps.begin(), d.msps.end(),
                                     [](const Msp& a, const Msp& b) { return a.seq < b.seq; });
      d.msps.erase(lowest);
    }
    d.msps.emplace_back();
    m = &d.msps.back();
  }
  *m = Msp();
  m->seq = seq;
  m->nxtpdu = nxtpdu;
  m->entire = entire;
  m->last_frame = frame_;
  return *m;
}

void SshFingerprinter::msp_drop_bytes(Msp& m) {
  m.overflow = true;
  for (Frag& f : m.frags) std::string().swap(f.data);
  m.bytes = 0;
}

// reassemble.c fragment_defragment: fragments in offset order, each adding
// only the bytes past what the earlier ones covered.
std::string SshFingerprinter::msp_defragment(const Msp& m) {
  std::string out(m.tot, '\0');
  uint32_t dfpos = 0;
  for (const Frag& f : m.frags) {
    if (f.len == 0 || f.off >= m.tot) continue;
    uint32_t fraglen = std::min(f.len, m.tot - f.off);
    if (f.off + fraglen > dfpos && f.off <= dfpos) {
      std::memcpy(&out[dfpos], f.data.data() + (dfpos - f.off), f.off + fraglen - dfpos);
      dfpos = f.off + fraglen;
    }
  }
  return out;
}

// reassemble.c fragment_add() for one MSP.
SshFingerprinter::AddResult SshFingerprinter::msp_add(Msp& m, uint32_t offset, const uint8_t* p,
                                                      uint32_t len, bool more) {
  const uint64_t end = static_cast<uint64_t>(offset) + len;
  if (m.done) {
    // Adding to a finished reassembly: allowed only to continue a partial
    // one past its end, else tshark throws a ReassemblyError.
    if (!(m.partial && end >= m.tot)) return AddResult::kThrow;
    // fragment_reset_defragmentation(): the old fragments now hold the
    // reassembled bytes.
    if (!m.overflow) {
      Frag whole;
      whole.off = 0;
      whole.len = m.tot;
      whole.data = msp_defragment(m);
      m.frags.clear();
      m.bytes = whole.data.size();
      m.frags.push_back(std::move(whole));
    }
    m.done = false;
    m.partial = false;
    m.has_tot = false;
    m.tot = 0;
  }
  if (!more && !m.has_tot) {
    m.has_tot = true;
    m.tot = static_cast<uint32_t>(std::min<uint64_t>(end, 0xffffffffu));
  }
  if (m.frags.size() >= kMaxFragments || m.bytes + len > kMaxPduBytes) {
    // Too much to keep: track lengths only (merging the last fragments).
    if (!m.overflow) msp_drop_bytes(m);
    if (m.frags.size() >= kMaxFragments) {
      Frag& a = m.frags[m.frags.size() - 2];
      const Frag& b = m.frags.back();
      a.len = std::max(a.off + a.len, b.off + b.len) - a.off;
      m.frags.pop_back();
    }
  }
  Frag f;
  f.off = offset;
  f.len = static_cast<uint32_t>(std::min<uint64_t>(len, 0xffffffffu - offset));
  if (!m.overflow) {
    f.data.assign(reinterpret_cast<const char*>(p), f.len);
    m.bytes += f.len;
  }
  // LINK_FRAG: after the fragments with the same or a lower offset.
  auto pos = std::upper_bound(m.frags.begin(), m.frags.end(), f.off,
                              [](uint32_t o, const Frag& x) { return o < x.off; });
  m.frags.insert(pos, std::move(f));
  if (!m.has_tot) return AddResult::kIncomplete;
  uint32_t max = 0;
  for (const Frag& x : m.frags)
    if (x.off <= max && x.off + x.len > max) max = x.off + x.len;
  if (max < m.tot) return AddResult::kIncomplete;
  m.done = true;
  return AddResult::kComplete;
}

bool SshFingerprinter::dissect_bytes(bool server, const uint8_t* p, size_t len, bool can_deseg,
                                     Desegment& ds) {
  Tvb t{p, static_cast<int64_t>(len)};
  return dissect_ssh(t, server, can_deseg, ds);
}

// desegment_tcp() for a segment that is not a (spurious) retransmission.
// dissect = false: reassemble, but do not hand anything to SSH. Returns
// whether the SSH dissector ran on any of it (the "ssh" layer).
bool SshFingerprinter::desegment(Direction& d, bool server, uint32_t seq, const uint8_t* p,
                                 size_t len, bool dissect) {
  const uint32_t first = seq;
  const uint32_t nxtseq = seq + static_cast<uint32_t>(len);
  bool ran = false;
  for (int guard = 0; guard < 256 && seq != nxtseq; ++guard) {
    const uint32_t off = seq - first;
    const uint32_t remaining = nxtseq - seq;
    // A segment starting exactly where an MSP starts, not reaching past its
    // end, and not from the frame that last added to it: a retransmission.
    Msp* m = msp_exact(d, seq);
    if (m && nxtseq <= m->nxtpdu && m->last_frame != frame_) return ran;
    if (!m) m = msp_before(d, seq);

    if (m && le_seq(m->seq, seq) && gt_seq(m->nxtpdu, seq)) {
      m->last_frame = frame_;
      const uint32_t take = m->entire ? remaining : std::min(remaining, m->nxtpdu - seq);
      const bool more = lt_seq(nxtseq, m->nxtpdu);
      const AddResult r = msp_add(*m, seq - m->seq, p + off, take, more);
      if (r == AddResult::kThrow) return ran;
      if (r == AddResult::kComplete && m->entire) {
        m->entire = false;
        if (lt_seq(m->nxtpdu, nxtseq)) m->nxtpdu = nxtseq;
      }
      uint32_t another = 0;
      if (m->nxtpdu < nxtseq && m->nxtpdu >= seq && take > 0) another = m->nxtpdu - seq;
      if (r == AddResult::kComplete && dissect) {
        ran = true;
        if (m->overflow) {
          msp_drop_bytes(*m);  // too long to keep: dissected, content unknown
        } else {
          const std::string pdu = msp_defragment(*m);
          Desegment ds;
          if (!dissect_bytes(server, reinterpret_cast<const uint8_t*>(pdu.data()), pdu.size(),
                             true, ds)) {
            return ran;  // the exception also ends this segment's dissection
          }
          if (ds.need) {
            Msp* target = m;
            if (ds.offset == 0 || le_seq(m->seq + static_cast<uint32_t>(ds.offset), seq)) {
              m->partial = true;  // partial reassembly: this PDU continues
            } else {
              // split_msp(): the bytes from the request on become a new MSP.
              const uint32_t split = static_cast<uint32_t>(ds.offset);
              const uint32_t new_seq = m->seq + split;
              const uint32_t old_nxtpdu = m->nxtpdu;
              const uint32_t tot = m->tot;
              std::vector<std::pair<uint32_t, uint32_t>> ranges;
              for (const Frag& x : m->frags) ranges.emplace_back(x.off, x.off + x.len);
              m->nxtpdu = new_seq;
              m = nullptr;  // msp_new() may move the MSPs
              Msp& n = msp_new(d, new_seq, old_nxtpdu, false);
              for (const auto& r2 : ranges) {
                if (r2.second <= split) continue;
                const uint32_t b = std::max(r2.first, split);
                const uint32_t e = std::min(r2.second, tot);
                if (e > b)
                  msp_add(n, b - split, reinterpret_cast<const uint8_t*>(pdu.data()) + b, e - b,
                          true);
              }
              target = &n;
            }
            if (ds.one_more) {
              target->nxtpdu = std::max(seq + remaining, target->nxtpdu) + 1;
              target->entire = true;
            } else if (seq + take >= target->nxtpdu) {
              target->nxtpdu = seq + take + ds.len;
            } else {
              target->nxtpdu += ds.len;
            }
            seq += take;
            continue;
          }
        }
      }
      if (another == 0) return ran;
      seq += another;
      continue;
    }

    // Not part of an MSP: hand it to the dissector as it is.
    if (!dissect) return ran;  // decode_tcp_ports() refuses it
    ran = true;
    Desegment ds;
    if (!dissect_bytes(server, p + off, remaining, true, ds)) return ran;
    if (ds.need) {
      const uint32_t start = seq + static_cast<uint32_t>(ds.offset);
      if (nxtseq - start <= kMaxFirstFragment) {
        Msp& n = msp_new(d, start, ds.one_more ? nxtseq + 1 : nxtseq + ds.len, ds.one_more);
        msp_add(n, 0, p + off + ds.offset, nxtseq - start, lt_seq(nxtseq, n.nxtpdu));
      }
    }
    return ran;
  }
  return ran;
}

// ---------------------------------------------------------------------------
// SSH (packet-ssh.c)

bool SshFingerprinter::dissect_ssh(const Tvb& t, bool server, bool can_deseg, Desegment& ds) {
  // Each call is one "ssh" layer in the PDML; FoxIO reads fields from the
  // first one only.
  fields_.record = ++fields_.calls == 1;
  Peer& peer = peer_[server ? 1 : 0];
  int version = version_;
  int64_t offset = 0;
  while (offset < t.len) {
    if (offset < 0) return false;  // see dissect_ssh2()
    bool before_version_end = peer.frame_version_end == 0 || frame_ <= peer.frame_version_end;
    int64_t last = offset;
    ds = Desegment();
    if (before_version_end && caseeq_prefix(t.p + offset, static_cast<size_t>(t.len - offset), "SSH-")) {
      if (peer.frame_version_start == 0) peer.frame_version_start = frame_;
      if (!dissect_protocol(t, offset, server, can_deseg, version, ds)) return false;
      if (!ds.need) {
        peer.frame_version_end = frame_;
        version_ = version;
      }
    } else if (version == kVersion1) {
      if (!dissect_ssh1(t, offset, peer, can_deseg, ds)) return false;
    } else if (version == kVersion2) {
      if (!dissect_ssh2(t, offset, peer, server, can_deseg, ds)) return false;
    } else {
      offset = t.len;  // "Encrypted packet": the rest of the data
    }
    if (ds.need) return true;
    if (offset <= last) break;
  }
  ds = Desegment();
  return true;
}

bool SshFingerprinter::dissect_protocol(const Tvb& t, int64_t& offset, bool server,
                                        bool can_deseg, int& version, Desegment& ds) {
  const uint8_t* p = t.p + offset;
  size_t remain = static_cast<size_t>(t.len - offset);
  if (!server) {
    if (caseeq_prefix(p, remain, "SSH-2."))
      version = kVersion2;
    else if (caseeq_prefix(p, remain, "SSH-1.99-"))
      version = kVersion2;
    else if (caseeq_prefix(p, remain, "SSH-1."))
      version = kVersion1;
  }
  const void* nl = std::memchr(p, '\n', remain);
  if (!nl && !can_deseg) {
    if (fields_.record && !fields_.has_protocol) {
      fields_.has_protocol = true;
      fields_.protocol = pdml_show(p, remain);
    }
    offset += static_cast<int64_t>(remain);
    return true;
  }
  if (!nl) {
    // desegment_len = -1 - remain: TCP's next-PDU number lands before this
    // PDU, so the next segment is dissected on its own.
    ds.need = true;
    ds.offset = offset;
    ds.len = static_cast<uint32_t>(-1 - static_cast<int64_t>(remain));
    return true;
  }
  size_t linelen = static_cast<size_t>(static_cast<const uint8_t*>(nl) - p) + 1;
  size_t protolen = (linelen > 1 && p[linelen - 2] == '\r') ? linelen - 2 : linelen - 1;
  if (fields_.record && !fields_.has_protocol) {
    fields_.has_protocol = true;
    fields_.protocol = pdml_show(p, protolen);
  }
  offset += static_cast<int64_t>(linelen);
  return true;
}

bool SshFingerprinter::dissect_ssh1(const Tvb& t, int64_t& offset, Peer& peer, bool can_deseg,
                                    Desegment& ds) {
  uint32_t remain = static_cast<uint32_t>(t.len - offset);
  if (can_deseg && remain < 4) {
    ds.need = true;
    ds.one_more = true;
    ds.offset = offset;
    return true;
  }
  uint32_t plen;
  if (!t.u32(offset, plen)) return false;
  uint32_t padding = 8 - plen % 8;
  if (can_deseg && plen + 4 + padding > remain) {
    ds.need = true;
    ds.offset = offset;
    ds.len = plen + padding - remain;
    return true;
  }
  if (plen >= 0xffff) plen = remain - 4 - padding;
  offset = add32(offset, 4 + padding);
  uint32_t len = plen;
  if (peer.frame_key_start == 0 ||
      (peer.frame_key_start >= frame_ && frame_ <= peer.frame_key_end)) {
    uint8_t msg;
    if (!t.u8(offset, msg)) return false;
    offset += 1;
    len = plen - 1;
    if (peer.frame_key_start == 0) peer.frame_key_start = frame_;
    peer.frame_key_end = frame_;
  }
  if (!t.item(offset, len)) return false;
  offset = add32(offset, len);
  return true;
}

bool SshFingerprinter::dissect_ssh2(const Tvb& t, int64_t& offset, Peer& peer, bool server,
                                    bool can_deseg, Desegment& ds) {
  while (offset < t.len) {
    // tshark would take a negative offset as counted from the end; only
    // adversarial lengths get here, so end the dissection instead.
    if (offset < 0) return false;
    const int64_t last = offset;
    bool key_exchange =
        peer.frame_key_start == 0 ||
        (peer.frame_key_start <= frame_ &&
         (peer.frame_key_end == 0 || frame_ < peer.frame_key_end ||
          (frame_ == peer.frame_key_end && offset < peer.frame_key_end_offset)));
    if (key_exchange) {
      if (!dissect_key_exchange(t, offset, peer, server, can_deseg, ds)) return false;
      if (ds.need) break;
    } else {
      offset = t.len;  // encrypted, no keys: the rest of the data
    }
    if (offset <= last) return false;  // no progress (adversarial lengths)
  }
  return true;
}

bool SshFingerprinter::dissect_key_exchange(const Tvb& t, int64_t& offset, Peer& peer,
                                            bool server, bool can_deseg, Desegment& ds) {
  const int64_t last = offset;
  const uint32_t remain = static_cast<uint32_t>(t.len - offset);
  if (can_deseg && remain < 4) {
    ds.need = true;
    ds.one_more = true;
    ds.offset = offset;
    return true;
  }
  uint32_t plen;
  if (!t.u32(offset, plen)) return false;
  if (can_deseg && plen + 4 > remain) {  // guint arithmetic, wraps like tshark's
    ds.need = true;
    ds.offset = offset;
    ds.len = plen + 4 - remain;
    return true;
  }
  if (plen >= 0xffff) plen = remain - 4;
  offset += 4;
  uint8_t padding;
  if (!t.u8(offset, padding)) return false;
  offset += 1;
  // The "Key Exchange" subtree spans plen - 1 bytes (a text item: its bytes
  // must be there, so a truncated capture ends the dissection here).
  if (!t.item(offset, plen - 1u)) return false;
  uint8_t msg;
  if (!t.u8(offset, msg)) return false;
  if (msg >= 30 && msg < 40) {
    if (!dissect_kex_specific(t, offset, msg)) return false;
  } else {
    offset += 1;
    if (msg == kMsgKexinit) {
      if (!dissect_key_init(t, offset, peer, server)) return false;
      if (peer.frame_key_start == 0 || peer.frame_key_start == frame_) peer.frame_key_start = frame_;
    } else if (msg == kMsgNewkeys) {
      if (peer.frame_key_end == 0) {
        peer.frame_key_end = frame_;
        peer.frame_key_end_offset = offset;
      }
    }
  }
  uint32_t len = plen + 4u - padding - static_cast<uint32_t>(offset - last);
  if (len > 0 && !t.item(offset, len)) return false;
  offset = add32(offset, len);
  if (!t.has(offset, padding)) return false;  // the padding item
  offset += padding;
  return true;
}

// The kex-method specific messages (30..39); the method is known once both
// KEXINITs were seen, Diffie-Hellman until then.
bool SshFingerprinter::dissect_kex_specific(const Tvb& t, int64_t& offset, uint8_t msg) {
  offset += 1;  // message code
  uint32_t adv;
  auto mp = [&](bool advance) {
    if (!t.mpint(offset, adv)) return false;
    if (advance) offset = add32(offset, adv);
    return true;
  };
  auto host_blob = [&](bool signature) {
    // ssh_tree_add_hostkey() / ssh_tree_add_hostsignature()
    const int64_t start = offset;
    uint32_t blob_len, type_len;
    if (!t.u32(start, blob_len) || !t.u32(start + 4, type_len)) return false;
    if (!t.item(start + 8, type_len)) return false;
    std::string type = t.str(start + 8, type_len);
    if (signature && !t.item(start, blob_len + 4u)) return false;  // its subtree
    if (!signature && !t.item(start + 4, blob_len)) return false;  // tvb_memdup of the key blob
    int64_t o = add32(start + 8, type_len);
    uint32_t a;
    if (type == "ssh-rsa") {
      if (!t.mpint(o, a)) return false;
      if (!signature) {
        o = add32(o, a);
        if (!t.mpint(o, a)) return false;
      }
    } else if (type == "ssh-dss") {
      if (!t.mpint(o, a)) return false;
      if (!signature) {
        for (int i = 0; i < 3; ++i) {
          o = add32(o, a);
          if (!t.mpint(o, a)) return false;
        }
      }
    } else if (has_prefix(type, "ecdsa-sha2-")) {
      if (!signature) {
        if (!t.mpint(o, a)) return false;
        o = add32(o, a);
        if (!t.mpint(o, a)) return false;
      }
    } else if (has_prefix(type, "ssh-ed")) {
      if (!signature && !t.mpint(o, a)) return false;
    } else {
      uint32_t rest = blob_len - (type_len + 4u);
      if (!t.item(o, rest)) return false;
    }
    offset = add32(start, 4u + blob_len);
    return true;
  };
  auto fixed = [&](int64_t n) {
    if (!t.has(offset, n)) return false;
    offset += n;
    return true;
  };

  if (kex_dissector_ == kKexDhGex) {
    switch (msg) {
      case 30: return fixed(4);                                // GEX request (old)
      case 31: return mp(true) && mp(true);                    // GEX group: p, g
      case 32: return mp(true);                                // GEX init: e
      case 33: return host_blob(false) && mp(true) && host_blob(true);  // GEX reply
      case 34: return fixed(4) && fixed(4) && fixed(4);        // GEX request
      default: return true;
    }
  }
  if (kex_dissector_ == kKexEcdh) {
    switch (msg) {
      case 30: return mp(true);                                      // Q_C
      case 31: return host_blob(false) && mp(true) && host_blob(true);  // K_S, Q_S, sig
      default: return true;
    }
  }
  switch (msg) {
    case 30: return mp(true);                                      // KEXDH init: e
    case 31: return host_blob(false) && mp(true) && host_blob(true);  // KEXDH reply
    default: return true;
  }
}

bool SshFingerprinter::dissect_key_init(const Tvb& t, int64_t& offset, Peer& peer, bool server) {
  if (!t.has(offset, 16)) return false;  // cookie
  offset += 16;
  // kex, host key, enc c2s, enc s2c, mac c2s, mac s2c, comp c2s, comp s2c,
  // languages c2s, languages s2c.
  std::string values[10];
  for (int i = 0; i < 10; ++i) {
    uint32_t n;
    if (!t.u32(offset, n)) return false;
    if (!t.item(offset + 4, n)) return false;
    values[i] = t.str(offset + 4, n);
    if (i == 0) {
      peer.has_kex_proposal = true;
      peer.kex_proposal = values[0];
    } else if (i == 2 && fields_.record && !fields_.has_enc_cs) {
      fields_.has_enc_cs = true;
      fields_.enc_cs = t.show(offset + 4, n);
    } else if (i == 3 && fields_.record && !fields_.has_enc_sc) {
      fields_.has_enc_sc = true;
      fields_.enc_sc = t.show(offset + 4, n);
    }
    offset = add32(offset + 4, n);
  }
  if (!t.has(offset, 1)) return false;  // first_kex_packet_follows
  offset += 1;
  if (!t.has(offset, 4)) return false;  // reserved
  offset += 4;

  // HASSH: MD5 of "kex;enc;mac;comp" with this side's sending direction.
  const int d = server ? 1 : 0;
  std::string algo = values[0] + ";" + values[2 + d] + ";" + values[4 + d] + ";" + values[6 + d];
  if (!fields_.record) {
    // not visible to FoxIO
  } else if (!server && !fields_.has_hassh) {
    fields_.has_hassh = true;
    fields_.hassh = md5_hex(algo);
  } else if (server && !fields_.has_hassh_server) {
    fields_.has_hassh_server = true;
    fields_.hassh_server = md5_hex(algo);
  }

  if (peer_[0].has_kex_proposal && peer_[1].has_kex_proposal && !kex_chosen_) {
    std::string kex;
    if (choose_algo(peer_[0].kex_proposal, peer_[1].kex_proposal, kex)) {
      kex_chosen_ = true;
      if (kex == "diffie-hellman-group-exchange-sha1" || kex == "diffie-hellman-group-exchange-sha256") {
        kex_dissector_ = kKexDhGex;
      } else if (has_prefix(kex, "ecdh-sha2-") || kex == "curve25519-sha256@libssh.org" ||
                 kex == "curve25519-sha256" || kex == "curve448-sha512") {
        kex_dissector_ = kKexEcdh;
      }
    }
  }
  return true;
}

// ---------------------------------------------------------------------------
// ssh.rs: Stats and StreamExtras

void SshFingerprinter::count_packet(bool from_client, uint32_t tcp_len, uint16_t flags,
                                    bool has_ssh) {
  const int d = from_client ? 0 : 1;
  if (has_ssh) {
    // At most sample_size distinct lengths per window: bounded.
    ++len_counts_[d][tcp_len];
    ++ssh_packets_[d];
  } else if (flags == kBareAck) {
    ++acks_[d];
  }
  if (static_cast<size_t>(ssh_packets_[0]) + ssh_packets_[1] == sample_size_) emit_window();
}

void SshFingerprinter::emit_window() {
  auto mode = [](const std::map<uint32_t, uint32_t>& counts) {
    uint32_t best = 0, best_count = 0;
    for (const auto& kv : counts) {  // ascending lengths: ties keep the smallest
      if (kv.second > best_count) {
        best = kv.first;
        best_count = kv.second;
      }
    }
    return best;
  };
  if (ja4ssh_.size() < max_windows_) {
    std::string fp = "c" + std::to_string(mode(len_counts_[0])) + "s" +
                     std::to_string(mode(len_counts_[1])) + "_c" + std::to_string(ssh_packets_[0]) +
                     "s" + std::to_string(ssh_packets_[1]) + "_c" + std::to_string(acks_[0]) + "s" +
                     std::to_string(acks_[1]);
    ja4ssh_.push_back(std::move(fp));
  } else {
    ++dropped_windows_;
  }
  for (int d = 0; d < 2; ++d) {
    len_counts_[d].clear();
    ssh_packets_[d] = 0;
    acks_[d] = 0;
  }
}

// ssh.rs StreamExtras::update() (release build: later values overwrite).
void SshFingerprinter::update_extras(bool from_client) {
  const Fields& f = fields_;
  if (from_client) {
    if (f.has_hassh) extras_.hassh = f.hassh;
    if (f.has_enc_cs) {
      enc_state_ = 1;
      client_enc_list_.clear();
      size_t start = 0;
      for (;;) {  // str::split(','): "" gives [""]
        size_t comma = f.enc_cs.find(',', start);
        client_enc_list_.push_back(f.enc_cs.substr(start, comma == std::string::npos ? std::string::npos : comma - start));
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      extras_.encryption_algorithm.clear();
    }
    if (f.has_protocol) extras_.ssh_protocol_client = f.protocol;
  } else {
    if (f.has_hassh_server) extras_.hassh_server = f.hassh_server;
    if (f.has_protocol) extras_.ssh_protocol_server = f.protocol;
    if (f.has_enc_sc && enc_state_ == 1) {
      size_t start = 0;
      for (;;) {
        size_t comma = f.enc_sc.find(',', start);
        std::string alg = f.enc_sc.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        if (std::find(client_enc_list_.begin(), client_enc_list_.end(), alg) != client_enc_list_.end()) {
          enc_state_ = 2;
          extras_.encryption_algorithm = alg;
          std::vector<std::string>().swap(client_enc_list_);
          break;
        }
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    }
  }
}

}  // namespace ja4::ssh
