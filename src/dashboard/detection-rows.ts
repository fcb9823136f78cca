// The columns of a Detection (api-types) as read from ml_detected_anomalies:
// shared by the detections list, the CSV export, the publisher and the
// WebSocket resync so that a detection looks the same everywhere.
import { ipText } from './sql.js';

/** A detection's key columns (the order the publisher's polls page in): the first of DETECTION_COLUMNS. */
export const DETECTION_KEY_COLUMNS = `detected_at, window_start, window, ${ipText('client_ip')} AS client_ip, toString(ja4) AS ja4, toString(host) AS host`;

export const DETECTION_COLUMNS = `${DETECTION_KEY_COLUMNS},
  toString(model_version) AS model_version, score, toString(threat_level) AS threat_level, arrayMap(x -> toString(x), voices) AS voices,
  toString(bot_name) AS bot_name, campaign_id, arrayMap(x -> toString(x), top_features) AS top_features, top_contributions, requests, asn,
  toString(country) AS country, user_agent`;

export const DETECTION_CSV_FIELDS = [
  'detected_at',
  'window_start',
  'window',
  'client_ip',
  'ja4',
  'host',
  'model_version',
  'score',
  'threat_level',
  'voices',
  'bot_name',
  'campaign_id',
  'top_features',
  'top_contributions',
  'requests',
  'asn',
  'country',
  'user_agent',
] as const;
