#pragma once

#include <napi.h>

namespace ja4::binding {

// Registers RequestStore (the correlator's native request path) on exports.
void InitRequestStore(Napi::Env env, Napi::Object exports);

}  // namespace ja4::binding
