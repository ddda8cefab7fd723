// Calling into JS from libuv callbacks (poll readiness), where no
// CallbackInfo exists and JS may be unable to run (a worker being
// terminated). Raw N-API with status checks, no C++ exceptions:
// node-addon-api's error helpers would abort the process there.
#pragma once

#include <napi.h>

namespace rtnl {

// Calls fn(...argv) in `context`. A JS exception thrown by fn becomes an
// uncaught exception, as for event handlers. Returns false if the call did
// not complete.
bool CallJs(napi_env env, napi_async_context context, napi_value fn, size_t argc, napi_value* argv);

// Calls the referenced fn(error) with a Node-style system error (`code`,
// positive `errno`, `syscall`). Opens its own handle scope, so it may be
// called straight from a libuv callback; takes a reference, not a value,
// because a value cannot be had outside a scope.
void CallJsWithSystemError(napi_env env, napi_async_context context, napi_ref fn, int err,
                           const char* syscall);

}  // namespace rtnl
