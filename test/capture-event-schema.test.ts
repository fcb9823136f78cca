// The TLS event contract: the TypeScript type (src/capture/tls-event.ts),
// the JSON Schema (schema/tls-event.schema.json) and the real engine output
// agree. Real events come from replaying every sample and conformance
// capture through the native capture thread (the same code path as live
// capture); each must validate, and its fingerprints must equal what
// `ja4 pcap` computes for the same file. The checker itself is shown to
// reject broken events, so these assertions can fail.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { readPcap } from '../src/capture/pcap-reader.js';
import { openReplay } from '../src/capture/replay.js';
import { checkTlsEvent, loadTlsEventSchema, TLS_EVENT_SCHEMA_PATH } from '../src/capture/tls-event-schema.js';
import type { FlowRecord } from '../src/capture/flow-record.js';
import { compileSchema } from '../src/capture/json-schema.js';
import { conformanceDir, hasConformance, repoRoot } from './helpers/paths.js';

const captures = [
  ...readdirSync(join(repoRoot, 'samples'))
    .filter((f) => /\.pcap(ng)?$/.test(f))
    .map((f) => join(repoRoot, 'samples', f)),
  ...(hasConformance
    ? readdirSync(join(conformanceDir, 'pcap'))
        .filter((f) => /\.pcap(ng)?$/.test(f))
        .map((f) => join(conformanceDir, 'pcap', f))
    : []),
];

async function replayEvents(file: string, sensor?: string): Promise<Record<string, unknown>[]> {
  const lines: string[] = [];
  const session = openReplay({ files: [file], max: true, ...(sensor ? { sensor } : {}) }, (b) => {
    lines.push(...b.data.toString('utf8').split('\n').filter((l) => l.length > 0));
  });
  await session.finished;
  await session.close();
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

t.test('real events from every capture validate, and match the offline engine', async (t) => {
  t.ok(captures.length >= 1, `${captures.length} captures`);
  let flows = 0;
  let closes = 0;
  for (const file of captures) {
    const events = await replayEvents(file, 'sensor-1');
    const offline = await readPcap(file);
    const name = file.slice(file.lastIndexOf('/') + 1);
    const invalid = events.map((e) => ({ e, errors: checkTlsEvent(e) })).filter((x) => x.errors.length > 0);
    t.same(invalid, [], `${name}: all ${events.length} events valid`);
    const flowEvents = events.filter((e) => e.event === 'flow');
    flows += flowEvents.length;
    closes += events.filter((e) => e.event === 'close').length;
    t.ok(events.every((e) => e.sensor === 'sensor-1'), `${name}: sensor on every event`);
    // Same fingerprints as `ja4 pcap`; timestamps are rebased to the replay
    // start by one constant offset, intervals kept.
    const strip = (r: Record<string, unknown>) => {
      const { event: _e, sensor: _s, first_ts_us: _f, last_ts_us: _l, ...rest } = r;
      return rest;
    };
    const byStream = (a: Record<string, unknown>, b: Record<string, unknown>) =>
      `${a.transport}${a.stream}`.localeCompare(`${b.transport}${b.stream}`);
    // A cleartext HTTP connection is reported at its first complete request
    // under close events (engine.cc, maybe_emit_early): its http list is the
    // start of `ja4 pcap`'s, its packet count, end and closed flag those of
    // that moment; every fingerprint is the same.
    const early = (r: Record<string, unknown>): boolean => Array.isArray(r.http) && r.http.length > 0 && r.ja4 === undefined && r.ja4ssh === undefined;
    const offlineOf = (e: Record<string, unknown>) => (offline as unknown as Record<string, unknown>[]).find((r) => r.stream === e.stream && r.transport === e.transport)!;
    const asAt = (o: Record<string, unknown>, e: Record<string, unknown>): Record<string, unknown> =>
      early(e) ? { ...o, packets: e.packets, closed: e.closed, http: (o.http as unknown[]).slice(0, (e.http as unknown[]).length) } : o;
    t.same(flowEvents.map(strip).sort(byStream), flowEvents.map((e) => strip(asAt(offlineOf(e), e))).sort(byStream), `${name}: fingerprints as ja4 pcap`);
    t.same(flowEvents.map((e) => `${e.transport}${e.stream}`).sort(), (offline as FlowRecord[]).map((r) => `${r.transport}${r.stream}`).sort(), `${name}: the same connections`);
    const offsets = new Set(
      flowEvents.map((e) => {
        const o = offlineOf(e) as unknown as FlowRecord;
        const duration = early(e) ? 0 : (e.last_ts_us as number) - (e.first_ts_us as number) - (o.last_ts_us - o.first_ts_us);
        return `${(e.first_ts_us as number) - o.first_ts_us}/${duration}`;
      }),
    );
    t.ok(offsets.size <= 1 && [...offsets].every((o) => o.endsWith('/0')), `${name}: one time offset, durations kept (but for HTTP reported early)`);
    // every close event follows the flow event of its connection
    for (const [i, c] of events.entries()) {
      if (c.event !== 'close') continue;
      const flowAt = events.findIndex((e) => e.event === 'flow' && e.stream === c.stream && e.transport === 'tcp');
      t.ok(flowAt >= 0 && flowAt < i, `${name}: close of stream ${c.stream} after its flow event`);
    }
  }
  t.ok(flows > 0, `${flows} flow events`);
  t.ok(closes > 0, `${closes} close events`);
});

t.test('the checker rejects events that break the contract', async (t) => {
  const close = {
    event: 'close', stream: 3, transport: 'tcp', src: '10.0.0.1', dst: '10.0.0.2', src_port: 40000, dst_port: 443,
    first_ts_us: 1, last_ts_us: 2, reason: 'fin',
  };
  t.same(checkTlsEvent(close), [], 'a valid close event');
  const flow = {
    event: 'flow', stream: 0, transport: 'tcp', src: '10.0.0.1', dst: '10.0.0.2', src_port: 40000, dst_port: 443,
    first_ts_us: 1, last_ts_us: 2, packets: 5, closed: false, ja4: 't13d1516h2_8daaf6152771_02713d6af862',
    ja3: '0149f47eabf9a20d0893e2a44e5a6323',
  };
  t.same(checkTlsEvent(flow), [], 'a valid flow event');
  const cases: [unknown, string][] = [
    [{ ...close, reason: 'timeout' }, 'must be one of ["fin","rst","idle","evicted"]'],
    [{ ...close, extra: 1 }, 'unexpected property "extra"'],
    [{ ...close, src_port: 70000 }, 'must be between 0 and 65535'],
    [{ ...flow, stream: undefined }, 'missing required property "stream"'],
    [{ ...flow, ja4: 'not-a-ja4' }, 'must match'],
    [{ ...flow, ja3: 'ABC' }, 'must match ^[0-9a-f]{32}$'],
    [{ ...flow, closed: 'no' }, 'must be boolean, got string'],
    [{ ...flow, packets: 1.5 }, 'must be integer, got number'],
    [{ ...flow, http: [{ ja4h: 'x' }] }, 'missing required property "method"'],
    [{ ...flow, event: 'close' }, ''],
    ['a string', 'must be object'],
  ];
  for (const [event, msg] of cases) {
    const errors = checkTlsEvent(JSON.parse(JSON.stringify(event)));
    t.ok(errors.length > 0 && errors.some((e) => e.message.includes(msg)), `rejected: ${msg || JSON.stringify(errors[0])}`);
  }
  t.throws(() => compileSchema({ type: 'string', format: 'ipv4' }), /schema keyword "format" at # is not supported/);
});

let program: ts.Program | undefined;

/** Properties of an exported interface: name -> optional. */
function interfaceProps(file: string, name: string): Map<string, boolean> {
  // One program for both files; no @types (the interfaces use none): fast.
  program ??= ts.createProgram([join(repoRoot, 'src/capture/tls-event.ts'), join(repoRoot, 'src/capture/flow-record.ts')], {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
    noLib: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const sf = program.getSourceFile(file)!;
  const sym = checker.getExportsOfModule(checker.getSymbolAtLocation(sf)!).find((s) => s.name === name)!;
  const type = checker.getDeclaredTypeOfSymbol(sym);
  const out = new Map<string, boolean>();
  for (const p of checker.getPropertiesOfType(type)) out.set(p.name, (p.flags & ts.SymbolFlags.Optional) !== 0);
  return out;
}

t.test('the TypeScript type and the JSON Schema describe the same objects', async (t) => {
  const schema = loadTlsEventSchema() as { $defs: Record<string, { properties: Record<string, unknown>; required: string[] }> };
  t.ok(TLS_EVENT_SCHEMA_PATH.endsWith('schema/tls-event.schema.json'));
  const pairs: [string, string, string][] = [
    ['src/capture/tls-event.ts', 'FlowEvent', 'flow'],
    ['src/capture/tls-event.ts', 'CloseEvent', 'close'],
    ['src/capture/flow-record.ts', 'HttpFingerprint', 'http'],
    ['src/capture/flow-record.ts', 'SshExtras', 'ssh_extras'],
  ];
  for (const [file, iface, def] of pairs) {
    const props = interfaceProps(join(repoRoot, file), iface);
    const d = schema.$defs[def]!;
    t.same([...props.keys()].sort(), Object.keys(d.properties).sort(), `${iface}: same properties as $defs/${def}`);
    t.same(
      [...props].filter(([, optional]) => !optional).map(([k]) => k).sort(),
      [...d.required].sort(),
      `${iface}: required = non-optional`,
    );
  }
});
