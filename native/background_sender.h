// A thread that makes a socket's sendmsg calls in order, so the kernel's
// work for a large request (rtnetlink handles it inside sendmsg, on the
// sender's CPU) overlaps with JS building the next one. Results come
// back in order through an eventfd the owner polls.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

namespace rtnl {

class BackgroundSender {
 public:
  // Sends to `socket_fd` (not owned). Start() must succeed before use.
  explicit BackgroundSender(int socket_fd) : socket_fd_(socket_fd) {}
  ~BackgroundSender();
  BackgroundSender(const BackgroundSender&) = delete;
  BackgroundSender& operator=(const BackgroundSender&) = delete;

  // Creates the eventfd and the thread; returns 0 or an errno.
  int Start();
  // Queues one datagram (the bytes are owned by the queue from here on).
  void Enqueue(std::vector<uint8_t> datagram);
  // The errno of each datagram sent since the last call (0: sent), in
  // order. Clears the eventfd's count.
  std::vector<int> TakeResults();
  // Readable when results are waiting.
  int event_fd() const { return event_fd_; }
  // Stops after the sendmsg in progress; queued datagrams are dropped.
  // Joins the thread and closes the eventfd. Idempotent.
  void Stop();

 private:
  void Run();

  const int socket_fd_;
  int event_fd_ = -1;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::vector<uint8_t>> queue_;
  std::vector<int> results_;
  bool stopping_ = false;
};

}  // namespace rtnl
