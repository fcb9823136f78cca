// The live feed (/ws) over real sockets: authentication, hello, topics,
// a detection written to the database pushed to its subscribers, resync
// after a reconnect (from the ring by seq, from the database by time),
// state topics, and a slow client dropped with its server-side buffer
// bounded while a fast one keeps everything.
import t from 'tap';
import WebSocket from 'ws';
import { WsTestClient } from './helpers/ws-test-client.js';
import { TABLES } from '../src/storage/index.js';
import { WS_CLOSE_TOO_SLOW, WS_CLOSE_UNAUTHORIZED, WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX, type Detection } from '../src/dashboard/api-types.js';
import { checkWallTokenTransport } from './helpers/ws-wall-token.js';
import { JA4_CHROME, JA4_GO } from './helpers/storage-fixture.js';
import { IP_B, USERS, api, fixtureDetections, login, startDashboardFixture, type Login } from './helpers/dashboard-fixture.js';
import { silentLogger } from '../src/config/index.js';
import { loadUws } from '../src/dashboard/uws.js';
import { Hub } from '../src/dashboard/ws/hub.js';

const MAX_BUFFERED = 64 * 1024;
const fx = await startDashboardFixture(t, {
  // the test triggers the polls itself (pollDetections), so a long interval
  publisher: { detectionsMs: 3_600_000, kpisMs: 0, healthMs: 0 },
  // resyncIntervalMs 0: tests here resync twice in a row on one connection (the rate has its own test)
  hub: { maxBufferedBytes: MAX_BUFFERED, sweepMs: 50, ringBytes: 4 * 1024 * 1024, resyncIntervalMs: 0 },
});
const d = fx.dashboard;
const wsUrl = d.url.replace('http:', 'ws:') + '/ws';

/** A client whose batches are unpacked into events (see WsTestClient). */
const Client = {
  connect: (login?: Login, query = '') =>
    WsTestClient.connect(wsUrl + query, login ? { cookie: login.cookie, origin: d.url } : { origin: d.url }),
};

const viewer = await login(d, USERS.viewer);

function newDetection(i: number, over: Partial<Detection> = {}): Record<string, unknown> {
  const base = fixtureDetections(fx.hourMs)[0]!;
  return { ...base, detected_at: Date.now(), client_ip: `192.0.2.${i}`, score: 0.9, requests: 100 + i, ...over };
}

t.test('unauthenticated: closed with 4001; cross-site: refused', async (t) => {
  const anon = new WsTestClient(new WebSocket(wsUrl));
  t.same(await anon.closed, { code: WS_CLOSE_UNAUTHORIZED, reason: 'unauthorized' });
  const evil = new WebSocket(wsUrl, { headers: { cookie: viewer.cookie, origin: 'https://evil.example' } });
  const refused = await new Promise<{ status: number; nosniff: unknown; frames: unknown }>((resolve) =>
    evil.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, nosniff: res.headers['x-content-type-options'], frames: res.headers['x-frame-options'] })),
  );
  const status = refused.status;
  t.same([refused.nosniff, refused.frames], ['nosniff', 'DENY'], 'the refusal carries the security headers');
  t.equal(status, 403, 'a page of another site cannot use the cookie');
});

t.test('hello, subscribe, a detection from the database pushed once per topic', async (t) => {
  const c = await Client.connect(viewer);
  t.teardown(() => c.close());
  const hello = await c.next((m) => m.type === 'hello');
  t.match(hello, { boot_id: d.hub.bootId, server: 'uws', user: { name: USERS.viewer, role: 'viewer' } });
  c.send({ type: 'subscribe', topics: ['detections', `ja4:${JA4_GO}`, `ip:::ffff:${IP_B}`] });
  t.same(await c.next((m) => m.type === 'subscribed'), { type: 'subscribed', topics: ['detections', `ja4:${JA4_GO}`, `ip:${IP_B}`] }, 'an IPv4-mapped topic is the IPv4 one');
  c.send({ type: 'subscribe', topics: ['everything'] });
  t.match(await c.next((m) => m.type === 'error'), { code: 'bad_request', message: /unknown topic "everything"/ });

  const row = newDetection(1, { client_ip: IP_B, user_agent: 'pushed' } as never);
  await fx.storage.insertRows(TABLES.mlDetectedAnomalies, [row]);
  t.equal(await d.pollDetections(), 1, 'the poll finds one new detection');
  t.equal(await d.pollDetections(), 0, 'and does not send it twice');
  const ev = await c.next((m) => m.type === 'event' && m.topic === 'detections');
  t.match(ev, { batched: true, seq: hello.seq + 1, data: { client_ip: IP_B, ja4: JA4_GO, threat_level: 'high' } });
  t.same(
    Object.keys(ev.data),
    ['detected_at', 'window', 'client_ip', 'ja4', 'host', 'score', 'threat_level', 'bot_name', 'campaign_id'],
    'the live form: what a ticker shows and the row identity, not the full row (no user_agent, requests, features)',
  );
  const perJa4 = await c.next((m) => m.type === 'event' && m.topic === `ja4:${JA4_GO}`);
  const perIp = await c.next((m) => m.type === 'event' && m.topic === `ip:${IP_B}`);
  t.same([perJa4.seq, perIp.seq], [ev.seq, ev.seq], 'one seq for the item on all its topics');
  t.same(perIp.data, ev.data);

  c.send({ type: 'unsubscribe', topics: [`ja4:${JA4_GO}`] });
  await c.next((m) => m.type === 'unsubscribed');
  d.publishDetection(newDetection(2, { ja4: JA4_GO, client_ip: '192.0.2.2' }) as unknown as Detection);
  await c.next((m) => m.type === 'event' && m.data.client_ip === '192.0.2.2');
  t.equal(c.messages.filter((m) => m.topic === `ja4:${JA4_GO}`).length, 1, 'nothing more on the unsubscribed topic');
  c.send({ type: 'ping', id: 7 });
  t.match(await c.next((m) => m.type === 'pong'), { id: 7, seq: d.hub.seq });
});

t.test('resync after a reconnect: from the ring by seq', async (t) => {
  const a = await Client.connect(viewer);
  const hello = await a.next((m) => m.type === 'hello');
  a.send({ type: 'subscribe', topics: [`ja4:${JA4_CHROME}`] });
  await a.next((m) => m.type === 'subscribed');
  d.publishDetection(newDetection(10, { ja4: JA4_CHROME }) as unknown as Detection);
  const seen = await a.next((m) => m.type === 'event');
  await a.close();
  // missed while away: two for this topic, one for another
  d.publishDetection(newDetection(11, { ja4: JA4_CHROME }) as unknown as Detection);
  d.publishDetection(newDetection(12, { ja4: JA4_GO }) as unknown as Detection);
  d.publishDetection(newDetection(13, { ja4: JA4_CHROME }) as unknown as Detection);
  d.hub.flush(); // sent now, before the new connection subscribes (else it would get them live too)
  const b = await Client.connect(viewer);
  t.teardown(() => b.close());
  b.send({ type: 'subscribe', topics: [`ja4:${JA4_CHROME}`] });
  await b.next((m) => m.type === 'subscribed');
  b.send({ type: 'resync', since_seq: seen.seq, boot_id: hello.boot_id });
  const done = await b.next((m) => m.type === 'resync_done');
  t.same(done, { type: 'resync_done', source: 'ring', replayed: 2, seq: d.hub.seq, truncated: false });
  const replayed = b.messages.filter((m) => m.type === 'event');
  t.same(replayed.map((m) => [m.seq, m.replay, m.data.client_ip]), [
    [seen.seq + 1, true, '192.0.2.11'],
    [seen.seq + 3, true, '192.0.2.13'],
  ]);
});

t.test('resync from the database when the server restarted (other boot id)', async (t) => {
  const since = new Date(Date.now() - 1000).toISOString();
  await fx.storage.insertRows(TABLES.mlDetectedAnomalies, [newDetection(20, { ja4: JA4_CHROME }), newDetection(21, { ja4: JA4_CHROME }), newDetection(22, { ja4: JA4_GO })]);
  const c = await Client.connect(viewer);
  t.teardown(() => c.close());
  c.send({ type: 'subscribe', topics: [`ja4:${JA4_CHROME}`] });
  await c.next((m) => m.type === 'subscribed');
  c.send({ type: 'resync', since_seq: 3, boot_id: 'an-earlier-run', since_ts: since });
  const done = await c.next((m) => m.type === 'resync_done');
  t.match(done, { source: 'database', replayed: 2, truncated: false });
  t.same(
    c.messages.filter((m) => m.type === 'event').map((m) => [m.topic, m.data.client_ip, m.replay]),
    [
      [`ja4:${JA4_CHROME}`, '192.0.2.20', true],
      [`ja4:${JA4_CHROME}`, '192.0.2.21', true],
    ],
  );
  c.send({ type: 'resync', since_seq: 0, boot_id: 'an-earlier-run' });
  t.match(await c.next((m) => m.type === 'resync_done' && m !== done), { source: 'none', replayed: 0, truncated: true }, 'no time to go by: the page must reload its data');
});

t.test('state topics: the latest value at once', async (t) => {
  d.publish('kpis', { at: 'k1', requests_per_minute: 12 });
  d.publish('kpis', { at: 'k2', requests_per_minute: 34 });
  const c = await Client.connect(viewer);
  t.teardown(() => c.close());
  c.send({ type: 'subscribe', topics: ['kpis'] });
  t.match(await c.next((m) => m.type === 'event' && m.topic === 'kpis'), { data: { at: 'k2', requests_per_minute: 34 } });
  d.publish('kpis', { at: 'k3' });
  t.match(await c.next((m) => m.type === 'event' && m.data.at === 'k3'), { topic: 'kpis', batched: true });
});

t.test('a wall token connects as a subprotocol, never from the URL', async (t) => {
  const { token } = await fx.users.createToken('wall-test');
  await new Promise((r) => setTimeout(r, 1100));
  await checkWallTokenTransport(t, d, token, 'wall-test');
});

/** the close of a connection, or 'open' when it is still open after ms */
const closedWithin = (c: WsTestClient, ms: number) => Promise.race([c.closed, new Promise<'open'>((r) => setTimeout(() => r('open'), ms))]);

t.test('a logout closes the session\'s sockets with 4001', async (t) => {
  const session = await login(d, USERS.viewer);
  const c = await Client.connect(session);
  t.teardown(() => c.close());
  await c.next((m) => m.type === 'hello');
  const other = await Client.connect(viewer);
  t.teardown(() => other.close());
  await other.next((m) => m.type === 'hello');
  t.equal((await api(d, '/api/auth/logout', { method: 'POST', login: session })).status, 200);
  const t0 = Date.now();
  t.same(await closedWithin(c, 1500), { code: WS_CLOSE_UNAUTHORIZED, reason: 'session ended' });
  t.ok(Date.now() - t0 < 250, `closed at once, not at the next re-check (${Date.now() - t0} ms)`);
  t.equal(await closedWithin(other, 100), 'open', "another session's socket stays open");
});

t.test('a revoked wall token\'s socket closes at the token cache refresh', async (t) => {
  const { token, token_id } = await fx.users.createToken('wall-revoked');
  await new Promise((r) => setTimeout(r, 1100)); // past the cache's once-a-second refresh limit
  const c = await WsTestClient.connect(wsUrl, { origin: d.url }, {}, [WS_PROTOCOL, `${WS_TOKEN_PROTOCOL_PREFIX}${token}`]);
  t.teardown(() => c.close());
  await c.next((m) => m.type === 'hello');
  t.ok(await fx.users.revokeToken(token_id));
  t.equal(await closedWithin(c, 700), 'open', 'the cache still has it');
  await new Promise((r) => setTimeout(r, 400));
  // an unknown token makes the server refresh its cache (at most once a second)
  t.equal((await api(d, '/api/overview', { headers: { authorization: 'Bearer ja4w_unknown' } })).status, 401);
  t.same(await closedWithin(c, 1500), { code: WS_CLOSE_UNAUTHORIZED, reason: 'session ended' });
});

t.test('resync: one at a time per connection, at most an hour back, not in a loop', async (t) => {
  // the hub as startDashboard wires it, with the database read observed (each call takes 200 ms)
  const sinces: string[] = [];
  const { uws } = loadUws();
  const hub = new Hub({}, async (since) => {
    sinces.push(since);
    await new Promise((r) => setTimeout(r, 200));
    return [];
  });
  const app = uws.App();
  hub.attach(app, async () => ({ name: 'wall', role: 'viewer', via: 'token' }), () => true);
  const socket = await new Promise<unknown>((r) => app.listen('127.0.0.1', 0, r));
  t.teardown(() => {
    hub.close();
    uws.us_listen_socket_close(socket as never);
  });
  const c = await WsTestClient.connect(`ws://127.0.0.1:${uws.us_socket_local_port(socket as never)}/ws`, {});
  t.teardown(() => c.close());
  c.send({ type: 'subscribe', topics: ['detections'] });
  await c.next((m) => m.type === 'subscribed');
  const asked = Date.now();
  for (let i = 0; i < 5; i++) c.send({ type: 'resync', since_seq: 0, boot_id: 'an-earlier-run', since_ts: '1970-01-01T00:00:00Z' });
  t.same(await c.next((m) => m.type === 'resync_done'), { type: 'resync_done', source: 'database', replayed: 0, seq: 0, truncated: true }, 'clamped: truncated');
  t.same(
    c.messages.filter((m) => m.type === 'error').map((m) => m.code),
    ['resync_in_progress', 'resync_in_progress', 'resync_in_progress', 'resync_in_progress'],
  );
  t.equal(sinces.length, 1, 'one database read');
  t.ok(Date.parse(sinces[0]!) >= asked - 3_600_000, `since ${sinces[0]}: no older than an hour before the request`);
  c.send({ type: 'resync', since_seq: 0, boot_id: 'an-earlier-run', since_ts: new Date().toISOString() });
  t.match(await c.next((m) => m.type === 'error' && m.code === 'rate_limited'), { message: 'at most one resync per 1000 ms' });
  t.equal(sinces.length, 1, 'none more');
});

t.test('a slow client is dropped, its buffer bounded; a fast one gets everything', async (t) => {
  const fast = await Client.connect(viewer);
  const slow = await Client.connect(viewer);
  t.teardown(() => fast.close());
  for (const c of [fast, slow]) {
    c.send({ type: 'subscribe', topics: ['detections'] });
    await c.next((m) => m.type === 'subscribed');
  }
  // the slow client stops reading: its kernel buffers fill, then the server's
  (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket.pause();
  const first = d.hub.seq + 1;
  const total = 3000;
  // ~3.3 KB per live event, ~10 MB in all: more than the kernel's loopback buffers absorb
  const pad = 'x'.repeat(3000);
  for (let i = 0; i < total; i++) {
    d.publishDetection(newDetection(i % 250, { host: pad } as never) as unknown as Detection); // host: a field the live form keeps
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 15));
  }
  await fast.next((m) => m.type === 'event' && m.seq === first + total - 1, 20_000);
  const got = fast.messages.filter((m) => m.type === 'event' && m.seq >= first).map((m) => m.seq);
  t.equal(got.length, total, `the fast client received all ${total} (${((total * 3.3) / 1024).toFixed(1)} MB)`);
  t.same(got, Array.from({ length: total }, (_, i) => first + i), 'in order, no gap');
  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  const closed = await slow.closed;
  // 4008 when the close frame gets through the full pipe, else the socket is simply cut
  t.ok(closed.code === WS_CLOSE_TOO_SLOW || closed.code === 1006, `closed (${closed.code})`);
  t.equal(d.hub.stats().dropped_slow, 1, 'counted once');
  const peak = d.hub.transportStats().peakBufferedBytes;
  // uWS queues a frame while the buffer is under maxBackpressure (2 x the drop limit): the bound is that plus one frame
  // (a batch here: at most 100 detections of ~3.3 KB)
  const bound = 2 * MAX_BUFFERED + 100 * 3400;
  t.ok(peak > MAX_BUFFERED && peak <= bound, `server-side buffer of the slow client bounded: peak ${peak} <= ${bound} bytes, ${total * 3300} published`);
  t.equal(d.hub.stats().clients, 1, 'only the fast client is left');
});

t.test('the publisher computes KPIs and health while someone listens', async (t) => {
  const { startDashboard } = await import('../src/dashboard/server.js');
  const s = await startDashboard(fx.storage, { listen: '127.0.0.1:0', publisher: { detectionsMs: 0, kpisMs: 200, healthMs: 200 }, log: silentLogger() });
  t.teardown(() => s.stop());
  const c = await WsTestClient.connect(s.url.replace('http:', 'ws:') + '/ws', { cookie: (await login(s, USERS.viewer)).cookie });
  t.teardown(() => c.close());
  c.send({ type: 'subscribe', topics: ['kpis', 'health'] });
  const [expected] = await fx.storage.query<{ n: number }>(`SELECT count() AS n FROM ${TABLES.mlDetectedAnomalies} WHERE detected_at >= now64(3) - INTERVAL 1 HOUR`);
  const k = await c.next((m) => m.type === 'event' && m.topic === 'kpis');
  t.ok(expected!.n >= 4, `detections of the last hour written by this file: ${expected!.n}`);
  t.match(k.data, { requests_per_minute: 0, detections_last_hour: expected!.n, bot_share: 0 }, 'the fixture requests are over an hour old; the detections written here are not');
  t.equal(k.data.detections_by_level.reduce((n: number, l: any) => n + l.detections, 0), expected!.n);
  const h = await c.next((m) => m.type === 'event' && m.topic === 'health');
  t.match(h.data, { counters: {}, spool: null, websocket: { clients: 1 } });
  t.equal(h.data.ingest_per_minute.reduce((n: number, x: any) => n + x.rows, 0), 14);
});
