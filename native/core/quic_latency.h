// JA4L for QUIC (FoxIO License 1.1): light distance measured on the QUIC
// handshake instead of TCP's.
//   A = client Initial, B = server Initial, C = the server's last Handshake
//   packet before D = the client's first Handshake packet.
//   JA4L-S = (B - A) / 2 "_" server TTL;  JA4L-C = (D - C) / 2 "_" client TTL.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ja4 {

class QuicLatencyTracker {
 public:
  // Every UDP datagram of a QUIC flow, in capture order. Only the first
  // long-header packet of a datagram is looked at (coalesced packets follow).
  void on_datagram(bool from_client, const uint8_t* data, size_t len, int64_t ts_us, uint8_t ttl);
  bool done() const { return state_ == State::Done; }
  std::string client() const;
  std::string server() const;

 private:
  enum class State { ClientInitial, ServerInitial, ServerHandshake, Handshake, Done };
  State state_ = State::ClientInitial;
  int64_t a_ = 0, b_ = 0, c_ = 0, d_ = 0;
  uint8_t client_ttl_ = 0, server_ttl_ = 0;
};

}  // namespace ja4
