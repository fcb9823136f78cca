// The pcap benchmark (`npm run bench:pcap [-- options]`): how fast `ja4 pcap`
// fingerprints a large realistic capture, against the cost of merely reading
// it and against tshark, and whether its memory stays flat as files grow.
//
//   --runs N             measurements per contender, interleaved (default 3)
//   --memory             also compare peak RSS on the 1x and a 10x capture
//                        (generates the 10x file once: ~10 GB, a few minutes)
//   --tshark-packets N   size of the prefix tshark reads (default 100000)
//   --no-tshark          skip tshark
//   --detail             also time the engine alone (in-process native reads,
//                        no JS record handling) and the CLI with stdout
//                        discarded, to see where (b)'s time goes
//
// NODE_EXTRA_CA_CERTS: where it is set, Node reads and parses that CA
// bundle (and its own root store) at startup, before any script runs:
// ~0.1 s on the 2-core machine of the README, a tenth of (b). `ja4 pcap`
// makes no TLS connection, so (b) runs without the variable; where it is
// set, (b') runs the same command with it and is printed beside (b).
//
// Figures are medians. Runs are interleaved (a, b, c, a, b, c, ...) so that
// load from elsewhere on the machine hits every contender alike.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(root, 'bin', 'ja4.js');
const TARGET_VS_READ = 0.5;
const TARGET_VS_TSHARK = 20;
const TARGET_RSS_GROWTH = 1.5;

const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    memory: { type: 'boolean', default: false },
    'tshark-packets': { type: 'string', default: '100000' },
    'no-tshark': { type: 'boolean', default: false },
    detail: { type: 'boolean', default: false },
  },
});
const runs = Math.max(1, Number(opt.runs));
const tsharkPackets = Number(opt['tshark-packets']);

const log = (msg) => process.stderr.write(`${msg}\n`);
// (b)'s environment: this one without NODE_EXTRA_CA_CERTS (see the top).
const extraCaCerts = process.env.NODE_EXTRA_CA_CERTS;
const cliEnv = { ...process.env };
delete cliEnv.NODE_EXTRA_CA_CERTS;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const seconds = (t0) => Number(process.hrtime.bigint() - t0) / 1e9;
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const mb = (kb) => `${(kb / 1024).toFixed(0)} MB`;

/** The addon is rebuilt in place by other work now and then: wait for it rather than fail. */
async function loadAddonWhenPresent() {
  if (!existsSync(join(root, 'dist', 'native', 'addon.js'))) throw new Error('dist/ is missing: run "npm run build:ts" first');
  const { loadAddon } = await import('../dist/native/addon.js');
  for (let waited = 0; ; waited += 5) {
    try {
      return loadAddon();
    } catch (err) {
      if (err.code !== 'EADDON' || waited >= 300) throw err;
      if (waited === 0) log('native addon not found, waiting for it to be built...');
      await new Promise((r) => setTimeout(r, 5000));
    }
  }
}

/** (a) The floor: libpcap's pcap_next_ex over the file, nothing else, in this process. */
async function measureRead(addon, file) {
  const t0 = process.hrtime.bigint();
  const { packets } = await addon.scanPcap(file);
  return { seconds: seconds(t0), packets };
}

/** Detail: the native engine alone, in this process: batches are fetched and dropped, not parsed. */
async function measureEngine(addon, file) {
  const t0 = process.hrtime.bigint();
  const reader = new addon.PcapReader(file, {});
  while (!(await reader.read()).done);
  const { packets } = reader.stats();
  reader.close();
  return { seconds: seconds(t0), packets };
}

/**
 * (b) The product as a user runs it: a fresh `ja4 pcap --jsonl --stats`
 * process, its stdout drained into a counter. With `pollRss`, the child's
 * VmHWM (the kernel's own high-water mark, so a 20 ms poll cannot miss a
 * peak, only a rise in the last 20 ms) is sampled while it runs.
 */
function measureCli(file, { pollRss = false, discard = false, env = cliEnv } = {}) {
  return new Promise((resolve, reject) => {
    const devNull = discard ? openSync('/dev/null', 'w') : null;
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [CLI, 'pcap', file, '--jsonl', '--stats'], { stdio: ['ignore', devNull ?? 'pipe', 'pipe'], env });
    if (devNull !== null) closeSync(devNull);
    let records = 0;
    let handshakes = 0;
    let carry = '';
    let stderr = '';
    child.stdout?.setEncoding('latin1');
    child.stdout?.on('data', (chunk) => {
      for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) records++;
      // Keep a few bytes of the previous chunk: a key split across chunks still counts once.
      const text = carry + chunk;
      for (let i = text.indexOf('"ja4":'); i >= 0; i = text.indexOf('"ja4":', i + 1)) handshakes++;
      carry = text.slice(-5);
    });
    child.stderr.on('data', (d) => (stderr += d));
    let peakKb = 0;
    const poll = pollRss
      ? setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) peakKb = Math.max(peakKb, Number(m[1]));
          } catch {
            // exited between polls
          }
        }, 20)
      : null;
    child.on('error', reject);
    child.on('close', (code) => {
      const wall = seconds(t0);
      if (poll) clearInterval(poll);
      if (code !== 0) return reject(new Error(`ja4 pcap exited with ${code}: ${stderr}`));
      const stats = JSON.parse(/\{.*\}/.exec(stderr)?.[0] ?? '{}');
      resolve({ seconds: wall, packets: stats.packets, records, handshakes, peakKb, stats });
    });
  });
}

/** (c) tshark's JA3 over a prefix of the file: one output line per packet, non-empty when it holds a ClientHello. */
function measureTshark(file) {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn('tshark', ['-r', file, '-T', 'fields', '-e', 'tls.handshake.ja3'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let packets = 0;
    let handshakes = 0;
    let prev = '\n';
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk) => {
      for (let i = 0; i < chunk.length; i++) {
        const ch = chunk[i];
        if (ch === '\n') packets++;
        else if (prev === '\n') handshakes++;
        prev = ch;
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`tshark exited with ${code}`));
      resolve({ seconds: seconds(t0), packets, handshakes });
    });
  });
}

function summarize(samples) {
  const s = median(samples.map((x) => x.seconds));
  const { packets, handshakes } = samples[0];
  return { seconds: s, packets, handshakes, pps: packets / s, hps: handshakes === undefined ? undefined : handshakes / s };
}

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

const verdict = (ok) => (ok ? 'PASS' : 'FAIL');

async function main() {
  const addon = await loadAddonWhenPresent();
  // Imported late: the generator needs dist/ too, and the check above says so plainly.
  const { GENERATOR_VERSION, ensureCapture, ensurePrefix } = await import('./gen-pcap.js');
  const tsharkInstalled = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
  const hasTshark = !opt['no-tshark'] && tsharkInstalled;
  const tsharkSkipped = opt['no-tshark'] ? '--no-tshark' : 'tshark not installed';

  const cap = ensureCapture({ log });
  const genNote = cap.cached ? `cached; generated in ${cap.generateSeconds.toFixed(1)} s` : `generated in ${cap.generateSeconds.toFixed(1)} s`;
  log(`capture: ${relative(root, cap.path)}: ${fmt(cap.packets)} packets, ${(cap.bytes / 1e9).toFixed(2)} GB, ` +
    `${fmt(cap.flows)} flows (${fmt(cap.tls13)} TLS 1.3, ${fmt(cap.tls12)} TLS 1.2, ${fmt(cap.quicFlows)} QUIC; ` +
    `${fmt(cap.splitHellos)} ClientHellos split across segments), ${Math.round(cap.spanSeconds)} s of capture time (${genNote})`);
  const prefix = hasTshark ? ensurePrefix(cap.path, tsharkPackets) : null;

  // Warm the page cache so the first contender does not pay for the disk.
  await measureRead(addon, cap.path);

  const a = [];
  const b = [];
  const bWithCa = [];
  const c = [];
  const engineOnly = [];
  const discarded = [];
  for (let i = 1; i <= runs; i++) {
    log(`run ${i}/${runs}: (a) read`);
    a.push(await measureRead(addon, cap.path));
    log(`run ${i}/${runs}: (b) ja4 pcap`);
    b.push(await measureCli(cap.path));
    if (extraCaCerts !== undefined) {
      log(`run ${i}/${runs}: (b') ja4 pcap with NODE_EXTRA_CA_CERTS`);
      bWithCa.push(await measureCli(cap.path, { env: process.env }));
    }
    if (opt.detail) {
      log(`run ${i}/${runs}: detail`);
      engineOnly.push(await measureEngine(addon, cap.path));
      discarded.push(await measureCli(cap.path, { discard: true }));
    }
    if (prefix) {
      log(`run ${i}/${runs}: (c) tshark`);
      c.push(await measureTshark(prefix));
    }
  }

  // The engine must have seen every packet and fingerprinted every handshake
  // the generator wrote, or the speed is meaningless.
  const problems = [];
  for (const r of a) if (r.packets !== cap.packets) problems.push(`(a) read ${r.packets} packets, expected ${cap.packets}`);
  for (const r of [...b, ...bWithCa]) {
    if (r.packets !== cap.packets) problems.push(`(b) engine counted ${r.packets} packets, expected ${cap.packets}`);
    if (r.handshakes !== cap.handshakes) problems.push(`(b) ${r.handshakes} records with ja4, expected ${cap.handshakes}`);
  }

  const A = summarize(a.map((r) => ({ ...r, handshakes: cap.handshakes })));
  const B = summarize(b);
  const B2 = bWithCa.length ? summarize(bWithCa) : null;
  const C = c.length ? summarize(c) : null;
  const rows = [
    ['(a) pcap_next_ex only (scanPcap, in-process)', fmt(A.pps), `(${fmt(A.hps)})`, A.seconds.toFixed(2)],
    ['(b) ja4 pcap --jsonl --stats (CLI, incl. startup)', fmt(B.pps), fmt(B.hps), B.seconds.toFixed(2)],
    ...(B2 ? [["(b') the same with this environment's NODE_EXTRA_CA_CERTS", fmt(B2.pps), fmt(B2.hps), B2.seconds.toFixed(2)]] : []),
    C
      ? [`(c) tshark -e tls.handshake.ja3 (first ${fmt(C.packets)} pkts)`, fmt(C.pps), fmt(C.hps), C.seconds.toFixed(2)]
      : ['(c) tshark', 'skipped', `(${tsharkSkipped})`, ''],
  ];
  if (opt.detail) {
    const E = summarize(engineOnly.map((r) => ({ ...r, handshakes: cap.handshakes })));
    const D = summarize(discarded.map((r) => ({ ...r, handshakes: cap.handshakes })));
    rows.push(
      ['    detail: engine only (native reads, in-process)', fmt(E.pps), fmt(E.hps), E.seconds.toFixed(2)],
      ['    detail: (b) with stdout to /dev/null', fmt(D.pps), fmt(D.hps), D.seconds.toFixed(2)],
    );
  }
  const vsRead = B.pps / A.pps;
  const vsTshark = C ? B.pps / C.pps : undefined;

  console.log(`\nja4 pcap benchmark: ${fmt(cap.packets)} packets, ${fmt(cap.handshakes)} handshakes, median of ${runs} interleaved runs\n`);
  console.log(table(['', 'packets/s', 'handshakes/s', 'seconds'], rows));
  console.log('  (a)\'s handshakes/s: the file\'s handshakes over the bare read time, a ceiling.');
  if (C) console.log(`  (c) reads the first ${fmt(C.packets)} packets only (tshark is slow); rates are per second all the same.`);
  console.log('');
  console.log(`(b)/(a) packets/s: ${vsRead.toFixed(2)}   target >= ${TARGET_VS_READ.toFixed(2)}  ${verdict(vsRead >= TARGET_VS_READ)}`);
  if (B2) {
    console.log(`(b')/(a) packets/s: ${(B2.pps / A.pps).toFixed(2)}  (NODE_EXTRA_CA_CERTS is set here: Node parses that CA bundle at startup, ` +
      `${B2.seconds >= B.seconds ? '+' : ''}${(B2.seconds - B.seconds).toFixed(2)} s; ja4 pcap makes no TLS connection, so (b) runs without it)`);
  }
  if (C) console.log(`(b)/(c) packets/s: ${vsTshark.toFixed(1)}x  target >= ${TARGET_VS_TSHARK}x     ${verdict(vsTshark >= TARGET_VS_TSHARK)}`);
  else console.log(`(b)/(c): skipped (${tsharkSkipped})`);

  let memory = null;
  if (opt.memory) {
    const big = ensureCapture({ scale: 10, log });
    log(`10x capture: ${relative(root, big.path)}: ${fmt(big.packets)} packets, ${(big.bytes / 1e9).toFixed(2)} GB ` +
      `(${big.cached ? 'cached; ' : ''}generated in ${big.generateSeconds.toFixed(1)} s)`);
    log('memory: ja4 pcap on the 1x capture');
    const small = await measureCli(cap.path, { pollRss: true });
    log('memory: ja4 pcap on the 10x capture');
    const large = await measureCli(big.path, { pollRss: true });
    if (large.handshakes !== big.handshakes) problems.push(`(memory) ${large.handshakes} records with ja4 on the 10x file, expected ${big.handshakes}`);
    memory = { small, large, big, ratio: large.peakKb / small.peakKb };
    console.log(`\nPeak RSS of ja4 pcap: ${mb(small.peakKb)} on ${fmt(cap.packets)} packets, ${mb(large.peakKb)} on ${fmt(big.packets)} packets ` +
      `(${(large.packets / large.seconds / 1e6).toFixed(2)} M packets/s)`);
    console.log(`10x/1x peak RSS: ${memory.ratio.toFixed(2)}x  target <= ${TARGET_RSS_GROWTH}x  ${verdict(memory.ratio <= TARGET_RSS_GROWTH)}`);
  }

  for (const p of problems) console.log(`WARNING: ${p}`);

  // Paste-ready block for the README.
  const cpu = cpus();
  const lines = [
    '',
    '----- summary (markdown) -----',
    '`npm run bench:pcap' + (opt.memory ? ' -- --memory' : '') + '` ' +
      `(bench/pcap.bench.js; capture from bench/gen-pcap.js v${GENERATOR_VERSION}, seeded): ` +
      `${fmt(cap.packets)} packets / ${(cap.bytes / 1e9).toFixed(2)} GB, ${fmt(cap.handshakes)} handshakes ` +
      `(${fmt(cap.tls13)} TLS 1.3, ${fmt(cap.tls12)} TLS 1.2, ${fmt(cap.quicFlows)} QUIC) with 20-60 bulk segments each, ` +
      `${Math.round(cap.spanSeconds / 60)} min of capture time. ` +
      `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version}; median of ${runs} interleaved runs.`,
    '',
    '| | packets/s | handshakes/s |',
    '|---|---:|---:|',
    `| (a) read only: \`pcap_next_ex\` loop | ${fmt(A.pps)} | |`,
    `| (b) \`ja4 pcap FILE --jsonl --stats\`, one engine thread, incl. Node startup | ${fmt(B.pps)} | ${fmt(B.hps)} |`,
    ...(B2 ? [`| (b') the same with this environment's \`NODE_EXTRA_CA_CERTS\` (Node parses the CA bundle at startup) | ${fmt(B2.pps)} | ${fmt(B2.hps)} |`] : []),
    C ? `| (c) \`tshark -T fields -e tls.handshake.ja3\` (first ${fmt(C.packets)} packets) | ${fmt(C.pps)} | ${fmt(C.hps)} |` : `| (c) tshark | not run (${tsharkSkipped}) | |`,
    '',
    `(b)/(a) = ${vsRead.toFixed(2)} (target >= ${TARGET_VS_READ}: ${verdict(vsRead >= TARGET_VS_READ)}); ` +
      (C ? `(b)/(c) = ${vsTshark.toFixed(1)}x (target >= ${TARGET_VS_TSHARK}x: ${verdict(vsTshark >= TARGET_VS_TSHARK)}).` : `(b)/(c) not measured (${tsharkSkipped}).`),
  ];
  if (memory) {
    lines.push(
      `Peak RSS: ${mb(memory.small.peakKb)} on ${fmt(cap.packets)} packets, ${mb(memory.large.peakKb)} on ${fmt(memory.big.packets)} packets: ` +
        `${memory.ratio.toFixed(2)}x for a 10x file (target <= ${TARGET_RSS_GROWTH}x: ${verdict(memory.ratio <= TARGET_RSS_GROWTH)}).`,
    );
  }
  console.log(lines.join('\n'));
  if (problems.length) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err?.stack ?? err);
  process.exitCode = 1;
});
