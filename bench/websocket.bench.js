// WebSocket fan-out benchmark (`node bench/websocket.bench.js [options]`):
// --clients WebSocket clients on loopback (in --procs child processes, so
// that their work is not counted as the server's) subscribed to
// `detections`, and --rate detections/s published for --seconds. Two
// servers in the same run, one after the other, same batching (one frame
// per topic per --batch-ms tick) and the same message bytes:
//   uws: the dashboard's Hub on uWebSockets.js (native pub/sub fan-out)
//   ws:  the `ws` library, the same hub logic in JS (one send per client)
// Prints p50/p99 delivery latency (publish -> client receive, taken on the
// oldest event of each frame) and the server process's CPU time, and the
// ratio ws/uws. Targets: p99 < 50 ms, uws CPU below ws.
// Needs dist/ (npx tsc -p tsconfig.json). Not a test: numbers depend on the machine.
//
//   --clients N (1000)  --rate N (2000)  --seconds N (10)  --procs N (4)  --batch-ms N (10)
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const self = fileURLToPath(import.meta.url);
const now = () => performance.timeOrigin + performance.now();

const { values: opt } = parseArgs({
  options: {
    clients: { type: 'string', default: '1000' },
    rate: { type: 'string', default: '2000' },
    seconds: { type: 'string', default: '10' },
    procs: { type: 'string', default: '4' },
    'batch-ms': { type: 'string', default: '10' },
    child: { type: 'string' },
    url: { type: 'string' },
    count: { type: 'string' },
  },
});

// ------------------------------------------------------------------ client process
if (opt.child) {
  const WebSocket = require('ws');
  const count = Number(opt.count);
  const lat = [];
  let frames = 0;
  let events = 0;
  let ready = 0;
  const EVENT = Buffer.from('"type":"event"');
  const sockets = [];
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(opt.url, { perMessageDeflate: false });
    sockets.push(ws);
    ws.on('message', (buf) => {
      const head = buf.subarray(0, 160).toString();
      if (head.startsWith('{"type":"hello"')) {
        ws.send('{"type":"subscribe","topics":["detections"]}');
        return;
      }
      if (head.startsWith('{"type":"subscribed"')) {
        if (++ready === count) process.send({ ready: true });
        return;
      }
      const t = /"t":([\d.]+)/.exec(head);
      if (!t) return;
      lat.push(now() - Number(t[1]));
      frames++;
      for (let at = buf.indexOf(EVENT); at >= 0; at = buf.indexOf(EVENT, at + 1)) events++;
    });
    ws.on('error', (e) => process.send({ error: String(e) }));
  }
  process.on('message', (m) => {
    if (m === 'reset') {
      lat.length = 0;
      frames = 0;
      events = 0;
    } else if (m === 'report') {
      process.send({ lat, frames, events });
    } else if (m === 'close') {
      for (const ws of sockets) ws.terminate();
      setTimeout(() => process.exit(0), 100);
    }
  });
}

// ------------------------------------------------------------------ servers
/** The dashboard's hub on uWebSockets.js, as startDashboard wires it (auth always granted). */
async function startUws(batchMs) {
  const { loadUws } = await import('../dist/dashboard/uws.js');
  const { Hub } = await import('../dist/dashboard/ws/hub.js');
  const { uws, kind } = loadUws();
  const hub = new Hub({ batchMs }, undefined, () => {}, kind);
  const app = uws.App();
  hub.attach(app, async () => ({ name: 'bench', role: 'viewer', via: 'token' }), () => true);
  const socket = await new Promise((res) => app.listen('127.0.0.1', 0, res));
  return {
    name: `uws (${kind})`,
    port: uws.us_socket_local_port(socket),
    publish: (d) => hub.publishDetection(d),
    stats: () => hub.stats(),
    stop: () => {
      hub.close();
      uws.us_listen_socket_close(socket);
    },
  };
}

/** The same feed on the `ws` library: same frames, same batching, one send per subscribed client. */
async function startWs(batchMs) {
  const { WebSocketServer } = require('ws');
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise((res) => wss.on('listening', res));
  const subscribers = new Map(); // topic -> Set<ws>
  const pending = new Map();
  let seq = 0;
  let timer;
  let dropped = 0;
  const LIMIT = 1024 * 1024;
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ type: 'hello', boot_id: 'ws', seq, server: 'ws', user: { name: 'bench', role: 'viewer' } }));
    ws.on('message', (raw) => {
      const m = JSON.parse(String(raw));
      if (m.type === 'subscribe') {
        for (const t of m.topics) {
          if (!subscribers.has(t)) subscribers.set(t, new Set());
          subscribers.get(t).add(ws);
        }
        ws.send(JSON.stringify({ type: 'subscribed', topics: m.topics }));
      }
    });
    ws.on('close', () => {
      for (const set of subscribers.values()) set.delete(ws);
    });
  });
  const flush = () => {
    timer = undefined;
    for (const [topic, events] of pending) {
      const set = subscribers.get(topic);
      if (!set || set.size === 0) continue;
      const frame = `{"type":"batch","topic":${JSON.stringify(topic)},"events":[${events.join(',')}]}`;
      for (const ws of set) {
        if (ws.bufferedAmount > LIMIT) {
          dropped++;
          ws.terminate();
        } else ws.send(frame);
      }
    }
    pending.clear();
  };
  return {
    name: 'ws',
    port: wss.address().port,
    publish: (d) => {
      const ts = new Date().toISOString();
      const data = JSON.stringify(d);
      seq++;
      for (const topic of ['detections', `ja4:${d.ja4}`, `ip:${d.client_ip}`]) {
        if (!pending.has(topic)) pending.set(topic, []);
        pending.get(topic).push(`{"type":"event","topic":${JSON.stringify(topic)},"seq":${seq},"ts":"${ts}","data":${data}}`);
      }
      timer ??= setTimeout(flush, batchMs);
    },
    stats: () => ({ clients: wss.clients.size, dropped_slow: dropped, published: seq }),
    stop: () => {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    },
  };
}

// ------------------------------------------------------------------ main
function detection(i) {
  return {
    t: now(),
    detected_at: new Date().toISOString(),
    window_start: '2026-11-22T03:00:00Z',
    window: '5m',
    client_ip: `10.1.${(i >> 8) & 255}.${i & 255}`,
    ja4: 't13d190900_9dc949149365_97f8aa674fd9',
    host: 'shop.example',
    model_version: 'default-1',
    score: 0.93,
    threat_level: 'high',
    voices: ['iforest', 'gbt'],
    bot_name: 'Go net/http',
    campaign_id: 'camp-7',
    top_features: ['iat_cv', 'status_4xx_ratio', 'ua_ja4_mismatch_ratio'],
    top_contributions: [0.41, 0.22, 0.12],
    requests: 120 + (i % 50),
    asn: 64501,
    country: 'DE',
    user_agent: 'Go-http-client/1.1',
  };
}

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] : NaN);

async function runOne(server, clients, procs, rate, seconds) {
  const url = `ws://127.0.0.1:${server.port}/ws`;
  const children = [];
  const per = Math.ceil(clients / procs);
  for (let p = 0; p < procs; p++) {
    const count = Math.min(per, clients - p * per);
    if (count <= 0) break;
    children.push(fork(self, ['--child', '1', '--url', url, '--count', String(count)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }
  await Promise.all(children.map((c) => new Promise((res, rej) => c.on('message', (m) => (m.ready ? res() : m.error ? rej(new Error(m.error)) : 0)))));
  // warm-up second, then measure
  const publishFor = async (secs) => {
    const tickMs = 5;
    const perTick = rate * (tickMs / 1000);
    let carry = 0;
    let i = 0;
    const end = now() + secs * 1000;
    while (now() < end) {
      const start = now();
      carry += perTick;
      for (; carry >= 1; carry--) server.publish(detection(i++));
      const wait = tickMs - (now() - start);
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
    }
    return i;
  };
  await publishFor(1);
  await new Promise((r) => setTimeout(r, 300));
  for (const c of children) c.send('reset');
  await new Promise((r) => setTimeout(r, 50));
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const published = await publishFor(seconds);
  await new Promise((r) => setTimeout(r, 500)); // let the last frames arrive
  const wall = (now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const reports = await Promise.all(children.map((c) => new Promise((res) => {
    c.once('message', res);
    c.send('report');
  })));
  for (const c of children) c.send('close');
  const lat = reports.flatMap((r) => r.lat).sort((a, b) => a - b);
  const events = reports.reduce((n, r) => n + r.events, 0);
  return {
    server: server.name,
    published,
    expected: published * clients,
    delivered: events,
    frames: reports.reduce((n, r) => n + r.frames, 0),
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    max: lat.at(-1),
    cpuPct: ((cpu.user + cpu.system) / 1000 / (wall * 1000)) * 100,
    // CPU per delivered event: comparable even when a loaded machine lets one run publish less
    cpuNsPerEvent: ((cpu.user + cpu.system) * 1000) / Math.max(1, events),
    dropped: server.stats().dropped_slow,
  };
}

async function main() {
  const clients = Number(opt.clients);
  const rate = Number(opt.rate);
  const seconds = Number(opt.seconds);
  const procs = Number(opt.procs);
  const batchMs = Number(opt['batch-ms']);
  process.stdout.write(`== WebSocket fan-out: ${clients} clients (${procs} client processes), ${rate} detections/s for ${seconds} s, ${batchMs} ms batches\n`);
  const results = [];
  for (const start of [startUws, startWs]) {
    const server = await start(batchMs);
    try {
      const r = await runOne(server, clients, procs, rate, seconds);
      results.push(r);
      process.stdout.write(
        `  ${r.server.padEnd(16)} published ${(r.published / seconds).toFixed(0)}/s, delivered ${r.delivered.toLocaleString('en-US')} / ${r.expected.toLocaleString('en-US')} events in ${r.frames.toLocaleString('en-US')} frames, ` +
          `latency p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms (max ${r.max?.toFixed(1)}), server CPU ${r.cpuPct.toFixed(0)}% of a core = ${r.cpuNsPerEvent.toFixed(0)} ns per delivered event, dropped ${r.dropped}\n`,
      );
    } finally {
      server.stop();
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const [u, w] = results;
  process.stdout.write(
    `  uws vs ws: CPU per delivered event ${(u.cpuNsPerEvent / w.cpuNsPerEvent).toFixed(2)}x, p99 ${u.p99.toFixed(1)} vs ${w.p99.toFixed(1)} ms; ` +
      `target p99 < 50 ms: ${u.p99 < 50 ? 'OK' : 'NOT MET'}, CPU below ws: ${u.cpuNsPerEvent < w.cpuNsPerEvent ? 'OK' : 'NOT MET'}\n`,
  );
  process.exit(0);
}

if (!opt.child) {
  main().catch((err) => {
    process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
