// Node-style system errors: an Error whose `code` is the errno name.
#pragma once

#include <napi.h>

namespace rtnl {

// Builds `Error("<CODE>: <strerror>, <syscall>")` with `code`, `errno`
// (positive, as in os.constants.errno) and `syscall` properties.
Napi::Error SystemError(Napi::Env env, int err, const char* syscall);

// Throws SystemError as a JS exception (C++ exceptions are enabled).
[[noreturn]] void ThrowSystemError(Napi::Env env, int err, const char* syscall);

}  // namespace rtnl
