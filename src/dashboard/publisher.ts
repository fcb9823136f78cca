// Feeds the WebSocket topics from the database: new detections (polled by
// detected_at, with a look-back for rows written late and a set of keys
// already sent, so none is sent twice), KPIs and pipeline health (only
// while someone is subscribed). `ja4 run` may instead hand detections to
// publishDetection() directly and turn the detections poll off.
import type { Storage } from '../storage/index.js';
import type { Detection, KpisEvent, PipelineHealth, ThreatLevel } from './api-types.js';
import { DETECTION_COLUMNS, DETECTION_KEY_COLUMNS } from './detection-rows.js';
import { chTime } from './http/params.js';
import { select } from './sql.js';
import type { Hub } from './ws/hub.js';
import { silentLogger, type Logger } from '../config/logger.js';

export interface PublisherOptions {
  /** 0: do not poll detections */
  detectionsMs: number;
  kpisMs: number;
  healthMs: number;
  /** how far back each poll looks, for detections inserted after later ones */
  lookbackMs: number;
  /** rows per query of a poll */
  batchLimit: number;
  /** queries per poll at most (a poll that stops there goes on at the next) */
  maxPagesPerPoll: number;
}

export const DEFAULT_PUBLISHER_OPTIONS: PublisherOptions = { detectionsMs: 1000, kpisMs: 10_000, healthMs: 5000, lookbackMs: 120_000, batchLimit: 5000, maxPagesPerPoll: 20 };

/** A detection's key (unique in the table), in the order polls page through it. */
const KEY_ORDER = 'detected_at, window_start, window, client_ip, ja4, host';
const key = (d: Detection): string => `${d.detected_at}|${d.window_start}|${d.window}|${d.client_ip}|${d.ja4}|${d.host}`;

export interface Publisher {
  stop(): Promise<void>;
  /** one poll now (tests) */
  pollDetections(): Promise<number>;
}

export function startPublisher(storage: Storage, hub: Hub, health: () => Promise<PipelineHealth>, opts: Partial<PublisherOptions> = {}, log: Logger = silentLogger()): Publisher {
  const o = { ...DEFAULT_PUBLISHER_OPTIONS, ...opts };
  const table = storage.tables.read('mlDetectedAnomalies');
  const seen = new Map<string, number>(); // key -> detected_at (ms)
  let watermark = Date.now();
  let stopped = false;
  const timers = new Set<NodeJS.Timeout>();
  const running = new Set<Promise<unknown>>();

  // Polls page through the table in the order of the detection key: one
  // scoring pass writes all its detections with one detected_at, so a page
  // limited by detected_at alone could be all rows already seen and the
  // feed would stop for good after a pass larger than a page. A poll reads
  // what follows the last key it read; only when the table holds more rows
  // up to that key than were read (rows written late, behind newer ones)
  // does it read the whole look-back again (the seen keys keep those
  // published once).
  let last: Detection | undefined; // the greatest key read
  let resumeAfter: Detection | undefined; // where a poll stopped at its page limit
  let lastCapWarning = 0;

  const keyParams = (d: Detection): Record<string, string> => ({
    at: chTime(new Date(d.detected_at)),
    ws: chTime(new Date(d.window_start)).slice(0, 19),
    w: d.window,
    ip: d.client_ip,
    ja4: d.ja4,
    host: d.host,
  });
  const KEY_PARAMS = `({at:DateTime64(3, 'UTC')}, {ws:DateTime('UTC')}, {w:String}, {ip:String}, {ja4:String}, {host:String})`;

  /** Whether rows up to `last` were written that no poll read. */
  async function lateRows(since: string, sinceMs: number): Promise<boolean> {
    const [r] = await select<{ n: number }>(
      storage,
      `SELECT count() AS n FROM (SELECT ${DETECTION_KEY_COLUMNS} FROM ${table} WHERE detected_at >= {since:DateTime64(3, 'UTC')}) WHERE (${KEY_ORDER}) <= ${KEY_PARAMS}`,
      { since, ...keyParams(last!) },
    );
    let read = 0;
    for (const at of seen.values()) if (at >= sinceMs) read++;
    return Number(r?.n ?? 0) > read;
  }

  /** One look at the table; `publish` false: only learn what is already there (at start). */
  async function poll(publish: boolean): Promise<number> {
    const sinceMs = watermark - o.lookbackMs;
    const since = chTime(new Date(sinceMs));
    let after = resumeAfter;
    resumeAfter = undefined;
    if (after === undefined && last !== undefined && !(await lateRows(since, sinceMs))) after = last;
    let lastRead: Detection | undefined;
    let sent = 0;
    for (let page = 1; ; page++) {
      const rows = await select<Detection>(
        storage,
        `SELECT ${DETECTION_COLUMNS} FROM ${table} WHERE detected_at >= {since:DateTime64(3, 'UTC')}${after ? ` AND (${KEY_ORDER}) > ${KEY_PARAMS}` : ''} ORDER BY ${KEY_ORDER} LIMIT {limit:UInt32}`,
        { since, limit: o.batchLimit, ...(after ? keyParams(after) : {}) },
      );
      for (const d of rows) {
        const k = key(d);
        if (seen.has(k)) continue;
        const at = Date.parse(d.detected_at);
        seen.set(k, at);
        if (at > watermark) watermark = at;
        if (publish) {
          hub.publishDetection(d);
          sent++;
        }
      }
      if (rows.length > 0) lastRead = rows[rows.length - 1];
      if (rows.length < o.batchLimit) {
        // read to the end: lastRead is the greatest key there is
        if (lastRead) last = lastRead;
        break;
      }
      after = lastRead;
      if (page >= o.maxPagesPerPoll) {
        // more than one poll reads: the next one goes on from here
        resumeAfter = after;
        if (Date.now() - lastCapWarning > 60_000) {
          lastCapWarning = Date.now();
          log.warn('more new detections than one poll publishes: the live feed lags behind the table', { rowsPerPoll: o.batchLimit * o.maxPagesPerPoll });
        }
        break;
      }
    }
    const horizon = watermark - o.lookbackMs;
    for (const [k, at] of seen) if (at < horizon) seen.delete(k);
    return sent;
  }

  const primed = poll(false).catch((err: Error) => {
    log.warn('the first detections poll failed', { error: err.message });
    return 0;
  });
  async function pollDetections(): Promise<number> {
    await primed;
    return poll(true);
  }

  async function kpis(): Promise<void> {
    if (hub.subscribers('kpis') === 0) return;
    const [traffic, levels] = await Promise.all([
      select<{ requests: number; automated: number }>(
        storage,
        `SELECT count() AS requests, countIf(bot_ip_name != '' OR bot_ja4_name != '' OR crawler_action = 'DENY' OR ua_ja4_mismatch = 1) AS automated
         FROM ${storage.tables.read('httpLogs')} WHERE ts >= now64(6) - INTERVAL 5 MINUTE`,
      ),
      select<{ threat_level: ThreatLevel; detections: number }>(
        storage,
        `SELECT toString(threat_level) AS threat_level, count() AS detections FROM ${table} WHERE detected_at >= now64(3) - INTERVAL 1 HOUR GROUP BY threat_level ORDER BY detections DESC`,
      ),
    ]);
    const t = traffic[0] ?? { requests: 0, automated: 0 };
    const event: KpisEvent = {
      at: new Date().toISOString(),
      requests_per_minute: t.requests / 5,
      detections_last_hour: levels.reduce((n, l) => n + l.detections, 0),
      detections_by_level: levels,
      bot_share: t.requests === 0 ? 0 : t.automated / t.requests,
    };
    hub.publish(['kpis'], event);
  }

  async function healthTick(): Promise<void> {
    if (hub.subscribers('health') === 0) return;
    hub.publish(['health'], await health());
  }

  /** Runs `fn` every `ms` without overlapping runs; errors are logged, the loop goes on. */
  function every(ms: number, name: string, fn: () => Promise<unknown>, now = true): void {
    if (ms <= 0) return;
    const tick = (): void => {
      if (stopped) return;
      const p = fn()
        .catch((err: Error) => log.warn('a publisher poll failed', { poll: name, error: err.message }))
        .finally(() => {
          running.delete(p);
          if (!stopped) schedule();
        });
      running.add(p);
    };
    const schedule = (): void => {
      const t = setTimeout(() => {
        timers.delete(t);
        tick();
      }, ms);
      t.unref();
      timers.add(t);
    };
    if (now) tick();
    else schedule();
  }

  every(o.detectionsMs, 'detections', pollDetections, false);
  every(o.kpisMs, 'kpis', kpis);
  every(o.healthMs, 'health', healthTick);

  return {
    pollDetections,
    async stop(): Promise<void> {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await primed;
      await Promise.allSettled([...running]);
    },
  };
}
