// JA4H: HTTP client fingerprint (FoxIO License 1.1).
#pragma once

#include <string>
#include <string_view>

#include "http_request.h"

namespace ja4 {

struct Ja4H {
  std::string ja4h;     // cookies sorted, hashed
  std::string ja4h_r;   // cookies sorted, raw
  std::string ja4h_o;   // cookies in original order, hashed
  std::string ja4h_ro;  // cookies in original order, raw
};

Ja4H ja4h_fingerprint(const HttpRequest& req);

// Section a: "method(2) version(2) cookie(c|n) referer(r|n) header-count(2)
// language(4)". `header_count` is the headers counted (Cookie and Referer
// left out; capped at 99 here); `language` is the Accept-Language value, or
// null when there is none. Shared with the mod_reqin_log reader
// (reqin_record.cc), which has the same inputs from a log record.
std::string ja4h_section_a(std::string_view method, std::string_view version, bool cookie, bool referer,
                           size_t header_count, const std::string_view* language);

}  // namespace ja4
