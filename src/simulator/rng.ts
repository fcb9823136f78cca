// A seeded pseudo-random generator and the distributions the simulator draws
// from. Everything random in a simulation comes from one of these, so a seed
// reproduces the output byte for byte.

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, PractRand-clean):
 * four 32-bit words of state, no multiplication, fast in V8.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = 0xb7e15162;
    this.d = seed >>> 0;
    // Seeds that differ in one bit must give unrelated streams: discard the
    // first outputs, as the generator's author recommends.
    for (let i = 0; i < 15; i++) this.u32();
    this.a ^= Math.floor(seed / 0x100000000) >>> 0;
    for (let i = 0; i < 8; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** A child generator with its own stream (one per client, so clients do not disturb each other). */
  fork(): Rng {
    return new Rng(this.u32() * 0x100000 + (this.u32() & 0xfffff));
  }

  /** Integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  uniform(lo: number, hi: number): number {
    return lo + this.next() * (hi - lo);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Picks by weight: [[item, weight], ...]. */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let x = this.next() * total;
    for (const [item, w] of items) {
      x -= w;
      if (x < 0) return item;
    }
    return items[items.length - 1]![0];
  }

  /** Exponential with the given mean (Poisson-process gaps). */
  exp(mean: number): number {
    return -Math.log(1 - this.next()) * mean;
  }

  private spare = Number.NaN;

  /** Standard normal (Box-Muller: each pair of uniforms gives two normals; the second is kept for the next call). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const z = this.spare;
      this.spare = Number.NaN;
      return z;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /**
   * Log-normal with the given median and shape: human think times and
   * response sizes are log-normal (median, heavy right tail).
   */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  /** Geometric count >= 0 with the given mean. */
  geometric(mean: number): number {
    if (mean <= 0) return 0;
    const p = 1 / (mean + 1);
    return Math.floor(Math.log(1 - this.next()) / Math.log(1 - p));
  }

  /** Random bytes as hex (ids, cookies). */
  hex(bytes: number): string {
    let s = '';
    for (let i = 0; i < bytes; i++) s += (this.u32() & 0xff).toString(16).padStart(2, '0');
    return s;
  }
}
