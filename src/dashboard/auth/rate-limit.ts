// Login rate limiting: failed attempts counted per client IP and per user
// name in a fixed window. Past the limit, logins are refused (429 with
// Retry-After) until the window ends, even with the right password, so a
// guesser learns nothing.
//
// An attempt is reserved (begin) before its password is checked and
// settled after (failed / succeeded / release): a check takes ~100 ms of
// scrypt, and counting only after it would let a burst of concurrent
// guesses all pass the limit check before the first failure is counted.
// Failures plus attempts in flight are what the limit is measured against.
//
// Bounded: at most maxKeys keys are tracked. Only an attempt creates a key
// (a refused one creates nothing); when full, expired keys go first, then
// the oldest key under its limit with nothing in flight. A key at its limit
// is never forgotten: if only those are left, new keys are refused (the
// login gets a 429), failing closed rather than erasing a lockout.
export interface RateLimitOptions {
  windowMs: number;
  maxPerIp: number;
  maxPerUser: number;
  maxKeys: number;
}

export const DEFAULT_RATE_LIMIT: RateLimitOptions = { windowMs: 15 * 60_000, maxPerIp: 20, maxPerUser: 5, maxKeys: 50_000 };

interface Window {
  start: number;
  failures: number;
  /** attempts begun and not yet settled */
  pending: number;
}

/** The two keys an attempt counts against: its client IP and its user name (case-insensitive). */
function keysOf(ip: string, user: string): [byIp: string, byUser: string] {
  return [`ip:${ip}`, `user:${user.toLowerCase()}`];
}

/** how many under-limit keys a new key may look past for one to evict (bounds the work per attempt) */
const EVICTION_SCAN = 64;

export class LoginRateLimiter {
  /** keys under their limit, oldest window first */
  private readonly open = new Map<string, Window>();
  /** keys that reached their limit: kept until their window ends */
  private readonly locked = new Map<string, Window>();

  constructor(private readonly opts: RateLimitOptions = DEFAULT_RATE_LIMIT) {}

  get size(): number {
    return this.open.size + this.locked.size;
  }

  private limit(key: string): number {
    return key.startsWith('ip:') ? this.opts.maxPerIp : this.opts.maxPerUser;
  }

  private expired(w: Window, now: number): boolean {
    return now - w.start >= this.opts.windowMs;
  }

  /** The live window of a key, or undefined; reads only. */
  private peek(key: string, now: number): Window | undefined {
    const w = this.open.get(key) ?? this.locked.get(key);
    return w && !this.expired(w, now) ? w : undefined;
  }

  private forget(key: string): void {
    this.open.delete(key);
    this.locked.delete(key);
  }

  /** The live window of a key, created when missing (undefined: full of keys that must be kept). */
  private window(key: string, now: number): Window | undefined {
    const live = this.peek(key, now);
    if (live) return live;
    this.forget(key);
    if (this.size >= this.opts.maxKeys && !this.evictOne(now)) return undefined;
    const w: Window = { start: now, failures: 0, pending: 0 };
    this.open.set(key, w);
    return w;
  }

  private evictOne(now: number): boolean {
    for (const map of [this.open, this.locked]) {
      const first = map.entries().next().value;
      if (first && this.expired(first[1], now)) {
        map.delete(first[0]);
        return true;
      }
    }
    let scanned = 0;
    for (const [key, w] of this.open) {
      if (w.pending === 0 || this.expired(w, now)) {
        this.open.delete(key);
        return true;
      }
      if (++scanned === EVICTION_SCAN) break;
    }
    return false;
  }

  private waitSeconds(w: Window, now: number): number {
    return Math.max(1, Math.ceil((w.start + this.opts.windowMs - now) / 1000));
  }

  /** Seconds to wait before another attempt, or 0 when allowed. Creates nothing. */
  retryAfter(ip: string, user: string, now = Date.now()): number {
    for (const key of keysOf(ip, user)) {
      const w = this.peek(key, now);
      if (w && w.failures + w.pending >= this.limit(key)) return this.waitSeconds(w, now);
    }
    return 0;
  }

  /**
   * Reserves an attempt before its password is checked: 0 when allowed
   * (then settle it with failed(), succeeded() or release()), else the
   * seconds to wait.
   */
  begin(ip: string, user: string, now = Date.now()): number {
    const wait = this.retryAfter(ip, user, now);
    if (wait > 0) return wait;
    const refused = Math.ceil(this.opts.windowMs / 1000); // full of keys that must be kept: fail closed
    const [ipKey, userKey] = keysOf(ip, user);
    const byIp = this.window(ipKey, now);
    if (!byIp) return refused;
    byIp.pending++; // before the name's key is made: an eviction for it must not take this one
    const byUser = this.window(userKey, now);
    if (!byUser) {
      byIp.pending--;
      return refused;
    }
    byUser.pending++;
    return 0;
  }

  /** A failed attempt (begun or not): counted against the IP and the name. */
  failed(ip: string, user: string, now = Date.now()): void {
    for (const key of keysOf(ip, user)) {
      const w = this.window(key, now);
      if (!w) continue;
      w.pending = Math.max(0, w.pending - 1);
      w.failures++;
      if (w.failures >= this.limit(key) && this.open.delete(key)) this.locked.set(key, w);
    }
  }

  /** A success clears the user's count (not the IP's: one account must not reset a spray). */
  succeeded(ip: string, user: string, now = Date.now()): void {
    this.release(ip, user, now);
    this.forget(keysOf(ip, user)[1]);
  }

  /** An attempt that ended without a verdict (e.g. the database failed): not counted. */
  release(ip: string, user: string, now = Date.now()): void {
    for (const key of keysOf(ip, user)) {
      const w = this.peek(key, now);
      if (w) w.pending = Math.max(0, w.pending - 1);
    }
  }
}
