#include "ip_defrag.h"

#include <cstring>

namespace ja4 {

namespace {
constexpr uint32_t kMaxDatagram = 65535;

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
  if (!fr.more) {
    d.have_last = true;
    d.total = fr.offset + fr.len;
  }
  // Duplicates keep the first copy.
  if (d.parts.emplace(fr.offset, std::string(reinterpret_cast<const char*>(fr.data), fr.len)).second)
    d.bytes += fr.len;
  if (!d.have_last) return false;

  // Whole when the parts cover [0, total) without a hole.
  uint32_t covered = 0;
  for (const auto& [off, bytes] : d.parts) {
    if (off > covered) return false;
    covered = std::max<uint32_t>(covered, off + static_cast<uint32_t>(bytes.size()));
  }
  if (covered < d.total) return false;

  std::string payload(d.total, '\0');
  for (const auto& [off, bytes] : d.parts) {
    if (off >= d.total) continue;
    size_t n = std::min<size_t>(bytes.size(), d.total - off);
    std::memcpy(&payload[off], bytes.data(), n);
  }
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
