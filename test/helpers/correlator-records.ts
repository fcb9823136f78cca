// Builders of the correlator's two inputs, as the real producers write them:
// mod_reqin_log records (docs/mod_reqin_log.md) and TLS events
// (src/capture/tls-event.ts, the engine's flow record + "event").

export const T0_US = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
export const CLIENT_IP = '203.0.113.7';
export const SERVER_IP = '192.0.2.10';
export const JA4_A = 't13d1516h2_8daaf6152771_e5627efa2ab1';
export const JA4_B = 't13d190900_9dc949149365_97f8aa674fd9';

export interface HttpSpec {
  ts: number;
  port?: number;
  conn?: string;
  n?: number;
  scheme?: 'http' | 'https';
  uri?: string;
  ip?: string;
  extra?: Record<string, unknown>;
}

export function httpRecord(s: HttpSpec): Record<string, unknown> {
  const https = (s.scheme ?? 'https') === 'https';
  return {
    v: 1,
    ts_us: s.ts,
    dur_us: 480,
    conn: s.conn ?? `c-${s.port ?? 50000}`,
    client_ip: s.ip ?? CLIENT_IP,
    client_port: s.port ?? 50000,
    local_ip: SERVER_IP,
    local_port: https ? 443 : 80,
    req_n: s.n ?? 1,
    vhost: 'www.example.org',
    method: 'GET',
    scheme: https ? 'https' : 'http',
    host: 'www.example.org',
    uri: s.uri ?? '/',
    proto: 'HTTP/1.1',
    status: 200,
    bytes_in: 412,
    bytes_out: 5731,
    ...(https ? { tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', sni: 'www.example.org' } } : {}),
    header_order: ['Host', 'User-Agent', 'Accept', 'Accept-Language', 'Cookie'],
    headers: { 'user-agent': 'Mozilla/5.0', accept: 'text/html', 'accept-language': 'en-US,en;q=0.9' },
    cookies: ['sid', 'theme'],
    truncated: [],
    ...s.extra,
  };
}

export interface FlowSpec {
  first: number;
  last?: number;
  port?: number;
  ja4?: string;
  ip?: string;
}

export function flowEvent(s: FlowSpec): Record<string, unknown> {
  return {
    event: 'flow',
    stream: 1,
    transport: 'tcp',
    src: s.ip ?? CLIENT_IP,
    dst: SERVER_IP,
    src_port: s.port ?? 50000,
    dst_port: 443,
    first_ts_us: s.first,
    last_ts_us: s.last ?? s.first + 3000,
    packets: 6,
    closed: false,
    tls_server_name: 'www.example.org',
    ja4: s.ja4 ?? JA4_A,
    ja4_r: 'raw',
    ja4_o: 'orig',
    ja4_ro: 'rawo',
    ja3: '0149f47eabf9a20d0893e2a44e5a6323',
    ja3_r: '771,...',
    tls_version: '13',
    alpn: 'h2',
    ja4s: 't130200_1302_a56c5b993250',
    ja4t: '65495_2-4-8-1-3_65495_10',
    ja4l_c: '10_64',
    client_ttl: 64,
    tls_certs: [{ x509: [{ ja4x: 'a373a9f83c6b_a373a9f83c6b_795797892f9c', ja4x_r: 'r' }] }],
  };
}

export function closeEvent(s: FlowSpec & { reason?: string }): Record<string, unknown> {
  return {
    event: 'close',
    stream: 1,
    transport: 'tcp',
    src: s.ip ?? CLIENT_IP,
    dst: SERVER_IP,
    src_port: s.port ?? 50000,
    dst_port: 443,
    first_ts_us: s.first,
    last_ts_us: s.last ?? s.first + 1_000_000,
    reason: s.reason ?? 'fin',
  };
}

/** JSON lines, each ending in '\n', as the receiver delivers them. */
export function lines(...objs: unknown[]): Buffer {
  return Buffer.from(objs.map((o) => (typeof o === 'string' ? o : JSON.stringify(o)) + '\n').join(''));
}

/** Parses JSONEachRow output into objects. */
export function rowsOf(text: string): Record<string, unknown>[] {
  return text === '' ? [] : text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}
