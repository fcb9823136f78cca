// The capture's metrics (ja4 capture, and ja4 run --iface): libpcap's
// counters and the engine's, read at scrape time from the session's stats.
import { collected } from './catalogued.js';
import type { MetricsRegistry } from './registry.js';
import { perScrape } from './snapshot.js';

export interface CaptureCounters {
  pcap: { ps_recv: number; ps_drop: number; ps_ifdrop: number };
  /** the engine's named counters (packets, active_flows, flows_evicted_idle, ...) */
  engine: Readonly<Record<string, number>>;
  /** events the output could not take (ja4 capture only) */
  outputDropped?: number;
}

// Engine counters that count something dropped by a bound: flows evicted at
// the flow cap or when idle, and buffers past their size limits.
const EVICTION = /evicted|overflow/;

/** @param stats undefined while the capture is not started */
export function registerCaptureMetrics(registry: MetricsRegistry, iface: string, stats: () => CaptureCounters | undefined): void {
  const snapshot = perScrape(stats);
  const read = <T>(f: (s: CaptureCounters) => T, none: T): T => {
    const s = snapshot();
    return s ? f(s) : none;
  };
  collected(registry, 'ja4_capture_packets_total', () => [[{ iface }, read((s) => s.pcap.ps_recv, 0)]]);
  collected(registry, 'ja4_capture_dropped_packets_total', () => [
    [{ iface, where: 'buffer' }, read((s) => s.pcap.ps_drop, 0)],
    [{ iface, where: 'interface' }, read((s) => s.pcap.ps_ifdrop, 0)],
  ]);
  collected(registry, 'ja4_capture_events_total', () => [
    [{ event: 'flow' }, read((s) => s.engine.records_emitted ?? 0, 0)],
    [{ event: 'close' }, read((s) => s.engine.close_records ?? 0, 0)],
  ]);
  collected(registry, 'ja4_capture_flows', () => read((s) => s.engine.active_flows ?? 0, 0));
  collected(registry, 'ja4_capture_evictions_total', () =>
    read(
      (s) => Object.entries(s.engine).filter(([k]) => EVICTION.test(k)).map(([k, v]) => [{ reason: k }, v] as const),
      [],
    ),
  );
  collected(registry, 'ja4_capture_output_dropped_events_total', () => read((s) => s.outputDropped ?? 0, 0));
}
