// One AF_NETLINK socket, watched by a uv_poll handle on the owning loop.
// Thin on purpose: it sends bytes, tells JS when datagrams are waiting and
// reads them into memory JS owns, and sets socket options. Everything that
// knows about messages lives in lib/.

#include <errno.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "addon.h"
#include "background_sender.h"
#include "errors.h"
#include "fd_poller.h"
#include "js_callback.h"
#include "netns.h"
#include "receive.h"

namespace rtnl {

namespace {

// Every datagram is read straight into the caller's memory, with at
// least this much room: no kernel datagram is this big in practice (an
// attribute's length is 16 bits; a dump's datagrams are a few pages), so
// none needs a MSG_PEEK first to learn its size (a second syscall per
// datagram, and a batch's ACKs are one datagram each).
constexpr size_t kReadRoom = 256 * 1024;
// When only ACKs and errors are owed (the engine says when), many
// datagrams are read per syscall, each into a slot this big: an ACK is 36
// bytes with NETLINK_CAP_ACK, an error with its extended ACK a few
// hundred. kSmallSlots slots fill kReadRoom.
constexpr size_t kSmallSlot = 2048;
constexpr size_t kSmallSlots = kReadRoom / kSmallSlot;

// After a failed read: whether to read on (EINTR; ENOBUFS, a pending
// socket error that comes back first and is cleared: the kernel dropped
// something, what is queued is still there). Any error but "nothing
// queued" is kept in *pending_error for the caller to report.
bool ReadGoesOn(int err, int* pending_error) {
  if (err == EINTR) return true;
  if (err == ENOBUFS) {
    *pending_error = ENOBUFS;
    return true;
  }
  if (err != EAGAIN && err != EWOULDBLOCK) *pending_error = err;
  return false;
}

class NetlinkSocket;

// Polls the background sender's eventfd for its results.
class SendResultWatcher : public PollOwner {
 public:
  explicit SendResultWatcher(NetlinkSocket* socket) : socket_(socket) {}
  void OnPollEvents(int status, int events) override;
  void OnPollTeardown() override;

 private:
  NetlinkSocket* socket_;
};

class NetlinkSocket : public Napi::ObjectWrap<NetlinkSocket>, public PollOwner {
  friend class SendResultWatcher;

 public:
  static Napi::Function Define(Napi::Env env);
  explicit NetlinkSocket(const Napi::CallbackInfo& info);
  ~NetlinkSocket() override;

 private:
  Napi::Value PortId(const Napi::CallbackInfo& info);
  Napi::Value Fd(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value SendInBackground(const Napi::CallbackInfo& info);
  Napi::Value ReadInto(const Napi::CallbackInfo& info);
  Napi::Value SetOption(const Napi::CallbackInfo& info);
  Napi::Value GetOption(const Napi::CallbackInfo& info);
  Napi::Value Ref(const Napi::CallbackInfo& info);
  Napi::Value Unref(const Napi::CallbackInfo& info);
  Napi::Value Pause(const Napi::CallbackInfo& info);
  Napi::Value Resume(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  void CheckOpen(Napi::Env env) const;
  void StartPolling();
  void CloseNow();
  void OnPollEvents(int status, int events) override;
  void OnPollTeardown() override { CloseNow(); }
  void OnReadable(int status);
  void OnSendResults();
  void DeliverError(int err, const char* syscall);
  bool CallJs(Napi::FunctionReference& fn, size_t argc, napi_value* argv);

  int fd_ = -1;
  uint32_t port_id_ = 0;
  bool paused_ = false;
  // The sender thread reads the socket (a dump); readInto takes from it.
  bool reading_ahead_ = false;
  bool referenced_ = true;
  // Lives apart from the JS wrapper: libuv may call back after the wrapper
  // is garbage-collected (uv_close completes asynchronously).
  std::unique_ptr<FdPoller> poller_;
  Napi::FunctionReference on_readable_;
  Napi::FunctionReference on_error_;
  Napi::FunctionReference on_sent_;
  // Made on the first sendInBackground(); see background_sender.h.
  std::unique_ptr<BackgroundSender> sender_;
  SendResultWatcher result_watcher_{this};
  std::unique_ptr<FdPoller> result_poller_;
  Napi::AsyncContext* async_context_ = nullptr;
};

Napi::Function NetlinkSocket::Define(Napi::Env env) {
  return DefineClass(env, "NetlinkSocket",
                     {
                         InstanceMethod("portId", &NetlinkSocket::PortId),
                         InstanceMethod("fd", &NetlinkSocket::Fd),
                         InstanceMethod("send", &NetlinkSocket::Send),
                         InstanceMethod("sendInBackground", &NetlinkSocket::SendInBackground),
                         InstanceMethod("readInto", &NetlinkSocket::ReadInto),
                         InstanceMethod("setOption", &NetlinkSocket::SetOption),
                         InstanceMethod("getOption", &NetlinkSocket::GetOption),
                         InstanceMethod("ref", &NetlinkSocket::Ref),
                         InstanceMethod("unref", &NetlinkSocket::Unref),
                         InstanceMethod("pause", &NetlinkSocket::Pause),
                         InstanceMethod("resume", &NetlinkSocket::Resume),
                         InstanceMethod("close", &NetlinkSocket::Close),
                     });
}

// new NetlinkSocket(protocol, netnsFd | -1, onReadable(), onError(err)[, onSent(errors)])
// onReadable: datagrams are waiting (read them with readInto). onSent
// gets, in order, null or a system error for each sendInBackground()
// datagram.
NetlinkSocket::NetlinkSocket(const Napi::CallbackInfo& info)
    : Napi::ObjectWrap<NetlinkSocket>(info) {
  Napi::Env env = info.Env();
  if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsFunction() ||
      !info[3].IsFunction()) {
    throw Napi::TypeError::New(env, "NetlinkSocket(protocol, netnsFd, onData, onError)");
  }
  int protocol = info[0].As<Napi::Number>().Int32Value();
  int netns_fd = info[1].As<Napi::Number>().Int32Value();

  int err = 0;
  // The socket belongs to the namespace of the thread that creates it, for
  // its whole life, wherever it is used from later.
  int fd = RunOnThreadInNetns(
      netns_fd,
      [protocol](int* e) {
        int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, protocol);
        if (s < 0) *e = errno;
        return s;
      },
      &err);
  if (fd < 0) ThrowSystemError(env, err, "socket");

  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) < 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) < 0) {
    int bind_err = errno;
    ::close(fd);
    ThrowSystemError(env, bind_err, "bind");
  }
  fd_ = fd;
  port_id_ = addr.nl_pid;
  on_readable_ = Napi::Persistent(info[2].As<Napi::Function>());
  on_error_ = Napi::Persistent(info[3].As<Napi::Function>());
  if (info.Length() > 4 && info[4].IsFunction()) {
    on_sent_ = Napi::Persistent(info[4].As<Napi::Function>());
  }
  async_context_ = new Napi::AsyncContext(env, "rtnl:NetlinkSocket");

  int poll_err = 0;
  poller_ = std::make_unique<FdPoller>(env, fd_, this, &poll_err);
  if (poll_err < 0) {
    poller_.reset();
    ::close(fd_);
    fd_ = -1;
    ThrowSystemError(env, -poll_err, "uv_poll_init");
  }
  StartPolling();
}

NetlinkSocket::~NetlinkSocket() {
  CloseNow();
  delete async_context_;
}

void NetlinkSocket::CheckOpen(Napi::Env env) const {
  if (fd_ < 0) ThrowSystemError(env, EBADF, "netlink socket (closed)");
}

void NetlinkSocket::StartPolling() {
  if (poller_ && !paused_ && !reading_ahead_) poller_->Watch(UV_READABLE);
}

// Stops polling (the poller finishes closing its handle on its own) and
// closes the fd. Idempotent.
void NetlinkSocket::CloseNow() {
  if (!poller_) return;
  poller_->Close();
  poller_.reset();
  if (result_poller_) {
    result_poller_->Close();
    result_poller_.reset();
  }
  // Joined before the fd closes: the thread may be inside sendmsg on it.
  if (sender_) sender_->Stop();
  sender_.reset();
  ::close(fd_);
  fd_ = -1;
  on_readable_.Reset();
  on_error_.Reset();
  on_sent_.Reset();
}

void SendResultWatcher::OnPollEvents(int, int) { socket_->OnSendResults(); }
void SendResultWatcher::OnPollTeardown() { socket_->CloseNow(); }

// Reports the background sender's results to JS, in order.
void NetlinkSocket::OnSendResults() {
  if (!sender_) return;
  // The results first: a send's result is pushed before anything read
  // after it, so a failed datagram is failed before replies that came
  // later (a fence's ACK) could settle it otherwise.
  std::vector<int> results = sender_->TakeResults();
  if (!results.empty() && !on_sent_.IsEmpty()) {
    napi_env env = on_sent_.Env();
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) != napi_ok) return;
    napi_value list;
    if (napi_create_array_with_length(env, results.size(), &list) == napi_ok) {
      bool ok = true;
      for (size_t i = 0; ok && i < results.size(); i++) {
        napi_value item;
        if (results[i] == 0) {
          ok = napi_get_null(env, &item) == napi_ok;
        } else {
          item = SystemError(env, results[i], "sendmsg").Value();
        }
        ok = ok && napi_set_element(env, list, static_cast<uint32_t>(i), item) == napi_ok;
      }
      if (ok) CallJs(on_sent_, 1, &list);
    }
    napi_close_handle_scope(env, scope);
    if (fd_ < 0 || !sender_) return;  // closed by a callback
  }
  if (reading_ahead_ && !on_readable_.IsEmpty()) {
    // Read datagrams wait (or the read is over): JS takes them through readInto.
    napi_env env = on_readable_.Env();
    napi_handle_scope scope;
    if (napi_open_handle_scope(env, &scope) == napi_ok) {
      CallJs(on_readable_, 0, nullptr);
      napi_close_handle_scope(env, scope);
    }
    if (fd_ < 0 || !sender_) return;
    // JS reads a bounded amount per wake-up; what it left must wake it again
    // (the eventfd's count was cleared above, and the thread may be done).
    if (!paused_ && sender_->HasRead()) sender_->Signal();
  }
}

void NetlinkSocket::OnPollEvents(int status, int) { OnReadable(status); }

bool NetlinkSocket::CallJs(Napi::FunctionReference& fn, size_t argc, napi_value* argv) {
  return rtnl::CallJs(fn.Env(), static_cast<napi_async_context>(*async_context_), fn.Value(), argc,
                      argv);
}

void NetlinkSocket::DeliverError(int err, const char* syscall) {
  CallJsWithSystemError(on_error_.Env(), static_cast<napi_async_context>(*async_context_),
                        static_cast<napi_ref>(on_error_), err, syscall);
}

// Drains every datagram that is ready (up to a per-wakeup budget), peeking
// first so a datagram larger than the buffer grows it instead of being
// truncated and lost, then hands them to JS in one call.
void NetlinkSocket::OnReadable(int status) {
  if (status < 0) {
    // libuv reports POLLERR as EBADF and stops the handle. On a netlink
    // socket POLLERR means a pending socket error, ENOBUFS when the kernel
    // dropped messages for us: fetch (and clear) it, report it, and poll on.
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
      DeliverError(errno, "uv_poll");  // the fd itself is bad: stop for good
      return;
    }
    if (err != 0) DeliverError(err, "recvmsg");
    if (fd_ < 0) return;  // closed by the error handler
    StartPolling();
  }
  // What the sender thread reported comes first: it reports a datagram
  // before sending the next, so a send error is known before the replies
  // to what followed it (a batch's fence), whichever poll libuv runs first.
  OnSendResults();
  if (fd_ < 0) return;
  napi_env env = on_readable_.Env();
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  CallJs(on_readable_, 0, nullptr);
  napi_close_handle_scope(env, scope);
}

// readInto(slab: Buffer, offset, meta: Int32Array[, maxDatagrams[, smallReplies]]) reads
// the datagrams that are waiting straight into slab from offset, while at
// least 256 KiB of room is left there, and at most maxDatagrams (0: as many
// as meta has pairs for); meta gets [length, nsid] per datagram (nsid -1
// unless NETLINK_LISTEN_ALL_NSID supplied one). Returns the datagram
// count, or [count, error] when a receive error came after them (ENOBUFS:
// the kernel dropped messages; EMSGSIZE: a datagram was cut short).
// smallReplies: the caller owes only ACKs and errors on a socket without
// multicast groups, so recvmmsg takes many at once (see kSmallSlot).
Napi::Value NetlinkSocket::ReadInto(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (info.Length() < 3 || !info[0].IsBuffer() || !info[1].IsNumber() || !info[2].IsTypedArray()) {
    throw Napi::TypeError::New(env, "readInto(slab, offset, meta[, maxDatagrams[, smallReplies]])");
  }
  Napi::Buffer<uint8_t> slab = info[0].As<Napi::Buffer<uint8_t>>();
  int64_t offset = info[1].As<Napi::Number>().Int64Value();
  Napi::TypedArray meta_array = info[2].As<Napi::TypedArray>();
  if (meta_array.TypedArrayType() != napi_int32_array || meta_array.ElementLength() < 2 ||
      offset < 0 || static_cast<size_t>(offset) > slab.Length()) {
    throw Napi::RangeError::New(env, "readInto: bad offset or meta");
  }
  size_t max_datagrams = meta_array.ElementLength() / 2;
  if (info.Length() > 3 && info[3].IsNumber()) {
    int64_t limit = info[3].As<Napi::Number>().Int64Value();
    if (limit > 0 && static_cast<size_t>(limit) < max_datagrams) max_datagrams = limit;
  }
  bool small_replies =
      info.Length() > 4 && info[4].IsBoolean() && info[4].As<Napi::Boolean>().Value();
  int32_t* meta = reinterpret_cast<int32_t*>(
      static_cast<uint8_t*>(meta_array.ArrayBuffer().Data()) + meta_array.ByteOffset());
  uint8_t* base = slab.Data() + offset;
  size_t room = slab.Length() - static_cast<size_t>(offset);
  size_t used = 0;
  size_t count = 0;
  int pending_error = 0;
  if (reading_ahead_) {
    // What the sender thread read, in order; the socket is its alone until
    // the read is over and all of it is taken.
    std::vector<BackgroundSender::Datagram> got = sender_->TakeRead(room, max_datagrams);
    for (BackgroundSender::Datagram& d : got) {
      if (d.error != 0) {
        pending_error = d.error;
        break;
      }
      memcpy(base + used, d.bytes.data(), d.bytes.size());
      meta[2 * count] = static_cast<int32_t>(d.bytes.size());
      meta[2 * count + 1] = d.nsid;
      count++;
      used += d.bytes.size();
    }
    if (got.empty() && !sender_->ReadingAhead()) {
      reading_ahead_ = false;
      StartPolling();
    } else {
      max_datagrams = 0;  // none from the socket this time
    }
  }
  if (sender_ && max_datagrams > 0 && sender_->HasResults()) {
    // The sender thread has reported sends JS has not heard of: those go
    // first (OnSendResults), then the socket, so no reply is read before
    // the result of a send that came before it.
    sender_->Signal();
    max_datagrams = 0;
  }
  bool drained = false;
  while (small_replies && !drained && count < max_datagrams && room - used >= kReadRoom) {
    mmsghdr msgs[kSmallSlots];
    iovec iovs[kSmallSlots];
    size_t slots = std::min(kSmallSlots, max_datagrams - count);
    uint8_t* first_slot = base + used;
    for (size_t i = 0; i < slots; i++) {
      iovs[i] = iovec{first_slot + i * kSmallSlot, kSmallSlot};
      msgs[i] = mmsghdr{};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd_, msgs, static_cast<unsigned int>(slots), MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (ReadGoesOn(errno, &pending_error)) continue;
      drained = true;
      break;
    }
    // Pack them back to back (each slot starts at or after where it goes).
    for (int i = 0; i < n; i++) {
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        pending_error = EMSGSIZE;  // cut short: see below
        continue;
      }
      size_t len = msgs[i].msg_len;
      memmove(base + used, first_slot + static_cast<size_t>(i) * kSmallSlot, len);
      meta[2 * count] = static_cast<int32_t>(len);
      meta[2 * count + 1] = -1;
      count++;
      used += len;
    }
    if (static_cast<size_t>(n) < slots) drained = true;  // fewer than asked: none left
  }
  while (!drained && count < max_datagrams && room - used >= kReadRoom) {
    int32_t nsid = -1;
    ssize_t n = ReceiveDatagram(fd_, base + used, room - used, &nsid);
    if (n < 0) {
      if (ReadGoesOn(errno, &pending_error)) continue;
      break;
    }
    if (static_cast<size_t>(n) > room - used) {
      // Cut short: what it said is lost. The engine fails every request
      // that may have been waiting for it.
      pending_error = EMSGSIZE;
      continue;
    }
    meta[2 * count] = static_cast<int32_t>(n);
    meta[2 * count + 1] = nsid;
    count++;
    used += static_cast<size_t>(n);
  }
  if (pending_error == 0) return Napi::Number::New(env, static_cast<double>(count));
  Napi::Array out = Napi::Array::New(env, 2);
  out.Set(0u, Napi::Number::New(env, static_cast<double>(count)));
  out.Set(1u, SystemError(env, pending_error, "recvmsg").Value());
  return out;
}

Napi::Value NetlinkSocket::PortId(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), port_id_);
}

Napi::Value NetlinkSocket::Fd(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), fd_);
}

// send(buffers: Buffer[]) -> bytes sent. All buffers go out in one sendmsg
// (one datagram the kernel processes message by message).
Napi::Value NetlinkSocket::Send(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (info.Length() < 1 || !info[0].IsArray()) {
    throw Napi::TypeError::New(env, "send(buffers: Buffer[])");
  }
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<iovec> iov(list.Length());
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list[i];
    if (!item.IsTypedArray()) throw Napi::TypeError::New(env, "send: every item must be a Buffer");
    Napi::Uint8Array bytes = item.As<Napi::Uint8Array>();
    iov[i].iov_base = bytes.Data();
    iov[i].iov_len = bytes.ByteLength();
  }
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  msghdr msg{};
  msg.msg_name = &kernel;
  msg.msg_namelen = sizeof(kernel);
  msg.msg_iov = iov.data();
  msg.msg_iovlen = iov.size();
  ssize_t n;
  do {
    n = sendmsg(fd_, &msg, 0);
  } while (n < 0 && errno == EINTR);
  if (n < 0) ThrowSystemError(env, errno, "sendmsg");
  return Napi::Number::New(env, static_cast<double>(n));
}

// sendInBackground(buffers: Buffer[][, readUntilSeq]): the buffers,
// copied, go out as one datagram from the sender thread, after any queued
// before; onSent reports how each went. With readUntilSeq (a dump's seq)
// the thread then reads the socket until that request's end, and
// readInto takes what it read; onReadable says when there is some.
Napi::Value NetlinkSocket::SendInBackground(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (info.Length() < 1 || !info[0].IsArray()) {
    throw Napi::TypeError::New(env, "sendInBackground(buffers: Buffer[])");
  }
  if (on_sent_.IsEmpty()) throw Napi::Error::New(env, "sendInBackground: no onSent callback");
  Napi::Array list = info[0].As<Napi::Array>();
  std::vector<uint8_t> datagram;
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value item = list[i];
    if (!item.IsTypedArray()) throw Napi::TypeError::New(env, "send: every item must be a Buffer");
    Napi::Uint8Array bytes = item.As<Napi::Uint8Array>();
    datagram.insert(datagram.end(), bytes.Data(), bytes.Data() + bytes.ByteLength());
  }
  if (!sender_) {
    auto sender = std::make_unique<BackgroundSender>(fd_);
    int err = sender->Start();
    if (err != 0) ThrowSystemError(env, err, "sender thread");
    int poll_err = 0;
    auto poller = std::make_unique<FdPoller>(env, sender->event_fd(), &result_watcher_, &poll_err);
    if (poll_err < 0) ThrowSystemError(env, -poll_err, "uv_poll_init");
    if (!referenced_) poller->Unref();
    poller->Watch(UV_READABLE);
    sender_ = std::move(sender);
    result_poller_ = std::move(poller);
  }
  uint32_t read_until_seq = 0;
  if (info.Length() > 1 && info[1].IsNumber()) {
    read_until_seq = info[1].As<Napi::Number>().Uint32Value();
  }
  if (read_until_seq != 0) {
    // From now on the thread reads; the poll would race it.
    reading_ahead_ = true;
    poller_->Watch(0);
  }
  sender_->Enqueue(std::move(datagram), read_until_seq, port_id_);
  return env.Undefined();
}

// setOption(level, name, value: number): int-valued setsockopt.
Napi::Value NetlinkSocket::SetOption(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (info.Length() < 3 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber()) {
    throw Napi::TypeError::New(env, "setOption(level, name, value)");
  }
  int level = info[0].As<Napi::Number>().Int32Value();
  int name = info[1].As<Napi::Number>().Int32Value();
  int value = info[2].As<Napi::Number>().Int32Value();
  if (setsockopt(fd_, level, name, &value, sizeof(value)) < 0) {
    ThrowSystemError(env, errno, "setsockopt");
  }
  return env.Undefined();
}

Napi::Value NetlinkSocket::GetOption(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  CheckOpen(env);
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "getOption(level, name)");
  }
  int value = 0;
  socklen_t len = sizeof(value);
  if (getsockopt(fd_, info[0].As<Napi::Number>().Int32Value(),
                 info[1].As<Napi::Number>().Int32Value(), &value, &len) < 0) {
    ThrowSystemError(env, errno, "getsockopt");
  }
  return Napi::Number::New(env, value);
}

// Both polls follow: while the sender thread reads ahead, the socket's
// own poll is stopped, and only the results' poll keeps the loop alive.
Napi::Value NetlinkSocket::Ref(const Napi::CallbackInfo& info) {
  referenced_ = true;
  if (poller_) poller_->Ref();
  if (result_poller_) result_poller_->Ref();
  return info.Env().Undefined();
}

Napi::Value NetlinkSocket::Unref(const Napi::CallbackInfo& info) {
  referenced_ = false;
  if (poller_) poller_->Unref();
  if (result_poller_) result_poller_->Unref();
  return info.Env().Undefined();
}

// pause()/resume(): stop and restart reading, so a slow consumer leaves
// datagrams in the kernel's queue instead of in our memory.
Napi::Value NetlinkSocket::Pause(const Napi::CallbackInfo& info) {
  paused_ = true;
  if (poller_) poller_->Watch(0);
  return info.Env().Undefined();
}

Napi::Value NetlinkSocket::Resume(const Napi::CallbackInfo& info) {
  paused_ = false;
  StartPolling();
  return info.Env().Undefined();
}

Napi::Value NetlinkSocket::Close(const Napi::CallbackInfo& info) {
  CloseNow();
  return info.Env().Undefined();
}

}  // namespace

Napi::Object InitNetlinkSocket(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = NetlinkSocket::Define(env);
  env.GetInstanceData<AddonData>()->netlink_socket_constructor = Napi::Persistent(ctor);
  exports.Set("NetlinkSocket", ctor);
  return exports;
}

}  // namespace rtnl
