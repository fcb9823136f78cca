// libFuzzer harness: the native mod_reqin_log reader and the blocks built
// from what it accepts (native/core/reqin_record.h, request_blocks.h). The
// input is split into lines at '\n', as the receiver's batches are; every
// accepted record is written into an http_logs_ingest and an http_requests
// block, with and without a connection's columns, and the blocks are
// merged (native_block_merge.h), with each other and with the input taken
// as a block. Under ASan+UBSan: the cells' room (4n + 256) and the blocks'
// room must hold whatever comes, and the merge must refuse what is not a
// block without reading past it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "native_block_merge.h"
#include "request_blocks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static ja4::reqin::RequestStore store;
  // a connection: sni "s", server ::, port 443, ttl 64, no ja4x, 11 empty strings
  static const int32_t tls = [] {
    std::string blob = std::string("\x01s", 2) + std::string(16, '\0') + std::string("\xbb\x01\x40", 3) + std::string(4, '\0') + std::string(11, '\0');
    return store.add_tls(reinterpret_cast<const uint8_t*>(blob.data()), blob.size());
  }();
  std::vector<int32_t> ids, entries;
  std::vector<uint8_t> status;
  const char* p = reinterpret_cast<const char*>(data);
  const char* end = p + size;
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(end - p)));
    const char* line_end = nl ? nl : end;
    size_t n = static_cast<size_t>(line_end - p);
    int32_t id = store.parse(p, n);
    if (id < 0) id = store.parse_canonical(p, n, "ge11nn010000_000000000000_000000000000_000000000000");
    if (id >= 0) {
      ids.push_back(id);
      entries.push_back(ids.size() % 2 ? tls : -1);
      status.push_back(static_cast<uint8_t>(ids.size() % 3));
    }
    p = line_end + (nl ? 1 : 0);
  }
  std::string requests, ingest;
  store.write_requests(requests, ids.data(), ids.size());
  store.write_ingest(ingest, ids.data(), entries.data(), status.data(), ids.size());
  ja4::nativeblock::Merged merged;
  // our own blocks always merge
  if (!ids.empty() && (!ja4::nativeblock::merge({ingest, ingest}, merged) || !ja4::nativeblock::merge({requests, requests}, merged))) std::abort();
  ja4::nativeblock::merge({std::string_view(reinterpret_cast<const char*>(data), size), ingest}, merged);
  return 0;
}
