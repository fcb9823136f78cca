// Many Native blocks made one: what the batcher does to the correlator's
// blocks before an insert (why, and the format: native/core/native_block_merge.h).
// The merge is native: in JavaScript it cost the main thread ~4.7 us per
// row with the small blocks of light traffic (about 0.5 s of its samples
// in a CPU profile of bench:correlator's 200k requests); in C++ it is a
// copy of each column's runs, 1.4 us per row on the same blocks. Thread:
// the main thread (the batcher).
//
// The blocks are ours (native-columns.ts, native/core/request_blocks.cc).
// Bodies the native merge does not take (blocks whose columns differ, a
// type it does not read, a malformed block) go as they are: a stream of
// blocks is valid Native.
import { loadAddon } from '../native/addon.js';

/**
 * The bodies' rows as one Native block (the same rows, in order). Bodies
 * that are not all blocks of the same columns come back concatenated; a
 * single body of one block comes back as it is.
 */
export function mergeNativeBlocks(bodies: readonly Buffer[]): Buffer {
  const merged = loadAddon().mergeNativeBlocks(bodies);
  if (merged !== null) return merged;
  return bodies.length === 1 ? bodies[0]! : Buffer.concat(bodies);
}
