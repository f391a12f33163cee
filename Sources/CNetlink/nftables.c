// nftables set elements over NETLINK_NETFILTER: one batch (begin, NEWSETELEM or DELSETELEM,
// end) per call, so ipMasq's per-pod work is one netlink round trip instead of running nft.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cnetlink.h"
#include "nlmsg.h"

static struct nlmsghdr *nft_msg(char *at, uint16_t type, uint16_t flags, uint32_t seq, uint8_t family, uint16_t res_id) {
  struct nlmsghdr *nlh = nlm_put_header(at);
  nlh->nlmsg_type = type;
  nlh->nlmsg_flags = NLM_F_REQUEST | flags;
  nlh->nlmsg_seq = seq;
  struct nfgenmsg *nfg = nlm_put_extra_header(nlh, sizeof *nfg);
  nfg->nfgen_family = family;
  nfg->version = NFNETLINK_V0;
  nfg->res_id = htons(res_id);
  return nlh;
}

int nl_nft_set_element(int add, int family, const char *table, const char *set, const uint8_t *key, uint32_t key_len) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) return -errno;
  struct sockaddr_nl addr = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  char buf[NLM_BUFFER_SIZE];
  uint32_t seq = (uint32_t)time(NULL);
  struct nlmsghdr *begin = nft_msg(buf, NFNL_MSG_BATCH_BEGIN, 0, seq, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  char *next = (char *)nlm_tail(begin);
  uint16_t type = (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | (add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM));
  struct nlmsghdr *msg = nft_msg(next, type, NLM_F_ACK | (add ? NLM_F_CREATE : 0), seq + 1, (uint8_t)family, 0);
  nlm_attr_put_strz(msg, NFTA_SET_ELEM_LIST_TABLE, table);
  nlm_attr_put_strz(msg, NFTA_SET_ELEM_LIST_SET, set);
  struct nlattr *elements = nlm_nest_start(msg, NFTA_SET_ELEM_LIST_ELEMENTS);
  struct nlattr *element = nlm_nest_start(msg, NFTA_LIST_ELEM);
  struct nlattr *k = nlm_nest_start(msg, NFTA_SET_ELEM_KEY);
  nlm_attr_put(msg, NFTA_DATA_VALUE, key_len, key);
  nlm_nest_end(msg, k);
  nlm_nest_end(msg, element);
  nlm_nest_end(msg, elements);
  next = (char *)nlm_tail(msg);
  struct nlmsghdr *end = nft_msg(next, NFNL_MSG_BATCH_END, 0, seq + 2, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  size_t total = (size_t)((char *)nlm_tail(end) - buf);
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, buf, total, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  // The element's ACK (or its error) carries seq + 1.
  char reply[8192];
  for (;;) {
    ssize_t n = recv(fd, reply, sizeof reply, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      close(fd);
      return -e;
    }
    long remaining = (long)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, remaining); h = NLMSG_NEXT(h, remaining)) {
      if (h->nlmsg_type == NLMSG_ERROR && h->nlmsg_seq == seq + 1) {
        int r = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
        close(fd);
        return r;
      }
    }
  }
}
