// libFuzzer harness: HTTP/1.x request heads and JA4H.
#include <cstddef>
#include <cstdint>

#include "http_request.h"
#include "ja4h.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ja4::looks_like_http_request(data, size);
  size_t pos = 0;
  while (pos < size) {
    ja4::HttpRequest req;
    size_t consumed = 0;
    bool chunked = false;
    auto r = ja4::parse_http_request(data + pos, size - pos, 8192, req, consumed, chunked);
    if (r != ja4::HttpParse::Ok) break;
    ja4::ja4h_fingerprint(req);
    // The engine advances by `consumed`: 0 would parse the same bytes forever.
    if (consumed == 0) __builtin_trap();
    if (consumed >= size - pos) break;
    pos += consumed;
  }
  return 0;
}
