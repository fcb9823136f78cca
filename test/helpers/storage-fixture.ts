// Shared by the storage suites: a migrated embedded database in a temporary
// directory, small reference files with known contents, and a hand-built
// set of correlated requests whose expected aggregates the tests compute
// themselves.
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir, type Teardown } from './scratch-dir.js';
import { migrate, openStorage, validateStorageOptions, type Storage } from '../../src/storage/index.js';

/** A scratch folder for storage tests (removed at teardown). */
export function storageScratchDir(t: Teardown): string {
  return scratchDir(t, 'ja4-storage-test-');
}

/** Opens the embedded engine on a fresh directory (closed at teardown), migrated unless told otherwise. */
export async function openTestStorage(t: Teardown, opts: { migrate?: boolean; dir?: string } = {}): Promise<Storage> {
  const dir = opts.dir ?? join(storageScratchDir(t), 'db');
  const storage = await openStorage(validateStorageOptions({ dataDir: dir }));
  t.teardown(() => storage.close());
  if (opts.migrate !== false) await migrate(storage);
  return storage;
}

export const JA4_CHROME = 't13d1516h2_8daaf6152771_e5627efa2ab1';
export const JA4_CHROME_QUIC = 'q13d0310h3_55b375c5d22e_cd85d2d88918';
export const JA4_GO = 't13d190900_9dc949149365_97f8aa674fd9';
export const UA_CHROME = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36';
export const UA_GO = 'Go-http-client/1.1';
export const UA_GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';
export const INJECTION = "x'); DROP TABLE ja4_processing.http_logs; --";

/** Reference files with known contents (ASNs from the documentation ranges). */
export function writeTestReferenceDir(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {
    'ip-to-asn.csv': [
      'network,asn,country_code,name,org,domain',
      '203.0.113.0/24,64500,FR,TEST-NET-3-AS,"Example Hosting, SAS",example.net',
      '198.51.100.0/24,64501,DE,TEST-NET-2-AS,Example Cloud GmbH,example.com',
      '66.249.64.0/19,15169,US,GOOGLE,Google LLC,google.com',
      '2001:db8::/32,64502,NL,DOC-V6-AS,Example IPv6 BV,example.org',
    ].join('\n'),
    'bot-ip-prefixes.csv': ['prefix,bot_name,source', '66.249.64.0/19,Googlebot,test'].join('\n'),
    'bot-ja4.csv': ['ja4,bot_name,category,notes', `${JA4_GO},Go net/http,library,test`].join('\n'),
    'browser-ja4.csv': ['ja4,browser,notes', `${JA4_CHROME},Chrome,test`, `${JA4_CHROME_QUIC},Chrome,test`].join('\n'),
    'asn-reputation.csv': ['asn,label,score,notes', '64500,hosting,0.75,test', 'AS64501,hosting,0.5,test'].join('\n'),
    'crawler-rules.csv': [
      'name,action,user_agent_regex,path_regex,remote_addresses,asns,countries,weight',
      'googlebot,ALLOW,Googlebot,,66.249.64.0/19,,,0',
      'go-client,WEIGH,^Go-http-client,,,64501,,5',
      'admin-probe,DENY,,^/admin,,,,10',
      'nl-v6,CHALLENGE,,,2001:db8::/32,,NL,0',
    ].join('\n'),
    'ja4plus-mapping.csv': [
      'Application,Library,Device,OS,ja4,ja4s,ja4h,ja4x,ja4t,ja4tscan,Notes',
      `,GoLang,,,${JA4_GO},,,,,,`,
      `Sliver Agent,GoLang,,,${JA4_GO},t130200_1301_a56c5b993250,,,,,`,
      `Chromium Browser,,,,${JA4_CHROME},,,,,,`,
    ].join('\n'),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), `${text}\n`);
  return dir;
}

/** A correlated request as the correlator writes it into ja4_logs.http_logs_ingest. */
export interface IngestRow {
  ts: number; // microseconds since the epoch
  request_id: string;
  client_ip: string;
  client_port: number;
  host: string;
  uri: string;
  protocol: string;
  status: number;
  bytes_out: number;
  headers: Record<string, string>;
  header_names: string[];
  cookie_names: string[];
  ja4: string;
  ja4h: string;
  alpn: string;
  correlation_status: string;
}

/** Start of the hour two hours ago (inside every retention), in µs. */
export function fixtureHourUs(): number {
  const hourMs = 3_600_000;
  return (Math.floor(Date.now() / hourMs) - 2) * hourMs * 1000;
}

let seq = 0;
function row(base: number, offsetMs: number, p: Partial<IngestRow> & Pick<IngestRow, 'client_ip' | 'ja4'>): IngestRow {
  seq++;
  return {
    ts: base + offsetMs * 1000,
    request_id: `req-${seq}`,
    client_port: 40000 + seq,
    host: 'shop.example',
    uri: '/',
    protocol: 'HTTP/1.1',
    status: 200,
    bytes_out: 1000,
    headers: {},
    header_names: ['Host', 'User-Agent'],
    cookie_names: [],
    ja4h: 'ge11nn020000_aaaaaaaaaaaa_000000000000_000000000000',
    alpn: '',
    correlation_status: 'matched',
    ...p,
  };
}

/**
 * The fixture: four clients over one hour (plus one request of client A in
 * the next hour).
 *   A 203.0.113.10, Chrome JA4 + Chrome UA, 6 requests with irregular gaps
 *   B 198.51.100.7, Go JA4 + Go UA, 4 requests 100 ms apart, /admin probes
 *   C 66.249.66.1, Googlebot UA over a Chrome JA4, HTTP/2, another host
 *   D 2001:db8::5, Chrome UA over the Go JA4 (a spoofer), QUIC-less h3 claim via protocol
 */
export function fixtureRows(hourUs: number): IngestRow[] {
  seq = 0;
  const m10 = hourUs + 10 * 60 * 1_000_000;
  const chromeHeaders = (lang: boolean, referer: boolean): Record<string, string> => ({
    'user-agent': UA_CHROME,
    accept: 'text/html',
    ...(lang ? { 'accept-language': 'fr-FR' } : {}),
    ...(referer ? { referer: 'https://shop.example/' } : {}),
  });
  const A = { client_ip: '203.0.113.10', ja4: JA4_CHROME };
  const B = { client_ip: '198.51.100.7', ja4: JA4_GO };
  const C = { client_ip: '66.249.66.1', ja4: JA4_CHROME };
  const D = { client_ip: '2001:db8::5', ja4: JA4_GO };
  const order1 = ['Host', 'User-Agent', 'Accept', 'Accept-Language'];
  const order2 = ['Host', 'Accept', 'User-Agent'];
  return [
    row(m10, 0, { ...A, uri: '/', headers: chromeHeaders(true, false), header_names: order1, cookie_names: ['sid'], ja4h: 'ge11cr04frfr_1111aaaaaaaa_2222bbbbbbbb_3333cccccccc' }),
    row(m10, 1500, { ...A, uri: '/a', headers: chromeHeaders(true, true), header_names: order1, cookie_names: ['sid'], ja4h: 'ge11cr05frfr_1111aaaaaaaa_2222bbbbbbbb_3333cccccccc' }),
    row(m10, 2500, { ...A, uri: '/a', status: 304, headers: chromeHeaders(true, true), header_names: order1, cookie_names: ['sid'], ja4h: 'ge11cr05frfr_1111aaaaaaaa_2222bbbbbbbb_3333cccccccc' }),
    row(m10, 4500, { ...A, uri: '/b?x=1', status: 404, headers: chromeHeaders(true, true), header_names: order2, ja4h: 'ge11nr05frfr_4444aaaaaaaa_000000000000_000000000000' }),
    row(m10, 10500, { ...A, uri: '/c', status: 500, bytes_out: 50, headers: chromeHeaders(false, false), header_names: order2 }),
    row(m10, 11000, { ...A, uri: '/', headers: chromeHeaders(false, false), header_names: order2 }),
    row(m10, 20_000, { ...B, uri: '/admin', status: 403, headers: { 'user-agent': UA_GO } }),
    row(m10, 20_100, { ...B, uri: '/admin/login', status: 404, headers: { 'user-agent': UA_GO } }),
    row(m10, 20_200, { ...B, uri: '/wp-admin', status: 404, headers: { 'user-agent': UA_GO } }),
    row(m10, 20_300, { ...B, uri: '/.env', status: 404, headers: { 'user-agent': UA_GO } }),
    row(m10, 30_000, { ...C, host: 'blog.example', uri: '/robots.txt', protocol: 'HTTP/2', alpn: 'h2', headers: { 'user-agent': UA_GOOGLEBOT } }),
    row(m10, 33_000, { ...C, host: 'blog.example', uri: '/post/1', protocol: 'HTTP/2', alpn: 'h2', headers: { 'user-agent': UA_GOOGLEBOT } }),
    row(m10, 40_000, { ...D, uri: '/login', protocol: 'HTTP/3', headers: { 'user-agent': UA_CHROME, 'accept-language': 'nl' } }),
    // client A again, in the next hour
    row(hourUs + 3_600_000_000 + 5_000_000, 0, { ...A, uri: '/next', headers: chromeHeaders(true, false) }),
  ];
}
