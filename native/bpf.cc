// bpf(2) BPF_OBJ_GET: an fd for an eBPF program pinned in bpffs, so a tc
// bpf filter can name its program by path (`tc ... bpf object-pinned`).

#include <errno.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <string>

#include "addon.h"
#include "errors.h"

namespace rtnl {

namespace {

// bpfObjGet(path) -> fd (close-on-exec, as the kernel makes every bpf fd).
Napi::Value BpfObjGet(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsString()) throw Napi::TypeError::New(env, "bpfObjGet(path)");
  std::string path = info[0].As<Napi::String>().Utf8Value();
  union bpf_attr attr;
  memset(&attr, 0, sizeof(attr));
  attr.pathname = reinterpret_cast<uint64_t>(path.c_str());
  long fd;
  do {
    fd = syscall(__NR_bpf, BPF_OBJ_GET, &attr, sizeof(attr));
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) ThrowSystemError(env, errno, "bpf(BPF_OBJ_GET)");
  return Napi::Number::New(env, static_cast<double>(fd));
}

}  // namespace

Napi::Object InitBpf(Napi::Env env, Napi::Object exports) {
  exports.Set("bpfObjGet", Napi::Function::New(env, BpfObjGet));
  return exports;
}

}  // namespace rtnl
