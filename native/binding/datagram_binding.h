#pragma once

#include <napi.h>

namespace ja4::binding {

// Registers DatagramReceiver and DatagramSender on exports.
void InitDatagram(Napi::Env env, Napi::Object exports);

}  // namespace ja4::binding
