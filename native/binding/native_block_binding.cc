// mergeNativeBlocks: a thin Node-API wrapper over
// native/core/native_block_merge.h, for the batcher
// (src/correlator/native-merge.ts). Thread: the main thread; the merged
// buffers' pool is the calling thread's.
#include "native_block_binding.h"

#include <memory>
#include <string_view>
#include <vector>

#include "buffer_pool.h"
#include "native_block_merge.h"

namespace ja4::binding {

namespace {

// The merged bodies' buffers, kept for the next merges (buffer_pool.h): at
// most two (an insert and the batch after it), 256 MiB in all (two batches
// of the batcher's largest, 128 MiB). A buffer comes back when JavaScript's
// Buffer over it is collected: Node runs the finalizer on this thread.
thread_local bool merge_pool_gone = false;
struct MergePool {
  BufferPool pool{2, size_t{256} << 20};
  ~MergePool() { merge_pool_gone = true; }
};
BufferPool& merge_pool() {
  thread_local MergePool p;
  return p.pool;
}

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
  if (!nativeblock::merge(bodies, out, &merge_pool())) return env.Null();
  auto capacity = std::make_unique<size_t>(out.capacity);
  auto buf = Napi::Buffer<char>::New(
      env, out.data.get(), out.size,
      [](Napi::Env, char* data, size_t* cap) {
        PooledBuffer b{std::unique_ptr<char[]>(data), *cap};
        delete cap;
        // past the pool's end (thread exit), b frees the bytes itself
        if (!merge_pool_gone) merge_pool().give(std::move(b));
      },
      capacity.get());
  // the buffer's finalizer owns them now (not before: New may throw)
  out.data.release();
  capacity.release();
  return buf;
}

}  // namespace

void InitNativeBlock(Napi::Env env, Napi::Object exports) {
  exports.Set("mergeNativeBlocks", Napi::Function::New(env, MergeNativeBlocks, "mergeNativeBlocks"));
}

}  // namespace ja4::binding
