// Login rate limiting: failed attempts counted per client IP and per user
// name in a fixed window. Past the limit, logins are refused (429 with
// Retry-After) until the window ends, even with the right password, so a
// guesser learns nothing. An attempt is reserved (begin) before its
// password is checked and settled after (failed / succeeded / release): a
// check takes ~100 ms of scrypt, and counting only after it would let a
// burst of concurrent guesses all pass the limit check before the first
// failure is counted. Bounded: at most maxKeys keys are tracked (the
// oldest forgotten first).
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

export class LoginRateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly opts: RateLimitOptions = DEFAULT_RATE_LIMIT) {}

  private window(key: string, now: number): Window {
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.opts.windowMs) {
      this.windows.delete(key);
      w = { start: now, failures: 0, pending: 0 };
      while (this.windows.size >= this.opts.maxKeys) {
        const oldest = this.windows.keys().next().value;
        if (oldest === undefined) break;
        this.windows.delete(oldest);
      }
      this.windows.set(key, w);
    }
    return w;
  }

  /** Seconds to wait before another attempt, or 0 when allowed. */
  retryAfter(ip: string, user: string, now = Date.now()): number {
    const byIp = this.window(`ip:${ip}`, now);
    const byUser = this.window(`user:${user.toLowerCase()}`, now);
    const wait = (w: Window): number => Math.ceil((w.start + this.opts.windowMs - now) / 1000);
    if (byIp.failures + byIp.pending >= this.opts.maxPerIp) return wait(byIp);
    if (byUser.failures + byUser.pending >= this.opts.maxPerUser) return wait(byUser);
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
    this.window(`ip:${ip}`, now).pending++;
    this.window(`user:${user.toLowerCase()}`, now).pending++;
    return 0;
  }

  /** A failed attempt (begun or not): counted against the IP and the name. */
  failed(ip: string, user: string, now = Date.now()): void {
    for (const w of [this.window(`ip:${ip}`, now), this.window(`user:${user.toLowerCase()}`, now)]) {
      w.pending = Math.max(0, w.pending - 1);
      w.failures++;
    }
  }

  /** A success clears the user's count (not the IP's: one account must not reset a spray). */
  succeeded(ip: string, user: string, now = Date.now()): void {
    this.release(ip, user, now);
    this.windows.delete(`user:${user.toLowerCase()}`);
  }

  /** An attempt that ended without a verdict (e.g. the database failed): not counted. */
  release(ip: string, user: string, now = Date.now()): void {
    for (const key of [`ip:${ip}`, `user:${user.toLowerCase()}`]) {
      const w = this.windows.get(key);
      if (w && now - w.start < this.opts.windowMs) w.pending = Math.max(0, w.pending - 1);
    }
  }
}
