// From raw feature rows to the model's numeric vectors. Everything the
// issue lists per client IP x JA4 x host x window: rate and burstiness,
// path spread, status mix, missing Referer / Accept-Language / cookies,
// header-order (JA4H) diversity, UA vs TLS consistency and the reference
// lists (known bot IP or JA4, crawler rules), the per-JA4 global signals
// with their ranks and quantiles, and the inter-request timing (mean, CV,
// lag-1 autocorrelation, Benford evidence calibrated to n).
//
// `log` features are heavy-tailed counts: normalization takes log1p of them
// first (src/detector/training/normalize.ts).
import { benfordEvidence } from './benford.js';
import { WINDOW_SECONDS, displayIp, type RawFeatureRow, type WindowKind } from './feature-queries.js';

export interface FeatureSpec {
  name: string;
  /** log1p before scaling (counts spanning orders of magnitude) */
  log: boolean;
}

const f = (name: string, log = false): FeatureSpec => ({ name, log });

/** Every candidate feature, in vector order. Training may drop some (near-constant). */
export const FEATURE_SPECS: readonly FeatureSpec[] = [
  f('requests', true),
  f('requests_per_minute', true),
  f('active_seconds', true),
  f('burstiness'),
  f('distinct_paths', true),
  f('distinct_paths_ratio'),
  f('status_2xx_ratio'),
  f('status_3xx_ratio'),
  f('status_4xx_ratio'),
  f('status_5xx_ratio'),
  f('no_referer_ratio'),
  f('no_accept_language_ratio'),
  f('no_cookies_ratio'),
  f('distinct_ja4h', true),
  f('distinct_header_orders', true),
  f('header_order_diversity'),
  f('distinct_uas', true),
  f('browser_ua_ratio'),
  f('ua_ja4_mismatch_ratio'),
  f('known_bot_ip'),
  f('known_bot_ja4'),
  f('crawler_rule_match'),
  f('hosting_asn'),
  f('h2_h3_ratio'),
  f('bytes_out_per_request', true),
  f('iat_n', true),
  f('iat_mean_ms', true),
  f('iat_cv'),
  f('iat_lag1_autocorr'),
  f('benford_mad'),
  f('benford_evidence'),
  f('ja4_requests', true),
  f('ja4_h2_ratio'),
  f('ja4_h3_ratio'),
  f('ja4_browser_ua_ratio'),
  f('ja4_distinct_uas', true),
  f('ja4_distinct_paths', true),
  f('ja4_distinct_ips', true),
  f('ja4_volume_quantile'),
  f('ja4_distinct_uas_quantile'),
  f('ja4_distinct_paths_quantile'),
  f('ja4_distinct_ips_quantile'),
];

export const FEATURE_NAMES: readonly string[] = FEATURE_SPECS.map((s) => s.name);

/** A scored unit: its key, what the detections show, and its full vector. */
export interface FeatureRow {
  window: WindowKind;
  /** epoch seconds */
  windowStart: number;
  /** as written in the logs: IPv4 dotted, IPv6 otherwise */
  clientIp: string;
  ja4: string;
  host: string;
  requests: number;
  asn: number;
  country: string;
  botIpName: string;
  botJa4Name: string;
  crawlerRule: string;
  /** FEATURE_NAMES order; NaN where undefined (e.g. no intervals) */
  values: Float64Array;
}

/**
 * percent_rank of each value among the distinct JA4s of the same window,
 * as view_ja4_signals_1h computes volume_quantile: (rank - 1) / (n - 1),
 * ties sharing the lowest rank.
 */
function ja4Quantiles(rows: readonly RawFeatureRow[], pick: (r: RawFeatureRow) => number | null): Map<string, number> {
  const perWindow = new Map<number, Map<string, number>>();
  for (const r of rows) {
    const v = pick(r);
    if (v === null) continue;
    let m = perWindow.get(r.window_start);
    if (!m) perWindow.set(r.window_start, (m = new Map()));
    m.set(r.ja4, v);
  }
  const out = new Map<string, number>();
  for (const [start, m] of perWindow) {
    const sorted = [...m.values()].sort((a, b) => a - b);
    for (const [ja4, v] of m) {
      let lo = 0;
      while (sorted[lo]! < v) lo++;
      out.set(`${start}\u0000${ja4}`, sorted.length > 1 ? lo / (sorted.length - 1) : 0);
    }
  }
  return out;
}

const num = (v: number | null | undefined): number => (v === null || v === undefined || !Number.isFinite(Number(v)) ? Number.NaN : Number(v));

/** Raw query rows of one kind of window -> feature rows (the batch gives the JA4 quantiles). */
export function buildFeatureRows(raw: readonly RawFeatureRow[], window: WindowKind): FeatureRow[] {
  const minutes = WINDOW_SECONDS[window] / 60;
  const qUas = ja4Quantiles(raw, (r) => r.ja4_distinct_uas);
  const qPaths = ja4Quantiles(raw, (r) => r.ja4_distinct_paths);
  const qIps = ja4Quantiles(raw, (r) => r.ja4_distinct_ips);
  return raw.map((r) => {
    const jk = `${r.window_start}\u0000${r.ja4}`;
    const timed = r.iat_n >= 2;
    // Goh & Barabási's burstiness B = (sigma - mu) / (sigma + mu) = (cv - 1) / (cv + 1):
    // -1 for a metronome, 0 for Poisson arrivals, towards 1 for bursts
    const burstiness = timed ? (r.iat_cv - 1) / (r.iat_cv + 1) : Number.NaN;
    const byName: Record<string, number> = {
      requests: r.requests,
      requests_per_minute: r.requests / minutes,
      active_seconds: r.active_seconds,
      burstiness,
      distinct_paths: r.distinct_paths,
      distinct_paths_ratio: r.distinct_paths_ratio,
      status_2xx_ratio: r.status_2xx_ratio,
      status_3xx_ratio: r.status_3xx_ratio,
      status_4xx_ratio: r.status_4xx_ratio,
      status_5xx_ratio: r.status_5xx_ratio,
      no_referer_ratio: r.no_referer_ratio,
      no_accept_language_ratio: r.no_accept_language_ratio,
      no_cookies_ratio: r.no_cookies_ratio,
      distinct_ja4h: r.distinct_ja4h,
      distinct_header_orders: r.distinct_header_orders,
      header_order_diversity: r.header_order_diversity,
      distinct_uas: r.distinct_uas,
      browser_ua_ratio: r.browser_ua_ratio,
      ua_ja4_mismatch_ratio: r.ua_ja4_mismatch_ratio,
      known_bot_ip: r.bot_ip_name !== '' ? 1 : 0,
      known_bot_ja4: r.bot_ja4_name !== '' ? 1 : 0,
      crawler_rule_match: r.crawler_rule !== '' ? 1 : 0,
      hosting_asn: r.asn_label === 'hosting' ? 1 : 0,
      h2_h3_ratio: r.h2_h3_ratio,
      bytes_out_per_request: r.bytes_out_per_request,
      iat_n: r.iat_n,
      iat_mean_ms: timed || r.iat_n === 1 ? r.iat_mean_ms : Number.NaN,
      iat_cv: timed ? r.iat_cv : Number.NaN,
      iat_lag1_autocorr: r.iat_n >= 3 ? r.iat_lag1_autocorr : Number.NaN,
      benford_mad: r.benford_n > 0 ? r.benford_mad : Number.NaN,
      benford_evidence: benfordEvidence(r.benford_chi2, r.benford_n),
      ja4_requests: num(r.ja4_requests),
      ja4_h2_ratio: num(r.ja4_h2_ratio),
      ja4_h3_ratio: num(r.ja4_h3_ratio),
      ja4_browser_ua_ratio: num(r.ja4_browser_ua_ratio),
      ja4_distinct_uas: num(r.ja4_distinct_uas),
      ja4_distinct_paths: num(r.ja4_distinct_paths),
      ja4_distinct_ips: num(r.ja4_distinct_ips),
      ja4_volume_quantile: num(r.ja4_volume_quantile),
      ja4_distinct_uas_quantile: qUas.get(jk) ?? Number.NaN,
      ja4_distinct_paths_quantile: qPaths.get(jk) ?? Number.NaN,
      ja4_distinct_ips_quantile: qIps.get(jk) ?? Number.NaN,
    };
    const values = new Float64Array(FEATURE_SPECS.length);
    FEATURE_SPECS.forEach((s, i) => {
      const v = byName[s.name];
      values[i] = v === undefined ? Number.NaN : Number(v);
    });
    return {
      window,
      windowStart: r.window_start,
      clientIp: displayIp(r.client_ip),
      ja4: r.ja4,
      host: r.host,
      requests: r.requests,
      asn: r.asn,
      country: r.country,
      botIpName: r.bot_ip_name,
      botJa4Name: r.bot_ja4_name,
      crawlerRule: r.crawler_rule,
      values,
    };
  });
}
