// RequestStore: a thin Node-API wrapper over native/core/request_blocks.h,
// the correlator's path from mod_reqin_log lines to Native blocks
// (src/correlator/native-requests.ts drives it). Arguments arrive checked
// by that module; here they are trusted.
//
// Thread: whichever thread owns the correlator (a worker); one store per
// correlator, never shared.
#include "request_store_binding.h"

#include <cstring>
#include <string>
#include <vector>

#include "request_blocks.h"
#include "tls_event_line.h"

namespace ja4::binding {

namespace {

// parse(): per line, these Float64 values (src/correlator/native-requests.ts LINE_*)
constexpr size_t kStride = 7;
// parseTls(): per line, these (src/correlator/native-tls-events.ts TLS_*)
constexpr size_t kTlsStride = 9;

// Every non-blank line of `data`, as forEachJsonLine splits them: `line(start, end)`.
template <class Line>
void for_each_line(const char* data, size_t size, Line line) {
  size_t start = 0;
  while (start < size) {
    const void* nl = std::memchr(data + start, '\n', size - start);
    size_t end = nl ? static_cast<size_t>(static_cast<const char*>(nl) - data) : size;
    size_t len = end - start;
    // blank lines are skipped silently, as forEachJsonLine does
    if (len > 0 && !(len == 1 && data[start] == '\r')) line(start, end);
    start = end + 1;
  }
}

class RequestStoreWrap : public Napi::ObjectWrap<RequestStoreWrap> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "RequestStore",
                       {InstanceMethod("parse", &RequestStoreWrap::Parse),
                        InstanceMethod("parseCanonical", &RequestStoreWrap::ParseCanonical),
                        InstanceMethod("parseTls", &RequestStoreWrap::ParseTls),
                        InstanceMethod("release", &RequestStoreWrap::Release),
                        InstanceMethod("addTls", &RequestStoreWrap::AddTls),
                        InstanceMethod("releaseTls", &RequestStoreWrap::ReleaseTls),
                        InstanceMethod("ingestBlock", &RequestStoreWrap::IngestBlock),
                        InstanceMethod("requestsBlock", &RequestStoreWrap::RequestsBlock),
                        InstanceMethod("stats", &RequestStoreWrap::Stats),
                        StaticMethod("columns", &RequestStoreWrap::Columns)});
  }

  explicit RequestStoreWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<RequestStoreWrap>(info) {}

 private:
  // parse(batch, maxLineBytes) -> [lines: Float64Array, text: string, textEnds: Uint32Array]
  // Every non-blank line of the batch, in order: its record id (-1:
  // refused, for the JavaScript reader), ts_us, client_port, local_port,
  // tls_request, and its byte range in the batch. The accepted records'
  // client_ip, local_ip and conn are in `text` (ASCII), their ends in textEnds.
  Napi::Value Parse(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto buf = info[0].As<Napi::Uint8Array>();
    const size_t max_line = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
    const char* data = reinterpret_cast<const char*>(buf.Data());
    const size_t size = buf.ByteLength();
    lines_.clear();
    text_.clear();
    text_ends_.clear();
    for_each_line(data, size, [&](size_t start, size_t end) {
      int32_t id = end - start > max_line ? -1 : store_.parse(data + start, end - start);
      double ts = 0, client_port = 0, local_port = 0, tls = 0;
      if (id >= 0) {
        const reqin::Record& r = store_.record(id);
        ts = static_cast<double>(r.ts_us);
        client_port = r.client_port;
        local_port = r.local_port;
        tls = r.tls_request ? 1 : 0;
        text_ += r.client_ip;
        text_ends_.push_back(static_cast<uint32_t>(text_.size()));
        text_ += r.local_ip;
        text_ends_.push_back(static_cast<uint32_t>(text_.size()));
        text_ += r.conn;
        text_ends_.push_back(static_cast<uint32_t>(text_.size()));
      }
      const double row[kStride] = {static_cast<double>(id), ts, client_port, local_port, tls, static_cast<double>(start),
                                   static_cast<double>(end)};
      lines_.insert(lines_.end(), row, row + kStride);
    });
    return Lines(env, 3);
  }

  // parseTls(batch, maxLineBytes) -> [lines: Float64Array, text: string, textEnds: Uint32Array, blobs: Buffer]
  // Every non-blank line of a batch of TLS events (tls_event_line.h), in
  // order: its kind (-1: refused, for the JavaScript reader; 0 flow, 1
  // close), src_port, dst_port, first_ts_us, last_ts_us, flags (1: udp, 2:
  // closed, reason << 2), its byte range in the batch, and where a flow's
  // TLS columns end in `blobs` (they start where the previous flow's end).
  // The accepted events' src and dst keys are in `text` (ASCII), their ends in textEnds.
  Napi::Value ParseTls(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto buf = info[0].As<Napi::Uint8Array>();
    const size_t max_line = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
    const char* data = reinterpret_cast<const char*>(buf.Data());
    lines_.clear();
    text_.clear();
    text_ends_.clear();
    block_.clear();
    for_each_line(data, buf.ByteLength(), [&](size_t start, size_t end) {
      bool ok = end - start <= max_line && tls_parser_.parse(data + start, end - start, tls_line_);
      const tlsevent::Line& e = tls_line_;
      double kind = -1, flags = 0;
      if (ok) {
        kind = static_cast<double>(e.kind);
        flags = (e.udp ? 1 : 0) | (e.closed ? 2 : 0) | (e.kind == tlsevent::Kind::kClose ? static_cast<int>(e.reason) << 2 : 0);
        text_ += e.src;
        text_ends_.push_back(static_cast<uint32_t>(text_.size()));
        text_ += e.dst;
        text_ends_.push_back(static_cast<uint32_t>(text_.size()));
        block_ += e.blob;
      }
      const double row[kTlsStride] = {kind,
                                      ok ? static_cast<double>(e.src_port) : 0,
                                      ok ? static_cast<double>(e.dst_port) : 0,
                                      ok ? static_cast<double>(e.first_ts_us) : 0,
                                      ok ? static_cast<double>(e.last_ts_us) : 0,
                                      flags,
                                      static_cast<double>(start),
                                      static_cast<double>(end),
                                      static_cast<double>(block_.size())};
      lines_.insert(lines_.end(), row, row + kTlsStride);
    });
    auto out = Lines(env, 4);
    out.Set(3u, Napi::Buffer<char>::Copy(env, block_.data(), block_.size()));
    return out;
  }

  // [lines, text, textEnds] of the last parse, in an array of `size`
  Napi::Array Lines(Napi::Env env, size_t size) {
    auto lines = Napi::Float64Array::New(env, lines_.size());
    if (!lines_.empty()) std::memcpy(lines.Data(), lines_.data(), lines_.size() * sizeof(double));
    auto ends = Napi::Uint32Array::New(env, text_ends_.size());
    if (!text_ends_.empty()) std::memcpy(ends.Data(), text_ends_.data(), text_ends_.size() * sizeof(uint32_t));
    napi_value text;
    napi_create_string_latin1(env, text_.data(), text_.size(), &text);
    auto out = Napi::Array::New(env, size);
    out.Set(0u, lines);
    out.Set(1u, Napi::Value(env, text));
    out.Set(2u, ends);
    return out;
  }

  // parseCanonical(line, ja4h) -> id, or -1
  Napi::Value ParseCanonical(const Napi::CallbackInfo& info) {
    auto buf = info[0].As<Napi::Uint8Array>();
    std::string ja4h = info[1].As<Napi::String>().Utf8Value();
    int32_t id = store_.parse_canonical(reinterpret_cast<const char*>(buf.Data()), buf.ByteLength(), ja4h);
    return Napi::Number::New(info.Env(), id);
  }

  Napi::Value Release(const Napi::CallbackInfo& info) {
    store_.release(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  }

  // addTls(blob) -> id, or -1 when the blob is malformed
  Napi::Value AddTls(const Napi::CallbackInfo& info) {
    auto buf = info[0].As<Napi::Uint8Array>();
    return Napi::Number::New(info.Env(), store_.add_tls(buf.Data(), buf.ByteLength()));
  }

  Napi::Value ReleaseTls(const Napi::CallbackInfo& info) {
    store_.release_tls(info[0].As<Napi::Number>().Int32Value());
    return info.Env().Undefined();
  }

  // ingestBlock(records: Int32Array, tls: Int32Array, status: Uint8Array, n) -> Buffer
  Napi::Value IngestBlock(const Napi::CallbackInfo& info) {
    auto rec = info[0].As<Napi::Int32Array>();
    auto tls = info[1].As<Napi::Int32Array>();
    auto status = info[2].As<Napi::Uint8Array>();
    size_t n = static_cast<size_t>(info[3].As<Napi::Number>().Int64Value());
    block_.clear();
    store_.write_ingest(block_, rec.Data(), tls.Data(), status.Data(), n);
    return Napi::Buffer<char>::Copy(info.Env(), block_.data(), block_.size());
  }

  // requestsBlock(records: Int32Array, n) -> Buffer
  Napi::Value RequestsBlock(const Napi::CallbackInfo& info) {
    auto rec = info[0].As<Napi::Int32Array>();
    size_t n = static_cast<size_t>(info[1].As<Napi::Number>().Int64Value());
    block_.clear();
    store_.write_requests(block_, rec.Data(), n);
    return Napi::Buffer<char>::Copy(info.Env(), block_.data(), block_.size());
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    auto o = Napi::Object::New(info.Env());
    o.Set("records", static_cast<double>(store_.live_records()));
    o.Set("tls", static_cast<double>(store_.live_tls()));
    return o;
  }

  static Napi::Value Columns(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    auto list = [&](const std::vector<std::string>& names) {
      auto a = Napi::Array::New(env, names.size());
      for (size_t i = 0; i < names.size(); ++i) a.Set(static_cast<uint32_t>(i), names[i]);
      return a;
    };
    auto o = Napi::Object::New(env);
    o.Set("ingest", list(reqin::RequestStore::ingest_columns()));
    o.Set("requests", list(reqin::RequestStore::request_columns()));
    return o;
  }

  reqin::RequestStore store_;
  tlsevent::Parser tls_parser_;
  tlsevent::Line tls_line_;
  std::vector<double> lines_;
  std::string text_;
  std::vector<uint32_t> text_ends_;
  std::string block_;
};

}  // namespace

void InitRequestStore(Napi::Env env, Napi::Object exports) {
  exports.Set("RequestStore", RequestStoreWrap::Define(env));
}

}  // namespace ja4::binding
