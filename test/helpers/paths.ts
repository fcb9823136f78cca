// Locations shared by the test suites.
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** ../shared next to the checkout (CI has it too). */
export const sharedDir = resolve(repoRoot, '..', 'shared');
export const conformanceDir = join(sharedDir, 'conformance', 'foxio-ja4');
export const hasConformance = existsSync(join(conformanceDir, 'pcap'));
export const fixturesDir = join(repoRoot, 'test', 'fixtures');
