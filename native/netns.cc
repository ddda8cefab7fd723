// Network namespaces: sockets and named namespaces made on short-lived
// threads, and a guarded switch of the main thread for runSync.

#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uv.h>

#include <string>
#include <thread>

#include "addon.h"
#include "errors.h"

namespace rtnl {

int RunOnThreadInNetns(int netns_fd, const std::function<int(int* err)>& work, int* err) {
  if (netns_fd < 0) return work(err);
  int result = -1;
  std::thread thread([&]() {
    if (setns(netns_fd, CLONE_NEWNET) < 0) {
      *err = errno;
      return;
    }
    result = work(err);
  });
  thread.join();
  return result;
}

namespace {

int ToInt(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  if (info.Length() <= i || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), usage);
  return info[i].As<Napi::Number>().Int32Value();
}

std::string ToString(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  if (info.Length() <= i || !info[i].IsString()) throw Napi::TypeError::New(info.Env(), usage);
  return info[i].As<Napi::String>().Utf8Value();
}

// Holds flock() on a directory for the life of the scope.
class DirectoryLock {
 public:
  explicit DirectoryLock(int fd) : fd_(fd) {
    while (flock(fd_, LOCK_EX) < 0 && errno == EINTR) {
    }
  }
  ~DirectoryLock() {
    flock(fd_, LOCK_UN);
    ::close(fd_);
  }

 private:
  int fd_;
};

// Makes `dir` a shared mount point, as `ip netns add` does, so a namespace
// bind-mounted there is visible in every mount namespace that shares it.
int MakeSharedMount(const char* dir) {
  bool bound = false;
  while (mount("", dir, "none", MS_SHARED | MS_REC, nullptr) < 0) {
    if (errno != EINVAL || bound) return errno;
    if (mount(dir, dir, "none", MS_BIND | MS_REC, nullptr) < 0) return errno;
    bound = true;
  }
  return 0;
}

// createNamed(dir, name): mkdir -p dir, make it a shared mount, create
// dir/name exclusively, and bind-mount a new namespace made on a thread
// over it. Nothing is left behind on failure.
Napi::Value CreateNamed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string dir = ToString(info, 0, "createNamed(dir, name)");
  std::string path = dir + "/" + ToString(info, 1, "createNamed(dir, name)");
  if (mkdir(dir.c_str(), 0755) < 0 && errno != EEXIST) ThrowSystemError(env, errno, "mkdir");
  int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) ThrowSystemError(env, errno, "open");
  DirectoryLock lock(dir_fd);  // concurrent creators serialise here
  if (int err = MakeSharedMount(dir.c_str())) ThrowSystemError(env, err, "mount");
  int file = open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
  if (file < 0) ThrowSystemError(env, errno, "open");
  ::close(file);
  // unshare() moves only the calling thread, so a throwaway thread does it.
  int err = 0;
  std::thread thread([&]() {
    if (unshare(CLONE_NEWNET) < 0 ||
        mount("/proc/thread-self/ns/net", path.c_str(), "none", MS_BIND, nullptr) < 0) {
      err = errno;
    }
  });
  thread.join();
  if (err != 0) {
    unlink(path.c_str());
    ThrowSystemError(env, err, "unshare");
  }
  return env.Undefined();
}

// deleteNamed(path): detach the bind mount (the namespace lives on while
// processes or fds use it) and remove the file, like `ip netns del`.
Napi::Value DeleteNamed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::string path = ToString(info, 0, "deleteNamed(path)");
  umount2(path.c_str(), MNT_DETACH);
  if (unlink(path.c_str()) < 0) ThrowSystemError(env, errno, "unlink");
  return env.Undefined();
}

// runIn(netnsFd, fn): calls fn on this thread inside the namespace and
// always switches back. If switching back fails the process aborts: going
// on in the wrong namespace would silently act on the wrong network.
Napi::Value RunIn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int target = ToInt(info, 0, "runIn(netnsFd, fn)");
  if (info.Length() < 2 || !info[1].IsFunction())
    throw Napi::TypeError::New(env, "runIn(netnsFd, fn)");
  int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
  if (saved < 0) ThrowSystemError(env, errno, "open");
  if (setns(target, CLONE_NEWNET) < 0) {
    int err = errno;
    ::close(saved);
    ThrowSystemError(env, err, "setns");
  }
  Napi::Value result;
  Napi::Error failure;
  bool failed = false;
  try {
    result = info[1].As<Napi::Function>().Call(env.Undefined(), {});
  } catch (const Napi::Error& e) {
    failure = e;
    failed = true;
  }
  if (setns(saved, CLONE_NEWNET) < 0) {
    fprintf(stderr, "rtnl: FATAL: could not return the main thread to its network namespace: %s\n",
            strerror(errno));
    abort();
  }
  ::close(saved);
  if (failed) throw failure;
  return result;
}

// socketIn(netnsFd, domain, type, protocol) -> fd, made on a thread inside
// the namespace: a TCP/UDP socket that Node can adopt with { fd }.
Napi::Value SocketIn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "socketIn(netnsFd, domain, type, protocol)";
  int netns_fd = ToInt(info, 0, usage);
  int domain = ToInt(info, 1, usage);
  int type = ToInt(info, 2, usage);
  int protocol = ToInt(info, 3, usage);
  int err = 0;
  int fd = RunOnThreadInNetns(
      netns_fd,
      [&](int* e) {
        int s = socket(domain, type | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
        if (s < 0) *e = errno;
        return s;
      },
      &err);
  if (fd < 0) ThrowSystemError(env, err, "socket");
  return Napi::Number::New(env, fd);
}

// bindFd(fd, sockaddr): bind(2) with an address the caller encoded
// (sockaddr_in or sockaddr_in6 bytes), so socketFd() can hand Node a
// socket already bound inside a namespace.
Napi::Value BindFd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "bindFd(fd, sockaddr)";
  int fd = ToInt(info, 0, usage);
  if (info.Length() < 2 || !info[1].IsBuffer()) throw Napi::TypeError::New(env, usage);
  auto addr = info[1].As<Napi::Buffer<uint8_t>>();
  if (bind(fd, reinterpret_cast<const sockaddr*>(addr.Data()),
           static_cast<socklen_t>(addr.Length())) < 0) {
    ThrowSystemError(env, errno, "bind");
  }
  return env.Undefined();
}

// setSocketOption(fd, level, name, value): an int setsockopt(2) on any
// socket fd, for sockets socketFd() makes before Node adopts them.
Napi::Value SetSocketOption(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "setSocketOption(fd, level, name, value)";
  int fd = ToInt(info, 0, usage);
  int level = ToInt(info, 1, usage);
  int name = ToInt(info, 2, usage);
  int value = ToInt(info, 3, usage);
  if (setsockopt(fd, level, name, &value, sizeof value) < 0)
    ThrowSystemError(env, errno, "setsockopt");
  return env.Undefined();
}

// openIn(netnsFd, path, flags) -> fd: open(2) on a thread inside the
// namespace. /proc/sys/net resolves against the opener's namespace, so
// this reads and writes another namespace's sysctls without moving the
// main thread. O_CLOEXEC is always added.
Napi::Value OpenIn(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "openIn(netnsFd, path, flags)";
  int netns_fd = ToInt(info, 0, usage);
  std::string path = ToString(info, 1, usage);
  int flags = ToInt(info, 2, usage);
  int err = 0;
  int fd = RunOnThreadInNetns(
      netns_fd,
      [&](int* e) {
        int f = open(path.c_str(), flags | O_CLOEXEC);
        if (f < 0) *e = errno;
        return f;
      },
      &err);
  if (fd < 0) ThrowSystemError(env, err, "open");
  return Napi::Number::New(env, fd);
}

// warmThreadpool(): makes libuv create its pool now, while the main thread
// is in its own namespace; threads inherit their creator's namespace.
Napi::Value WarmThreadpool(const Napi::CallbackInfo& info) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(info.Env(), &loop);
  auto* req = new uv_work_t();
  uv_queue_work(
      loop, req, [](uv_work_t*) {}, [](uv_work_t* r, int) { delete r; });
  return info.Env().Undefined();
}

// anonymous() -> fd of a new network namespace that nothing names: it
// lives while the fd (or anything inside it) does. Made on a thread.
Napi::Value Anonymous(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  int fd = -1;
  int err = 0;
  std::thread thread([&]() {
    if (unshare(CLONE_NEWNET) < 0) {
      err = errno;
      return;
    }
    fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0) err = errno;
  });
  thread.join();
  if (fd < 0) ThrowSystemError(env, err, "unshare");
  return Napi::Number::New(env, fd);
}

Napi::Value CloseFd(const Napi::CallbackInfo& info) {
  ::close(ToInt(info, 0, "closeFd(fd)"));
  return info.Env().Undefined();
}

}  // namespace

Napi::Object InitNetns(Napi::Env env, Napi::Object exports) {
  exports.Set("createNamed", Napi::Function::New(env, CreateNamed));
  exports.Set("deleteNamed", Napi::Function::New(env, DeleteNamed));
  exports.Set("runIn", Napi::Function::New(env, RunIn));
  exports.Set("socketIn", Napi::Function::New(env, SocketIn));
  exports.Set("openIn", Napi::Function::New(env, OpenIn));
  exports.Set("bindFd", Napi::Function::New(env, BindFd));
  exports.Set("setSocketOption", Napi::Function::New(env, SetSocketOption));
  exports.Set("warmThreadpool", Napi::Function::New(env, WarmThreadpool));
  exports.Set("anonymous", Napi::Function::New(env, Anonymous));
  exports.Set("closeFd", Napi::Function::New(env, CloseFd));
  return exports;
}

}  // namespace rtnl
