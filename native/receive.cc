#include "receive.h"

#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>

namespace rtnl {

ssize_t ReceiveDatagram(int fd, uint8_t* dst, size_t room, int32_t* nsid) {
  iovec iov{dst, room};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof(control);
  ssize_t n = recvmsg(fd, &msg, MSG_TRUNC | MSG_DONTWAIT);
  *nsid = -1;
  if (n < 0) return n;
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level == SOL_NETLINK && c->cmsg_type == NETLINK_LISTEN_ALL_NSID) {
      memcpy(nsid, CMSG_DATA(c), sizeof(*nsid));
    }
  }
  return n;
}

}  // namespace rtnl
