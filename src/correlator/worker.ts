// Piscina worker (one per shard): owns one BatchCorrelator, so all the
// events of a connection, routed here by the key hash, meet the same state.
// Thread: a worker thread; it never opens the database (src/storage
// refuses it): it returns the encoded rows to the main thread, which writes.
// Buffers come in and go out transferred (ArrayBuffer move), never copied.
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { BatchCorrelator, type BatchCorrelatorOptions } from './batch-correlator.js';
import { packResult, type WorkerMessage, type WorkerTask } from './worker-protocol.js';

// bodies that are views of the encoder's buffers are copied out at once (packResult): no copy per batch before that
const fresh = (): BatchCorrelator => new BatchCorrelator({ ...((workerData ?? {}) as BatchCorrelatorOptions), reuseBuffers: true });
let state = fresh();

export default function correlate(task: WorkerTask): WorkerMessage {
  const view = (b: ArrayBuffer | undefined): Buffer | undefined => (b === undefined ? undefined : Buffer.from(b));
  try {
    const rows = task.op === 'flush' ? state.flush() : state.process(view(task.http), view(task.tls), task.nowUs);
    const { message, transfer } = packResult(rows, state.stats());
    // piscina moves the ArrayBuffers listed under transferableSymbol and posts valueSymbol's value
    return move({ [transferableSymbol]: transfer, [valueSymbol]: message }) as unknown as WorkerMessage;
  } catch (err) {
    // A bug, not bad input (that is counted and skipped line by line): the
    // encoder may hold half a row, which would corrupt every later block.
    // Start over; the connections this shard knew are forgotten (their later
    // requests become tls_not_seen), and the caller counts the failed step.
    state = fresh();
    throw err;
  }
}
