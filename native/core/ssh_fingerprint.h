// JA4SSH and HASSH (+ FoxIO's "ssh_extras") for one TCP connection.
//
// Reference: FoxIO's Rust ja4 tool (rust/ja4/src/ssh.rs, stream.rs), which
// reads tshark's PDML for every packet. Its counting hinges on one question
// per packet: did tshark put an "ssh" layer on it? This module answers it
// by emulating what tshark 4.0 does first (checked against tshark 4.0.17):
//
//   * TCP (packet-tcp.c): the sequence analysis flags each segment. Segments
//     flagged retransmission or spurious retransmission are dropped; keep-
//     alives and out-of-order segments are reassembled but never handed to
//     SSH (tcp.no_subdissector_on_error); fast retransmissions and anything
//     else go through desegment_tcp(): straight to the SSH dissector, or
//     into the multi-segment PDU (MSP) the dissector asked for. A segment
//     that only extends an incomplete MSP gets no "ssh" layer; the one that
//     completes it does (and so does every segment the dissector sees).
//   * SSH (packet-ssh.c): the banner line; then, per direction until its
//     SSH_MSG_NEWKEYS, binary packets whose packet_length drives reassembly;
//     then "encrypted" data, never reassembled. A malformed key-exchange
//     message raises a dissector exception, which drops the rest of that
//     segment (possibly a NEWKEYS, after which tshark keeps reading
//     ciphertext as packet lengths); that is emulated too.
//
// JA4SSH (ssh.rs): every packet of the stream is looked at, handshake
// included. A packet with an "ssh" layer counts as an SSH packet of its
// sender with its tcp.len; a packet without one whose tcp.flags is exactly
// 0x010 (ACK only, payload or not) counts as an ACK. When the SSH packets of
// the window reach sample_size (200), a fingerprint
//   c{client mode len}s{server mode len}_c{client pkts}s{server pkts}_c{client acks}s{server acks}
// is emitted and all counters restart; the mode is the most frequent tcp.len
// (ties: smallest length; 0 when a side has none). At the end a partial
// window is emitted if it holds at least one SSH packet.
//
// Never throws, never reads outside the given buffers, bounded memory (see
// kMaxPduBytes and max_windows).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace ja4::ssh {

struct SshExtras {
  // Empty string = field absent (FoxIO prints null). Values can never be
  // legitimately empty except encryption_algorithm in a pathological
  // KEXINIT with empty lists.
  std::string hassh, hassh_server, ssh_protocol_client, ssh_protocol_server,
      encryption_algorithm;
};

// One TCP packet of the connection, as captured. tshark's TCP sequence
// analysis decides which payloads reach the SSH dissector, and it looks at
// all of these fields.
struct TcpSegment {
  // FoxIO's sender: true when the source IP equals the source IP of the
  // first packet seen for the stream (so with both ends on one IP, every
  // packet is "client", as in FoxIO's output).
  bool from_client = false;
  // Which endpoint sent it, for tshark's per-direction TCP analysis: 0 or 1
  // (any stable labelling). -1: told apart by the ports, else from_client.
  int8_t side = -1;
  // tshark runs its SSH dissector only for TCP ports 22 and 29418, and the
  // side sending to that port is the SSH client; 0 = unknown (from_client
  // then decides the SSH roles, and every port is accepted).
  uint16_t src_port = 0, dst_port = 0;
  int64_t ts_ns = 0;          // capture timestamp (out-of-order / fast-retransmission timing)
  uint32_t seq = 0;           // raw TCP sequence number
  uint32_t ack = 0;           // raw acknowledgement number (meaningful when flags has ACK)
  uint16_t flags = 0;         // the 12-bit flags field, as tshark's tcp.flags (0x010 = ACK)
  uint16_t window = 0;        // raw window field (not scaled)
  uint32_t payload_len = 0;   // TCP payload length on the wire (tshark's tcp.len)
  const uint8_t* payload = nullptr;  // captured payload bytes
  size_t captured_len = 0;    // <= payload_len (less when the capture was truncated)
};

class SshFingerprinter {
 public:
  static constexpr size_t kDefaultSampleSize = 200;  // FoxIO ssh.sample_size
  static constexpr size_t kDefaultMaxWindows = 1024;
  // Bytes kept for one multi-segment SSH PDU per direction (SSH packets are
  // at most 35000 bytes in practice); a longer PDU is tracked by length only.
  static constexpr size_t kMaxPduBytes = 256 * 1024;

  // sample_size 0 means the default (as FoxIO's config does). At most
  // max_windows fingerprints are kept; later ones are counted in
  // dropped_windows(). ssh_port: the port tshark decodes as SSH (22; 29418
  // is always accepted too); a segment whose ports are known and match
  // neither is never treated as SSH. 0 disables that check.
  explicit SshFingerprinter(size_t sample_size = kDefaultSampleSize,
                            size_t max_windows = kDefaultMaxWindows, uint16_t ssh_port = 22);

  // Preferred entry point: every TCP packet of the connection in capture
  // order -- SYN, SYN/ACK, the handshake ACK (FoxIO counts it as a client
  // ACK), data, bare ACKs, retransmissions, FIN, RST -- with all the fields
  // of TcpSegment filled in.
  void on_segment(const TcpSegment& seg);

  // Fallback for engines without raw segments (less exact: no
  // retransmission / out-of-order / keep-alive analysis). Call on_packet()
  // for every TCP packet, then on_stream_data() with the in-order bytes the
  // engine's reassembler releases after it. A packet is taken as new data
  // made of the bytes delivered after it (up to payload_len), and is
  // processed when the next packet arrives or at finish(); a packet that
  // got no bytes counts as not dissected (tshark does not dissect
  // retransmissions). Bytes with no packet before them become a PSH/ACK
  // packet of their own.
  void on_packet(bool from_client, uint32_t payload_len, uint16_t tcp_flags);
  void on_stream_data(bool from_client, const uint8_t* data, size_t len);

  // End of the flow: emits the partial window if it holds an SSH packet.
  // Idempotent; later packets are ignored.
  void finish();

  const std::vector<std::string>& ja4ssh() const { return ja4ssh_; }
  size_t dropped_windows() const { return dropped_windows_; }
  bool has_extras() const;
  const SshExtras& extras() const { return extras_; }

  // Whether the last packet given would carry an "ssh" layer in tshark
  // (for tests and debugging).
  bool last_packet_was_ssh() const { return last_was_ssh_; }
  // Payload bytes currently held (reassembly and the fallback API's
  // pending packet); bounded by about 3 * kMaxPduBytes.
  size_t buffered_bytes() const;
  // tshark's TCP analysis verdict on the last packet: bit 0 keep-alive,
  // 1 zero-window probe, 2 spurious retransmission, 3 fast retransmission,
  // 4 out-of-order, 5 retransmission, 6 ACKed unseen segment.
  uint32_t last_analysis() const { return last_analysis_; }

 private:
  // --- tshark packet-ssh.c state (per conversation / per peer) ---
  struct Peer {
    uint64_t frame_version_start = 0, frame_version_end = 0;
    uint64_t frame_key_start = 0, frame_key_end = 0;
    int64_t frame_key_end_offset = 0;
    bool has_kex_proposal = false;
    std::string kex_proposal;
  };
  // Fields tshark would show for the current frame (first occurrence).
  struct Fields {
    int calls = 0;        // SSH dissector calls in this frame
    bool record = false;  // the current call is the first
    bool has_hassh = false, has_hassh_server = false, has_protocol = false,
         has_enc_cs = false, has_enc_sc = false;
    std::string hassh, hassh_server, protocol, enc_cs, enc_sc;
  };
  struct Desegment {
    bool need = false;
    bool one_more = false;  // DESEGMENT_ONE_MORE_SEGMENT
    int64_t offset = 0;
    uint32_t len = 0;
  };
  struct Tvb;

  // --- tshark packet-tcp.c state per direction ---
  // A multi-segment PDU: the SSH dissector asked for bytes up to nxtpdu.
  struct Frag {
    uint32_t off = 0, len = 0;
    std::string data;  // empty when the MSP overflowed
  };
  struct Msp {
    uint32_t seq = 0, nxtpdu = 0;  // relative sequence numbers
    bool entire = false;           // DESEGMENT_ONE_MORE_SEGMENT: take the whole next segment
    bool done = false;             // reassembled
    bool partial = false;          // ... but the dissector asked for more
    uint64_t last_frame = 0;
    bool has_tot = false;          // the last fragment is known ...
    uint32_t tot = 0;              // ... and the PDU is this long
    std::vector<Frag> frags;       // sorted by offset, as reassemble.c keeps them
    size_t bytes = 0;
    bool overflow = false;         // bytes not kept (too long, too fragmented, or old)
  };
  static constexpr size_t kMaxMsps = 8;       // remembered per direction
  static constexpr size_t kMaxFragments = 256;  // per MSP
  struct Direction {
    bool seen = false;
    uint32_t base = 0;  // relative sequence numbers: seq - base
    // tcp_analyze_seq_info, on raw numbers (0 = not known yet)
    uint32_t nextseq = 0;
    int64_t nextseq_time = 0;
    uint32_t maxseqtobeacked = 0;
    uint32_t lastack = 0;          // ACK number of this side's last packet
    int64_t lastack_time = 0;
    uint32_t dupacknum = 0;        // guint32 in tshark: -1 ("ACKed unseen") compares as huge
    uint32_t window = 0xffffffffu; // raw window of this side's last packet (G_MAXUINT32 before)
    uint32_t last_flags = 0;       // analysis flags of the last packet
    std::vector<Msp> msps;         // sorted by seq, at most kMaxMsps
    uint32_t synth_seq = 1;  // fallback API: sequence numbers made up
  };

  // Fallback API: a packet whose bytes may still arrive.
  bool awaiting_ = false;
  bool awaiting_from_client_ = false;
  uint32_t awaiting_len_ = 0;
  uint16_t awaiting_flags_ = 0;
  std::string awaiting_bytes_;
  void flush_awaiting();

  void process(const TcpSegment& seg, bool analysis);
  uint32_t analyze(Direction& d, Direction& peer, const TcpSegment& seg);
  bool desegment(Direction& d, bool server, uint32_t seq, const uint8_t* p, size_t len,
                 bool dissect);
  Msp* msp_exact(Direction& d, uint32_t seq);
  Msp* msp_before(Direction& d, uint32_t seq);
  Msp& msp_new(Direction& d, uint32_t seq, uint32_t nxtpdu, bool entire);
  enum class AddResult { kIncomplete, kComplete, kThrow };
  AddResult msp_add(Msp& m, uint32_t offset, const uint8_t* p, uint32_t len, bool more);
  static void msp_drop_bytes(Msp& m);
  static std::string msp_defragment(const Msp& m);
  bool dissect_bytes(bool server, const uint8_t* p, size_t len, bool can_deseg,
                     Desegment& ds);

  // packet-ssh.c emulation. Return false when tshark would throw.
  bool dissect_ssh(const Tvb& t, bool server, bool can_deseg, Desegment& ds);
  bool dissect_protocol(const Tvb& t, int64_t& offset, bool server,
                        bool can_deseg, int& version, Desegment& ds);
  bool dissect_ssh1(const Tvb& t, int64_t& offset, Peer& peer, bool can_deseg,
                    Desegment& ds);
  bool dissect_ssh2(const Tvb& t, int64_t& offset, Peer& peer, bool server,
                    bool can_deseg, Desegment& ds);
  bool dissect_key_exchange(const Tvb& t, int64_t& offset, Peer& peer,
                            bool server, bool can_deseg, Desegment& ds);
  bool dissect_kex_specific(const Tvb& t, int64_t& offset, uint8_t msg);
  bool dissect_key_init(const Tvb& t, int64_t& offset, Peer& peer, bool server);

  void count_packet(bool from_client, uint32_t tcp_len, uint16_t flags,
                    bool has_ssh);
  void update_extras(bool from_client);
  void emit_window();

  size_t sample_size_;
  size_t max_windows_;
  uint16_t ssh_port_;
  bool finished_ = false;
  uint64_t frame_ = 0;
  bool last_was_ssh_ = false;
  uint32_t last_analysis_ = 0;
  Direction dir_[2];  // by TcpSegment::side

  bool have_syn_ = false;
  int64_t mru_syn_ns_ = 0, first_rtt_ns_ = 0;
  uint16_t server_port_ = 0;  // tcpd->server_port, from the handshake
  uint16_t first_src_port_ = 0;
  bool have_first_port_ = false;

  int version_ = 0;  // 0 unknown, 1, 2
  bool kex_chosen_ = false;
  int kex_dissector_ = 0;  // 0 dh, 1 dh-gex, 2 ecdh
  Peer peer_[2];
  Fields fields_;

  // JA4SSH window.
  std::map<uint32_t, uint32_t> len_counts_[2];
  uint32_t ssh_packets_[2] = {0, 0};
  uint32_t acks_[2] = {0, 0};
  std::vector<std::string> ja4ssh_;
  size_t dropped_windows_ = 0;

  // Extras (ssh.rs StreamExtras).
  SshExtras extras_;
  int enc_state_ = 0;  // 0 none, 1 client list known, 2 selected
  std::vector<std::string> client_enc_list_;
};

}  // namespace ja4::ssh
