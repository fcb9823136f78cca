// Large byte buffers kept for their next use, by the thread that owns the
// pool. What it is for: the batcher's merged insert body
// (native_block_merge.h) is tens of MB at full rate (~70 MB a second at
// 100k requests/s), above glibc's largest mmap threshold (32 MB), so each
// new one was fresh pages from the kernel, zeroed on first touch and
// unmapped when freed: merging 69 MiB took 36-230 ms of system CPU against
// 9-27 ms of user CPU for the copy itself (docs/correlator.md, session 15).
// A kept buffer is written again in place, its pages already there.
//
// mallopt(3), M_MMAP_THRESHOLD: "the upper limit is
// DEFAULT_MMAP_THRESHOLD_MAX: 512*1024 on 32-bit systems or
// 4*1024*1024*sizeof(long) on 64-bit systems" (32 MiB): larger allocations
// are always their own mapping, returned to the kernel when freed.
//
// Bounded: at most `max_buffers` are kept, `max_bytes` in all, and a kept
// buffer more than kOversize times what is asked for is freed rather than
// used, so the buffers of a burst do not stay once batches are small again.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

namespace ja4 {

struct PooledBuffer {
  std::unique_ptr<char[]> data;
  size_t capacity = 0;
};

class BufferPool {
 public:
  // a kept buffer larger than this many times the request is freed, not used
  static constexpr size_t kOversize = 4;
  // new buffers get this much more than asked (1/8), so that the next,
  // slightly larger batch still fits, and at least kMinBytes
  static constexpr size_t kMinBytes = 64 << 10;

  BufferPool(size_t max_buffers, size_t max_bytes) : max_buffers_(max_buffers), max_bytes_(max_bytes) {}

  // A buffer of at least `size` bytes, not initialized: the smallest kept
  // one that fits and is not oversized, else a new one.
  PooledBuffer take(size_t size) {
    // what a new buffer for it would hold at least: a kMinBytes one is never oversized
    const size_t least = size < kMinBytes ? kMinBytes : size;
    for (size_t i = free_.size(); i-- > 0;) {
      if (free_[i].capacity / kOversize > least) {  // a burst is over: freed
        bytes_ -= free_[i].capacity;
        free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(i));
      }
    }
    size_t best = free_.size();
    for (size_t i = 0; i < free_.size(); ++i) {
      if (free_[i].capacity >= size && (best == free_.size() || free_[i].capacity < free_[best].capacity)) best = i;
    }
    if (best < free_.size()) {
      PooledBuffer b = std::move(free_[best]);
      free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(best));
      bytes_ -= b.capacity;
      return b;
    }
    size_t cap = size + size / 8;
    if (cap < kMinBytes) cap = kMinBytes;
    return PooledBuffer{std::unique_ptr<char[]>(new char[cap]), cap};
  }

  // A buffer no longer used: kept, or freed when the pool is full. When it
  // is, a larger buffer takes the place of the smallest kept one (the
  // larger fits more of the batches to come).
  void give(PooledBuffer b) {
    if (!b.data || b.capacity > max_bytes_) return;
    if (free_.size() >= max_buffers_) {
      size_t smallest = 0;
      for (size_t i = 1; i < free_.size(); ++i)
        if (free_[i].capacity < free_[smallest].capacity) smallest = i;
      if (free_.empty() || free_[smallest].capacity >= b.capacity) return;
      bytes_ -= free_[smallest].capacity;
      free_.erase(free_.begin() + static_cast<std::ptrdiff_t>(smallest));
    }
    while (bytes_ + b.capacity > max_bytes_ && !free_.empty()) {
      bytes_ -= free_.front().capacity;
      free_.erase(free_.begin());
    }
    bytes_ += b.capacity;
    free_.push_back(std::move(b));
  }

  size_t kept() const { return free_.size(); }
  size_t kept_bytes() const { return bytes_; }

 private:
  std::vector<PooledBuffer> free_;
  size_t max_buffers_;
  size_t max_bytes_;
  size_t bytes_ = 0;
};

}  // namespace ja4
