#include "js_callback.h"

#include <string.h>

#include <string>

namespace rtnl {

bool CallJs(napi_env env, napi_async_context context, napi_value fn, size_t argc,
            napi_value* argv) {
  napi_value global;
  napi_value result;
  if (napi_get_global(env, &global) != napi_ok) return false;
  napi_status status = napi_make_callback(env, context, global, fn, argc, argv, &result);
  if (status == napi_ok) return true;
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) {
    napi_value exception;
    napi_valuetype type = napi_undefined;
    if (napi_get_and_clear_last_exception(env, &exception) == napi_ok &&
        napi_typeof(env, exception, &type) == napi_ok && type == napi_object) {
      // A handler threw: surface it as an uncaught exception, as Node does
      // for event handlers. (A terminating worker has no such exception.)
      napi_fatal_exception(env, exception);
    }
  }
  return false;
}

void CallJsWithSystemError(napi_env env, napi_async_context context, napi_ref fn, int err,
                           const char* syscall) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn_value;
  const char* name = strerrorname_np(err);
  std::string code = name != nullptr ? name : "E" + std::to_string(err);
  std::string message = code + ": " + strerror(err) + ", " + syscall;
  napi_value code_value, message_value, error, errno_value, syscall_value;
  if (napi_create_string_utf8(env, code.c_str(), code.size(), &code_value) == napi_ok &&
      napi_create_string_utf8(env, message.c_str(), message.size(), &message_value) == napi_ok &&
      napi_create_error(env, code_value, message_value, &error) == napi_ok &&
      napi_create_int32(env, err, &errno_value) == napi_ok &&
      napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &syscall_value) == napi_ok &&
      napi_set_named_property(env, error, "errno", errno_value) == napi_ok &&
      napi_set_named_property(env, error, "syscall", syscall_value) == napi_ok &&
      napi_get_reference_value(env, fn, &fn_value) == napi_ok && fn_value != nullptr) {
    CallJs(env, context, fn_value, 1, &error);
  }
  napi_close_handle_scope(env, scope);
}

}  // namespace rtnl
