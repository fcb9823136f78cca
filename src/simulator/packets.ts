// The packets of one simulated TCP connection, as a capture point in front of
// the server sees them: the three-way handshake, the TLS hellos (or the
// cleartext HTTP requests), one segment per request and per response, and
// the close. The same plan gives the TLS event's packet count and times and
// the frames written with --pcap, so the two cannot disagree.
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_SYN, tcpFrame, type PcapWriter } from '../capture/pcap-writer.js';
import { SERVER_SYNACK, type TcpProfile } from './tcp-profiles.js';

export interface SimPacket {
  ts: number;
  fromClient: boolean;
  flags: number;
  payload?: Buffer;
}

export interface ConnEndpoints {
  clientIp: string;
  clientPort: number;
  serverIp: string;
  serverPort: number;
  /** the SYN's TTL as seen at the server (initial TTL minus hops) */
  clientTtl: number;
  tcp: TcpProfile;
}

/** Splits a payload into segments of at most mss bytes, 1 us apart. */
function segments(out: SimPacket[], ts: number, fromClient: boolean, data: Buffer, mss: number): number {
  for (let off = 0; off < data.length; off += mss) {
    out.push({ ts, fromClient, flags: TCP_ACK | TCP_PSH, payload: data.subarray(off, off + mss) });
    ts += 1;
  }
  return ts - 1;
}

export interface HandshakeTiming {
  /** SYN to SYN-ACK: the server's kernel (us) */
  synAckDelay: number;
  rtt: number;
  /** ACK to the first data the client sends (us) */
  clientDelay: number;
  /** ClientHello to the server's flight: the server's TLS work (us) */
  serverDelay: number;
}

export interface HandshakePlan {
  packets: SimPacket[];
  /** index in packets of the one after which the engine reports the flow */
  reportAt: number;
}

/**
 * SYN, SYN-ACK, ACK, the ClientHello (segmented by the client's MSS), the
 * server's flight. The engine reports a TLS flow once both hellos are parsed
 * and JA4L is complete (docs/engine.md, "When a record is produced"): at the
 * server segment that completes the ServerHello (TLS 1.3) or the
 * Certificate (TLS 1.2), `serverReportOffset` bytes into the flight.
 */
export function tlsHandshake(
  t0: number,
  tm: HandshakeTiming,
  tcp: TcpProfile,
  clientHello: Buffer,
  serverFlight: Buffer,
  serverReportOffset: number,
): HandshakePlan {
  const p: SimPacket[] = [];
  const mssToServer = Math.min(tcp.mss, SERVER_SYNACK.mss);
  const mssToClient = Math.min(tcp.mss, SERVER_SYNACK.mss);
  p.push({ ts: t0, fromClient: true, flags: TCP_SYN });
  const tSynAck = t0 + tm.synAckDelay;
  p.push({ ts: tSynAck, fromClient: false, flags: TCP_SYN | TCP_ACK });
  const tAck = tSynAck + tm.rtt;
  p.push({ ts: tAck, fromClient: true, flags: TCP_ACK });
  const tChEnd = segments(p, tAck + tm.clientDelay, true, clientHello, mssToServer);
  const first = p.length;
  segments(p, tChEnd + tm.serverDelay, false, serverFlight, mssToClient);
  const reportAt = first + Math.floor((serverReportOffset - 1) / mssToClient);
  return { packets: p, reportAt };
}

/** SYN, SYN-ACK, ACK of a cleartext connection. */
export function plainHandshake(t0: number, tm: HandshakeTiming): SimPacket[] {
  const tSynAck = t0 + tm.synAckDelay;
  return [
    { ts: t0, fromClient: true, flags: TCP_SYN },
    { ts: tSynAck, fromClient: false, flags: TCP_SYN | TCP_ACK },
    { ts: tSynAck + tm.rtt, fromClient: true, flags: TCP_ACK },
  ];
}

/** The orderly close: the closer's FIN, the peer's FIN-ACK, the last ACK. */
export function closePackets(ts: number, byClient: boolean, rtt: number): SimPacket[] {
  // At the server: a client's FIN is answered at once and the last ACK comes
  // a round trip later; the server's own FIN waits a round trip for the
  // client's FIN, then is ACKed at once.
  const first: SimPacket = { ts, fromClient: byClient, flags: TCP_FIN | TCP_ACK };
  const second: SimPacket = { ts: ts + (byClient ? 30 : rtt), fromClient: !byClient, flags: TCP_FIN | TCP_ACK };
  const third: SimPacket = { ts: ts + (byClient ? 30 + rtt : rtt + 30), fromClient: byClient, flags: TCP_ACK };
  return [first, second, third];
}

/**
 * Writes a connection's packets to a pcap: keeps both sides' sequence
 * numbers, so the engine reassembles the streams exactly as a capture's.
 */
export class PcapConnectionWriter {
  private seqC: number;
  private seqS: number;

  constructor(
    private readonly w: PcapWriter,
    private readonly ends: ConnEndpoints,
    isnClient: number,
    isnServer: number,
  ) {
    this.seqC = isnClient >>> 0;
    this.seqS = isnServer >>> 0;
  }

  write(p: SimPacket): void {
    const e = this.ends;
    const client = { ip: e.clientIp, port: e.clientPort };
    const server = { ip: e.serverIp, port: e.serverPort };
    const syn = (p.flags & TCP_SYN) !== 0;
    const prof = p.fromClient ? e.tcp : SERVER_SYNACK;
    const frame = tcpFrame({
      src: p.fromClient ? client : server,
      dst: p.fromClient ? server : client,
      seq: p.fromClient ? this.seqC : this.seqS,
      ack: p.flags & TCP_ACK ? (p.fromClient ? this.seqS : this.seqC) : 0,
      flags: p.flags,
      window: syn ? prof.window : p.fromClient ? 1024 : 1024,
      options: syn ? prof.options : undefined,
      payload: p.payload,
      ttl: p.fromClient ? e.clientTtl : SERVER_SYNACK.ttl,
    });
    this.w.write(frame, p.ts);
    const adv = (p.payload?.length ?? 0) + (p.flags & (TCP_SYN | TCP_FIN) ? 1 : 0);
    if (p.fromClient) this.seqC = (this.seqC + adv) >>> 0;
    else this.seqS = (this.seqS + adv) >>> 0;
  }
}
