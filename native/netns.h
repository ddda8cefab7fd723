// Network-namespace syscalls that must never move the main thread.
#pragma once

#include <functional>

namespace rtnl {

// Runs `work` on a short-lived thread that first enters the network
// namespace `netns_fd` (or stays in the caller's one when it is -1), and
// returns what `work` returned. Namespaces are per thread, so the thread
// that called this, and libuv's pool, never change namespace. On failure
// to enter, returns -1 with *err set; `work` reports its own errors the
// same way.
int RunOnThreadInNetns(int netns_fd, const std::function<int(int* err)>& work, int* err);

}  // namespace rtnl
