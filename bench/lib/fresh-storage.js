// A bench's own embedded database: emptied, migrated, with the shipped
// reference data (dictionaries, crawler rules), as `ja4 run` starts on a
// fresh machine.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { openStorage, validateStorageOptions, migrate, loadReferenceData, DEFAULT_REFERENCE_DIR } from '../../dist/storage/index.js';

export async function openFreshStorage(dbDir) {
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
