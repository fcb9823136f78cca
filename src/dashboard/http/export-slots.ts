// Concurrency slots for expensive exports (the CSV export reads and builds
// up to 100,000 rows in memory per request): at most maxPerUser running
// per user and maxTotal overall; past either the request is refused (429)
// rather than queued, so memory stays bounded whoever clicks how often.
import { HttpError } from './errors.js';

export interface ExportSlotOptions {
  maxPerUser: number;
  maxTotal: number;
  /** Retry-After of a refusal, seconds */
  retryAfterS: number;
}

export const DEFAULT_EXPORT_SLOTS: ExportSlotOptions = { maxPerUser: 1, maxTotal: 2, retryAfterS: 5 };

export class ExportSlots {
  private readonly perUser = new Map<string, number>();
  private total = 0;

  constructor(private readonly opts: ExportSlotOptions = DEFAULT_EXPORT_SLOTS) {}

  /** Takes a slot for `user` and returns its release, or throws 429 when none is free. */
  acquire(user: string): () => void {
    const mine = this.perUser.get(user) ?? 0;
    if (mine >= this.opts.maxPerUser || this.total >= this.opts.maxTotal) {
      const why = mine >= this.opts.maxPerUser ? `at most ${this.opts.maxPerUser} export at a time per user` : `at most ${this.opts.maxTotal} exports at a time`;
      throw new HttpError('rate_limited', `${why}; try again in ${this.opts.retryAfterS} s`, undefined, { 'Retry-After': String(this.opts.retryAfterS) });
    }
    this.perUser.set(user, mine + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const left = (this.perUser.get(user) ?? 1) - 1;
      if (left > 0) this.perUser.set(user, left);
      else this.perUser.delete(user);
    };
  }

  get running(): number {
    return this.total;
  }
}
