// The correlator's native path for TLS events, beside native-requests.ts
// for the requests: flow and close events are parsed in C++
// (native/core/tls_event_line.h), a flow's TLS columns straight into the
// bytes the native store keeps for its connection. JavaScript gets only
// what the join reads (addresses, ports, times, the close reason): no
// JSON.parse of a ~900-byte event, no object with its thirty strings, no
// re-encoding of them per connection.
//
// A line the native parser refuses is not lost: it goes through the
// JavaScript reader (JSON.parse, toTlsInput), which counts it by reason or
// accepts it, and an accepted flow has its columns encoded by
// encodeNativeTls, as every flow was before. So each line is decided by the
// JavaScript reader's rules; test/correlator-native-tls.test.ts compares
// the two paths on hostile input.
import type { NativeRequestStore } from '../native/addon.js';
import { forEachJsonLine, type DropCounters } from './input-lines.js';
import { encodeNativeTls, nativeTlsOf, type NativeTls } from './rows-native.js';
import { RowBinaryWriter } from './row-binary-writer.js';
import { CLOSE_REASON_LIST, toTlsInput, type JoinClose, type JoinFlow } from './tls-event-input.js';

/**
 * A flow event as the Native encoder takes it: the join's facts, and the
 * connection's TLS columns already encoded (its sni is among them: the
 * native store writes the row's sni, so the join never needs it).
 */
export interface NativeFlow extends JoinFlow {
  readonly transport: 'tcp' | 'udp';
  /** the event's "closed": true */
  readonly closed: boolean;
  readonly tls: NativeTls;
}

// parseTls()'s numbers per line (native/binding/request_store_binding.cc)
const TLS_KIND = 0; // -1 refused, 0 flow, 1 close
const TLS_SRC_PORT = 1;
const TLS_DST_PORT = 2;
const TLS_FIRST = 3;
const TLS_LAST = 4;
const TLS_FLAGS = 5; // 1 udp, 2 closed, reason << 2
const TLS_START = 6;
const TLS_END = 7;
const TLS_BLOB_END = 8;
const TLS_STRIDE = 9;

export class NativeTlsEvents {
  /** lines the native parser left to the JavaScript reader (accepted or not) */
  slowLines = 0;
  private readonly writer = new RowBinaryWriter(4096);

  constructor(private readonly store: NativeRequestStore) {}

  /**
   * Calls `onFlow` or `onClose` for each event of `batch` (newline-separated
   * lines), in line order; rejected lines are counted in `drops` by reason,
   * as forEachJsonLine and toTlsInput count them.
   */
  forEach(batch: Buffer, maxLineBytes: number, drops: DropCounters, onFlow: (e: NativeFlow) => void, onClose: (e: JoinClose) => void): void {
    const [lines, text, ends, blobs] = this.store.parseTls(batch, maxLineBytes);
    let t = 0;
    let at = 0;
    let blobAt = 0;
    for (let i = 0; i < lines.length; i += TLS_STRIDE) {
      const kind = lines[i + TLS_KIND]!;
      if (kind < 0) {
        this.slowLines++;
        this.readSlowly(batch.subarray(lines[i + TLS_START], lines[i + TLS_END]), maxLineBytes, drops, onFlow, onClose);
        continue;
      }
      const srcEnd = ends[t]!;
      const dstEnd = ends[t + 1]!;
      t += 2;
      const src = text.slice(at, srcEnd);
      const dst = text.slice(srcEnd, dstEnd);
      at = dstEnd;
      const flags = lines[i + TLS_FLAGS]!;
      if (kind === 1) {
        onClose({ src, src_port: lines[i + TLS_SRC_PORT]!, first_ts_us: lines[i + TLS_FIRST]!, last_ts_us: lines[i + TLS_LAST]!, reason: CLOSE_REASON_LIST[flags >> 2]! });
        continue;
      }
      const blobEnd = lines[i + TLS_BLOB_END]!;
      onFlow({
        src,
        src_port: lines[i + TLS_SRC_PORT]!,
        dst,
        dst_port: lines[i + TLS_DST_PORT]!,
        first_ts_us: lines[i + TLS_FIRST]!,
        last_ts_us: lines[i + TLS_LAST]!,
        transport: (flags & 1) !== 0 ? 'udp' : 'tcp',
        closed: (flags & 2) !== 0,
        // a copy: a view would keep the whole batch's columns alive as long as one connection lives
        tls: nativeTlsOf(Uint8Array.prototype.slice.call(blobs, blobAt, blobEnd)),
      });
      blobAt = blobEnd;
    }
  }

  /** One refused line through the JavaScript reader. */
  private readSlowly(line: Buffer, maxLineBytes: number, drops: DropCounters, onFlow: (e: NativeFlow) => void, onClose: (e: JoinClose) => void): void {
    forEachJsonLine(line, maxLineBytes, drops, (o) => {
      const input = toTlsInput(o);
      if (!input) {
        drops.schema_invalid++;
        return;
      }
      if (input.kind === 'close') {
        onClose(input.event);
        return;
      }
      const e = input.event;
      onFlow({
        src: e.src,
        src_port: e.src_port,
        dst: e.dst,
        dst_port: e.dst_port,
        first_ts_us: e.first_ts_us,
        last_ts_us: e.last_ts_us,
        transport: e.transport,
        closed: e.closed === true,
        tls: encodeNativeTls(e, this.writer),
      });
    });
  }
}
