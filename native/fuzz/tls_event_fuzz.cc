// libFuzzer harness: the native TLS event reader (native/core/tls_event_line.h)
// and the request store taking what it accepts. The input is split into
// lines at '\n', as the receiver's batches are; every accepted flow's TLS
// columns go to RequestStore::add_tls, which must take them (its parser
// is the blob's other reader). Under ASan+UBSan: the blob's room (sized
// from the decoded strings) must hold whatever comes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>

#include "request_blocks.h"
#include "tls_event_line.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ja4::tlsevent::Parser parser;
  static ja4::tlsevent::Line line;
  ja4::reqin::RequestStore store;
  const char* p = reinterpret_cast<const char*>(data);
  const char* end = p + size;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* line_end = nl ? nl : end;
    if (parser.parse(p, static_cast<size_t>(line_end - p), line) && line.kind == ja4::tlsevent::Kind::kFlow) {
      int32_t id = store.add_tls(reinterpret_cast<const uint8_t*>(line.blob.data()), line.blob.size());
      if (id < 0) std::abort();  // the two readers of the blob disagree
      store.release_tls(id);
    }
    p = line_end + (nl ? 1 : 0);
  }
  return 0;
}
