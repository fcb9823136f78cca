// What route modules and the WebSocket hub share: the database, the user
// store, sessions, the login limiter, the hub and the server's settings.
import type { Logger } from '../config/index.js';
import type { Storage } from '../storage/index.js';
import type { PipelineHealth } from './api-types.js';
import type { LoginRateLimiter } from './auth/rate-limit.js';
import type { SessionStore } from './auth/sessions.js';
import type { UserStore } from './auth/user-store.js';
import type { ServerKind } from './uws.js';
import type { Hub } from './ws/hub.js';

/** What a running pipeline reports for the health page (ja4 run wires it). */
export interface PipelineReport {
  counters?: Record<string, number>;
  spool?: { bytes: number; files: number } | null;
}

export interface DashboardDeps {
  storage: Storage;
  users: UserStore;
  sessions: SessionStore;
  limiter: LoginRateLimiter;
  hub: Hub;
  /** the server's log (audit rows that could not be written are reported there) */
  log: Logger;
  kind: ServerKind;
  bootId: string;
  /** Secure on cookies: always, never, or when the request came over TLS (via a trusted proxy) */
  secureCookies: 'auto' | boolean;
  pipelineReport: () => PipelineReport;
  /** models/current/manifest.json, for the model page (undefined: not read) */
  modelDir?: string;
  /** health snapshot (the pipeline route and the health topic share it) */
  health(): Promise<PipelineHealth>;
}
