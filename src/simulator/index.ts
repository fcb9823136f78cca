// The traffic simulator's public API: a seeded population of browsers and
// bots talking to a set of virtual hosts, producing the two halves the
// correlator joins (TLS flow events as the capture sends them,
// mod_reqin_log records as Apache sends them) and, separately, the ground
// truth labels, which never appear in the logged data.
//
// Used by `ja4 simulate` (files), `ja4 run` without an interface (realtime,
// in-process) and the detector's training and evaluation (as fast as it
// goes). Deterministic: the same options give the same bytes.
import { loadCatalog } from './catalog.js';
import { BOT_DEFS, FAMILY_DEFS, HUMAN_DEFS } from './families.js';
import { DEFAULT_HOSTS, Scheduler, type FamilyCounts, type LabelRow, type SimulatedBatch } from './scheduler.js';

export type { FamilyCounts, LabelRow, SimulatedBatch };
export { DEFAULT_HOSTS };

export interface PopulationSpec {
  /** virtual hosts served (Host header, SNI, vhost); the first is the default vhost */
  hosts: string[];
  /** share of the requests per family (HUMAN_FAMILIES and BOT_FAMILIES); relative weights, 0 removes a family */
  families: Record<string, number>;
  /** share of TLS connections whose HTTP records are lost (TLS event only) */
  lostHttpShare: number;
  /** share of TLS connections whose TLS event is lost (HTTP records only) */
  lostTlsShare: number;
}

export interface SimulatorOptions {
  seed?: number;
  /** requests/s of simulated time (default 200) */
  rate?: number;
  /** simulated seconds (default 60; unbounded when realtime) */
  durationS?: number;
  /** start of the simulated time, us since the epoch (default now) */
  startUs?: number;
  population?: Partial<PopulationSpec>;
  /** pace the batches on the wall clock */
  realtime?: boolean;
  /** also write every packet (handshakes, cleartext HTTP, closes) to this pcap */
  pcapPath?: string;
  /** receives the per-family totals once the run ends */
  onSummary?: (counts: ReadonlyMap<string, FamilyCounts>) => void;
}

export const HUMAN_FAMILIES: readonly string[] = HUMAN_DEFS.map((d) => d.name);
export const BOT_FAMILIES: readonly string[] = BOT_DEFS.map((d) => d.name);

export const DEFAULT_RATE = 200;
export const DEFAULT_DURATION_S = 60;
export const DEFAULT_LOST_HTTP_SHARE = 0.01;
export const DEFAULT_LOST_TLS_SHARE = 0.02;

/** An option out of range: the message names it. */
export class SimulatorOptionError extends Error {
  readonly code = 'ESIMOPTION';
}

function check(cond: boolean, message: string): void {
  if (!cond) throw new SimulatorOptionError(message);
}

interface Resolved {
  seed: number;
  rate: number;
  startUs: number;
  endUs: number;
  families: { def: (typeof FAMILY_DEFS)[number]; share: number }[];
  hosts: string[];
  lostHttpShare: number;
  lostTlsShare: number;
}

/** Validates the options; every message names the option. */
export function resolveOptions(opts: SimulatorOptions): Resolved {
  const seed = opts.seed ?? 1;
  check(Number.isSafeInteger(seed) && seed >= 0, `seed must be a non-negative integer, got ${String(opts.seed)}`);
  const rate = opts.rate ?? DEFAULT_RATE;
  check(Number.isFinite(rate) && rate > 0 && rate <= 1e7, `rate must be a number of requests/s in (0, 1e7], got ${String(opts.rate)}`);
  const durationS = opts.durationS ?? (opts.realtime ? Infinity : DEFAULT_DURATION_S);
  check(durationS > 0 && (Number.isFinite(durationS) || opts.realtime === true), `durationS must be a positive number of seconds, got ${String(opts.durationS)}`);
  const startUs = opts.startUs ?? Date.now() * 1000;
  check(Number.isSafeInteger(startUs) && startUs > 0, `startUs must be a positive integer (us since the epoch), got ${String(opts.startUs)}`);
  const pop = opts.population ?? {};
  const hosts = pop.hosts ?? [...DEFAULT_HOSTS];
  check(Array.isArray(hosts) && hosts.length > 0 && hosts.every((h) => typeof h === 'string' && /^[a-z0-9.-]+$/i.test(h)), 'population.hosts must be a non-empty list of host names');
  const weights = pop.families ?? {};
  for (const [name, w] of Object.entries(weights)) {
    check(FAMILY_DEFS.some((d) => d.name === name), `population.families: unknown family "${name}" (known: ${FAMILY_DEFS.map((d) => d.name).join(', ')})`);
    check(Number.isFinite(w) && w >= 0, `population.families.${name} must be a non-negative number, got ${String(w)}`);
  }
  const families = FAMILY_DEFS.map((def) => ({ def, share: weights[def.name] ?? def.share }));
  check(families.some((f) => f.share > 0), 'population.families gives every family a weight of 0');
  const share = (name: 'lostHttpShare' | 'lostTlsShare', dflt: number) => {
    const v = pop[name] ?? dflt;
    check(Number.isFinite(v) && v >= 0 && v <= 1, `population.${name} must be a fraction in [0, 1], got ${String(v)}`);
    return v;
  };
  return {
    seed,
    rate,
    startUs,
    endUs: Number.isFinite(durationS) ? startUs + Math.round(durationS * 1e6) : Number.MAX_SAFE_INTEGER,
    families,
    hosts,
    lostHttpShare: share('lostHttpShare', DEFAULT_LOST_HTTP_SHARE),
    lostTlsShare: share('lostTlsShare', DEFAULT_LOST_TLS_SHARE),
  };
}

/** Deterministic for a given seed. Yields batches in time order (simulated time); realtime=true paces them on the wall clock. */
export async function* simulate(opts: SimulatorOptions): AsyncGenerator<SimulatedBatch> {
  const r = resolveOptions(opts);
  const catalog = await loadCatalog();
  const realtime = opts.realtime === true;
  const sched = new Scheduler({
    ...r,
    catalog,
    // Realtime: small batches, so the pipeline sees a steady stream.
    batchUs: realtime ? 100_000 : 1_000_000,
    pcapPath: opts.pcapPath,
  });
  const wallStart = Date.now();
  for (const batch of sched.run()) {
    if (realtime) {
      // A batch is due once the wall clock reaches the end of its window.
      const dueMs = wallStart + (sched.windowEndUs - r.startUs) / 1000;
      const wait = dueMs - Date.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    }
    yield batch;
  }
  opts.onSummary?.(sched.counts);
}
