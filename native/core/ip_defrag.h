// IPv4 and IPv6 fragment reassembly, bounded.
//
// Fragments are held per (version, source, destination, identification,
// protocol) until the datagram is whole, then handed back as one raw IP
// packet without fragmentation (RFC 791 section 3.2; RFC 8200 section 4.5)
// for the decoder to read like any other. Memory is capped: at most
// `max_datagrams` partial datagrams of at most 64 KiB in at most 256
// fragments each, expired after `timeout_us` of capture time. A datagram
// whose fragments overlap (RFC 5722) or disagree on its end is abandoned.
// Whatever is given up is counted (ip_fragments_dropped).
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <string>

#include "counters.h"
#include "packet_decoder.h"

namespace ja4 {

class IpDefragmenter {
 public:
  explicit IpDefragmenter(size_t max_datagrams = 4096, int64_t timeout_us = 30LL * 1000000)
      : max_datagrams_(max_datagrams), timeout_us_(timeout_us) {}

  // Adds the fragment described by p.fragment (addresses and TTL from p).
  // Returns true when the datagram is complete; `out` then holds it as a raw
  // IPv4 or IPv6 packet.
  bool add(const DecodedPacket& p, int64_t ts_us, std::string& out, Counters& c);

  size_t pending() const { return table_.size(); }
  // Gives up datagrams older than the timeout (called as capture time moves).
  void expire(int64_t ts_us, Counters& c);

 private:
  struct Datagram {
    int64_t first_ts = 0;
    uint32_t total = 0;        // payload length, known once the last fragment arrived
    bool have_last = false;
    size_t bytes = 0;
    size_t fragments = 0;
    std::map<uint32_t, std::string> parts;  // offset -> bytes
    std::list<std::string>::iterator order;
  };

  void drop(std::map<std::string, Datagram>::iterator it, Counters& c);

  size_t max_datagrams_;
  int64_t timeout_us_;
  std::map<std::string, Datagram> table_;
  std::list<std::string> order_;  // oldest first
};

}  // namespace ja4
