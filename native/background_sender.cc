#include "background_sender.h"

#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <system_error>

#include "receive.h"

namespace rtnl {

namespace {

// Read ahead at most this much before JS takes some.
constexpr size_t kMaxReadAhead = 4 * 1024 * 1024;
// Room for one datagram: more than any kernel datagram (see netlink_socket.cc).
constexpr size_t kDatagramRoom = 256 * 1024;

// Whether a datagram holds the end (NLMSG_DONE or NLMSG_ERROR) of the
// request with `seq`, sent from `port`.
bool EndsRequest(const uint8_t* data, size_t len, uint32_t seq, uint32_t port) {
  size_t pos = 0;
  while (pos + sizeof(nlmsghdr) <= len) {
    nlmsghdr h;
    memcpy(&h, data + pos, sizeof(h));
    if (h.nlmsg_len < sizeof(nlmsghdr) || pos + h.nlmsg_len > len) return false;
    if ((h.nlmsg_type == NLMSG_DONE || h.nlmsg_type == NLMSG_ERROR) && h.nlmsg_seq == seq &&
        h.nlmsg_pid == port) {
      return true;
    }
    pos += NLMSG_ALIGN(h.nlmsg_len);
  }
  return false;
}

}  // namespace

BackgroundSender::~BackgroundSender() { Stop(); }

int BackgroundSender::Start() {
  event_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (event_fd_ < 0) return errno;
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::system_error& e) {
    ::close(event_fd_);
    event_fd_ = -1;
    return e.code().value() != 0 ? e.code().value() : EAGAIN;
  }
  return 0;
}

void BackgroundSender::Enqueue(std::vector<uint8_t> datagram, uint32_t read_until_seq,
                               uint32_t port) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(Job{std::move(datagram), read_until_seq, port});
    if (read_until_seq != 0) read_jobs_++;
  }
  wake_.notify_one();
}

std::vector<int> BackgroundSender::TakeResults() {
  uint64_t count;
  // Only clears the readiness; the results themselves are under the lock.
  while (read(event_fd_, &count, sizeof(count)) < 0 && errno == EINTR) {
  }
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<int> out;
  out.swap(results_);
  return out;
}

std::vector<BackgroundSender::Datagram> BackgroundSender::TakeRead(size_t room,
                                                                   size_t max_datagrams) {
  std::vector<Datagram> out;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t used = 0;
    while (!read_.empty() && out.size() < max_datagrams) {
      size_t size = read_.front().bytes.size();
      if (!out.empty() && used + size > room) break;
      used += size;
      read_bytes_ -= size;
      bool error = read_.front().error != 0;
      out.push_back(std::move(read_.front()));
      read_.pop_front();
      if (error) break;  // reported after what came before it, then reading goes on
    }
  }
  if (!out.empty()) drained_.notify_one();
  return out;
}

bool BackgroundSender::ReadingAhead() {
  std::lock_guard<std::mutex> lock(mutex_);
  return read_jobs_ > 0 || !read_.empty();
}

bool BackgroundSender::HasResults() {
  std::lock_guard<std::mutex> lock(mutex_);
  return !results_.empty();
}

bool BackgroundSender::HasRead() {
  std::lock_guard<std::mutex> lock(mutex_);
  return !read_.empty();
}

void BackgroundSender::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_one();
  drained_.notify_one();
  thread_.join();
  ::close(event_fd_);
  event_fd_ = -1;
}

void BackgroundSender::Signal() {
  uint64_t one = 1;
  while (write(event_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
  }
}

void BackgroundSender::Run() {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    iovec iov{job.datagram.data(), job.datagram.size()};
    msghdr msg{};
    msg.msg_name = &kernel;
    msg.msg_namelen = sizeof(kernel);
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n;
    do {
      n = sendmsg(socket_fd_, &msg, 0);
    } while (n < 0 && errno == EINTR);
    int result = n < 0 ? errno : 0;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      results_.push_back(result);
    }
    Signal();
    if (job.read_until_seq != 0) {
      if (result == 0) ReadUntil(job.read_until_seq, job.port);
      std::lock_guard<std::mutex> lock(mutex_);
      read_jobs_--;
    }
    if (job.read_until_seq != 0) Signal();  // the owner may read the socket again
  }
}

// Reads datagrams into read_ until one ends the request (or stopping),
// waiting while kMaxReadAhead bytes are not yet taken.
void BackgroundSender::ReadUntil(uint32_t seq, uint32_t port) {
  std::vector<uint8_t> room(kDatagramRoom);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mutex_);
      drained_.wait(lock, [this] { return stopping_ || read_bytes_ < kMaxReadAhead; });
      if (stopping_) return;
    }
    Datagram d;
    ssize_t n = ReceiveDatagram(socket_fd_, room.data(), room.size(), &d.nsid);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        // Short waits, so Stop() is never kept long.
        pollfd p{socket_fd_, POLLIN, 0};
        poll(&p, 1, 20);
        continue;
      }
      d.error = errno;
    } else if (static_cast<size_t>(n) > room.size()) {
      d.error = EMSGSIZE;  // cut short, as in NetlinkSocket::ReadInto
    } else {
      d.bytes.assign(room.data(), room.data() + n);
    }
    bool ends = d.error == 0 && EndsRequest(d.bytes.data(), d.bytes.size(), seq, port);
    bool fatal = d.error != 0 && d.error != ENOBUFS;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      read_bytes_ += d.bytes.size();
      read_.push_back(std::move(d));
    }
    Signal();
    if (ends || fatal) return;
  }
}

}  // namespace rtnl
