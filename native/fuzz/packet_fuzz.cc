// libFuzzer harness: whole frames through the engine (decoder, reassembly,
// TLS/QUIC/HTTP/SSH parsing, fingerprints, record JSON). The first input
// byte picks the link type; the rest is split into frames at 0xFF 0xFE
// separators so one input can drive a multi-packet flow.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "engine.h"
#include "record_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const int kLinkTypes[] = {0, 1, 12, 101, 108, 113, 228, 229, 276};
  if (size < 1) return 0;
  int linktype = kLinkTypes[data[0] % (sizeof kLinkTypes / sizeof kLinkTypes[0])];
  ja4::EngineConfig cfg;
  cfg.max_flows = 64;
  cfg.max_buffered_per_direction = 4096;
  ja4::Engine engine(cfg);
  const uint8_t* p = data + 1;
  const uint8_t* end = data + size;
  int64_t ts = 1;
  while (p < end) {
    const uint8_t* q = p;
    while (q + 1 < end && !(q[0] == 0xff && q[1] == 0xfe)) ++q;
    if (q + 1 >= end) q = end;
    engine.process(linktype, p, static_cast<size_t>(q - p), ts += 1000);
    p = q == end ? end : q + 2;
  }
  engine.finish();
  std::string out;
  for (const ja4::FlowRecord& r : engine.ready()) ja4::append_record_json(out, r);
  return 0;
}
