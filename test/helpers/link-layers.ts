// Link-layer and tunnel encapsulations for the decoder tests. pcap-writer
// builds Ethernet frames; these functions turn such a frame into the same
// IP packet under another link type (Linux SLL/SLL2, raw IP, BSD loopback),
// with VLAN tags, or wrapped in a tunnel (GRE, VXLAN, IP-in-IP, 6in4).
// Byte layouts follow the tcpdump.org link-layer header types page and the
// tunnel RFCs (GRE 2784/2890, VXLAN 7348, IPv6 extension headers 8200).
import { PcapWriter } from '../../src/capture/pcap-writer.js';

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_IPV6 = 0x86dd;

const u16 = (n: number) => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};

/** The IP packet inside an Ethernet frame from pcap-writer (no VLAN tags). */
export function ipOf(ethFrame: Buffer): Buffer {
  return ethFrame.subarray(14);
}

/** The ethertype for an IP packet, from its version nibble. */
export function ethertypeOf(ip: Buffer): number {
  return ip[0]! >> 4 === 6 ? ETHERTYPE_IPV6 : ETHERTYPE_IPV4;
}

const MAC_DST = Buffer.from([0x02, 0, 0, 0, 0, 0x02]);
const MAC_SRC = Buffer.from([0x02, 0, 0, 0, 0, 0x01]);

/** Ethernet II frame; each tag is [TPID, TCI] inserted before the final ethertype. */
export function ethernet(ip: Buffer, tags: [number, number][] = []): Buffer {
  const tagBytes = tags.map(([tpid, tci]) => Buffer.concat([u16(tpid), u16(tci)]));
  return Buffer.concat([MAC_DST, MAC_SRC, ...tagBytes, u16(ethertypeOf(ip)), ip]);
}

/** LINKTYPE_LINUX_SLL (113): pkttype, ARPHRD, addr len, 8-byte addr, protocol. */
export function linuxSll(ip: Buffer): Buffer {
  const h = Buffer.alloc(16);
  h.writeUInt16BE(0, 0); // PACKET_HOST
  h.writeUInt16BE(1, 2); // ARPHRD_ETHER
  h.writeUInt16BE(6, 4);
  MAC_SRC.copy(h, 6);
  h.writeUInt16BE(ethertypeOf(ip), 14);
  return Buffer.concat([h, ip]);
}

/** LINKTYPE_LINUX_SLL2 (276): protocol, reserved, ifindex, ARPHRD, pkttype, addr len, 8-byte addr. */
export function linuxSll2(ip: Buffer): Buffer {
  const h = Buffer.alloc(20);
  h.writeUInt16BE(ethertypeOf(ip), 0);
  h.writeUInt32BE(3, 4); // interface index
  h.writeUInt16BE(1, 8); // ARPHRD_ETHER
  h[10] = 0; // PACKET_HOST
  h[11] = 6;
  MAC_SRC.copy(h, 12);
  return Buffer.concat([h, ip]);
}

/** LINKTYPE_NULL (0): the address family as a 4-byte integer in the capturing host's byte order. */
export function bsdNull(ip: Buffer, order: 'le' | 'be', ipv6Family = 30): Buffer {
  const h = Buffer.alloc(4);
  const family = ethertypeOf(ip) === ETHERTYPE_IPV6 ? ipv6Family : 2;
  if (order === 'le') h.writeUInt32LE(family);
  else h.writeUInt32BE(family);
  return Buffer.concat([h, ip]);
}

function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

/** A 20-byte IPv4 header (DF, checksum left zero) in front of payload. */
export function ipv4(src: string, dst: string, proto: number, payload: Buffer, ttl = 64, fragField = 0x4000): Buffer {
  const h = Buffer.alloc(20);
  h[0] = 0x45;
  h.writeUInt16BE(20 + payload.length, 2);
  h.writeUInt16BE(fragField, 6);
  h[8] = ttl;
  h[9] = proto;
  ipv4Bytes(src).copy(h, 12);
  ipv4Bytes(dst).copy(h, 16);
  return Buffer.concat([h, payload]);
}

export interface TunnelEnds {
  /** outer address on the client's side and on the server's side */
  clientSide: string;
  serverSide: string;
  ttl: number;
}

/** Picks the outer source/destination for an inner packet sent by `innerClientIp` or to it. */
function outerAddrs(inner: Buffer, innerClientIp: Buffer, ends: TunnelEnds): [string, string] {
  const v6 = inner[0]! >> 4 === 6;
  const src = v6 ? inner.subarray(8, 24) : inner.subarray(12, 16);
  return src.equals(innerClientIp) ? [ends.clientSide, ends.serverSide] : [ends.serverSide, ends.clientSide];
}

/** IPv4 carrying the inner IP packet: protocol 4 (IP-in-IP) or 41 (IPv6-in-IPv4). */
export function ipInIp(inner: Buffer, innerClientIp: Buffer, ends: TunnelEnds): Buffer {
  const [s, d] = outerAddrs(inner, innerClientIp, ends);
  return ipv4(s, d, ethertypeOf(inner) === ETHERTYPE_IPV6 ? 41 : 4, inner, ends.ttl);
}

/** IPv4 / GRE (RFC 2784, with the RFC 2890 key when given) / inner IP. */
export function gre(inner: Buffer, innerClientIp: Buffer, ends: TunnelEnds, key?: number): Buffer {
  const flags = key === undefined ? 0 : 0x2000;
  const parts = [u16(flags), u16(ethertypeOf(inner))];
  if (key !== undefined) {
    const k = Buffer.alloc(4);
    k.writeUInt32BE(key);
    parts.push(k);
  }
  const [s, d] = outerAddrs(inner, innerClientIp, ends);
  return ipv4(s, d, 47, Buffer.concat([...parts, inner]), ends.ttl);
}

/** IPv4 / UDP to port 4789 / VXLAN (I flag, VNI) / inner Ethernet frame. */
export function vxlan(innerEth: Buffer, innerClientIp: Buffer, ends: TunnelEnds, vni = 4242): Buffer {
  const vx = Buffer.alloc(8);
  vx[0] = 0x08;
  vx.writeUIntBE(vni, 4, 3);
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(49152 + (vni % 1000), 0);
  udp.writeUInt16BE(4789, 2);
  udp.writeUInt16BE(8 + vx.length + innerEth.length, 4);
  const [s, d] = outerAddrs(innerEth.subarray(14), innerClientIp, ends);
  return ipv4(s, d, 17, Buffer.concat([udp, vx, innerEth]), ends.ttl);
}

/**
 * Inserts IPv6 extension headers (RFC 8200 4.1) between the fixed header
 * and the upper layer: each entry is a header type (0 hop-by-hop, 60
 * destination options, ...) given 8 bytes with one PadN option.
 */
export function withIpv6Extensions(ip6: Buffer, types: number[]): Buffer {
  const fixed = Buffer.from(ip6.subarray(0, 40));
  const upper = ip6.subarray(40);
  const finalNext = fixed[6]!;
  const exts = types.map((_, i) => {
    const next = i + 1 < types.length ? types[i + 1]! : finalNext;
    return Buffer.from([next, 0, 1, 4, 0, 0, 0, 0]); // PadN covering the rest
  });
  fixed[6] = types[0]!;
  fixed.writeUInt16BE(upper.length + 8 * exts.length, 4);
  return Buffer.concat([fixed, ...exts, upper]);
}

/**
 * A pcap writer that re-encapsulates every Ethernet frame written to it, so
 * TcpConversation scripts can be reused unchanged under any link type.
 */
export class EncapsulatingWriter extends PcapWriter {
  constructor(
    path: string,
    linktype: number,
    private readonly encapsulate: (ethFrame: Buffer) => Buffer,
  ) {
    super(path, linktype);
  }

  override write(frame: Buffer, tsUs: number): void {
    super.write(this.encapsulate(frame), tsUs);
  }
}
