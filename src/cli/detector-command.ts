// `ja4 detector train|run|eval|drift|status`: the bot detector's command line.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { STORAGE_ARG_HELP, STORAGE_ARG_SPEC, migrate } from '../storage/index.js';
import { readTrainingRows, type WindowKind } from '../detector/features/index.js';
import { DEFAULT_MODELS_DIR, STATE_MODELS_DIR, defaultModelsDir, defaultTrainingModelsDir, modelDir, readCurrentVersion, readManifest } from '../detector/training/manifest.js';
import { labelRows, readAnalystVerdicts } from '../detector/training/labels.js';
import { TrainingError, trainModelSet, type TrainResult } from '../detector/training/train.js';
import { DEFAULT_MODEL_DURATION_S, DEFAULT_MODEL_RATE, DEFAULT_MODEL_SEED, simulatedFeatureRows, trainOnSimulator } from '../detector/training/default-model.js';
import { openActiveModel, NoModelError } from '../detector/run/detector-models.js';
import { scoreFeatureRows } from '../detector/run/score-windows.js';
import { DetectorRunner, configuredThreshold, defaultScoringWorkers, driftOfWindow, startDetectorService, validateDetectorOptions } from '../detector/service.js';
import { batchesFromDir, readLabelsFile, SimulatedDataError } from '../detector/eval/simulated-data.js';
import { evaluateScored, formatEvaluation } from '../detector/eval/evaluate.js';
import type { GroundTruth } from '../detector/training/labels.js';
import { CONFIG_ARG_HELP, CONFIG_ARG_SPEC, DETECTOR_RUN_FLAG_OPTIONS } from '../config/index.js';
import { loadCommandConfig, type CommandConfig } from '../config/command-config.js';
import { registerDetectorMetrics } from '../metrics/detector-metrics.js';
import { parseMetricsListen, serveMetrics, serviceRegistry } from '../metrics/serve.js';
import { CliError } from './cli-error.js';
import { withStorage } from './db-command.js';
import type { CliIO } from './output.js';
import { LOG_ARG_HELP, LOG_ARG_SPEC, serviceLogger } from './service-logger.js';

export const DETECTOR_HELP = `Usage: ja4 detector <train|run|eval|drift|status> [options]

  train [--from T] [--to T] [--windows 1h,5m] [--seed N] [--models DIR] [--force]
        train the three voices (extended isolation forest, autoencoder, gradient-
        boosted trees) on the feature rows of [from, to) (default: the last 24
        hours), with labels from analyst classifications and the reference lists;
        write models/<version>/ (ONNX + JSON + manifest.json) and make it current
        unless the validation gate rejects it (anomaly rate > 20% on held-out
        rows not labeled bot, or ROC/PR AUC below the current model's on the same
        rows); --force accepts anyway.
  train --default [--seed N] [--rate R] [--duration S] [--models DIR]
        the shipped default model: simulated traffic (seed ${DEFAULT_MODEL_SEED}, ${DEFAULT_MODEL_RATE} req/s,
        ${DEFAULT_MODEL_DURATION_S} s from a fixed start) through the correlator into a scratch database,
        trained with the simulator's labels. Reproducible: same seed, same files.
  run [--once] [--interval S] [--workers N] [--from T --to T] [--models DIR] [--metrics-listen H:P]
      [--log-level L] [--log-format F]
        score the hourly and 5-minute windows as they complete (every --interval
        seconds, default 60; --once: one pass and exit; --from/--to: exactly
        that range); writes ml_all_scores, ml_detected_anomalies, ml_campaigns.
        --workers: scoring threads (default and 0: one per CPU core minus one);
        detector.threshold of the configuration replaces the model's threshold
        when set. Serves /metrics on
        --metrics-listen (default: metrics.host and metrics.port.detector of
        the configuration, 127.0.0.1:9473) while it runs. As a service (no
        --once/--from) it logs JSON lines on stderr (see Logs below).
  eval --data DIR --labels FILE [--windows 1h,5m] [--workers N] [--models DIR] [--json]
        score a labeled simulated dataset (DIR as "ja4 simulate --out DIR" writes
        it) in a scratch database; print precision, recall and F1 at the operating
        threshold, ROC AUC, PR AUC, per bot family, and each voice's contribution.
  drift [--from T] [--to T] [--window 1h|5m] [--models DIR]
        per feature, the population stability index of [from, to) (default: the
        last complete hour) against the current model's training quantiles.
  status [--models DIR]
        the current model: version, training window, rows, metrics, dropped features.

Times T: ISO 8601 (2026-01-05T10:00:00Z), "now", or relative "-24h", "-30m".
--models DIR: model sets (JA4_MODELS_DIR; default ${STATE_MODELS_DIR} once a model
was trained there, else the shipped ${DEFAULT_MODELS_DIR}; train writes to
${STATE_MODELS_DIR} where /var/lib/ja4 exists).
--models, --interval and --workers are also read from /etc/ja4/config.yaml
(detector.*) and JA4_DETECTOR_* variables; a flag given here wins.

${LOG_ARG_HELP}
${CONFIG_ARG_HELP}
${STORAGE_ARG_HELP}
Exit status: 0 ok (train: the model was accepted), 1 failure or rejected by the gate, 2 bad usage.
`;

const FLAGS = {
  from: { type: 'string' },
  to: { type: 'string' },
  windows: { type: 'string' },
  window: { type: 'string' },
  seed: { type: 'string' },
  models: { type: 'string' },
  force: { type: 'boolean' },
  default: { type: 'boolean' },
  rate: { type: 'string' },
  duration: { type: 'string' },
  once: { type: 'boolean' },
  interval: { type: 'string' },
  workers: { type: 'string' },
  data: { type: 'string' },
  labels: { type: 'string' },
  json: { type: 'boolean' },
  'metrics-listen': { type: 'string' },
  ...LOG_ARG_SPEC,
} as const;

type Flag = keyof typeof FLAGS;

const ALLOWED: Record<string, Flag[]> = {
  train: ['from', 'to', 'windows', 'seed', 'models', 'force', 'default', 'rate', 'duration'],
  run: ['once', 'interval', 'workers', 'from', 'to', 'models', 'metrics-listen', 'log-level', 'log-format'],
  eval: ['data', 'labels', 'windows', 'workers', 'models', 'json'],
  drift: ['from', 'to', 'window', 'models', 'json'],
  status: ['models', 'json'],
};

/** ISO time, "now" or "-<N>h|m|d" -> epoch seconds; the message names the option. */
export function parseTime(option: string, value: string, nowMs = Date.now()): number {
  if (value === 'now') return Math.floor(nowMs / 1000);
  const rel = /^-(\d+)([smhd])$/.exec(value);
  if (rel) return Math.floor(nowMs / 1000) - Number(rel[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[rel[2] as 's' | 'm' | 'h' | 'd'];
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) {
    throw new CliError(`--${option} must be an ISO 8601 time, "now" or a relative "-24h", got "${value}"`);
  }
  return Math.floor(ms / 1000);
}

function positiveInt(option: string, value: string | undefined, fallback: number, max = 1e9): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > max) throw new CliError(`--${option} must be a positive integer${max < 1e9 ? ` up to ${max}` : ''}, got "${value}"`);
  return Number(value);
}

/** --workers (detector.workers): 0 or unset, one per CPU core minus one (defaultScoringWorkers). */
function scoringWorkers(value: string | undefined): number {
  return value === undefined || value === '0' ? defaultScoringWorkers() : positiveInt('workers', value, 1, 64);
}

function nonNegativeInt(option: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) throw new CliError(`--${option} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

function parseWindows(option: string, value: string | undefined, fallback: WindowKind[]): WindowKind[] {
  if (value === undefined) return fallback;
  const parts = value.split(',').map((s) => s.trim());
  for (const p of parts) if (p !== '1h' && p !== '5m') throw new CliError(`--${option} must list 1h and/or 5m, got "${value}"`);
  return [...new Set(parts)] as WindowKind[];
}

function modelsDirOf(values: Record<string, unknown>, training: boolean): string {
  const v = (values.models as string | undefined) ?? process.env.JA4_MODELS_DIR;
  if (v !== undefined && v !== '') return resolve(v);
  return training ? defaultTrainingModelsDir() : defaultModelsDir();
}

function timeRange(values: Record<string, unknown>, defaultFrom: number, defaultTo: number): { fromS: number; toS: number } {
  const fromS = values.from !== undefined ? parseTime('from', values.from as string) : defaultFrom;
  const toS = values.to !== undefined ? parseTime('to', values.to as string) : defaultTo;
  if (!(fromS < toS)) throw new CliError(`--from must be before --to (got ${new Date(fromS * 1000).toISOString()} .. ${new Date(toS * 1000).toISOString()})`);
  return { fromS, toS };
}

function printTrainResult(io: CliIO, r: TrainResult): number {
  const m = r.manifest;
  const f = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(4));
  io.out(
    [
      `model ${r.version}: ${r.accepted ? 'accepted (now current)' : `REJECTED: ${r.reason ?? ''}`}`,
      `  ${r.dir}`,
      `  rows: ${m.rows.total} (train ${m.rows.train}, calibration ${m.rows.calibration}, validation ${m.rows.validation}); labeled bot ${m.rows.labeledBot}, human ${m.rows.labeledHuman}, pseudo ${m.rows.pseudoLabeled}`,
      `  features: ${m.features.length} kept, ${m.dropped.length} dropped${m.dropped.length ? `: ${m.dropped.map((d) => `${d.name} (${d.reason})`).join('; ')}` : ''}`,
      `  validation: anomaly rate ${(m.metrics.anomalyRate * 100).toFixed(2)}%, ROC AUC ${f(m.metrics.rocAuc)}, PR AUC ${f(m.metrics.prAuc)}, precision ${f(m.metrics.precision)}, recall ${f(m.metrics.recall)}, F1 ${f(m.metrics.f1)}, precision@recall0.9 ${f(m.metrics.precisionAtRecall90)}`,
      `  threshold ${m.ensemble.threshold.toFixed(4)}; weights gbt ${m.ensemble.weights.gbt.toFixed(3)}, iforest ${m.ensemble.weights.iforest.toFixed(3)}, autoencoder ${m.ensemble.weights.autoencoder.toFixed(3)}`,
      ...(r.previous ? [`  current model ${r.previous.version} on the same rows: ROC AUC ${f(r.previous.rocAuc)}, PR AUC ${f(r.previous.prAuc)}`] : []),
      '',
    ].join('\n'),
  );
  return r.accepted ? 0 : 1;
}

function detectorError(prefix: string, err: unknown): never {
  if (err instanceof CliError) throw err;
  if (err instanceof TrainingError || err instanceof NoModelError) throw new CliError(`${prefix}: ${err.message} [${err.code}]`, 1);
  if (err instanceof SimulatedDataError) throw new CliError(`${prefix}: ${err.message} [${err.code}]`, 2);
  if (err instanceof RangeError) throw new CliError(`${prefix}: ${err.message}`, 2);
  throw err;
}

export async function runDetectorCommand(argv: string[], io: CliIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === '--help' || sub === '-h' || sub === 'help') {
    io.out(DETECTOR_HELP);
    return sub === undefined ? 2 : 0;
  }
  const allowed = ALLOWED[sub];
  if (!allowed) throw new CliError(`ja4 detector: unknown subcommand "${sub}"\n\n${DETECTOR_HELP}`);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, allowPositionals: false, strict: true, options: { ...STORAGE_ARG_SPEC, ...CONFIG_ARG_SPEC, ...FLAGS, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\nRun "ja4 detector --help" for usage.`);
  }
  if (parsed.values.help) {
    io.out(DETECTOR_HELP);
    return 0;
  }
  for (const flag of Object.keys(FLAGS) as Flag[]) {
    if ((parsed.values as Record<string, unknown>)[flag] !== undefined && !allowed.includes(flag)) throw new CliError(`--${flag} is not an option of "ja4 detector ${sub}"`);
  }
  // the configured detector.* options this subcommand has a flag for
  const flagOptions = Object.fromEntries(Object.entries(DETECTOR_RUN_FLAG_OPTIONS).filter(([f]) => !(f in FLAGS) || allowed.includes(f as Flag)));
  const cfg = loadCommandConfig(parsed.values, flagOptions);
  const values = cfg.values;
  const prefix = `ja4 detector ${sub}`;
  const modelsDir = modelsDirOf(values, sub === 'train');
  try {
    switch (sub) {
      case 'train':
        return await train(io, values, modelsDir, prefix);
      case 'run':
        return await run(io, values, modelsDir, prefix, cfg);
      case 'eval':
        return await evaluate(io, values, modelsDir);
      case 'drift':
        return await drift(io, values, modelsDir, prefix);
      default:
        return status(io, values, modelsDir);
    }
  } catch (err) {
    detectorError(prefix, err);
  }
}

async function train(io: CliIO, values: Record<string, unknown>, modelsDir: string, prefix: string): Promise<number> {
  const seed = nonNegativeInt('seed', values.seed as string | undefined, DEFAULT_MODEL_SEED);
  const force = values.force === true;
  if (values.default) {
    for (const f of ['from', 'to'] as const) if (values[f] !== undefined) throw new CliError(`--${f} does not apply to --default (the simulated window is fixed)`);
    const r = await trainOnSimulator({
      modelsDir,
      seed,
      rate: positiveInt('rate', values.rate as string | undefined, DEFAULT_MODEL_RATE, 100_000),
      durationS: positiveInt('duration', values.duration as string | undefined, DEFAULT_MODEL_DURATION_S, 7 * 86400),
      windows: parseWindows('windows', values.windows as string | undefined, ['1h', '5m']),
      force,
      log: (l) => io.err(`${l}\n`),
    });
    return printTrainResult(io, r);
  }
  for (const f of ['rate', 'duration'] as const) if (values[f] !== undefined) throw new CliError(`--${f} only applies with --default`);
  const nowS = Math.floor(Date.now() / 3600_000) * 3600;
  const { fromS, toS } = timeRange(values, nowS - 24 * 3600, nowS);
  const windows = parseWindows('windows', values.windows as string | undefined, ['1h', '5m']);
  return withStorage(prefix, values, async (storage) => {
    await migrate(storage);
    const rows = await readTrainingRows(storage, windows, fromS, toS);
    const labels = labelRows(rows, await readAnalystVerdicts(storage));
    const r = trainModelSet({ rows, labels, seed, modelsDir, trainingWindow: { fromS, toS, windows }, source: 'database', force });
    return printTrainResult(io, r);
  });
}

async function run(io: CliIO, values: Record<string, unknown>, modelsDir: string, prefix: string, cfg: CommandConfig): Promise<number> {
  const workers = scoringWorkers(values.workers as string | undefined);
  const threshold = configuredThreshold(cfg.config.detector.threshold);
  if (values['metrics-listen'] !== undefined) {
    try {
      parseMetricsListen(values['metrics-listen'] as string);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  const interval = values.interval !== undefined ? Number(values.interval) : 60;
  if (!(interval > 0) || !Number.isFinite(interval)) throw new CliError(`--interval must be a positive number of seconds, got "${String(values.interval)}"`);
  validateDetectorOptions({ modelsDir, workers, intervalS: interval, threshold });
  const ranged = values.from !== undefined || values.to !== undefined;
  if (ranged && (values.from === undefined || values.to === undefined)) throw new CliError('--from and --to go together');
  // parsed before the database opens: a bad time is a usage error, nothing else happens
  const range = ranged ? timeRange(values, 0, 0) : undefined;
  const log = serviceLogger('ja4-detector', values, io);
  return withStorage(prefix, values, async (storage) => {
    await migrate(storage);
    if (values.once || range) {
      const model = await openActiveModel(modelsDir, workers, undefined, threshold);
      try {
        const runner = new DetectorRunner(storage, model);
        const nowMs = Date.now();
        const results = range
          ? [await runner.scoreRange('5m', range.fromS, range.toS, nowMs), await runner.scoreRange('1h', range.fromS, range.toS, nowMs)]
          : await runner.pass(nowMs);
        for (const r of results) io.out(`${r.window}: ${r.windows} windows, ${r.rows} rows scored, ${r.anomalies} detections, ${r.campaigns} campaigns (model ${model.version})\n`);
        if (results.length === 0) io.out(`nothing to score: no window completed since the last pass (model ${model.version})\n`);
        return 0;
      } finally {
        await model.close();
      }
    }
    const service = startDetectorService(storage, { modelsDir, workers, intervalS: interval, threshold, log });
    const registry = serviceRegistry('ja4-detector');
    registerDetectorMetrics(registry, () => service.stats());
    let metrics;
    try {
      metrics = await serveMetrics({ service: 'detector', registry, metrics: cfg.config.metrics, isSet: cfg.isSet, listen: values['metrics-listen'] as string | undefined, log });
    } catch (err) {
      await service.stop();
      throw new CliError(`${prefix}: ${(err as Error).message}`, 1);
    }
    log.info('up', { models_dir: modelsDir, workers, interval_s: interval, ...(metrics ? { metrics_port: metrics.port } : {}) });
    await service.ready;
    await new Promise<void>((done) => {
      const stop = (): void => done();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await service.stop();
    await metrics?.close();
    const s = service.stats();
    log.info('stopped', { passes: s.passes, rows_scored: s.rowsScored, detections: s.anomalies, errors: s.errors });
    return s.lastError !== null && s.passes === 0 ? 1 : 0;
  });
}

async function evaluate(io: CliIO, values: Record<string, unknown>, modelsDir: string): Promise<number> {
  if (values.data === undefined) throw new CliError('--data DIR is required (as written by "ja4 simulate --out DIR")');
  if (values.labels === undefined) throw new CliError('--labels FILE is required (the labels.csv of "ja4 simulate --out")');
  const workers = scoringWorkers(values.workers as string | undefined);
  const windows = parseWindows('windows', values.windows as string | undefined, ['1h', '5m']);
  const truth: Map<string, GroundTruth> = readLabelsFile(values.labels as string);
  const model = await openActiveModel(modelsDir, workers);
  try {
    // the labels file is the truth here; the simulator's labels are not in DIR's logs
    const { rows } = await simulatedFeatureRows(batchesFromDir(values.data as string), windows, new Map(), (l) => io.err(`${l.replace(/, 0 labeled clients$/, '')}\n`));
    const evals = [];
    for (const w of windows) {
      const { scored } = await scoreFeatureRows(model, rows.filter((r) => r.window === w));
      evals.push(evaluateScored(w, scored, truth, model.set.manifest.ensemble));
    }
    io.out(values.json ? `${JSON.stringify({ model: model.version, windows: evals }, null, 2)}\n` : formatEvaluation(model.version, evals));
    return 0;
  } finally {
    await model.close();
  }
}

async function drift(io: CliIO, values: Record<string, unknown>, modelsDir: string, prefix: string): Promise<number> {
  const kind = (values.window as string | undefined) ?? '1h';
  if (kind !== '1h' && kind !== '5m') throw new CliError(`--window must be 1h or 5m, got "${kind}"`);
  const nowS = Math.floor(Date.now() / 3600_000) * 3600;
  const { fromS, toS } = timeRange(values, nowS - 3600, nowS);
  const model = await openActiveModel(modelsDir, 1);
  try {
    return await withStorage(prefix, values, async (storage) => {
      const d = await driftOfWindow(storage, model, kind, fromS, toS);
      if (values.json) io.out(`${JSON.stringify({ model: model.version, from: new Date(fromS * 1000).toISOString(), to: new Date(toS * 1000).toISOString(), features: d }, null, 2)}\n`);
      else {
        io.out(`drift of ${kind} windows ${new Date(fromS * 1000).toISOString()} .. ${new Date(toS * 1000).toISOString()} against model ${model.version}\n`);
        io.out('feature                          PSI   median shift  level        rows\n');
        for (const f of d) io.out(`${f.feature.padEnd(28)} ${f.psi.toFixed(4).padStart(8)}  ${f.medianShift.toFixed(3).padStart(12)}  ${f.level.padEnd(11)} ${String(f.rows).padStart(5)}\n`);
      }
      return 0;
    });
  } finally {
    await model.close();
  }
}

function status(io: CliIO, values: Record<string, unknown>, modelsDir: string): number {
  const v = readCurrentVersion(modelsDir);
  if (v === undefined) throw new NoModelError(`no accepted model in ${modelsDir}`);
  const m = readManifest(modelDir(modelsDir, v));
  if (values.json) {
    io.out(`${JSON.stringify(m, null, 2)}\n`);
    return 0;
  }
  const f = (x: number | null): string => (x === null ? 'n/a' : x.toFixed(4));
  io.out(
    [
      `current model ${m.version} (${modelDir(modelsDir, v)})`,
      `  created ${m.createdAt}, seed ${m.seed}, source: ${m.source}`,
      `  training window ${m.trainingWindow.from} .. ${m.trainingWindow.to} (${m.trainingWindow.windows.join(', ')})`,
      `  rows ${m.rows.total}: train ${m.rows.train}, calibration ${m.rows.calibration}, validation ${m.rows.validation}`,
      `  validation: ROC AUC ${f(m.metrics.rocAuc)}, PR AUC ${f(m.metrics.prAuc)}, F1 ${f(m.metrics.f1)}, anomaly rate ${(m.metrics.anomalyRate * 100).toFixed(2)}%`,
      `  ${m.features.length} features; dropped: ${m.dropped.map((d) => `${d.name} (${d.reason})`).join('; ') || 'none'}`,
      '',
    ].join('\n'),
  );
  return 0;
}
