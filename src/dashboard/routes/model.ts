// Model status: the versions that scored in the window, the score drift
// per hour, which voices fire, and the current model's manifest.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROUTES, type ModelStatusResponse } from '../api-types.js';
import type { DashboardDeps } from '../deps.js';
import { rangeParam } from '../http/params.js';
import type { Router } from '../router.js';
import { DETECTED, rangeParams, select } from '../sql.js';

async function readManifest(modelDir: string | undefined): Promise<Record<string, unknown> | null> {
  if (!modelDir) return null;
  try {
    const value: unknown = JSON.parse(await readFile(join(modelDir, 'current', 'manifest.json'), 'utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function register(router: Router, { storage, modelDir }: DashboardDeps): void {
  const t = storage.tables;
  const WINDOW = "window_start >= toStartOfHour({from:DateTime64(3, 'UTC')}) AND window_start < {to:DateTime64(3, 'UTC')}";

  router.add(ROUTES.model, async ({ req }): Promise<ModelStatusResponse> => {
    const range = rangeParam(req.query);
    const p = rangeParams(range);
    const [versions, drift, voices, manifest] = await Promise.all([
      // agg_model_scores (sql/0017): one row per window start and version, not every score
      select<ModelStatusResponse['versions'][number]>(
        storage,
        `SELECT toString(model_version) AS model_version, min(first_scored_at) AS first_scored, max(last_scored_at) AS last_scored, sum(scores) AS rows,
                sum(anomaly_scores) AS anomalies, anomalies / rows AS anomaly_rate
         FROM ${t.read('aggModelScores')} WHERE ${WINDOW} GROUP BY model_version ORDER BY last_scored DESC`,
        p,
      ),
      select<ModelStatusResponse['drift'][number]>(
        storage,
        `SELECT toStartOfHour(window_start) AS hour, sum(scores) AS rows, avgMerge(score_avg) AS mean_score,
                quantilesMerge(0.5, 0.95)(score_quantiles)[1] AS p50, quantilesMerge(0.5, 0.95)(score_quantiles)[2] AS p95,
                sum(anomaly_scores) / rows AS anomaly_rate
         FROM ${t.read('aggModelScores')} WHERE ${WINDOW} GROUP BY hour ORDER BY hour`,
        p,
      ),
      select<ModelStatusResponse['voices'][number]>(
        storage,
        `SELECT toString(voice) AS voice, count() AS detections FROM ${t.read('mlDetectedAnomalies')} ARRAY JOIN voices AS voice
         WHERE ${DETECTED} GROUP BY voice ORDER BY detections DESC`,
        p,
      ),
      readManifest(modelDir),
    ]);
    return { versions, drift, voices, manifest };
  });
}
