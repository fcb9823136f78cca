// `ja4 pcap`: output formats (table, --json, --jsonl, --raw, --original),
// errors (missing file, not a capture, truncated capture, bad options) with
// their exit codes and messages, the help texts, and the same exit codes
// from bin/ja4.js run as a child process.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { LINUX_SYN_OPTIONS, PcapWriter, TCP_ACK, TCP_SYN, TcpConversation, WINDOWS_SYN_OPTIONS } from '../src/capture/pcap-writer.js';
import { clientHello, serverHello, tlsRecords } from './helpers/tls-messages.js';
import {
  expectedJa3,
  expectedJa3s,
  expectedJa4,
  expectedJa4h,
  expectedJa4s,
  expectedJa4t,
  httpRequestBytes,
  type HttpRequestSpec,
} from './helpers/expected-fingerprints.js';
import { CHROME_HELLO, CLIENT, SERVER, T0, TLS13_SERVER_HELLO, scratchDir } from './helpers/captures.js';
import { repoRoot } from './helpers/paths.js';

interface Run {
  code: number;
  out: string;
  err: string;
}

async function ja4(argv: string[]): Promise<Run> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

function ja4Child(argv: string[]): Run {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'ja4.js'), ...argv], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

const WEB = { ip: '198.51.100.80', port: 80 };
const HTTP_CLIENT = { ip: '192.0.2.11', port: 41000 };
const GET: HttpRequestSpec = {
  method: 'GET',
  target: '/robots.txt',
  version: 'HTTP/1.1',
  headers: [
    ['Host', 'www.example.org'],
    ['User-Agent', 'ja4-test/1.0'],
    ['Accept', '*/*'],
  ],
};

/** Stream 0: TLS 1.3 to SERVER; stream 1: one HTTP request. 8 + 7 packets. */
function writeTwoFlows(w: PcapWriter): number {
  const tls = new TcpConversation(w, CLIENT, SERVER, T0);
  tls.handshake();
  tls.send(true, tlsRecords(clientHello(CHROME_HELLO)));
  tls.send(false, tlsRecords(serverHello(TLS13_SERVER_HELLO)));
  tls.close();
  const http = new TcpConversation(w, HTTP_CLIENT, WEB, tls.tsUs + 1000);
  http.handshake();
  http.send(true, httpRequestBytes(GET));
  http.close();
  return http.tsUs;
}

const JA4 = expectedJa4(CHROME_HELLO);
const JA4S = expectedJa4s(TLS13_SERVER_HELLO);
const JA3 = expectedJa3(CHROME_HELLO);
const JA3S = expectedJa3s(TLS13_SERVER_HELLO);
const JA4H = expectedJa4h(GET);
const JA4T = expectedJa4t(64240, WINDOWS_SYN_OPTIONS);
const JA4TS = expectedJa4t(65160, LINUX_SYN_OPTIONS);

/** The --json form of the two streams, keys in output order. */
const EXPECTED_JSON = [
  {
    stream: 0,
    transport: 'tcp',
    src: CLIENT.ip,
    dst: SERVER.ip,
    src_port: CLIENT.port,
    dst_port: SERVER.port,
    tls_server_name: 'www.example.com',
    ja4: JA4.ja4,
    ja4s: JA4S.ja4s,
    ja3: JA3.ja3,
    ja3s: JA3S.ja3s,
    ja4t: JA4T,
    ja4ts: JA4TS,
    // SYN, SYN-ACK, ACK 100 us apart: half the gap, then the TTL
    ja4l_c: '50_64',
    ja4l_s: '50_64',
  },
  {
    stream: 1,
    transport: 'tcp',
    src: HTTP_CLIENT.ip,
    dst: WEB.ip,
    src_port: HTTP_CLIENT.port,
    dst_port: WEB.port,
    ja4t: JA4T,
    ja4ts: JA4TS,
    ja4l_c: '50_64',
    ja4l_s: '50_64',
    http: [{ ja4h: JA4H.ja4h, method: 'GET', path: '/robots.txt', host: 'www.example.org', user_agent: 'ja4-test/1.0' }],
  },
];

function fixture(t: Parameters<typeof scratchDir>[0]): string {
  const dir = scratchDir(t);
  const file = join(dir, 'two-flows.pcap');
  const w = new PcapWriter(file);
  writeTwoFlows(w);
  w.close();
  return file;
}

t.test('expected JA3 sanity: GREASE dropped from ciphers, extensions and groups', async (t) => {
  t.equal(JA3.ja3_r.split(',').slice(3).join(','), '29-23,0');
  t.equal(JA3S.ja3s_r, '771,4865,51-43');
});

t.test('--json prints one array with the expected fields, in the reference order', async (t) => {
  const file = fixture(t);
  const r = await ja4(['pcap', file, '--json']);
  t.equal(r.code, 0);
  t.equal(r.err, '');
  const parsed = JSON.parse(r.out) as Record<string, unknown>[];
  t.same(parsed, EXPECTED_JSON);
  t.same(parsed.map((o) => Object.keys(o)), EXPECTED_JSON.map((o) => Object.keys(o)), 'key order');
  t.ok(r.out.endsWith(']\n'), 'ends with a newline');
});

t.test('--jsonl prints one object per line', async (t) => {
  const file = fixture(t);
  const r = await ja4(['pcap', file, '--jsonl']);
  t.equal(r.code, 0);
  const lines = r.out.split('\n');
  t.equal(lines.pop(), '', 'ends with a newline');
  t.same(
    lines.map((l) => JSON.parse(l)).sort((a, b) => a.stream - b.stream),
    EXPECTED_JSON,
  );
});

// --jsonl is written by the engine itself (native/core/record_json.cc, the
// reference shape), --json by presentRecord() from the parsed records: the
// two must print the same objects, key order included, for every capture and
// flag combination.
t.test('--jsonl lines are exactly the --json objects (every sample and conformance capture)', async (t) => {
  const dir = join(repoRoot, '..', 'shared', 'conformance', 'foxio-ja4', 'pcap');
  const files = [join(repoRoot, 'samples', 'loopback-clients.pcapng'), ...(existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [])];
  let compared = 0;
  for (const flags of [[], ['--raw'], ['--original'], ['--raw', '--original']]) {
    for (const file of files) {
      const json = await ja4(['pcap', file, '--json', ...flags]);
      const jsonl = await ja4(['pcap', file, '--jsonl', ...flags]);
      t.equal(jsonl.code, json.code, `${file} ${flags.join(' ')}: same exit status`);
      const objects = JSON.parse(json.out) as { transport: string; stream: number }[];
      const lines = jsonl.out.split('\n').filter((l) => l !== '');
      const sorted = lines.map((l) => JSON.parse(l) as { transport: string; stream: number }).sort((a, b) => (a.transport === b.transport ? a.stream - b.stream : a.transport < b.transport ? -1 : 1));
      t.equal(sorted.map((o) => JSON.stringify(o)).join('\n'), objects.map((o) => JSON.stringify(o)).join('\n'), `${file} ${flags.join(' ')}`);
      compared += lines.length;
    }
  }
  t.ok(compared > 100, `${compared} records compared`);
  // several files: each line starts with its file, as in --json
  const two = [files[0]!, files[0]!];
  const multi = await ja4(['pcap', ...two, '--jsonl']);
  const firstLine = multi.out.split('\n')[0]!;
  t.equal(Object.keys(JSON.parse(firstLine) as object)[0], 'file');
  t.same((JSON.parse(firstLine) as { file: string }).file, files[0]);
});

t.test('table output: a header line, a rule, one line per stream', async (t) => {
  const file = fixture(t);
  const r = await ja4(['pcap', file]);
  t.equal(r.code, 0);
  t.equal(r.err, '');
  const lines = r.out.split('\n');
  t.equal(lines.pop(), '');
  t.equal(lines.length, 4);
  t.same(lines[0]!.split(/\s+/), ['STREAM', 'PROTO', 'CLIENT', 'SERVER', 'SNI', 'JA4', 'JA4S', 'JA4T', 'JA4L_C', 'JA4H', 'JA4X', 'JA4SSH']);
  t.match(lines[1]!, /^[- ]+$/);
  t.same(lines[2]!.split(/\s+/), [
    '0',
    'tcp',
    `${CLIENT.ip}:${CLIENT.port}`,
    `${SERVER.ip}:${SERVER.port}`,
    'www.example.com',
    JA4.ja4,
    JA4S.ja4s,
    JA4T,
    '50_64',
  ]);
  t.same(lines[3]!.split(/\s+/), ['1', 'tcp', `${HTTP_CLIENT.ip}:${HTTP_CLIENT.port}`, `${WEB.ip}:${WEB.port}`, JA4T, '50_64', JA4H.ja4h]);
  // Columns line up: every cell starts where its header does.
  const col = (name: string) => lines[0]!.indexOf(name);
  t.equal(lines[2]!.indexOf(JA4.ja4), col('JA4'));
  t.equal(lines[3]!.indexOf(JA4H.ja4h), col('JA4H'));
});

t.test('--raw adds ja4_r, ja4s_r, ja3_r, ja3s_r and ja4h_r', async (t) => {
  const file = fixture(t);
  const r = await ja4(['pcap', file, '--json', '--raw']);
  t.equal(r.code, 0);
  const [tls, http] = JSON.parse(r.out) as Record<string, unknown>[];
  t.same(Object.keys(tls!), [
    'stream', 'transport', 'src', 'dst', 'src_port', 'dst_port', 'tls_server_name',
    'ja4', 'ja4_r', 'ja4s', 'ja4s_r', 'ja3', 'ja3_r', 'ja3s', 'ja3s_r', 'ja4t', 'ja4ts', 'ja4l_c', 'ja4l_s',
  ]);
  t.same(
    [tls!.ja4_r, tls!.ja4s_r, tls!.ja3_r, tls!.ja3s_r],
    [JA4.ja4_r, JA4S.ja4s_r, JA3.ja3_r, JA3S.ja3s_r],
  );
  t.same((http!.http as unknown[])[0], {
    ja4h: JA4H.ja4h,
    ja4h_r: JA4H.ja4h_r,
    method: 'GET',
    path: '/robots.txt',
    host: 'www.example.org',
    user_agent: 'ja4-test/1.0',
  });
});

t.test('--original gives ja4_o (and ja4h_o) instead of ja4; with --raw the _ro forms', async (t) => {
  const file = fixture(t);
  const r = await ja4(['pcap', file, '--json', '--original']);
  t.equal(r.code, 0);
  const [tls, http] = JSON.parse(r.out) as Record<string, unknown>[];
  t.equal(tls!.ja4_o, JA4.ja4_o);
  t.notOk('ja4' in tls!, 'no ja4');
  t.notOk('ja4_r' in tls!, 'no ja4_r');
  t.equal(tls!.ja4s, JA4S.ja4s, 'JA4S has no original-order form');
  t.same((http!.http as Record<string, unknown>[])[0]!.ja4h_o, JA4H.ja4h_o);
  t.notOk('ja4h' in (http!.http as Record<string, unknown>[])[0]!);

  const raw = await ja4(['pcap', file, '--json', '--original', '--raw']);
  const [tlsRaw, httpRaw] = JSON.parse(raw.out) as Record<string, unknown>[];
  t.same([tlsRaw!.ja4_o, tlsRaw!.ja4_ro, tlsRaw!.ja4_r], [JA4.ja4_o, JA4.ja4_ro, undefined]);
  t.same((httpRaw!.http as Record<string, unknown>[])[0]!.ja4h_ro, JA4H.ja4h_ro);

  const table = await ja4(['pcap', file, '--original']);
  t.same(table.out.split('\n')[2]!.split(/\s+/)[5], JA4.ja4_o, 'the table shows ja4_o');
});

t.test('--stats prints the engine counters to stderr', async (t) => {
  const file = fixture(t);
  const r = await ja4(['pcap', file, '--json', '--stats']);
  t.equal(r.code, 0);
  const prefix = `ja4 pcap: ${file}: `;
  t.ok(r.err.startsWith(prefix), r.err);
  const stats = JSON.parse(r.err.slice(prefix.length)) as Record<string, number>;
  t.same(
    [stats.packets, stats.tcp_packets, stats.flows_created, stats.tls_client_hellos, stats.http_requests, stats.records_emitted],
    [15, 15, 2, 1, 1, 2],
  );
});

t.test('a missing file: exit 2, one stderr line naming it, "no such file"', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'absent.pcap');
  const r = await ja4(['pcap', file, '--json']);
  t.equal(r.code, 2);
  t.equal(r.err, `ja4 pcap: ${file}: no such file\n`);
  t.equal(r.out, '[]\n');
  // Pinned: the table format still prints its (empty) header.
  const table = await ja4(['pcap', file]);
  t.equal(table.code, 2);
  t.equal(table.out.split('\n').length, 3, 'header, rule, trailing newline');
});

t.test('a text file: exit 2, "not a pcap or pcapng capture"', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'notes.txt');
  writeFileSync(file, 'these are not packets\n'.repeat(10));
  const r = await ja4(['pcap', file, '--json']);
  t.equal(r.code, 2);
  t.equal(r.err, `ja4 pcap: ${file}: not a pcap or pcapng capture (unknown file format)\n`);
  t.equal(r.out, '[]\n');
});

t.test('an empty file and a directory are not captures either', async (t) => {
  const dir = scratchDir(t);
  const empty = join(dir, 'empty.pcap');
  writeFileSync(empty, '');
  const r = await ja4(['pcap', empty, dir, '--json']);
  t.equal(r.code, 2);
  const lines = r.err.split('\n');
  t.equal(lines.length, 3);
  t.match(lines[0]!, new RegExp(`^ja4 pcap: ${empty.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not a pcap or pcapng capture \\(`));
  t.equal(lines[1], `ja4 pcap: ${dir}: is a directory, not a capture file`);
});

/** Two complete flows, then the next flow's SYN record cut 20 bytes into its frame. */
function truncatedFixture(t: Parameters<typeof scratchDir>[0]): { file: string; frameLen: number } {
  const dir = scratchDir(t);
  const file = join(dir, 'truncated.pcap');
  const w = new PcapWriter(file);
  const end = writeTwoFlows(w);
  w.flush();
  const before = statSync(file).size;
  const third = new TcpConversation(w, { ip: '192.0.2.12', port: 42000 }, SERVER, end + 1000);
  third.packet(true, TCP_SYN, undefined, { options: WINDOWS_SYN_OPTIONS, window: 64240 });
  w.flush();
  const frameLen = statSync(file).size - before - 16;
  third.packet(false, TCP_SYN | TCP_ACK, undefined, { options: LINUX_SYN_OPTIONS, window: 65160 });
  w.close();
  truncateSync(file, before + 16 + 20);
  return { file, frameLen };
}

t.test('a truncated capture: exit 2, stderr says truncated, the streams before it are printed', async (t) => {
  const { file, frameLen } = truncatedFixture(t);
  t.equal(frameLen, 66, 'the cut SYN frame: Ethernet 14 + IPv4 20 + TCP 32');
  const r = await ja4(['pcap', file, '--json']);
  t.equal(r.code, 2);
  // libpcap's wording, then the packets the engine read before the cut
  t.equal(
    r.err,
    `ja4 pcap: ${file}: truncated capture: truncated dump file; tried to read ${frameLen} captured bytes, only got 20 after 15 packets\n`,
  );
  t.same(JSON.parse(r.out), EXPECTED_JSON);

  const table = await ja4(['pcap', file]);
  t.equal(table.code, 2);
  t.equal(table.out.split('\n').length, 5, 'header, rule, two streams, trailing newline');
});

t.test('an unknown option: exit 2 with the parser message and a pointer to --help', async (t) => {
  const file = fixture(t);
  const r = await ja4(['pcap', file, '--bogus']);
  t.equal(r.code, 2);
  t.equal(r.out, '');
  const lines = r.err.split('\n');
  t.equal(lines.length, 3);
  // node:util parseArgs' own wording follows the option name
  t.match(lines[0], /^Unknown option '--bogus'\. /);
  t.equal(lines[1], 'Run "ja4 pcap --help" for usage.');
});

t.test('option values are checked: exit 2 and a message', async (t) => {
  const file = fixture(t);
  t.same(await ja4(['pcap', file, '--max-flows', 'many']), {
    code: 2,
    out: '',
    err: '--max-flows must be a non-negative integer, got "many"\n',
  });
  t.same(await ja4(['pcap', file, '--json', '--jsonl']), { code: 2, out: '', err: '--json and --jsonl cannot be combined\n' });
  t.same(await ja4(['pcap']), { code: 2, out: '', err: 'ja4 pcap: no capture file given\nRun "ja4 pcap --help" for usage.\n' });
  const zero = await ja4(['pcap', file, '--max-flows', '0']);
  t.equal(zero.code, 2);
  t.equal(
    zero.err,
    '--max-flows must be an integer between 1 and 100000000, got 0\n',
    'names the command-line flag',
  );
});

t.test('engine limits from the command line reach the engine', async (t) => {
  const dir = scratchDir(t);
  const file = join(dir, 'syns.pcap');
  const w = new PcapWriter(file);
  for (let i = 0; i < 5; i++) {
    new TcpConversation(w, { ip: CLIENT.ip, port: 20000 + i }, SERVER, T0 + i * 2_000_000).packet(true, TCP_SYN, undefined, {
      options: WINDOWS_SYN_OPTIONS,
    });
  }
  w.close();
  const cap = await ja4(['pcap', file, '--json', '--stats', '--max-flows', '2']);
  t.equal(cap.code, 0);
  const stats = JSON.parse(cap.err.slice(cap.err.indexOf('{'))) as Record<string, number>;
  t.same([stats.flows_evicted_capacity, stats.flows_evicted_idle], [3, 0]);
  const idle = await ja4(['pcap', file, '--json', '--stats', '--idle-timeout-ms', '1000']);
  const stats2 = JSON.parse(idle.err.slice(idle.err.indexOf('{'))) as Record<string, number>;
  t.same([stats2.flows_evicted_capacity, stats2.flows_evicted_idle], [0, 4]);
  t.equal((JSON.parse(idle.out) as unknown[]).length, 5);
});

t.test('two files: records carry the file, a missing one makes the exit code 2', async (t) => {
  const file = fixture(t);
  const missing = join(scratchDir(t), 'gone.pcap');
  const r = await ja4(['pcap', file, missing, '--json']);
  t.equal(r.code, 2);
  t.equal(r.err, `ja4 pcap: ${missing}: no such file\n`);
  t.same(JSON.parse(r.out), EXPECTED_JSON.map((o) => ({ file, ...o })));
});

const PCAP_OPTIONS = ['--json', '--jsonl', '--raw', '--original', '--stats', '--max-flows', '--idle-timeout-ms', '--max-buffered-bytes', '--help'];

t.test('ja4 --help: exit 0, documents both commands', async (t) => {
  const r = await ja4(['--help']);
  t.equal(r.code, 0);
  t.equal(r.err, '');
  t.match(r.out, /^Usage: ja4 <command> \[options\]\n/);
  t.match(r.out, /\n  pcap FILE\.\.\. /);
  t.match(r.out, /\n  demo /);
  t.same(await ja4(['-h']), r);
  const bare = await ja4([]);
  t.same([bare.code, bare.out], [2, r.out], 'no command: the same help, exit 2');
  const unknown = await ja4(['frobnicate']);
  t.same([unknown.code, unknown.out, unknown.err.split('\n')[0]], [2, '', 'ja4: unknown command "frobnicate"']);
});

t.test('ja4 pcap --help: exit 0, documents every option it accepts', async (t) => {
  const r = await ja4(['pcap', '--help']);
  t.equal(r.code, 0);
  t.equal(r.err, '');
  t.match(r.out, /^Usage: ja4 pcap FILE\.\.\. \[options\]\n/);
  t.same(await ja4(['pcap', '-h']), r);
  const documented = [...new Set(r.out.match(/--[a-z][a-z-]*/g))].sort();
  for (const opt of PCAP_OPTIONS) {
    t.ok(documented.includes(opt), `documents ${opt}`);
  }
  // Every documented option is accepted.
  const file = fixture(t);
  for (const opt of documented) {
    const args = /max-|timeout/.test(opt) ? [opt, '1000'] : [opt];
    const res = await ja4(['pcap', file, ...args]);
    t.equal(res.code, 0, `${opt} is accepted`);
  }
});

t.test('bin/ja4.js as a child process: same output and exit codes', async (t) => {
  const file = fixture(t);
  const dir = scratchDir(t);
  const truncated = truncatedFixture(t).file;
  const missing = join(dir, 'absent.pcap');
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'not a capture\n');
  const ok = ja4Child(['pcap', file, '--json']);
  t.equal(ok.code, 0);
  t.same(JSON.parse(ok.out), EXPECTED_JSON);
  t.equal(ok.out, (await ja4(['pcap', file, '--json'])).out, 'byte-identical to the in-process run');
  t.same(ja4Child(['pcap', missing]), { ...(await ja4(['pcap', missing])) });
  const notCapture = ja4Child(['pcap', text, '--json']);
  t.same(notCapture, { code: 2, out: '[]\n', err: `ja4 pcap: ${text}: not a pcap or pcapng capture (unknown file format)\n` });
  const cut = ja4Child(['pcap', truncated, '--json']);
  t.equal(cut.code, 2);
  t.same(JSON.parse(cut.out), EXPECTED_JSON);
  t.equal(cut.err, (await ja4(['pcap', truncated, '--json'])).err);
  t.equal(ja4Child(['pcap', file, '--bogus']).code, 2);
  t.equal(ja4Child(['pcap', '--help']).code, 0);
  t.equal(ja4Child(['--help']).code, 0);
  t.equal(ja4Child([]).code, 2);
});
