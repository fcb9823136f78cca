// The detector as a long-running stage (`ja4 detector run`, and inside
// `ja4 run`): every interval it scores the windows that completed since
// the last pass, the hourly ones (from the hourly aggregates) and the
// 5-minute ones (near-real-time, from http_logs), and writes scores,
// detections and campaigns. A window is scored once it ended LAG_S ago
// (late records of mod_reqin_log batches and the correlator's window land
// first). After a restart it resumes from the newest window_start already
// in ml_all_scores, so nothing is scored twice and a gap is caught up
// (bounded by CATCH_UP_S); a window's scores are written after its
// detections, and a failed pass resumes the same way, so a window is either
// done whole or done again, its inserts deduplicated by token (sql/0024).
// When models/current names a new version, the next pass loads it (the gate
// accepted it) and closes the old pool.
//
// Thread: main (it owns the database); the ONNX scoring runs in the pool.
import { availableParallelism } from 'node:os';
import type { Storage } from '../storage/index.js';
import { silentLogger, type Logger } from '../config/logger.js';
import { WINDOW_SECONDS, readFeatureRows, type WindowKind } from './features/index.js';
import { computeDrift, type FeatureDrift } from './training/drift.js';
import { defaultModelsDir, readCurrentVersion } from './training/manifest.js';
import { openActiveModel, type ActiveModel } from './run/detector-models.js';
import { scoreWindows, type ScorePassResult } from './run/score-windows.js';

export const DEFAULT_INTERVAL_S = 60;
export const LAG_S = 30;
export const CATCH_UP_S: Record<WindowKind, number> = { '1h': 24 * 3600, '5m': 3600 };
export const WINDOW_KINDS: readonly WindowKind[] = ['5m', '1h'];

export interface DetectorServiceOptions {
  modelsDir?: string;
  /** scoring pool workers (default: one per CPU core minus one, at least 1) */
  workers?: number;
  /** the score from which a row is a detection (default: the model's own, calibrated in training) */
  threshold?: number;
  /** seconds between passes (default 60) */
  intervalS?: number;
  /** the service's logger: passes at info, failures at error */
  log?: Logger;
  /** the clock, in ms (tests) */
  now?: () => number;
}

export interface DetectorStats {
  modelVersion: string | null;
  passes: number;
  rowsScored: number;
  anomalies: number;
  campaigns: number;
  lastPassAt: string | null;
  /** how long the last pass took, in seconds (null: none yet) */
  lastPassSeconds: number | null;
  /** start (ISO) of the newest window scored, per kind */
  lastWindow: Record<WindowKind, string | null>;
  errors: number;
  lastError: string | null;
  /** drift of the last hourly window against the training window, most drifted first */
  drift: FeatureDrift[];
}

export interface DetectorService {
  /** resolves once the first pass is done (or failed: see stats().lastError) */
  ready: Promise<void>;
  stop(): Promise<void>;
  stats(): DetectorStats;
}

/** Stats before any pass: nothing scored yet. */
function emptyStats(modelVersion: string | null, errors = 0, lastError: string | null = null): DetectorStats {
  return {
    modelVersion,
    passes: 0,
    rowsScored: 0,
    anomalies: 0,
    campaigns: 0,
    lastPassAt: null,
    lastPassSeconds: null,
    lastWindow: { '1h': null, '5m': null },
    errors,
    lastError,
    drift: [],
  };
}

/** Validates the options, naming the option in the message. */
export function validateDetectorOptions(opts: DetectorServiceOptions): Required<Omit<DetectorServiceOptions, 'log' | 'now' | 'threshold'>> & Pick<DetectorServiceOptions, 'threshold'> {
  const workers = opts.workers ?? defaultScoringWorkers();
  const intervalS = opts.intervalS ?? DEFAULT_INTERVAL_S;
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw new RangeError(`workers (--workers) must be an integer from 1 to 64, got ${String(opts.workers)}`);
  if (!(intervalS > 0) || !Number.isFinite(intervalS)) throw new RangeError(`intervalS (--interval) must be a positive number of seconds, got ${String(opts.intervalS)}`);
  if (opts.threshold !== undefined && !(opts.threshold > 0 && opts.threshold <= 1)) throw new RangeError(`threshold (detector.threshold) must be a number in (0, 1], got ${String(opts.threshold)}`);
  return { modelsDir: opts.modelsDir ?? defaultModelsDir(), workers, intervalS, threshold: opts.threshold };
}

/** detector.threshold as a scoring option: its 0 (the default) keeps the model's own threshold. */
export function configuredThreshold(value: number): number | undefined {
  return value > 0 ? value : undefined;
}

/** detector.workers' 0: one scoring thread per CPU core minus one (the ingest keeps a core), at least 1. */
export function defaultScoringWorkers(): number {
  return Math.min(64, Math.max(1, availableParallelism() - 1));
}

/** Where a pass starts: after the newest window already scored, or CATCH_UP_S back. */
async function resumePoint(storage: Storage, kind: WindowKind, nowS: number): Promise<number> {
  const [r] = await storage.query<{ last: number; n: number }>(
    `SELECT toUInt32(max(toUnixTimestamp(window_start))) AS last, count() AS n FROM ${storage.tables.read('mlAllScores')} WHERE window = {w:String}`,
    { w: kind },
  );
  const span = WINDOW_SECONDS[kind];
  const floor = Math.floor((nowS - CATCH_UP_S[kind]) / span) * span;
  return r && r.n > 0 ? Math.max(r.last + span, floor) : floor;
}

/** One pass over the windows of both kinds that completed in [next, now - LAG_S). */
export class DetectorRunner {
  private next: Partial<Record<WindowKind, number>> = {};
  readonly totals: DetectorStats;

  constructor(
    private readonly storage: Storage,
    private model: ActiveModel,
  ) {
    this.totals = emptyStats(model.version);
  }

  get activeModel(): ActiveModel {
    return this.model;
  }

  async swapModel(model: ActiveModel): Promise<void> {
    const old = this.model;
    this.model = model;
    this.totals.modelVersion = model.version;
    await old.close();
  }

  /** Scores [fromS, toS) for one kind (explicit ranges: `--from/--to`, tests). */
  async scoreRange(kind: WindowKind, fromS: number, toS: number, nowMs: number): Promise<ScorePassResult> {
    const r = await scoreWindows(this.storage, this.model, kind, fromS, toS, nowMs);
    this.totals.rowsScored += r.rows;
    this.totals.anomalies += r.anomalies;
    this.totals.campaigns += r.campaigns;
    if (r.scored.length > 0) {
      let newest = -Infinity; // a loop, not Math.max(...): a catch-up pass scores more rows than a spread may hold
      for (const s of r.scored) if (s.row.windowStart > newest) newest = s.row.windowStart;
      this.totals.lastWindow[kind] = new Date(newest * 1000).toISOString();
      if (kind === '1h') {
        const rows = r.scored.filter((s) => s.row.windowStart === newest).map((s) => s.row);
        this.totals.drift = computeDrift(this.model.set.manifest, rows);
      }
    }
    return r;
  }

  async pass(nowMs: number): Promise<ScorePassResult[]> {
    const nowS = Math.floor(nowMs / 1000);
    const startedAt = performance.now();
    const out: ScorePassResult[] = [];
    for (const kind of WINDOW_KINDS) {
      const span = WINDOW_SECONDS[kind];
      const end = Math.floor((nowS - LAG_S) / span) * span; // exclusive: windows that ended LAG_S ago
      const from = this.next[kind] ?? (await resumePoint(this.storage, kind, nowS));
      if (from < end) {
        try {
          out.push(await this.scoreRange(kind, from, end, nowMs));
        } catch (err) {
          // the next pass resumes after the newest window written whole
          // (scoreWindows writes a window's scores last), not at `from`:
          // the windows done before the failure are not scored twice
          this.next[kind] = undefined;
          throw err;
        }
        this.next[kind] = end;
      } else this.next[kind] = from;
    }
    this.totals.passes++;
    this.totals.lastPassAt = new Date(nowMs).toISOString();
    this.totals.lastPassSeconds = (performance.now() - startedAt) / 1000;
    return out;
  }
}

/** Drift of an explicit window (for `ja4 detector drift`). */
export async function driftOfWindow(storage: Storage, model: ActiveModel, kind: WindowKind, fromS: number, toS: number): Promise<FeatureDrift[]> {
  return computeDrift(model.set.manifest, await readFeatureRows(storage, kind, fromS, toS));
}

export function startDetectorService(storage: Storage, opts: DetectorServiceOptions = {}): DetectorService {
  const o = validateDetectorOptions(opts);
  const log = opts.log ?? silentLogger();
  const now = opts.now ?? Date.now;
  let runner: DetectorRunner | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const failures = { errors: 0, lastError: null as string | null };

  const fail = (err: unknown): void => {
    failures.errors++;
    failures.lastError = (err as Error).message ?? String(err);
    if (runner) {
      runner.totals.errors = failures.errors;
      runner.totals.lastError = failures.lastError;
    }
    log.error('a scoring pass failed', { error: failures.lastError, errors: failures.errors });
  };

  const pass = async (): Promise<void> => {
    try {
      if (!runner) runner = new DetectorRunner(storage, await openActiveModel(o.modelsDir, o.workers, undefined, o.threshold));
      else {
        const current = readCurrentVersion(o.modelsDir);
        if (current !== undefined && current !== runner.activeModel.version) {
          await runner.swapModel(await openActiveModel(o.modelsDir, o.workers, current, o.threshold));
          log.info('now scoring with another model', { model: current });
        }
      }
      const results = await runner.pass(now());
      for (const r of results) log.info('scoring pass', { window: r.window, rows: r.rows, detections: r.anomalies, campaigns: r.campaigns });
    } catch (err) {
      fail(err);
    }
  };

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = pass().finally(schedule);
    }, o.intervalS * 1000);
    timer.unref?.();
  };
  running = pass().finally(schedule);

  return {
    ready: running,
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      await runner?.activeModel.close();
    },
    stats(): DetectorStats {
      if (runner) return { ...runner.totals, lastWindow: { ...runner.totals.lastWindow } };
      return emptyStats(null, failures.errors, failures.lastError);
    },
  };
}
