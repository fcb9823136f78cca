#pragma once

#include <napi.h>

namespace ja4::binding {

// Registers mergeNativeBlocks (native/core/native_block_merge.h) on exports.
void InitNativeBlock(Napi::Env env, Napi::Object exports);

}  // namespace ja4::binding
