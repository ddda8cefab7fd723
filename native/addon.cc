#include "addon.h"

namespace rtnl {}  // namespace rtnl

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new rtnl::AddonData());
  rtnl::InitNetlinkSocket(env, exports);
  rtnl::InitNetns(env, exports);
  rtnl::InitPacketQueue(env, exports);
  rtnl::InitIoctl(env, exports);
  rtnl::InitBpf(env, exports);
  return exports;
}

NODE_API_MODULE(NODE_GYP_MODULE_NAME, InitAddon)
