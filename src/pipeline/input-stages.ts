// The inputs of `ja4 run`, as stages that push buffers into the
// correlation stage: the HTTP socket (mod_reqin_log, SOCK_SEQPACKET), the
// network socket (external capture sensors, SOCK_DGRAM), the in-process
// live capture, and the simulator (no interface given). Receivers and the
// capture hand over one Buffer per batch from native threads; nothing here
// touches a line.
import { openLiveCapture, type LiveCapture, type LiveCaptureOptions } from '../capture/live-capture.js';
import { openDatagramReceiver, type DatagramReceiver, type DatagramReceiverOptions } from '../ingest/datagram-receiver.js';
import type { SimulatorOptions } from '../simulator/index.js';
import type { Stage } from './stage.js';
import type { Logger } from '../config/logger.js';

export function receiverStage(name: string, options: DatagramReceiverOptions, onData: (buf: Buffer) => void): Stage {
  let receiver: DatagramReceiver | undefined;
  return {
    name,
    async start() {
      receiver = openDatagramReceiver(options, (b) => onData(b.data));
    },
    async stop() {
      await receiver?.close();
    },
    stats() {
      return receiver ? { ...receiver.stats() } : {};
    },
  };
}

export function liveCaptureStage(options: LiveCaptureOptions, onData: (buf: Buffer) => void, log: Logger): Stage {
  let capture: LiveCapture | undefined;
  let stopping = false;
  let ended: string | undefined;
  return {
    name: 'capture',
    async start() {
      const c = openLiveCapture(options, (b) => {
        if (b.data.length > 0) onData(b.data);
      });
      capture = c;
      // A capture ends by itself only when its interface goes (removed,
      // unplugged): every request would then be written without its TLS
      // half, so it is said loudly, and /healthz says it until a restart.
      void c.finished.then(() => {
        if (stopping) return;
        const e = c.stats().error;
        ended = `the live capture on ${options.iface} ended${e ? `: ${e.code} ${e.message}` : ''}`;
        log.error(`${ended}; requests are written without their TLS fingerprints until ja4 run restarts`, { iface: options.iface, code: e?.code });
      });
    },
    unhealthy() {
      return ended;
    },
    async stop() {
      stopping = true;
      // flushes the engine: open connections are reported (close events) before the thread ends
      await capture?.close();
      await capture?.finished;
    },
    stats() {
      if (!capture) return {};
      const s = capture.stats();
      // pcap_stats (kernel drops) and the engine's counters, flat
      const out: Record<string, number> = { ps_recv: s.pcap.ps_recv, ps_drop: s.pcap.ps_drop, ps_ifdrop: s.pcap.ps_ifdrop, events: s.events, batches: s.batches };
      for (const [k, v] of Object.entries(s.engine as unknown as Record<string, unknown>)) if (typeof v === 'number') out[`engine_${k}`] = v;
      return out;
    },
  };
}

/**
 * The simulator, paced in real time, as the capture and mod_reqin_log of a
 * busy site. Its TLS events and HTTP records go through the same path as
 * the real ones (the correlator cannot tell); its labels are not used here.
 */
export function simulatorStage(options: SimulatorOptions, onHttp: (buf: Buffer) => void, onTls: (buf: Buffer) => void, log: Logger): Stage {
  let stopped = false;
  let loop: Promise<void> | undefined;
  let generator: AsyncGenerator<unknown> | undefined;
  const counters = { http_records: 0, tls_events: 0 };
  return {
    name: 'simulator',
    async start() {
      const { simulate } = await import('../simulator/index.js');
      const gen = simulate({ realtime: true, ...options });
      generator = gen;
      loop = (async () => {
        try {
          for await (const b of gen) {
            if (stopped) break;
            if (b.tls.length > 0) {
              counters.tls_events += b.tls.length;
              onTls(Buffer.from(b.tls.join('\n') + '\n'));
            }
            if (b.http.length > 0) {
              counters.http_records += b.http.length;
              onHttp(Buffer.from(b.http.join('\n') + '\n'));
            }
          }
        } catch (err) {
          log.error('the simulator stopped', { error: (err as Error).message });
        }
      })();
    },
    async stop() {
      stopped = true;
      await generator?.return(undefined);
      await loop;
    },
    stats() {
      return { ...counters };
    },
  };
}
