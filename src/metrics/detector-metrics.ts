// The detector's metrics (ja4 detector run, and the detector stage of
// ja4 run), read at scrape time from DetectorService.stats().
import { collected } from './catalogued.js';
import type { MetricsRegistry } from './registry.js';
import { perScrape } from './snapshot.js';

/** What the metrics read of src/detector/service.ts's DetectorStats. */
export interface DetectorCounters {
  modelVersion: string | null;
  passes: number;
  errors: number;
  rowsScored: number;
  anomalies: number;
  campaigns: number;
  lastPassAt: string | null;
  lastPassSeconds?: number | null;
}

/** @param stats undefined while the detector is not started */
export function registerDetectorMetrics(registry: MetricsRegistry, read: () => DetectorCounters | undefined): void {
  const stats = perScrape(read);
  const n = (f: (s: DetectorCounters) => number | null | undefined): number => {
    const s = stats();
    return (s && f(s)) ?? 0;
  };
  collected(registry, 'ja4_detector_runs_total', () => [
    [{ result: 'ok' }, n((s) => s.passes)],
    [{ result: 'error' }, n((s) => s.errors)],
  ]);
  collected(registry, 'ja4_detector_last_run_seconds', () => n((s) => s.lastPassSeconds));
  collected(registry, 'ja4_detector_last_run_timestamp_seconds', () => n((s) => (s.lastPassAt ? Date.parse(s.lastPassAt) / 1000 : 0)));
  collected(registry, 'ja4_detector_scored_rows_total', () => n((s) => s.rowsScored));
  collected(registry, 'ja4_detector_detections_total', () => n((s) => s.anomalies));
  collected(registry, 'ja4_detector_campaigns_total', () => n((s) => s.campaigns));
  collected(registry, 'ja4_detector_model_info', () => {
    const v = stats()?.modelVersion;
    return v ? [[{ version: v }, 1]] : [];
  });
}
