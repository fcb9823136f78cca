// The traffic simulator's public API: a seeded population of browsers and
// bots talking to a set of virtual hosts, producing the two halves the
// correlator joins (TLS flow events, mod_reqin_log records) and, in a
// separate stream, the ground-truth labels. Implementation in progress.

export interface PopulationSpec {
  /** virtual hosts served (Host header, SNI, vhost) */
  hosts: string[];
  /** relative weight of each client family (BOT_FAMILIES and HUMAN_FAMILIES) in the client population */
  families: Record<string, number>;
  /** share of TLS connections whose HTTP records are lost (TLS event only) */
  lostHttpShare: number;
  /** share of TLS connections whose TLS event is lost (HTTP records only) */
  lostTlsShare: number;
}

export interface SimulatorOptions {
  seed?: number;
  /** requests/s of simulated time */
  rate?: number;
  durationS?: number;
  /** default now */
  startUs?: number;
  population?: Partial<PopulationSpec>;
  realtime?: boolean;
}

export interface LabelRow {
  client_ip: string;
  family: string;
  is_bot: boolean;
  bot_name: string;
}

export interface SimulatedBatch {
  /** flow-event JSON lines (src/capture/tls-event.ts) */
  tls: string[];
  /** mod_reqin_log JSON lines (docs/mod_reqin_log.md) */
  http: string[];
  /** labels of the clients first seen in this batch */
  labels: LabelRow[];
}

export const HUMAN_FAMILIES: readonly string[] = [
  'chrome',
  'firefox',
  'safari',
  'edge',
  'chrome-mobile',
  'safari-mobile',
];

export const BOT_FAMILIES: readonly string[] = [
  'curl',
  'python-requests',
  'go-http',
  'headless-chrome',
  'scraper',
  'credential-stuffer',
  'vuln-scanner',
  'low-and-slow',
  'ua-spoofer',
  'crawler',
  'api-client',
];

/** Deterministic for a given seed. Yields batches in time order (simulated time); realtime=true paces them on the wall clock. */
// eslint-disable-next-line require-yield
export async function* simulate(opts: SimulatorOptions): AsyncGenerator<SimulatedBatch> {
  void opts;
  throw new Error('simulate: not implemented yet');
}
