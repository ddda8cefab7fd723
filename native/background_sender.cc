#include "background_sender.h"

#include <errno.h>
#include <linux/netlink.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <system_error>

namespace rtnl {

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

void BackgroundSender::Enqueue(std::vector<uint8_t> datagram) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    queue_.push_back(std::move(datagram));
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

void BackgroundSender::Stop() {
  if (!thread_.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_one();
  thread_.join();
  ::close(event_fd_);
  event_fd_ = -1;
}

void BackgroundSender::Run() {
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  for (;;) {
    std::vector<uint8_t> datagram;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      datagram = std::move(queue_.front());
      queue_.pop_front();
    }
    iovec iov{datagram.data(), datagram.size()};
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
    uint64_t one = 1;
    while (write(event_fd_, &one, sizeof(one)) < 0 && errno == EINTR) {
    }
  }
}

}  // namespace rtnl
