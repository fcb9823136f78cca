// Writes classic pcap files (LINKTYPE_ETHERNET, microsecond timestamps) and
// builds the Ethernet/IPv4/IPv6/TCP/UDP frames in them. Used by the tests to
// craft exact edge cases, by the pcap benchmark's generator and by the
// traffic simulator. Checksums are left zero: nothing downstream checks them.
import { closeSync, openSync, writeSync } from 'node:fs';
import { isIPv4 } from 'node:net';

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

/** Windows 10's SYN options: MSS 1460, NOP, WS 8, NOP, NOP, SACK permitted. */
export const WINDOWS_SYN_OPTIONS = Buffer.from([2, 4, 0x05, 0xb4, 1, 3, 3, 8, 1, 1, 4, 2]);
/** Linux's SYN options: MSS 1460, SACK permitted, timestamps, NOP, WS 7. */
export const LINUX_SYN_OPTIONS = Buffer.from([2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7]);

function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map(Number));
  // Expand "::" then write 8 groups.
  const [head, tail] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const h = head ? head.split(':') : [];
  const tl = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g || '0', 16), i * 2));
  return b;
}

export interface Endpoint {
  ip: string;
  port: number;
}

export interface TcpSegmentSpec {
  src: Endpoint;
  dst: Endpoint;
  seq: number;
  ack: number;
  flags: number;
  window?: number;
  options?: Buffer;
  payload?: Buffer;
  ttl?: number;
}

const ETH_HEADER = Buffer.from([0, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0x66, 0x77, 0x88, 0x99, 0xaa]);

function ipFrame(src: string, dst: string, proto: number, ttl: number, l4: Buffer): Buffer {
  const v4 = isIPv4(src);
  const eth = Buffer.alloc(14);
  ETH_HEADER.copy(eth);
  eth.writeUInt16BE(v4 ? 0x0800 : 0x86dd, 12);
  if (v4) {
    const ip = Buffer.alloc(20);
    ip[0] = 0x45;
    ip.writeUInt16BE(20 + l4.length, 2);
    ip.writeUInt16BE(0x4000, 6); // DF
    ip[8] = ttl;
    ip[9] = proto;
    ipBytes(src).copy(ip, 12);
    ipBytes(dst).copy(ip, 16);
    return Buffer.concat([eth, ip, l4]);
  }
  const ip = Buffer.alloc(40);
  ip[0] = 0x60;
  ip.writeUInt16BE(l4.length, 4);
  ip[6] = proto;
  ip[7] = ttl;
  ipBytes(src).copy(ip, 8);
  ipBytes(dst).copy(ip, 24);
  return Buffer.concat([eth, ip, l4]);
}

export function tcpFrame(s: TcpSegmentSpec): Buffer {
  let opts = s.options ?? Buffer.alloc(0);
  if (opts.length % 4) opts = Buffer.concat([opts, Buffer.alloc(4 - (opts.length % 4))]);
  const payload = s.payload ?? Buffer.alloc(0);
  const tcp = Buffer.alloc(20 + opts.length);
  tcp.writeUInt16BE(s.src.port, 0);
  tcp.writeUInt16BE(s.dst.port, 2);
  tcp.writeUInt32BE(s.seq >>> 0, 4);
  tcp.writeUInt32BE(s.ack >>> 0, 8);
  tcp[12] = ((20 + opts.length) / 4) << 4;
  tcp[13] = s.flags;
  tcp.writeUInt16BE(s.window ?? 64240, 14);
  opts.copy(tcp, 20);
  return ipFrame(s.src.ip, s.dst.ip, 6, s.ttl ?? 64, Buffer.concat([tcp, payload]));
}

export function udpFrame(src: Endpoint, dst: Endpoint, payload: Buffer, ttl = 64): Buffer {
  const udp = Buffer.alloc(8);
  udp.writeUInt16BE(src.port, 0);
  udp.writeUInt16BE(dst.port, 2);
  udp.writeUInt16BE(8 + payload.length, 4);
  return ipFrame(src.ip, dst.ip, 17, ttl, Buffer.concat([udp, payload]));
}

/** Buffered pcap file writer. */
export class PcapWriter {
  private fd: number;
  private chunks: Buffer[] = [];
  private pending = 0;
  packets = 0;

  constructor(path: string, linktype = 1) {
    this.fd = openSync(path, 'w');
    const h = Buffer.alloc(24);
    h.writeUInt32LE(0xa1b2c3d4, 0);
    h.writeUInt16LE(2, 4);
    h.writeUInt16LE(4, 6);
    h.writeUInt32LE(262144, 16);
    h.writeUInt32LE(linktype, 20);
    writeSync(this.fd, h);
  }

  /** Appends a frame captured at tsUs (microseconds since the epoch). */
  write(frame: Buffer, tsUs: number): void {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(Math.floor(tsUs / 1e6), 0);
    h.writeUInt32LE(Math.floor(tsUs % 1e6), 4);
    h.writeUInt32LE(frame.length, 8);
    h.writeUInt32LE(frame.length, 12);
    this.chunks.push(h, frame);
    this.pending += 16 + frame.length;
    this.packets++;
    if (this.pending > 1 << 20) this.flush();
  }

  flush(): void {
    if (this.pending === 0) return;
    writeSync(this.fd, Buffer.concat(this.chunks, this.pending));
    this.chunks = [];
    this.pending = 0;
  }

  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

/**
 * A TCP connection being written: keeps both sides' sequence numbers so
 * callers only say who sends what.
 */
export class TcpConversation {
  private seq: [number, number];
  constructor(
    private readonly w: PcapWriter,
    readonly client: Endpoint,
    readonly server: Endpoint,
    public tsUs: number,
    isn: [number, number] = [1000, 5000],
  ) {
    this.seq = [isn[0], isn[1]];
  }

  private frame(fromClient: boolean, flags: number, payload?: Buffer, extra: Partial<TcpSegmentSpec> = {}): Buffer {
    const i: 0 | 1 = fromClient ? 0 : 1;
    return tcpFrame({
      src: fromClient ? this.client : this.server,
      dst: fromClient ? this.server : this.client,
      seq: this.seq[i],
      ack: flags & TCP_ACK ? this.seq[i === 0 ? 1 : 0] : 0,
      flags,
      payload,
      ...extra,
    });
  }

  /** Writes a segment and advances the sender's sequence number. */
  packet(fromClient: boolean, flags: number, payload?: Buffer, extra: Partial<TcpSegmentSpec> = {}, dtUs = 100): void {
    this.tsUs += dtUs;
    this.w.write(this.frame(fromClient, flags, payload, extra), this.tsUs);
    const i: 0 | 1 = fromClient ? 0 : 1;
    this.seq[i] = (this.seq[i] + (payload?.length ?? 0) + (flags & (TCP_SYN | TCP_FIN) ? 1 : 0)) >>> 0;
  }

  handshake(synOptions: Buffer = WINDOWS_SYN_OPTIONS, synAckOptions: Buffer = LINUX_SYN_OPTIONS): void {
    this.packet(true, TCP_SYN, undefined, { options: synOptions, window: 64240 });
    this.packet(false, TCP_SYN | TCP_ACK, undefined, { options: synAckOptions, window: 65160 });
    this.packet(true, TCP_ACK);
  }

  /** Sends data, split into segments of at most `mss` bytes. */
  send(fromClient: boolean, data: Buffer, mss = 1460): void {
    for (let off = 0; off < data.length; off += mss) {
      this.packet(fromClient, TCP_ACK | TCP_PSH, data.subarray(off, off + mss));
    }
  }

  /** Current next sequence number of one side (for crafting odd segments by hand). */
  nextSeq(fromClient: boolean): number {
    return this.seq[fromClient ? 0 : 1];
  }

  /** Writes a segment at an explicit sequence number without advancing state. */
  raw(fromClient: boolean, seq: number, payload: Buffer, flags = TCP_ACK | TCP_PSH, dtUs = 100): void {
    this.tsUs += dtUs;
    this.w.write(this.frame(fromClient, flags, payload, { seq }), this.tsUs);
  }

  /** Moves the sender's sequence number past data written with raw(). */
  advance(fromClient: boolean, bytes: number): void {
    const i: 0 | 1 = fromClient ? 0 : 1;
    this.seq[i] = (this.seq[i] + bytes) >>> 0;
  }

  close(): void {
    this.packet(true, TCP_FIN | TCP_ACK);
    this.packet(false, TCP_FIN | TCP_ACK);
    this.packet(true, TCP_ACK);
  }
}
