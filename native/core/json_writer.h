// Minimal JSON text builder for the records handed to JavaScript.
// Strings are always emitted as valid JSON: control characters escaped and
// invalid UTF-8 sequences replaced by U+FFFD, so a hostile SNI or header can
// never break the consumer's JSON.parse.
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

namespace ja4 {

void json_append_string(std::string& out, std::string_view s);

class JsonObject {
 public:
  explicit JsonObject(std::string& out) : out_(out) { out_.push_back('{'); }
  JsonObject& str(const char* key, std::string_view v) {
    this->key(key);
    json_append_string(out_, v);
    return *this;
  }
  // Only when non-empty: absent fingerprints are left out, as in the reference output.
  JsonObject& opt(const char* key, std::string_view v) {
    if (!v.empty()) str(key, v);
    return *this;
  }
  JsonObject& num(const char* key, int64_t v) {
    this->key(key);
    char buf[24];
    auto res = std::to_chars(buf, buf + sizeof buf, v);
    out_.append(buf, res.ptr);
    return *this;
  }
  JsonObject& boolean(const char* key, bool v) {
    this->key(key);
    out_ += v ? "true" : "false";
    return *this;
  }
  // Starts a raw value (array/object) for `key`; the caller writes it.
  std::string& raw(const char* key) {
    this->key(key);
    return out_;
  }
  void close() { out_.push_back('}'); }

 private:
  void key(const char* k) {
    // One resize and a copy ("," "\"" key "\":"), not four appends.
    size_t n = std::char_traits<char>::length(k);
    size_t at = out_.size();
    out_.resize(at + n + (first_ ? 3 : 4));
    char* p = out_.data() + at;
    if (!first_) *p++ = ',';
    first_ = false;
    *p++ = '"';
    std::char_traits<char>::copy(p, k, n);
    p[n] = '"';
    p[n + 1] = ':';
  }
  std::string& out_;
  bool first_ = true;
};

}  // namespace ja4
