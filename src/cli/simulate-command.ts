// `ja4 simulate`: writes a simulated population's TLS events, mod_reqin_log
// records and ground-truth labels to files (and optionally a pcap).
import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { BOT_FAMILIES, DEFAULT_DURATION_S, DEFAULT_RATE, simulate, type FamilyCounts } from '../simulator/index.js';
import { CliError } from './cli-error.js';
import { parseCommandArgs } from './parse-command-args.js';
import type { CliIO } from './output.js';
import { formatTable } from './table.js';

export const DEFAULT_SIMULATE_OUT = 'simulation';

export const SIMULATE_HELP = `Usage: ja4 simulate [options]

Simulates browsers and bots (${BOT_FAMILIES.length} bot families) visiting a set of
virtual hosts and writes what the capture and Apache would have sent:

  DIR/tls-events.jsonl     one flow event per TLS connection (the engine's
                           record with "event":"flow") and a close event at its end
  DIR/http-requests.jsonl  one mod_reqin_log record per request
  DIR/labels.csv           the ground truth: client_ip,family,is_bot,bot_name

The same seed and options give byte-identical files. ClientHellos come from
captures of real clients; their fingerprints are the engine's.

Options:
  --rate N         requests per second of simulated time (default ${DEFAULT_RATE})
  --duration S     simulated seconds (default ${DEFAULT_DURATION_S})
  --seed N         random seed, a non-negative integer (default 1)
  --start WHEN     start of the simulated time: an ISO 8601 date or "now" (default now)
  --out DIR        output directory, created if needed (default ./${DEFAULT_SIMULATE_OUT})
  --pcap FILE      also write the packets (handshakes, cleartext HTTP) to a pcap:
                   \`ja4 pcap FILE\` gives the same fingerprints as tls-events.jsonl
  --realtime       pace the output on the wall clock
  -h, --help       show this help

Prints requests, connections and clients per family at the end.
`;

interface SimulateArgs {
  rate: number;
  durationS: number;
  seed: number;
  startUs: number;
  out: string;
  pcap: string | undefined;
  realtime: boolean;
}

function positive(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n <= 0) throw new CliError(`--${flag} must be a positive number, got "${v}"`);
  return n;
}

function parse(argv: string[]): SimulateArgs | undefined {
  const parsed = parseCommandArgs('simulate', {
    args: argv,
    allowPositionals: false,
    strict: true,
    options: {
      rate: { type: 'string' },
      duration: { type: 'string' },
      seed: { type: 'string' },
      start: { type: 'string' },
      out: { type: 'string' },
      pcap: { type: 'string' },
      realtime: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const v = parsed.values;
  if (v.help) return undefined;
  const rate = positive('rate', v.rate, DEFAULT_RATE);
  if (rate > 1e7) throw new CliError(`--rate must be at most 10000000 requests/s, got "${v.rate}"`);
  const durationS = positive('duration', v.duration, DEFAULT_DURATION_S);
  if (v.seed !== undefined && (!/^\d+$/.test(v.seed) || !Number.isSafeInteger(Number(v.seed)))) {
    throw new CliError(`--seed must be a non-negative integer, got "${v.seed}"`);
  }
  let startUs = Date.now() * 1000;
  if (v.start !== undefined && v.start !== 'now') {
    const ms = Date.parse(v.start);
    if (!/^\d{4}-\d{2}-\d{2}/.test(v.start) || Number.isNaN(ms)) throw new CliError(`--start must be an ISO 8601 date or "now", got "${v.start}"`);
    startUs = ms * 1000;
  }
  if (v.out === '') throw new CliError('--out must name a directory, got ""');
  if (v.pcap === '') throw new CliError('--pcap must name a file, got ""');
  return {
    rate,
    durationS,
    seed: v.seed === undefined ? 1 : Number(v.seed),
    startUs,
    out: v.out ?? DEFAULT_SIMULATE_OUT,
    pcap: v.pcap,
    realtime: v.realtime ?? false,
  };
}

/** A CSV field: quoted when it holds a comma, quote or line break (RFC 4180). */
function csv(s: string): string {
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

async function write(stream: WriteStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

async function end(stream: WriteStream): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}

export async function runSimulateCommand(argv: string[], io: CliIO): Promise<number> {
  const args = parse(argv);
  if (!args) {
    io.out(SIMULATE_HELP);
    return 0;
  }
  try {
    mkdirSync(args.out, { recursive: true });
  } catch (err) {
    throw new CliError(`--out: cannot create directory ${args.out}: ${(err as Error).message}`, 1);
  }
  const tls = createWriteStream(join(args.out, 'tls-events.jsonl'));
  const http = createWriteStream(join(args.out, 'http-requests.jsonl'));
  const labels = createWriteStream(join(args.out, 'labels.csv'));
  await write(labels, 'client_ip,family,is_bot,bot_name\n');
  let counts: ReadonlyMap<string, FamilyCounts> = new Map();
  let lines = 0;
  for await (const batch of simulate({
    seed: args.seed,
    rate: args.rate,
    durationS: args.durationS,
    startUs: args.startUs,
    realtime: args.realtime,
    pcapPath: args.pcap,
    onSummary: (c) => (counts = c),
  })) {
    if (batch.tls.length) await write(tls, batch.tls.join('\n') + '\n');
    if (batch.http.length) await write(http, batch.http.join('\n') + '\n');
    if (batch.labels.length) {
      await write(labels, batch.labels.map((l) => `${l.client_ip},${csv(l.family)},${l.is_bot},${csv(l.bot_name)}`).join('\n') + '\n');
    }
    lines += batch.http.length;
  }
  await Promise.all([end(tls), end(http), end(labels)]);
  const rows = [...counts].map(([family, c]) => [family, BOT_FAMILIES.includes(family) ? 'bot' : 'human', String(c.requests), String(c.connections), String(c.clients)]);
  const total = [...counts.values()].reduce((a, c) => ({ requests: a.requests + c.requests, connections: a.connections + c.connections, clients: a.clients + c.clients }), { requests: 0, connections: 0, clients: 0 });
  rows.push(['total', '', String(total.requests), String(total.connections), String(total.clients)]);
  io.out(formatTable(['FAMILY', 'KIND', 'REQUESTS', 'CONNECTIONS', 'CLIENTS'], rows));
  io.out(`${lines} requests over ${args.durationS} s written to ${args.out}/ (tls-events.jsonl, http-requests.jsonl, labels.csv)${args.pcap ? ` and ${args.pcap}` : ''}\n`);
  return 0;
}
