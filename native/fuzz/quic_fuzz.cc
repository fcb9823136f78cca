// libFuzzer harness: QUIC Initial header parsing, decryption attempts and
// CRYPTO reassembly, as client and as server (datagrams separated by 0xFF 0xFE).
#include <cstddef>
#include <cstdint>

#include "quic_initial.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ja4::quic::InitialReassembler client(ja4::quic::Side::Client, 4096);
  ja4::quic::InitialReassembler server(ja4::quic::Side::Server, 4096);
  static const uint8_t kDcid[8] = {0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08};
  server.set_original_dcid(kDcid, sizeof kDcid);
  const uint8_t* p = data;
  const uint8_t* end = data + size;
  while (p < end) {
    const uint8_t* q = p;
    while (q + 1 < end && !(q[0] == 0xff && q[1] == 0xfe)) ++q;
    if (q + 1 >= end) q = end;
    size_t n = static_cast<size_t>(q - p);
    ja4::quic::looks_like_initial(p, n);
    client.feed(p, n);
    server.feed(p, n);
    (void)client.crypto_stream();
    p = q == end ? end : q + 2;
  }
  return 0;
}
