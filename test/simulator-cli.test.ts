// `ja4 simulate`: the three files, the summary table, byte-identical reruns,
// and option errors that name the option (exit status 2).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { BOT_FAMILIES, HUMAN_FAMILIES } from '../src/simulator/index.js';
import { scratchDir } from './helpers/scratch-dir.js';

async function ja4(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  return { code, out, err };
}

t.test('writes tls-events.jsonl, http-requests.jsonl, labels.csv and a summary', async (t) => {
  const dir = scratchDir(t);
  const args = ['simulate', '--rate', '60', '--duration', '20', '--seed', '3', '--start', '2026-11-22T00:00:00Z'];
  const a = await ja4([...args, '--out', join(dir, 'a')]);
  t.equal(a.code, 0, a.err);
  const b = await ja4([...args, '--out', join(dir, 'b')]);
  t.equal(b.code, 0, b.err);
  for (const f of ['tls-events.jsonl', 'http-requests.jsonl', 'labels.csv']) {
    const x = readFileSync(join(dir, 'a', f), 'utf8');
    t.equal(x, readFileSync(join(dir, 'b', f), 'utf8'), `${f} identical for the same seed`);
    t.ok(x.length > 0, `${f} not empty`);
  }
  const labels = readFileSync(join(dir, 'a', 'labels.csv'), 'utf8').trim().split('\n');
  t.equal(labels[0], 'client_ip,family,is_bot,bot_name', 'labels header');
  t.ok(labels.slice(1).every((l) => /^[0-9a-f.:]+,[a-z-]+,(true|false),/.test(l)), 'label rows');
  const http = readFileSync(join(dir, 'a', 'http-requests.jsonl'), 'utf8').trim().split('\n');
  const ts = http.map((l) => (JSON.parse(l) as { ts_us: number }).ts_us);
  t.ok(ts.every((x) => x >= 1_795_305_600_000_000 && x < 1_795_305_620_000_000), 'records inside [--start, --start + --duration)');
  const lines = a.out.split('\n');
  t.match(lines[0], /^FAMILY\s+KIND\s+REQUESTS\s+CONNECTIONS\s+CLIENTS$/, 'summary header');
  for (const f of [...HUMAN_FAMILIES, ...BOT_FAMILIES]) t.ok(lines.some((l) => l.startsWith(`${f} `)), `summary row for ${f}`);
  const total = lines.find((l) => l.startsWith('total'))!.split(/\s+/);
  t.ok(Number(total[1]) >= http.length, `total requests ${total[1]} >= records written ${http.length}`);
  t.match(a.out, new RegExp(`${http.length} requests over 20 s written to`), 'closing line counts the records');
});

t.test('option errors name the option', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--rate', 'x'], /^--rate must be a positive number, got "x"/],
    [['--rate', '0'], /^--rate must be a positive number, got "0"/],
    [['--duration', '0'], /^--duration must be a positive number, got "0"/],
    [['--duration=-3'], /^--duration must be a positive number, got "-3"/],
    [['--seed', '1.5'], /^--seed must be a non-negative integer, got "1.5"/],
    [['--start', 'yesterday'], /^--start must be an ISO 8601 date or "now", got "yesterday"/],
    [['--out', ''], /^--out must name a directory/],
    [['--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [argv, re] of cases) {
    const r = await ja4(['simulate', ...argv]);
    t.equal(r.code, 2, `${argv.join(' ')}: exit 2`);
    t.match(r.err, re, argv.join(' '));
  }
  const help = await ja4(['simulate', '--help']);
  t.equal(help.code, 0);
  t.match(help.out, /--rate N/, 'help lists the options');
});
