// Shared plumbing for native threads that hand JS one Buffer per batch
// (the datagram receiver, the live capture): a thread-safe function whose
// queue is bounded, so a slow JS consumer makes the native thread wait
// (and the kernel buffer, then the sender, absorb or drop) instead of
// growing memory without bound.
//
// Threads: Deliver() runs on the producing thread; CallJs on the JS thread.
// Closing: the owner asks its thread to stop; the thread's last act is
// Release(); the finalizer then runs on the JS thread, joins the thread and
// resolves the close() promise. close() itself never blocks the JS thread,
// which must stay free to drain the queue the thread may be waiting on.
#pragma once

#include <napi.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "coded_error.h"

namespace ja4::binding {

struct Batch {
  std::string data;
  uint64_t count = 0;
  bool end = false;  // the producer's last batch (capture finished or closed)
};

// JS thread: batch -> onBatch({data: Buffer, count}).
inline void CallBatchJs(Napi::Env env, Napi::Function callback, std::nullptr_t*, Batch* batch) {
  if (!batch) return;
  if (env == nullptr || callback.IsEmpty()) {
    delete batch;
    return;
  }
  auto* payload = new std::string(std::move(batch->data));
  uint64_t count = batch->count;
  bool end = batch->end;
  delete batch;
  Napi::Object o = Napi::Object::New(env);
  o.Set("data", Napi::Buffer<char>::New(env, payload->data(), payload->size(),
                                        [](Napi::Env, char*, std::string* s) { delete s; }, payload));
  o.Set("count", Napi::Number::New(env, double(count)));
  o.Set("end", Napi::Boolean::New(env, end));
  try {
    callback.Call({o});
  } catch (const Napi::Error& e) {
    // The TypeScript wrapper catches its consumer's errors; this is a last resort.
    e.ThrowAsJavaScriptException();
  }
}

// State shared by the JS object and the thread-safe function's finalizer
// (either may go first: the object can be collected while the thread runs).
struct DeliveryState {
  std::function<void()> join;  // JS thread: joins the producing thread, frees its resources
  std::unique_ptr<Napi::Promise::Deferred> close_deferred;
  bool finalized = false;
};

using BatchTsfn = Napi::TypedThreadSafeFunction<std::nullptr_t, Batch, CallBatchJs>;

// Creates the thread-safe function; its finalizer joins and resolves close().
inline BatchTsfn MakeBatchTsfn(Napi::Env env, Napi::Function callback, const char* name,
                               std::shared_ptr<DeliveryState> state, size_t max_queue = 64) {
  auto* holder = new std::shared_ptr<DeliveryState>(std::move(state));
  return BatchTsfn::New(env, callback, name, max_queue, 1, nullptr,
                        [](Napi::Env env, std::shared_ptr<DeliveryState>* h, std::nullptr_t*) {
                          DeliveryState& s = **h;
                          if (s.join) s.join();
                          s.finalized = true;
                          if (s.close_deferred) s.close_deferred->Resolve(env.Undefined());
                          s.close_deferred.reset();
                          delete h;
                        },
                        holder);
}

// Producing thread: hands one batch to JS, waiting while the queue is full
// (the bound above); a call refused because the function is closing frees it.
inline void Deliver(BatchTsfn& tsfn, std::string& data, uint64_t count, bool end = false) {
  auto* b = new Batch{std::move(data), count, end};
  if (tsfn.BlockingCall(b) != napi_ok) delete b;
}

// JS thread: close()'s promise. request_stop() only asks the thread to stop
// (it never blocks); the finalizer resolves the promise once the thread has
// stopped and every batch it produced has been delivered.
template <typename RequestStop>
inline Napi::Value CloseWhenDelivered(Napi::Env env, DeliveryState* state, RequestStop request_stop) {
  auto d = Napi::Promise::Deferred::New(env);
  if (!state || state->finalized) {
    d.Resolve(env.Undefined());
    return d.Promise();
  }
  if (state->close_deferred) {
    d.Reject(MakeCodedError(env, "EBUSY", "close() already in progress").Value());
    return d.Promise();
  }
  state->close_deferred = std::make_unique<Napi::Promise::Deferred>(d);
  request_stop();
  return d.Promise();
}

}  // namespace ja4::binding
