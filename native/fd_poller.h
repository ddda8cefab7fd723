// Watching one fd with uv_poll on the environment's loop, with the
// lifetime rules both pollers need (netlink sockets, tun queues): the
// uv handle outlives its owner until libuv has closed it, and an
// environment teardown (a worker ending) closes it too.
#pragma once

#include <napi.h>
#include <uv.h>

namespace rtnl {

// What a poller calls back. OnPollTeardown runs when the environment goes
// away first; the owner should close itself (which closes the poller).
class PollOwner {
 public:
  virtual ~PollOwner() = default;
  virtual void OnPollEvents(int status, int events) = 0;
  virtual void OnPollTeardown() = 0;
};

class FdPoller {
 public:
  // Starts nothing yet. Returns a negative libuv error in *err on failure.
  FdPoller(napi_env env, int fd, PollOwner* owner, int* err);
  ~FdPoller();
  FdPoller(const FdPoller&) = delete;
  FdPoller& operator=(const FdPoller&) = delete;

  // Polls for `events` (UV_READABLE | UV_WRITABLE), or stops when 0.
  void Watch(int events);
  void Ref();
  void Unref();
  // Stops polling and lets libuv finish closing the handle; the owner is
  // never called again. Idempotent. The fd itself is the owner's.
  void Close();
  bool closed() const { return state_ == nullptr; }

 private:
  struct State {
    uv_poll_t poll;
    PollOwner* owner = nullptr;
    napi_async_cleanup_hook_handle cleanup_hook = nullptr;
  };
  static void OnPoll(uv_poll_t* handle, int status, int events);
  static void OnClosed(uv_handle_t* handle);
  static void OnEnvTeardown(napi_async_cleanup_hook_handle handle, void* arg);

  State* state_ = nullptr;
};

}  // namespace rtnl
