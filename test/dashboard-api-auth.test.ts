// Authentication and every mutation of the dashboard API, over real HTTP
// and the real embedded engine: login (cookie attributes, failures, rate
// limits), roles, CSRF, wall tokens, classifications (rows the detector
// reads, audit before/after, injection strings as data) and user changes.
import t from 'tap';
import WebSocket from 'ws';
import { TABLES } from '../src/storage/index.js';
import type { AuditEntry } from '../src/dashboard/api-types.js';
import { startDashboard } from '../src/dashboard/server.js';
import { INJECTION, JA4_GO } from './helpers/storage-fixture.js';
import { CAMPAIGN, IP_B, IP_D, PASSWORD, TEST_SCRYPT_COST, USERS, api, login, startDashboardFixture } from './helpers/dashboard-fixture.js';
import { silentLogger } from '../src/config/index.js';
import { UserStore } from '../src/dashboard/auth/user-store.js';

const fx = await startDashboardFixture(t);
const d = fx.dashboard;

/** the audit columns this file reads: the API's AuditEntry less ts and request_id */
type AuditRow = Omit<AuditEntry, 'ts' | 'request_id'>;
async function auditRows(action: string, subject: string): Promise<AuditRow[]> {
  return fx.storage.query<AuditRow>(
    `SELECT actor, role, action, subject_type, subject, before, after, note, toString(client_ip) AS client_ip FROM ${TABLES.auditLogs}
     WHERE action = {action:String} AND subject = {subject:String} ORDER BY ts`,
    { action, subject },
  );
}

t.test('login: session cookie, me, logout', async (t) => {
  const r = await api(d, '/api/auth/login', { method: 'POST', body: { username: USERS.analyst, password: PASSWORD } });
  t.equal(r.status, 200);
  const cookie = r.headers.get('set-cookie')!;
  t.match(cookie, /^ja4_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/, 'HttpOnly, SameSite=Strict, no Secure over plain HTTP');
  t.match(r.body, { user: { name: USERS.analyst, role: 'analyst' }, via: 'session', csrf_token: /^[A-Za-z0-9_-]{32}$/ });
  const session = { cookie: cookie.split(';')[0]!, csrf: r.body.csrf_token };
  t.match((await api(d, '/api/auth/me', { login: session })).body, { user: { name: USERS.analyst }, csrf_token: session.csrf });
  const rows = await auditRows('login', USERS.analyst);
  t.match(rows.at(-1), { actor: USERS.analyst, role: 'analyst', subject_type: 'user', before: '', after: '{"role":"analyst"}', client_ip: '::ffff:127.0.0.1' });
  t.equal((await api(d, '/api/auth/logout', { method: 'POST', login: session, csrf: false })).status, 403, 'logout is a mutation: CSRF token needed');
  const out = await api(d, '/api/auth/logout', { method: 'POST', login: session });
  t.equal(out.status, 200);
  t.match(out.headers.get('set-cookie'), /^ja4_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0/);
  t.equal((await api(d, '/api/auth/me', { login: session })).status, 401, 'the session is gone');
  t.equal((await auditRows('logout', USERS.analyst)).length, 1);
});

t.test('Secure cookies behind a TLS proxy', async (t) => {
  const proxied = await startDashboard(fx.storage, { listen: '127.0.0.1:0', trustProxy: true, publisher: false, log: silentLogger() });
  t.teardown(() => proxied.stop());
  // the client sent "203.0.113.99" and "http" itself; the proxy appended what it saw
  const headers = { 'x-forwarded-proto': 'http, https', 'x-forwarded-for': '203.0.113.99, 192.0.2.44' };
  const r = await api(proxied, '/api/auth/login', { method: 'POST', body: { username: USERS.viewer, password: PASSWORD }, headers });
  t.match(r.headers.get('set-cookie'), /; Secure$/, "the scheme the proxy appended");
  const rows = await auditRows('login', USERS.viewer);
  t.equal(rows.at(-1)!.client_ip, '::ffff:192.0.2.44', 'the client address the proxy appended to X-Forwarded-For, not the forged one before it');
  const spoofed = await api(proxied, '/api/auth/login', { method: 'POST', body: { username: USERS.viewer, password: PASSWORD }, headers: { 'x-forwarded-proto': 'https, http' } });
  t.notMatch(spoofed.headers.get('set-cookie'), /Secure/, 'a client-sent https before the proxy\'s http is not believed');
  const direct = await api(d, '/api/auth/login', { method: 'POST', body: { username: USERS.viewer, password: PASSWORD }, headers: { 'x-forwarded-for': '192.0.2.45' } });
  t.notMatch(direct.headers.get('set-cookie'), /Secure/);
  t.equal((await auditRows('login', USERS.viewer)).at(-1)!.client_ip, '::ffff:127.0.0.1', 'without --trust-proxy the header is ignored');
});

t.test('over HTTPS the session cookie is __Host-ja4_session (no Domain, Path=/, Secure); over HTTP plain ja4_session', async (t) => {
  const proxied = await startDashboard(fx.storage, { listen: '127.0.0.1:0', trustProxy: true, scryptCost: TEST_SCRYPT_COST, publisher: false, log: silentLogger() });
  t.teardown(() => proxied.stop());
  const https = { 'x-forwarded-proto': 'https' };
  const r = await api(proxied, '/api/auth/login', { method: 'POST', body: { username: USERS.viewer, password: PASSWORD }, headers: https });
  const set = r.headers.get('set-cookie')!;
  t.match(set, /^__Host-ja4_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/, 'the __Host- prefix: the browser refuses it from a subdomain or over HTTP');
  const id = set.split(';')[0]!.split('=')[1]!;
  t.equal((await api(proxied, '/api/auth/me', { headers: { ...https, cookie: `__Host-ja4_session=${id}` } })).status, 200);
  t.equal((await api(proxied, '/api/auth/me', { headers: { ...https, cookie: `ja4_session=${id}` } })).status, 401, 'over HTTPS only the __Host- cookie is read (a tossed ja4_session is not)');
  const ws = new WebSocket(`${proxied.url.replace('http:', 'ws:')}/ws`, { headers: { ...https, cookie: `__Host-ja4_session=${id}`, origin: proxied.url } });
  const hello = await new Promise<any>((resolve, reject) => {
    ws.on('message', (m) => resolve(JSON.parse(String(m))));
    ws.on('close', (code) => reject(new Error(`closed ${code}`)));
  });
  ws.close();
  t.match(hello, { type: 'hello', user: { name: USERS.viewer } }, 'the live feed reads the same cookie behind the TLS proxy');
  const out = await api(proxied, '/api/auth/logout', { method: 'POST', headers: { ...https, cookie: `__Host-ja4_session=${id}`, 'x-csrf-token': r.body.csrf_token } });
  t.match(out.headers.get('set-cookie'), /^__Host-ja4_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0; Secure$/, 'logout clears the same cookie');
  const always = await startDashboard(fx.storage, { listen: '127.0.0.1:0', secureCookies: true, scryptCost: TEST_SCRYPT_COST, publisher: false, log: silentLogger() });
  t.teardown(() => always.stop());
  const a = await api(always, '/api/auth/login', { method: 'POST', body: { username: USERS.viewer, password: PASSWORD } });
  t.match(a.headers.get('set-cookie'), /^__Host-ja4_session=\S+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200; Secure$/, '--secure-cookies always: served over HTTPS by a proxy');
  const plain = await api(proxied, '/api/auth/login', { method: 'POST', body: { username: USERS.viewer, password: PASSWORD }, headers: { 'x-forwarded-proto': 'http' } });
  t.match(plain.headers.get('set-cookie'), /^ja4_session=\S+; Path=\/; HttpOnly; SameSite=Strict; Max-Age=43200$/, 'over plain HTTP: ja4_session, no Secure (a __Host- cookie would be refused)');
});

t.test('failed logins: 401, audited, then rate limited', async (t) => {
  await fx.users.add('locky', 'viewer', PASSWORD);
  const wrong = await api(d, '/api/auth/login', { method: 'POST', body: { username: 'locky', password: 'not the password' } });
  t.same(wrong.body, { error: { code: 'unauthorized', message: 'invalid user name or password' } });
  t.equal((await api(d, '/api/auth/login', { method: 'POST', body: { username: 'nobody', password: 'x' } })).body.error.message, 'invalid user name or password', 'same answer for an unknown user');
  t.match(await auditRows('login.failed', 'locky'), [{ actor: 'locky', action: 'login.failed', after: '{"reason":"bad password"}' }]);
  for (let i = 0; i < 4; i++) await api(d, '/api/auth/login', { method: 'POST', body: { username: 'locky', password: `guess-${i}` } });
  const blocked = await api(d, '/api/auth/login', { method: 'POST', body: { username: 'locky', password: PASSWORD } });
  t.equal(blocked.status, 429, 'the 6th attempt is refused, even with the right password');
  t.equal(blocked.body.error.code, 'rate_limited');
  t.ok(Number(blocked.headers.get('retry-after')) > 800, 'Retry-After: the rest of the 15-minute window');
  t.equal((await api(d, '/api/auth/login', { method: 'POST', body: { username: USERS.viewer, password: PASSWORD } })).status, 200, 'another user from the same IP still logs in');

  const strict = await startDashboard(fx.storage, { listen: '127.0.0.1:0', trustProxy: true, rateLimit: { maxPerIp: 3 }, publisher: false, log: silentLogger() });
  t.teardown(() => strict.stop());
  const from = (ip: string, username: string, password = 'bad-password-x') =>
    api(strict, '/api/auth/login', { method: 'POST', body: { username, password }, headers: { 'x-forwarded-for': ip } });
  for (const name of ['u1', 'u2', 'u3']) t.equal((await from('192.0.2.9', name)).status, 401);
  t.equal((await from('192.0.2.9', USERS.admin, PASSWORD)).status, 429, 'per IP: a spray over names is stopped');
  t.equal((await from('192.0.2.10', USERS.admin, PASSWORD)).status, 200, 'another IP is not');
  for (const [body, field] of [
    [{ password: 'x' }, 'username'],
    [{ username: 'a' }, 'password'],
    [{ username: 5, password: 'x' }, 'username'],
    [{ username: 'a'.repeat(65), password: 'x' }, 'username'],
  ] as const) {
    t.equal((await api(d, '/api/auth/login', { method: 'POST', body })).body.error.field, field, `${JSON.stringify(body)}: names ${field}`);
  }
});

t.test('failed login of an unknown name: audited without the typed text (it may be a password)', async (t) => {
  const typed = 'Hunter2-typed-here';
  const r = await api(d, '/api/auth/login', { method: 'POST', body: { username: typed, password: 'whatever-was-typed' } });
  t.same([r.status, r.body.error.message], [401, 'invalid user name or password']);
  const rows = await fx.storage.query<Record<string, string>>(
    `SELECT actor, role, action, subject_type, subject, before, after, note, toString(client_ip) AS client_ip, request_id FROM ${TABLES.auditLogs} ORDER BY ts`,
  );
  t.match(rows.filter((row) => row.after === '{"reason":"unknown user"}').at(-1), { actor: '', role: '', action: 'login.failed', subject_type: 'user', subject: '(unknown user)', before: '', note: '' }, 'the failure is audited');
  t.same(rows.filter((row) => Object.values(row).some((v) => v.includes(typed))), [], 'no column of any audit row holds the typed name');
  const known = await auditRows('login.failed', 'locky');
  t.ok(known.length > 0 && known.every((row) => row.actor === 'locky'), 'a failed login of an existing account keeps its name');
});

t.test('login limit: concurrent guesses are counted before their check', async (t) => {
  // the default scrypt cost (~100 ms a check): without a reservation every guess of the burst passes the limit check
  await new UserStore(fx.storage, 2 ** 15).add('racer', 'viewer', PASSWORD);
  const racy = await startDashboard(fx.storage, { listen: '127.0.0.1:0', rateLimit: { maxPerUser: 5 }, publisher: false, log: silentLogger() });
  t.teardown(() => racy.stop());
  const attempt = (password: string) => api(racy, '/api/auth/login', { method: 'POST', body: { username: 'racer', password } }).then((r) => r.status);
  const wrong = Array.from({ length: 10 }, (_, i) => attempt(`wrong-guess-${i}`));
  // the right one a little later, while the wrong ones are still being checked
  const right = new Promise<number>((resolve) => setTimeout(() => resolve(attempt(PASSWORD)), 40));
  const statuses = await Promise.all([...wrong, right]);
  const count = (code: number) => statuses.filter((s) => s === code).length;
  // the right one normally arrives sixth or later (refused unchecked); on a loaded machine it may be among
  // the first five, and then it is one of the five checked: either way no attempt past the limit is checked
  t.same([count(401) + count(200), count(429)], [5, 6], 'five checked, the other six refused unchecked');
  t.equal(statuses[10], count(200) === 1 ? 200 : 429, 'the right password: checked only within the limit');
  t.equal((await auditRows('login.failed', 'racer')).length, count(401), 'only the checked guesses are audited');
  if (count(200) === 0) t.equal(await attempt(PASSWORD), 429, 'still locked out afterwards');
});

t.test('roles: viewer < analyst < admin', async (t) => {
  const viewer = await login(d, USERS.viewer);
  const analyst = await login(d, USERS.analyst);
  const admin = await login(d, USERS.admin);
  t.equal((await api(d, '/api/audit')).status, 401);
  const v = await api(d, '/api/audit', { login: viewer });
  t.same([v.status, v.body.error.code, v.body.error.message], [403, 'forbidden', `this needs the analyst role; ${USERS.viewer} is viewer`]);
  t.equal((await api(d, '/api/audit', { login: analyst })).status, 200);
  t.equal((await api(d, '/api/users', { login: analyst })).status, 403);
  t.equal((await api(d, '/api/users', { login: admin })).status, 200);
  const post = await api(d, '/api/classifications', { method: 'POST', login: viewer, body: { subject_type: 'ip', subject: IP_B, label: 'bot' } });
  t.equal(post.status, 403, 'a viewer cannot classify');
  t.equal((await api(d, '/api/users', { method: 'POST', login: analyst, body: { name: 'x', role: 'viewer', password: PASSWORD } })).status, 403);
});

t.test('CSRF: every mutation needs the session token', async (t) => {
  const analyst = await login(d, USERS.analyst);
  const body = { subject_type: 'ja4', subject: JA4_GO, label: 'bot' };
  const none = await api(d, '/api/classifications', { method: 'POST', login: analyst, body, csrf: false });
  t.same([none.status, none.body.error.code], [403, 'csrf']);
  const other = await login(d, USERS.analyst);
  t.equal((await api(d, '/api/classifications', { method: 'POST', login: analyst, body, csrf: other.csrf })).status, 403, "another session's token does not do");
  const cross = await api(d, '/api/classifications', { method: 'POST', login: analyst, body, headers: { origin: 'https://evil.example' } });
  t.same([cross.status, cross.body.error.code], [403, 'csrf'], 'a cross-origin request is refused even with the token');
  t.equal((await api(d, '/api/classifications', { method: 'POST', login: analyst, body, headers: { origin: d.url } })).status, 200, 'same origin, right token');
  t.equal((await auditRows('classify', JA4_GO)).length, 1, 'only the accepted request was written');
});

t.test('wall token: read-only, by header', async (t) => {
  const { token, token_id } = await fx.users.createToken('lobby');
  t.match(token, /^ja4w_[A-Za-z0-9_-]{32}$/);
  await new Promise((r) => setTimeout(r, 1100)); // past the token cache's refresh interval
  const bearer = { authorization: `Bearer ${token}` };
  const me = await api(d, '/api/auth/me', { headers: bearer });
  t.match(me.body, { user: { name: 'token:lobby', role: 'viewer' }, via: 'token', csrf_token: '' });
  t.equal((await api(d, '/api/overview', { headers: bearer })).status, 200);
  const write = await api(d, '/api/classifications', { method: 'POST', headers: bearer, body: { subject_type: 'ip', subject: IP_B, label: 'bot' } });
  t.same([write.status, write.body.error.code], [403, 'forbidden'], 'a wall token cannot classify (viewer role)');
  t.equal((await api(d, '/api/overview', { headers: { authorization: 'Bearer ja4w_wrong' } })).status, 401);
  t.ok(await fx.users.revokeToken(token_id));
  t.same(await fx.users.listTokens(), [], 'revoked tokens are not listed');
});

t.test('classify: rows for the detector, audit before/after, injection as data', async (t) => {
  const analyst = await login(d, USERS.analyst);
  const first = await api(d, '/api/classifications', { method: 'POST', login: analyst, body: { subject_type: 'ip', subject: IP_B, label: 'bot', note: INJECTION } });
  t.equal(first.status, 200);
  t.match(first.body, { classification: { subject_type: 'ip', subject: IP_B, label: 'bot', note: INJECTION, actor: USERS.analyst }, before: null });
  const second = await api(d, '/api/classifications', { method: 'POST', login: analyst, body: { subject_type: 'ip', subject: `::ffff:${IP_B}`, label: 'whitelisted', note: 'partner crawler' } });
  t.match(second.body, { classification: { subject: IP_B, label: 'whitelisted' }, before: { label: 'bot', note: INJECTION } }, 'an IPv4-mapped address is the same subject');
  const rows = await fx.storage.query<{ label: string; note: string; actor: string }>(
    `SELECT label, note, actor FROM ${TABLES.analystClassifications} FINAL WHERE subject_type = 'ip' AND subject = {s:String}`,
    { s: IP_B },
  );
  t.same(rows, [{ label: 'whitelisted', note: 'partner crawler', actor: USERS.analyst }], 'the verdict the detector reads: the last one');
  const [c1] = await auditRows('classify', IP_B);
  t.match(c1, { actor: USERS.analyst, role: 'analyst', subject_type: 'ip', before: '', note: INJECTION });
  t.match(JSON.parse(c1!.after), { label: 'bot', note: INJECTION });
  const [w] = await auditRows('whitelist', IP_B);
  t.match(JSON.parse(w!.before), { label: 'bot', note: INJECTION, actor: USERS.analyst });
  t.match(JSON.parse(w!.after), { label: 'whitelisted', note: 'partner crawler' });
  t.match((await api(d, `/api/ip/${IP_B}`, { login: analyst })).body.classification, { label: 'whitelisted', note: 'partner crawler' });
  const list = await api(d, '/api/classifications?subject_type=ip&label=whitelisted', { login: analyst });
  t.same(list.body.items.map((c: any) => c.subject), [IP_B]);
  const trail = await api(d, `/api/audit?subject=${IP_B}&action=classify`, { login: analyst });
  t.equal(trail.body.items.length, 1);
  t.equal(trail.body.items[0].note, INJECTION, 'the audit trail returns the note verbatim');

  for (const [body, field] of [
    [{ subject_type: 'host', subject: 'x', label: 'bot' }, 'subject_type'],
    [{ subject_type: 'ip', subject: 'x', label: 'bot' }, 'subject'],
    [{ subject_type: 'ja4', subject: INJECTION, label: 'bot' }, 'subject'],
    [{ subject_type: 'ip', subject: IP_B, label: 'evil' }, 'label'],
    [{ subject_type: 'ip', subject: IP_B, label: 'bot', note: 'n'.repeat(2001) }, 'note'],
    [{ subject_type: 'ip', subject: IP_B, label: 'bot', note: 7 }, 'note'],
  ] as const) {
    const r = await api(d, '/api/classifications', { method: 'POST', login: analyst, body });
    t.same([r.status, r.body.error.field], [400, field], `${JSON.stringify(body).slice(0, 60)}: names ${field}`);
  }
});

t.test('bulk classification of a cluster', async (t) => {
  const analyst = await login(d, USERS.analyst);
  const r = await api(d, '/api/classifications/bulk', { method: 'POST', login: analyst, body: { subject_type: 'ip', subjects: [IP_D, IP_B, IP_D], label: 'bot', note: CAMPAIGN } });
  t.same(r.body, { classified: 2 }, 'duplicates counted once');
  const members = await api(d, `/api/campaigns/${CAMPAIGN}/members`, { login: analyst });
  t.same(members.body.items.map((m: any) => m.classification), ['bot', 'bot']);
  t.equal((await auditRows('classify', IP_D)).length, 1);
  const camp = await api(d, '/api/classifications', { method: 'POST', login: analyst, body: { subject_type: 'campaign', subject: CAMPAIGN, label: 'bot' } });
  t.equal(camp.status, 200);
  t.equal((await api(d, '/api/campaigns', { login: analyst })).body.items[0].classification, 'bot');
  for (const [subjects, field] of [
    [[], 'subjects'],
    ['1.2.3.4', 'subjects'],
    [Array.from({ length: 501 }, (_, i) => `10.0.${i >> 8}.${i & 255}`), 'subjects'],
    [[IP_B, 'nope'], 'subjects[1]'],
  ] as const) {
    const e = await api(d, '/api/classifications/bulk', { method: 'POST', login: analyst, body: { subject_type: 'ip', subjects, label: 'bot' } });
    t.same([e.status, e.body.error.field], [400, field]);
  }
});

t.test('users: add, role, password, remove, each audited', async (t) => {
  const admin = await login(d, USERS.admin);
  const bad = await api(d, '/api/users', { method: 'POST', login: admin, body: { name: 'newbie', role: 'viewer', password: 'short' } });
  t.same([bad.status, bad.body.error.field], [400, 'password']);
  t.equal((await api(d, '/api/users', { method: 'POST', login: admin, body: { name: 'new bie', role: 'viewer', password: PASSWORD } })).body.error.field, 'name');
  t.equal((await api(d, '/api/users', { method: 'POST', login: admin, body: { name: 'newbie', role: 'root', password: PASSWORD } })).body.error.field, 'role');
  const add = await api(d, '/api/users', { method: 'POST', login: admin, body: { name: 'newbie', role: 'viewer', password: PASSWORD } });
  t.match(add.body, { user: { name: 'newbie', role: 'viewer' } });
  t.notOk('password_hash' in add.body.user, 'no hash in answers');
  t.equal((await api(d, '/api/users', { method: 'POST', login: admin, body: { name: 'newbie', role: 'viewer', password: PASSWORD } })).status, 409);
  t.match(await auditRows('user.add', 'newbie'), [{ actor: USERS.admin, role: 'admin', before: '', after: '{"name":"newbie","role":"viewer"}' }]);

  const newbie = await login(d, 'newbie');
  t.equal((await api(d, '/api/audit', { login: newbie })).status, 403);
  const promote = await api(d, '/api/users/newbie', { method: 'PATCH', login: admin, body: { role: 'analyst' } });
  t.match(promote.body, { user: { name: 'newbie', role: 'analyst' } });
  t.equal((await api(d, '/api/audit', { login: newbie })).status, 200, 'the live session follows the new role');
  t.match(await auditRows('user.role', 'newbie'), [{ before: '{"name":"newbie","role":"viewer"}', after: '{"name":"newbie","role":"analyst"}' }]);

  const pw = await api(d, '/api/users/newbie', { method: 'PATCH', login: admin, body: { password: 'another long password' } });
  t.equal(pw.status, 200);
  t.equal((await api(d, '/api/auth/me', { login: newbie })).status, 401, 'a password change ends the sessions');
  t.match(await auditRows('user.passwd', 'newbie'), [{ after: '{"name":"newbie","role":"analyst","password_changed":true}' }]);
  t.equal((await api(d, '/api/auth/login', { method: 'POST', body: { username: 'newbie', password: 'another long password' } })).status, 200);
  t.equal((await api(d, '/api/users/newbie', { method: 'PATCH', login: admin, body: {} })).status, 400);
  t.equal((await api(d, '/api/users/ghost', { method: 'PATCH', login: admin, body: { role: 'viewer' } })).status, 404);

  t.equal((await api(d, `/api/users/${USERS.admin}`, { method: 'DELETE', login: admin })).body.error.field, 'name', 'an admin cannot remove themself');
  t.same((await api(d, '/api/users/newbie', { method: 'DELETE', login: admin })).body, { ok: true });
  t.match(await auditRows('user.remove', 'newbie'), [{ before: '{"name":"newbie","role":"analyst"}', after: '' }]);
  t.equal((await api(d, '/api/auth/login', { method: 'POST', body: { username: 'newbie', password: 'another long password' } })).status, 401, 'a removed user cannot log in');
  const names = (await api(d, '/api/users', { login: admin })).body.items.map((u: any) => u.name);
  t.notOk(names.includes('newbie'));
  t.ok(names.includes(USERS.viewer));
});

t.test('user changes made by another process (ja4 user with a ClickHouse server) reach live sessions', async (t) => {
  const s = await startDashboard(fx.storage, { listen: '127.0.0.1:0', scryptCost: TEST_SCRYPT_COST, authRefreshMs: 100, publisher: false, log: silentLogger() });
  t.teardown(() => s.stop());
  // the server re-reads the users every 100 ms; a loaded machine may take
  // longer: wait (up to 10 s) for the answer the change must bring
  const status = async (path: string, who: Awaited<ReturnType<typeof login>>, want: number): Promise<number> => {
    const until = Date.now() + 10_000;
    for (;;) {
      const got = (await api(s, path, { login: who })).status;
      if (got === want || Date.now() > until) return got;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  // fx.users writes the users table directly, as `ja4 user` does: this server's updateUser never hears of it
  await fx.users.add('outsider', 'analyst', PASSWORD);
  const first = await login(s, 'outsider');
  const bystander = await login(s, USERS.viewer);
  t.equal((await api(s, '/api/audit', { login: first })).status, 200);
  await fx.users.update('outsider', { role: 'viewer' });
  t.equal(await status('/api/audit', first, 403), 403, 'a role change applies to the live session');
  await fx.users.update('outsider', { password: 'another long password' });
  t.equal(await status('/api/auth/me', first, 401), 401, 'a password change ends it');
  const second = await login(s, 'outsider', 'another long password');
  // past a refresh: the new session is not ended by it
  await new Promise((r) => setTimeout(r, 400));
  t.equal((await api(s, '/api/auth/me', { login: second })).status, 200, 'a session opened with the new password stays');
  await fx.users.remove('outsider');
  t.equal(await status('/api/auth/me', second, 401), 401, 'a removal ends it');
  t.equal((await api(s, '/api/auth/me', { login: bystander })).status, 200, "other users' sessions stay");
});
