// The dashboard's HTTP API and WebSocket protocol: the one source of truth
// shared by the server (src/dashboard/) and the web UI (web/src/, which
// imports these types with `import type`). No runtime imports here: the
// file is bundled for the browser as is.
//
// Conventions
// - Every route is under /api/ and answers JSON (except the CSV export).
// - Field names are the database's (snake_case), so a column means the same
//   thing in SQL, in the API and on the page.
// - Times are ISO 8601 UTC strings ("2026-11-22T03:00:00.000Z"). Query
//   parameters `from`/`to` accept ISO 8601 or epoch milliseconds; default
//   window: the last 24 hours; `to` is exclusive; at most 31 days.
// - IPv4 addresses are plain dotted quads (not IPv4-mapped IPv6).
// - Lists are paginated: `limit` (1..500, default 50) and `offset`
//   (0..100000); the answer is a Page<T>.
// - Errors: HTTP status + ApiError body. 400 names the field at fault.
// - Auth: a session cookie (`ja4_session`, HttpOnly, SameSite=Strict, Secure
//   behind TLS) from POST /api/auth/login, or a wall token
//   (`Authorization: Bearer <token>` on /api; on /ws the subprotocols
//   `ja4.v1` and `ja4.token.<token>`, see WS_PROTOCOL) which is read-only
//   (viewer). Never in a URL: `?token=` is refused everywhere (URLs end up in
//   proxy logs, browser history, and Apache's own logs); the wall page gets
//   its token in the fragment (`/wall#token=...`), which browsers never send. Every mutation (POST/PATCH/DELETE) with a session
//   needs the header `X-CSRF-Token: <csrf_token>` (from login or /api/auth/me).
// - Roles: viewer < analyst < admin. Each route below says the least role.

export type Role = 'viewer' | 'analyst' | 'admin';
export const ROLES: readonly Role[] = ['viewer', 'analyst', 'admin'];

export type ThreatLevel = 'low' | 'medium' | 'high' | 'critical';
export const THREAT_LEVELS: readonly ThreatLevel[] = ['low', 'medium', 'high', 'critical'];

export type ClassificationLabel = 'bot' | 'human' | 'whitelisted';
export const CLASSIFICATION_LABELS: readonly ClassificationLabel[] = ['bot', 'human', 'whitelisted'];

export type SubjectType = 'ip' | 'ja4' | 'campaign';
export const SUBJECT_TYPES: readonly SubjectType[] = ['ip', 'ja4', 'campaign'];

// ---------------------------------------------------------------- errors

export type ApiErrorCode =
  | 'bad_request' // 400: a parameter or body field is invalid (`field` names it)
  | 'unauthorized' // 401: no or expired session / token
  | 'forbidden' // 403: role too low, or a wall token on a mutation
  | 'csrf' // 403: mutation without a valid X-CSRF-Token
  | 'not_found' // 404
  | 'method_not_allowed' // 405
  | 'conflict' // 409: e.g. the user already exists
  | 'payload_too_large' // 413: body over 64 KiB
  | 'rate_limited' // 429: too many login attempts (Retry-After header)
  | 'internal' // 500: logged on the server with a request id, no details here
  | 'unavailable' // 503: the database does not answer
  | 'query_too_large' // 503: the query needed more memory than dashboard.max_query_memory_mb allows
  | 'audit_unavailable'; // 503: the change's audit row could not be written, so the change was not made

export interface ApiError {
  error: { code: ApiErrorCode; message: string; field?: string; request_id?: string };
}

// ---------------------------------------------------------------- common

export interface Page<T> {
  items: T[];
  limit: number;
  offset: number;
  /** there are more rows after this page */
  has_more: boolean;
  /** total matching rows where cheap to count, else null */
  total: number | null;
}

export interface PageQuery {
  limit?: number;
  offset?: number;
}

export interface RangeQuery {
  from?: string;
  to?: string;
}

export interface Classification {
  subject_type: SubjectType;
  subject: string;
  label: ClassificationLabel;
  note: string;
  actor: string;
  updated_at: string;
}

// ---------------------------------------------------------------- auth

/** POST /api/auth/login (no auth; rate limited per IP and per user name) */
export interface LoginRequest {
  username: string;
  password: string;
}
export interface SessionInfo {
  user: { name: string; role: Role };
  /** send as X-CSRF-Token on every mutation */
  csrf_token: string;
  /** when the session ends if idle */
  expires_at: string;
  /** 'session' (cookie) or 'token' (wall token, read-only) */
  via: 'session' | 'token';
}
export type LoginResponse = SessionInfo;
/** GET /api/auth/me (viewer) */
export type MeResponse = SessionInfo;
/** POST /api/auth/logout (viewer, CSRF): clears the cookie */
export interface OkResponse {
  ok: true;
}

/** GET /api/status (no auth): is the server up, which implementation */
export interface StatusResponse {
  ok: true;
  /** 'uws': uWebSockets.js native; 'ws-fallback': the package's pure-JS fallback */
  server: 'uws' | 'ws-fallback';
  version: string;
  boot_id: string;
  seq: number;
}

// ---------------------------------------------------------------- overview

/** GET /api/overview?from&to (viewer) */
export interface OverviewResponse {
  range: { from: string; to: string };
  kpis: {
    total_requests: number;
    unique_ips: number;
    unique_ja4s: number;
    hosts: number;
    /** share of requests flagged automated by the enrichment (0..1) */
    bot_share: number;
    error_share: number;
    detections: number;
  };
  detections_by_level: { threat_level: ThreatLevel; detections: number; ips: number }[];
}

/** GET /api/overview/timeline?from&to&bucket_minutes (viewer; bucket 60 default, 5..1440) */
export interface TimelinePoint {
  bucket: string;
  total_requests: number;
  automated: number;
  errors: number;
  detections: number;
}
export interface TimelineResponse {
  bucket_minutes: number;
  points: TimelinePoint[];
}

/** GET /api/overview/top/:dimension?from&to&limit (viewer; limit 1..100, default 10) */
export type TopDimension = 'ja4' | 'asn' | 'country' | 'host';
export const TOP_DIMENSIONS: readonly TopDimension[] = ['ja4', 'asn', 'country', 'host'];
export interface TopItem {
  /** the JA4, the AS number as text, the country code or the host */
  key: string;
  /** AS name, JA4 application, ... ('' when unknown) */
  label: string;
  total_requests: number;
  ips: number;
  automated_ratio: number;
}
export interface TopResponse {
  dimension: TopDimension;
  items: TopItem[];
}

// ---------------------------------------------------------------- detections

export interface Detection {
  detected_at: string;
  window_start: string;
  window: string;
  client_ip: string;
  ja4: string;
  host: string;
  model_version: string;
  score: number;
  threat_level: ThreatLevel;
  voices: string[];
  bot_name: string;
  campaign_id: string;
  top_features: string[];
  top_contributions: number[];
  requests: number;
  asn: number;
  country: string;
  user_agent: string;
}

/**
 * What the WebSocket feed pushes for a detection (topics detections,
 * ja4:<fp>, ip:<ip>): the fields a ticker or the wall shows and the
 * Detection row's identity (detected_at, client_ip, ja4, host, window).
 * The rest (voices, features, contributions, UA, ASN, ...) is one
 * GET /api/detections away. At 2,000 detections/s to 1,000 wall screens the
 * full row (~600 bytes) would be ~1.2 GB/s of frames; this form is ~220 bytes.
 */
export type LiveDetection = Pick<Detection, 'detected_at' | 'window' | 'client_ip' | 'ja4' | 'host' | 'score' | 'threat_level' | 'bot_name' | 'campaign_id'>;

export type DetectionSort = 'detected_at' | 'score' | 'requests' | 'threat_level';
export const DETECTION_SORTS: readonly DetectionSort[] = ['detected_at', 'score', 'requests', 'threat_level'];

/**
 * GET /api/detections (viewer): Page<Detection>
 * GET /api/detections.csv (viewer): the same rows as text/csv (at most 100,000; limit/offset ignored)
 */
export interface DetectionsQuery extends RangeQuery, PageQuery {
  /** one or several, comma-separated */
  level?: string;
  ja4?: string;
  ip?: string;
  host?: string;
  campaign?: string;
  min_score?: number;
  sort?: DetectionSort;
  order?: 'asc' | 'desc';
}
export type DetectionsResponse = Page<Detection>;

// ---------------------------------------------------------------- JA4 investigation

/** GET /api/ja4/:fp?from&to (viewer) */
export interface Ja4SummaryResponse {
  ja4: string;
  kpis: { total_requests: number; ips: number; distinct_uas: number; hosts: number; detections: number; max_score: number; first_seen: string | null; last_seen: string | null };
  /** FoxIO JA4+ mapping and the reference lists */
  reference: { application: string; library: string; device: string; os: string; bot_name: string; bot_category: string; browser: string };
  /** the latest hour's signals (view_ja4_signals_1h), null without traffic */
  signals: {
    hour: string;
    requests: number;
    h2_ratio: number;
    h3_ratio: number;
    browser_ua_ratio: number;
    ua_ja4_mismatch_ratio: number;
    bot_ip_ratio: number;
    status_4xx_ratio: number;
    distinct_uas: number;
    distinct_paths: number;
    distinct_ips: number;
    distinct_asns: number;
    volume_rank: number;
    volume_quantile: number;
  } | null;
  classification: Classification | null;
}

/** GET /api/ja4/:fp/timeline?from&to&bucket_minutes (viewer; 5..1440, default 60) */
export interface Ja4TimelineResponse {
  bucket_minutes: number;
  points: { bucket: string; total_requests: number; ips: number; error_count: number }[];
}

/** GET /api/ja4/:fp/breakdown?from&to (viewer): threat-level pie, ASN/country charts, user agents (top 20 each) */
export interface Ja4BreakdownResponse {
  threat_levels: { threat_level: ThreatLevel; detections: number }[];
  asns: { asn: number; asn_name: string; total_requests: number }[];
  countries: { country: string; total_requests: number }[];
  user_agents: { user_agent: string; total_requests: number; ips: number }[];
}

/** GET /api/ja4/:fp/ips?from&to&limit&offset (viewer): client IPs with their best score */
export interface Ja4ClientIp {
  client_ip: string;
  total_requests: number;
  asn: number;
  country: string;
  max_score: number | null;
  threat_level: ThreatLevel | '';
  last_seen: string;
}
export type Ja4IpsResponse = Page<Ja4ClientIp>;

/** GET /api/ja4/:fp/features?from&to (viewer): the JA4's feature ratios and distinct counts over all its requests of the window (agg_ja4_1h, request-weighted); rows = hours with traffic */
export interface FeaturesResponse {
  rows: number;
  features: Record<string, number>;
}

// ---------------------------------------------------------------- IP investigation

/** GET /api/ip/:ip?from&to (viewer) */
export interface IpSummaryResponse {
  ip: string;
  kpis: { total_requests: number; ja4s: number; hosts: number; distinct_uas: number; detections: number; max_score: number; first_seen: string | null; last_seen: string | null };
  network: { asn: number; asn_name: string; country: string; asn_label: string; bot_network: string };
  classification: Classification | null;
}

/** GET /api/ip/:ip/history?from&to (viewer): per hour, the JA4s/hosts it used (rotation) */
export interface IpHistoryHour {
  hour_start: string;
  total_requests: number;
  ja4s: string[];
  hosts: string[];
  distinct_paths: number;
  distinct_uas: number;
  error_count: number;
}
export interface IpHistoryResponse {
  hours: IpHistoryHour[];
  /** user agents seen per hour (top 5 each) for the rotation chart */
  user_agents: { hour_start: string; user_agent: string; total_requests: number }[];
}

/** GET /api/ip/:ip/cadence?from&to&bucket_seconds (viewer; 1..3600, default 60; window at most 24 h) */
export interface IpCadenceResponse {
  bucket_seconds: number;
  points: { bucket: string; total_requests: number }[];
  /** inter-arrival statistics over the window (ms) */
  iat: { n: number; mean_ms: number; cv: number };
}

/** GET /api/ip/:ip/scores?from&to&limit&offset (viewer): scores with explanations, newest first */
export interface IpScore {
  scored_at: string;
  window_start: string;
  window: string;
  ja4: string;
  host: string;
  model_version: string;
  score: number;
  score_iforest: number;
  score_autoencoder: number;
  score_gbt: number;
  threat_level: ThreatLevel;
  is_anomaly: boolean;
  bot_name: string;
  /** from the detection, when the score was one */
  top_features: string[];
  top_contributions: number[];
}
export type IpScoresResponse = Page<IpScore>;

// ---------------------------------------------------------------- campaigns

/** GET /api/campaigns?from&to&limit&offset (viewer) */
export interface CampaignSummary {
  campaign_id: string;
  detections: number;
  ips: number;
  ja4s: number;
  hosts: number;
  max_score: number;
  max_threat_level: ThreatLevel;
  first_seen: string;
  last_seen: string;
  top_ja4: string;
  classification: ClassificationLabel | '';
}
export type CampaignsResponse = Page<CampaignSummary>;

/** GET /api/campaigns/:id?from&to (viewer) */
export interface CampaignResponse {
  campaign: CampaignSummary;
  timeline: { bucket: string; detections: number; ips: number }[];
  ja4s: { ja4: string; detections: number; ips: number }[];
  asns: { asn: number; detections: number; ips: number }[];
  hosts: { host: string; detections: number; ips: number }[];
  classification: Classification | null;
}

/** GET /api/campaigns/:id/members?from&to&limit&offset (viewer) */
export interface CampaignMember {
  client_ip: string;
  ja4s: string[];
  detections: number;
  max_score: number;
  threat_level: ThreatLevel;
  asn: number;
  country: string;
  last_seen: string;
  classification: ClassificationLabel | '';
}
export type CampaignMembersResponse = Page<CampaignMember>;

// ---------------------------------------------------------------- HTTP log explorer

/** GET /api/logs (viewer): filters are exact matches unless said otherwise */
export interface LogsQuery extends RangeQuery, PageQuery {
  ja4?: string;
  ip?: string;
  host?: string;
  /** prefix match */
  path?: string;
  /** exact, or a class: 2xx 3xx 4xx 5xx */
  status?: string;
  method?: string;
  /** substring, case-insensitive */
  user_agent?: string;
  country?: string;
  asn?: number;
  ja4h?: string;
}
export interface HttpLogRow {
  ts: string;
  request_id: string;
  client_ip: string;
  method: string;
  host: string;
  path: string;
  query: string;
  protocol: string;
  status: number;
  bytes_out: number;
  user_agent: string;
  ja4: string;
  ja4h: string;
  asn: number;
  country: string;
  bot_ip_name: string;
  bot_ja4_name: string;
  crawler_rule: string;
  correlation_status: string;
}
export type LogsResponse = Page<HttpLogRow>;

// ---------------------------------------------------------------- model status

/** GET /api/model?from&to (viewer) */
export interface ModelStatusResponse {
  versions: { model_version: string; first_scored: string; last_scored: string; rows: number; anomalies: number; anomaly_rate: number }[];
  /** per hour: mean score and the share above the anomaly threshold (drift over time) */
  drift: { hour: string; rows: number; mean_score: number; p50: number; p95: number; anomaly_rate: number }[];
  /** how often each voice fired in the detections */
  voices: { voice: string; detections: number }[];
  /** models/current/manifest.json when the server can read it, else null */
  manifest: Record<string, unknown> | null;
}

// ---------------------------------------------------------------- pipeline health

/** GET /api/pipeline (viewer); also pushed on the `health` topic */
export interface PipelineHealth {
  at: string;
  /** requests written per minute, last 15 minutes (from http_logs.inserted_at) */
  ingest_per_minute: { minute: string; rows: number }[];
  /** seconds between now and the newest request / score */
  lag_seconds: { http_logs: number | null; scores: number | null };
  /** counters reported by the running pipeline (ja4 run), {} standalone */
  counters: Record<string, number>;
  /** spool bytes/files of the capture daemon, when reported */
  spool: { bytes: number; files: number } | null;
  /** the dashboard's own WebSocket counters */
  websocket: { clients: number; dropped_slow: number; published: number };
}
export type PipelineResponse = PipelineHealth;

// ---------------------------------------------------------------- audit trail

/** GET /api/audit?from&to&actor&action&subject&limit&offset (analyst) */
export interface AuditEntry {
  ts: string;
  actor: string;
  role: string;
  action: string;
  subject_type: string;
  subject: string;
  /** JSON text of the state before ('' when none) */
  before: string;
  after: string;
  note: string;
  client_ip: string;
  request_id: string;
}
export type AuditResponse = Page<AuditEntry>;

// ---------------------------------------------------------------- classifications

/** GET /api/classifications?subject_type&subject&label&limit&offset (viewer) */
export type ClassificationsResponse = Page<Classification>;

/** POST /api/classifications (analyst, CSRF) */
export interface ClassifyRequest {
  subject_type: SubjectType;
  subject: string;
  label: ClassificationLabel;
  /** up to 2000 characters */
  note?: string;
}
export interface ClassifyResponse {
  classification: Classification;
  before: Classification | null;
}

/** POST /api/classifications/bulk (analyst, CSRF): at most 500 subjects */
export interface BulkClassifyRequest {
  subject_type: SubjectType;
  subjects: string[];
  label: ClassificationLabel;
  note?: string;
}
export interface BulkClassifyResponse {
  classified: number;
}

// ---------------------------------------------------------------- users (admin)

export interface UserInfo {
  name: string;
  role: Role;
  created_at: string;
  updated_at: string;
}
/** GET /api/users (admin) */
export interface UsersResponse {
  items: UserInfo[];
}
/** POST /api/users (admin, CSRF); password: 12..1024 characters */
export interface CreateUserRequest {
  name: string;
  role: Role;
  password: string;
}
/** PATCH /api/users/:name (admin, CSRF) */
export interface UpdateUserRequest {
  role?: Role;
  password?: string;
}
export interface UserResponse {
  user: UserInfo;
}
/** DELETE /api/users/:name (admin, CSRF) -> OkResponse */

// ---------------------------------------------------------------- route table

export interface RouteSpec {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  role: Role | null;
}

/** Every route, for the docs and the tests (`:name` marks a path parameter). */
export const ROUTES = {
  status: { method: 'GET', path: '/api/status', role: null },
  login: { method: 'POST', path: '/api/auth/login', role: null },
  logout: { method: 'POST', path: '/api/auth/logout', role: 'viewer' },
  me: { method: 'GET', path: '/api/auth/me', role: 'viewer' },
  overview: { method: 'GET', path: '/api/overview', role: 'viewer' },
  overviewTimeline: { method: 'GET', path: '/api/overview/timeline', role: 'viewer' },
  overviewTop: { method: 'GET', path: '/api/overview/top/:dimension', role: 'viewer' },
  detections: { method: 'GET', path: '/api/detections', role: 'viewer' },
  detectionsCsv: { method: 'GET', path: '/api/detections.csv', role: 'viewer' },
  ja4: { method: 'GET', path: '/api/ja4/:fp', role: 'viewer' },
  ja4Timeline: { method: 'GET', path: '/api/ja4/:fp/timeline', role: 'viewer' },
  ja4Breakdown: { method: 'GET', path: '/api/ja4/:fp/breakdown', role: 'viewer' },
  ja4Ips: { method: 'GET', path: '/api/ja4/:fp/ips', role: 'viewer' },
  ja4Features: { method: 'GET', path: '/api/ja4/:fp/features', role: 'viewer' },
  ip: { method: 'GET', path: '/api/ip/:ip', role: 'viewer' },
  ipHistory: { method: 'GET', path: '/api/ip/:ip/history', role: 'viewer' },
  ipCadence: { method: 'GET', path: '/api/ip/:ip/cadence', role: 'viewer' },
  ipScores: { method: 'GET', path: '/api/ip/:ip/scores', role: 'viewer' },
  campaigns: { method: 'GET', path: '/api/campaigns', role: 'viewer' },
  campaign: { method: 'GET', path: '/api/campaigns/:id', role: 'viewer' },
  campaignMembers: { method: 'GET', path: '/api/campaigns/:id/members', role: 'viewer' },
  logs: { method: 'GET', path: '/api/logs', role: 'viewer' },
  model: { method: 'GET', path: '/api/model', role: 'viewer' },
  pipeline: { method: 'GET', path: '/api/pipeline', role: 'viewer' },
  audit: { method: 'GET', path: '/api/audit', role: 'analyst' },
  classifications: { method: 'GET', path: '/api/classifications', role: 'viewer' },
  classify: { method: 'POST', path: '/api/classifications', role: 'analyst' },
  classifyBulk: { method: 'POST', path: '/api/classifications/bulk', role: 'analyst' },
  users: { method: 'GET', path: '/api/users', role: 'admin' },
  userCreate: { method: 'POST', path: '/api/users', role: 'admin' },
  userUpdate: { method: 'PATCH', path: '/api/users/:name', role: 'admin' },
  userDelete: { method: 'DELETE', path: '/api/users/:name', role: 'admin' },
} as const satisfies Record<string, RouteSpec>;

export type RouteName = keyof typeof ROUTES;

/** SPA pages the server answers with index.html (deep links). */
export const SPA_PATHS = ['/', '/login', '/detections', '/ja4/*', '/ip/*', '/campaigns', '/cluster/*', '/logs', '/model', '/pipeline', '/audit', '/users', '/wall'] as const;

// ---------------------------------------------------------------- WebSocket (/ws)
//
// Connect to /ws (same origin; the session cookie authenticates, or, for a
// wall, the subprotocols [WS_PROTOCOL, WS_TOKEN_PROTOCOL_PREFIX + token]). The server sends `hello` first. The client subscribes to the
// topics its page shows. Every event carries a global sequence number
// (increasing by one per published item, all topics together; one detection
// goes to `detections`, `ja4:<fp>` and `ip:<ip>` with the same seq, so a
// client subscribed to several of them dedupes by seq). Events published
// within one tick (~10 ms) to a topic arrive together in one `batch` frame.
// After a reconnect the client sends `resync` with the last
// seq it saw and the boot id of the server that sent it (from `hello`); the server replays the missed events of the
// client's topics from its ring of recent messages, or, when the boot id
// differs or the seq is older than the ring, from the database by time
// (`since_ts`: the last event's ts, at most an hour back: older is clamped
// and the answer says `truncated`), then sends `resync_done`. One resync at
// a time per connection and at most one a second (else an `error`).
//
// Backpressure: a client whose send buffer passes the server's limit (1 MiB
// by default) is closed with code 4008 ("too slow"; 1006 when the close
// frame cannot get through the full pipe); it reconnects and resyncs.
// Server memory per client is bounded (twice the limit plus one frame).

/** detections | kpis | health | ja4:<fingerprint> | ip:<address> */
export type Topic = 'detections' | 'kpis' | 'health' | `ja4:${string}` | `ip:${string}`;
export const FIXED_TOPICS = ['detections', 'kpis', 'health'] as const;
/** at most this many topics per connection */
export const MAX_TOPICS_PER_CLIENT = 32;
/** close code for a client dropped for backpressure */
export const WS_CLOSE_TOO_SLOW = 4008;
/** close code when the session/token is invalid */
export const WS_CLOSE_UNAUTHORIZED = 4001;
/**
 * The subprotocol the server answers when offered. A browser cannot set
 * headers on a WebSocket, so a wall token travels as a second offered
 * subprotocol, `ja4.token.<token>`, next to this one: the server takes it
 * from Sec-WebSocket-Protocol and answers only `ja4.v1` (never the token).
 */
export const WS_PROTOCOL = 'ja4.v1';
export const WS_TOKEN_PROTOCOL_PREFIX = 'ja4.token.';

export type ClientMessage =
  | { type: 'subscribe'; topics: string[] }
  | { type: 'unsubscribe'; topics: string[] }
  /** replay what was missed on the subscribed topics; give since_seq+boot_id, or since_ts, or both */
  | { type: 'resync'; since_seq?: number; boot_id?: string; since_ts?: string }
  | { type: 'ping'; id?: number };

export interface KpisEvent {
  at: string;
  /** last 5 minutes */
  requests_per_minute: number;
  detections_last_hour: number;
  detections_by_level: { threat_level: ThreatLevel; detections: number }[];
  bot_share: number;
}

/** What each topic's events carry. */
export type EventData<T extends string> = T extends 'detections' | `ja4:${string}` | `ip:${string}`
  ? LiveDetection
  : T extends 'kpis'
    ? KpisEvent
    : T extends 'health'
      ? PipelineHealth
      : unknown;

export interface EventMessage<T extends string = Topic> {
  type: 'event';
  topic: T;
  seq: number;
  /** when the server published it */
  ts: string;
  data: EventData<T>;
  /** true when sent during a resync (database replays carry the seq current at the resync) */
  replay?: boolean;
}

/** An event inside a `batch` frame. */
export interface BatchedEvent<T extends string = Topic> {
  seq: number;
  data: EventData<T>;
}

export type ServerMessage =
  | { type: 'hello'; boot_id: string; seq: number; server: 'uws' | 'ws-fallback'; user: { name: string; role: Role } }
  | { type: 'subscribed'; topics: string[] }
  | { type: 'unsubscribed'; topics: string[] }
  | EventMessage
  /**
   * several events of one topic, in seq order (the usual form of live
   * events); each event is {seq, data}: its topic is the batch's, and `ts`
   * is when the last of them was published (where a since_ts resync starts).
   * Leaving type/topic/ts out of every event keeps ~20% of the bytes
   * off the wire for every subscriber.
   */
  | { type: 'batch'; topic: string; ts: string; events: BatchedEvent[] }
  /** end of a replay; `seq`: continue from here; `truncated`: more was missed than replayed (reload the page's data) */
  | { type: 'resync_done'; source: 'ring' | 'database' | 'none'; replayed: number; seq: number; truncated: boolean }
  | { type: 'pong'; id?: number; seq: number }
  | { type: 'error'; code: 'bad_request' | 'too_many_topics' | 'forbidden' | 'resync_in_progress' | 'rate_limited'; message: string };
