// One stream's fingerprints as the native engine reports them. Field names
// follow FoxIO's reference tool; optional fields are absent when not seen.

export interface HttpFingerprint {
  ja4h: string;
  ja4h_r: string;
  ja4h_o: string;
  ja4h_ro: string;
  method: string;
  path: string;
  version: string;
  host?: string;
  user_agent?: string;
}

export interface X509Fingerprint {
  ja4x: string;
  ja4x_r: string;
  /** issuer and subject name fields: issuerCommonName, subjectCountryName, ... */
  [field: string]: string;
}

export interface SshExtras {
  hassh: string;
  hassh_server: string;
  ssh_protocol_client: string;
  ssh_protocol_server: string;
  encryption_algorithm: string;
}

export interface FlowRecord {
  stream: number;
  transport: 'tcp' | 'udp';
  /** client address (the SYN sender, or the ClientHello/request sender) */
  src: string;
  dst: string;
  src_port: number;
  dst_port: number;
  first_ts_us: number;
  last_ts_us: number;
  packets: number;
  /**
   * FIN/RST seen before the record was produced. TLS flows are reported as
   * soon as both handshakes are parsed, so they are usually not closed yet;
   * false also for flows evicted or still open at the end of the input.
   */
  closed: boolean;
  tls_server_name?: string;
  ja4?: string;
  ja4_r?: string;
  ja4_o?: string;
  ja4_ro?: string;
  ja3?: string;
  ja3_r?: string;
  tls_version?: string;
  alpn?: string;
  ja4s?: string;
  ja4s_r?: string;
  ja3s?: string;
  ja3s_r?: string;
  ja4t?: string;
  ja4ts?: string;
  ja4l_c?: string;
  ja4l_s?: string;
  client_ttl?: number;
  http?: HttpFingerprint[];
  tls_certs?: { x509: X509Fingerprint[] }[];
  ja4ssh?: string[];
  ssh_extras?: SshExtras;
}

/** Splits one native batch (newline-separated JSON objects) into records. */
export function parseRecordBatch(buf: Buffer): FlowRecord[] {
  if (buf.length === 0) return [];
  const text = buf.toString('utf8');
  const out: FlowRecord[] = [];
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    if (nl < 0) break;
    if (nl > start) out.push(JSON.parse(text.slice(start, nl)) as FlowRecord);
    start = nl + 1;
  }
  return out;
}
