// Capture: thin Node-API wrapper over native/io/capture_thread (a live
// interface, or capture files replayed with their timing). Options arrive
// validated by src/capture/live-capture.ts and src/capture/replay.ts.
//
// Threads: constructor, stats() and close() on the JS thread; the capture
// thread delivers batches through batch_delivery.h's bounded queue.
#include "capture_binding.h"

#include <memory>
#include <string>

#include "batch_delivery.h"
#include "capture_thread.h"

namespace ja4::binding {

namespace {

double opt_num(const Napi::Object& o, const char* key, double def) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : def;
}

std::string opt_str(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  return v.IsString() ? v.As<Napi::String>().Utf8Value() : std::string();
}

struct CaptureState : DeliveryState {
  std::unique_ptr<io::CaptureThread> cap;
};

class CaptureWrap : public Napi::ObjectWrap<CaptureWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Capture",
                       {InstanceMethod("stats", &CaptureWrap::Stats), InstanceMethod("close", &CaptureWrap::Close)});
  }

  // new Capture({iface, bpf, snaplen, bufferMb, promisc | files, speed, pps,
  //              max, loops; engine options; closeEvents, eventTag, sensor,
  //              batchRecords, flushMs}, onBatch)
  explicit CaptureWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CaptureWrap>(info) {
    Napi::Env env = info.Env();
    Napi::Object o = info[0].As<Napi::Object>();
    io::CaptureConfig cfg;
    cfg.iface = opt_str(o, "iface");
    cfg.bpf = opt_str(o, "bpf");
    cfg.snaplen = static_cast<int>(opt_num(o, "snaplen", cfg.snaplen));
    cfg.buffer_mb = static_cast<int>(opt_num(o, "bufferMb", cfg.buffer_mb));
    cfg.promisc = o.Get("promisc").ToBoolean().Value();
    if (o.Get("files").IsArray()) {
      Napi::Array a = o.Get("files").As<Napi::Array>();
      for (uint32_t i = 0; i < a.Length(); ++i) cfg.files.push_back(a.Get(i).As<Napi::String>().Utf8Value());
    }
    cfg.speed = opt_num(o, "speed", 1.0);
    cfg.pps = static_cast<uint64_t>(opt_num(o, "pps", 0));
    cfg.max = o.Get("max").ToBoolean().Value();
    cfg.loops = static_cast<uint32_t>(opt_num(o, "loops", 1));
    EngineConfig& e = cfg.engine;
    e.max_flows = static_cast<size_t>(opt_num(o, "maxFlows", double(e.max_flows)));
    e.max_buffered_per_direction = static_cast<size_t>(opt_num(o, "maxBufferedPerDirection", double(e.max_buffered_per_direction)));
    e.max_handshake_bytes = static_cast<size_t>(opt_num(o, "maxHandshakeBytes", double(e.max_handshake_bytes)));
    e.idle_timeout_us = static_cast<int64_t>(opt_num(o, "idleTimeoutMs", double(e.idle_timeout_us / 1000))) * 1000;
    e.max_http_per_flow = static_cast<size_t>(opt_num(o, "maxHttpPerFlow", double(e.max_http_per_flow)));
    e.close_events = o.Get("closeEvents").ToBoolean().Value();
    cfg.json.event_tag = o.Get("eventTag").ToBoolean().Value();
    cfg.json.sensor = opt_str(o, "sensor");
    cfg.batch_records = static_cast<size_t>(opt_num(o, "batchRecords", double(cfg.batch_records)));
    cfg.flush_ms = static_cast<int>(opt_num(o, "flushMs", cfg.flush_ms));

    state_ = std::make_shared<CaptureState>();
    state_->cap = std::make_unique<io::CaptureThread>(std::move(cfg));
    if (!state_->cap->open()) {
      MakeCodedError(env, state_->cap->error_code(), state_->cap->error_message()).ThrowAsJavaScriptException();
      state_.reset();
      return;
    }
    CaptureState* s = state_.get();
    s->join = [s] { s->cap->stop(); };
    BatchTsfn tsfn = MakeBatchTsfn(env, info[1].As<Napi::Function>(), "ja4.Capture", state_);
    s->cap->start(
        // capture thread
        [tsfn](std::string& data, uint64_t n, bool end) mutable { Deliver(tsfn, data, n, end); },
        [tsfn]() mutable { tsfn.Release(); });
  }

  ~CaptureWrap() override {
    if (state_ && !state_->finalized) state_->cap->request_stop();
  }

 private:
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    if (!state_) return o;
    io::CaptureStats st = state_->cap->stats();
    Napi::Object engine = Napi::Object::New(env);
    for_each_counter(st.engine, [&](const char* name, uint64_t v) { engine.Set(name, double(v)); });
    engine.Set("active_flows", double(st.active_flows));
    o.Set("engine", engine);
    Napi::Object pcap = Napi::Object::New(env);
    pcap.Set("ps_recv", double(st.ps_recv));
    pcap.Set("ps_drop", double(st.ps_drop));
    pcap.Set("ps_ifdrop", double(st.ps_ifdrop));
    o.Set("pcap", pcap);
    o.Set("replayPackets", double(st.replay_packets));
    o.Set("replayBytes", double(st.replay_bytes));
    o.Set("loop", double(st.loop));
    o.Set("fileIndex", double(st.file_index));
    o.Set("fileOffset", double(st.file_offset));
    o.Set("elapsedUs", double(st.elapsed_us));
    o.Set("events", double(st.events));
    o.Set("batches", double(st.batches));
    o.Set("finished", st.finished);
    // finished first: the thread writes its error before the last snapshot,
    // which publishes it through the stats mutex; read earlier, the string
    // could be mid-write (a replay error is set while the thread runs)
    if (st.finished && !state_->cap->error_code().empty()) {
      Napi::Object err = Napi::Object::New(env);
      err.Set("code", state_->cap->error_code());
      err.Set("message", state_->cap->error_message());
      o.Set("error", err);
    }
    return o;
  }

  // Resolves once the engine is flushed, the thread stopped and every batch
  // (the last one with end: true) delivered.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    return CloseWhenDelivered(info.Env(), state_.get(), [this] { state_->cap->request_stop(); });
  }

  std::shared_ptr<CaptureState> state_;
};

}  // namespace

void InitCapture(Napi::Env env, Napi::Object exports) { exports.Set("Capture", CaptureWrap::Define(env)); }

}  // namespace ja4::binding
