#include "packet_decoder.h"

#include <cstring>

#include "byte_reader.h"

namespace ja4 {

namespace {

constexpr uint16_t kEtherIPv4 = 0x0800;
constexpr uint16_t kEtherIPv6 = 0x86dd;
constexpr uint16_t kEtherVlan = 0x8100;
constexpr uint16_t kEtherQinQ = 0x88a8;
constexpr uint16_t kEtherQinQOld = 0x9100;
constexpr uint16_t kEtherTransparentBridging = 0x6558;  // Ethernet in GRE (NVGRE)
constexpr uint16_t kEtherErspan2 = 0x88be;              // ERSPAN type I and II
constexpr uint16_t kEtherErspan3 = 0x22eb;              // ERSPAN type III
constexpr uint16_t kVxlanPort = 4789;
constexpr uint16_t kGenevePort = 6081;
constexpr int kMaxTunnelDepth = 4;

// BSD loopback address families for IPv6 differ per OS (24 NetBSD/OpenBSD,
// 28 FreeBSD, 30 macOS).
bool bsd_family_is_ipv6(uint32_t af) { return af == 24 || af == 28 || af == 30; }

class Decoder {
 public:
  Decoder(DecodedPacket& out, Counters& c) : out_(out), c_(c) {}

  bool link(int linktype, ByteReader r) {
    switch (linktype) {
      case kLinkEthernet: return ethernet(r);
      case kLinkNull: case kLinkLoop: {
        if (r.remaining() < 4) return fail(c_.truncated_link);
        const uint8_t* p = r.data();
        // DLT_NULL stores the family in host byte order of the capturing
        // machine: accept either order.
        uint32_t le = p[0] | (p[1] << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
        uint32_t be = (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (p[2] << 8) | p[3];
        r.skip(4);
        if (le == 2 || be == 2) return ipv4(r);
        if (bsd_family_is_ipv6(le) || bsd_family_is_ipv6(be)) return ipv6(r);
        return fail(c_.non_ip);
      }
      case kLinkRaw: case kLinkRawAlt: return raw_ip(r);
      case kLinkIPv4: return ipv4(r);
      case kLinkIPv6: return ipv6(r);
      case kLinkLinuxSll: {
        // packet type(2) arphrd(2) addr len(2) addr(8) protocol(2)
        if (r.remaining() < 16) return fail(c_.truncated_link);
        r.skip(14);
        return ethertype(r.u16(), r);
      }
      case kLinkLinuxSll2: {
        // protocol(2) reserved(2) ifindex(4) arphrd(2) pkttype(1) addrlen(1) addr(8)
        if (r.remaining() < 20) return fail(c_.truncated_link);
        uint16_t proto = r.u16();
        r.skip(18);
        return ethertype(proto, r);
      }
      default: return fail(c_.unsupported_linktype);
    }
  }

 private:
  bool fail(uint64_t& counter) {
    ++counter;
    return false;
  }

  bool ethernet(ByteReader r) {
    if (r.remaining() < 14) return fail(c_.truncated_link);
    r.skip(12);
    return ethertype(r.u16(), r);
  }

  bool ethertype(uint16_t type, ByteReader r) {
    // 802.1Q and QinQ: any number of 4-byte tags, each followed by the next type.
    for (int tags = 0; type == kEtherVlan || type == kEtherQinQ || type == kEtherQinQOld; ++tags) {
      if (tags > 8 || r.remaining() < 4) return fail(c_.truncated_link);
      r.skip(2);
      type = r.u16();
    }
    if (type == kEtherIPv4) return ipv4(r);
    if (type == kEtherIPv6) return ipv6(r);
    return fail(c_.non_ip);
  }

  bool raw_ip(ByteReader r) {
    if (r.empty()) return fail(c_.truncated_ip);
    uint8_t v = r.data()[0] >> 4;
    if (v == 4) return ipv4(r);
    if (v == 6) return ipv6(r);
    return fail(c_.bad_ip_header);
  }

  void set_address(IpAddress& a, uint8_t version, const uint8_t* p) {
    a.version = version;
    std::memset(a.bytes, 0, sizeof a.bytes);
    std::memcpy(a.bytes, p, version == 4 ? 4 : 16);
  }

  bool ipv4(ByteReader r) {
    if (r.remaining() < 20) return fail(c_.truncated_ip);
    const uint8_t* h = r.data();
    if ((h[0] >> 4) != 4) return fail(c_.bad_ip_header);
    size_t ihl = size_t(h[0] & 0x0f) * 4;
    if (ihl < 20) return fail(c_.bad_ip_header);
    if (r.remaining() < ihl) return fail(c_.truncated_ip);
    size_t total = (size_t(h[2]) << 8) | h[3];
    // Trust the IP total length over the capture (Ethernet pads short frames),
    // but never beyond what was captured; 0 happens with TSO captures.
    size_t avail = r.remaining();
    if (total < ihl || total > avail) total = avail;
    note_ip(4, h + 12, h + 16, h[8]);
    uint16_t frag = static_cast<uint16_t>((h[6] << 8) | h[7]);
    ByteReader payload(h + ihl, total - ihl);
    // RFC 791: MF flag 0x2000, fragment offset in 8-byte units.
    if (frag & 0x3fff)
      return fragment(uint32_t((h[4] << 8) | h[5]), uint32_t(frag & 0x1fff) * 8, frag & 0x2000, h[9], payload);
    return transport(h[9], payload);
  }

  bool ipv6(ByteReader r) {
    if (r.remaining() < 40) return fail(c_.truncated_ip);
    const uint8_t* h = r.data();
    if ((h[0] >> 4) != 6) return fail(c_.bad_ip_header);
    size_t plen = (size_t(h[4]) << 8) | h[5];
    note_ip(6, h + 8, h + 24, h[7]);
    r.skip(40);
    size_t avail = r.remaining();
    // plen 0 is a jumbogram or TSO capture: use what was captured.
    if (plen == 0 || plen > avail) plen = avail;
    ByteReader p(r.data(), plen);
    uint8_t next = h[6];
    // RFC 8200 4.1: extension headers in a chain, each starting with
    // Next Header and (except Fragment) a length in 8-octet units.
    for (int i = 0; i < 16; ++i) {
      switch (next) {
        case 0: case 43: case 60: case 135: case 139: case 140: {  // HBH, routing, dest opts, mobility, HIP, shim6
          if (p.remaining() < 8) return fail(c_.truncated_ipv6_ext);
          uint8_t nh = p.data()[0];
          size_t len = (size_t(p.data()[1]) + 1) * 8;
          if (p.remaining() < len) return fail(c_.truncated_ipv6_ext);
          p.skip(len);
          next = nh;
          continue;
        }
        case 44: {  // Fragment (RFC 8200 4.5): fixed 8 bytes
          if (p.remaining() < 8) return fail(c_.truncated_ipv6_ext);
          const uint8_t* fh = p.data();
          uint16_t off_m = static_cast<uint16_t>((fh[2] << 8) | fh[3]);
          uint32_t id = (uint32_t(fh[4]) << 24) | (uint32_t(fh[5]) << 16) | (uint32_t(fh[6]) << 8) | fh[7];
          p.skip(8);
          // An atomic fragment (offset 0, M clear) is a whole datagram.
          if ((off_m & 0xfff9) == 0) {
            next = fh[0];
            continue;
          }
          return fragment(id, uint32_t(off_m >> 3) * 8, off_m & 1, fh[0], p);
        }
        case 51: {  // AH: length in 4-octet units, minus 2
          if (p.remaining() < 8) return fail(c_.truncated_ipv6_ext);
          uint8_t nh = p.data()[0];
          size_t len = (size_t(p.data()[1]) + 2) * 4;
          if (p.remaining() < len) return fail(c_.truncated_ipv6_ext);
          p.skip(len);
          next = nh;
          continue;
        }
        default:
          return transport(next, p);
      }
    }
    return fail(c_.truncated_ipv6_ext);
  }

  // Records the addresses of the current (innermost so far) IP header; the
  // TTL is only taken from the outermost one.
  void note_ip(uint8_t version, const uint8_t* src, const uint8_t* dst, uint8_t ttl) {
    ++c_.ip_packets;
    set_address(out_.src, version, src);
    set_address(out_.dst, version, dst);
    if (depth_ == 0) out_.ttl = ttl;
  }

  bool fragment(uint32_t id, uint32_t offset, bool more, uint8_t proto, ByteReader data) {
    ++c_.ip_fragments;
    auto& fr = out_.fragment;
    fr.present = true;
    fr.id = id;
    fr.offset = offset;
    fr.more = more;
    fr.protocol = proto;
    fr.data = data.data();
    fr.len = static_cast<uint32_t>(data.remaining());
    return false;
  }

  bool enter_tunnel() {
    if (++depth_ > kMaxTunnelDepth) return fail(c_.tunnel_too_deep);
    out_.tunneled = true;
    return true;
  }

  bool transport(uint8_t proto, ByteReader r) {
    switch (proto) {
      case 6: return tcp(r);
      case 17: return udp(r);
      case 4: return enter_tunnel() && ++c_.tunneled_packets && ipv4(r);   // IP-in-IP
      case 41: return enter_tunnel() && ++c_.tunneled_packets && ipv6(r);  // IPv6-in-IPv4 (6in4)
      case 47: return enter_tunnel() && gre(r);
      default: return false;  // ICMP, ESP, ...: not ours, not an error
    }
  }

  bool gre(ByteReader r) {
    // RFC 2784/2890: flags(2) protocol(2) [checksum+reserved(4)] [key(4)] [seq(4)]
    if (r.remaining() < 4) return fail(c_.bad_tunnel_header);
    uint16_t flags = r.u16();
    uint16_t proto = r.u16();
    size_t opt = 0;
    if (flags & 0x8000) opt += 4;  // C
    if (flags & 0x2000) opt += 4;  // K
    if (flags & 0x1000) opt += 4;  // S
    if (r.remaining() < opt) return fail(c_.bad_tunnel_header);
    r.skip(opt);
    ++c_.tunneled_packets;
    switch (proto) {
      case kEtherIPv4: return ipv4(r);
      case kEtherIPv6: return ipv6(r);
      case kEtherTransparentBridging: return ethernet(r);
      case kEtherErspan2:
        // ERSPAN type I has no sequence number (S bit clear) and no header;
        // type II carries an 8-byte ERSPAN header.
        if (flags & 0x1000) {
          if (r.remaining() < 8) return fail(c_.bad_tunnel_header);
          r.skip(8);
        }
        return ethernet(r);
      case kEtherErspan3: {
        // Type III: 12-byte header, plus an 8-byte platform sub-header when O is set.
        if (r.remaining() < 12) return fail(c_.bad_tunnel_header);
        bool o = r.data()[11] & 0x01;
        r.skip(12);
        if (o) {
          if (r.remaining() < 8) return fail(c_.bad_tunnel_header);
          r.skip(8);
        }
        return ethernet(r);
      }
      default: return fail(c_.bad_tunnel_header);
    }
  }

  bool tcp(ByteReader r) {
    if (r.remaining() < 20) return fail(c_.truncated_tcp);
    const uint8_t* h = r.data();
    size_t off = size_t(h[12] >> 4) * 4;
    if (off < 20) return fail(c_.bad_tcp_header);
    if (r.remaining() < off) return fail(c_.truncated_tcp);
    ++c_.tcp_packets;
    out_.protocol = 6;
    out_.src_port = static_cast<uint16_t>((h[0] << 8) | h[1]);
    out_.dst_port = static_cast<uint16_t>((h[2] << 8) | h[3]);
    out_.seq = (uint32_t(h[4]) << 24) | (uint32_t(h[5]) << 16) | (uint32_t(h[6]) << 8) | h[7];
    out_.ack = (uint32_t(h[8]) << 24) | (uint32_t(h[9]) << 16) | (uint32_t(h[10]) << 8) | h[11];
    out_.tcp_flags = h[13];
    out_.tcp_flags12 = static_cast<uint16_t>(((h[12] & 0x0f) << 8) | h[13]);
    out_.window = static_cast<uint16_t>((h[14] << 8) | h[15]);
    out_.tcp_options = h + 20;
    out_.tcp_options_len = static_cast<uint8_t>(off - 20);
    out_.payload = h + off;
    out_.payload_len = static_cast<uint32_t>(r.remaining() - off);
    return true;
  }

  bool udp(ByteReader r) {
    if (r.remaining() < 8) return fail(c_.truncated_udp);
    const uint8_t* h = r.data();
    uint16_t sport = static_cast<uint16_t>((h[0] << 8) | h[1]);
    uint16_t dport = static_cast<uint16_t>((h[2] << 8) | h[3]);
    size_t len = (size_t(h[4]) << 8) | h[5];
    size_t avail = r.remaining();
    if (len < 8 || len > avail) len = avail;
    ByteReader payload(h + 8, len - 8);
    // VXLAN (RFC 7348) and Geneve (RFC 8926) carry Ethernet frames over UDP.
    if (dport == kVxlanPort && payload.remaining() >= 8 && (payload.data()[0] & 0x08)) {
      if (!enter_tunnel()) return false;
      ++c_.tunneled_packets;
      payload.skip(8);
      return ethernet(payload);
    }
    if (dport == kGenevePort && payload.remaining() >= 8) {
      const uint8_t* g = payload.data();
      size_t opt_len = size_t(g[0] & 0x3f) * 4;
      uint16_t proto = static_cast<uint16_t>((g[2] << 8) | g[3]);
      if ((g[0] >> 6) == 0 && payload.remaining() >= 8 + opt_len) {
        if (!enter_tunnel()) return false;
        ++c_.tunneled_packets;
        payload.skip(8 + opt_len);
        if (proto == kEtherTransparentBridging) return ethernet(payload);
        return ethertype(proto, payload);
      }
    }
    ++c_.udp_packets;
    out_.protocol = 17;
    out_.src_port = sport;
    out_.dst_port = dport;
    out_.payload = payload.data();
    out_.payload_len = static_cast<uint32_t>(payload.remaining());
    return true;
  }

  DecodedPacket& out_;
  Counters& c_;
  int depth_ = 0;
};

}  // namespace

bool linktype_supported(int linktype) {
  switch (linktype) {
    case kLinkNull: case kLinkEthernet: case kLinkRaw: case kLinkRawAlt: case kLinkLoop:
    case kLinkLinuxSll: case kLinkIPv4: case kLinkIPv6: case kLinkLinuxSll2:
      return true;
    default:
      return false;
  }
}

namespace {

// The common frame, Ethernet + IPv4 (no options, not a fragment) or IPv6
// (no extension headers) + TCP or plain UDP, decoded in one straight pass.
// Anything else, including every short or odd header, returns false before
// writing anything, and the general Decoder takes the frame from the start
// (and counts what is wrong with it). The results are the Decoder's exactly.
bool decode_common(int linktype, const uint8_t* data, size_t caplen, DecodedPacket& out,
                   Counters& c) {
  if (linktype != kLinkEthernet || caplen < 14 + 20) return false;
  const uint8_t* h = data + 14;
  size_t avail = caplen - 14;
  uint16_t ethertype = static_cast<uint16_t>((data[12] << 8) | data[13]);
  uint8_t version, proto, ttl;
  const uint8_t *src, *dst, *l4;
  size_t l4_len;
  if (ethertype == kEtherIPv4) {
    if (h[0] != 0x45) return false;  // version 4, 20-byte header
    if (((h[6] << 8) | h[7]) & 0x3fff) return false;  // a fragment
    size_t total = (size_t(h[2]) << 8) | h[3];
    if (total < 20 || total > avail) total = avail;
    version = 4;
    proto = h[9];
    ttl = h[8];
    src = h + 12;
    dst = h + 16;
    l4 = h + 20;
    l4_len = total - 20;
  } else if (ethertype == kEtherIPv6) {
    if (avail < 40 || (h[0] >> 4) != 6) return false;
    size_t plen = (size_t(h[4]) << 8) | h[5];
    size_t rest = avail - 40;
    if (plen == 0 || plen > rest) plen = rest;
    version = 6;
    proto = h[6];
    ttl = h[7];
    src = h + 8;
    dst = h + 24;
    l4 = h + 40;
    l4_len = plen;
  } else {
    return false;
  }
  const uint8_t* t = l4;
  if (proto == 6) {
    if (l4_len < 20) return false;
    size_t off = size_t(t[12] >> 4) * 4;
    if (off < 20 || l4_len < off) return false;
    out.protocol = 6;
    out.seq = (uint32_t(t[4]) << 24) | (uint32_t(t[5]) << 16) | (uint32_t(t[6]) << 8) | t[7];
    out.ack = (uint32_t(t[8]) << 24) | (uint32_t(t[9]) << 16) | (uint32_t(t[10]) << 8) | t[11];
    out.tcp_flags = t[13];
    out.tcp_flags12 = static_cast<uint16_t>(((t[12] & 0x0f) << 8) | t[13]);
    out.window = static_cast<uint16_t>((t[14] << 8) | t[15]);
    out.tcp_options = t + 20;
    out.tcp_options_len = static_cast<uint8_t>(off - 20);
    out.payload = t + off;
    out.payload_len = static_cast<uint32_t>(l4_len - off);
    ++c.tcp_packets;
  } else if (proto == 17) {
    if (l4_len < 8) return false;
    uint16_t dport = static_cast<uint16_t>((t[2] << 8) | t[3]);
    if (dport == kVxlanPort || dport == kGenevePort) return false;  // maybe a tunnel
    size_t len = (size_t(t[4]) << 8) | t[5];
    if (len < 8 || len > l4_len) len = l4_len;
    out.protocol = 17;
    out.payload = t + 8;
    out.payload_len = static_cast<uint32_t>(len - 8);
    ++c.udp_packets;
  } else {
    return false;
  }
  out.src_port = static_cast<uint16_t>((t[0] << 8) | t[1]);
  out.dst_port = static_cast<uint16_t>((t[2] << 8) | t[3]);
  ++c.ip_packets;
  out.src.version = out.dst.version = version;
  // Each address stored as two whole words: the flow key reads it back as
  // words right away, and a load spanning several narrower stores (4
  // address bytes over the zeroed 16) cannot be forwarded from the store
  // buffer; it would stall until they reach the cache.
  auto store = [version](uint8_t* to, const uint8_t* from) {
    uint64_t lo = 0, hi = 0;
    if (version == 4) {
      uint32_t v;
      std::memcpy(&v, from, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
      lo = uint64_t(v) << 32;
#else
      lo = v;
#endif
    } else {
      std::memcpy(&lo, from, 8);
      std::memcpy(&hi, from + 8, 8);
    }
    std::memcpy(to, &lo, 8);
    std::memcpy(to + 8, &hi, 8);
  };
  store(out.src.bytes, src);
  store(out.dst.bytes, dst);
  out.ttl = ttl;
  return true;
}

}  // namespace

bool decode_packet(int linktype, const uint8_t* data, size_t caplen, DecodedPacket& out,
                   Counters& counters) {
  out = DecodedPacket{};
  if (decode_common(linktype, data, caplen, out, counters)) return true;
  // decode_common wrote nothing when it declined: out is still fresh.
  Decoder d(out, counters);
  return d.link(linktype, ByteReader(data, caplen));
}

}  // namespace ja4
