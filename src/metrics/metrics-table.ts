// The metric table of docs/operations.md, rendered from the catalogue
// (names.ts) so that the documentation lists exactly what the services
// export; test/metrics-docs.test.ts compares the committed document with it.
import { METRIC_NAMES, type MetricName } from './names.js';

const EXPORTED_BY: Readonly<Record<MetricName['service'], string>> = {
  all: 'every service',
  capture: '`ja4 capture`, `ja4 run --iface`',
  correlator: '`ja4 run`',
  detector: '`ja4 detector run`, `ja4 run`',
  dashboard: '`ja4 dashboard`, `ja4 run`',
};

export function renderMetricTable(): string {
  const rows = ['| metric | type | labels | served by | meaning |', '|---|---|---|---|---|'];
  for (const m of METRIC_NAMES) {
    rows.push(`| \`${m.name}\` | ${m.type} | ${m.labels.map((l) => `\`${l}\``).join(', ')} | ${EXPORTED_BY[m.service]} | ${m.help.replace(/\|/g, '\\|')} |`);
  }
  return `${rows.join('\n')}\n`;
}
