#pragma once

#include <napi.h>

namespace ja4::binding {

// Registers Capture (live interface or paced replay of files) on exports.
void InitCapture(Napi::Env env, Napi::Object exports);

}  // namespace ja4::binding
