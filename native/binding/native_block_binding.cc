// mergeNativeBlocks: a thin Node-API wrapper over
// native/core/native_block_merge.h, for the batcher
// (src/correlator/native-merge.ts). Thread: the main thread.
#include "native_block_binding.h"

#include <string_view>
#include <vector>

#include "native_block_merge.h"

namespace ja4::binding {

namespace {

// mergeNativeBlocks(bodies: Uint8Array[]) -> Buffer, or null when they are
// better sent as they are (native_block_merge.h says when). The bodies are
// read in place; the result owns the merged bytes (no copy back).
Napi::Value MergeNativeBlocks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto list = info[0].As<Napi::Array>();
  std::vector<std::string_view> bodies;
  bodies.reserve(list.Length());
  for (uint32_t i = 0; i < list.Length(); ++i) {
    auto b = list.Get(i).As<Napi::Uint8Array>();
    bodies.emplace_back(reinterpret_cast<const char*>(b.Data()), b.ByteLength());
  }
  nativeblock::Merged out;
  if (!nativeblock::merge(bodies, out)) return env.Null();
  auto buf = Napi::Buffer<char>::New(env, out.data.get(), out.size, [](Napi::Env, char* data) { delete[] data; });
  out.data.release();  // the buffer's finalizer owns it now (not before: New may throw)
  return buf;
}

}  // namespace

void InitNativeBlock(Napi::Env env, Napi::Object exports) {
  exports.Set("mergeNativeBlocks", Napi::Function::New(env, MergeNativeBlocks, "mergeNativeBlocks"));
}

}  // namespace ja4::binding
