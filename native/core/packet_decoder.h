// Link layer -> IP -> TCP/UDP decoding of one captured frame.
//
// Each layer checks its length, trims its header and hands the rest to the
// next one; a short or odd frame increments a named counter and yields
// `false`, never an exception. Tunnels (GRE, ERSPAN, VXLAN, Geneve, IP-in-IP,
// IPv6-in-IPv4) are followed so that the flow reported is the inner one,
// while the TTL kept for JA4L is the outermost IP header's: that is the hop
// count the sensor itself observed.
#pragma once

#include <cstddef>
#include <cstdint>

#include "counters.h"

namespace ja4 {

// libpcap DLT_/LINKTYPE_ values we decode.
enum LinkType : int {
  kLinkNull = 0,          // BSD loopback: 4-byte host-order address family
  kLinkEthernet = 1,
  kLinkRaw = 101,         // raw IPv4/IPv6
  kLinkRawAlt = 12,       // DLT_RAW on some BSDs
  kLinkLoop = 108,        // OpenBSD loopback: 4-byte network-order family
  kLinkLinuxSll = 113,
  kLinkIPv4 = 228,
  kLinkIPv6 = 229,
  kLinkLinuxSll2 = 276,
};

struct IpAddress {
  uint8_t version = 0;  // 4 or 6
  uint8_t bytes[16] = {};
};

struct DecodedPacket {
  IpAddress src, dst;
  uint8_t ttl = 0;           // outermost IP TTL / hop limit
  uint8_t protocol = 0;      // 6 = TCP, 17 = UDP
  uint16_t src_port = 0, dst_port = 0;
  bool tunneled = false;
  // TCP only
  uint32_t seq = 0, ack = 0;
  uint8_t tcp_flags = 0;
  uint16_t tcp_flags12 = 0;  // the 12-bit flags field (NS and reserved bits included)
  uint16_t window = 0;
  const uint8_t* tcp_options = nullptr;
  uint8_t tcp_options_len = 0;
  // Transport payload (TCP segment data or UDP datagram)
  const uint8_t* payload = nullptr;
  uint32_t payload_len = 0;
  // Set (and decode_packet returns false) when the IP packet is a fragment:
  // the engine reassembles it (ip_defrag) and decodes the whole datagram.
  struct Fragment {
    bool present = false;
    uint32_t id = 0;            // IPv4 identification / IPv6 fragment id
    uint32_t offset = 0;        // in bytes
    bool more = false;          // more fragments follow
    uint8_t protocol = 0;       // next protocol of the reassembled payload
    const uint8_t* data = nullptr;  // this fragment's payload
    uint32_t len = 0;
  } fragment;
};

enum TcpFlag : uint8_t {
  kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20,
};

// Decodes one frame. Returns true when a TCP or UDP packet was found; the
// views in `out` point into `data`.
bool decode_packet(int linktype, const uint8_t* data, size_t caplen, DecodedPacket& out,
                   Counters& counters);

// True for link types decode_packet understands.
bool linktype_supported(int linktype);

}  // namespace ja4
