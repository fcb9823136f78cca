// `simulate({pcapPath})` writes the packets of every connection; the real
// engine run over that pcap must report, for every TLS event the simulator
// sent, exactly the same record (every field: stream, addresses, times,
// packet count, JA4/JA4_r/JA4_o/JA4_ro, JA3, JA4S, JA3S, JA4T, JA4TS, JA4L,
// TTL, certificates), and the cleartext requests it logged.
import t from 'tap';
import { join } from 'node:path';
import { readPcap } from '../src/capture/pcap-reader.js';
import type { FlowRecord } from '../src/capture/flow-record.js';
import { simulate } from '../src/simulator/index.js';
import { scratchDir } from './helpers/scratch-dir.js';

const START = 1_795_305_600_000_000;

t.test('the engine over the written pcap reproduces every TLS event', async (t) => {
  const pcap = join(scratchDir(t), 'sim.pcap');
  const tls: string[] = [];
  const http: string[] = [];
  for await (const b of simulate({ seed: 9, rate: 120, durationS: 40, startUs: START, pcapPath: pcap, population: { families: { 'vuln-scanner': 40 } } })) {
    tls.push(...b.tls);
    http.push(...b.http);
  }
  const records = await readPcap(pcap);
  const byStream = new Map<number, FlowRecord>(records.filter((r) => r.transport === 'tcp').map((r) => [r.stream, r]));
  const flows = tls.map((l) => JSON.parse(l) as FlowRecord & { event: string }).filter((e) => e.event === 'flow');
  t.ok(flows.length > 300, `${flows.length} flow events`);
  let same = 0;
  const diffs: string[] = [];
  const ja4s = new Set<string>();
  for (const e of flows) {
    const { event, ...fields } = e;
    void event;
    const r = byStream.get(e.stream);
    if (JSON.stringify(r) === JSON.stringify(fields)) same++;
    else if (diffs.length < 3) diffs.push(`event ${JSON.stringify(fields).slice(0, 400)}\nengine ${JSON.stringify(r)?.slice(0, 400)}`);
    ja4s.add(e.ja4!);
  }
  t.same(diffs, [], 'no difference');
  t.equal(same, flows.length, 'every flow event equals the engine record, field by field and in order');
  t.ok(ja4s.size >= 8, `${ja4s.size} distinct JA4s among the events`);
  t.ok(flows.some((e) => e.ja4!.startsWith('t12') && e.tls_certs), 'TLS 1.2 events carry the certificate (JA4X)');
  t.ok(flows.some((e) => e.ja4![3] === 'i' && e.tls_server_name === undefined), 'clients without SNI (by IP address)');
  t.ok(flows.some((e) => e.src.includes(':')), 'IPv6 clients');

  // Cleartext (port 80) requests: the engine parses them from the packets.
  const plain = http.map((l) => JSON.parse(l) as { scheme: string; client_ip: string; client_port: number; method: string; uri: string; headers: { 'user-agent'?: string } }).filter((x) => x.scheme === 'http');
  const engineHttp = new Map<string, { method: string; path: string; user_agent?: string }[]>();
  for (const r of records) if (r.http) engineHttp.set(`${r.src}:${r.src_port}`, [...(engineHttp.get(`${r.src}:${r.src_port}`) ?? []), ...r.http]);
  let found = 0;
  for (const x of plain) {
    const list = engineHttp.get(`${x.client_ip}:${x.client_port}`) ?? [];
    if (list.some((h) => h.method === x.method && h.path === x.uri && h.user_agent === x.headers['user-agent'])) found++;
  }
  t.ok(plain.length > 0, `${plain.length} cleartext requests logged`);
  t.equal(found, plain.length, 'each is in the engine JA4H records of its connection, same method, path and User-Agent');
});
