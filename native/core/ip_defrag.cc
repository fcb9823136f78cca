#include "ip_defrag.h"

#include <cstring>
#include <iterator>

namespace ja4 {

namespace {
constexpr uint32_t kMaxDatagram = 65535;
// A 64 KiB datagram is ~45 fragments at a 1500-byte MTU, ~120 at 576; each
// held fragment also costs a map node and a string (~100 bytes), so a cap on
// their number is what bounds a datagram's memory when they are tiny.
constexpr size_t kMaxFragments = 256;

std::string make_key(const DecodedPacket& p) {
  std::string k;
  k.reserve(38);
  k.push_back(static_cast<char>(p.src.version));
  k.push_back(static_cast<char>(p.fragment.protocol));
  k.append(reinterpret_cast<const char*>(&p.fragment.id), sizeof p.fragment.id);
  k.append(reinterpret_cast<const char*>(p.src.bytes), 16);
  k.append(reinterpret_cast<const char*>(p.dst.bytes), 16);
  return k;
}
}  // namespace

void IpDefragmenter::drop(std::map<std::string, Datagram>::iterator it, Counters& c) {
  c.ip_fragments_dropped += it->second.fragments;
  order_.erase(it->second.order);
  table_.erase(it);
}

void IpDefragmenter::expire(int64_t ts, Counters& c) {
  while (!order_.empty()) {
    auto it = table_.find(order_.front());
    if (it->second.first_ts + timeout_us_ >= ts) return;
    drop(it, c);
  }
}

bool IpDefragmenter::add(const DecodedPacket& p, int64_t ts, std::string& out, Counters& c) {
  expire(ts, c);
  const auto& fr = p.fragment;
  if (fr.offset + fr.len > kMaxDatagram) {
    ++c.ip_fragments_dropped;
    return false;
  }
  std::string key = make_key(p);
  auto it = table_.find(key);
  if (it == table_.end()) {
    if (table_.size() >= max_datagrams_) drop(table_.find(order_.front()), c);
    it = table_.emplace(key, Datagram{}).first;
    it->second.first_ts = ts;
    it->second.order = order_.insert(order_.end(), key);
  }
  Datagram& d = it->second;
  ++d.fragments;
  const uint32_t end = fr.offset + fr.len;
  // RFC 5722 section 4: "if any of the fragments being reassembled overlap
  // with any other fragments being reassembled for the same packet,
  // reassembly of that packet must be abandoned and all the fragments that
  // have been received for that packet must be discarded". Applied to IPv4
  // as well, as Linux does: overlaps are an evasion technique, not traffic.
  // An exact copy of a held fragment is a retransmission and is ignored.
  auto next = d.parts.lower_bound(fr.offset);
  if (next != d.parts.end() && next->first == fr.offset && next->second.size() == fr.len) return false;
  auto end_of = [](auto part) { return part->first + part->second.size(); };
  bool overlaps = (next != d.parts.end() && next->first < end) || (next != d.parts.begin() && end_of(std::prev(next)) > fr.offset);
  // Fragments past the end that the last fragment set, a second last
  // fragment with another end, or more fragments than a datagram needs.
  bool inconsistent = (d.have_last && (end > d.total || (!fr.more && end != d.total))) ||
                      (!fr.more && !d.parts.empty() && end_of(std::prev(d.parts.end())) > end) ||
                      d.parts.size() >= kMaxFragments;
  if (overlaps || inconsistent) {
    drop(it, c);
    return false;
  }
  if (!fr.more) {
    d.have_last = true;
    d.total = end;
  }
  d.parts.emplace_hint(next, fr.offset, std::string(reinterpret_cast<const char*>(fr.data), fr.len));
  d.bytes += fr.len;
  // Parts never overlap and all lie within [0, total): whole exactly when
  // their bytes add up to total.
  if (!d.have_last || d.bytes != d.total) return false;

  std::string payload(d.total, '\0');
  for (const auto& [off, bytes] : d.parts) std::memcpy(&payload[off], bytes.data(), bytes.size());
  out.clear();
  if (p.src.version == 4) {
    uint8_t h[20] = {0x45, 0};
    uint32_t total = 20 + d.total;
    h[2] = static_cast<uint8_t>(total >> 8);
    h[3] = static_cast<uint8_t>(total);
    h[8] = p.ttl;
    h[9] = fr.protocol;
    std::memcpy(h + 12, p.src.bytes, 4);
    std::memcpy(h + 16, p.dst.bytes, 4);
    out.append(reinterpret_cast<const char*>(h), sizeof h);
  } else {
    uint8_t h[40] = {0x60, 0};
    h[4] = static_cast<uint8_t>(d.total >> 8);
    h[5] = static_cast<uint8_t>(d.total);
    h[6] = fr.protocol;
    h[7] = p.ttl;
    std::memcpy(h + 8, p.src.bytes, 16);
    std::memcpy(h + 24, p.dst.bytes, 16);
    out.append(reinterpret_cast<const char*>(h), sizeof h);
  }
  out += payload;
  order_.erase(d.order);
  table_.erase(it);
  ++c.ip_reassembled;
  return true;
}

}  // namespace ja4
