// Reading one netlink datagram, as both readers do (the socket's owner on
// the loop thread, the sender thread while it reads a dump ahead).
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

namespace rtnl {

// recvmsg(fd, MSG_TRUNC | MSG_DONTWAIT) into dst[0, room): returns the
// datagram's full length (more than room: it was cut short) or -1 with
// errno; *nsid gets the NETLINK_LISTEN_ALL_NSID id it came with, or -1.
ssize_t ReceiveDatagram(int fd, uint8_t* dst, size_t room, int32_t* nsid);

}  // namespace rtnl
