// Pipeline health: ingest rate and lag from the database, the counters a
// running pipeline reports (ja4 run), and the dashboard's own WebSocket
// counters. The same snapshot is pushed on the `health` topic.
import { ROUTES, type PipelineHealth } from '../api-types.js';
import type { Storage } from '../../storage/index.js';
import type { DashboardDeps, PipelineReport } from '../deps.js';
import type { Router } from '../router.js';
import { select } from '../sql.js';
import type { Hub } from '../ws/hub.js';

export async function pipelineHealth(storage: Storage, hub: Hub, report: PipelineReport): Promise<PipelineHealth> {
  const t = storage.tables;
  const [ingest, lag] = await Promise.all([
    select<{ minute: string; rows: number }>(
      storage,
      // inserted_at says when rows arrived, whatever their request times
      `SELECT toStartOfMinute(inserted_at) AS minute, count() AS rows FROM ${t.read('httpLogs')}
       WHERE ts >= now() - INTERVAL 1 DAY AND inserted_at >= now() - INTERVAL 15 MINUTE GROUP BY minute ORDER BY minute`,
    ),
    select<{ http_logs: number | null; scores: number | null }>(
      storage,
      `SELECT (SELECT if(count() = 0, NULL, dateDiff('second', max(ts), now64(3))) FROM ${t.read('httpLogs')} WHERE ts >= now() - INTERVAL 1 DAY) AS http_logs,
              (SELECT if(count() = 0, NULL, dateDiff('second', max(scored_at), now64(3))) FROM ${t.read('mlAllScores')} WHERE window_start >= now() - INTERVAL 1 DAY) AS scores`,
    ),
  ]);
  return {
    at: new Date().toISOString(),
    ingest_per_minute: ingest,
    lag_seconds: lag[0] ?? { http_logs: null, scores: null },
    counters: report.counters ?? {},
    spool: report.spool ?? null,
    websocket: hub.stats(),
  };
}

export function register(router: Router, deps: DashboardDeps): void {
  router.add(ROUTES.pipeline, async (): Promise<PipelineHealth> => deps.health());
}
