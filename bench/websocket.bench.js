// WebSocket fan-out benchmark (`node bench/websocket.bench.js [options]`):
// --clients WebSocket clients on loopback (in --procs child processes, so
// that their work is not counted as the server's) subscribed to
// `detections`, and --rate detections/s published for --seconds. Two
// servers in the same run, one after the other, same coalescing (the
// detections of one tick of a --batch-ms frame clock go to each client as
// one `batch` frame, an array of events that keep their own seq) and the
// same message bytes (the feed's LiveDetection form of a full detection row,
// plus the publisher's stamp `t`):
//   uws: the dashboard's Hub on uWebSockets.js (native pub/sub fan-out)
//   ws:  the `ws` library, the same hub logic in JS (the frame encoded once,
//        one send per client)
// Latency is publish -> receipt of each detection (the publisher stamps
// `t` in every detection): every event on 1 client in --sample (its
// delivery-order position spread over the fan-out), and the oldest event of
// every frame on all clients (the worst one of each frame). Events are
// counted on every client from the seq range of each frame, with gaps and
// reorders counted too. Server CPU: the server process's user+system time
// (it also runs the publisher, the same for both).
// Prints p50/p99 and the CPU per delivered event, the ws/uws ratio, and the
// target verdict: p99 < 50 ms, uws CPU below ws.
//
// The clients are a minimal RFC 6455 client on net.Socket (handshake,
// frame boundaries, masked control replies): 1,000 clients x 2,000
// detections/s is 2M events/s to receive, which a full WebSocket library
// per client (plus JSON.parse per frame) cannot take on a 2-core machine,
// and then the clients, not the server, set the latency.
// Needs dist/ (npx tsc -p tsconfig.json). Not a test: numbers depend on the machine.
//
// --runs rounds (alternating which server goes first); the verdict is on
// the medians.
//
//   --runs N (3)  --clients N (1000)  --rate N (2000)  --seconds N (10)  --procs N (2)  --batch-ms N (15, the Hub's default)  --sample N (10)
import { fork } from 'node:child_process';
import { connect } from 'node:net';
import { randomBytes } from 'node:crypto';
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
    procs: { type: 'string', default: '2' },
    'batch-ms': { type: 'string', default: '15' },
    sample: { type: 'string', default: '10' },
    runs: { type: 'string', default: '3' },
    child: { type: 'string' },
    port: { type: 'string' },
    first: { type: 'string' },
    count: { type: 'string' },
  },
});

// ------------------------------------------------------------------ latency histogram
// 0.1 ms bins up to 10 s (the last bin holds everything above): constant
// memory whatever the event count, merged across processes by addition.
const BIN_MS = 0.1;
const BINS = 100_000;
const record = (hist, ms) => hist[Math.min(BINS - 1, Math.max(0, Math.floor(ms / BIN_MS)))]++;
function histPercentile(hist, p) {
  let total = 0;
  for (let i = 0; i < BINS; i++) total += hist[i];
  if (total === 0) return NaN;
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (let i = 0; i < BINS; i++) {
    seen += hist[i];
    if (seen >= rank) return (i + 1) * BIN_MS;
  }
  return BINS * BIN_MS;
}
function histMax(hist) {
  for (let i = BINS - 1; i >= 0; i--) if (hist[i] > 0) return (i + 1) * BIN_MS;
  return NaN;
}

// ------------------------------------------------------------------ client process
/** A client frame: FIN + opcode, masked with a zero key (RFC 6455 wants client frames masked; XOR 0 leaves the bytes). */
function clientFrame(opcode, payload) {
  const body = Buffer.from(payload);
  if (body.length > 125) throw new Error('bench client frames are short');
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | body.length, 0, 0, 0, 0]), body]);
}

function runClients() {
  const port = Number(opt.port);
  const first = Number(opt.first);
  const count = Number(opt.count);
  const sampleEvery = Number(opt.sample);
  const SEQ = Buffer.from('"seq":');
  const T = Buffer.from('"data":{"t":');
  const BATCH = Buffer.from('{"type":"batch"');
  const perEvent = new Uint32Array(BINS);
  const perFrame = new Uint32Array(BINS);
  const totals = { frames: 0, events: 0, gaps: 0, reorders: 0, closed: 0 };
  let ready = 0;
  let counting = false;
  /** the first seq of the measured period: frames of the warm-up still in flight are not counted */
  let from = Infinity;

  /** the number written at `at` (digits, '.', '-') */
  const numberAt = (buf, at) => {
    let end = at;
    while (end < buf.length && ((buf[end] >= 48 && buf[end] <= 57) || buf[end] === 46 || buf[end] === 45)) end++;
    return Number(buf.latin1Slice(at, end));
  };

  const onBatch = (st, buf, start, end) => {
    const received = now();
    const firstSeqAt = buf.indexOf(SEQ, start);
    const lastSeqAt = buf.lastIndexOf(SEQ, end - 1);
    if (firstSeqAt < 0 || firstSeqAt >= end || lastSeqAt < start) return;
    const firstSeq = numberAt(buf, firstSeqAt + SEQ.length);
    const lastSeq = numberAt(buf, lastSeqAt + SEQ.length);
    // every published item is a detection, so `detections` sees consecutive seqs
    if (st.lastSeq !== 0 && firstSeq !== st.lastSeq + 1) {
      if (firstSeq > st.lastSeq) totals.gaps += firstSeq - st.lastSeq - 1;
      else totals.reorders++;
    }
    st.lastSeq = lastSeq;
    if (!counting || lastSeq < from) return;
    totals.frames++;
    totals.events += lastSeq - Math.max(firstSeq, from) + 1;
    let at = buf.indexOf(T, start);
    if (at < 0 || at >= end) return;
    record(perFrame, received - numberAt(buf, at + T.length));
    if (!st.sampled) return;
    for (; at >= 0 && at < end; at = buf.indexOf(T, at + T.length)) record(perEvent, received - numberAt(buf, at + T.length));
  };

  const onFrame = (st, opcode, buf, start, end) => {
    if (opcode === 1) {
      if (end - start > BATCH.length && BATCH.compare(buf, start, start + BATCH.length) === 0) return onBatch(st, buf, start, end);
      const text = buf.toString('utf8', start, end);
      if (text.startsWith('{"type":"hello"')) st.socket.write(clientFrame(1, '{"type":"subscribe","topics":["detections"]}'));
      else if (text.startsWith('{"type":"subscribed"') && ++ready === count) process.send({ ready: true });
    } else if (opcode === 9) {
      st.socket.write(clientFrame(10, buf.subarray(start, end)));
    } else if (opcode === 8) {
      totals.closed++;
    }
  };

  /** Splits the byte stream into frames; copies only a frame that spans two reads. */
  const onData = (st, chunk) => {
    let buf = chunk;
    let off = 0;
    if (st.pending) {
      if (st.need > 0 && chunk.length >= st.need) {
        const frame = Buffer.concat([st.pending, chunk.subarray(0, st.need)]);
        off = st.need;
        st.pending = null;
        st.need = 0;
        onFrame(st, frame[0] & 15, frame, st.hdr, frame.length);
      } else if (st.need > 0) {
        st.pending = Buffer.concat([st.pending, chunk]);
        st.need -= chunk.length;
        return;
      } else {
        buf = Buffer.concat([st.pending, chunk]); // a header split across reads (rare)
        st.pending = null;
      }
    }
    while (off < buf.length) {
      if (buf.length - off < 2) break;
      const b1 = buf[off + 1] & 127;
      let hdr = 2;
      let len = b1;
      if (b1 === 126) {
        if (buf.length - off < 4) break;
        len = buf.readUInt16BE(off + 2);
        hdr = 4;
      } else if (b1 === 127) {
        if (buf.length - off < 10) break;
        len = Number(buf.readBigUInt64BE(off + 2));
        hdr = 10;
      }
      const end = off + hdr + len;
      if (end > buf.length) {
        st.pending = Buffer.from(buf.subarray(off)); // a copy: the read buffer is reused
        st.need = end - buf.length;
        st.hdr = hdr;
        return;
      }
      onFrame(st, buf[off] & 15, buf, off + hdr, end);
      off = end;
    }
    if (off < buf.length) {
      st.pending = Buffer.from(buf.subarray(off));
      st.need = 0;
    }
  };

  const open = (index) => {
    const st = { socket: null, sampled: index % sampleEvery === 0, lastSeq: 0, pending: null, need: 0, hdr: 0, upgraded: false, head: '' };
    // onread: every read lands in one reused buffer and calls back directly (no Buffer and no
    // 'data' event per read): the clients share the 2 cores with the server, so the lighter they
    // are, the more the latency is the server's
    const socket = connect({ host: '127.0.0.1', port, noDelay: true, onread: { buffer: readBuffer, callback: (n, buf) => onRead(buf.subarray(0, n)) } });
    st.socket = socket;
    socket.on('connect', () => {
      socket.write(
        `GET /ws HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    const onRead = (chunk) => {
      if (st.upgraded) return onData(st, chunk);
      st.head += chunk.toString('latin1');
      const at = st.head.indexOf('\r\n\r\n');
      if (at < 0) return;
      if (!st.head.startsWith('HTTP/1.1 101')) {
        process.send({ error: `client ${index}: ${st.head.split('\r\n')[0]}` });
        return;
      }
      st.upgraded = true;
      const rest = Buffer.from(st.head.slice(at + 4), 'latin1');
      st.head = '';
      if (rest.length) onData(st, rest);
    };
    socket.on('error', (e) => process.send({ error: `client ${index}: ${e.message}` }));
    return socket;
  };
  const readBuffer = Buffer.allocUnsafe(256 * 1024);
  const sockets = [];
  // open in waves, so that the listen backlog never overflows
  const openWave = (from) => {
    for (let i = from; i < Math.min(count, from + 100); i++) sockets.push(open(first + i));
    if (from + 100 < count) setTimeout(() => openWave(from + 100), 20);
  };
  openWave(0);
  process.on('message', (m) => {
    if (m?.start !== undefined) {
      from = m.start;
      counting = true;
    } else if (m === 'stop') {
      counting = false;
    } else if (m === 'cpu') {
      process.send(process.cpuUsage());
    } else if (m === 'report') {
      process.send({ perEvent: Array.from(perEvent), perFrame: Array.from(perFrame), ...totals });
    } else if (m === 'close') {
      for (const s of sockets) s.destroy();
      setTimeout(() => process.exit(0), 50);
    }
  });
}

if (opt.child) runClients();

// ------------------------------------------------------------------ servers
/** The dashboard's hub on uWebSockets.js, as startDashboard wires it (auth always granted). */
async function startUws(batchMs) {
  const { loadUws } = await import('../dist/dashboard/uws.js');
  const { Hub } = await import('../dist/dashboard/ws/hub.js');
  const { silentLogger } = await import('../dist/config/index.js');
  const { liveDetection } = await import('../dist/dashboard/ws/live-detection.js');
  const { uws, kind } = loadUws();
  const hub = new Hub({ batchMs }, undefined, silentLogger(), kind);
  const app = uws.App();
  hub.attach(app, async () => ({ name: 'bench', role: 'viewer', via: 'token' }), () => true);
  const socket = await new Promise((res) => app.listen('127.0.0.1', 0, res));
  return {
    name: `uws (${kind})`,
    port: uws.us_socket_local_port(socket),
    // publishDetection's topics and payload, with the stamp t first (the clients look for `"data":{"t":`)
    publish: (d) => hub.publish(['detections', `ja4:${d.ja4}`, `ip:${d.client_ip}`], { t: d.t, ...liveDetection(d) }),
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
  const { liveDetection } = await import('../dist/dashboard/ws/live-detection.js');
  const { FrameClock } = await import('../dist/dashboard/ws/hub.js');
  const clock = new FrameClock(batchMs);
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
      // encoded once for all clients, as a careful `ws` broadcast does
      const json = events.map((e) => `{"seq":${e.seq},"data":${e.data}}`).join(',');
      const frame = Buffer.from(`{"type":"batch","topic":${JSON.stringify(topic)},"ts":"${events[events.length - 1].ts}","events":[${json}]}`);
      for (const ws of set) {
        if (ws.bufferedAmount > LIMIT) {
          dropped++;
          ws.terminate();
        } else ws.send(frame, { binary: false });
      }
    }
    pending.clear();
  };
  return {
    name: 'ws',
    port: wss.address().port,
    publish: (d) => {
      const ts = new Date().toISOString();
      const data = JSON.stringify({ t: d.t, ...liveDetection(d) });
      seq++;
      for (const topic of ['detections', `ja4:${d.ja4}`, `ip:${d.client_ip}`]) {
        if (!pending.has(topic)) pending.set(topic, []);
        pending.get(topic).push({ seq, ts, data }); // JSON built at the flush, only for followed topics (as the Hub does)
      }
      timer ??= setTimeout(flush, clock.next()); // the Hub's frame clock
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

async function runOne(server, clients, procs, rate, seconds, sample) {
  const children = [];
  const per = Math.ceil(clients / procs);
  for (let p = 0; p < procs; p++) {
    const count = Math.min(per, clients - p * per);
    if (count <= 0) break;
    const args = ['--child', '1', '--port', String(server.port), '--first', String(p * per), '--count', String(count), '--sample', String(sample)];
    children.push(fork(self, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
  }
  await Promise.all(children.map((c) => new Promise((res, rej) => c.on('message', (m) => (m.ready ? res() : m.error ? rej(new Error(m.error)) : 0)))));
  // The publisher keeps to the rate by elapsed time: a late timer publishes
  // what is due (a detector hands over what it found meanwhile), so a busy
  // machine still gets --rate detections/s, in bursts.
  let i = 0;
  const publishFor = async (secs) => {
    const t0 = now();
    let sent = 0;
    while (now() - t0 < secs * 1000) {
      const due = Math.floor(((now() - t0) / 1000) * rate);
      for (; sent < due; sent++) server.publish(detection(i++));
      await new Promise((r) => setTimeout(r, 1));
    }
    for (const total = Math.floor(secs * rate); sent < total; sent++) server.publish(detection(i++)); // what fell due in the last wait
    return sent;
  };
  await publishFor(1); // warm-up
  await new Promise((r) => setTimeout(r, 300));
  for (const c of children) c.send({ start: server.stats().published + 1 });
  await new Promise((r) => setTimeout(r, 50));
  const askCpu = () => Promise.all(children.map((c) => new Promise((res) => (c.once('message', res), c.send('cpu')))));
  const clientCpu0 = await askCpu();
  const cpu0 = process.cpuUsage();
  const t0 = now();
  const published = await publishFor(seconds);
  const wall = (now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const clientCpu1 = await askCpu();
  // the clients share the machine's 2 cores with the server: when they need more than a core, latency is theirs too
  const clientCpuMs = clientCpu1.reduce((n, c, i) => n + (c.user + c.system - clientCpu0[i].user - clientCpu0[i].system) / 1000, 0);
  await new Promise((r) => setTimeout(r, 1000)); // the last frames arrive
  for (const c of children) c.send('stop');
  const reports = await Promise.all(
    children.map(
      (c) =>
        new Promise((res) => {
          c.once('message', res);
          c.send('report');
        }),
    ),
  );
  for (const c of children) c.send('close');
  const merge = (key) => {
    const h = new Uint32Array(BINS);
    for (const r of reports) for (let b = 0; b < BINS; b++) h[b] += r[key][b];
    return h;
  };
  const perEvent = merge('perEvent');
  const perFrame = merge('perFrame');
  const sum = (key) => reports.reduce((n, r) => n + r[key], 0);
  const events = sum('events');
  return {
    server: server.name,
    published,
    rate: published / wall,
    expected: published * clients,
    delivered: events,
    frames: sum('frames'),
    gaps: sum('gaps'),
    reorders: sum('reorders'),
    p50: histPercentile(perEvent, 50),
    p99: histPercentile(perEvent, 99),
    max: histMax(perEvent),
    frameP99: histPercentile(perFrame, 99),
    cpuPct: ((cpu.user + cpu.system) / 1000 / (wall * 1000)) * 100,
    clientCpuPct: (clientCpuMs / (wall * 1000)) * 100,
    // CPU per delivered event: comparable even when a loaded machine lets one run deliver less
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
  const sample = Number(opt.sample);
  const runs = Number(opt.runs);
  for (const [name, v] of [['runs', runs], ['clients', clients], ['rate', rate], ['seconds', seconds], ['procs', procs], ['batch-ms', batchMs], ['sample', sample]]) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got ${JSON.stringify(opt[name])}`);
  }
  process.stdout.write(
    `== WebSocket fan-out: ${clients} clients (${procs} client processes), ${rate} detections/s for ${seconds} s, ${batchMs} ms coalescing, ` +
      `latency of every event on 1 client in ${sample}\n`,
  );
  // Rounds alternate the order (uws, ws | ws, uws | ...) so that a drift of
  // the machine's load does not favour one server; the verdict is on the
  // medians of the rounds.
  const rounds = [];
  for (let round = 0; round < runs; round++) {
    const order = round % 2 === 0 ? [startUws, startWs] : [startWs, startUws];
    const byName = {};
    for (const start of order) {
      const server = await start(batchMs);
      try {
        const r = await runOne(server, clients, procs, rate, seconds, sample);
        byName[r.server.startsWith('uws') ? 'u' : 'w'] = r;
        process.stdout.write(
          `  [${round + 1}/${runs}] ${r.server.padEnd(10)} published ${r.rate.toFixed(0)}/s, delivered ${r.delivered.toLocaleString('en-US')} / ${r.expected.toLocaleString('en-US')} events in ${r.frames.toLocaleString('en-US')} frames ` +
            `(gaps ${r.gaps}, reorders ${r.reorders}, dropped ${r.dropped})\n` +
            `             latency per detection p50 ${r.p50.toFixed(1)} ms p99 ${r.p99.toFixed(1)} ms (max ${r.max.toFixed(1)}); oldest of each frame p99 ${r.frameP99.toFixed(1)} ms; ` +
            `server CPU ${r.cpuPct.toFixed(0)}% of a core = ${r.cpuNsPerEvent.toFixed(0)} ns per delivered event (clients: ${r.clientCpuPct.toFixed(0)}%)\n`,
        );
      } finally {
        server.stop();
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    rounds.push(byName);
    process.stdout.write(`  [${round + 1}/${runs}] uws / ws: CPU per delivered event ${(byName.u.cpuNsPerEvent / byName.w.cpuNsPerEvent).toFixed(2)}x, p99 ${byName.u.p99.toFixed(1)} vs ${byName.w.p99.toFixed(1)} ms\n`);
  }
  const median = (xs) => {
    const v = [...xs].sort((a, b) => a - b);
    return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
  };
  const uP99 = median(rounds.map((r) => r.u.p99));
  const wP99 = median(rounds.map((r) => r.w.p99));
  const ratios = rounds.map((r) => r.u.cpuNsPerEvent / r.w.cpuNsPerEvent);
  const cpuRatio = median(ratios);
  const latencyOk = uP99 < 50;
  const cpuOk = cpuRatio < 1;
  const complete = rounds.every((r) => r.u.delivered === r.u.expected && r.u.gaps === 0 && r.u.reorders === 0);
  process.stdout.write(
    `  medians of ${runs} rounds: uws p99 ${uP99.toFixed(1)} ms (ws ${wP99.toFixed(1)} ms); uws / ws CPU per delivered event ${cpuRatio.toFixed(2)}x ` +
      `(rounds ${ratios.map((x) => x.toFixed(2)).join(', ')})\n` +
      `  target p99 < 50 ms: ${latencyOk ? 'PASS' : 'FAIL'} (${uP99.toFixed(1)} ms); CPU below ws: ${cpuOk ? 'PASS' : 'FAIL'} (${cpuRatio.toFixed(2)}x); every event delivered in order: ${complete ? 'yes' : 'NO'}\n` +
      `  verdict: ${latencyOk && cpuOk && complete ? 'PASS' : 'FAIL'}\n`,
  );
  process.exit(0);
}

if (!opt.child) {
  main().catch((err) => {
    process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
    process.exit(1);
  });
}
