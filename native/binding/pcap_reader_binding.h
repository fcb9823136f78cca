#pragma once

#include <napi.h>

namespace ja4::binding {

// Registers PcapReader and scanPcap on exports.
void InitPcapReader(Napi::Env env, Napi::Object exports);

}  // namespace ja4::binding
