// IP addresses as text the engine takes: what Node's isIP() accepts, less
// an IPv6 zone index ("fe80::1%eth0"), which isIP() takes and ClickHouse's
// IPv6 parsing refuses (one such reference row failed every insert through
// the enrichment view; one such dashboard parameter, the query).
import { isIP } from 'node:net';

/** 4 or 6 for an address the engine parses, else 0. */
export function engineIpFamily(text: string): 0 | 4 | 6 {
  return /^[0-9a-fA-F:.]+$/.test(text) ? (isIP(text) as 0 | 4 | 6) : 0;
}
