// Login rate limiting: failed attempts counted per client IP and per user
// name in a fixed window. Past the limit, logins are refused (429 with
// Retry-After) until the window ends, even with the right password, so a
// guesser learns nothing. Bounded: at most maxKeys keys are tracked (the
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
}

export class LoginRateLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly opts: RateLimitOptions = DEFAULT_RATE_LIMIT) {}

  private window(key: string, now: number): Window {
    let w = this.windows.get(key);
    if (!w || now - w.start >= this.opts.windowMs) {
      this.windows.delete(key);
      w = { start: now, failures: 0 };
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
    if (byIp.failures >= this.opts.maxPerIp) return wait(byIp);
    if (byUser.failures >= this.opts.maxPerUser) return wait(byUser);
    return 0;
  }

  failed(ip: string, user: string, now = Date.now()): void {
    this.window(`ip:${ip}`, now).failures++;
    this.window(`user:${user.toLowerCase()}`, now).failures++;
  }

  /** A success clears the user's count (not the IP's: one account must not reset a spray). */
  succeeded(user: string): void {
    this.windows.delete(`user:${user.toLowerCase()}`);
  }
}
