// Per-environment state, so the addon works in several worker_threads.
#pragma once

#include <napi.h>

namespace rtnl {

struct AddonData {
  Napi::FunctionReference netlink_socket_constructor;
};

Napi::Object InitNetlinkSocket(Napi::Env env, Napi::Object exports);
Napi::Object InitNetns(Napi::Env env, Napi::Object exports);
Napi::Object InitPacketQueue(Napi::Env env, Napi::Object exports);
Napi::Object InitIoctl(Napi::Env env, Napi::Object exports);
Napi::Object InitBpf(Napi::Env env, Napi::Object exports);

}  // namespace rtnl
