// `ja4 run`'s metrics, read at scrape time from its stages' flat counters
// (Stage.stats(): src/pipeline/correlation-stage.ts, input-stages.ts): the
// receivers, the correlator, the writer and its spool, and the in-process
// capture when there is one. The detector and the dashboard stages add
// theirs (detector-metrics.ts, dashboard-metrics.ts).
import { collected } from './catalogued.js';
import { registerCaptureMetrics } from './capture-metrics.js';
import type { MetricsRegistry } from './registry.js';
import { perScrape } from './snapshot.js';

/** What the metrics need of a stage (src/pipeline/stage.ts's Stage). */
export interface StatsSource {
  readonly name: string;
  stats(): Record<string, number>;
}

/** A stage whose stats() throws (stopping, say) reads as empty rather than failing the scrape. */
function safeStats(stage: StatsSource): Record<string, number> {
  try {
    return stage.stats();
  } catch {
    return {};
  }
}

const RECEIVERS = [
  ['http_socket', 'http'],
  ['network_socket', 'network'],
] as const;

export function registerPipelineMetrics(registry: MetricsRegistry, stages: () => readonly StatsSource[], opts: { iface?: string } = {}): void {
  // every stage's stats read once per scrape
  const snapshot = perScrape(() => new Map(stages().map((s) => [s.name, safeStats(s)])));
  const statsOf = (name: string): Record<string, number> => snapshot().get(name) ?? {};
  const c = (key: string): number => statsOf('correlator')[key] ?? 0;
  const perReceiver = (key: string) => RECEIVERS.map(([stage, socket]) => [{ socket }, statsOf(stage)[key] ?? 0] as const);

  collected(registry, 'ja4_receiver_datagrams_total', () => perReceiver('datagrams'));
  collected(registry, 'ja4_receiver_bytes_total', () => perReceiver('bytes'));
  collected(registry, 'ja4_receiver_dropped_total', () => [
    ...RECEIVERS.map(([stage, socket]) => [{ socket, reason: 'oversized' }, statsOf(stage).oversized ?? 0] as const),
    ...RECEIVERS.map(([stage, socket]) => [{ socket, reason: 'error' }, statsOf(stage).errors ?? 0] as const),
  ]);

  collected(registry, 'ja4_correlator_received_total', () => [
    [{ kind: 'http' }, c('http_records')],
    [{ kind: 'flow' }, c('flow_events')],
    [{ kind: 'close' }, c('close_events')],
  ]);
  collected(registry, 'ja4_correlator_requests_total', () => ['matched', 'no_tls', 'tls_not_seen'].map((status) => [{ status }, c(status)] as const));
  collected(registry, 'ja4_correlator_invalid_lines_total', () => {
    const s = statsOf('correlator');
    const out: [{ input: string; reason: string }, number][] = [];
    for (const input of ['http', 'tls']) for (const reason of ['not_json', 'schema_invalid', 'oversized']) out.push([{ input, reason }, s[`${input}_dropped_${reason}`] ?? 0]);
    return out;
  });
  collected(registry, 'ja4_correlator_slow_lines_total', () => [
    [{ input: 'http' }, c('http_slow_lines')],
    [{ input: 'tls' }, c('tls_slow_lines')],
  ]);
  collected(registry, 'ja4_correlator_backlog_dropped_bytes_total', () => c('backlog_dropped_bytes'));
  collected(registry, 'ja4_correlator_steps_total', () => c('steps'));
  collected(registry, 'ja4_correlator_failed_steps_total', () => c('failed_steps'));
  collected(registry, 'ja4_correlator_connections_forgotten_total', () => [
    [{ reason: 'closed' }, c('expired_closed')],
    [{ reason: 'idle' }, c('expired_idle')],
    [{ reason: 'window' }, c('expired_window')],
    [{ reason: 'capacity' }, c('evicted_connections')],
  ]);
  collected(registry, 'ja4_correlator_lost_requests_total', () => c('pending_lost'));
  collected(registry, 'ja4_correlator_connections', () => c('connections'));
  collected(registry, 'ja4_correlator_pending_requests', () => c('pending'));
  collected(registry, 'ja4_correlator_backlog_bytes', () => c('backlog_bytes'));

  collected(registry, 'ja4_writer_rows_total', () => c('writer_written_rows'));
  collected(registry, 'ja4_writer_inserts_total', () => c('writer_written_batches'));
  collected(registry, 'ja4_writer_insert_seconds_total', () => c('writer_write_ms_total') / 1000);
  collected(registry, 'ja4_writer_last_insert_seconds', () => c('writer_last_write_ms') / 1000);
  collected(registry, 'ja4_writer_errors_total', () => c('writer_sink_errors'));
  collected(registry, 'ja4_writer_pending_rows', () => Math.max(0, c('writer_rows') - c('writer_written_rows')));
  collected(registry, 'ja4_writer_spooling', () => c('writer_spooling'));
  collected(registry, 'ja4_spool_bytes', () => c('spool_bytes'));
  collected(registry, 'ja4_spool_batches', () => c('spool_segments'));
  collected(registry, 'ja4_spool_appended_batches_total', () => c('spool_appended'));
  collected(registry, 'ja4_spool_replayed_batches_total', () => c('spool_replayed'));
  collected(registry, 'ja4_spool_dropped_batches_total', () => c('spool_dropped_segments'));
  collected(registry, 'ja4_spool_write_errors_total', () => c('writer_spool_write_errors'));

  if (opts.iface !== undefined) {
    // the capture stage's stats are flat: ps_* from pcap_stats, engine_<counter>
    registerCaptureMetrics(registry, opts.iface, () => {
      const s = statsOf('capture');
      if (s.ps_recv === undefined) return undefined;
      const engine: Record<string, number> = {};
      for (const [k, v] of Object.entries(s)) if (k.startsWith('engine_')) engine[k.slice(7)] = v;
      return { pcap: { ps_recv: s.ps_recv, ps_drop: s.ps_drop ?? 0, ps_ifdrop: s.ps_ifdrop ?? 0 }, engine };
    });
  }
}
