// No dashboard change without its audit row (src/dashboard/audit.ts), over
// real HTTP and the real embedded engine. The Storage is wrapped so that
// inserts into one table throw for a while (a database hiccup, a full
// disk): with the audit table refusing, a mutation answers 503
// audit_unavailable and changes nothing; with the changed table refusing
// after its audit row, the trail gets a `<action>.failed` row.
import t from 'tap';
import { TABLES, type Storage } from '../src/storage/index.js';
import { startDashboard } from '../src/dashboard/server.js';
import { PASSWORD, TEST_SCRYPT_COST, USERS, api, login, startDashboardFixture } from './helpers/dashboard-fixture.js';
import { memoryLogger } from './helpers/memory-logger.js';

const fx = await startDashboardFixture(t);

/** Which inserts throw now (undefined: none); a test sets it and the teardown clears it. */
let refuse: ((table: string) => boolean) | undefined;
const flaky = new Proxy(fx.storage, {
  get(target, prop) {
    if (prop === 'insertRows') {
      return async (table: string, rows: Record<string, unknown>[], settings?: Parameters<Storage['insertRows']>[2]) => {
        if (refuse?.(table)) throw new Error(`insert into ${table} refused: No space left on device (test)`);
        return target.insertRows(table, rows, settings);
      };
    }
    const v = Reflect.get(target, prop, target);
    return typeof v === 'function' ? v.bind(target) : v;
  },
});
const mem = memoryLogger('ja4-dashboard', 'warn');
const s = await startDashboard(flaky, { listen: '127.0.0.1:0', scryptCost: TEST_SCRYPT_COST, publisher: false, log: mem.log });
t.teardown(() => s.stop());
t.afterEach(() => {
  refuse = undefined;
});
const analyst = await login(s, USERS.analyst);
const admin = await login(s, USERS.admin);

const REFUSED = { code: 'audit_unavailable', message: 'the change was not made because the audit trail could not be written; try again later' };
const auditOnly = (table: string): boolean => table === TABLES.auditLogs;

async function auditActions(subject: string): Promise<{ action: string; request_id: string }[]> {
  return fx.storage.query(`SELECT action, request_id FROM ${TABLES.auditLogs} WHERE subject = {subject:String} ORDER BY ts, action`, { subject });
}
async function classifications(subject: string): Promise<{ label: string }[]> {
  return fx.storage.query(`SELECT label FROM ${TABLES.analystClassifications} FINAL WHERE subject = {subject:String}`, { subject });
}

t.test('classification with the audit table refusing: 503 audit_unavailable, no verdict; then it works with one row', async (t) => {
  const ip = '192.0.2.77';
  const body = { subject_type: 'ip', subject: ip, label: 'bot', note: 'scanner' };
  refuse = auditOnly;
  const r = await api(s, '/api/classifications', { method: 'POST', login: analyst, body });
  t.equal(r.status, 503);
  t.match(r.body, { error: { ...REFUSED, request_id: /\S/ } });
  t.same(await classifications(ip), [], 'the detector reads no verdict the trail does not have');
  const bulk = await api(s, '/api/classifications/bulk', { method: 'POST', login: analyst, body: { subject_type: 'ip', subjects: [ip, '192.0.2.78'], label: 'whitelisted' } });
  t.same([bulk.status, bulk.body.error.code], [503, 'audit_unavailable']);
  t.same(await classifications('192.0.2.78'), []);
  const logged = mem.records().filter((l) => l.msg === 'change refused: its audit row could not be written');
  t.match(logged, [
    { level: 'error', path: '/api/classifications', action: 'classify', request_id: r.body.error.request_id, error: /^classify 192\.0\.2\.77 not made: the audit trail could not be written \(insert into ja4_processing\.audit_logs refused/ },
    { level: 'error', path: '/api/classifications/bulk', action: 'whitelist', error: /^whitelist 192\.0\.2\.77 \(\+1 more\) not made/ },
  ]);

  refuse = undefined;
  const ok = await api(s, '/api/classifications', { method: 'POST', login: analyst, body });
  t.equal(ok.status, 200, 'with the trail back the same request works');
  t.match(ok.body, { classification: { subject: ip, label: 'bot' }, before: null });
  t.same(await classifications(ip), [{ label: 'bot' }]);
  t.same((await auditActions(ip)).map((a) => a.action), ['classify'], 'exactly one audit row: the refused attempts left none');
});

t.test('user role change with the audit table refusing: 503, the role unchanged; then it works with one row', async (t) => {
  await fx.users.add('rolly', 'viewer', PASSWORD);
  refuse = auditOnly;
  const r = await api(s, '/api/users/rolly', { method: 'PATCH', login: admin, body: { role: 'analyst' } });
  t.equal(r.status, 503);
  t.match(r.body, { error: REFUSED });
  t.equal((await fx.users.get('rolly'))?.role, 'viewer', 'no change without its audit row');
  const removed = await api(s, '/api/users/rolly', { method: 'DELETE', login: admin });
  t.same([removed.status, removed.body.error.code], [503, 'audit_unavailable']);
  t.ok(await fx.users.get('rolly'), 'not removed either');
  const added = await api(s, '/api/users', { method: 'POST', login: admin, body: { name: 'newbie', role: 'viewer', password: PASSWORD } });
  t.same([added.status, added.body.error.code], [503, 'audit_unavailable']);
  t.equal(await fx.users.get('newbie'), undefined, 'nor added');

  refuse = undefined;
  const ok = await api(s, '/api/users/rolly', { method: 'PATCH', login: admin, body: { role: 'analyst' } });
  t.equal(ok.status, 200);
  t.match(ok.body, { user: { name: 'rolly', role: 'analyst' } });
  t.equal((await fx.users.get('rolly'))?.role, 'analyst');
  t.same((await auditActions('rolly')).map((a) => a.action), ['user.role'], 'exactly one audit row');
});

t.test('a verdict whose insert fails after its audit row: the row, a classify.failed row, an error answer', async (t) => {
  const ip = '192.0.2.88';
  refuse = (table) => table === TABLES.analystClassifications;
  const r = await api(s, '/api/classifications', { method: 'POST', login: analyst, body: { subject_type: 'ip', subject: ip, label: 'bot' } });
  t.equal(r.status, 500);
  t.equal(r.body.error.code, 'internal');
  t.same(await classifications(ip), []);
  const rows = await auditActions(ip);
  t.same(rows.map((a) => a.action), ['classify', 'classify.failed'], 'the trail says it was tried and failed');
  t.equal(rows[1]!.request_id, rows[0]!.request_id, 'both rows carry the request id of the server log line');

  // the change and its .failed row both refused: the error answer stays, the lost row is logged
  const ip2 = '192.0.2.89';
  let audits = 0;
  refuse = (table) => table === TABLES.analystClassifications || (table === TABLES.auditLogs && ++audits > 1);
  const twice = await api(s, '/api/classifications', { method: 'POST', login: analyst, body: { subject_type: 'ip', subject: ip2, label: 'human' } });
  t.same([twice.status, twice.body.error.code], [500, 'internal']);
  t.same((await auditActions(ip2)).map((a) => a.action), ['classify']);
  t.match(mem.records().filter((l) => l.msg === 'audit row not written').at(-1), { level: 'error', action: 'classify.failed', subject: ip2, request_id: twice.body.error.request_id });
});

t.test('logins: no session without its row; a failed login stays 401; logout ends the session either way', async (t) => {
  const before = (await auditActions(USERS.viewer)).length;
  refuse = auditOnly;
  const r = await api(s, '/api/auth/login', { method: 'POST', body: { username: USERS.viewer, password: PASSWORD } });
  t.equal(r.status, 503);
  t.match(r.body, { error: REFUSED });
  t.equal(r.headers.get('set-cookie'), null, 'no session cookie');
  const bad = await api(s, '/api/auth/login', { method: 'POST', body: { username: USERS.viewer, password: 'wrong password here' } });
  t.equal(bad.status, 401, 'a failed login whose row cannot be written is still a 401');
  t.match(mem.records().filter((l) => l.msg === 'audit row not written').at(-1), { level: 'error', action: 'login.failed', subject: USERS.viewer });
  t.equal((await auditActions(USERS.viewer)).length, before, 'nothing written meanwhile');

  refuse = undefined;
  const session = await login(s, USERS.viewer);
  refuse = auditOnly;
  t.equal((await api(s, '/api/auth/logout', { method: 'POST', login: session })).status, 200);
  t.equal((await api(s, '/api/auth/me', { login: session })).status, 401, 'the session ended although its row was not written');
  t.match(mem.records().filter((l) => l.msg === 'audit row not written').at(-1), { level: 'error', action: 'logout', subject: USERS.viewer });
});
