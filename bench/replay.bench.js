// The replay benchmark (`npm run bench:replay [-- --runs N]`; `make build`
// first): how fast `ja4 replay --max` (the native capture thread reading a
// capture file, the engine with close events on, JSON event batches to JS)
// goes through the pcap benchmark's capture (bench/gen-pcap.js, 1M packets,
// generated once and cached), against the offline reader of `ja4 pcap` on
// the same file in the same process (PcapReader: the engine's records
// parsed into objects). Runs are interleaved; figures are medians.
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { openReplay } from '../dist/capture/replay.js';
import { PcapReader } from '../dist/capture/pcap-reader.js';
import { ensureCapture } from './gen-pcap.js';

const { values: opt } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(opt.runs);
const log = (m) => process.stderr.write(`${m}\n`);
const cap = ensureCapture({ log });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function replay() {
  let events = 0;
  const t0 = performance.now();
  const s = openReplay({ files: [cap.path], max: true }, (b) => {
    events += b.events;
  });
  await s.finished;
  const packets = s.stats().replayPackets ?? 0;
  await s.close();
  return { secs: (performance.now() - t0) / 1000, packets, out: events };
}

async function offline() {
  let records = 0;
  const t0 = performance.now();
  const r = new PcapReader(cap.path);
  try {
    for await (const batch of r) records += batch.length;
  } finally {
    r.close();
  }
  return { secs: (performance.now() - t0) / 1000, packets: cap.packets, out: records };
}

const res = { replay: [], offline: [] };
for (let i = 0; i < runs; i++) {
  for (const [name, fn] of i % 2 ? [['offline', offline], ['replay', replay]] : [['replay', replay], ['offline', offline]]) {
    const r = await fn();
    res[name].push(r);
    log(`run ${i + 1} ${name.padEnd(8)} ${r.secs.toFixed(3)} s, ${r.out} ${name === 'replay' ? 'events' : 'records'}`);
  }
}
const rs = median(res.replay.map((r) => r.secs));
const os = median(res.offline.map((r) => r.secs));
const packets = res.replay[0].packets;
process.stdout.write(
  `replay --max of ${cap.path.split('/').pop()} (${packets.toLocaleString('en-US')} packets), ${runs} interleaved runs, medians:\n` +
    `  ja4 replay --max (capture thread, close events): ${rs.toFixed(3)} s, ${Math.round(packets / rs).toLocaleString('en-US')} packets/s\n` +
    `  ja4 pcap's reader (same file, same process):     ${os.toFixed(3)} s, ${Math.round(packets / os).toLocaleString('en-US')} packets/s\n` +
    `  replay / offline reader time: ${(rs / os).toFixed(2)}\n`,
);
