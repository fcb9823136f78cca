// The pieces of the detector's arithmetic, on small inputs whose answers are
// worked out by hand: metrics, the ensemble's threat levels and stacker,
// normalization and pruning, drift.
import t from 'tap';
import { atRecall, bestF1, metricsAt, prAuc, rocAuc } from '../src/detector/eval/metrics.js';
import { ensembleScore, ensembleScores, firedVoices, fitStacker, referenceBotName, threatLevel } from '../src/detector/ensemble.js';
import { fitNormalization, normalizeRows } from '../src/detector/training/normalize.js';
import { PSI_MODERATE, binCounts, computeDrift, driftBins } from '../src/detector/training/drift.js';
import { FEATURE_NAMES, FEATURE_SPECS, type FeatureRow } from '../src/detector/features/index.js';
import { QUANTILE_LEVELS, type ModelManifest } from '../src/detector/training/manifest.js';

t.test('metrics', async (t) => {
  const s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4];
  const y = [1, 1, 0, 1, 0, 0];
  // pairs (pos, neg): 9; the positive at 0.6 is below the negative at 0.7: 8/9
  t.equal(rocAuc(s, y), 8 / 9);
  t.equal(rocAuc([0.5, 0.5], [1, 0]), 0.5, 'a tie counts half');
  t.ok(Number.isNaN(rocAuc([0.1, 0.2], [1, 1])), 'one class: undefined');
  // AP: recall steps at ranks 1, 2, 4 with precision 1, 1, 3/4
  t.equal(prAuc(s, y), (1 / 3) * 1 + (1 / 3) * 1 + (1 / 3) * 0.75);
  t.match(metricsAt(s, y, 0.6), { tp: 3, fp: 1, fn: 0, tn: 2, precision: 0.75, recall: 1 });
  t.match(atRecall(s, y, 0.6), { threshold: 0.8, tp: 2, fp: 0, precision: 1 }, 'the highest threshold reaching recall 0.6');
  t.equal(bestF1(s, y).threshold, 0.6, 'F1 is best at 0.6 (6/7)');
});

t.test('ensemble', async (t) => {
  t.equal(threatLevel(0.3, 0.5, false), 'low');
  t.equal(threatLevel(0.6, 0.5, false), 'medium');
  t.equal(threatLevel(0.6, 0.5, true), 'high', 'a reference-list match is at least high');
  t.equal(threatLevel(0.8, 0.5, false), 'high');
  t.equal(threatLevel(0.93, 0.5, false), 'critical');
  const params = { weights: { bias: 0, gbt: 1, iforest: 0, autoencoder: 0 }, threshold: 0.5, voiceThresholds: { iforest: 0.6, autoencoder: 0.9, gbt: 0.5 } };
  t.ok(Math.abs(ensembleScore(params.weights, 0.8, 0, 0) - 0.8) < 1e-12, 'with only the trees, the score is their probability');
  t.same(firedVoices(params, 0.6, 0.5, 0.7), ['iforest', 'gbt']);
  t.equal(referenceBotName({ botIpName: 'Googlebot', botJa4Name: 'Go net/http' }), 'Googlebot');
  t.equal(referenceBotName({ botIpName: '', botJa4Name: 'Go net/http' }), 'Go net/http');
  // the stacker learns to follow the informative voice
  const n = 200;
  const gbt = Float64Array.from({ length: n }, (_, i) => 0.5);
  const iforest = Float64Array.from({ length: n }, (_, i) => (i % 2 ? 0.7 : 0.4) + (i % 7) * 0.01);
  const autoencoder = Float64Array.from({ length: n }, (_, i) => (i * 37) % 100 / 100);
  const yy = Float64Array.from({ length: n }, (_, i) => i % 2);
  const w = fitStacker({ iforest, autoencoder, gbt }, yy);
  t.ok(w.iforest > 5 && Math.abs(w.autoencoder) < 1, `weights follow the isolation forest: ${JSON.stringify(w)}`);

  // a voice that runs against the labels gets weight 0, never a negative
  // one (its firing would lower the score it is named as a reason for);
  // the others are refitted without it
  const against = Float64Array.from({ length: n }, (_, i) => (i % 2 ? 0.2 : 0.8) + (i % 5) * 0.01);
  const unconstrainedSign = fitStackerSign(iforest, against, gbt, yy);
  t.ok(unconstrainedSign < 0, 'without the bound, the fit would give the contrary voice a negative weight');
  const w2 = fitStacker({ iforest, autoencoder: against, gbt }, yy);
  t.equal(w2.autoencoder, 0, `the contrary voice is held at 0: ${JSON.stringify(w2)}`);
  t.ok(w2.iforest > 5 && w2.gbt >= 0, 'the informative voice still carries the score');
  const s2 = ensembleScores({ weights: w2, threshold: 0.5, voiceThresholds: params.voiceThresholds }, { iforest, autoencoder: against, gbt });
  const minBot = Math.min(...Array.from(s2).filter((_, i) => i % 2 === 1));
  const maxHuman = Math.max(...Array.from(s2).filter((_, i) => i % 2 === 0));
  t.ok(minBot > maxHuman, `and ranks every bot row above every human row (${minBot} > ${maxHuman})`);
});

/** The sign of the autoencoder's weight in an unbounded logistic fit on the same columns (a plain gradient descent, for the test only). */
function fitStackerSign(iforest: Float64Array, ae: Float64Array, gbt: Float64Array, y: Float64Array): number {
  let w = [0, 0, 0, 0];
  const lg = (p: number): number => Math.log(p / (1 - p));
  for (let it = 0; it < 3000; it++) {
    const g = [0, 0, 0, 0];
    for (let i = 0; i < y.length; i++) {
      const x = [1, lg(gbt[i]!), iforest[i]!, ae[i]!];
      const p = 1 / (1 + Math.exp(-x.reduce((s, xi, a) => s + xi * w[a]!, 0)));
      for (let a = 0; a < 4; a++) g[a]! += (p - y[i]!) * x[a]!;
    }
    w = w.map((wi, a) => wi - (0.5 * g[a]!) / y.length - (a > 0 ? 0.5 * wi / y.length : 0));
  }
  return Math.sign(w[3]!);
}

t.test('normalization and pruning', async (t) => {
  const cols = FEATURE_SPECS.length;
  const rows = Array.from({ length: 100 }, (_, i) => {
    const v = new Float64Array(cols).fill(0);
    v[FEATURE_NAMES.indexOf('requests')] = i + 1;
    v[FEATURE_NAMES.indexOf('iat_cv')] = i < 50 ? Number.NaN : i / 100;
    v[FEATURE_NAMES.indexOf('known_bot_ip')] = i === 0 ? 1 : 0;
    return v;
  });
  const norm = fitNormalization(rows, FEATURE_SPECS);
  t.same(norm.features.map((f) => f.name), ['requests', 'known_bot_ip', 'iat_cv'], 'the varying features are kept (99% zeros is below the 99.5% cut)');
  t.match(norm.dropped.find((d) => d.name === 'known_bot_ja4'), { reason: 'near-constant: 100.0% of rows = 0' }, 'a constant feature is dropped with its reason');
  t.match(norm.dropped.find((d) => d.name === 'distinct_paths'), { reason: 'near-constant: 100.0% of rows = 0' }, 'the reason gives the value before log1p');
  t.equal(norm.dropped.length, cols - 3);
  const X = normalizeRows(norm, rows);
  t.equal(X.cols, 3);
  t.equal(X.data[0 * 3 + 2], 0, 'a missing value becomes the median (0 after scaling)');
  t.equal(X.data[0 * 3 + 1], 8, 'the one known-bot row: (1 - 0) / scale clipped at +8');
  const req = norm.features[0]!;
  t.equal(req.log, true);
  t.ok(Math.abs(req.center - Math.log1p(50.5)) < 1e-12 || Math.abs(req.center - (Math.log1p(50) + Math.log1p(51)) / 2) < 1e-12, 'requests: median of log1p');
});

t.test('normalization of a site-sized training set (a spread of ~125k values overflowed the stack)', async (t) => {
  const cols = FEATURE_SPECS.length;
  const iat = FEATURE_NAMES.indexOf('iat_cv');
  const rows = Array.from({ length: 200_000 }, (_, i) => {
    const v = new Float64Array(cols).fill(0);
    v[iat] = i / 200_000; // one distinct value per row: 200k counts
    return v;
  });
  const norm = fitNormalization(rows, FEATURE_SPECS);
  t.same(norm.features.map((f) => f.name), ['iat_cv']);
});

t.test('drift', async (t) => {
  const features = [{ name: 'iat_cv', log: false, center: 0.5, scale: 0.2 }];
  const q = QUANTILE_LEVELS.map((p) => p); // uniform(0,1) quantiles
  const manifest = { features, quantiles: { iat_cv: q } } as unknown as ModelManifest;
  const rowsOf = (vals: number[]): FeatureRow[] =>
    vals.map((v) => {
      const values = new Float64Array(FEATURE_SPECS.length).fill(Number.NaN);
      values[FEATURE_NAMES.indexOf('iat_cv')] = v;
      return { window: '1h', windowStart: 0, clientIp: '', ja4: '', host: '', requests: 1, asn: 0, country: '', botIpName: '', botJa4Name: '', crawlerRule: '', values };
    });
  const same = computeDrift(manifest, rowsOf(Array.from({ length: 1000 }, (_, i) => (i + 0.5) / 1000)));
  t.equal(same[0]!.level, 'stable', `the training distribution again: PSI ${same[0]!.psi}`);
  t.ok(same[0]!.psi < 0.01);
  const shifted = computeDrift(manifest, rowsOf(Array.from({ length: 1000 }, (_, i) => 0.8 + (i + 0.5) / 5000)));
  t.equal(shifted[0]!.level, 'significant', `everything above the 75th percentile: PSI ${shifted[0]!.psi}`);
  t.ok(Math.abs(shifted[0]!.medianShift - (0.9 - 0.5) / 0.2) < 1e-9, 'median shift in training-scale units');

  // a 0/1 feature, 70% zero in training: its quantile edges are 0 up to the
  // median and 1 above, so the levels alone give the zero bin 50% and the
  // same data again read as drift; the shares counted in training do not
  const binary = (ones: number): number[] => Array.from({ length: 1000 }, (_, i) => (i < ones ? 1 : 0));
  const bq = QUANTILE_LEVELS.map((p) => (p < 0.7 ? 0 : 1));
  const levelsOnly = { features, quantiles: { iat_cv: bq } } as unknown as ModelManifest;
  const counted = { ...levelsOnly, binShares: { iat_cv: binCounts(driftBins(bq).edges, binary(300)).map((c) => c / 1000) } } as ModelManifest;
  t.ok(computeDrift(levelsOnly, rowsOf(binary(300)))[0]!.psi > PSI_MODERATE, 'from the levels alone, unchanged binary data reads as drift');
  const again = computeDrift(counted, rowsOf(binary(300)))[0]!;
  t.equal(again.level, 'stable', `with the counted shares it is stable: PSI ${again.psi}`);
  t.ok(again.psi < 1e-9);
  t.equal(computeDrift(counted, rowsOf(binary(800)))[0]!.level, 'significant', 'and 80% ones instead of 30% is a shift');
});

t.test('default models folders: trained ones in the state directory once there, else the shipped ones', async (t) => {
  const { mkdirSync, mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const { DEFAULT_MODELS_DIR, defaultModelsDir, defaultTrainingModelsDir } = await import('../src/detector/training/manifest.js');
  const root = mkdtempSync(join(tmpdir(), 'ja4-state-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  const missing = join(root, 'nowhere', 'ja4', 'models');
  t.equal(defaultModelsDir(missing), DEFAULT_MODELS_DIR, 'a checkout: the shipped models');
  t.equal(defaultTrainingModelsDir(missing), DEFAULT_MODELS_DIR, 'a checkout trains into them (scripts/train-default-model.sh)');
  const state = join(root, 'ja4', 'models');
  mkdirSync(join(root, 'ja4'));
  t.equal(defaultTrainingModelsDir(state), state, 'an installed system trains into its state directory (the package folder is read-only to the service)');
  t.equal(defaultModelsDir(state), DEFAULT_MODELS_DIR, 'and scores with the shipped models until a model is trained there');
  mkdirSync(state);
  writeFileSync(join(state, 'current'), 'v1\n');
  t.equal(defaultModelsDir(state), state, 'then with the trained ones');
});
