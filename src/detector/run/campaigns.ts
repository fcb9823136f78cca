// Campaigns: HDBSCAN over the anomalous clients' normalized feature vectors
// of one scored window (one vector per client IP: the mean of its rows, so
// a client hitting three hosts counts once). A cluster is a campaign; noise
// points get none. A cluster sharing at least half of its members with a
// campaign seen in the last CAMPAIGN_MEMORY_S keeps that campaign's id, so a
// campaign lasting hours is one campaign, not one per window.
import { createHash } from 'node:crypto';
import { hdbscan } from '../models/index.js';
import type { Storage } from '../../storage/index.js';
import { dateTime64Text } from '../features/feature-queries.js';

export const CAMPAIGN_MIN_CLUSTER_SIZE = 3;
export const CAMPAIGN_MEMORY_S = 24 * 3600;
export const CAMPAIGN_OVERLAP = 0.5;

export interface CampaignMemberRow {
  clientIp: string;
  ja4: string;
  host: string;
  score: number;
  threatLevel: string;
  topFeatures: string[];
  /** normalized vector */
  vector: Float64Array;
}

export interface Campaign {
  id: string;
  members: string[];
  ja4s: string[];
  hosts: string[];
  firstSeen: number;
  lastSeen: number;
  detections: number;
  maxScore: number;
  meanScore: number;
  threatLevel: string;
  topFeatures: string[];
}

const LEVELS = ['low', 'medium', 'high', 'critical'];

interface StoredCampaign {
  campaign_id: string;
  first_seen: number;
  last_seen: number;
  members: string[];
  ja4s: string[];
  hosts: string[];
  detections: number;
  max_score: number;
  mean_score: number;
  threat_level: string;
}

/** Clusters the window's anomalous rows; returns campaign id per client IP and the campaigns to write. */
export async function findCampaigns(
  storage: Storage,
  rows: readonly CampaignMemberRow[],
  window: { kind: string; startS: number; endS: number },
): Promise<{ byIp: Map<string, string>; campaigns: Campaign[] }> {
  const byIp = new Map<string, string>();
  // one vector per client: the mean of its rows
  const perIp = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const l = perIp.get(r.clientIp);
    if (l) l.push(i);
    else perIp.set(r.clientIp, [i]);
  });
  const ips = [...perIp.keys()].sort();
  if (ips.length < CAMPAIGN_MIN_CLUSTER_SIZE * 2 || rows.length === 0) return { byIp, campaigns: [] };
  const cols = rows[0]!.vector.length;
  const data = new Float64Array(ips.length * cols);
  ips.forEach((ip, k) => {
    const idx = perIp.get(ip)!;
    for (const i of idx) for (let j = 0; j < cols; j++) data[k * cols + j]! += rows[i]!.vector[j]! / idx.length;
  });
  const { labels } = hdbscan({ rows: ips.length, cols, data }, { minClusterSize: CAMPAIGN_MIN_CLUSTER_SIZE });
  const clusters = new Map<number, string[]>();
  ips.forEach((ip, k) => {
    const c = labels[k]!;
    if (c < 0) return;
    const l = clusters.get(c);
    if (l) l.push(ip);
    else clusters.set(c, [ip]);
  });
  if (clusters.size === 0) return { byIp, campaigns: [] };

  const recent = await storage.query<StoredCampaign>(
    `SELECT campaign_id, toUnixTimestamp(first_seen) AS first_seen, toUnixTimestamp(last_seen) AS last_seen,
            members, ja4s, hosts, detections, max_score, mean_score, toString(threat_level) AS threat_level
     FROM ${storage.tables.read('mlCampaigns')} FINAL
     WHERE last_seen >= toDateTime({since:UInt32}, 'UTC')`,
    { since: Math.max(0, window.startS - CAMPAIGN_MEMORY_S) },
  );

  // Clusters that continue the same stored campaign are that one campaign:
  // written as two rows with one id in an insert, the ReplacingMergeTree
  // kept one of them, and the other's detections were lost from its counts.
  const groups = new Map<string, { prior: StoredCampaign | undefined; members: string[] }>();
  for (const [c, members] of clusters) {
    const memberSet = new Set(members);
    let prior: StoredCampaign | undefined;
    let bestOverlap = 0;
    for (const s of recent) {
      const shared = s.members.filter((m) => memberSet.has(m)).length;
      const overlap = shared / members.length;
      if (overlap >= CAMPAIGN_OVERLAP && overlap > bestOverlap) {
        bestOverlap = overlap;
        prior = s;
      }
    }
    const key = prior ? `prior:${prior.campaign_id}` : `new:${c}`;
    const g = groups.get(key);
    if (g) g.members = [...g.members, ...members].sort();
    else groups.set(key, { prior, members });
  }

  const campaigns: Campaign[] = [];
  for (const { prior, members } of groups.values()) {
    const memberSet = new Set(members);
    const memberRows = rows.filter((r) => memberSet.has(r.clientIp));
    const id =
      prior?.campaign_id ??
      `c-${createHash('sha256').update(`${window.kind}|${window.startS}|${members.join(',')}`).digest('hex').slice(0, 16)}`;
    const featureCounts = new Map<string, number>();
    for (const r of memberRows) for (const f of r.topFeatures) featureCounts.set(f, (featureCounts.get(f) ?? 0) + 1);
    const scores = memberRows.map((r) => r.score);
    const level = memberRows.reduce((best, r) => (LEVELS.indexOf(r.threatLevel) > LEVELS.indexOf(best) ? r.threatLevel : best), 'low');
    const union = (a: readonly string[], b: Iterable<string>): string[] => [...new Set([...a, ...b])].sort();
    const priorDetections = prior?.detections ?? 0;
    const campaign: Campaign = {
      id,
      members: union(prior?.members ?? [], members),
      ja4s: union(prior?.ja4s ?? [], memberRows.map((r) => r.ja4)),
      hosts: union(prior?.hosts ?? [], memberRows.map((r) => r.host)),
      firstSeen: Math.min(prior?.first_seen ?? window.startS, window.startS),
      lastSeen: Math.max(prior?.last_seen ?? window.endS, window.endS),
      detections: priorDetections + memberRows.length,
      maxScore: Math.max(prior?.max_score ?? 0, ...scores),
      meanScore: (priorDetections * (prior?.mean_score ?? 0) + scores.reduce((s, x) => s + x, 0)) / (priorDetections + memberRows.length),
      threatLevel: prior && LEVELS.indexOf(prior.threat_level) > LEVELS.indexOf(level) ? prior.threat_level : level,
      topFeatures: [...featureCounts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 5).map(([f]) => f),
    };
    for (const ip of members) byIp.set(ip, id);
    campaigns.push(campaign);
  }
  return { byIp, campaigns };
}

export async function writeCampaigns(storage: Storage, campaigns: readonly Campaign[], window: string, modelVersion: string, nowMs: number): Promise<void> {
  await storage.insertRows(
    storage.tables.write('mlCampaigns'),
    campaigns.map((c) => ({
      campaign_id: c.id,
      updated_at: dateTime64Text(nowMs),
      first_seen: c.firstSeen,
      last_seen: c.lastSeen,
      window,
      model_version: modelVersion,
      members: c.members,
      member_count: c.members.length,
      ja4s: c.ja4s,
      hosts: c.hosts,
      detections: c.detections,
      max_score: c.maxScore,
      mean_score: c.meanScore,
      threat_level: c.threatLevel,
      top_features: c.topFeatures,
    })),
  );
}
