// `ja4 demo`: the README's main job for now -- fingerprint the sample
// captures bundled in samples/ (and the FoxIO conformance captures when the
// shared folder is next to the checkout) and print the table.
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CliIO } from './output.js';
import { runPcapCommand } from './pcap-command.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function sampleCaptures(): string[] {
  const dirs = [join(root, 'samples'), join(root, '..', 'shared', 'conformance', 'foxio-ja4', 'pcap')];
  const files: string[] = [];
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (/\.(pcap|pcapng)$/.test(name)) files.push(join(dir, name));
    }
  }
  return files;
}

const DEMO_USAGE = `Usage: ja4 demo [pcap options]

Fingerprints the sample captures bundled in samples/ (and FoxIO's
conformance captures when ../shared/ is next to the checkout) and prints the
table: \`ja4 pcap\` over those files. Its options (--jsonl, --stats, ...)
apply: see \`ja4 pcap --help\`.
`;

export async function runDemoCommand(argv: string[], io: CliIO): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.out(DEMO_USAGE);
    return 0;
  }
  const files = sampleCaptures();
  if (files.length === 0) {
    io.err('ja4 demo: no sample captures found in samples/\n');
    return 1;
  }
  return runPcapCommand([...files, ...argv], io);
}
