// The identity of a bidirectional flow: both endpoints in a canonical order,
// so that the two directions of one connection find the same entry.
#pragma once

#include <cstdint>
#include <cstring>

#include "packet_decoder.h"

namespace ja4 {

struct FlowKey {
  uint8_t addr_a[16];
  uint8_t addr_b[16];
  uint16_t port_a;
  uint16_t port_b;
  uint8_t version;
  uint8_t protocol;
  uint8_t pad[2];

  bool operator==(const FlowKey& o) const { return std::memcmp(this, &o, sizeof *this) == 0; }
};
static_assert(sizeof(FlowKey) == 40, "FlowKey is hashed as five 64-bit words");

// Builds the canonical key; `from_a` tells whether the packet's source is
// endpoint a.
inline FlowKey make_flow_key(const DecodedPacket& p, bool& from_a) {
  FlowKey k;
  std::memset(&k, 0, sizeof k);
  k.version = p.src.version;
  k.protocol = p.protocol;
  int c = std::memcmp(p.src.bytes, p.dst.bytes, 16);
  from_a = c < 0 || (c == 0 && p.src_port <= p.dst_port);
  const IpAddress& a = from_a ? p.src : p.dst;
  const IpAddress& b = from_a ? p.dst : p.src;
  std::memcpy(k.addr_a, a.bytes, 16);
  std::memcpy(k.addr_b, b.bytes, 16);
  k.port_a = from_a ? p.src_port : p.dst_port;
  k.port_b = from_a ? p.dst_port : p.src_port;
  return k;
}

inline uint64_t hash_flow_key(const FlowKey& k) {
  uint64_t w[5];
  std::memcpy(w, &k, sizeof w);
  // Multiply-xorshift mixing per word: cheap and good enough for a table
  // that an attacker can only fill, never grow past its cap.
  uint64_t h = 0x9e3779b97f4a7c15ULL;
  for (uint64_t x : w) {
    h ^= x;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 31;
  }
  return h;
}

}  // namespace ja4
