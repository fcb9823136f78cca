// A stage of `ja4 run`: something that starts, stops, and reports counters.
// The pipeline starts stages in order and stops them in reverse order, so a
// stage may use the ones before it (the writer before the correlator before
// the inputs). Services of other parts plug in with an adapter:
//
//   pipeline.addStage(serviceStage('detector', () => startDetectorService(storage, opts)));
export interface Stage {
  readonly name: string;
  start(): Promise<void>;
  /** flushes what it holds and releases its resources; called once, in reverse start order */
  stop(): Promise<void>;
  /** counters and gauges for the progress line and /metrics (flat: name -> number) */
  stats(): Record<string, number>;
  /** why the stage cannot do its work any more (/healthz answers 503 with it); undefined: fine */
  unhealthy?(): string | undefined;
}

/** Anything with stop() (and optionally stats()) started by a function: a Stage. */
export function serviceStage<S extends { stop(): Promise<void>; stats?: () => unknown }>(name: string, startService: () => Promise<S> | S): Stage & { service(): S | undefined } {
  let svc: S | undefined;
  return {
    name,
    async start() {
      svc = await startService();
    },
    async stop() {
      await svc?.stop();
    },
    stats() {
      const s = svc?.stats?.();
      const out: Record<string, number> = {};
      if (s && typeof s === 'object') for (const [k, v] of Object.entries(s)) if (typeof v === 'number') out[k] = v;
      return out;
    },
    service: () => svc,
  };
}
