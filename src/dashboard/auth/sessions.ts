// Login sessions, in memory: a restart logs everyone out (wall screens use
// tokens, which live in the database). The cookie holds a random id; the
// map is keyed by its SHA-256 so that a heap dump does not hand out live
// cookies. Each session has its own CSRF token (synchronizer pattern: the
// client echoes it in X-CSRF-Token on every mutation; a cross-site form
// cannot read it). Bounded per user (past maxPerUser a login ends that
// user's oldest session, so one account logging in again and again cannot
// push everyone else out) and overall (past maxSessions, expired sessions
// go first, then the oldest).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../api-types.js';

export interface Session {
  user: string;
  role: Role;
  csrf: string;
  createdAt: number;
  lastSeen: number;
  /** the user's credential stamp at login (user-store credentialStamp); '' when not known */
  credential: string;
}

export interface SessionOptions {
  /** a session unused this long ends */
  idleMs: number;
  /** a session ends this long after login whatever its use */
  absoluteMs: number;
  maxSessions: number;
  /** sessions one user may hold; a login past it ends that user's oldest */
  maxPerUser: number;
}

// absoluteMs: dashboard.session_ttl_s's default (12 h: an analyst's shift,
// then a new login)
export const DEFAULT_SESSION_OPTIONS: SessionOptions = { idleMs: 8 * 3_600_000, absoluteMs: 12 * 3_600_000, maxSessions: 10_000, maxPerUser: 20 };
export const SESSION_COOKIE = 'ja4_session';
/**
 * The session cookie's name over HTTPS. A browser keeps a `__Host-` cookie
 * only when it is Secure, has Path=/ and no Domain, and was set over HTTPS:
 * a sibling subdomain or a plain-HTTP page cannot plant one (cookie
 * tossing, session fixation). Over plain HTTP it would be refused, so
 * there the name stays `ja4_session`.
 */
export const SECURE_SESSION_COOKIE = '__Host-ja4_session';

/** The session cookie's name for a request the browser made over HTTPS or not. */
export function sessionCookieName(secure: boolean): string {
  return secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE;
}

const hashId = (id: string): string => createHash('sha256').update(id).digest('base64url');

export class SessionStore {
  private readonly sessions = new Map<string, Session>();
  /** called after a logout, a removal, a password change or a reconcile ended sessions (the hub closes their WebSockets at once) */
  onEnded: (() => void) | undefined;

  constructor(private readonly opts: SessionOptions = DEFAULT_SESSION_OPTIONS) {}

  create(user: string, role: Role, now = Date.now(), credential = ''): { id: string; session: Session } {
    const id = randomBytes(32).toString('base64url');
    const session: Session = { user, role, csrf: randomBytes(24).toString('base64url'), createdAt: now, lastSeen: now, credential };
    // one pass (at most maxSessions, per login: logins are rate-limited and cost a scrypt check):
    // expired sessions go, and the user's own oldest past their cap
    const mine: string[] = [];
    for (const [key, s] of this.sessions) {
      if (this.expired(s, now)) this.sessions.delete(key);
      else if (s.user === user) mine.push(key);
    }
    for (let i = 0; i <= mine.length - this.opts.maxPerUser; i++) this.sessions.delete(mine[i]!);
    while (this.sessions.size >= this.opts.maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest === undefined) break;
      this.sessions.delete(oldest);
    }
    this.sessions.set(hashId(id), session);
    return { id, session };
  }

  /** The live session of a cookie value (touching it), or undefined. */
  get(id: string | undefined, now = Date.now()): Session | undefined {
    const s = this.peek(id, now);
    if (s) s.lastSeen = now;
    return s;
  }

  /**
   * The live session of a cookie value without touching it (an open
   * WebSocket's re-check: a screen left open must not keep its session
   * from idling out), or undefined.
   */
  peek(id: string | undefined, now = Date.now()): Session | undefined {
    if (!id || id.length > 128) return undefined;
    const key = hashId(id);
    const s = this.sessions.get(key);
    if (!s) return undefined;
    if (this.expired(s, now)) {
      this.sessions.delete(key);
      return undefined;
    }
    return s;
  }

  private expired(s: Session, now: number): boolean {
    return now - s.lastSeen > this.opts.idleMs || now - s.createdAt > this.opts.absoluteMs;
  }

  expiresAt(s: Session): Date {
    return new Date(Math.min(s.lastSeen + this.opts.idleMs, s.createdAt + this.opts.absoluteMs));
  }

  destroy(id: string | undefined): void {
    if (id && this.sessions.delete(hashId(id))) this.onEnded?.();
  }

  /** After a role change, a password change or a removal. */
  updateUser(user: string, change: { role?: Role; remove?: boolean }): void {
    let ended = false;
    for (const [key, s] of this.sessions) {
      if (s.user !== user) continue;
      if (change.remove) ended = this.sessions.delete(key) || ended;
      else if (change.role) s.role = change.role;
    }
    if (ended) this.onEnded?.();
  }

  /**
   * Sessions against the users as the database has them now (`since`: when
   * that read began; sessions opened after it are left alone): a removed
   * user's or a changed password's sessions end, a role change applies.
   * Changes made through this server's API are applied at once by
   * updateUser; this catches those made elsewhere (`ja4 user` against a
   * ClickHouse server, another dashboard process).
   */
  reconcile(users: ReadonlyMap<string, { role: Role; credential: string }>, since: number): { ended: number; roles: number } {
    let ended = 0;
    let roles = 0;
    for (const [key, s] of this.sessions) {
      if (s.createdAt > since) continue;
      const u = users.get(s.user);
      if (!u || (s.credential !== '' && u.credential !== s.credential)) {
        this.sessions.delete(key);
        ended++;
      } else if (u.role !== s.role) {
        s.role = u.role;
        roles++;
      }
    }
    if (ended > 0) this.onEnded?.();
    return { ended, roles };
  }

  get size(): number {
    return this.sessions.size;
  }

  maxAgeSeconds(): number {
    return Math.floor(this.opts.absoluteMs / 1000);
  }
}

export function csrfMatches(session: Session, header: string | undefined): boolean {
  if (!header) return false;
  const a = Buffer.from(session.csrf);
  const b = Buffer.from(header);
  return a.length === b.length && timingSafeEqual(a, b);
}
