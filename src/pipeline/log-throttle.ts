// A log line repeated by a retry loop or a flood (a refusing disk, a failing
// sink, input dropped behind a slow correlator) is written at most once per
// interval; the counters next to it keep the full count.

/** A gate: true at most once per `ms` (the first call passes). */
export function logThrottle(ms = 10_000): () => boolean {
  let last = -Infinity;
  return () => {
    const now = Date.now();
    if (now - last < ms) return false;
    last = now;
    return true;
  };
}
