// The dashboard's metrics (ja4 dashboard, and the dashboard of ja4 run):
// requests by route pattern and status as the server answers them (the
// observe hook of startDashboard), and the WebSocket hub's counters read at
// scrape time. Route patterns, not paths, keep the series bounded.
import { cataloguedCounter, cataloguedHistogram, collected } from './catalogued.js';
import type { MetricsRegistry } from './registry.js';

export interface HubCounters {
  clients: number;
  dropped_slow: number;
  published: number;
}

export interface DashboardMetrics {
  /** one answered request: its route pattern ("static" for the web bundle), status code, duration */
  observe(route: string, code: number, seconds: number): void;
  /** where the hub's counters come from, once the server runs */
  attachHub(stats: () => HubCounters): void;
}

const LOGIN_ROUTE = '/api/auth/login';
const LOGIN_RESULT: Readonly<Record<number, string>> = { 200: 'ok', 401: 'failed', 429: 'rate_limited' };

export function registerDashboardMetrics(registry: MetricsRegistry): DashboardMetrics {
  const requests = cataloguedCounter(registry, 'ja4_dashboard_http_requests_total');
  const duration = cataloguedHistogram(registry, 'ja4_dashboard_http_request_seconds');
  const logins = cataloguedCounter(registry, 'ja4_dashboard_logins_total');
  for (const result of Object.values(LOGIN_RESULT)) logins.inc({ result }, 0);
  let hub: (() => HubCounters) | undefined;
  collected(registry, 'ja4_dashboard_ws_clients', () => hub?.().clients ?? 0);
  collected(registry, 'ja4_dashboard_ws_messages_total', () => hub?.().published ?? 0);
  collected(registry, 'ja4_dashboard_ws_dropped_clients_total', () => hub?.().dropped_slow ?? 0);
  return {
    observe(route, code, seconds) {
      requests.inc({ route, code });
      duration.observe({ route }, seconds);
      const result = route === LOGIN_ROUTE ? LOGIN_RESULT[code] : undefined;
      if (result) logins.inc({ result });
    },
    attachHub(stats) {
      hub = stats;
    },
  };
}
