// Campaigns (/campaigns, /cluster/{id}): groups of anomalous clients the
// detector clustered together (ml_detected_anomalies.campaign_id), their
// KPIs, timeline, JA4/ASN/host charts and members.
import { ROUTES, type CampaignMember, type CampaignMembersResponse, type CampaignResponse, type CampaignSummary, type CampaignsResponse } from '../api-types.js';
import { currentClassification, currentClassifications } from '../classification-rows.js';
import type { DashboardDeps } from '../deps.js';
import { notFound } from '../http/errors.js';
import { campaignValue, pageParams, rangeParam } from '../http/params.js';
import type { Router } from '../router.js';
import { DETECTED, ipText, rangeParams, select, toPage } from '../sql.js';

const LEVEL_RANK = "indexOf(['low', 'medium', 'high', 'critical'], toString(l))";

// The highest level is ranked over the campaign's distinct levels (a few), not
// per detection: the same answer, and 40 ms less on a week's 500k detections.
const SUMMARY = `campaign_id, count() AS detections, uniqExact(client_ip) AS ips, uniqExact(ja4) AS ja4s, uniqExact(host) AS hosts,
  max(score) AS max_score, ['low', 'medium', 'high', 'critical'][arrayMax(arrayMap(l -> ${LEVEL_RANK}, groupUniqArray(threat_level)))] AS max_threat_level,
  min(detected_at) AS first_seen, max(detected_at) AS last_seen, toString(topK(1)(ja4)[1]) AS top_ja4`;

export function register(router: Router, { storage }: DashboardDeps): void {
  const table = storage.tables.read('mlDetectedAnomalies');

  const withLabels = async (rows: Omit<CampaignSummary, 'classification'>[]): Promise<CampaignSummary[]> => {
    const labels = await currentClassifications(storage, 'campaign', rows.map((r) => r.campaign_id));
    return rows.map((r) => ({ ...r, classification: labels.get(r.campaign_id)?.label ?? '' }));
  };

  router.add(ROUTES.campaigns, async ({ req }): Promise<CampaignsResponse> => {
    const range = rangeParam(req.query);
    const { limit, offset } = pageParams(req.query);
    const rows = await select<Omit<CampaignSummary, 'classification'>>(
      storage,
      `SELECT ${SUMMARY} FROM ${table} WHERE ${DETECTED} AND campaign_id != '' GROUP BY campaign_id
       ORDER BY last_seen DESC, campaign_id LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
      { ...rangeParams(range), limit: limit + 1, offset },
    );
    const page = toPage(rows, limit, offset);
    return { ...page, items: await withLabels(page.items) };
  });

  router.add(ROUTES.campaign, async ({ req }): Promise<CampaignResponse> => {
    const id = campaignValue('id', req.params.id);
    const range = rangeParam(req.query);
    const p = { ...rangeParams(range), id };
    const where = `${DETECTED} AND campaign_id = {id:String}`;
    const [summary, timeline, ja4s, asns, hosts, classification] = await Promise.all([
      select<Omit<CampaignSummary, 'classification'>>(storage, `SELECT ${SUMMARY} FROM ${table} WHERE ${where} GROUP BY campaign_id`, p),
      select<CampaignResponse['timeline'][number]>(
        storage,
        `SELECT toStartOfHour(detected_at) AS bucket, count() AS detections, uniqExact(client_ip) AS ips FROM ${table} WHERE ${where} GROUP BY bucket ORDER BY bucket`,
        p,
      ),
      select<CampaignResponse['ja4s'][number]>(
        storage,
        `SELECT toString(ja4) AS ja4, count() AS detections, uniqExact(client_ip) AS ips FROM ${table} WHERE ${where} GROUP BY ja4 ORDER BY detections DESC LIMIT 20`,
        p,
      ),
      select<CampaignResponse['asns'][number]>(
        storage,
        `SELECT asn, count() AS detections, uniqExact(client_ip) AS ips FROM ${table} WHERE ${where} GROUP BY asn ORDER BY detections DESC LIMIT 20`,
        p,
      ),
      select<CampaignResponse['hosts'][number]>(
        storage,
        `SELECT toString(host) AS host, count() AS detections, uniqExact(client_ip) AS ips FROM ${table} WHERE ${where} GROUP BY host ORDER BY detections DESC LIMIT 20`,
        p,
      ),
      currentClassification(storage, 'campaign', id),
    ]);
    if (!summary[0]) throw notFound(`campaign ${id} (in this time range)`);
    return { campaign: { ...summary[0], classification: classification?.label ?? '' }, timeline, ja4s, asns, hosts, classification };
  });

  router.add(ROUTES.campaignMembers, async ({ req }): Promise<CampaignMembersResponse> => {
    const id = campaignValue('id', req.params.id);
    const range = rangeParam(req.query);
    const { limit, offset } = pageParams(req.query);
    const rows = await select<Omit<CampaignMember, 'classification'>>(
      storage,
      `SELECT ${ipText('client_ip')} AS client_ip, arrayMap(x -> toString(x), groupUniqArray(20)(ja4)) AS ja4s, count() AS detections, max(score) AS max_score,
              toString(argMax(threat_level, score)) AS threat_level, max(asn) AS asn, toString(max(country)) AS country, max(detected_at) AS last_seen
       FROM ${table} WHERE ${DETECTED} AND campaign_id = {id:String}
       GROUP BY client_ip ORDER BY max_score DESC, client_ip LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
      { ...rangeParams(range), id, limit: limit + 1, offset },
    );
    const page = toPage(rows, limit, offset);
    const labels = await currentClassifications(storage, 'ip', page.items.map((m) => m.client_ip));
    return { ...page, items: page.items.map((m) => ({ ...m, classification: labels.get(m.client_ip)?.label ?? '' })) };
  });
}
