// One direction of a TCP stream put back in order.
//
// Handles out-of-order segments (buffered up to a byte cap, each charged
// its payload plus kSegmentOverhead), retransmissions
// (dropped) and overlaps (trimmed: the first copy of a byte wins, as most
// stacks do). Positions are kept relative to the first sequence number so
// that ordering survives sequence wraparound; the engine only inspects the
// first kilobytes of a stream, far below 4 GiB.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "counters.h"

namespace ja4 {

class TcpReassembler {
 public:
  // The SYN fixes the initial sequence number (the SYN consumes one).
  void on_syn(uint32_t seq) {
    if (started_ && has_data()) return;
    started_ = true;
    base_ = seq + 1;
    next_ = 0;
  }

  // True once any payload byte was delivered or buffered.
  bool has_data() const { return next_ != 0 || !pending_.empty(); }

  // Feeds a segment; calls deliver(const uint8_t*, size_t) for every byte
  // range that becomes contiguous. Returns false when the out-of-order cap
  // was hit (the caller stops inspecting this direction).
  template <typename Deliver>
  bool on_data(uint32_t seq, const uint8_t* data, size_t len, size_t max_buffered, Counters& c,
               Deliver&& deliver) {
    if (len == 0) return true;
    if (!started_) {
      started_ = true;
      base_ = seq;
      next_ = 0;
    }
    uint32_t rel = seq - base_;
    int32_t diff = static_cast<int32_t>(rel - next_);
    if (diff > 0) {
      auto it = pending_.find(rel);
      size_t cost = it == pending_.end() ? len + kSegmentOverhead : (it->second.size() < len ? len - it->second.size() : 0);
      if (buffered_ + cost > max_buffered) {
        ++c.tcp_buffer_overflow;
        return false;
      }
      ++c.tcp_out_of_order;
      if (it == pending_.end()) {
        pending_.emplace(rel, std::string(reinterpret_cast<const char*>(data), len));
        buffered_ += cost;
      } else if (it->second.size() < len) {
        buffered_ += len - it->second.size();
        it->second.assign(reinterpret_cast<const char*>(data), len);
      }
      return true;
    }
    if (static_cast<int64_t>(diff) + static_cast<int64_t>(len) <= 0) {
      ++c.tcp_retransmissions;
      return true;
    }
    if (diff < 0) {
      ++c.tcp_overlaps;
      data += -diff;
      len -= static_cast<size_t>(-diff);
    }
    deliver(data, len);
    next_ += static_cast<uint32_t>(len);
    drain(c, deliver);
    return true;
  }

  bool started() const { return started_; }
  // Bytes charged against the cap: each held segment's payload plus
  // kSegmentOverhead (its map node and string), so that a flood of 1-byte
  // segments is bounded by the cap too, not by 80 times it.
  size_t buffered() const { return buffered_; }

  // Forgets the held segments (the caller stopped inspecting this direction).
  void release() {
    std::map<uint32_t, std::string>().swap(pending_);
    buffered_ = 0;
  }

  static constexpr size_t kSegmentOverhead = 64;

 private:
  template <typename Deliver>
  void drain(Counters& c, Deliver&& deliver) {
    while (!pending_.empty()) {
      auto it = pending_.begin();
      int32_t diff = static_cast<int32_t>(it->first - next_);
      if (diff > 0) return;
      std::string seg = std::move(it->second);
      buffered_ -= seg.size() + kSegmentOverhead;
      pending_.erase(it);
      if (static_cast<int64_t>(diff) + static_cast<int64_t>(seg.size()) <= 0) continue;
      size_t skip = static_cast<size_t>(-diff);
      if (skip) ++c.tcp_overlaps;
      deliver(reinterpret_cast<const uint8_t*>(seg.data()) + skip, seg.size() - skip);
      next_ += static_cast<uint32_t>(seg.size() - skip);
    }
  }

  bool started_ = false;
  uint32_t base_ = 0;
  uint32_t next_ = 0;  // relative position of the next expected byte
  std::map<uint32_t, std::string> pending_;
  size_t buffered_ = 0;
};

}  // namespace ja4
