// `ja4 pcap FILE...`: fingerprint capture files.
import { basename } from 'node:path';
import { CaptureError, PcapReader } from '../capture/pcap-reader.js';
import { OptionError } from '../capture/engine-options.js';
import type { FlowRecord } from '../capture/flow-record.js';
import { CliError } from './cli-error.js';
import { parseCommandArgs, usageHint } from './parse-command-args.js';
import type { CliIO } from './output.js';
import { formatTable } from './table.js';

export const PCAP_HELP = `Usage: ja4 pcap FILE... [options]

Fingerprints every TCP and UDP stream of pcap/pcapng captures: JA4 (+ _r, _o,
_ro), JA4S, JA3/JA3S, JA4T/JA4TS, JA4L, JA4H (cleartext HTTP), JA4X, JA4SSH.

Output (default: a table sorted by transport and stream):
  --json            one JSON array with the records of all files
  --jsonl           one JSON object per line, as streams complete (constant memory)
  --raw             add the raw forms (ja4_r, ja4s_r, ja3_r, ja4h_r, ja4x_r)
  --original        original-order forms: ja4_o instead of ja4 (ja4_ro with --raw)
  --stats           print the engine counters to stderr at the end
  -h, --help        show this help

Engine limits:
  --max-flows N            flows tracked at once (default 262144)
  --idle-timeout-ms N      a flow idle this long in capture time is reported (default 120000)
  --max-buffered-bytes N   out-of-order bytes buffered per direction, 64 more charged per
                           held segment (default 262144)

Exit status: 0 on success, 2 when a file is missing, not a capture, or
truncated (streams read before a truncation are still printed).
`;

interface PcapOptions {
  format: 'table' | 'json' | 'jsonl';
  raw: boolean;
  original: boolean;
  stats: boolean;
  engine: { maxFlows?: number; idleTimeoutMs?: number; maxBufferedPerDirection?: number };
}

function intOption(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new CliError(`--${name} must be a non-negative integer, got "${value}"`);
  return Number(value);
}

function parse(argv: string[]): { files: string[]; opts: PcapOptions } {
  const parsed = parseCommandArgs('pcap', {
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      jsonl: { type: 'boolean' },
      raw: { type: 'boolean' },
      original: { type: 'boolean' },
      stats: { type: 'boolean' },
      'max-flows': { type: 'string' },
      'idle-timeout-ms': { type: 'string' },
      'max-buffered-bytes': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const v = parsed.values;
  if (v.help) throw new HelpRequested();
  if (v.json && v.jsonl) throw new CliError('--json and --jsonl cannot be combined');
  if (parsed.positionals.length === 0) throw new CliError(`ja4 pcap: no capture file given\n${usageHint('pcap')}`);
  return {
    files: parsed.positionals,
    opts: {
      format: v.json ? 'json' : v.jsonl ? 'jsonl' : 'table',
      raw: v.raw ?? false,
      original: v.original ?? false,
      stats: v.stats ?? false,
      engine: {
        maxFlows: intOption('max-flows', v['max-flows']),
        idleTimeoutMs: intOption('idle-timeout-ms', v['idle-timeout-ms']),
        maxBufferedPerDirection: intOption('max-buffered-bytes', v['max-buffered-bytes']),
      },
    },
  };
}

export class HelpRequested extends Error {}

// Engine option -> the flag that sets it, so errors name what the user typed.
const FLAG_FOR_OPTION: Record<string, string> = {
  maxFlows: '--max-flows',
  idleTimeoutMs: '--idle-timeout-ms',
  maxBufferedPerDirection: '--max-buffered-bytes',
};

/** Keeps the fields the flags ask for, in the reference tool's order. */
export function presentRecord(r: FlowRecord, raw: boolean, original: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    stream: r.stream,
    transport: r.transport,
    src: r.src,
    dst: r.dst,
    src_port: r.src_port,
    dst_port: r.dst_port,
  };
  const put = (k: string, v: unknown) => {
    if (v !== undefined) out[k] = v;
  };
  put('tls_server_name', r.tls_server_name);
  if (original) {
    put('ja4_o', r.ja4_o);
    if (raw) put('ja4_ro', r.ja4_ro);
  } else {
    put('ja4', r.ja4);
    if (raw) put('ja4_r', r.ja4_r);
  }
  put('ja4s', r.ja4s);
  if (raw) put('ja4s_r', r.ja4s_r);
  put('ja3', r.ja3);
  if (raw) put('ja3_r', r.ja3_r);
  put('ja3s', r.ja3s);
  if (raw) put('ja3s_r', r.ja3s_r);
  put('ja4t', r.ja4t);
  put('ja4ts', r.ja4ts);
  put('ja4l_c', r.ja4l_c);
  put('ja4l_s', r.ja4l_s);
  if (r.http) {
    out.http = r.http.map((h) => {
      const o: Record<string, unknown> = original ? { ja4h_o: h.ja4h_o } : { ja4h: h.ja4h };
      if (raw) o[original ? 'ja4h_ro' : 'ja4h_r'] = original ? h.ja4h_ro : h.ja4h_r;
      o.method = h.method;
      o.path = h.path;
      if (h.host !== undefined) o.host = h.host;
      if (h.user_agent !== undefined) o.user_agent = h.user_agent;
      return o;
    });
  }
  if (r.tls_certs) {
    out.tls_certs = r.tls_certs.map((c) => ({
      x509: c.x509.map(({ ja4x_r, ...rest }) => (raw ? { ...rest, ja4x_r } : rest)),
    }));
  }
  put('ja4ssh', r.ja4ssh);
  put('ssh_extras', r.ssh_extras);
  return out;
}

function sortRecords(records: FlowRecord[]): FlowRecord[] {
  return records.sort((a, b) => (a.transport === b.transport ? a.stream - b.stream : a.transport < b.transport ? -1 : 1));
}

function tableRows(file: string | undefined, records: FlowRecord[], original: boolean): string[][] {
  return records.map((r) => {
    const row = [
      String(r.stream),
      r.transport,
      `${r.src}:${r.src_port}`,
      `${r.dst}:${r.dst_port}`,
      r.tls_server_name ?? '',
      (original ? r.ja4_o : r.ja4) ?? '',
      r.ja4s ?? '',
      r.ja4t ?? '',
      r.ja4l_c ?? '',
      (r.http ?? []).map((h) => (original ? h.ja4h_o : h.ja4h)).filter((v, i, a) => a.indexOf(v) === i).join(' '),
      (r.tls_certs ?? []).flatMap((c) => c.x509.map((x) => x.ja4x)).join(' '),
      (r.ja4ssh ?? []).join(' '),
    ];
    return file === undefined ? row : [file, ...row];
  });
}

const TABLE_HEADERS = ['STREAM', 'PROTO', 'CLIENT', 'SERVER', 'SNI', 'JA4', 'JA4S', 'JA4T', 'JA4L_C', 'JA4H', 'JA4X', 'JA4SSH'];

export async function runPcapCommand(argv: string[], io: CliIO): Promise<number> {
  let files: string[];
  let opts: PcapOptions;
  try {
    ({ files, opts } = parse(argv));
  } catch (err) {
    if (err instanceof HelpRequested) {
      io.out(PCAP_HELP);
      return 0;
    }
    throw err;
  }
  let exitCode = 0;
  const collected: Record<string, unknown>[] = [];
  const tableRowsAll: string[][] = [];
  for (const file of files) {
    let reader: PcapReader;
    try {
      // --jsonl: the engine writes the printed shape itself and its bytes go
      // out as they are (no parse and re-serialization per record).
      const shape = opts.format === 'jsonl' ? { reference: true, raw: opts.raw, original: opts.original } : {};
      reader = new PcapReader(file, opts.engine, shape);
    } catch (err) {
      if (err instanceof OptionError) throw new CliError(err.message.replace(/^options\.(\w+)/, (_, k: string) => FLAG_FOR_OPTION[k] ?? k));
      if (err instanceof CaptureError) {
        io.err(`ja4 pcap: ${file}: ${describe(err)}\n`);
        exitCode = 2;
        continue;
      }
      throw err;
    }
    const records: FlowRecord[] = [];
    try {
      if (opts.format === 'jsonl') {
        // With several files each line starts with its file, as in --json.
        const prefix = files.length > 1 ? `{"file":${JSON.stringify(file)},` : undefined;
        for await (const lines of reader.lineBatches()) {
          // A string on purpose: the Buffer holds native memory V8 does not
          // count, freed only when it is collected, and this allocation is
          // what keeps the collector running (docs/engine.md, Memory).
          const text = lines.toString('utf8');
          io.out(prefix === undefined ? text : text.replace(/^\{/gm, prefix));
        }
      } else {
        for await (const batch of reader) records.push(...batch);
      }
    } catch (err) {
      if (!(err instanceof CaptureError)) throw err;
      io.err(`ja4 pcap: ${file}: ${describe(err)}\n`);
      exitCode = 2;
    }
    if (opts.stats) io.err(`ja4 pcap: ${file}: ${JSON.stringify(reader.stats())}\n`);
    reader.close();
    sortRecords(records);
    if (opts.format === 'json') {
      for (const r of records) collected.push(withFile(presentRecord(r, opts.raw, opts.original), file, files.length));
    } else if (opts.format === 'table') {
      tableRowsAll.push(...tableRows(files.length > 1 ? basename(file) : undefined, records, opts.original));
    }
  }
  if (opts.format === 'json') io.out(JSON.stringify(collected, null, 1) + '\n');
  if (opts.format === 'table') {
    const headers = files.length > 1 ? ['FILE', ...TABLE_HEADERS] : TABLE_HEADERS;
    io.out(formatTable(headers, tableRowsAll));
  }
  return exitCode;
}

function withFile(rec: Record<string, unknown>, file: string, nfiles: number): Record<string, unknown> {
  return nfiles > 1 ? { file, ...rec } : rec;
}

function describe(err: CaptureError): string {
  switch (err.code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
      return 'permission denied';
    case 'EFORMAT':
      return err.message;
    case 'ETRUNCATED':
      return `truncated capture: ${err.message}`;
    case 'ELINKTYPE':
      return err.message;
    default:
      return `${err.code}: ${err.message}`;
  }
}
