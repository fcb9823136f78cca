// The dashboard's memory cap on its reads (dashboard.max_query_memory_mb),
// on the real embedded engine with the real migrations and the fixture's
// rows: a query past the cap is answered 503 query_too_large (no engine
// text), the server keeps serving, and the cap (like every other setting of
// a dashboard read) stays on that query: the ingest sharing the engine keeps
// its own settings.
import t from 'tap';
import { silentLogger } from '../src/config/index.js';
import { startDashboard } from '../src/dashboard/server.js';
import { settingsClause } from '../src/storage/settings-clause.js';
import { TEST_SCRYPT_COST, USERS, api, login, startDashboardFixture } from './helpers/dashboard-fixture.js';

const fx = await startDashboardFixture(t);
const range = `from=${new Date(fx.hourMs - 3_600_000).toISOString()}&to=${new Date(fx.hourMs + 7_200_000).toISOString()}`;
// the overview timeline groups the hour's requests by minute: ~1.1 MiB in the engine, whatever the machine
const TIMELINE = `/api/overview/timeline?${range}`;

/** what a query of the shared Storage (the ingest's) runs with */
const sessionSettings = () =>
  fx.storage.query<{ name: string; value: string }>(
    "SELECT name, value FROM system.settings WHERE name IN ('max_memory_usage', 'max_execution_time', 'date_time_output_format') ORDER BY name",
  );

t.test('a query past the cap: 503 query_too_large, then the server goes on', async (t) => {
  // the engine's defaults (the fixture's own UserStore, the CLI's, set the session's output format)
  await fx.storage.command("SET date_time_output_format = 'simple', max_execution_time = 0, max_memory_usage = 0");
  const before = await sessionSettings();
  const capped = await startDashboard(fx.storage, { listen: '127.0.0.1:0', maxQueryMemoryBytes: 1024 * 1024, scryptCost: TEST_SCRYPT_COST, publisher: false, log: silentLogger() });
  t.teardown(() => capped.stop());
  const analyst = await login(capped, USERS.analyst);
  const refused = await api(capped, TIMELINE, { login: analyst });
  t.equal(refused.status, 503);
  t.match(refused.body, {
    error: {
      code: 'query_too_large',
      message: 'the query needed more memory than the dashboard allows (dashboard.max_query_memory_mb); narrow the time range or the filters',
      request_id: /^[0-9a-f-]{36}$/,
    },
  });
  t.notMatch(refused.text, /MEMORY_LIMIT|Stack|MiB/, "none of the engine's text");
  t.match((await api(capped, '/api/status')).body, { ok: true }, 'the server still answers');
  const kpis = await api(capped, `/api/overview?${range}`, { login: analyst });
  t.same([kpis.status, kpis.body.kpis.total_requests], [200, 14], 'a light query under the same cap still runs');
  t.same(await sessionSettings(), before, "the ingest's settings did not change: the cap stayed on the dashboard's queries");
  t.same(before, [
    { name: 'date_time_output_format', value: 'simple' },
    { name: 'max_execution_time', value: '0' },
    { name: 'max_memory_usage', value: '0' },
  ], 'nor did the dashboard\'s other read settings (iso times, 30 s) reach it');
});

t.test('the default cap (2 GiB): the same query runs', async (t) => {
  const ok = await api(fx.dashboard, TIMELINE, { login: await login(fx.dashboard, USERS.analyst) });
  t.equal(ok.status, 200);
  t.equal(ok.body.points.reduce((n: number, p: { total_requests: number }) => n + p.total_requests, 0), 14, "the fixture's 14 requests");
});

t.test('the cap is checked', async (t) => {
  await t.rejects(startDashboard(fx.storage, { listen: '127.0.0.1:0', maxQueryMemoryBytes: 0, publisher: false, log: silentLogger() }), { message: 'maxQueryMemoryBytes must be a positive integer, got 0' });
  t.equal(settingsClause({ max_memory_usage: '1048576', max_execution_time: 30, log_comment: "it's", x: true } as never), "SETTINGS max_memory_usage = '1048576', max_execution_time = 30, log_comment = 'it\\'s', x = 1");
  t.throws(() => settingsClause({ 'a;b': 1 } as never), { message: 'invalid setting name "a;b"' });
});
