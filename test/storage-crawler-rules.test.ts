// The crawler rules of the enrichment view (sql/0006, its rule search
// rewritten by sql/0026) on the real engine: a request gets the first rule,
// in file order, whose every non-empty condition holds (user-agent regex,
// path regex, CIDRs, ASNs, countries). The cases that the rewrite's
// candidate list could get wrong: a rule whose regexes hit but whose
// network does not, so that a later rule wins; two rules that both match;
// rules with no regex at all; no rules loaded.
import t from 'tap';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { loadReferenceData, TABLES } from '../src/storage/index.js';
import { JA4_CHROME, UA_CHROME, UA_GOOGLEBOT, fixtureHourUs, openTestStorage, storageScratchDir, writeTestReferenceDir } from './helpers/storage-fixture.js';

const RULES = [
  'name,action,user_agent_regex,path_regex,remote_addresses,asns,countries,weight',
  'googlebot,ALLOW,Googlebot,,66.249.64.0/19 2001:4860:4801::/48,,,0',
  'googlebot-spoofed,DENY,Googlebot,,,,,10',
  'wp-probe,DENY,,^/wp-,,,,10',
  'de-admin,CHALLENGE,,^/admin,,64501,DE,0',
  'curl-admin,WEIGH,(?i)^curl/,^/admin,,,,5',
  'nl-v6,CHALLENGE,,,2001:db8::/32,,NL,0',
].join('\n');

const UA_CURL = 'curl/8.5.0';

/** [request id, client IP, user agent, uri, expected rule, expected action] */
const CASES: [string, string, string, string, string, string][] = [
  ['google-v4', '66.249.66.1', UA_GOOGLEBOT, '/post/1', 'googlebot', 'ALLOW'],
  ['google-v6', '2001:4860:4801::7', UA_GOOGLEBOT, '/', 'googlebot', 'ALLOW'],
  // the first rule's regex hits, its CIDRs do not: the next one that holds
  ['google-spoofed', '198.51.100.7', UA_GOOGLEBOT, '/', 'googlebot-spoofed', 'DENY'],
  // googlebot and wp-probe both hold: file order
  ['google-wp', '66.249.66.1', UA_GOOGLEBOT, '/wp-login.php', 'googlebot', 'ALLOW'],
  ['spoofed-wp', '203.0.113.10', UA_GOOGLEBOT, '/wp-login.php', 'googlebot-spoofed', 'DENY'],
  ['wp', '203.0.113.10', UA_CHROME, '/wp-login.php?x=1', 'wp-probe', 'DENY'],
  // ASN 64501 and DE (the test ip-to-asn): de-admin before curl-admin
  ['admin-de', '198.51.100.7', UA_CURL, '/admin/users', 'de-admin', 'CHALLENGE'],
  // 64500 FR: de-admin's network fails, curl-admin's regexes hold
  ['admin-fr', '203.0.113.10', UA_CURL, '/admin', 'curl-admin', 'WEIGH'],
  // neither: curl-admin's user agent and de-admin's network fail
  ['admin-browser', '203.0.113.10', UA_CHROME, '/admin', '', ''],
  // the query is not the path
  ['query', '203.0.113.10', UA_CURL, '/shop?next=/admin', '', ''],
  ['nl', '2001:db8::5', UA_CHROME, '/', 'nl-v6', 'CHALLENGE'],
  ['none', '203.0.113.10', UA_CHROME, '/', '', ''],
];

function rows(hourUs: number): Record<string, unknown>[] {
  return CASES.map(([id, ip, ua, uri], i) => ({
    ts: hourUs + i * 1_000_000,
    request_id: id,
    client_ip: ip,
    client_port: 40000 + i,
    host: 'shop.example',
    uri,
    protocol: 'HTTP/1.1',
    status: 200,
    headers: { 'user-agent': ua },
    header_names: ['Host', 'User-Agent'],
    ja4: JA4_CHROME,
    correlation_status: 'matched',
  }));
}

async function rulesOf(storage: Awaited<ReturnType<typeof openTestStorage>>): Promise<Map<string, [string, string]>> {
  const got = await storage.query<{ request_id: string; crawler_rule: string; crawler_action: string }>(
    `SELECT request_id, crawler_rule, crawler_action FROM ${TABLES.httpLogs}`,
  );
  return new Map(got.map((r) => [r.request_id, [r.crawler_rule, r.crawler_action]]));
}

t.test('each request gets the first rule, in file order, whose every condition holds', async (t) => {
  const storage = await openTestStorage(t);
  const ref = writeTestReferenceDir(join(storageScratchDir(t), 'ref'));
  writeFileSync(join(ref, 'crawler-rules.csv'), `${RULES}\n`);
  await loadReferenceData(storage, ref);
  await storage.insertRows(TABLES.httpLogsIngest, rows(fixtureHourUs()));
  const got = await rulesOf(storage);
  t.equal(got.size, CASES.length, 'one row per request');
  for (const [id, , , uri, rule, action] of CASES) t.same(got.get(id), [rule, action], `${id} (${uri}): ${rule || 'no rule'}`);
});

t.test('no rules loaded: every request has no rule', async (t) => {
  const storage = await openTestStorage(t);
  const ref = writeTestReferenceDir(join(storageScratchDir(t), 'ref'));
  writeFileSync(join(ref, 'crawler-rules.csv'), 'name,action,user_agent_regex,path_regex,remote_addresses,asns,countries,weight\n');
  await loadReferenceData(storage, ref);
  await storage.insertRows(TABLES.httpLogsIngest, rows(fixtureHourUs()));
  const got = await rulesOf(storage);
  t.equal(got.size, CASES.length, 'one row per request');
  t.same([...new Set([...got.values()].map((r) => r.join('/')))], ['/'], 'no rule, no action');
});
