// DatagramReceiver / DatagramSender: thin Node-API wrappers over
// native/io/datagram_{receiver,sender}. Options arrive validated by
// src/ingest/*.ts, which names the offending option; here they are trusted.
//
// Threads: constructors, stats(), send() and close() run on the JS thread;
// the receiver's own thread (native/io) calls Deliver through the bounded
// thread-safe function of batch_delivery.h.
#include "datagram_binding.h"

#include <memory>
#include <string>

#include "batch_delivery.h"
#include "datagram_receiver.h"
#include "datagram_sender.h"

namespace ja4::binding {

namespace {

int64_t opt_i64(const Napi::Object& o, const char* key, int64_t def) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : def;
}

struct ReceiverState : DeliveryState {
  std::unique_ptr<io::DatagramReceiver> rx;
};

class DatagramReceiverWrap : public Napi::ObjectWrap<DatagramReceiverWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DatagramReceiver",
                       {InstanceMethod("stats", &DatagramReceiverWrap::Stats),
                        InstanceMethod("close", &DatagramReceiverWrap::Close)});
  }

  // new DatagramReceiver({path, seqpacket, mode, group, maxDatagramBytes,
  //                       batchSize, receiveBufferBytes}, onBatch)
  explicit DatagramReceiverWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DatagramReceiverWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Object o = info[0].As<Napi::Object>();
    io::DatagramReceiverConfig cfg;
    cfg.path = o.Get("path").As<Napi::String>().Utf8Value();
    cfg.seqpacket = o.Get("seqpacket").ToBoolean().Value();
    cfg.mode = static_cast<int>(opt_i64(o, "mode", -1));
    if (o.Get("group").IsString()) cfg.group = o.Get("group").As<Napi::String>().Utf8Value();
    cfg.max_datagram_bytes = static_cast<size_t>(opt_i64(o, "maxDatagramBytes", 65536));
    cfg.batch_size = static_cast<size_t>(opt_i64(o, "batchSize", 64));
    cfg.receive_buffer_bytes = static_cast<int>(opt_i64(o, "receiveBufferBytes", 0));
    state_ = std::make_shared<ReceiverState>();
    state_->rx = std::make_unique<io::DatagramReceiver>(cfg);
    if (!state_->rx->open()) {
      MakeCodedError(env, state_->rx->error_code(), state_->rx->error_message()).ThrowAsJavaScriptException();
      state_.reset();
      return;
    }
    ReceiverState* s = state_.get();
    s->join = [s] { s->rx->stop(); };
    tsfn_ = MakeBatchTsfn(env, info[1].As<Napi::Function>(), "ja4.DatagramReceiver", state_);
    BatchTsfn tsfn = tsfn_;
    s->rx->start(
        // receiver thread
        [tsfn](std::string& data, uint64_t n) mutable { Deliver(tsfn, data, n); },
        [tsfn]() mutable { tsfn.Release(); });
  }

  ~DatagramReceiverWrap() override {
    // Collected without close(): stop the thread; the finalizer cleans up.
    if (state_ && !state_->finalized) state_->rx->request_stop();
  }

 private:
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    if (!state_) return o;
    const io::DatagramReceiverStats& st = state_->rx->stats();
    o.Set("datagrams", double(st.datagrams.load()));
    o.Set("bytes", double(st.bytes.load()));
    o.Set("batches", double(st.batches.load()));
    o.Set("oversized", double(st.oversized.load()));
    o.Set("errors", double(st.errors.load()));
    o.Set("connections", double(st.connections.load()));
    return o;
  }

  // Returns a promise resolved once the thread has stopped and every batch
  // it produced has been delivered.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    return CloseWhenDelivered(info.Env(), state_.get(), [this] { state_->rx->request_stop(); });
  }

  std::shared_ptr<ReceiverState> state_;
  BatchTsfn tsfn_;
};

class DatagramSenderWrap : public Napi::ObjectWrap<DatagramSenderWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DatagramSender",
                       {InstanceMethod("send", &DatagramSenderWrap::Send),
                        InstanceMethod("stats", &DatagramSenderWrap::Stats),
                        InstanceMethod("close", &DatagramSenderWrap::Close)});
  }

  // new DatagramSender(path, seqpacket)
  explicit DatagramSenderWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DatagramSenderWrap>(info) {
    sender_ = std::make_unique<io::DatagramSender>(info[0].As<Napi::String>().Utf8Value(),
                                                   info[1].ToBoolean().Value());
  }

 private:
  // send(buf[, offset, length]): boolean, never blocks.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!sender_) return Napi::Boolean::New(env, false);
    auto buf = info[0].As<Napi::Buffer<uint8_t>>();
    size_t off = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0;
    size_t len = info.Length() > 2 && info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value()
                                                          : buf.Length() - off;
    return Napi::Boolean::New(env, sender_->send(buf.Data() + off, len));
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    io::DatagramSenderStats st = sender_ ? sender_->stats() : final_;
    o.Set("sent", double(st.sent));
    o.Set("bytes", double(st.bytes));
    o.Set("dropped", double(st.dropped));
    o.Set("connects", double(st.connects));
    o.Set("errors", double(st.errors));
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (sender_) final_ = sender_->stats();
    sender_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<io::DatagramSender> sender_;
  io::DatagramSenderStats final_;
};

}  // namespace

void InitDatagram(Napi::Env env, Napi::Object exports) {
  exports.Set("DatagramReceiver", DatagramReceiverWrap::Define(env));
  exports.Set("DatagramSender", DatagramSenderWrap::Define(env));
}

}  // namespace ja4::binding
