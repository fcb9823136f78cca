// The dashboard on uWebSockets.js's pure-JS fallback (forced with the
// package's UWS_USE_FALLBACK=1, as when no binary fits the platform): it
// says so at startup and keeps working: the API over HTTP, and the live
// feed with its topics, batches, ring resync and slow-client dropping, over
// real sockets with a real `ws` client reading the exact frames.
import t from 'tap';
import WebSocket from 'ws';
import { WsTestClient } from './helpers/ws-test-client.js';
import { WS_CLOSE_TOO_SLOW, WS_CLOSE_UNAUTHORIZED, type Detection } from '../src/dashboard/api-types.js';
import { JA4_CHROME, JA4_GO } from './helpers/storage-fixture.js';
import { USERS, api, fixtureDetections, login, startDashboardFixture } from './helpers/dashboard-fixture.js';
import { memoryLogger } from './helpers/memory-logger.js';
import { liveDetection } from '../src/dashboard/ws/live-detection.js';
import { checkWallTokenTransport } from './helpers/ws-wall-token.js';

// read by the package when the dashboard first loads it (in startDashboard)
process.env.UWS_USE_FALLBACK = '1';
const MAX_BUFFERED = 64 * 1024;
const mem = memoryLogger('ja4-dashboard');
const fx = await startDashboardFixture(t, {
  hub: { maxBufferedBytes: MAX_BUFFERED, sweepMs: 50, batchMs: 10 },
  log: mem.log,
});
const d = fx.dashboard;
const wsUrl = d.url.replace('http:', 'ws:') + '/ws';

/** Clients keep every frame as received (batches not unpacked). */
const Client = {
  connect: (cookie: string) => WsTestClient.connect(wsUrl, { cookie, origin: d.url }, { flattenBatches: false }),
};

function detection(i: number, over: Partial<Detection> = {}): Detection {
  const base = fixtureDetections(fx.hourMs)[0]!;
  return { ...base, detected_at: '2026-01-02T03:04:05.000Z', client_ip: `192.0.2.${i}`, score: 0.9, requests: 100 + i, ...over } as unknown as Detection;
}

const viewer = await login(d, USERS.viewer);

t.test('says at startup that it runs on the fallback; the API answers', async (t) => {
  t.equal(d.kind, 'ws-fallback');
  t.same(
    mem.records().filter((r) => r.msg.includes('fallback')).map(({ level, msg }) => ({ level, msg })),
    [{ level: 'warn', msg: 'uWebSockets.js has no binary for this platform/Node; running on its pure-JS fallback (ws), slower' }],
  );
  const status = await api(d, '/api/status');
  t.equal(status.status, 200);
  t.match(status.body, { ok: true, server: 'ws-fallback' });
  const me = await api(d, '/api/auth/me', { login: viewer });
  t.match(me.body, { user: { name: USERS.viewer, role: 'viewer' } });
  const head = await fetch(`${d.url}/api/status`, { method: 'HEAD' });
  t.equal(head.status, 200, 'HEAD (no body) answered');
});

t.test('unauthenticated: 4001; cross-site: 403 at the upgrade', async (t) => {
  const anon = new WsTestClient(new WebSocket(wsUrl), { flattenBatches: false });
  t.same(await anon.closed, { code: WS_CLOSE_UNAUTHORIZED, reason: 'unauthorized' });
  const evil = new WebSocket(wsUrl, { headers: { cookie: viewer.cookie, origin: 'https://evil.example' } });
  const refused = await new Promise<{ status: number; nosniff: unknown; frames: unknown }>((resolve) =>
    evil.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0, nosniff: res.headers['x-content-type-options'], frames: res.headers['x-frame-options'] })),
  );
  const status = refused.status;
  t.same([refused.nosniff, refused.frames], ['nosniff', 'DENY'], 'the refusal carries the security headers');
  t.equal(status, 403);
});

t.test('a wall token: as a subprotocol, answered ja4.v1 (not ws\'s default, the first offered), never from the URL', async (t) => {
  const { token } = await fx.users.createToken('wall-fallback');
  await new Promise((r) => setTimeout(r, 1100)); // past the token cache's refresh interval
  await checkWallTokenTransport(t, d, token, 'wall-fallback');
});

t.test('topics: exact batch frames to the subscribers of each topic only', async (t) => {
  const a = await Client.connect(viewer.cookie);
  const b = await Client.connect(viewer.cookie);
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const hello = await a.next((m) => m.type === 'hello');
  t.same(hello, { type: 'hello', boot_id: d.hub.bootId, seq: d.hub.seq, server: 'ws-fallback', user: { name: USERS.viewer, role: 'viewer' } });
  a.send({ type: 'subscribe', topics: ['detections', `ja4:${JA4_GO}`] });
  b.send({ type: 'subscribe', topics: [`ja4:${JA4_CHROME}`] });
  t.same(await a.next((m) => m.type === 'subscribed'), { type: 'subscribed', topics: ['detections', `ja4:${JA4_GO}`] });
  await b.next((m) => m.type === 'subscribed');
  t.equal(d.hub.subscribers('detections'), 1);
  t.equal(d.hub.subscribers(`ja4:${JA4_CHROME}`), 1);

  const d1 = detection(1, { ja4: JA4_GO });
  const d2 = detection(2, { ja4: JA4_GO });
  const s1 = d.publishDetection(d1);
  const s2 = d.publishDetection(d2);
  d.hub.flush();
  const ts = (seq: number) => d.hub['ring'].since(seq - 1)![0]!.ts;
  // in a batch an event is {seq, data}; the topic and the last publish time are the batch's
  const event = (seq: number, data: Detection) => ({ seq, data: liveDetection(data) });
  t.same(await a.next((m) => m.type === 'batch' && m.topic === 'detections'), { type: 'batch', topic: 'detections', ts: ts(s2), events: [event(s1, d1), event(s2, d2)] });
  t.same(await a.next((m) => m.type === 'batch' && m.topic === `ja4:${JA4_GO}`), { type: 'batch', topic: `ja4:${JA4_GO}`, ts: ts(s2), events: [event(s1, d1), event(s2, d2)] });

  const d3 = detection(3, { ja4: JA4_CHROME });
  const s3 = d.publishDetection(d3);
  d.hub.flush();
  t.same(await b.next((m) => m.type === 'batch'), { type: 'batch', topic: `ja4:${JA4_CHROME}`, ts: ts(s3), events: [event(s3, d3)] });
  await a.next((m) => m.type === 'batch' && m.events[0].seq === s3);
  t.same(
    a.messages.filter((m) => m.type === 'batch').map((m) => [m.topic, m.events.map((e: any) => e.seq)]),
    [
      ['detections', [s1, s2]],
      [`ja4:${JA4_GO}`, [s1, s2]],
      ['detections', [s3]],
    ],
    'a: nothing of the topic it does not follow',
  );
  t.equal(b.messages.filter((m) => m.type === 'batch').length, 1, 'b: only its topic');

  a.send({ type: 'unsubscribe', topics: ['detections'] });
  await a.next((m) => m.type === 'unsubscribed');
  t.equal(d.hub.subscribers('detections'), 0, 'numSubscribers follows unsubscribe');
});

t.test('resync after a reconnect: the missed items of its topics from the ring', async (t) => {
  const a = await Client.connect(viewer.cookie);
  const hello = await a.next((m) => m.type === 'hello');
  a.send({ type: 'subscribe', topics: [`ja4:${JA4_CHROME}`] });
  await a.next((m) => m.type === 'subscribed');
  const s0 = d.publishDetection(detection(10, { ja4: JA4_CHROME }));
  await a.next((m) => m.type === 'batch' && m.events[0].seq === s0);
  await a.close();
  t.equal(d.hub.subscribers(`ja4:${JA4_CHROME}`), 0, 'a closed socket leaves its topics');
  const missed = [detection(11, { ja4: JA4_CHROME }), detection(12, { ja4: JA4_GO }), detection(13, { ja4: JA4_CHROME })];
  const seqs = missed.map((x) => d.publishDetection(x));
  d.hub.flush();
  const b = await Client.connect(viewer.cookie);
  t.teardown(() => b.close());
  b.send({ type: 'subscribe', topics: [`ja4:${JA4_CHROME}`] });
  await b.next((m) => m.type === 'subscribed');
  b.send({ type: 'resync', since_seq: s0, boot_id: hello.boot_id });
  const done = await b.next((m) => m.type === 'resync_done');
  t.same(done, { type: 'resync_done', source: 'ring', replayed: 2, seq: d.hub.seq, truncated: false });
  const ts = (seq: number) => d.hub['ring'].since(seq - 1)![0]!.ts;
  t.same(
    b.messages.filter((m) => m.type === 'event'),
    [
      { type: 'event', topic: `ja4:${JA4_CHROME}`, seq: seqs[0], ts: ts(seqs[0]!), data: liveDetection(missed[0]!), replay: true },
      { type: 'event', topic: `ja4:${JA4_CHROME}`, seq: seqs[2], ts: ts(seqs[2]!), data: liveDetection(missed[2]!), replay: true },
    ],
  );
});

t.test('a slow client is dropped with its buffer bounded; a fast one gets everything in order', async (t) => {
  const fast = await Client.connect(viewer.cookie);
  const slow = await Client.connect(viewer.cookie);
  t.teardown(() => fast.close());
  for (const c of [fast, slow]) {
    c.send({ type: 'subscribe', topics: ['detections'] });
    await c.next((m) => m.type === 'subscribed');
  }
  (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
  const first = d.hub.seq + 1;
  const total = 2000;
  // ~3.3 KB per live event, 6.6 MB in all: more than the kernel's loopback buffers absorb
  const pad = 'x'.repeat(3000);
  for (let i = 0; i < total; i++) {
    d.publishDetection(detection(i % 250, { host: pad } as never)); // host: a field the live form keeps
    if (i % 100 === 99) await new Promise((r) => setTimeout(r, 15));
  }
  await fast.next((m) => m.type === 'batch' && m.events.at(-1).seq === first + total - 1, 20_000);
  const got = fast.messages.filter((m) => m.type === 'batch').flatMap((m) => m.events.map((e: any) => e.seq)).filter((s: number) => s >= first);
  t.same(got, Array.from({ length: total }, (_, i) => first + i), `the fast client received all ${total}, in order`);
  (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
  const closed = await slow.closed;
  t.ok(closed.code === WS_CLOSE_TOO_SLOW || closed.code === 1006, `slow client closed (${closed.code})`);
  t.equal(d.hub.stats().dropped_slow, 1, 'counted once');
  const peak = d.hub.transportStats().peakBufferedBytes;
  // publish() skips a socket over maxBackpressure (2 x the drop limit): the bound is that plus one batch frame
  const bound = 2 * MAX_BUFFERED + 100 * 3400;
  t.ok(peak > MAX_BUFFERED && peak <= bound, `server-side buffer bounded: peak ${peak} <= ${bound} bytes, ${total * 3300} published`);
  t.equal(d.hub.stats().clients, 1, 'only the fast client is left');
});
