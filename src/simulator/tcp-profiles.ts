// The TCP side of each operating system: its SYN (window, options in wire
// order) and initial TTL. JA4T is computed from these by the engine (the
// catalog checks it); the layouts are the ones FoxIO's ja4plus-mapping.csv
// lists for these systems (data/reference/ja4plus-mapping.csv: "Windows 10
// 64240_2-1-3-1-1-4_1460_8", "Mac OSX/iPhone 65535_2-1-3-1-1-8-4-0-0_1460_6",
// "WSL Ubuntu 22.04 64240_2-4-8-1-3_1460_7", "AWS Linux 2
// 62727_2-4-8-1-3_8961_7").

export type OsName = 'windows' | 'macos' | 'ios' | 'linux' | 'android' | 'aws-linux';

export interface TcpProfile {
  os: OsName;
  window: number;
  options: Buffer;
  /** initial TTL: 128 for Windows, 64 for the others */
  ttl: number;
  /** MSS announced: the segment size of the client's data */
  mss: number;
}

const mss = (v: number) => [2, 4, v >> 8, v & 0xff];
const TIMESTAMPS = [8, 10, 0x1a, 0x2b, 0x3c, 0x4d, 0, 0, 0, 0];

export const TCP_PROFILES: Record<OsName, TcpProfile> = {
  // MSS, NOP, WS 8, NOP, NOP, SACK permitted
  windows: { os: 'windows', window: 64240, options: Buffer.from([...mss(1460), 1, 3, 3, 8, 1, 1, 4, 2]), ttl: 128, mss: 1460 },
  // MSS, NOP, WS 6, NOP, NOP, timestamps, SACK permitted, EOL, EOL
  macos: { os: 'macos', window: 65535, options: Buffer.from([...mss(1460), 1, 3, 3, 6, 1, 1, ...TIMESTAMPS, 4, 2, 0, 0]), ttl: 64, mss: 1460 },
  ios: { os: 'ios', window: 65535, options: Buffer.from([...mss(1460), 1, 3, 3, 6, 1, 1, ...TIMESTAMPS, 4, 2, 0, 0]), ttl: 64, mss: 1460 },
  // MSS, SACK permitted, timestamps, NOP, WS 7
  linux: { os: 'linux', window: 64240, options: Buffer.from([...mss(1460), 4, 2, ...TIMESTAMPS, 1, 3, 3, 7]), ttl: 64, mss: 1460 },
  // Android phones on mobile networks: a smaller MSS, WS 9 (larger buffers)
  android: { os: 'android', window: 65535, options: Buffer.from([...mss(1400), 4, 2, ...TIMESTAMPS, 1, 3, 3, 9]), ttl: 64, mss: 1400 },
  'aws-linux': { os: 'aws-linux', window: 62727, options: Buffer.from([...mss(8961), 4, 2, ...TIMESTAMPS, 1, 3, 3, 7]), ttl: 64, mss: 8961 },
};

/** The simulated server (Linux, Apache): its SYN-ACK. */
export const SERVER_SYNACK: TcpProfile = {
  os: 'linux',
  window: 65160,
  options: Buffer.from([...mss(1460), 4, 2, ...TIMESTAMPS, 1, 3, 3, 7]),
  ttl: 64,
  mss: 1460,
};
