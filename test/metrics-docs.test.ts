// The operator documentation stays true to the code: the metric table of
// docs/operations.md is the catalogue (src/metrics/names.ts), docs/schemas.md
// names every field of the TLS event schema and every table, and the docs
// issue 9 asks for are all there.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderMetricTable } from '../src/metrics/metrics-table.js';
import { TABLES } from '../src/storage/index.js';
import { repoRoot } from './helpers/paths.js';

const doc = (name: string): string => readFileSync(join(repoRoot, 'docs', name), 'utf8');

t.test('docs/operations.md lists exactly the catalogue of metrics', async (t) => {
  t.ok(doc('operations.md').includes(renderMetricTable()), 'the table rendered from src/metrics/names.ts is in the document (regenerate it after changing names.ts)');
});

t.test('docs/schemas.md names every TLS event field and every table', async (t) => {
  const schemas = doc('schemas.md');
  const schema = JSON.parse(readFileSync(join(repoRoot, 'schema/tls-event.schema.json'), 'utf8'));
  const fields = new Set<string>();
  for (const def of ['flow', 'close']) for (const f of Object.keys(schema.$defs[def].properties)) fields.add(f);
  t.ok(fields.size > 30, 'the schema was read');
  for (const f of fields) t.match(schemas, `\`${f}\``, `field ${f}`);
  for (const table of Object.values(TABLES)) t.match(schemas, `\`${table}\``, `table ${table}`);
});

t.test('the documents of issue 9 are there', async (t) => {
  const arch = doc('architecture.md');
  for (const part of ['mod_reqin_log', 'ja4 capture', 'ja4 run', 'ja4 detector run', 'ja4 dashboard', 'ClickHouse', '/metrics']) t.match(arch, part, `the data flow shows ${part}`);
  const ops = doc('operations.md');
  for (const h of ['## Deployment, step by step', '### 1. One server, embedded database', '### 2. With a ClickHouse server', '### 3. A ClickHouse cluster', '## SELinux', '## Metrics and Grafana', '## Upgrades', '## Backups', '## Retention', '## Capacity per 10,000 requests/s', '## Troubleshooting', '## Licensing']) {
    t.ok(ops.includes(`\n${h}`), `operations.md: ${h}`);
  }
  t.match(ops, /JA4 \(TLS client fingerprinting\) is BSD-3-Clause/);
  t.match(ops, /FoxIO License\s+1\.1/);
  t.match(doc('configuration.md'), /\n## Options\n/);
});
