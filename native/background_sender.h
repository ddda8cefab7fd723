// A thread that makes a socket's sendmsg calls in order, so the kernel's
// work for a large request (rtnetlink handles it inside sendmsg, on the
// sender's CPU) overlaps with JS building the next one. For a large dump
// it also reads: the kernel makes each next part of a dump inside
// recvmsg, so reading on this thread overlaps that work with JS decoding
// the part before. Results come back in order through an eventfd the
// owner polls.
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
  // One datagram read ahead, or the receive error met at its place.
  struct Datagram {
    std::vector<uint8_t> bytes;
    int32_t nsid = -1;
    int error = 0;
  };

  // Sends to `socket_fd` (not owned). Start() must succeed before use.
  explicit BackgroundSender(int socket_fd) : socket_fd_(socket_fd) {}
  ~BackgroundSender();
  BackgroundSender(const BackgroundSender&) = delete;
  BackgroundSender& operator=(const BackgroundSender&) = delete;

  // Creates the eventfd and the thread; returns 0 or an errno.
  int Start();
  // Queues one datagram (the bytes are owned by the queue from here on).
  // With read_until_seq != 0 the thread then reads the socket, queueing
  // what it reads, until a datagram holds NLMSG_DONE or NLMSG_ERROR with
  // that seq and `port` (the dump's end); the owner must not read the
  // socket itself until ReadingAhead() is false and the queue is empty.
  void Enqueue(std::vector<uint8_t> datagram, uint32_t read_until_seq = 0, uint32_t port = 0);
  // The errno of each datagram sent since the last call (0: sent), in
  // order. Clears the eventfd's count.
  std::vector<int> TakeResults();
  // Moves out up to max_datagrams read-ahead datagrams whose bytes fit in
  // `room` (at least one, if any is queued), in order.
  std::vector<Datagram> TakeRead(size_t room, size_t max_datagrams);
  // A read-ahead job is queued or running, or read datagrams wait.
  bool ReadingAhead();
  // Read datagrams wait to be taken.
  bool HasRead();
  // Send results wait to be taken.
  bool HasResults();
  // Makes the eventfd readable (again).
  void Signal();
  // Readable when results or read datagrams are waiting.
  int event_fd() const { return event_fd_; }
  // Stops after the sendmsg or read in progress; queued datagrams are
  // dropped. Joins the thread and closes the eventfd. Idempotent.
  void Stop();

 private:
  struct Job {
    std::vector<uint8_t> datagram;
    uint32_t read_until_seq = 0;
    uint32_t port = 0;
  };
  void Run();
  void ReadUntil(uint32_t seq, uint32_t port);

  const int socket_fd_;
  int event_fd_ = -1;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable wake_;
  // Signalled when read datagrams are taken (the reader waits past a cap).
  std::condition_variable drained_;
  std::deque<Job> queue_;
  std::vector<int> results_;
  std::deque<Datagram> read_;
  size_t read_bytes_ = 0;
  int read_jobs_ = 0;  // queued or running
  bool stopping_ = false;
};

}  // namespace rtnl
