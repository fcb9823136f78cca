// Benford first-digit test of inter-request intervals, calibrated to the
// sample size. The issue: "a Benford first-digit deviation calibrated to the
// sample size (a statistic with its p-value or a null simulated at that n,
// not a fixed cutoff: below ~100 intervals a raw deviation is noise)".
//
// The statistic is Pearson's chi-square over the nine first digits
// (sql/0008 computes it: n * sum((p_d - e_d)^2 / e_d)). Its p-value:
//   * n >= 100: the asymptotic chi-square law with 8 degrees of freedom
//     (every expected cell count n*log10(1+1/9) >= 4.6, the usual rule);
//   * 10 <= n < 100: a null simulated at exactly that n (Benford digits
//     drawn n at a time), cached per n and seeded by n, so it is
//     deterministic;
//   * n < 10: no evidence either way, p = 1.
// The model feature is -log10(p), capped: a large value means the timing is
// far from the spread-out intervals that human think times give.

export const BENFORD_ASYMPTOTIC_MIN_N = 100;
export const BENFORD_MIN_N = 10;
export const BENFORD_NULL_DRAWS = 2000;
/** -log10(p) above this carries no more information (and keeps the scale bounded) */
export const BENFORD_MAX_NEGLOG10_P = 30;

const EXPECTED = Array.from({ length: 9 }, (_, i) => Math.log10(1 + 1 / (i + 1)));

/**
 * Survival function of the chi-square law with 8 degrees of freedom. For an
 * even number of degrees of freedom 2k it is closed-form:
 * Q(x; 2k) = e^(-x/2) * sum_{i<k} (x/2)^i / i!.
 */
export function chiSquare8Survival(x: number): number {
  if (!(x > 0)) return 1;
  const h = x / 2;
  let term = 1;
  let sum = 1;
  for (let i = 1; i < 4; i++) {
    term *= h / i;
    sum += term;
  }
  return Math.min(1, Math.exp(-h) * sum);
}

/** mulberry32: a small seeded generator, enough for a null distribution (and for test data). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const CUMULATIVE = EXPECTED.map((_, i) => EXPECTED.slice(0, i + 1).reduce((s, x) => s + x, 0));

/** Chi-square of digit counts against Benford. */
export function benfordChiSquare(counts: ArrayLike<number>): number {
  let n = 0;
  for (let d = 0; d < 9; d++) n += counts[d]!;
  if (n === 0) return 0;
  let chi2 = 0;
  for (let d = 0; d < 9; d++) {
    const p = counts[d]! / n;
    chi2 += (p - EXPECTED[d]!) ** 2 / EXPECTED[d]!;
  }
  return n * chi2;
}

const nullCache = new Map<number, Float64Array>();

/** The sorted chi-square values of BENFORD_NULL_DRAWS Benford samples of size n. */
function simulatedNull(n: number): Float64Array {
  let sims = nullCache.get(n);
  if (sims) return sims;
  const rand = mulberry32(0x8e4f0d + n);
  sims = new Float64Array(BENFORD_NULL_DRAWS);
  const counts = new Float64Array(9);
  for (let s = 0; s < BENFORD_NULL_DRAWS; s++) {
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const u = rand();
      let d = 0;
      while (d < 8 && u >= CUMULATIVE[d]!) d++;
      counts[d]!++;
    }
    sims[s] = benfordChiSquare(counts);
  }
  sims.sort();
  nullCache.set(n, sims);
  return sims;
}

/** p-value of a Benford chi-square observed over n first digits. */
export function benfordPValue(chi2: number, n: number): number {
  if (!(n >= BENFORD_MIN_N) || !Number.isFinite(chi2)) return 1;
  if (n >= BENFORD_ASYMPTOTIC_MIN_N) return chiSquare8Survival(chi2);
  const sims = simulatedNull(Math.round(n));
  // share of null draws at least as extreme, with the +1 that keeps a
  // Monte Carlo p-value valid (never 0)
  let lo = 0;
  let hi = sims.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sims[mid]! < chi2 - 1e-9) lo = mid + 1;
    else hi = mid;
  }
  return (sims.length - lo + 1) / (sims.length + 1);
}

/** The model feature: -log10 of the p-value, capped. */
export function benfordEvidence(chi2: number, n: number): number {
  const p = benfordPValue(chi2, n);
  return Math.min(BENFORD_MAX_NEGLOG10_P, -Math.log10(Math.max(p, 1e-300)));
}
