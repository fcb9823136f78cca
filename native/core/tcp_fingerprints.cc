#include "tcp_fingerprints.h"

namespace ja4 {

std::string ja4t_fingerprint(uint16_t window, const uint8_t* opt, size_t len) {
  std::string kinds;
  bool has_mss = false, has_ws = false;
  uint16_t mss = 0;
  uint8_t ws = 0;
  size_t i = 0;
  while (i < len) {
    uint8_t kind = opt[i];
    if (!kinds.empty()) kinds.push_back('-');
    kinds += std::to_string(kind);
    // RFC 9293 3.2: kinds 0 (EOL) and 1 (NOP) are a single byte; every other
    // option has a length byte covering kind and length.
    if (kind == 0 || kind == 1) {
      ++i;
      continue;
    }
    if (i + 1 >= len) break;
    uint8_t olen = opt[i + 1];
    if (olen < 2 || i + olen > len) break;  // malformed: stop, keep what we have
    if (kind == 2 && olen == 4) {
      has_mss = true;
      mss = static_cast<uint16_t>((opt[i + 2] << 8) | opt[i + 3]);
    } else if (kind == 3 && olen == 3) {
      has_ws = true;
      ws = opt[i + 2];
    }
    i += olen;
  }
  // The spec writes "00" for an absent part: a SYN without options is
  // "<window>_00_00_00" (the reference tool prints empty fields here).
  std::string out = std::to_string(window);
  out += '_';
  out += kinds.empty() ? "00" : kinds;
  out += '_';
  out += has_mss ? std::to_string(mss) : "00";
  out += '_';
  out += has_ws ? std::to_string(ws) : "00";
  return out;
}

void Ja4LTracker::on_packet(uint8_t flags, int64_t ts_us, uint8_t ttl) {
  // A SYN, then a SYN-ACK (without FIN/RST/PSH; ECN bits allowed), then the next packet carrying ACK
  // (without SYN) in either direction: this is what FoxIO's reference
  // output measures (CVE-2018-6794.pcap: the server's first data segment,
  // 1 us after its SYN-ACK, closes the client measurement).
  switch (state_) {
    case State::Syn:
      // ECN bits (ECE/CWR) may accompany the SYN: gre-sample.pcap's is 0xc2.
      if ((flags & 0x17) == 0x02) {
        t_syn_ = ts_us;
        client_ttl_ = ttl;
        state_ = State::SynAck;
      }
      break;
    case State::SynAck:
      if ((flags & 0x17) == 0x12) {
        t_synack_ = ts_us;
        server_ttl_ = ttl;
        state_ = State::Ack;
      }
      break;
    case State::Ack:
      if ((flags & 0x12) == 0x10) {
        t_ack_ = ts_us;
        state_ = State::Done;
      }
      break;
    case State::Done:
      break;
  }
}

std::string Ja4LTracker::client() const {
  return std::to_string((t_ack_ - t_synack_) / 2) + "_" + std::to_string(client_ttl_);
}
std::string Ja4LTracker::server() const {
  return std::to_string((t_synack_ - t_syn_) / 2) + "_" + std::to_string(server_ttl_);
}

}  // namespace ja4
