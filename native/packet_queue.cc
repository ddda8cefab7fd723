// A file descriptor that carries whole packets per read(2)/write(2) (a
// tun/tap queue), watched by a uv_poll handle: readable packets are handed
// to JS in batches, writes are synchronous and non-blocking, and JS can
// ask to be told when the fd is writable again. libuv's fs streams would
// block pool threads on it and net.Socket refuses character devices.

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <memory>
#include <vector>

#include "addon.h"
#include "errors.h"
#include "fd_poller.h"
#include "js_callback.h"

namespace rtnl {

namespace {

// A packet is at most 64 KiB plus a virtio-net header and packet info.
constexpr size_t kMaxPacket = 65536 + 64;
constexpr size_t kBatchBytes = 1024 * 1024;
constexpr size_t kMaxPacketsPerWakeup = 256;

class PacketQueue : public Napi::ObjectWrap<PacketQueue>, public PollOwner {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit PacketQueue(const Napi::CallbackInfo& info);
  ~PacketQueue() override;

 private:
  Napi::Value Write(const Napi::CallbackInfo& info);
  Napi::Value WaitWritable(const Napi::CallbackInfo& info);
  Napi::Value Pause(const Napi::CallbackInfo& info);
  Napi::Value Resume(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void UpdatePolling();
  void CloseNow();
  void OnPollEvents(int status, int events) override;
  void OnPollTeardown() override { CloseNow(); }
  void ReadPackets();

  int fd_ = -1;
  bool reading_ = true;
  bool want_writable_ = false;
  std::unique_ptr<FdPoller> poller_;  // outlives the wrapper until libuv has closed it
  std::vector<uint8_t> buffer_;
  Napi::FunctionReference on_packets_;
  Napi::FunctionReference on_writable_;
  Napi::FunctionReference on_error_;
  Napi::AsyncContext* async_context_ = nullptr;
};

Napi::Function PacketQueue::Define(Napi::Env env) {
  return DefineClass(env, "PacketQueue",
                     {
                         InstanceMethod("write", &PacketQueue::Write),
                         InstanceMethod("waitWritable", &PacketQueue::WaitWritable),
                         InstanceMethod("pause", &PacketQueue::Pause),
                         InstanceMethod("resume", &PacketQueue::Resume),
                         InstanceMethod("ref", &PacketQueue::Ref),
                         InstanceMethod("unref", &PacketQueue::Unref),
                         InstanceMethod("close", &PacketQueue::Close),
                     });
}

// new PacketQueue(fd, onPackets(buf, lengths: Int32Array), onWritable(), onError(err))
// Takes ownership of fd (non-blocking), which close() closes.
PacketQueue::PacketQueue(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PacketQueue>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsFunction() || !info[2].IsFunction() ||
      !info[3].IsFunction()) {
    throw Napi::TypeError::New(env, "PacketQueue(fd, onPackets, onWritable, onError)");
  }
  fd_ = info[0].As<Napi::Number>().Int32Value();
  on_packets_ = Napi::Persistent(info[1].As<Napi::Function>());
  on_writable_ = Napi::Persistent(info[2].As<Napi::Function>());
  on_error_ = Napi::Persistent(info[3].As<Napi::Function>());
  async_context_ = new Napi::AsyncContext(env, "rtnl:PacketQueue");
  int err = 0;
  poller_ = std::make_unique<FdPoller>(env, fd_, this, &err);
  if (err < 0) {
    poller_.reset();
    ThrowSystemError(env, -err, "uv_poll_init");
  }
  UpdatePolling();
}

PacketQueue::~PacketQueue() {
  CloseNow();
  delete async_context_;
}

void PacketQueue::UpdatePolling() {
  if (poller_) poller_->Watch((reading_ ? UV_READABLE : 0) | (want_writable_ ? UV_WRITABLE : 0));
}

void PacketQueue::CloseNow() {
  if (!poller_) return;
  poller_->Close();
  poller_.reset();
  ::close(fd_);
  fd_ = -1;
  on_packets_.Reset();
  on_writable_.Reset();
  on_error_.Reset();
}

void PacketQueue::OnPollEvents(int status, int events) {
  napi_async_context context = static_cast<napi_async_context>(*async_context_);
  if (status < 0) {
    // POLLERR, which libuv reports as EBADF (and stops the handle): report
    // the pending error itself where the fd has one; the stream ends.
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err == 0) err = -status;
    CallJsWithSystemError(on_error_.Env(), context, static_cast<napi_ref>(on_error_), err,
                          "uv_poll");
    return;
  }
  if ((events & UV_WRITABLE) != 0 && want_writable_) {
    want_writable_ = false;
    UpdatePolling();
    napi_env env = on_writable_.Env();
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    CallJs(env, context, on_writable_.Value(), 0, nullptr);
    napi_close_handle_scope(env, scope);
  }
  if ((events & UV_READABLE) != 0 && reading_ && fd_ >= 0) ReadPackets();
}

// Reads packets until the fd is drained or the batch is full, then hands
// them to JS in one call: concatenated bytes and each packet's length.
void PacketQueue::ReadPackets() {
  if (buffer_.size() < kBatchBytes) buffer_.resize(kBatchBytes);
  std::vector<int32_t> lengths;
  size_t used = 0;
  int pending_error = 0;
  while (fd_ >= 0 && lengths.size() < kMaxPacketsPerWakeup && buffer_.size() - used >= kMaxPacket) {
    ssize_t n = read(fd_, buffer_.data() + used, kMaxPacket);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) pending_error = errno;
      break;
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
    lengths.push_back(static_cast<int32_t>(n));
  }
  napi_async_context context = static_cast<napi_async_context>(*async_context_);
  if (!lengths.empty()) {
    napi_env env = on_packets_.Env();
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    void* copy = nullptr;
    void* lengths_data = nullptr;
    napi_value argv[2];
    napi_value lengths_buffer;
    size_t lengths_bytes = lengths.size() * sizeof(int32_t);
    if (napi_create_buffer_copy(env, used, buffer_.data(), &copy, &argv[0]) == napi_ok &&
        napi_create_arraybuffer(env, lengths_bytes, &lengths_data, &lengths_buffer) == napi_ok &&
        napi_create_typedarray(env, napi_int32_array, lengths.size(), lengths_buffer, 0,
                               &argv[1]) == napi_ok) {
      memcpy(lengths_data, lengths.data(), lengths_bytes);
      CallJs(env, context, on_packets_.Value(), 2, argv);
    }
    napi_close_handle_scope(env, scope);
  }
  if (pending_error != 0 && fd_ >= 0) {
    CallJsWithSystemError(on_error_.Env(), context, static_cast<napi_ref>(on_error_), pending_error,
                          "read");
  }
}

// write(packet) -> bytes written, or -1 if the fd would block (then call
// waitWritable() and retry on onWritable). Other errors throw.
Napi::Value PacketQueue::Write(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (fd_ < 0) ThrowSystemError(env, EBADF, "write (closed)");
  if (info.Length() < 1 || !info[0].IsTypedArray())
    throw Napi::TypeError::New(env, "write(packet)");
  Napi::Uint8Array packet = info[0].As<Napi::Uint8Array>();
  ssize_t n;
  do {
    n = write(fd_, packet.Data(), packet.ByteLength());
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK) return Napi::Number::New(env, -1);
    ThrowSystemError(env, errno, "write");
  }
  return Napi::Number::New(env, static_cast<double>(n));
}

Napi::Value PacketQueue::WaitWritable(const Napi::CallbackInfo& info) {
  want_writable_ = true;
  UpdatePolling();
  return info.Env().Undefined();
}

// pause()/resume(): backpressure from the JS stream; packets wait in the
// kernel's queue (which drops when full, as a NIC would).
Napi::Value PacketQueue::Pause(const Napi::CallbackInfo& info) {
  reading_ = false;
  UpdatePolling();
  return info.Env().Undefined();
}

Napi::Value PacketQueue::Resume(const Napi::CallbackInfo& info) {
  reading_ = true;
  UpdatePolling();
  return info.Env().Undefined();
}

Napi::Value PacketQueue::Ref(const Napi::CallbackInfo& info) {
  if (poller_) poller_->Ref();
  return info.Env().Undefined();
}

Napi::Value PacketQueue::Unref(const Napi::CallbackInfo& info) {
  if (poller_) poller_->Unref();
  return info.Env().Undefined();
}

Napi::Value PacketQueue::Close(const Napi::CallbackInfo& info) {
  CloseNow();
  return info.Env().Undefined();
}

}  // namespace

Napi::Object InitPacketQueue(Napi::Env env, Napi::Object exports) {
  exports.Set("PacketQueue", PacketQueue::Define(env));
  return exports;
}

}  // namespace rtnl
