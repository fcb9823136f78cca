// An Error with a `code` property, the shape every binding throws or
// rejects with: the TypeScript wrappers switch on err.code (EBUSY, ENOENT,
// EREAD...) rather than on message text.
#pragma once

#include <napi.h>

#include <string>

namespace ja4::binding {

inline Napi::Error MakeCodedError(Napi::Env env, const std::string& code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Set("code", Napi::String::New(env, code));
  return e;
}

}  // namespace ja4::binding
