// A bench's own embedded database: emptied, migrated, with the shipped
// reference data (dictionaries, crawler rules), as `ja4 run` starts on a
// fresh machine.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { openStorage, validateStorageOptions, migrate, loadReferenceData, DEFAULT_REFERENCE_DIR } from '../../dist/storage/index.js';

export async function openFreshStorage(dbDir) {
  refuseForeign(dbDir);
  rmSync(dbDir, { recursive: true, force: true });
  mkdirSync(dirname(dbDir), { recursive: true });
  const storage = await openStorage(validateStorageOptions({ dataDir: dbDir }));
  try {
    await migrate(storage);
    await loadReferenceData(storage, DEFAULT_REFERENCE_DIR);
  } catch (err) {
    await storage.close();
    throw err;
  }
  return storage;
}

/**
 * The benches wipe their database directory (`--db-dir`): one that holds
 * something else than an embedded database (`--db-dir /dev/shm`) is
 * refused, not emptied.
 */
function refuseForeign(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return; // absent: nothing to lose
  }
  if (entries.length > 0 && !entries.includes('metadata')) {
    throw new Error(`${dir}: not empty and not an embedded database directory (no metadata/): refusing to wipe it; give a new directory`);
  }
}

/**
 * The filesystem under `dir` (existing), for the benches' headers: the
 * engine creates ~155 files per insert (a part per table), and on ext4
 * without a journal every new inode skips the ones deleted in the last
 * minutes (the kernel's recently_deleted()), which cost 100-200 ms of
 * system CPU per insert on the development VM (docs/correlator.md).
 */
export function filesystemOf(dir) {
  try {
    const [type, source] = execFileSync('findmnt', ['-n', '-o', 'FSTYPE,SOURCE', '-T', dir], { encoding: 'utf8' }).trim().split(/\s+/);
    if (type === 'ext4' && source) {
      // an LVM or mapper source is dm-N there: then the journal is not told
      let journal = '';
      try {
        journal = readFileSync(`/sys/fs/ext4/${basename(source)}/journal_task`, 'utf8').trim();
      } catch {
        // not found under that name
      }
      if (journal === '<none>') return 'ext4 without a journal';
    }
    return type || 'an unknown filesystem';
  } catch {
    return 'an unknown filesystem';
  }
}
