// JA4T (client SYN), JA4TS (server SYN-ACK) and JA4L (light distance)
// (FoxIO License 1.1).
#pragma once

#include <cstdint>
#include <string>

namespace ja4 {

// JA4T/JA4TS: "<window size>_<option kinds>_<MSS>_<window scale>", e.g.
// 64240_2-1-3-1-1-4_1460_8. Options are listed in wire order, NOP (1) and
// EOL (0) included, as the reference prints them.
std::string ja4t_fingerprint(uint16_t window, const uint8_t* options, size_t options_len);

// A JA4L value, "<half round trip in us>_<ttl>" (TCP and QUIC alike).
std::string format_ja4l(int64_t half_rtt, uint8_t ttl);

// JA4L from the three handshake timestamps (microseconds) and TTLs:
//   JA4L-S = (SYN-ACK - SYN) / 2 "_" server TTL
//   JA4L-C = (ACK - SYN-ACK) / 2 "_" client TTL
class Ja4LTracker {
 public:
  // Feed every TCP packet of the flow in capture order. Only a bare SYN
  // (flags exactly SYN), a bare SYN-ACK and then a packet with ACK and
  // without SYN advance it.
  void on_packet(uint8_t tcp_flags, int64_t ts_us, uint8_t ttl);
  bool done() const { return state_ == State::Done; }
  std::string client() const;  // ja4l_c
  std::string server() const;  // ja4l_s

 private:
  enum class State { Syn, SynAck, Ack, Done };
  State state_ = State::Syn;
  int64_t t_syn_ = 0, t_synack_ = 0, t_ack_ = 0;
  uint8_t client_ttl_ = 0, server_ttl_ = 0;
};

}  // namespace ja4
