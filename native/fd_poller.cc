#include "fd_poller.h"

namespace rtnl {

FdPoller::FdPoller(napi_env env, int fd, PollOwner* owner, int* err) {
  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  auto* state = new State();
  state->owner = owner;
  *err = uv_poll_init(loop, &state->poll, fd);
  if (*err < 0) {
    delete state;
    return;
  }
  state->poll.data = state;
  napi_add_async_cleanup_hook(env, OnEnvTeardown, state, &state->cleanup_hook);
  state_ = state;
}

FdPoller::~FdPoller() { Close(); }

void FdPoller::Watch(int events) {
  if (state_ == nullptr) return;
  if (events == 0) {
    uv_poll_stop(&state_->poll);
  } else {
    uv_poll_start(&state_->poll, events, OnPoll);
  }
}

void FdPoller::Ref() {
  if (state_ != nullptr) uv_ref(reinterpret_cast<uv_handle_t*>(&state_->poll));
}

void FdPoller::Unref() {
  if (state_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(&state_->poll));
}

// The State is freed in OnClosed, which also tells Node that a pending
// environment teardown may proceed.
void FdPoller::Close() {
  if (state_ == nullptr) return;
  State* state = state_;
  state_ = nullptr;
  state->owner = nullptr;
  uv_poll_stop(&state->poll);
  uv_close(reinterpret_cast<uv_handle_t*>(&state->poll), OnClosed);
}

void FdPoller::OnPoll(uv_poll_t* handle, int status, int events) {
  State* state = static_cast<State*>(handle->data);
  if (state->owner != nullptr) state->owner->OnPollEvents(status, events);
}

void FdPoller::OnClosed(uv_handle_t* handle) {
  State* state = static_cast<State*>(handle->data);
  if (state->cleanup_hook != nullptr) napi_remove_async_cleanup_hook(state->cleanup_hook);
  delete state;
}

// The owner is alive until its JS wrapper is finalized, which comes after
// teardown hooks; closing through it releases its fd too.
void FdPoller::OnEnvTeardown(napi_async_cleanup_hook_handle, void* arg) {
  State* state = static_cast<State*>(arg);
  if (state->owner != nullptr) state->owner->OnPollTeardown();
}

}  // namespace rtnl
