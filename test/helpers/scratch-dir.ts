// Temporary folders for tests, removed when the test ends.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The subset of tap's Test these helpers use. */
export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** A fresh folder under the OS temp dir, removed when the test ends. */
export function scratchDir(t: Teardown, prefix = 'ja4-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
