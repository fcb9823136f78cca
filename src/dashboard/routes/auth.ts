// Login, logout, the current session, and the public status route.
import { ROUTES, type LoginResponse, type MeResponse, type OkResponse, type SessionInfo, type StatusResponse } from '../api-types.js';
import { writeAuditBestEffort, writeAuditFirst } from '../audit.js';
import { burnPasswordCheck, verifyPassword } from '../auth/password.js';
import { sessionCookieName, type Session } from '../auth/sessions.js';
import { credentialStamp } from '../auth/user-store.js';
import type { DashboardDeps } from '../deps.js';
import { HttpError } from '../http/errors.js';
import { json, type Reply, type Request } from '../http/exchange.js';
import { jsonBody, requiredString } from '../http/params.js';
import type { Principal, Router } from '../router.js';

export const VERSION = '0.1.0';

/** The audit subject of a failed login under a name no account has. */
export const UNKNOWN_USER = '(unknown user)';

function sessionInfo(deps: DashboardDeps, p: Principal): SessionInfo {
  const s = p.session;
  return {
    user: { name: p.name, role: p.role },
    csrf_token: s?.csrf ?? '',
    expires_at: s ? deps.sessions.expiresAt(s).toISOString() : new Date(Date.now() + 86_400_000).toISOString(),
    via: p.via,
  };
}

/** Secure cookies for this request: over HTTPS (`auto`), or as forced by --secure-cookies. */
export function cookiesSecure(deps: Pick<DashboardDeps, 'secureCookies'>, requestSecure: boolean): boolean {
  return deps.secureCookies === 'auto' ? requestSecure : deps.secureCookies;
}

/** Over HTTPS `__Host-ja4_session` (Secure, Path=/, no Domain), else `ja4_session`. */
export function sessionCookie(deps: DashboardDeps, req: Request, value: string, maxAge: number): string {
  const secure = cookiesSecure(deps, req.secure);
  return `${sessionCookieName(secure)}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}${secure ? '; Secure' : ''}`;
}

export function register(router: Router, deps: DashboardDeps): void {
  const { storage, users, sessions, limiter, hub, log } = deps;

  router.add(ROUTES.status, async (): Promise<StatusResponse> => ({ ok: true, server: deps.kind, version: VERSION, boot_id: deps.bootId, seq: hub.seq }));

  router.add(ROUTES.login, async ({ req }): Promise<Reply> => {
    const body = jsonBody(req.body);
    const username = requiredString(body, 'username', { min: 1, max: 64 });
    const password = requiredString(body, 'password', { min: 1, max: 1024 });
    // reserved before the ~100 ms password check: concurrent guesses count at once, not after their check
    const wait = limiter.begin(req.remoteIp, username);
    if (wait > 0) throw new HttpError('rate_limited', `too many failed logins; try again in ${wait} s`, undefined, { 'Retry-After': String(wait) });
    let user: Awaited<ReturnType<typeof users.get>>;
    let ok: boolean;
    try {
      user = await users.get(username);
      ok = user ? await verifyPassword(password, user.password_hash) : (await burnPasswordCheck(password), false);
    } catch (err) {
      limiter.release(req.remoteIp, username);
      throw err;
    }
    const audit = { subject_type: 'user', client_ip: req.remoteIp, request_id: req.requestId };
    if (!user || !ok) {
      limiter.failed(req.remoteIp, username);
      // An unknown name is often a password typed into the wrong field: it is
      // never written (every analyst reads the audit trail). A known account's
      // name is kept: attacks on a real account are what the SOC looks for.
      const who = user ? { actor: user.name, subject: user.name } : { actor: '', subject: UNKNOWN_USER };
      // best effort: a trail that cannot be written must not turn a 401 into something else (logged)
      await writeAuditBestEffort(storage, { ...audit, ...who, role: '', action: 'login.failed', after: { reason: user ? 'bad password' : 'unknown user' } }, log);
      throw new HttpError('unauthorized', 'invalid user name or password');
    }
    limiter.succeeded(req.remoteIp, username);
    // no session without its audit row: when it cannot be written, 503 audit_unavailable and no cookie
    await writeAuditFirst(storage, { ...audit, actor: user.name, subject: user.name, role: user.role, action: 'login', after: { role: user.role } });
    const { id, session } = sessions.create(user.name, user.role, Date.now(), credentialStamp(user.password_hash));
    const info: LoginResponse = sessionInfo(deps, { name: user.name, role: user.role, via: 'session', session: session as Session });
    return json(info, '200 OK', { 'Set-Cookie': sessionCookie(deps, req, id, sessions.maxAgeSeconds()) });
  });

  router.add(ROUTES.logout, async ({ req, principal }): Promise<Reply> => {
    const p = principal as Principal;
    // Best effort, and the session ends either way: refusing a logout because
    // the trail is down would keep a session open that its user wants closed.
    await writeAuditBestEffort(storage, { actor: p.name, role: p.role, action: 'logout', subject_type: 'user', subject: p.name, client_ip: req.remoteIp, request_id: req.requestId }, log);
    sessions.destroy(p.sessionId);
    const ok: OkResponse = { ok: true };
    return json(ok, '200 OK', { 'Set-Cookie': sessionCookie(deps, req, '', 0) });
  });

  router.add(ROUTES.me, async ({ principal }): Promise<MeResponse> => sessionInfo(deps, principal as Principal));
}
