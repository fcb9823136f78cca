// The contract between the capture (`ja4 capture`, `ja4 replay`, the
// in-process capture of `ja4 run`, the simulator) and the correlator: JSON
// objects each ending in '\n', one or more per datagram on network.socket
// (`ja4 capture` packs whole lines up to 32 KiB, as mod_reqin_log does; the
// receiver hands them on as lines), or one per line in a jsonl file.
//
// A "flow" event is exactly the engine's flow record (src/capture/
// flow-record.ts, native/core/record_json.cc) as `ja4 pcap --jsonl` prints
// it, so a live event and the offline engine's record of the same traffic
// compare field by field. `src` is always the client (the SYN sender, or the
// ClientHello sender), `dst` the server. Timestamps are microseconds since
// the Unix epoch, in capture time.
//
// A "close" event says the capture is done with a flow: the TCP connection
// ended (FIN or RST seen), or the capture stopped tracking it (idle past the
// engine's timeout, or evicted: table full, port reused by a new SYN, or the
// capture stopping). The correlator ends the connection on FIN or RST only;
// after idle or evicted it keeps it until its own idle timeout or window
// (a new SYN on the same 4-tuple ends it as port reuse). It always follows
// the connection's flow event (same stream, src, src_port) and is sent only
// for TCP.
//
// The JSON Schema for the same contract is schema/tls-event.schema.json; a
// test checks that the two agree.
import type { FlowRecord } from './flow-record.js';

export const TLS_EVENT_VERSION = 1;

/** A connection's fingerprints, sent once its client handshake is seen. */
export interface FlowEvent extends FlowRecord {
  /** absent on records from `ja4 pcap`; "flow" on the wire */
  event?: 'flow';
  /** sensor name (capture host), when configured */
  sensor?: string;
}

/** The end of a TCP connection already reported by a flow event. */
export interface CloseEvent {
  event: 'close';
  stream: number;
  transport: 'tcp' | 'udp';
  src: string;
  dst: string;
  src_port: number;
  dst_port: number;
  first_ts_us: number;
  last_ts_us: number;
  /** why: fin | rst | idle | evicted */
  reason: 'fin' | 'rst' | 'idle' | 'evicted';
  sensor?: string;
}

export type TlsEvent = FlowEvent | CloseEvent;

export function isCloseEvent(e: TlsEvent): e is CloseEvent {
  return e.event === 'close';
}
