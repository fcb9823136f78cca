// The commented default configuration (packaging/config/config.yaml, printed
// by `ja4 config template`) and the option table of docs/configuration.md,
// both rendered from schema.ts so that every option is documented in both;
// test/config-load.test.ts compares the committed files with these.
import { describeKind, envName, OPTIONS, SECTIONS, type OptionSpec } from './schema.js';

const SECTION_DOC: Record<(typeof SECTIONS)[number], string> = {
  capture: 'Live capture of TLS/TCP/QUIC handshakes (ja4 capture, ja4-capture, ja4 run)',
  sockets: 'UNIX sockets the events arrive on (mod_reqin_log, ja4-capture, sensors)',
  correlator: 'Joining each request with the fingerprints of its connection',
  storage: 'ClickHouse: the embedded engine (one process) or a server or cluster',
  detector: 'Bot scoring',
  dashboard: 'Web UI, JSON API and WebSocket',
  logging: 'Service logs (stderr, kept by the journal)',
  metrics: 'Prometheus /metrics, one port per service',
};

function yamlValue(o: OptionSpec): string {
  const v = o.default;
  if (typeof v !== 'string') return String(v);
  return o.kind.type === 'mode' || v === '' || /[:#{}[\],&*?|<>=!%@`'"]|^\s|\s$/.test(v) ? JSON.stringify(v) : v;
}

export function renderConfigTemplate(): string {
  const out: string[] = [
    '# /etc/ja4/config.yaml: the ja4-platform configuration.',
    '#',
    '# Every option is listed below, commented out, with its default: uncomment',
    '# a line to change it. An environment variable JA4_<SECTION>_<KEY> (shown',
    '# for each option; /etc/ja4/ja4.env for the services) overrides this file,',
    '# and command-line flags override both. Validate after editing:',
    '#   ja4 config check /etc/ja4/config.yaml',
    '# Reference: /usr/share/doc/ja4-platform/docs/configuration.md',
  ];
  for (const section of SECTIONS) {
    out.push('', `# ${SECTION_DOC[section]}.`, `${section}:`);
    let group = '';
    for (const o of OPTIONS.filter((x) => x.path.startsWith(`${section}.`))) {
      const parts = o.path.split('.').slice(1);
      const indent = '  '.repeat(parts.length);
      if (parts.length === 2 && parts[0] !== group) {
        group = parts[0]!;
        out.push(`  #${group}:`);
      }
      out.push(`${indent}# ${o.doc}.`, `${indent}# ${describeKind(o.kind)}; ${envName(o.path)}`, `${indent}#${parts[parts.length - 1]}: ${yamlValue(o)}`);
    }
  }
  return `${out.join('\n')}\n`;
}

/** The Markdown table of every option: path, default, environment variable, meaning. */
export function renderOptionTable(): string {
  const rows = ['| option | default | environment | value | meaning |', '|---|---|---|---|---|'];
  for (const o of OPTIONS) {
    const def = o.default === '' ? '(empty)' : `\`${String(o.default)}\``;
    rows.push(`| \`${o.path}\` | ${def} | \`${envName(o.path)}\` | ${describeKind(o.kind).replace(/\|/g, '\\|')} | ${o.doc.replace(/\|/g, '\\|')} |`);
  }
  return `${rows.join('\n')}\n`;
}
