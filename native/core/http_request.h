// HTTP/1.x request head parser, for JA4H on cleartext HTTP.
//
// Reads the request line and the header fields (RFC 9112 sections 3 and 5)
// from the start of a reassembled client stream and reports how many bytes
// the head and its body take, so keep-alive requests can follow one another.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ja4 {

struct HttpHeader {
  std::string name;   // as sent, case preserved
  std::string value;  // leading/trailing whitespace trimmed
};

struct HttpRequest {
  std::string method;
  std::string target;
  std::string version;  // "HTTP/1.1"
  std::vector<HttpHeader> headers;
};

enum class HttpParse { NeedMore, Ok, NotHttp, Bad };

// Header field names are case-insensitive (RFC 9110 5.1); `lower` must be
// given in lowercase.
bool header_name_is(std::string_view name, const char* lower);

// True when the bytes start like an HTTP/1.x request line (a token of
// uppercase letters then a space), checked on at most the first 8 bytes.
bool looks_like_http_request(const uint8_t* data, size_t len);

// Parses one request head from data. On Ok, `consumed` is the head length
// plus the body length announced by Content-Length (chunked bodies are
// skipped by the caller scanning for the next request line): never 0. A
// Content-Length that is not 1*DIGIT, above 2^53, or repeated with another
// value makes the head Bad.
HttpParse parse_http_request(const uint8_t* data, size_t len, size_t max_head, HttpRequest& out,
                             size_t& consumed, bool& chunked);

}  // namespace ja4
