// Node-API entry point. The only directory that includes Node headers:
// everything it exposes is a thin wrapper over native/core.
#include <napi.h>

#include "capture_binding.h"
#include "datagram_binding.h"
#include "native_block_binding.h"
#include "pcap_reader_binding.h"
#include "request_store_binding.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ja4::binding::InitPcapReader(env, exports);
  ja4::binding::InitDatagram(env, exports);
  ja4::binding::InitCapture(env, exports);
  ja4::binding::InitRequestStore(env, exports);
  ja4::binding::InitNativeBlock(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(ja4, Init)
