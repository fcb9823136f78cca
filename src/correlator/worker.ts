// Piscina worker (one per shard): owns one BatchCorrelator, so all the
// events of a connection, routed here by the key hash, meet the same state.
// Thread: a worker thread; it never opens the database (src/storage
// refuses it): it returns the encoded rows to the main thread, which writes.
// Buffers come in and go out transferred (ArrayBuffer move), never copied.
import { threadId } from 'node:worker_threads';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { BatchCorrelator, RestartingCorrelator, type BatchCorrelatorOptions } from './batch-correlator.js';
import { packResult, type WorkerMessage, type WorkerTask } from './worker-protocol.js';

// bodies that are views of the encoder's buffers are copied out at once (packResult): no copy per batch before that
const state = new RestartingCorrelator(() => new BatchCorrelator({ ...((workerData ?? {}) as BatchCorrelatorOptions), reuseBuffers: true }));

export default function correlate(task: WorkerTask): WorkerMessage {
  const view = (b: ArrayBuffer | undefined): Buffer | undefined => (b === undefined ? undefined : Buffer.from(b));
  const { message, transfer } = state.run((c) => {
    const rows = task.op === 'flush' ? c.flush() : c.process(view(task.http), view(task.tls), task.nowUs);
    return packResult(rows, state.stats(), threadId);
  });
  // piscina moves the ArrayBuffers listed under transferableSymbol and posts valueSymbol's value
  return move({ [transferableSymbol]: transfer, [valueSymbol]: message }) as unknown as WorkerMessage;
}
