// JA4H: HTTP client fingerprint (FoxIO License 1.1).
#pragma once

#include <string>

#include "http_request.h"

namespace ja4 {

struct Ja4H {
  std::string ja4h;     // cookies sorted, hashed
  std::string ja4h_r;   // cookies sorted, raw
  std::string ja4h_o;   // cookies in original order, hashed
  std::string ja4h_ro;  // cookies in original order, raw
};

Ja4H ja4h_fingerprint(const HttpRequest& req);

}  // namespace ja4
