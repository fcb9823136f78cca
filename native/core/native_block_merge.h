// Many Native blocks made one: what the batcher does to the correlator's
// blocks before an insert (src/correlator/native-merge.ts calls it). A
// worker emits one block per correlation step, and a step holds whatever
// arrived since the last one (a few rows when traffic is light); the engine
// pays ~10 us per column and block whatever its size (it parses the type
// names, builds the columns: ~360 us per http_logs_ingest block, 17-26 us
// per row in blocks of 20 rows against 1 us in one block of 50k), so an
// insert of many small blocks loses what Native saves. Merging them in
// JavaScript cost the main thread ~4.7 us per row with blocks of ~20 rows
// (38 columns read per block, a copy per column and block): more than the
// correlation step's parse of a record.
//
// Native format (https://clickhouse.com/docs/interfaces/formats/Native): a
// block is the column count and the row count (LEB128), then per column its
// name, its type and its data for all rows; Array(T) is the UInt64
// cumulative end offsets of the rows, then all elements as one T column;
// Map(K, V) is Array(Tuple(K, V)): the offsets, all keys, all values.
//
// The blocks are ours (src/correlator/native-columns.ts,
// request_blocks.cc): the column types they hold are the only ones read.
#pragma once

#include <cstddef>
#include <memory>
#include <string_view>
#include <vector>

#include "buffer_pool.h"

namespace ja4::nativeblock {

// A merged block: its bytes, not zero-filled first (tens of MB per insert:
// std::string's resize wrote every byte twice), in a buffer of `capacity`.
struct Merged {
  std::unique_ptr<char[]> data;
  size_t size = 0;
  size_t capacity = 0;
};

// The rows of every block of `bodies` (each body one or more blocks, back
// to back), in order, as one block. False, with `out` untouched, when there
// is nothing to merge (fewer than two blocks) or the bodies cannot be
// merged (a truncated or malformed block, a type not listed above, blocks
// whose columns differ): the caller sends them as they are, which is valid
// Native too.
// The merged bytes go into a buffer of `pool` when one is given (a kept
// buffer's pages are already mapped: buffer_pool.h), else a new one.
bool merge(const std::vector<std::string_view>& bodies, Merged& out, BufferPool* pool = nullptr);

}  // namespace ja4::nativeblock
