// rtnetlink requests: build one message, send it, read the ACK (helpers in nlmsg.h).
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/magic.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if_arp.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "cnetlink.h"
#include "nlmsg.h"

struct nl_sock {
  int fd;
  unsigned int portid;
  unsigned int seq;
};

struct nl_sock *nl_open(void) {
  struct nl_sock *nl = calloc(1, sizeof *nl);
  if (!nl) return NULL;
  nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  struct sockaddr_nl addr = {.nl_family = AF_NETLINK};
  socklen_t alen = sizeof addr;
  if (nl->fd < 0 || bind(nl->fd, (struct sockaddr *)&addr, sizeof addr) < 0 ||
      getsockname(nl->fd, (struct sockaddr *)&addr, &alen) < 0) {
    int e = errno;
    if (nl->fd >= 0) close(nl->fd);
    free(nl);
    errno = e;
    return NULL;
  }
  nl->portid = addr.nl_pid;
  nl->seq = (unsigned int)time(NULL);
  return nl;
}

int nl_netns_open(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -errno;
  struct statfs st;
  if (fstatfs(fd, &st) < 0 || (st.f_type != NSFS_MAGIC && st.f_type != PROC_SUPER_MAGIC)) {
    close(fd);
    return -EINVAL;
  }
  return fd;
}

struct nl_sock *nl_open_in(const char *netns_path) {
  int target = nl_netns_open(netns_path);
  if (target < 0) { errno = -target; return NULL; }
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) { int e = errno; close(target); errno = e; return NULL; }
  struct nl_sock *nl = NULL;
  int e = 0;
  if (setns(target, CLONE_NEWNET) < 0) {
    e = errno;
  } else {
    nl = nl_open();
    if (!nl) e = errno;
    if (setns(self, CLONE_NEWNET) < 0) abort();  // never keep working in the pod's namespace
  }
  close(target);
  close(self);
  errno = e;
  return nl;
}

void nl_close(struct nl_sock *nl) {
  if (!nl) return;
  close(nl->fd);
  free(nl);
}

static struct nlmsghdr *start(char *buf, struct nl_sock *nl, uint16_t type, uint16_t flags) {
  struct nlmsghdr *nlh = nlm_put_header(buf);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = ++nl->seq;
  return nlh;
}

// Sends and runs callbacks until the ACK (or the end of a dump).
static int talk(struct nl_sock *nl, struct nlmsghdr *nlh, nlm_cb_t cb, void *data) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(nl->fd, nlh, nlh->nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return -errno;
  static char buf[32768];
  for (;;) {
    ssize_t n = recv(nl->fd, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    int r = nlm_cb_run(buf, (size_t)n, nlh->nlmsg_seq, nl->portid, cb, data);
    if (r < 0) return -errno;
    if (r == NLM_CB_STOP) return 0;
  }
}

static int ack(struct nl_sock *nl, struct nlmsghdr *nlh) { return talk(nl, nlh, NULL, NULL); }

// Starts an RTM_*LINK request about link `index` (0: the request names it) in `buf`.
static struct nlmsghdr *link_request(char *buf, struct nl_sock *nl, uint16_t type, uint16_t flags, uint8_t family,
                                     int32_t index, struct ifinfomsg **ifm_out) {
  struct nlmsghdr *nlh = start(buf, nl, type, flags);
  struct ifinfomsg *ifm = nlm_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = family;
  ifm->ifi_index = index;
  if (ifm_out) *ifm_out = ifm;
  return nlh;
}

// ---- links ----------------------------------------------------------------------------------

struct link_query {
  struct nl_link_info *info;
};

static int link_attr(const struct nlattr *attr, void *data) {
  struct nl_link_info *info = data;
  switch (nlm_attr_type(attr)) {
  case IFLA_MTU: info->mtu = nlm_attr_u32(attr); break;
  case IFLA_MASTER: info->master = (int32_t)nlm_attr_u32(attr); break;
  case IFLA_IFALIAS: strncpy(info->alias, nlm_attr_str(attr), sizeof info->alias - 1); break;
  case IFLA_ADDRESS:
    if (nlm_attr_len(attr) == 6) { memcpy(info->mac, nlm_attr_payload(attr), 6); info->has_mac = 1; }
    break;
  case IFLA_LINKINFO: {
    const struct nlattr *nested;
    nlm_attr_for_each_nested(nested, attr) {
      if (nlm_attr_type(nested) == IFLA_INFO_KIND) {
        strncpy(info->kind, nlm_attr_str(nested), sizeof info->kind - 1);
      }
    }
    break;
  }
  }
  return NLM_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data) {
  struct nl_link_info *info = data;
  struct ifinfomsg *ifm = nlm_payload(nlh);
  info->index = ifm->ifi_index;
  info->flags = ifm->ifi_flags;
  return nlm_attr_parse(nlh, sizeof *ifm, link_attr, info);
}

int nl_link_get(struct nl_sock *nl, const char *name, struct nl_link_info *info) {
  char buf[NLM_BUFFER_SIZE];
  struct nlmsghdr *nlh = start(buf, nl, RTM_GETLINK, NLM_F_ACK);
  struct ifinfomsg *ifm = nlm_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  nlm_attr_put_strz(nlh, IFLA_IFNAME, name);
  memset(info, 0, sizeof *info);
  return talk(nl, nlh, link_cb, info);
}

int nl_bridge_add(struct nl_sock *nl, const char *name, uint32_t mtu, const uint8_t *mac) {
  char buf[NLM_BUFFER_SIZE];
  struct nlmsghdr *nlh = link_request(buf, nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, AF_UNSPEC, 0, NULL);
  nlm_attr_put_strz(nlh, IFLA_IFNAME, name);
  if (mtu) nlm_attr_put_u32(nlh, IFLA_MTU, mtu);
  if (mac) nlm_attr_put(nlh, IFLA_ADDRESS, 6, mac);
  struct nlattr *linkinfo = nlm_nest_start(nlh, IFLA_LINKINFO);
  nlm_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
  nlm_nest_end(nlh, linkinfo);
  return ack(nl, nlh);
}

int nl_veth_add(struct nl_sock *nl, const char *name, const char *peer, int peer_netns_fd, uint32_t mtu,
                const uint8_t *peer_mac, int32_t master) {
  char buf[NLM_BUFFER_SIZE];
  struct nlmsghdr *nlh = link_request(buf, nl, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK, AF_UNSPEC, 0, NULL);
  nlm_attr_put_strz(nlh, IFLA_IFNAME, name);
  if (mtu) nlm_attr_put_u32(nlh, IFLA_MTU, mtu);
  if (master > 0) nlm_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
  struct nlattr *linkinfo = nlm_nest_start(nlh, IFLA_LINKINFO);
  nlm_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
  struct nlattr *data = nlm_nest_start(nlh, IFLA_INFO_DATA);
  struct nlattr *peer_info = nlm_nest_start(nlh, VETH_INFO_PEER);
  struct ifinfomsg *pifm = nlm_put_extra_header(nlh, sizeof *pifm);
  pifm->ifi_family = AF_UNSPEC;
  nlm_attr_put_strz(nlh, IFLA_IFNAME, peer);
  if (mtu) nlm_attr_put_u32(nlh, IFLA_MTU, mtu);
  if (peer_mac) nlm_attr_put(nlh, IFLA_ADDRESS, 6, peer_mac);
  nlm_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)peer_netns_fd);
  nlm_nest_end(nlh, peer_info);
  nlm_nest_end(nlh, data);
  nlm_nest_end(nlh, linkinfo);
  return ack(nl, nlh);
}

int nl_link_set(struct nl_sock *nl, int32_t index, int up, int32_t master, uint32_t mtu, const uint8_t *mac) {
  char buf[NLM_BUFFER_SIZE];
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = link_request(buf, nl, RTM_NEWLINK, NLM_F_ACK, AF_UNSPEC, index, &ifm);
  if (up >= 0) {
    ifm->ifi_change = IFF_UP;
    ifm->ifi_flags = up ? IFF_UP : 0;
  }
  if (master > 0) nlm_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master);
  if (mtu) nlm_attr_put_u32(nlh, IFLA_MTU, mtu);
  if (mac) nlm_attr_put(nlh, IFLA_ADDRESS, 6, mac);
  return ack(nl, nlh);
}

int nl_link_promisc(struct nl_sock *nl, int32_t index, int on) {
  char buf[NLM_BUFFER_SIZE];
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = link_request(buf, nl, RTM_NEWLINK, NLM_F_ACK, AF_UNSPEC, index, &ifm);
  ifm->ifi_change = IFF_PROMISC;
  ifm->ifi_flags = on ? IFF_PROMISC : 0;
  return ack(nl, nlh);
}

int nl_brport_hairpin(struct nl_sock *nl, int32_t index, int on) {
  char buf[NLM_BUFFER_SIZE];
  struct nlmsghdr *nlh = link_request(buf, nl, RTM_SETLINK, NLM_F_ACK, AF_BRIDGE, index, NULL);
  struct nlattr *prot = nlm_nest_start(nlh, IFLA_PROTINFO);
  nlm_attr_put_u8(nlh, IFLA_BRPORT_MODE, on ? 1 : 0);
  nlm_nest_end(nlh, prot);
  return ack(nl, nlh);
}

int nl_link_del(struct nl_sock *nl, const char *name) {
  char buf[NLM_BUFFER_SIZE];
  struct nlmsghdr *nlh = link_request(buf, nl, RTM_DELLINK, NLM_F_ACK, AF_UNSPEC, 0, NULL);
  nlm_attr_put_strz(nlh, IFLA_IFNAME, name);
  return ack(nl, nlh);
}

int nl_link_del_index(struct nl_sock *nl, int32_t index) {
  char buf[NLM_BUFFER_SIZE];
  return ack(nl, link_request(buf, nl, RTM_DELLINK, NLM_F_ACK, AF_UNSPEC, index, NULL));
}

int nl_link_setup(struct nl_sock *nl, int32_t index, const char *name, const char *alias, int up) {
  char buf[NLM_BUFFER_SIZE];
  struct ifinfomsg *ifm;
  struct nlmsghdr *nlh = link_request(buf, nl, RTM_NEWLINK, NLM_F_ACK, AF_UNSPEC, index, &ifm);
  if (name) nlm_attr_put_strz(nlh, IFLA_IFNAME, name);
  if (alias) nlm_attr_put_strz(nlh, IFLA_IFALIAS, alias);
  if (up >= 0) {
    ifm->ifi_change = IFF_UP;
    ifm->ifi_flags = up ? IFF_UP : 0;
  }
  return ack(nl, nlh);
}

struct dump_query {
  struct nl_link_entry *out;
  int max, count;
};

static int dump_attr(const struct nlattr *attr, void *data) {
  struct nl_link_entry *e = data;
  if (nlm_attr_type(attr) == IFLA_IFNAME) strncpy(e->name, nlm_attr_str(attr), sizeof e->name - 1);
  if (nlm_attr_type(attr) == IFLA_IFALIAS) strncpy(e->alias, nlm_attr_str(attr), sizeof e->alias - 1);
  if (nlm_attr_type(attr) == IFLA_MASTER) e->master = (int32_t)nlm_attr_u32(attr);
  return NLM_CB_OK;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data) {
  struct dump_query *q = data;
  if (q->count >= q->max) return NLM_CB_OK;
  struct nl_link_entry *e = q->out + q->count;
  memset(e, 0, sizeof *e);
  e->index = ((struct ifinfomsg *)nlm_payload(nlh))->ifi_index;
  nlm_attr_parse(nlh, sizeof(struct ifinfomsg), dump_attr, e);
  q->count++;
  return NLM_CB_OK;
}

int nl_link_dump(struct nl_sock *nl, struct nl_link_entry *out, int max) {
  char buf[NLM_BUFFER_SIZE];
  struct nlmsghdr *nlh = start(buf, nl, RTM_GETLINK, NLM_F_DUMP);
  struct ifinfomsg *ifm = nlm_put_extra_header(nlh, sizeof *ifm);
  ifm->ifi_family = AF_UNSPEC;
  struct dump_query q = {.out = out, .max = max};
  int r = talk(nl, nlh, dump_cb, &q);
  return r < 0 ? r : q.count;
}

void nl_random_hex8(char out[9]) {
  uint32_t v = 0;
  if (syscall(SYS_getrandom, &v, sizeof v, 0) != (long)sizeof v) v = (uint32_t)getpid() ^ (uint32_t)time(NULL) ^ (uint32_t)clock();
  snprintf(out, 9, "%08x", v);
}

int nl_link_retire(struct nl_sock *nl, int32_t index, char *retired) {
  char hex[9];
  nl_random_hex8(hex);
  snprintf(retired, 16, "swdel%s", hex);
  int r = nl_link_setup(nl, index, NULL, NULL, 0);
  if (r < 0) return r;
  return nl_link_setup(nl, index, retired, NULL, -1);
}

int nl_reap(const char *netns_path, const char *name) {
  // The helper's own socket: a reply it reads can never be one the plugin is waiting for.
  struct nl_sock *own = netns_path ? nl_open_in(netns_path) : nl_open();
  if (!own) return -errno;
  pid_t child = fork();
  if (child == 0) {
    if (fork() == 0) {
      // Off our stdout (a runtime reads it to EOF) and session, then the slow part.
      int null = open("/dev/null", O_RDWR | O_CLOEXEC);
      for (int fd = 0; fd < 3; fd++) dup2(null, fd);
      setsid();
      nl_link_del(own, name);
      _exit(0);
    }
    _exit(0);
  }
  int r = 0;
  if (child > 0) {
    while (waitpid(child, NULL, 0) < 0 && errno == EINTR) {}
  } else {
    r = nl_link_del(own, name);  // could not fork: delete and wait
    if (r == -ENODEV) r = 0;
  }
  nl_close(own);
  return r;
}

// ---- addresses ------------------------------------------------------------------------------

int nl_addr_add(struct nl_sock *nl, int32_t index, int family, const uint8_t *addr, uint8_t prefix) {
  char buf[NLM_BUFFER_SIZE];
  struct nlmsghdr *nlh = start(buf, nl, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  struct ifaddrmsg *ifa = nlm_put_extra_header(nlh, sizeof *ifa);
  ifa->ifa_family = (uint8_t)family;
  ifa->ifa_prefixlen = prefix;
  ifa->ifa_index = (uint32_t)index;
  ifa->ifa_scope = RT_SCOPE_UNIVERSE;
  size_t len = family == AF_INET ? 4 : 16;
  if (family == AF_INET6) {
    // No duplicate address detection: the address is ours by lease, and DAD costs seconds.
    ifa->ifa_flags = IFA_F_NODAD;
    nlm_attr_put_u32(nlh, IFA_FLAGS, IFA_F_NODAD);
  }
  nlm_attr_put(nlh, IFA_LOCAL, len, addr);
  nlm_attr_put(nlh, IFA_ADDRESS, len, addr);
  return ack(nl, nlh);
}

struct addr_query {
  int32_t index;
  uint8_t *out;
  uint8_t *prefixes;
  int max, count;
};

static int addr_cb(const struct nlmsghdr *nlh, void *data) {
  struct addr_query *q = data;
  struct ifaddrmsg *ifa = nlm_payload(nlh);
  if ((int32_t)ifa->ifa_index != q->index || q->count >= q->max) return NLM_CB_OK;
  const struct nlattr *attr;
  nlm_attr_for_each(attr, nlh, sizeof *ifa) {
    if (nlm_attr_type(attr) != IFA_ADDRESS) continue;
    uint8_t *slot = q->out + 17 * q->count;
    memset(slot, 0, 17);
    slot[0] = ifa->ifa_family;
    size_t n = nlm_attr_len(attr);
    memcpy(slot + 1, nlm_attr_payload(attr), n > 16 ? 16 : n);
    q->prefixes[q->count] = ifa->ifa_prefixlen;
    q->count++;
    break;
  }
  return NLM_CB_OK;
}

int nl_addr_list(struct nl_sock *nl, int32_t index, uint8_t *out, uint8_t *prefixes, int max) {
  char buf[NLM_BUFFER_SIZE];
  struct nlmsghdr *nlh = start(buf, nl, RTM_GETADDR, NLM_F_DUMP);
  struct ifaddrmsg *ifa = nlm_put_extra_header(nlh, sizeof *ifa);
  ifa->ifa_family = AF_UNSPEC;
  struct addr_query q = {.index = index, .out = out, .prefixes = prefixes, .max = max};
  int r = talk(nl, nlh, addr_cb, &q);
  return r < 0 ? r : q.count;
}

// ---- routes ---------------------------------------------------------------------------------

int nl_route_add(struct nl_sock *nl, int family, const uint8_t *dst, uint8_t dst_len, const uint8_t *gw,
                 int32_t oif, uint32_t mtu) {
  char buf[NLM_BUFFER_SIZE];
  struct nlmsghdr *nlh = start(buf, nl, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
  struct rtmsg *rtm = nlm_put_extra_header(nlh, sizeof *rtm);
  size_t len = family == AF_INET ? 4 : 16;
  rtm->rtm_family = (uint8_t)family;
  rtm->rtm_dst_len = dst_len;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_BOOT;
  rtm->rtm_scope = gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
  rtm->rtm_type = RTN_UNICAST;
  if (dst_len) nlm_attr_put(nlh, RTA_DST, len, dst);
  if (gw) nlm_attr_put(nlh, RTA_GATEWAY, len, gw);
  if (oif > 0) nlm_attr_put_u32(nlh, RTA_OIF, (uint32_t)oif);
  if (mtu) {
    struct nlattr *metrics = nlm_nest_start(nlh, RTA_METRICS);
    nlm_attr_put_u32(nlh, RTAX_MTU, mtu);
    nlm_nest_end(nlh, metrics);
  }
  return ack(nl, nlh);
}

int nl_route_del(struct nl_sock *nl, int family, const uint8_t *dst, uint8_t dst_len) {
  char buf[NLM_BUFFER_SIZE];
  struct nlmsghdr *nlh = start(buf, nl, RTM_DELROUTE, NLM_F_ACK);
  struct rtmsg *rtm = nlm_put_extra_header(nlh, sizeof *rtm);
  rtm->rtm_family = (uint8_t)family;
  rtm->rtm_dst_len = dst_len;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_scope = RT_SCOPE_NOWHERE;
  if (dst_len) nlm_attr_put(nlh, RTA_DST, family == AF_INET ? 4 : 16, dst);
  return ack(nl, nlh);
}

struct route_query {
  int family;
  const uint8_t *dst;
  uint8_t dst_len;
  int count;
};

static int route_cb(const struct nlmsghdr *nlh, void *data) {
  struct route_query *q = data;
  struct rtmsg *rtm = nlm_payload(nlh);
  if (rtm->rtm_family != q->family || rtm->rtm_dst_len != q->dst_len || rtm->rtm_table != RT_TABLE_MAIN) return NLM_CB_OK;
  if (q->dst_len == 0) { q->count++; return NLM_CB_OK; }
  const struct nlattr *attr;
  size_t len = q->family == AF_INET ? 4 : 16;
  nlm_attr_for_each(attr, nlh, sizeof *rtm) {
    if (nlm_attr_type(attr) == RTA_DST && nlm_attr_len(attr) == len &&
        memcmp(nlm_attr_payload(attr), q->dst, len) == 0)
      q->count++;
  }
  return NLM_CB_OK;
}

int nl_route_count(struct nl_sock *nl, int family, const uint8_t *dst, uint8_t dst_len) {
  char buf[NLM_BUFFER_SIZE];
  struct nlmsghdr *nlh = start(buf, nl, RTM_GETROUTE, NLM_F_DUMP);
  struct rtmsg *rtm = nlm_put_extra_header(nlh, sizeof *rtm);
  rtm->rtm_family = (uint8_t)family;
  struct route_query q = {.family = family, .dst = dst, .dst_len = dst_len};
  int r = talk(nl, nlh, route_cb, &q);
  return r < 0 ? r : q.count;
}

// ---- namespaces ------------------------------------------------------------------------------

uint64_t nl_netns_inode(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
}
