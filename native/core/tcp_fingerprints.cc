#include "tcp_fingerprints.h"

#include <charconv>

namespace ja4 {

namespace {
// Decimal digits of v at p; returns the end. (std::to_chars: no locale, no
// temporary string per number.)
char* put_dec(char* p, uint64_t v) { return std::to_chars(p, p + 20, v).ptr; }
}  // namespace

std::string ja4t_fingerprint(uint16_t window, const uint8_t* opt, size_t len) {
  // Written in place into one string sized for the worst case (each option
  // byte a kind of up to 3 digits and a '-'), then trimmed: one allocation,
  // no temporary per number.
  std::string out(6 + 4 * len + 16, '\0');
  char* const buf = out.data();
  char* p = put_dec(buf, window);
  *p++ = '_';
  char* kinds = p;
  bool has_mss = false, has_ws = false;
  uint16_t mss = 0;
  uint8_t ws = 0;
  size_t i = 0;
  while (i < len) {
    uint8_t kind = opt[i];
    if (p != kinds) *p++ = '-';
    p = put_dec(p, kind);
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
  auto put_or_00 = [&](bool present, uint64_t v) {
    if (present) return put_dec(p, v);
    p[0] = p[1] = '0';
    return p + 2;
  };
  if (p == kinds) p = put_or_00(false, 0);
  *p++ = '_';
  p = put_or_00(has_mss, mss);
  *p++ = '_';
  p = put_or_00(has_ws, ws);
  out.resize(static_cast<size_t>(p - buf));
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

// "<half round trip>_<ttl>" without temporaries (fits the string's SSO buffer).
std::string format_ja4l(int64_t half_rtt, uint8_t ttl) {
  char buf[32];
  char* p = std::to_chars(buf, buf + 21, half_rtt).ptr;
  *p++ = '_';
  p = put_dec(p, ttl);
  return std::string(buf, static_cast<size_t>(p - buf));
}

std::string Ja4LTracker::client() const { return format_ja4l((t_ack_ - t_synack_) / 2, client_ttl_); }
std::string Ja4LTracker::server() const { return format_ja4l((t_synack_ - t_syn_) / 2, server_ttl_); }

}  // namespace ja4
