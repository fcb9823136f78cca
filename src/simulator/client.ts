// A simulated client and the requests its session plans. Families
// (families.ts) create clients and sessions; the scheduler (scheduler.ts)
// turns the plans into connections, TLS events and log records.
import type { Agent } from './agents.js';
import type { StackName } from './catalog.js';
import type { Resource } from './site.js';
import type { OsName } from './tcp-profiles.js';

export interface Client {
  family: string;
  isBot: boolean;
  /** the label's bot_name: the tool or crawler ("" for humans) */
  botName: string;
  ip: string;
  country: string;
  os: OsName;
  /** TTL of the client's packets at the server: the OS's initial TTL minus the hops */
  ttl: number;
  stack: StackName;
  agent: Agent;
  /** round-trip time to the server (us) */
  rttUs: number;
  /** ephemeral port range of the OS */
  ports: readonly [number, number];
  /** false: connects to the server's address, without SNI (scanners) */
  sni: boolean;
  /** set by the scheduler from the stack's ALPN: all requests of a host share one connection */
  h2: boolean;
}

export interface RequestPlan {
  /** request start (Apache's request_time), us since the epoch */
  t: number;
  host: string;
  https: boolean;
  method: string;
  res: Resource;
  referer?: string;
  /** Cookie header value ('' for none) and the cookie names in it */
  cookie: string;
  bodyBytes: number;
  contentType?: string;
  /** HTTP/1.1 browsers open up to 6 connections per host: which one */
  lane: number;
  /** the client closes the connection after this response (curl, Connection: close) */
  closeAfter: boolean;
  /** per-request User-Agent rotation (scrapers): overrides client.agent */
  agent?: Agent;
}

export type Session = Generator<RequestPlan, void, undefined>;
