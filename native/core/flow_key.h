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

  // Five words compared inline: a call to memcmp per packet cost more than
  // the comparison.
  // (Word by word: copying both keys into word arrays first made the
  // compiler spill them to the stack and read them back.)
  bool operator==(const FlowKey& o) const {
    return ((word(0) ^ o.word(0)) | (word(1) ^ o.word(1)) | (word(2) ^ o.word(2)) | (word(3) ^ o.word(3)) |
            (word(4) ^ o.word(4))) == 0;
  }
  uint64_t word(size_t i) const {
    uint64_t w;
    std::memcpy(&w, reinterpret_cast<const char*>(this) + 8 * i, 8);
    return w;
  }
};
static_assert(sizeof(FlowKey) == 40, "FlowKey is hashed as five 64-bit words");

// memcmp(a, b, 16)'s sign (byte-wise order), as two big-endian word compares.
inline int compare_address(const uint8_t* a, const uint8_t* b) {
  uint64_t a0, a1, b0, b1;
  std::memcpy(&a0, a, 8);
  std::memcpy(&a1, a + 8, 8);
  std::memcpy(&b0, b, 8);
  std::memcpy(&b1, b + 8, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  a0 = __builtin_bswap64(a0);
  a1 = __builtin_bswap64(a1);
  b0 = __builtin_bswap64(b0);
  b1 = __builtin_bswap64(b1);
#endif
  if (a0 != b0) return a0 < b0 ? -1 : 1;
  if (a1 != b1) return a1 < b1 ? -1 : 1;
  return 0;
}

// Builds the canonical key; `from_a` tells whether the packet's source is
// endpoint a.
inline FlowKey make_flow_key(const DecodedPacket& p, bool& from_a) {
  FlowKey k;
  int c = compare_address(p.src.bytes, p.dst.bytes);
  from_a = c < 0 || (c == 0 && p.src_port <= p.dst_port);
  const IpAddress& a = from_a ? p.src : p.dst;
  const IpAddress& b = from_a ? p.dst : p.src;
  uint16_t port_a = from_a ? p.src_port : p.dst_port;
  uint16_t port_b = from_a ? p.dst_port : p.src_port;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  // Written as five whole words: hash_flow_key and operator== read the key
  // back as words, and a word read over several narrower stores (ports,
  // version, protocol, pad) cannot be forwarded from the store buffer: the
  // CPU stalls on every packet until those stores reach the cache.
  uint64_t w[5];
  // Word loads matching the decoder's word stores (see decode_packet).
  std::memcpy(&w[0], a.bytes, 8);
  std::memcpy(&w[1], a.bytes + 8, 8);
  std::memcpy(&w[2], b.bytes, 8);
  std::memcpy(&w[3], b.bytes + 8, 8);
  w[4] = uint64_t(port_a) | (uint64_t(port_b) << 16) | (uint64_t(p.src.version) << 32) |
         (uint64_t(p.protocol) << 40);
  std::memcpy(&k, w, sizeof w);
#else
  std::memset(&k, 0, sizeof k);
  k.version = p.src.version;
  k.protocol = p.protocol;
  std::memcpy(k.addr_a, a.bytes, 16);
  std::memcpy(k.addr_b, b.bytes, 16);
  k.port_a = port_a;
  k.port_b = port_b;
#endif
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
