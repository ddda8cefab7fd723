/*
 * Raw netlink baseline for `npm run bench`: the fastest plain C program
 * doing each workload, so rtnl's numbers have a floor to be compared with.
 * Every request is built back to back into one large buffer and sent in
 * chunks of about 64 KiB (one sendmsg each); rtnetlink handles a sendmsg
 * synchronously, so the ACKs for a chunk are queued when it returns and
 * are drained before the next chunk. Dumps only count messages.
 *
 * Built by bench/run.js with `cc -O2` into a temporary directory.
 *
 *   baseline [--netns NAME] add-routes N DEV      N /32 routes from 16.0.0.0 via 10.0.0.2 dev DEV
 *   baseline [--netns NAME] dump-routes           count the main table's IPv4 routes
 *   baseline [--netns NAME] add-veth N            veth pairs bv<i> / bp<i>
 *   baseline [--netns NAME] dump-links            count links
 *   baseline [--netns NAME] add-addrs N DEVS      N /32 addresses from 172.16.0.0, round robin on DEVS (a,b,..)
 *   baseline netns N PREFIX                       create N named namespaces like `ip netns add`, then delete them
 *
 * Prints one JSON line: {"seconds":..,"count":..,"errors":..,"firstError":..}.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)
#define RCVBUF (64 * 1024 * 1024)
#define ALIGN4(n) (((n) + 3u) & ~3u)

static int nl_fd = -1;
static uint32_t next_seq = 1;
static long errors_seen;
static int first_error;

static void die(const char *what) {
  fprintf(stderr, "baseline: %s: %s\n", what, strerror(errno));
  exit(1);
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void open_socket(void) {
  nl_fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (nl_fd < 0) die("socket");
  int size = RCVBUF;
  if (setsockopt(nl_fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) die("SO_RCVBUFFORCE");
  size = 1024 * 1024;
  if (setsockopt(nl_fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0) die("SO_SNDBUFFORCE");
  int on = 1;
  /* Short ACKs (the request is not echoed back) and kernel-side dump filters. */
  setsockopt(nl_fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
  setsockopt(nl_fd, SOL_NETLINK, NETLINK_GET_STRICT_CHK, &on, sizeof on);
  struct sockaddr_nl local = {.nl_family = AF_NETLINK};
  if (bind(nl_fd, (struct sockaddr *)&local, sizeof local) < 0) die("bind");
}

/* ---- message building: a growable byte buffer of whole messages ---- */

struct buf {
  unsigned char *data;
  size_t len, cap;
};

static void *reserve(struct buf *b, size_t n) {
  if (b->len + n > b->cap) {
    b->cap = (b->cap ? b->cap * 2 : 1 << 20) + n;
    b->data = realloc(b->data, b->cap);
    if (!b->data) die("realloc");
  }
  void *p = b->data + b->len;
  memset(p, 0, n);
  b->len += n;
  return p;
}

static struct nlmsghdr *begin_msg(struct buf *b, uint16_t type, uint16_t flags) {
  struct nlmsghdr *h = reserve(b, sizeof *h);
  h->nlmsg_type = type;
  h->nlmsg_flags = flags;
  h->nlmsg_seq = next_seq++;
  return h;
}

/* Messages move when the buffer grows, so they are addressed by offset. */
static void end_msg(struct buf *b, size_t start) {
  ((struct nlmsghdr *)(b->data + start))->nlmsg_len = (uint32_t)(b->len - start);
}

static void put_attr(struct buf *b, uint16_t type, const void *value, size_t n) {
  struct nlattr *a = reserve(b, ALIGN4(sizeof *a + n));
  a->nla_type = type;
  a->nla_len = (uint16_t)(sizeof *a + n);
  memcpy(a + 1, value, n);
}

static size_t begin_nest(struct buf *b, uint16_t type) {
  size_t at = b->len;
  struct nlattr *a = reserve(b, sizeof *a);
  a->nla_type = type | NLA_F_NESTED;
  return at;
}

static void end_nest(struct buf *b, size_t at) {
  ((struct nlattr *)(b->data + at))->nla_len = (uint16_t)(b->len - at);
}

/* ---- sending and ACKs ---- */

static unsigned char rx[1 << 20];

/* Reads what is queued (all of it when `block`), counting ACKs and errors. */
static long drain_acks(int block, long want) {
  long acks = 0;
  while (acks < want) {
    ssize_t n = recv(nl_fd, rx, sizeof rx, block ? 0 : MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      die("recv");
    }
    for (struct nlmsghdr *h = (void *)rx; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type != NLMSG_ERROR) continue;
      int error = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (error != 0 && errors_seen++ == 0) first_error = -error;
      acks++;
    }
  }
  return acks;
}

/* Sends whole messages in chunks of about CHUNK bytes, reading ACKs as it goes. */
static void send_all(struct buf *b) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  size_t at = 0;
  long outstanding = 0;
  while (at < b->len) {
    size_t end = at;
    long count = 0;
    while (end < b->len) {
      uint32_t len = ((struct nlmsghdr *)(b->data + end))->nlmsg_len;
      if (end > at && end + len - at > CHUNK) break;
      end += NLMSG_ALIGN(len);
      count++;
    }
    if (sendto(nl_fd, b->data + at, end - at, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) die("sendto");
    outstanding += count;
    outstanding -= drain_acks(0, outstanding);
    at = end;
  }
  drain_acks(1, outstanding);
}

/* Sends one dump request and counts the messages of `type` until NLMSG_DONE. */
static long dump_count(struct buf *request, uint16_t type) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(nl_fd, request->data, request->len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) die("sendto");
  long count = 0;
  for (;;) {
    ssize_t n = recv(nl_fd, rx, sizeof rx, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      die("recv");
    }
    for (struct nlmsghdr *h = (void *)rx; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return count;
      if (h->nlmsg_type == NLMSG_ERROR) {
        errno = -((struct nlmsgerr *)NLMSG_DATA(h))->error;
        die("dump");
      }
      if (h->nlmsg_type == type) count++;
    }
  }
}

/* ---- workloads ---- */

static unsigned device_index(const char *name) {
  unsigned index = if_nametoindex(name);
  if (!index) die(name);
  return index;
}

static long add_routes(struct buf *b, long n, const char *dev) {
  uint32_t oif = device_index(dev);
  in_addr_t gateway = inet_addr("10.0.0.2");
  uint32_t base = ntohl(inet_addr("16.0.0.0"));
  for (long i = 0; i < n; i++) {
    size_t start = b->len;
    begin_msg(b, RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    struct rtmsg *rt = reserve(b, sizeof *rt);
    rt->rtm_family = AF_INET;
    rt->rtm_dst_len = 32;
    rt->rtm_table = RT_TABLE_MAIN;
    rt->rtm_protocol = RTPROT_BOOT;
    rt->rtm_scope = RT_SCOPE_UNIVERSE;
    rt->rtm_type = RTN_UNICAST;
    uint32_t dst = htonl(base + (uint32_t)i);
    put_attr(b, RTA_DST, &dst, 4);
    put_attr(b, RTA_GATEWAY, &gateway, 4);
    put_attr(b, RTA_OIF, &oif, 4);
    end_msg(b, start);
  }
  send_all(b);
  return n;
}

static long dump_routes(struct buf *b) {
  begin_msg(b, RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP);
  struct rtmsg *rt = reserve(b, sizeof *rt);
  rt->rtm_family = AF_INET;
  rt->rtm_table = RT_TABLE_MAIN;
  uint32_t table = RT_TABLE_MAIN;
  put_attr(b, RTA_TABLE, &table, 4);
  end_msg(b, 0);
  return dump_count(b, RTM_NEWROUTE);
}

static long add_veth(struct buf *b, long n) {
  char name[32];
  for (long i = 0; i < n; i++) {
    size_t start = b->len;
    begin_msg(b, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    reserve(b, sizeof(struct ifinfomsg));
    snprintf(name, sizeof name, "bv%ld", i);
    put_attr(b, IFLA_IFNAME, name, strlen(name) + 1);
    size_t info = begin_nest(b, IFLA_LINKINFO);
    put_attr(b, IFLA_INFO_KIND, "veth", 5);
    size_t data = begin_nest(b, IFLA_INFO_DATA);
    size_t peer = begin_nest(b, VETH_INFO_PEER);
    reserve(b, sizeof(struct ifinfomsg));
    snprintf(name, sizeof name, "bp%ld", i);
    put_attr(b, IFLA_IFNAME, name, strlen(name) + 1);
    end_nest(b, peer);
    end_nest(b, data);
    end_nest(b, info);
    end_msg(b, start);
  }
  send_all(b);
  return n;
}

static long dump_links(struct buf *b) {
  begin_msg(b, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
  struct ifinfomsg *ifi = reserve(b, sizeof *ifi);
  ifi->ifi_family = AF_UNSPEC;
  uint32_t mask = RTEXT_FILTER_VF;
  put_attr(b, IFLA_EXT_MASK, &mask, 4);
  end_msg(b, 0);
  return dump_count(b, RTM_NEWLINK);
}

/* DEVS is a comma-separated list: the addresses go round robin onto them. */
static long add_addrs(struct buf *b, long n, const char *devs) {
  uint32_t index[64];
  int ndev = 0;
  char names[1024];
  snprintf(names, sizeof names, "%s", devs);
  for (char *save = NULL, *dev = strtok_r(names, ",", &save); dev && ndev < 64; dev = strtok_r(NULL, ",", &save)) {
    index[ndev++] = device_index(dev);
  }
  if (ndev == 0) {
    errno = EINVAL;
    die("add-addrs needs devices");
  }
  uint32_t base = ntohl(inet_addr("172.16.0.0"));
  for (long i = 0; i < n; i++) {
    size_t start = b->len;
    begin_msg(b, RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
    struct ifaddrmsg *ifa = reserve(b, sizeof *ifa);
    ifa->ifa_family = AF_INET;
    ifa->ifa_prefixlen = 32;
    ifa->ifa_scope = RT_SCOPE_UNIVERSE;
    ifa->ifa_index = index[i % ndev];
    uint32_t address = htonl(base + (uint32_t)i);
    put_attr(b, IFA_LOCAL, &address, 4);
    put_attr(b, IFA_ADDRESS, &address, 4);
    end_msg(b, start);
  }
  send_all(b);
  return n;
}

/* Named namespaces the way `ip netns add` / `ip netns del` make them. */
static long netns_cycle(long n, const char *prefix) {
  int home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (home < 0) die("/proc/self/ns/net");
  mkdir("/run/netns", 0755);
  /* As ip does once per process: /run/netns a shared mount (a bind mount of itself first if it is none). */
  if (mount("", "/run/netns", "none", MS_SHARED | MS_REC, NULL) < 0) {
    if (errno != EINVAL || mount("/run/netns", "/run/netns", "none", MS_BIND | MS_REC, NULL) < 0 ||
        mount("", "/run/netns", "none", MS_SHARED | MS_REC, NULL) < 0)
      die("make /run/netns shared");
  }
  char path[256];
  for (long i = 0; i < n; i++) {
    snprintf(path, sizeof path, "/run/netns/%s%ld", prefix, i);
    int fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
    if (fd < 0) die(path);
    close(fd);
    if (unshare(CLONE_NEWNET) < 0) die("unshare");
    if (mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0) die("mount");
    if (setns(home, CLONE_NEWNET) < 0) die("setns back");
  }
  for (long i = 0; i < n; i++) {
    snprintf(path, sizeof path, "/run/netns/%s%ld", prefix, i);
    if (umount2(path, MNT_DETACH) < 0) die("umount");
    if (unlink(path) < 0) die("unlink");
  }
  return n;
}

int main(int argc, char **argv) {
  int arg = 1;
  if (arg + 1 < argc && strcmp(argv[arg], "--netns") == 0) {
    char path[256];
    snprintf(path, sizeof path, "/run/netns/%s", argv[arg + 1]);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) die(path);
    close(fd);
    arg += 2;
  }
  if (arg >= argc) {
    fprintf(stderr, "usage: baseline [--netns NAME] MODE [N] [DEV|PREFIX]\n");
    return 2;
  }
  const char *mode = argv[arg];
  long n = arg + 1 < argc ? atol(argv[arg + 1]) : 0;
  const char *extra = arg + 2 < argc ? argv[arg + 2] : "";
  struct buf b = {0};
  long count;
  double t0 = now();
  if (strcmp(mode, "netns") == 0) {
    count = netns_cycle(n, extra);
  } else {
    open_socket();
    if (strcmp(mode, "add-routes") == 0) count = add_routes(&b, n, extra);
    else if (strcmp(mode, "dump-routes") == 0) count = dump_routes(&b);
    else if (strcmp(mode, "add-veth") == 0) count = add_veth(&b, n);
    else if (strcmp(mode, "dump-links") == 0) count = dump_links(&b);
    else if (strcmp(mode, "add-addrs") == 0) count = add_addrs(&b, n, extra);
    else {
      fprintf(stderr, "baseline: unknown mode %s\n", mode);
      return 2;
    }
  }
  double seconds = now() - t0;
  printf("{\"seconds\":%.6f,\"count\":%ld,\"errors\":%ld,\"firstError\":\"%s\"}\n", seconds, count, errors_seen,
         errors_seen ? strerror(first_error) : "");
  return 0;
}
