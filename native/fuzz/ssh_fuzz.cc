// libFuzzer harness: the SSH fingerprinter fed arbitrary segments (each
// input byte pair drives direction and flags; the rest is payload).
#include <cstddef>
#include <cstdint>

#include "ssh_fingerprint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ja4::ssh::SshFingerprinter fp;
  size_t pos = 0;
  uint32_t seq[2] = {1000, 5000};
  while (pos + 3 <= size) {
    uint8_t ctl = data[pos], flags = data[pos + 1], len = data[pos + 2];
    pos += 3;
    size_t n = len < size - pos ? len : size - pos;
    ja4::ssh::TcpSegment seg;
    int dir = ctl & 1;
    seg.from_client = dir == 0;
    seg.side = static_cast<int8_t>(dir);
    seg.src_port = dir == 0 ? 40000 : 22;
    seg.dst_port = dir == 0 ? 22 : 40000;
    seg.seq = (ctl & 2) ? seq[dir] - 10 : seq[dir];
    seg.flags = flags;
    seg.payload = data + pos;
    seg.payload_len = static_cast<uint32_t>(n);
    seg.captured_len = n;
    fp.on_segment(seg);
    seq[dir] += static_cast<uint32_t>(n);
    pos += n;
  }
  fp.finish();
  return 0;
}
