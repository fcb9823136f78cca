// Runs in a worker thread: tries to open the embedded database and reports
// the error code it gets (the storage layer must refuse).
import { parentPort, workerData } from 'node:worker_threads';
import { openStorage, validateStorageOptions } from '../../src/storage/index.js';

try {
  const s = await openStorage(validateStorageOptions({ dataDir: (workerData as { dir: string }).dir }));
  await s.close();
  parentPort!.postMessage('opened');
} catch (err) {
  parentPort!.postMessage((err as { code?: string }).code ?? String(err));
}
