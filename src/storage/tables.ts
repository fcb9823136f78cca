// Table names, and where to read and write them. On a cluster, reads and
// writes go through the Distributed tables (`<name>_dist`, created by the
// `-- @only cluster` statements) so that application code is the same in
// every mode.

export const TABLES = {
  httpRequests: 'ja4_logs.http_requests',
  tlsEvents: 'ja4_logs.tls_events',
  httpLogsIngest: 'ja4_logs.http_logs_ingest',
  httpLogs: 'ja4_processing.http_logs',
  aggHostIpJa4: 'ja4_processing.agg_host_ip_ja4_1h',
  aggJa4h: 'ja4_processing.agg_ja4h_1h',
  aggJa4: 'ja4_processing.agg_ja4_1h',
  aggTraffic: 'ja4_processing.agg_traffic_1h',
  aggNetwork: 'ja4_processing.agg_network_1h',
  aggIpUa: 'ja4_processing.agg_ip_ua_1h',
  aggModelScores: 'ja4_processing.agg_model_scores',
  aggJa4Network: 'ja4_processing.agg_ja4_network_1h',
  aggJa4Ua: 'ja4_processing.agg_ja4_ua_1h',
  aggJa4Ip: 'ja4_processing.agg_ja4_ip_1h',
  ja4Signals: 'ja4_processing.view_ja4_signals_1h',
  aiFeatures: 'ja4_processing.view_ai_features_1h',
  mlAllScores: 'ja4_processing.ml_all_scores',
  mlDetectedAnomalies: 'ja4_processing.ml_detected_anomalies',
  mlCampaigns: 'ja4_processing.ml_campaigns',
  auditLogs: 'ja4_processing.audit_logs',
  analystClassifications: 'ja4_processing.analyst_classifications',
  dashboardUsers: 'ja4_processing.dashboard_users',
  dashboardTokens: 'ja4_processing.dashboard_tokens',
  migrations: 'ja4_processing.schema_migrations',
} as const;

export type TableKey = keyof typeof TABLES;

/** Tables with a Distributed companion on a cluster (see the sql/ files). */
const DISTRIBUTED = new Set<string>([
  TABLES.httpRequests,
  TABLES.tlsEvents,
  TABLES.httpLogsIngest,
  TABLES.httpLogs,
  TABLES.aggHostIpJa4,
  TABLES.aggJa4h,
  TABLES.aggJa4,
  TABLES.aggTraffic,
  TABLES.aggNetwork,
  TABLES.aggIpUa,
  TABLES.aggModelScores,
  TABLES.aggJa4Network,
  TABLES.aggJa4Ua,
  TABLES.aggJa4Ip,
  TABLES.mlAllScores,
  TABLES.mlDetectedAnomalies,
]);

export interface TableResolver {
  /** the name to SELECT from */
  read(key: TableKey): string;
  /** the name to INSERT into */
  write(key: TableKey): string;
}

export function tableResolver(cluster: string | undefined): TableResolver {
  const resolve = (key: TableKey): string => {
    const name = TABLES[key];
    return cluster !== undefined && DISTRIBUTED.has(name) ? `${name}_dist` : name;
  };
  return { read: resolve, write: resolve };
}

/** `db.table` -> its Distributed companion's name, for the sql/ templates. */
export function distributedName(qualified: string): string {
  return `${qualified}_dist`;
}
