// `ja4 detector eval` on a small simulated population (fixed seed, written
// by the real `ja4 simulate --out`), scored by the shipped default model
// set in models/ through the real correlator, a scratch embedded database
// and the onnxruntime pool: the report's structure, its row counts, and
// metrics above the floors below.
import t from 'tap';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';
import { BOT_FAMILIES } from '../src/simulator/index.js';
import { DEFAULT_MODELS_DIR, readCurrentVersion } from '../src/detector/training/manifest.js';
import { readLabelsFile, splitCsvLine } from '../src/detector/eval/simulated-data.js';
import type { WindowEvaluation } from '../src/detector/eval/evaluate.js';
import { scratchDir } from './helpers/scratch-dir.js';

function capture(): { io: { out: (s: string) => void; err: (s: string) => void }; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  return { io: { out: (s) => void (out += s), err: (s) => void (err += s) }, out: () => out, err: () => err };
}

t.test('labels.csv parsing', async (t) => {
  t.same(splitCsvLine('1.2.3.4,scraper,true,"Bot, Inc ""X"""'), ['1.2.3.4', 'scraper', 'true', 'Bot, Inc "X"']);
  const dir = scratchDir(t);
  writeFileSync(join(dir, 'ok.csv'), 'client_ip,family,is_bot,bot_name\n192.0.2.1,chrome,false,\n198.51.100.2,curl,true,curl\n');
  t.same([...readLabelsFile(join(dir, 'ok.csv'))], [
    ['192.0.2.1', { isBot: false, family: 'chrome', botName: '' }],
    ['198.51.100.2', { isBot: true, family: 'curl', botName: 'curl' }],
  ]);
  writeFileSync(join(dir, 'bad.csv'), 'client_ip,family,is_bot,bot_name\n192.0.2.1,chrome,maybe,\n');
  t.throws(() => readLabelsFile(join(dir, 'bad.csv')), /bad\.csv:2: column "is_bot" must be true\/false\/1\/0, got "maybe"/);
  writeFileSync(join(dir, 'nohead.csv'), 'ip,family\n');
  t.throws(() => readLabelsFile(join(dir, 'nohead.csv')), /has no "client_ip" column/);
});

t.test('usage errors name the option', async (t) => {
  const c = capture();
  t.equal(await main(['detector', 'eval', '--labels', 'x.csv'], c.io), 2);
  t.match(c.err(), /--data DIR is required/);
  const d = capture();
  t.equal(await main(['detector', 'eval', '--data', 'x', '--labels', 'x.csv', '--workers', '65'], d.io), 2);
  t.match(d.err(), /--workers must be a positive integer up to 64, got "65"/);
  const e = capture();
  t.equal(await main(['detector', 'run', '--from', 'yesterday', '--to', 'now'], e.io), 2);
  t.match(e.err(), /--from must be an ISO 8601 time, "now" or a relative "-24h", got "yesterday"/);
  const f = capture();
  t.equal(await main(['detector', 'train', '--once'], f.io), 2);
  t.match(f.err(), /--once is not an option of "ja4 detector train"/);
});

t.test('eval of a simulated population with the shipped model', { skip: readCurrentVersion(DEFAULT_MODELS_DIR) === undefined && 'no shipped model in models/' }, async (t) => {
  const dir = scratchDir(t);
  const data = join(dir, 'sim');
  const sim = capture();
  // a day after the default model's training window, another seed
  t.equal(await main(['simulate', '--seed', '99', '--rate', '10', '--duration', '900', '--start', '2026-01-06T10:00:00Z', '--out', data], sim.io), 0, sim.err());
  t.ok(existsSync(join(data, 'labels.csv')));
  const truth = readLabelsFile(join(data, 'labels.csv'));
  const c = capture();
  const code = await main(['detector', 'eval', '--data', data, '--labels', join(data, 'labels.csv'), '--workers', '1', '--json'], c.io);
  t.equal(code, 0, c.err());
  const report = JSON.parse(c.out()) as { model: string; windows: WindowEvaluation[] };
  t.equal(report.model, readCurrentVersion(DEFAULT_MODELS_DIR));
  t.same(report.windows.map((w) => w.window), ['1h', '5m']);
  for (const w of report.windows) {
    t.equal(w.unlabeled, 0, `${w.window}: every scored client has a label`);
    t.ok(w.bots > 0 && w.bots < w.rows, `${w.window}: ${w.bots} bot rows of ${w.rows}`);
    t.same(w.voices.map((v) => v.voice), ['iforest', 'autoencoder', 'gbt'], `${w.window}: each voice's contribution`);
    const families = new Set(w.families.map((f) => f.family));
    const present = new Set([...truth.values()].map((g) => g.family));
    t.same([...families].sort(), [...present].filter((f) => w.families.some((x) => x.family === f)).sort(), `${w.window}: families come from the labels`);
    t.ok(w.families.filter((f) => f.isBot).every((f) => BOT_FAMILIES.includes(f.family)), `${w.window}: bot families are the simulator's`);
  }
  const h = report.windows[0]!;
  t.ok(h.rocAuc >= 0.9, `1h ROC AUC ${h.rocAuc}`);
  t.ok(h.prAuc >= 0.85, `1h PR AUC ${h.prAuc}`);
  t.ok(h.precision >= 0.85, `1h precision at the operating threshold ${h.precision} (recall ${h.recall})`);
  const text = capture();
  t.equal(await main(['detector', 'eval', '--data', data, '--labels', join(data, 'labels.csv'), '--workers', '1', '--windows', '1h'], text.io), 0);
  t.match(text.out(), /window 1h: \d+ labeled rows \(\d+ bot, \d+ human\), 0 unlabeled\n  at the operating threshold [\d.]+: precision [\d.]+  recall [\d.]+  F1 [\d.]+\n  ROC AUC [\d.]+  PR AUC [\d.]+/, 'the text report');
  t.equal(readFileSync(join(data, 'labels.csv'), 'utf8').split('\n')[0], 'client_ip,family,is_bot,bot_name');
});
