// The detector pipeline end to end on the real engine and the real models:
// a labeled population's requests -> feature rows -> a trained model set
// (ONNX + JSON + manifest, the current pointer, the validation gate) ->
// scored windows through the onnxruntime pool -> rows in ml_all_scores,
// ml_detected_anomalies (explanations, campaign ids) and ml_campaigns.
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadReferenceData, TABLES } from '../src/storage/index.js';
import { readFeatureRows, type FeatureRow } from '../src/detector/features/index.js';
import { labelRows, type GroundTruth } from '../src/detector/training/labels.js';
import { trainModelSet, loadModelSet, scoreVoices } from '../src/detector/training/train.js';
import { MODEL_FILES, readCurrentVersion } from '../src/detector/training/manifest.js';
import { normalizeRows } from '../src/detector/training/normalize.js';
import { openActiveModel } from '../src/detector/run/detector-models.js';
import { DetectorRunner, defaultScoringWorkers, validateDetectorOptions } from '../src/detector/service.js';
import { scoreFeatureRows } from '../src/detector/run/score-windows.js';
import { fixtureHourUs, openTestStorage, storageScratchDir, writeTestReferenceDir } from './helpers/storage-fixture.js';
import { makePopulation } from './helpers/detector-population.js';

// small voices: the test is about the pipeline, not the models' capacity
const SMALL = {
  eif: { trees: 60, sampleSize: 128 },
  autoencoder: { hidden: [16, 6, 16], epochs: 15, learningRate: 0.005, batchSize: 64 },
  gbt: { rounds: 40, maxDepth: 3, learningRate: 0.3, lambda: 1, minChildWeight: 1 },
};

t.test('train, gate, score, detect', async (t) => {
  const storage = await openTestStorage(t);
  await loadReferenceData(storage, writeTestReferenceDir(join(storageScratchDir(t), 'ref')));
  const startUs = fixtureHourUs() - 3_600_000_000; // two full hours, inside every retention
  const pop = makePopulation(startUs, { seed: 3, humans: 40, botsPerKind: 6 });
  for (let i = 0; i < pop.rows.length; i += 5000) {
    await storage.insertRows(TABLES.httpLogsIngest, pop.rows.slice(i, i + 5000) as unknown as Record<string, unknown>[]);
  }
  const fromS = startUs / 1e6;
  const toS = fromS + 7200;
  const truth = new Map<string, GroundTruth>(pop.labels.map((l) => [l.client_ip, { isBot: l.is_bot, family: l.family, botName: l.bot_name }]));
  const rows: FeatureRow[] = [...(await readFeatureRows(storage, '1h', fromS, toS)), ...(await readFeatureRows(storage, '5m', fromS, toS))];
  const hourly = rows.filter((r) => r.window === '1h');
  t.equal(hourly.length, pop.labels.length * 2, 'one hourly row per client and hour');
  const labels = labelRows(rows, { ip: new Map(), ja4: new Map() }, truth);
  t.same(labels.sources, { analyst: 0, ground_truth: rows.length, reference: 0 }, 'every row labeled from the ground truth');

  const modelsDir = join(storageScratchDir(t), 'models');
  const input = { rows, labels, seed: 11, modelsDir, trainingWindow: { fromS, toS, windows: ['1h', '5m'] as ('1h' | '5m')[] }, source: 'test population', version: 'v1', createdAt: new Date(Date.UTC(2030, 0, 1)), options: SMALL };
  const first = trainModelSet(input);
  t.equal(first.accepted, true, `accepted (${first.reason ?? ''})`);
  t.equal(readCurrentVersion(modelsDir), 'v1', 'models/current names it');
  for (const f of Object.values(MODEL_FILES)) t.ok(existsSync(join(modelsDir, 'v1', f)), `wrote ${f}`);
  const m = first.manifest;
  t.equal(m.rows.total, rows.length);
  t.equal(m.rows.train + m.rows.calibration + m.rows.validation, rows.length, 'train + calibration + validation = all rows');
  const dropped = m.dropped.map((d) => d.name);
  t.ok(dropped.includes('known_bot_ip') && dropped.includes('crawler_rule_match') === false, `near-constant features dropped and recorded: ${dropped.join(', ')}`);
  t.match(m.dropped.find((d) => d.name === 'known_bot_ip')?.reason, /^near-constant: 100\.0% of rows = 0$/, 'with the reason');
  t.equal(m.features.length + m.dropped.length, 42, 'every candidate feature is either kept or dropped');
  t.ok(m.metrics.rocAuc! >= 0.97, `validation ROC AUC ${m.metrics.rocAuc}`);
  t.ok(m.metrics.anomalyRate <= 0.2, `validation anomaly rate ${m.metrics.anomalyRate}`);
  t.same(Object.keys(m.quantiles).sort(), m.features.map((f) => f.name).sort(), 'drift quantiles for every kept feature');

  t.test('same seed, same data: byte-identical model files', async (t) => {
    const again = trainModelSet({ ...input, modelsDir: join(storageScratchDir(t), 'models') });
    for (const f of [MODEL_FILES.eifOnnx, MODEL_FILES.autoencoderOnnx, MODEL_FILES.gbtOnnx, MODEL_FILES.manifest]) {
      t.ok(readFileSync(join(again.dir, f)).equals(readFileSync(join(first.dir, f))), f);
    }
  });

  t.test('the gate rejects a candidate that flags too much, and the current model stays', async (t) => {
    // labels scrambled by a fixed rule: the candidate learns noise
    const y = Float64Array.from(rows, (r) => (Number(r.clientIp.split('.').pop()) % 2 === 0 ? 1 : 0));
    const bad = trainModelSet({ ...input, version: 'v2-bad', labels: { y, sources: labels.sources } });
    t.equal(bad.accepted, false, 'rejected');
    t.match(bad.reason, /anomaly rate on held-out validation|metrics regressed against v1/, `reason: ${bad.reason}`);
    t.equal(readCurrentVersion(modelsDir), 'v1', 'current still v1');
    t.ok(existsSync(join(modelsDir, 'v2-bad', MODEL_FILES.manifest)), 'the rejected candidate stays on disk for inspection');
    const manifest = JSON.parse(readFileSync(join(modelsDir, 'v2-bad', MODEL_FILES.manifest), 'utf8'));
    t.match(manifest.gate, { accepted: false, reason: bad.reason, previous: { version: 'v1' } }, 'its manifest records the verdict');

    // a rejected candidate with the current model's own version name (train
    // --default names it default-s<seed>, as the shipped model is named):
    // the current files stay byte for byte, the candidate goes beside them
    const before = Object.values(MODEL_FILES).map((f) => readFileSync(join(modelsDir, 'v1', f)));
    const same = trainModelSet({ ...input, labels: { y, sources: labels.sources } });
    t.equal(same.accepted, false, 'rejected');
    t.equal(same.dir, join(modelsDir, 'v1.rejected'));
    t.ok(Object.values(MODEL_FILES).every((f, i) => readFileSync(join(modelsDir, 'v1', f)).equals(before[i]!)), 'v1 untouched');
    t.equal(readCurrentVersion(modelsDir), 'v1');
    t.same(readdirSync(modelsDir).filter((n) => n.startsWith('.')), [], 'no staging folder left');
  });

  // one pool for the two parts below (a worker's start is the slow part of a test run)
  const model = await openActiveModel(modelsDir, 1);
  t.teardown(() => model.close());

  t.test('ONNX scores through the pool equal the TypeScript models', async (t) => {
    t.equal(model.version, 'v1');
    const set = loadModelSet(join(modelsDir, 'v1'));
    const X = normalizeRows(set.normalization, hourly.map((r) => r.values));
    const ts = scoreVoices(set.voices, X);
    const onnx = await model.score(X);
    const worst = (v: 'iforest' | 'autoencoder' | 'gbt'): number => {
      let w = 0;
      for (let i = 0; i < X.rows; i++) w = Math.max(w, Math.abs(ts[v][i]! - onnx[v][i]!));
      return w;
    };
    t.ok(worst('gbt') < 1e-6, `boosted trees: largest difference ${worst('gbt')}`);
    t.ok(worst('autoencoder') < 1e-6, `autoencoder: largest difference ${worst('autoencoder')}`);
    // Repeated identical rows (a bot's 5-minute windows) end in a leaf, not on
    // a hyperplane: the forest agrees with its ONNX form too.
    t.ok(worst('iforest') < 1e-6, `isolation forest: largest difference ${worst('iforest')}`);
  });

  t.test('detector.threshold replaces the model\'s own when set', async (t) => {
    const strict = await openActiveModel(modelsDir, 1, undefined, 0.999999);
    t.teardown(() => strict.close());
    t.equal(strict.set.manifest.ensemble.threshold, 0.999999);
    t.not(model.set.manifest.ensemble.threshold, 0.999999, 'the model\'s own otherwise');
    const rows = hourly.slice(0, 200);
    const own = await scoreFeatureRows(model, rows);
    const high = await scoreFeatureRows(strict, rows);
    t.ok(own.scored.some((s) => s.isAnomaly), 'the calibrated threshold reports some rows');
    t.same(high.scored.filter((s) => s.isAnomaly && s.score < 0.999999), [], 'above it, only scores past the threshold set');
    t.ok(high.scored.filter((s) => s.isAnomaly).length < own.scored.filter((s) => s.isAnomaly).length, 'fewer detections');
    t.throws(() => validateDetectorOptions({ threshold: 0 }), /threshold \(detector\.threshold\) must be a number in \(0, 1\]/);
    t.equal(validateDetectorOptions({}).workers, defaultScoringWorkers(), 'workers: one per core minus one by default (detector.workers 0)');
  });

  t.test('a scoring pass writes scores, detections and campaigns', async (t) => {
    const runner = new DetectorRunner(storage, model);
    const nowMs = Date.UTC(2030, 0, 1);
    const r = await runner.scoreRange('1h', fromS, toS, nowMs);
    t.equal(r.rows, hourly.length, 'every hourly row scored');
    t.equal(r.windows, 2);
    const [counts] = await storage.query<{ n: number; anomalies: number; versions: string[] }>(
      `SELECT count() AS n, countIf(is_anomaly) AS anomalies, groupUniqArray(toString(model_version)) AS versions FROM ${TABLES.mlAllScores} WHERE window = '1h'`,
    );
    t.same(counts, { n: hourly.length, anomalies: r.anomalies, versions: ['v1'] }, 'ml_all_scores: one row per feature row');
    const det = await storage.query<{ ip: string; score: number; level: string; voices: string[]; f: string[]; c: number[]; campaign: string; ua: string; requests: number; nfeat: number }>(
      `SELECT IPv6NumToString(client_ip) AS ip, score, toString(threat_level) AS level, voices, top_features AS f, top_contributions AS c,
              campaign_id AS campaign, user_agent AS ua, requests, length(mapKeys(features)) AS nfeat
       FROM ${TABLES.mlDetectedAnomalies} WHERE window = '1h'`,
    );
    t.equal(det.length, r.anomalies, 'one detection per anomalous row');
    const ipOf = (s: string): string => s.replace(/^::ffff:/, '');
    const bots = det.filter((d) => truth.get(ipOf(d.ip))?.isBot).length;
    t.ok(bots / det.length >= 0.95, `detections are bots: ${bots}/${det.length}`);
    const botRows = hourly.filter((h) => truth.get(h.clientIp)?.isBot).length;
    t.ok(bots / botRows >= 0.9, `bots detected: ${bots}/${botRows} hourly rows`);
    for (const d of det) {
      if (d.f.length === 0 || d.f.length !== d.c.length || !['medium', 'high', 'critical'].includes(d.level) || d.score < m.ensemble.threshold || d.nfeat === 0 || d.ua === '') {
        t.fail(`detection of ${d.ip} is incomplete: ${JSON.stringify(d)}`);
        return;
      }
    }
    t.pass('every detection has its top features with contributions, a threat level, the features and the user agent');
    const camp = det.filter((d) => d.campaign !== '');
    t.ok(camp.length > 0, `${camp.length} detections carry a campaign id`);
    const stored = await storage.query<{ id: string; members: string[]; n: number; ja4s: string[]; first: number; last: number }>(
      `SELECT campaign_id AS id, members, member_count AS n, ja4s, toUnixTimestamp(first_seen) AS first, toUnixTimestamp(last_seen) AS last
       FROM ${TABLES.mlCampaigns} FINAL`,
    );
    t.ok(stored.length > 0, `${stored.length} campaigns stored`);
    for (const c of stored) {
      const ids = new Set(camp.filter((d) => d.campaign === c.id).map((d) => ipOf(d.ip)));
      if (c.n !== c.members.length || c.members.some((mm) => !ids.has(mm)) || c.ja4s.length === 0 || !(c.first >= fromS && c.last <= toS)) {
        t.fail(`campaign ${c.id} does not match its detections: ${JSON.stringify(c)}`);
      }
    }
    t.pass('each campaign lists its members (the detections that carry its id), its JA4s and its time span');
    const again = await runner.scoreRange('5m', fromS, toS, nowMs);
    t.ok(again.rows > hourly.length, `the 5-minute windows: ${again.rows} rows`);
    t.equal(runner.totals.modelVersion, 'v1');
    t.ok(runner.totals.drift.length > 0 && runner.totals.drift.every((d) => Number.isFinite(d.psi)), 'drift of the last hourly window is reported per feature');
  });

  t.test('a pass that fails half way: no window scored twice, none left without its detections', async (t) => {
    // the last hour of the population, in 5-minute windows (the catch-up span)
    for (const table of [TABLES.mlAllScores, TABLES.mlDetectedAnomalies]) await storage.command(`TRUNCATE TABLE ${table}`);
    const runner = new DetectorRunner(storage, model);
    const nowMs = (toS + 60) * 1000;
    const insertRows = storage.insertRows.bind(storage);
    // the third window's scores fail, after its detections landed: done
    // again, its detections must not land twice (sql/0024, by token)
    let scoreInserts = 0;
    (storage as { insertRows: typeof insertRows }).insertRows = async (table, rows, settings) => {
      if (table.includes('ml_all_scores') && rows[0]?.window === '5m' && ++scoreInserts === 3) throw new Error('simulated insert failure');
      return insertRows(table, rows, settings);
    };
    try {
      await t.rejects(runner.pass(nowMs), /simulated insert failure/, 'the third window\'s scores fail');
      await runner.pass(nowMs + 60_000);
    } finally {
      (storage as { insertRows: typeof insertRows }).insertRows = insertRows;
    }
    const scores = await storage.query<{ w: number; n: number; u: number; anomalies: number }>(
      `SELECT toUnixTimestamp(window_start) AS w, count() AS n, uniqExact(client_ip, ja4, host) AS u, countIf(is_anomaly) AS anomalies
       FROM ${TABLES.mlAllScores} WHERE window = '5m' GROUP BY w ORDER BY w`,
    );
    t.equal(scores.length, 12, 'the hour\'s twelve windows scored');
    t.ok(scores.every((s) => s.n === s.u), `each window scored once: ${JSON.stringify(scores.map((s) => [s.n, s.u]))}`);
    const det = await storage.query<{ w: number; n: number; u: number }>(
      `SELECT toUnixTimestamp(window_start) AS w, count() AS n, uniqExact(client_ip, ja4, host) AS u
       FROM ${TABLES.mlDetectedAnomalies} WHERE window = '5m' GROUP BY w ORDER BY w`,
    );
    t.same(det.map((d) => [d.w, d.n]), scores.filter((s) => s.anomalies > 0).map((s) => [s.w, s.anomalies]), 'every window\'s anomalies have their detections');
    t.ok(det.every((d) => d.n === d.u), 'each once');
  });
});
