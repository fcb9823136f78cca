// One scoring pass: the feature rows of the windows in a time range ->
// scores of every row (ml_all_scores) and, above the operating threshold,
// detections with their explanation and campaign (ml_detected_anomalies,
// ml_campaigns). Runs on the main thread (it owns the database); the ONNX
// scoring happens in the pool's workers.
import type { Storage } from '../../storage/index.js';
import { readFeatureRows, queryTopUserAgents, featureKey, dateTime64Text, WINDOW_SECONDS, type FeatureRow, type WindowKind } from '../features/index.js';
import { ensembleScores, firedVoices, referenceBotName, threatLevel } from '../ensemble.js';
import { normalizeRows } from '../training/normalize.js';
import { explainRow } from './explain.js';
import { findCampaigns, writeCampaigns } from './campaigns.js';
import type { ActiveModel } from './detector-models.js';

export interface ScoredRow {
  row: FeatureRow;
  score: number;
  iforest: number;
  autoencoder: number;
  gbt: number;
  threatLevel: string;
  isAnomaly: boolean;
  botName: string;
  voices: string[];
}

export interface ScorePassResult {
  window: WindowKind;
  windows: number;
  rows: number;
  anomalies: number;
  campaigns: number;
  scored: ScoredRow[];
}

/** Scores feature rows (no database writes): eval and the pass below share it. */
export async function scoreFeatureRows(model: ActiveModel, rows: readonly FeatureRow[]): Promise<{ scored: ScoredRow[]; normalized: Float64Array; cols: number }> {
  const { manifest, normalization } = model.set;
  const X = normalizeRows(normalization, rows.map((r) => r.values));
  if (rows.length === 0) return { scored: [], normalized: X.data, cols: X.cols };
  const v = await model.score(X);
  const scores = ensembleScores(manifest.ensemble, v);
  const scored = rows.map((row, i): ScoredRow => {
    const score = scores[i]!;
    const botName = referenceBotName(row);
    return {
      row,
      score,
      iforest: v.iforest[i]!,
      autoencoder: v.autoencoder[i]!,
      gbt: v.gbt[i]!,
      threatLevel: threatLevel(score, manifest.ensemble.threshold, botName !== ''),
      isAnomaly: score >= manifest.ensemble.threshold,
      botName,
      voices: firedVoices(manifest.ensemble, v.iforest[i]!, v.autoencoder[i]!, v.gbt[i]!),
    };
  });
  return { scored, normalized: X.data, cols: X.cols };
}

const finite = (x: number): number => (Number.isFinite(x) ? x : 0);

/** Scores every window of this kind starting in [fromS, toS) and writes the results. */
export async function scoreWindows(storage: Storage, model: ActiveModel, window: WindowKind, fromS: number, toS: number, nowMs = Date.now()): Promise<ScorePassResult> {
  const rows = await readFeatureRows(storage, window, fromS, toS);
  const { scored, normalized, cols } = await scoreFeatureRows(model, rows);
  const result: ScorePassResult = { window, windows: 0, rows: scored.length, anomalies: 0, campaigns: 0, scored };
  if (scored.length === 0) return result;
  // Window by window, oldest first: its detections and campaigns, then its
  // scores. A window's rows in ml_all_scores mean it is done (the runner
  // resumes after the newest one): written first, a failure before the
  // detections (a query, a worker) lost them for good, and a retry of the
  // range inserted the scores again.
  const version = model.version;
  const scoredAt = dateTime64Text(nowMs);
  // the columns a score row and a detection row share
  const keyAndScore = (s: ScoredRow) => ({
    window_start: s.row.windowStart,
    window,
    client_ip: s.row.clientIp,
    ja4: s.row.ja4,
    host: s.row.host,
    model_version: version,
    score: s.score,
  });
  const names = model.set.normalization.features.map((f) => f.name);
  const rowsOf = new Map<number, number[]>();
  scored.forEach((s, i) => {
    const l = rowsOf.get(s.row.windowStart);
    if (l) l.push(i);
    else rowsOf.set(s.row.windowStart, [i]);
  });
  result.windows = rowsOf.size;
  const span = WINDOW_SECONDS[window];
  for (const [start, all] of [...rowsOf.entries()].sort((a, b) => a[0] - b[0])) {
    const idx = all.filter((i) => scored[i]!.isAnomaly);
    if (idx.length > 0) await writeDetections(start, idx);
    await storage.insertRows(
      storage.tables.write('mlAllScores'),
      all.map((i) => scored[i]!).map((s) => ({
        scored_at: scoredAt,
        ...keyAndScore(s),
        score_iforest: s.iforest,
        score_autoencoder: s.autoencoder,
        score_gbt: s.gbt,
        threat_level: s.threatLevel,
        is_anomaly: s.isAnomaly,
        bot_name: s.botName,
      })),
      onceSettings(start, 'scores'),
    );
  }
  return result;

  // A window done again after a failed pass (sql/0024): its rows are not
  // stored twice. The model scores aggregate (0017) reads ml_all_scores, so
  // the token also holds for the views' blocks.
  function onceSettings(start: number, table: string) {
    return { insert_deduplication_token: `detector:${window}:${start}:${version}:${table}`, deduplicate_blocks_in_dependent_materialized_views: 1 as const };
  }

  async function writeDetections(start: number, idx: number[]): Promise<void> {
    const vec = (i: number): Float64Array => normalized.subarray(i * cols, (i + 1) * cols);
    const explanations = idx.map((i) => explainRow(model.set, vec(i), scored[i]!.voices.includes('iforest')));
    const members = idx.map((i, k) => ({
      clientIp: scored[i]!.row.clientIp,
      ja4: scored[i]!.row.ja4,
      host: scored[i]!.row.host,
      score: scored[i]!.score,
      threatLevel: scored[i]!.threatLevel,
      topFeatures: explanations[k]!.features,
      vector: vec(i),
    }));
    const { byIp, campaigns } = await findCampaigns(storage, members, { kind: window, startS: start, endS: start + span });
    const uas = await queryTopUserAgents(storage, start, start + span, [...new Set(members.map((m) => m.clientIp))]);
    await storage.insertRows(
      storage.tables.write('mlDetectedAnomalies'),
      idx.map((i, k) => {
        const s = scored[i]!;
        const features: Record<string, number> = {};
        // the kept features' values as computed (before normalization), for the analyst
        model.set.normalization.sourceIndex.forEach((j, c) => {
          const v = s.row.values[j]!;
          if (Number.isFinite(v)) features[names[c]!] = v;
        });
        return {
          detected_at: scoredAt,
          ...keyAndScore(s),
          threat_level: s.threatLevel,
          voices: s.voices,
          bot_name: s.botName,
          campaign_id: byIp.get(s.row.clientIp) ?? '',
          top_features: explanations[k]!.features,
          top_contributions: explanations[k]!.contributions.map(finite),
          features,
          requests: s.row.requests,
          asn: s.row.asn,
          country: s.row.country,
          user_agent: uas.get(featureKey(s.row.clientIp, s.row.ja4, s.row.host)) ?? '',
        };
      }),
      onceSettings(start, 'detections'),
    );
    if (campaigns.length > 0) await writeCampaigns(storage, campaigns, window, version, nowMs);
    result.anomalies += idx.length;
    result.campaigns += campaigns.length;
  }
}
