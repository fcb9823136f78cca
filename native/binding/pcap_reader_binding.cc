// PcapReader: an offline capture read on a libuv worker thread, handed to JS
// one batch (a Buffer of newline-separated JSON records) per read() call.
//
// Threads: the constructor, read(), stats() and close() run on the JS
// thread; ReadWorker::Execute runs on a libuv pool thread and is the only
// code that touches the PcapFileReader while a read is in flight (the
// `busy_` flag enforces one read at a time). Counters are copied into a
// snapshot in OnOK, back on the JS thread, so stats() never races the worker.
// Options arrive validated by the TypeScript layer (src/capture/), which
// names the offending option; here they are trusted.
#include "pcap_reader_binding.h"

#include <memory>
#include <string>

#include "coded_error.h"
#include "pcap_file_reader.h"

namespace ja4::binding {

namespace {

uint64_t opt_u64(const Napi::Object& o, const char* key, uint64_t def) {
  Napi::Value v = o.Get(key);
  return v.IsNumber() ? static_cast<uint64_t>(v.As<Napi::Number>().Int64Value()) : def;
}

Napi::Object counters_object(Napi::Env env, const Counters& c) {
  Napi::Object o = Napi::Object::New(env);
  for_each_counter(c, [&](const char* name, uint64_t v) { o.Set(name, Napi::Number::New(env, double(v))); });
  return o;
}

class PcapReader : public Napi::ObjectWrap<PcapReader> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "PcapReader",
                       {InstanceMethod("read", &PcapReader::Read),
                        InstanceMethod("stats", &PcapReader::Stats),
                        InstanceMethod("close", &PcapReader::Close)});
  }

  // new PcapReader(path, {batchRecords, maxFlows, maxBufferedPerDirection,
  //                       maxHandshakeBytes, idleTimeoutMs, maxHttpPerFlow},
  //                 [{reference, raw, original}])  (record shape: record_json.h)
  explicit PcapReader(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PcapReader>(info) {
    Napi::Env env = info.Env();
    std::string path = info[0].As<Napi::String>().Utf8Value();
    Napi::Object o = info[1].IsObject() ? info[1].As<Napi::Object>() : Napi::Object::New(env);
    EngineConfig cfg;
    cfg.max_flows = opt_u64(o, "maxFlows", cfg.max_flows);
    cfg.max_buffered_per_direction = opt_u64(o, "maxBufferedPerDirection", cfg.max_buffered_per_direction);
    cfg.max_handshake_bytes = opt_u64(o, "maxHandshakeBytes", cfg.max_handshake_bytes);
    cfg.idle_timeout_us = static_cast<int64_t>(opt_u64(o, "idleTimeoutMs", cfg.idle_timeout_us / 1000)) * 1000;
    cfg.max_http_per_flow = opt_u64(o, "maxHttpPerFlow", cfg.max_http_per_flow);
    batch_records_ = opt_u64(o, "batchRecords", 512);
    RecordJsonOptions json;
    if (info.Length() > 2 && info[2].IsObject()) {
      Napi::Object j = info[2].As<Napi::Object>();
      json.reference = j.Get("reference").ToBoolean().Value();
      json.raw = j.Get("raw").ToBoolean().Value();
      json.original = j.Get("original").ToBoolean().Value();
    }
    reader_ = std::make_unique<PcapFileReader>(path, cfg, std::move(json));
    if (!reader_->open()) {
      MakeCodedError(env, reader_->error_code(), reader_->error_message()).ThrowAsJavaScriptException();
      return;
    }
    snapshot_ = reader_->counters();
    linktype_ = reader_->linktype();
  }

 private:
  class ReadWorker : public Napi::AsyncWorker {
   public:
    ReadWorker(PcapReader* owner, Napi::Promise::Deferred deferred)
        : Napi::AsyncWorker(owner->Env()), owner_(owner), deferred_(deferred) {
      owner_->Ref();  // keep the JS object alive while the worker runs
    }
    ~ReadWorker() override { owner_->Unref(); }

    // libuv pool thread: no N-API calls here.
    void Execute() override {
      status_ = owner_->reader_->read_batch(owner_->batch_records_, out_);
      counters_ = owner_->reader_->counters();
      active_flows_ = owner_->reader_->active_flows();
    }

    // JS thread.
    void OnOK() override {
      Napi::Env env = Env();
      owner_->busy_ = false;
      owner_->snapshot_ = counters_;
      owner_->active_flows_ = active_flows_;
      Napi::Object result = Napi::Object::New(env);
      auto* payload = new std::string(std::move(out_));
      result.Set("records", Napi::Buffer<char>::New(env, payload->data(), payload->size(),
                                                    [](Napi::Env, char*, std::string* s) { delete s; }, payload));
      result.Set("done", Napi::Boolean::New(env, status_ != ReadStatus::Batch));
      if (status_ == ReadStatus::Error) {
        Napi::Object err = Napi::Object::New(env);
        err.Set("code", owner_->reader_->error_code());
        err.Set("message", owner_->reader_->error_message());
        result.Set("error", err);
      }
      deferred_.Resolve(result);
    }

   private:
    PcapReader* owner_;
    Napi::Promise::Deferred deferred_;
    ReadStatus status_ = ReadStatus::End;
    std::string out_;
    Counters counters_;
    size_t active_flows_ = 0;
  };

  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto deferred = Napi::Promise::Deferred::New(env);
    if (!reader_) {
      deferred.Reject(MakeCodedError(env, "ECLOSED", "reader is closed").Value());
      return deferred.Promise();
    }
    if (busy_) {
      deferred.Reject(MakeCodedError(env, "EBUSY", "a read is already in progress").Value());
      return deferred.Promise();
    }
    busy_ = true;
    (new ReadWorker(this, deferred))->Queue();
    return deferred.Promise();
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = counters_object(env, snapshot_);
    o.Set("active_flows", Napi::Number::New(env, double(active_flows_)));
    o.Set("linktype", Napi::Number::New(env, linktype_));
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (busy_) {
      MakeCodedError(info.Env(), "EBUSY", "cannot close during a read").ThrowAsJavaScriptException();
      return info.Env().Undefined();
    }
    reader_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<PcapFileReader> reader_;
  size_t batch_records_ = 512;
  bool busy_ = false;
  Counters snapshot_;
  size_t active_flows_ = 0;
  int linktype_ = -1;
};

// scanPcap(path): Promise<{packets, bytes, seconds}> -- the pcap_next_ex-only
// baseline of the benchmarks, on a pool thread.
class ScanWorker : public Napi::AsyncWorker {
 public:
  ScanWorker(Napi::Env env, std::string path, Napi::Promise::Deferred d)
      : Napi::AsyncWorker(env), path_(std::move(path)), deferred_(d) {}
  void Execute() override { result_ = scan_pcap_file(path_); }
  void OnOK() override {
    Napi::Env env = Env();
    if (!result_.ok) {
      deferred_.Reject(MakeCodedError(env, "EREAD", result_.error).Value());
      return;
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("packets", Napi::Number::New(env, double(result_.packets)));
    o.Set("bytes", Napi::Number::New(env, double(result_.bytes)));
    deferred_.Resolve(o);
  }

 private:
  std::string path_;
  Napi::Promise::Deferred deferred_;
  PcapScanResult result_;
};

Napi::Value ScanPcap(const Napi::CallbackInfo& info) {
  auto d = Napi::Promise::Deferred::New(info.Env());
  (new ScanWorker(info.Env(), info[0].As<Napi::String>().Utf8Value(), d))->Queue();
  return d.Promise();
}

}  // namespace

void InitPcapReader(Napi::Env env, Napi::Object exports) {
  exports.Set("PcapReader", PcapReader::Define(env));
  exports.Set("scanPcap", Napi::Function::New(env, ScanPcap));
}

}  // namespace ja4::binding
