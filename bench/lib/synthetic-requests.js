// The 10M-row fixture of bench/storage.bench.js and bench/api.bench.js: N
// synthetic requests over the last 7 days, generated inside the engine
// (INSERT ... SELECT FROM numbers) into http_logs_ingest, so that the
// enrichment view and every hourly aggregate run as in production.
// Skewed popularity (a few JA4s and IPs carry most requests), 20 hosts,
// 5,000 paths, 80% 2xx; deterministic (cityHash64 of the row number).
import { performance } from 'node:perf_hooks';
import { TABLES } from '../../dist/storage/index.js';

const CHUNK = 1_000_000;

/**
 * Inserts `rows` requests in chunks of 1M; `progress(done)` after each chunk.
 * Returns the seconds it took.
 */
export async function insertSyntheticRequests(storage, rows, progress = () => {}) {
  const start = performance.now();
  for (let off = 0; off < rows; off += CHUNK) {
    const n = Math.min(CHUNK, rows - off);
    await storage.command(
      `INSERT INTO ${TABLES.httpLogsIngest}
         (ts, request_id, client_ip, client_port, host, uri, protocol, status, bytes_out, headers, header_names, cookie_names, ja4, ja4h, alpn, correlation_status)
       WITH {off:UInt64} + number AS i, cityHash64(i, 1) AS h1, cityHash64(i, 2) AS h2, cityHash64(i, 3) AS h3,
            -- skewed popularity: a few JA4s and IPs carry most requests
            toUInt32(pow((h1 % 1000000) / 1000000, 3) * 3000) AS ja4_k,
            toUInt32(pow((h2 % 1000000) / 1000000, 2) * 200000) AS ip_k
       SELECT
         now64(6) - toIntervalMicrosecond(intDiv(i * 604800000000, {total:UInt64})) AS ts,
         toString(i) AS request_id,
         toIPv6(IPv4NumToString(toUInt32(167772160 + ip_k))) AS client_ip,
         toUInt16(1024 + h3 % 60000) AS client_port,
         concat('site', toString(h3 % 20), '.example') AS host,
         concat('/p/', toString(h1 % 5000)) AS uri,
         if(ja4_k % 7 = 0, 'HTTP/1.1', 'HTTP/2') AS protocol,
         toUInt16(multiIf(h2 % 100 < 80, 200, h2 % 100 < 90, 304, h2 % 100 < 98, 404, 500)) AS status,
         h3 % 50000 AS bytes_out,
         map('user-agent', concat(if(ja4_k % 3 = 0, 'python-requests/2.', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/1'), toString(ja4_k % 30)),
             'accept-language', if(h1 % 4 = 0, '', 'en-US')) AS headers,
         ['Host', 'User-Agent', 'Accept'] AS header_names,
         if(h2 % 3 = 0, [], ['sid']) AS cookie_names,
         if(ja4_k = 0, 't13d1516h2_8daaf6152771_e5627efa2ab1',
            concat('t13d', leftPad(toString(ja4_k % 100), 2, '0'), '10h2_', lower(substring(hex(cityHash64(ja4_k)), 1, 12)), '_', lower(substring(hex(cityHash64(ja4_k, 9)), 1, 12)))) AS ja4,
         concat('ge11cr03enus_', lower(substring(hex(cityHash64(ja4_k % 500)), 1, 12)), '_000000000000_000000000000') AS ja4h,
         'h2' AS alpn,
         'matched' AS correlation_status
       FROM numbers({n:UInt64})`,
      { off, n, total: rows },
    );
    progress(off + n);
  }
  return (performance.now() - start) / 1000;
}
