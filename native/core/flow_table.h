// A bounded table of flows: open addressing with linear probing over flow
// indices, plus a least-recently-seen list for idle and capacity eviction.
// Flow objects live in fixed chunks of 1024 (see Store) so their addresses
// stay stable and an index is a shift and a mask; freed slots are reused.
//
// Every packet finds its flow and moves it to the front of the list, so
// both are laid out for the cache: a slot is 8 bytes (32 bits of the hash,
// the flow index), and the list links live in their own dense array rather
// than in the flows, so relinking touches that small array instead of up to
// three other (cold) Flow objects.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "flow_key.h"

namespace ja4 {

template <typename Flow>
class FlowTable {
 public:
  static constexpr uint32_t kNone = 0xffffffffu;

  // The slot array starts small and doubles as flows are added (load kept
  // at or below 1/2), so a capture with a thousand live flows probes a
  // cache-friendly table even when max_flows allows millions.
  explicit FlowTable(size_t max_flows) : max_flows_(max_flows ? max_flows : 1) {
    slots_.assign(kInitialSlots, Slot{});
    mask_ = kInitialSlots - 1;
  }

  size_t size() const { return size_; }
  size_t max_flows() const { return max_flows_; }

  // The flow last found or inserted, when it has `key`; else nullptr. Most
  // packets belong to the same flow as the packet before them (a transfer's
  // segments come in runs: 81% of the pcap benchmark's packets), and that
  // flow is then found without hashing the key or probing the slots.
  Flow* find_recent(const FlowKey& key) {
    if (recent_ == kNone) return nullptr;
    Flow& f = flows_[recent_];
    return f.key == key ? &f : nullptr;
  }

  // Finds the flow for `key`, or nullptr.
  Flow* find(const FlowKey& key, uint64_t hash) {
    uint32_t tag = tag_of(hash);
    for (size_t i = hash & mask_;; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.index == kNone) return nullptr;
      if (s.tag == tag && flows_[s.index].key == key) {
        recent_ = s.index;
        return &flows_[s.index];
      }
    }
  }

  // Inserts a new flow for key (which must not be present), seen at `ts`.
  // The caller must make room first when full().
  Flow* insert(const FlowKey& key, uint64_t hash, int64_t ts) {
    uint32_t idx;
    if (!free_.empty()) {
      // Already reset by erase() (which releases its buffers right away).
      idx = free_.back();
      free_.pop_back();
    } else {
      idx = static_cast<uint32_t>(flows_.size());
      flows_.emplace_back();
    }
    Flow& f = flows_[idx];
    f.key = key;
    f.hash = hash;
    f.index = idx;
    if (idx >= links_.size()) links_.resize(idx + 1);
    if ((size_ + 1) * 2 > slots_.size()) grow();
    place(hash, idx);
    ++size_;
    link_front(idx);
    links_[idx].seen = ts;
    recent_ = idx;
    return &f;
  }

  bool full() const { return size_ >= max_flows_; }

  // Marks the flow most recently seen, at `ts`.
  void touch(Flow& f, int64_t ts) {
    links_[f.index].seen = ts;
    if (head_ == f.index) return;
    unlink(f.index);
    link_front(f.index);
  }

  // Least recently seen flow, or nullptr.
  Flow* oldest() { return tail_ == kNone ? nullptr : &flows_[tail_]; }
  // When the least recently seen flow was seen; false when the table is
  // empty. Read on every packet (idle check), so from the dense link array
  // rather than the (cold) flow.
  bool oldest_seen(int64_t& ts) const {
    if (tail_ == kNone) return false;
    ts = links_[tail_].seen;
    return true;
  }

  void erase(Flow& f) {
    // Backward-shift deletion keeps probe chains intact without tombstones.
    size_t i = f.hash & mask_;
    while (slots_[i].index != f.index) i = (i + 1) & mask_;
    size_t j = i;
    for (;;) {
      j = (j + 1) & mask_;
      if (slots_[j].index == kNone) break;
      size_t home = flows_[slots_[j].index].hash & mask_;
      // Move j into the hole at i if its home is not in (i, j] cyclically.
      bool between = (i <= j) ? (home > i && home <= j) : (home > i || home <= j);
      if (!between) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = Slot{};
    uint32_t idx = f.index;
    if (recent_ == idx) recent_ = kNone;
    unlink(idx);
    f = Flow{};  // releases per-flow buffers now, not at reuse
    f.index = idx;
    free_.push_back(idx);
    --size_;
  }

  template <typename F>
  void for_each(F&& fn) {
    for (uint32_t i = head_; i != kNone;) {
      uint32_t next = links_[i].next;
      fn(flows_[i]);
      i = next;
    }
  }

 private:
  struct Slot {
    uint32_t tag = 0;  // high half of the hash (the low bits pick the slot)
    uint32_t index = kNone;
  };
  struct Link {
    uint32_t prev = kNone, next = kNone;
    int64_t seen = 0;  // capture time of the flow's last packet
  };

  static uint32_t tag_of(uint64_t hash) { return static_cast<uint32_t>(hash >> 32); }

  static constexpr size_t kInitialSlots = 1024;

  void place(uint64_t hash, uint32_t idx) {
    size_t i = hash & mask_;
    while (slots_[i].index != kNone) i = (i + 1) & mask_;
    slots_[i] = Slot{tag_of(hash), idx};
  }

  void grow() {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(old.size() * 2, Slot{});
    mask_ = slots_.size() - 1;
    // The slot keeps only the hash's high half: the flow has the whole hash.
    for (const Slot& s : old)
      if (s.index != kNone) place(flows_[s.index].hash, s.index);
  }

  void link_front(uint32_t idx) {
    Link& l = links_[idx];
    l.prev = kNone;
    l.next = head_;
    if (head_ != kNone) links_[head_].prev = idx;
    head_ = idx;
    if (tail_ == kNone) tail_ = idx;
  }
  void unlink(uint32_t idx) {
    Link& l = links_[idx];
    if (l.prev != kNone) links_[l.prev].next = l.next;
    else head_ = l.next;
    if (l.next != kNone) links_[l.next].prev = l.prev;
    else tail_ = l.prev;
    l.prev = l.next = kNone;
  }

  size_t max_flows_;
  std::vector<Slot> slots_;
  size_t mask_ = 0;
  // Stable-address storage: chunk = index >> 10, slot = index & 1023.
  class Store {
   public:
    Flow& operator[](size_t i) { return chunks_[i >> kShift][i & (kChunk - 1)]; }
    size_t size() const { return size_; }
    void emplace_back() {
      if (size_ % kChunk == 0) chunks_.emplace_back(new Flow[kChunk]);
      ++size_;
    }

   private:
    static constexpr size_t kShift = 10, kChunk = size_t(1) << kShift;
    std::vector<std::unique_ptr<Flow[]>> chunks_;
    size_t size_ = 0;
  };
  Store flows_;
  std::vector<Link> links_;  // by flow index
  std::vector<uint32_t> free_;
  size_t size_ = 0;
  uint32_t head_ = kNone, tail_ = kNone;
  uint32_t recent_ = kNone;  // see find_recent()
};

}  // namespace ja4
