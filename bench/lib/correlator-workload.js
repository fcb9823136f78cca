// The workload of bench/correlator.bench.js and bench/engine-views.bench.js:
// n mod_reqin_log records on keep-alive connections (1-8 requests each, one
// TLS event each), 20k client IPs, plus 2% plain HTTP and 2% HTTPS whose TLS
// event is lost.
import { BatchCorrelator } from '../../dist/correlator/batch-correlator.js';
import { mergeNativeBlocks } from '../../dist/correlator/native-merge.js';
const UAS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'python-requests/2.31.0',
  'Go-http-client/1.1',
  'curl/8.5.0',
];
const JA4S = ['t13d1516h2_8daaf6152771_e5627efa2ab1', 't13d1715h2_5b57614c22b0_3d5424432f57', 't13d190900_9dc949149365_97f8aa674fd9', 't13d311100_e8f1e7e78f70_d41ae481755e', 't13d181000_85036bcba153_d41ae481755e'];

/**
 * Records in send order: per chunk of connections, their TLS events (one
 * Buffer per datagram) then their HTTP records (Buffers of records batched up
 * to 16 KiB, as mod_reqin_log sends them). Deterministic.
 */
export function correlatorWorkload(n, t0Us) {
  const tls = []; // one Buffer per datagram
  const http = []; // one Buffer per message (records batched like mod_reqin_log)
  let pending = [];
  let pendingBytes = 0;
  const flushHttp = () => {
    if (pending.length) http.push(Buffer.from(pending.join('')));
    pending = [];
    pendingBytes = 0;
  };
  let made = 0;
  let conn = 0;
  let rngState = 12345;
  const rnd = () => ((rngState = (Math.imul(rngState, 1103515245) + 12345) >>> 0) / 2 ** 32);
  while (made < n) {
    const c = conn++;
    const ip = `10.${(c >> 12) & 7}.${(c >> 6) & 63}.${c % 20000 & 255}`;
    const port = 1024 + (c % 60000);
    const k = c % 5;
    const first = t0Us + c * 20;
    const plain = rnd() < 0.02;
    const lost = !plain && rnd() < 0.02;
    if (!plain && !lost) {
      tls.push(Buffer.from(JSON.stringify({
        event: 'flow', stream: c, transport: 'tcp', src: ip, dst: '192.0.2.10', src_port: port, dst_port: 443, first_ts_us: first, last_ts_us: first + 5000,
        packets: 8, closed: false, tls_server_name: `site${c % 20}.example`, ja4: JA4S[k], ja4_r: `t13d1516h2_002f,0035,009c_0005,000a,000b_${k}`, ja4_o: JA4S[k], ja4_ro: 'x',
        ja3: 'cd08e31494f9531f560d64c695473da9', ja3_r: '771,4865-4866,0-23,29-23,0', tls_version: '13', alpn: 'h2', ja4s: 't130200_1301_234ea6891581', ja4s_r: 'x',
        ja3s: 'eb1d94daa7e0344597e756a1fb6e7054', ja3s_r: 'x', ja4t: '64240_2-4-8-1-3_1460_7', ja4ts: '65160_2-4-8-1-3_1460_7', ja4l_c: '35_64', ja4l_s: '30_64', client_ttl: 64,
      }) + '\n'));
    }
    const reqs = 1 + (c % 8);
    for (let r = 1; r <= reqs && made < n; r++, made++) {
      const line = JSON.stringify({
        v: 1, ts_us: first + 10_000 + r * 1000, dur_us: 800 + (made % 5000), conn: `4242-18c-${c.toString(16)}`, client_ip: ip, client_port: port,
        local_ip: '192.0.2.10', local_port: plain ? 80 : 443, req_n: r, vhost: `site${c % 20}.example`, method: r % 9 === 0 ? 'POST' : 'GET',
        scheme: plain ? 'http' : 'https', host: `site${c % 20}.example`, uri: `/p/${made % 5000}?q=${made % 7}`, proto: 'HTTP/1.1', status: made % 10 === 0 ? 404 : 200,
        bytes_in: 420, bytes_out: 5000 + (made % 20000), unique_id: '',
        ...(plain ? {} : { tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_256_GCM_SHA384', sni: `site${c % 20}.example` } }),
        header_order: ['Host', 'User-Agent', 'Accept', 'Accept-Language', 'Accept-Encoding', 'Cookie'],
        headers: { 'user-agent': UAS[k], accept: 'text/html,application/xhtml+xml', 'accept-language': 'en-US,en;q=0.9', 'accept-encoding': 'gzip, br' },
        cookies: ['sid', 'theme'], truncated: [],
      }) + '\n';
      if (pendingBytes + line.length > 16384) flushHttp();
      pending.push(line);
      pendingBytes += line.length;
    }
    if (conn % 500 === 0) flushHttp();
  }
  flushHttp();
  return { tls, http };
}

/**
 * The workload's http_logs_ingest rows as the correlator encodes them, in one
 * Buffer: JSON lines, RowBinary rows, or one Native block (the batcher merges
 * an insert's blocks into one).
 */
export function encodeWorkload(work, format) {
  const bc = new BatchCorrelator({ clock: 'event', rawTables: false, format });
  const bodies = [];
  for (const b of work.tls) bodies.push(bc.process(undefined, b, 0).ingest);
  for (const b of work.http) bodies.push(bc.process(b, undefined, 0).ingest);
  bodies.push(bc.flush().ingest);
  // JSON lines as bytes: past ~500k requests their text is longer than V8's largest string
  if (format === 'JSONEachRow') return Buffer.concat(bodies.map((b) => Buffer.from(b)));
  return format === 'Native' ? mergeNativeBlocks(bodies) : Buffer.concat(bodies);
}
