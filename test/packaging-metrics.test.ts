// Prometheus metrics: the exposition text (format 0.0.4) exactly, checked
// again by a parser of the format; the /metrics server over a real socket;
// bounded series; and the Grafana dashboard querying only the names the
// services export (src/metrics/names.ts).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTENT_TYPE, METRIC_NAMES, MetricsRegistry, registerProcessMetrics, startMetricsServer } from '../src/metrics/index.js';
import { repoRoot } from './helpers/paths.js';

interface Family {
  type: string;
  help: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

/** A strict reader of the text format: every sample after its family's HELP
 * and TYPE, names and labels well-formed, histogram buckets cumulative and
 * ending in +Inf equal to _count. Throws on anything else. */
function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  let current: string | undefined;
  if (!text.endsWith('\n')) throw new Error('the text must end with a newline');
  for (const line of text.slice(0, -1).split('\n')) {
    let m: RegExpExecArray | null;
    if ((m = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line))) {
      if (families.has(m[1]!)) throw new Error(`HELP of ${m[1]} twice`);
      families.set(m[1]!, { type: '', help: m[2]!.replace(/\\n/g, '\n').replace(/\\\\/g, '\\'), samples: [] });
      current = m[1]!;
    } else if ((m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      const fam = current === undefined ? undefined : families.get(current);
      if (m[1] !== current || !fam || fam.type) throw new Error(`TYPE of ${m[1]} not right after its HELP`);
      fam.type = m[2]!;
    } else if ((m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line))) {
      const [, name, , labelText, valueText] = m;
      const fam = current === undefined ? undefined : families.get(current);
      const suffixOk = fam?.type === 'histogram' ? [`${current}_bucket`, `${current}_sum`, `${current}_count`].includes(name!) : name === current;
      if (!fam || !suffixOk) throw new Error(`sample ${name} outside its family (${current})`);
      const labels: Record<string, string> = {};
      if (labelText) {
        const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\[\\"n])*)"(,|$)/gy;
        let pos = 0;
        let lm: RegExpExecArray | null;
        while (pos < labelText.length && (lm = re.exec(labelText))) {
          labels[lm[1]!] = lm[2]!.replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
          pos = re.lastIndex;
        }
        if (pos !== labelText.length) throw new Error(`bad labels: {${labelText}}`);
      }
      const value = valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : Number(valueText);
      if (Number.isNaN(value) && valueText !== 'NaN') throw new Error(`bad value ${valueText}`);
      fam.samples.push({ name: name!, labels, value });
    } else {
      throw new Error(`unexpected line: ${JSON.stringify(line)}`);
    }
  }
  for (const [name, fam] of families) {
    if (fam.type !== 'histogram') continue;
    const series = new Map<string, { le: number[]; counts: number[]; count?: number }>();
    for (const s of fam.samples) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      if (!series.has(key)) series.set(key, { le: [], counts: [] });
      const e = series.get(key)!;
      if (s.name.endsWith('_bucket')) {
        e.le.push(le === '+Inf' ? Infinity : Number(le));
        e.counts.push(s.value);
      } else if (s.name.endsWith('_count')) e.count = s.value;
    }
    for (const e of series.values()) {
      if (e.le[e.le.length - 1] !== Infinity) throw new Error(`${name}: no +Inf bucket`);
      for (let i = 1; i < e.le.length; i++) if (!(e.le[i]! > e.le[i - 1]!) || e.counts[i]! < e.counts[i - 1]!) throw new Error(`${name}: buckets not cumulative`);
      if (e.counts[e.counts.length - 1] !== e.count) throw new Error(`${name}: +Inf bucket differs from _count`);
    }
  }
  return families;
}

t.test('the exposition text, exactly', async (t) => {
  const r = new MetricsRegistry();
  const requests = r.counter({ name: 'ja4_correlator_requests_total', help: 'Requests written, by correlation_status.', labelNames: ['status'] });
  const spool = r.gauge({ name: 'ja4_spool_bytes', help: 'Bytes waiting in the spool.' });
  const conns = r.gauge({ name: 'ja4_correlator_connections', help: 'Connections held.', collect: () => 42 });
  const delay = r.histogram({ name: 'ja4_correlator_delay_seconds', help: 'Request to row.', buckets: [0.1, 1, 5] });
  const odd = r.counter({ name: 'odd_total', help: 'Help with a \\ backslash\nand a newline.', labelNames: ['path'] });
  requests.inc({ status: 'matched' }, 3);
  requests.inc({ status: 'no_tls' });
  requests.inc({ status: 'matched' });
  spool.set(1024);
  spool.dec(24);
  for (const v of [0.05, 0.1, 0.7, 3, 60]) delay.observe(v);
  odd.inc({ path: 'a"b\\c\nd' });
  t.equal(requests.get({ status: 'matched' }), 4);
  t.equal(conns.get(), 0, 'collected at scrape time only');
  const text = r.render();
  t.equal(
    text,
    `# HELP ja4_correlator_requests_total Requests written, by correlation_status.
# TYPE ja4_correlator_requests_total counter
ja4_correlator_requests_total{status="matched"} 4
ja4_correlator_requests_total{status="no_tls"} 1
# HELP ja4_spool_bytes Bytes waiting in the spool.
# TYPE ja4_spool_bytes gauge
ja4_spool_bytes 1000
# HELP ja4_correlator_connections Connections held.
# TYPE ja4_correlator_connections gauge
ja4_correlator_connections 42
# HELP ja4_correlator_delay_seconds Request to row.
# TYPE ja4_correlator_delay_seconds histogram
ja4_correlator_delay_seconds_bucket{le="0.1"} 2
ja4_correlator_delay_seconds_bucket{le="1"} 3
ja4_correlator_delay_seconds_bucket{le="5"} 4
ja4_correlator_delay_seconds_bucket{le="+Inf"} 5
ja4_correlator_delay_seconds_sum 63.85
ja4_correlator_delay_seconds_count 5
# HELP odd_total Help with a \\\\ backslash\\nand a newline.
# TYPE odd_total counter
odd_total{path="a\\"b\\\\c\\nd"} 1
# HELP ja4_metrics_dropped_series_total Label sets not recorded because a metric reached its series limit.
# TYPE ja4_metrics_dropped_series_total counter
ja4_metrics_dropped_series_total 0
# HELP ja4_metrics_collect_errors_total Collect callbacks that threw during a scrape.
# TYPE ja4_metrics_collect_errors_total counter
ja4_metrics_collect_errors_total 0
`,
  );
  const parsed = parseExposition(text);
  t.same(parsed.get('odd_total')!.samples[0]!.labels, { path: 'a"b\\c\nd' }, 'label escaping round-trips');
  t.equal(parsed.get('odd_total')!.help, 'Help with a \\ backslash\nand a newline.');
  t.same(parsed.get('ja4_correlator_delay_seconds')!.samples.map((s) => s.value), [2, 3, 4, 5, 63.85, 5]);
});

t.test('an empty histogram and unlabelled metrics render zeros', async (t) => {
  const r = new MetricsRegistry();
  r.histogram({ name: 'h_seconds', help: 'h.', buckets: [1] });
  r.counter({ name: 'c_total', help: 'c.' });
  t.equal(r.render().split('\n').slice(0, 8).join('\n'), '# HELP h_seconds h.\n# TYPE h_seconds histogram\nh_seconds_bucket{le="1"} 0\nh_seconds_bucket{le="+Inf"} 0\nh_seconds_sum 0\nh_seconds_count 0\n# HELP c_total c.\n# TYPE c_total counter');
  parseExposition(r.render());
});

t.test('bounded series, failing collectors, misuse', async (t) => {
  const r = new MetricsRegistry();
  const c = r.counter({ name: 'by_ip_total', help: 'x.', labelNames: ['ip'], maxSeries: 3 });
  for (let i = 0; i < 10; i++) c.inc({ ip: `10.0.0.${i}` });
  r.gauge({ name: 'broken', help: 'x.', collect: () => {
    throw new Error('boom');
  } });
  const f = parseExposition(r.render());
  t.equal(f.get('by_ip_total')!.samples.length, 3, 'only maxSeries label sets kept');
  t.equal(f.get('ja4_metrics_dropped_series_total')!.samples[0]!.value, 7);
  t.equal(f.get('ja4_metrics_collect_errors_total')!.samples[0]!.value, 1);
  t.throws(() => r.counter({ name: '1bad', help: 'x' }), { message: 'metric name must match [a-zA-Z_:][a-zA-Z0-9_:]*, got "1bad"' });
  t.throws(() => r.counter({ name: 'ok_total', help: 'x', labelNames: ['__x'] }), { message: /label name must match/ });
  t.throws(() => r.histogram({ name: 'h', help: 'x', labelNames: ['le'] }), { message: 'metric h: label name "le" is reserved' });
  t.throws(() => r.counter({ name: 'by_ip_total', help: 'x' }), { message: 'metric by_ip_total is already registered' });
  t.throws(() => r.histogram({ name: 'h2', help: 'x', buckets: [1, 1] }), { message: /buckets must be finite and increasing/ });
  t.throws(() => c.inc({ ip: '1' }, -1), { message: 'counter by_ip_total: increment must be a finite number >= 0, got -1' });
  t.throws(() => c.inc({ host: 'x' } as never), { message: 'metric by_ip_total: label "ip" is missing' });
  t.throws(() => c.inc({ ip: 'x', host: 'y' }), { message: 'metric by_ip_total: unknown label "host"' });
});

t.test('the /metrics server on a real socket', async (t) => {
  const r = new MetricsRegistry();
  const stop = registerProcessMetrics(r, { service: 'ja4-test', version: '0.1.0' });
  r.counter({ name: 'ja4_writer_rows_total', help: 'Rows inserted, by table.', labelNames: ['table'] }).inc({ table: 'http_logs' }, 5);
  const server = await startMetricsServer({ registry: r, port: 0 });
  t.teardown(async () => {
    stop();
    await server.close();
  });
  t.equal(server.url, `http://127.0.0.1:${server.port}/metrics`);
  const res = await fetch(server.url);
  t.equal(res.status, 200);
  t.equal(res.headers.get('content-type'), CONTENT_TYPE);
  const body = await res.text();
  t.equal(Number(res.headers.get('content-length')), Buffer.byteLength(body));
  const f = parseExposition(body);
  t.same(f.get('ja4_writer_rows_total')!.samples, [{ name: 'ja4_writer_rows_total', labels: { table: 'http_logs' }, value: 5 }]);
  t.same(f.get('ja4_build_info')!.samples[0]!.labels, { service: 'ja4-test', version: '0.1.0', node: process.version });
  t.ok(f.get('process_resident_memory_bytes')!.samples[0]!.value > 1e6, 'rss measured');
  t.ok(f.get('process_open_fds')!.samples[0]!.value > 2, 'open fds counted');
  t.ok(f.get('process_cpu_seconds_total')!.samples[0]!.value > 0);
  const sinceEpoch = f.get('process_start_time_seconds')!.samples[0]!.value;
  t.ok(Math.abs(sinceEpoch - (Date.now() / 1000 - process.uptime())) < 2, 'start time');
  for (const m of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds', 'nodejs_heap_used_bytes', 'nodejs_eventloop_delay_p99_seconds', 'ja4_build_info']) {
    t.equal(f.get(m)!.type, METRIC_NAMES.find((n) => n.name === m)!.type, `${m} has the catalogue's type`);
  }
  const head = await fetch(server.url, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(await head.text(), '');
  const other = await fetch(`http://127.0.0.1:${server.port}/`);
  t.equal(other.status, 404);
  t.equal(await other.text(), 'not found: the metrics are at /metrics\n');
  const post = await fetch(server.url, { method: 'POST', body: 'x' });
  t.equal(post.status, 405);
  t.equal(post.headers.get('allow'), 'GET, HEAD');
  await t.rejects(startMetricsServer({ registry: r, port: server.port }), { code: 'EADDRINUSE' }, 'a taken port is an error, not a silent no-op');
  await t.rejects(startMetricsServer({ registry: r, port: 70000 }), { message: 'metrics port must be an integer from 0 to 65535, got 70000' });
});

t.test('the catalogue registers cleanly and the Grafana dashboard queries exactly it', async (t) => {
  const r = new MetricsRegistry();
  for (const m of METRIC_NAMES) {
    const opts = { name: m.name, help: m.help, labelNames: m.labels };
    if (m.type === 'counter') r.counter(opts);
    else if (m.type === 'gauge') r.gauge(opts);
    else r.histogram(opts);
    if (m.type === 'counter') t.match(m.name, /_total$/, `counter ${m.name} ends in _total`);
  }
  parseExposition(r.render());
  const dashboard = JSON.parse(readFileSync(join(repoRoot, 'packaging/grafana/ja4-platform.json'), 'utf8'));
  t.equal(dashboard.uid, 'ja4-platform');
  const exprs: string[] = [];
  const ids = new Set<number>();
  for (const p of dashboard.panels) {
    t.notOk(ids.has(p.id), `panel id ${p.id} is unique`);
    ids.add(p.id);
    for (const target of p.targets ?? []) exprs.push(target.expr);
  }
  for (const v of dashboard.templating.list) if (v.query?.query) exprs.push(v.query.query);
  const known = new Set(METRIC_NAMES.map((m) => m.name));
  const used = new Set<string>();
  const promqlWords = new Set(['sum', 'by', 'rate', 'increase', 'histogram_quantile', 'max', 'time', 'le', 'job', 'instance', 'label_values', 'status', 'matched']);
  for (const e of exprs) {
    // the words left are metric names and the catalogue's label names (in `by (...)`)
    const labelNames = new Set(METRIC_NAMES.flatMap((m) => m.labels));
    const names = (e.replace(/"[^"]*"/g, '""').replace(/\{[^}]*\}/g, '{}').replace(/\[[^\]]*\]/g, '').match(/[a-zA-Z_:][a-zA-Z0-9_:]*/g) ?? []).filter((w) => !promqlWords.has(w) && !labelNames.has(w));
    for (const n of names) {
      const base = n.replace(/_(bucket|sum|count)$/, '');
      t.ok(known.has(n) || known.has(base), `"${n}" in ${e} is a catalogue metric`);
      used.add(known.has(n) ? n : base);
    }
  }
  t.same([...known].filter((n) => !used.has(n)), [], 'every catalogue metric has a panel');
});
