// The pieces of the feed and of auth that need no server: the resync ring
// (eviction by count and bytes, "everything after seq n" or "gone"), topic
// names, sessions (idle and absolute expiry, bound, CSRF compare) and the
// login limiter's windows.
import t from 'tap';
import { Ring } from '../src/dashboard/ws/ring.js';
import { normalizeTopic } from '../src/dashboard/ws/hub.js';
import { SessionStore, csrfMatches } from '../src/dashboard/auth/sessions.js';
import { LoginRateLimiter } from '../src/dashboard/auth/rate-limit.js';
import { hashPassword, verifyPassword } from '../src/dashboard/auth/password.js';

const item = (seq: number, size = 10) => ({ seq, ts: 't', topics: ['detections'], data: 'x'.repeat(size) });

t.test('ring: by count', async (t) => {
  const r = new Ring(3, 1e9);
  t.same(r.since(0), [], 'empty: nothing to replay');
  for (let s = 1; s <= 5; s++) r.push(item(s));
  t.equal(r.size, 3);
  t.equal(r.oldestSeq, 3);
  t.same(r.since(2)!.map((i) => i.seq), [3, 4, 5], 'everything after 2 is still held');
  t.same(r.since(4)!.map((i) => i.seq), [5]);
  t.same(r.since(5), []);
  t.equal(r.since(1), undefined, 'seq 2 was evicted: the ring cannot serve it');
});

t.test('ring: by bytes', async (t) => {
  const r = new Ring(100, 25);
  r.push(item(1, 10));
  r.push(item(2, 10));
  r.push(item(3, 10));
  t.same([r.size, r.byteSize, r.oldestSeq], [2, 20, 2], 'the oldest went to stay under 25 bytes');
  r.push(item(4, 100));
  t.same([r.size, r.oldestSeq], [1, 4], 'one item over the cap is still kept alone');
});

t.test('topics', async (t) => {
  t.equal(normalizeTopic('detections'), 'detections');
  t.equal(normalizeTopic('ja4:t13d1516h2_8daaf6152771_e5627efa2ab1'), 'ja4:t13d1516h2_8daaf6152771_e5627efa2ab1');
  t.equal(normalizeTopic('ip:::FFFF:192.0.2.1'), 'ip:192.0.2.1');
  t.equal(normalizeTopic('ip:2001:DB8::1'), 'ip:2001:db8::1');
  for (const bad of ['ja4:x', 'ip:300.1.1.1', 'all', '', 5, null]) t.equal(normalizeTopic(bad), undefined, `${JSON.stringify(bad)} refused`);
});

t.test('sessions: expiry, bound, CSRF', async (t) => {
  const s = new SessionStore({ idleMs: 1000, absoluteMs: 5000, maxSessions: 2, maxPerUser: 5 });
  const a = s.create('alice', 'admin', 0);
  t.equal(s.get(a.id, 900)?.user, 'alice');
  t.equal(s.get(a.id, 1800)?.user, 'alice', 'touched at 900: still alive at 1800');
  t.equal(s.get(a.id, 2801), undefined, 'idle over 1 s: gone');
  const b = s.create('bob', 'viewer', 0);
  for (let now = 900; now < 5000; now += 900) t.ok(s.get(b.id, now));
  t.equal(s.get(b.id, 5001), undefined, 'absolute lifetime over');
  const c1 = s.create('c1', 'viewer', 0);
  s.create('c2', 'viewer', 0);
  s.create('c3', 'viewer', 0);
  t.equal(s.size, 2, 'bounded');
  t.equal(s.get(c1.id, 1), undefined, 'the oldest went first');
  t.equal(s.get(undefined), undefined);
  t.equal(s.get('x'.repeat(200)), undefined);
  const d = s.create('dora', 'analyst', 0);
  t.ok(csrfMatches(d.session, d.session.csrf));
  t.notOk(csrfMatches(d.session, `${d.session.csrf}x`));
  t.notOk(csrfMatches(d.session, undefined));
  s.updateUser('dora', { role: 'admin' });
  t.equal(s.get(d.id, 1)?.role, 'admin', 'a role change applies to the live session');
  s.updateUser('dora', { remove: true });
  t.equal(s.get(d.id, 1), undefined);
  const idle = new SessionStore({ idleMs: 100, absoluteMs: 10_000, maxSessions: 10, maxPerUser: 5 });
  const e = idle.create('eve', 'viewer', 0);
  t.equal(idle.peek(e.id, 90)?.user, 'eve');
  t.equal(idle.peek(e.id, 101), undefined, 'peek does not touch: an open WebSocket does not keep a session from idling out');
});

t.test('sessions: one user logging in again and again ends only their own sessions', async (t) => {
  const s = new SessionStore({ idleMs: 10_000, absoluteMs: 100_000, maxSessions: 10, maxPerUser: 3 });
  const admin = s.create('ada', 'admin', 0);
  const others = [s.create('vic', 'viewer', 1), s.create('vic', 'viewer', 2), s.create('vic', 'viewer', 3)];
  for (let i = 0; i < 50; i++) s.create('mallory', 'viewer', 10 + i);
  t.equal(s.get(admin.id, 100)?.user, 'ada', "another user's session stays");
  t.same(others.map((o) => s.get(o.id, 100)?.user), ['vic', 'vic', 'vic']);
  t.equal(s.size, 7, "ada's, vic's three and mallory's last three");
  const vic4 = s.create('vic', 'viewer', 200);
  t.same([...others, vic4].map((o) => s.get(o.id, 201)?.user), [undefined, 'vic', 'vic', 'vic'], "past the cap, the user's oldest goes");
  const later = s.create('eve', 'viewer', 20_000);
  t.ok(s.get(later.id, 20_000));
  t.equal(s.size, 1, 'a login sweeps expired sessions');
});

t.test('login limiter: windows per IP and per user', async (t) => {
  const l = new LoginRateLimiter({ windowMs: 1000, maxPerIp: 3, maxPerUser: 2, maxKeys: 100 });
  t.equal(l.retryAfter('1.1.1.1', 'Alice', 0), 0);
  l.failed('1.1.1.1', 'Alice', 0);
  l.failed('2.2.2.2', 'alice', 100);
  t.equal(l.retryAfter('3.3.3.3', 'ALICE', 200), 1, 'per user, whatever the case and the IP');
  t.equal(l.retryAfter('3.3.3.3', 'bob', 200), 0);
  t.equal(l.retryAfter('3.3.3.3', 'alice', 1000), 0, 'a new window');
  l.failed('9.9.9.9', 'u1', 0);
  l.failed('9.9.9.9', 'u2', 0);
  l.failed('9.9.9.9', 'u3', 0);
  t.equal(l.retryAfter('9.9.9.9', 'u4', 500), 1, 'per IP');
  l.succeeded('9.9.9.9', 'u1', 500);
  t.equal(l.retryAfter('9.9.9.9', 'u1', 500), 1, 'a success does not reset the IP');
});

t.test('login limiter: a lockout survives a flood of refused attempts', async (t) => {
  const l = new LoginRateLimiter({ windowMs: 60_000, maxPerIp: 1_000_000, maxPerUser: 5, maxKeys: 100 });
  const ip = '198.51.100.7';
  for (let i = 0; i < 5; i++) l.failed(ip, 'admin', 0);
  t.equal(l.retryAfter(ip, 'admin', 0), 60);
  for (let i = 0; i < 1000; i++) l.retryAfter(ip, `x${i}`, 0);
  t.equal(l.retryAfter(ip, 'admin', 0), 60, 'asking creates no key, so evicts none');
  for (let i = 0; i < 1000; i++) {
    if (l.begin(ip, `y${i}`, 0) === 0) l.failed(ip, `y${i}`, 0);
  }
  t.equal(l.retryAfter(ip, 'admin', 0), 60, 'new keys evict keys under their limit, never a lockout');
  t.ok(l.size <= 100, `bounded: ${l.size} keys`);
  const locked = new LoginRateLimiter({ windowMs: 60_000, maxPerIp: 1_000_000, maxPerUser: 1, maxKeys: 10 });
  for (let i = 0; i < 20; i++) locked.failed(ip, `z${i}`, 0);
  t.equal(locked.begin(ip, 'admin', 0), 60, 'full of lockouts: a new name is refused (fails closed)');
  t.equal(locked.begin(ip, 'admin', 60_000), 0, 'until their window ends');
});

t.test('scrypt hashes', async (t) => {
  const h = await hashPassword('correct horse battery staple', 1024);
  t.match(h, /^scrypt\$1024\$8\$1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
  t.ok(await verifyPassword('correct horse battery staple', h));
  t.notOk(await verifyPassword('correct horse battery stapla', h));
  t.not(await hashPassword('correct horse battery staple', 1024), h, 'salted');
  for (const bad of ['', 'bcrypt$x', 'scrypt$0$8$1$AA==$AA==', `scrypt$${2 ** 30}$8$1$AA==$AA==`, 'scrypt$1024$8$1$AA==$']) t.notOk(await verifyPassword('x', bad), `refused: ${bad.slice(0, 20)}`);
  await t.rejects(hashPassword('x', 1000), /power of two/);
});
