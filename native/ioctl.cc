// ioctl(2) for the device APIs that are not netlink (tun/tap): the request
// and its argument bytes are built in lib/, native only makes the call.

#include <errno.h>
#include <sys/ioctl.h>

#include "addon.h"
#include "errors.h"

namespace rtnl {

namespace {

// ioctl(fd, request, arg) -> the call's return value. A number is passed by
// value (TUNSETPERSIST, TUNSETOWNER); a Buffer by pointer, and the kernel's
// answer is left in it (TUNSETIFF fills in the chosen name).
Napi::Value Ioctl(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "ioctl(fd, request, arg: number | Buffer)";
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, usage);
  }
  int fd = info[0].As<Napi::Number>().Int32Value();
  unsigned long request = info[1].As<Napi::Number>().Uint32Value();
  int result;
  if (info[2].IsBuffer()) {
    auto arg = info[2].As<Napi::Buffer<uint8_t>>();
    result = ioctl(fd, request, arg.Data());
  } else if (info[2].IsNumber()) {
    auto arg = static_cast<unsigned long>(info[2].As<Napi::Number>().Int64Value());
    result = ioctl(fd, request, arg);
  } else {
    throw Napi::TypeError::New(env, usage);
  }
  if (result < 0) ThrowSystemError(env, errno, "ioctl");
  return Napi::Number::New(env, result);
}

}  // namespace

Napi::Object InitIoctl(Napi::Env env, Napi::Object exports) {
  exports.Set("ioctl", Napi::Function::New(env, Ioctl));
  return exports;
}

}  // namespace rtnl
