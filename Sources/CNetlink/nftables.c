// nftables over NETLINK_NETFILTER, for ipMasq: one batch (begin, messages, end) per call, all
// or nothing. A network's table, chain, set and masquerade rule are made in one batch; after
// that a pod's ADD or DEL is one set element, one netlink round trip, and no nft process.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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

// A batch being built in `buf`: begin, then messages of seq + 1 ... seq + count, then end.
struct batch {
  char *buf;
  char *next;
  uint32_t seq;
  uint32_t count;
};

static void batch_begin(struct batch *b, char *buf) {
  b->buf = buf;
  b->seq = (uint32_t)time(NULL);
  b->count = 0;
  struct nlmsghdr *begin = nft_msg(buf, NFNL_MSG_BATCH_BEGIN, 0, b->seq, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  b->next = nlm_tail(begin);
}

// The next message of the batch (every one asks for its ACK, so every one is answered).
static struct nlmsghdr *batch_msg(struct batch *b, uint8_t type, uint16_t flags, uint8_t family) {
  b->count++;
  return nft_msg(b->next, (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | type), NLM_F_ACK | flags, b->seq + b->count, family, 0);
}

static void batch_msg_end(struct batch *b, struct nlmsghdr *msg) { b->next = nlm_tail(msg); }

// Sends the batch; 0 when every message was accepted and the transaction committed, else the
// first error (-errno). A failed commit is answered on the begin message's seq, before the
// messages' own ACKs.
static int batch_send(struct batch *b) {
  struct nlmsghdr *end = nft_msg(b->next, NFNL_MSG_BATCH_END, 0, b->seq + b->count + 1, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  size_t total = (size_t)((char *)nlm_tail(end) - b->buf);
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) return -errno;
  struct sockaddr_nl addr = {.nl_family = AF_NETLINK};
  int result = 0;
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    result = -errno;
    goto out;
  }
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, b->buf, total, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) {
    result = -errno;
    goto out;
  }
  uint32_t answered = 0;
  char reply[8192];
  while (answered < b->count) {
    ssize_t n = recv(fd, reply, sizeof reply, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (result == 0) result = -errno;
      break;
    }
    long remaining = (long)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, remaining); h = NLMSG_NEXT(h, remaining)) {
      if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq < b->seq || h->nlmsg_seq > b->seq + b->count) continue;
      int r = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
      if (r < 0 && result == 0) result = r;
      if (h->nlmsg_seq != b->seq) answered++;
    }
  }
out:
  // (Releasing the socket makes the kernel flush nf_tables' pending destroy work under its
  // commit mutex: after a DEL, an RCU grace period, 10-20 ms; hence one socket for all of a
  // pod's elements. Releasing it in a forked child instead only moved the wait to the next
  // commit: measured, no gain.)
  close(fd);
  return result;
}

int nl_nft_set_elements(int add, int family, const char *table, uint32_t count, const char *const *sets,
                        const uint8_t *keys, const uint8_t *key_lens) {
  char buf[NLM_BUFFER_SIZE];
  if (count == 0) return 0;
  if (count > 16) return -E2BIG;
  for (uint32_t i = 0; i < count; i++) {
    if (strlen(sets[i]) > 64 || key_lens[i] > 16) return -E2BIG;
  }
  if (strlen(table) > 64) return -E2BIG;
  struct batch b;
  batch_begin(&b, buf);
  for (uint32_t i = 0; i < count; i++) {
    struct nlmsghdr *msg = batch_msg(&b, add ? NFT_MSG_NEWSETELEM : NFT_MSG_DELSETELEM, add ? NLM_F_CREATE : 0, (uint8_t)family);
    nlm_attr_put_strz(msg, NFTA_SET_ELEM_LIST_TABLE, table);
    nlm_attr_put_strz(msg, NFTA_SET_ELEM_LIST_SET, sets[i]);
    struct nlattr *elements = nlm_nest_start(msg, NFTA_SET_ELEM_LIST_ELEMENTS);
    struct nlattr *element = nlm_nest_start(msg, NFTA_LIST_ELEM);
    struct nlattr *k = nlm_nest_start(msg, NFTA_SET_ELEM_KEY);
    nlm_attr_put(msg, NFTA_DATA_VALUE, key_lens[i], keys + 16 * i);
    nlm_nest_end(msg, k);
    nlm_nest_end(msg, element);
    nlm_nest_end(msg, elements);
    batch_msg_end(&b, msg);
  }
  return batch_send(&b);
}

int nl_nft_set_element(int add, int family, const char *table, const char *set, const uint8_t *key, uint32_t key_len) {
  uint8_t k[16] = {0};
  if (key_len > 16) return -E2BIG;
  memcpy(k, key, key_len);
  uint8_t len = (uint8_t)key_len;
  return nl_nft_set_elements(add, family, table, 1, &set, k, &len);
}

static void put_be32(struct nlmsghdr *msg, uint16_t type, uint32_t v) { nlm_attr_put_u32(msg, type, htonl(v)); }

static void put_data(struct nlmsghdr *msg, uint16_t type, const void *data, size_t len) {
  struct nlattr *d = nlm_nest_start(msg, type);
  nlm_attr_put(msg, NFTA_DATA_VALUE, len, data);
  nlm_nest_end(msg, d);
}

// One expression of a rule: its name, then its attributes until expr_end.
static struct nlattr *expr_start(struct nlmsghdr *msg, const char *name, struct nlattr **data) {
  struct nlattr *elem = nlm_nest_start(msg, NFTA_LIST_ELEM);
  nlm_attr_put_strz(msg, NFTA_EXPR_NAME, name);
  *data = nlm_nest_start(msg, NFTA_EXPR_DATA);
  return elem;
}

static void expr_end(struct nlmsghdr *msg, struct nlattr *elem, struct nlattr *data) {
  nlm_nest_end(msg, data);
  nlm_nest_end(msg, elem);
}

static void expr_payload(struct nlmsghdr *msg, uint32_t offset, uint32_t len) {  // network header -> reg 1
  struct nlattr *data, *e = expr_start(msg, "payload", &data);
  put_be32(msg, NFTA_PAYLOAD_DREG, NFT_REG_1);
  put_be32(msg, NFTA_PAYLOAD_BASE, NFT_PAYLOAD_NETWORK_HEADER);
  put_be32(msg, NFTA_PAYLOAD_OFFSET, offset);
  put_be32(msg, NFTA_PAYLOAD_LEN, len);
  expr_end(msg, e, data);
}

static void expr_cmp(struct nlmsghdr *msg, uint32_t op, const void *value, size_t len) {  // reg 1 OP value
  struct nlattr *data, *e = expr_start(msg, "cmp", &data);
  put_be32(msg, NFTA_CMP_SREG, NFT_REG_1);
  put_be32(msg, NFTA_CMP_OP, op);
  put_data(msg, NFTA_CMP_DATA, value, len);
  expr_end(msg, e, data);
}

int nl_nft_masq_setup(const char *table, const char *chain, const char *set, uint32_t set_id, int v4,
                      const uint8_t *nets, const uint8_t *prefixes, uint32_t count, const char *comment) {
  const uint32_t alen = v4 ? 4 : 16;
  char buf[NLM_BUFFER_SIZE];
  // Fixed parts take under 700 bytes, each exempted network under 200.
  if (count > 24 || strlen(table) > 64 || strlen(chain) > 64 || strlen(set) > 64 || strlen(comment) > 128) return -E2BIG;
  struct batch b;
  batch_begin(&b, buf);

  // The table and the NAT chain: made if missing, left as they are otherwise.
  struct nlmsghdr *msg = batch_msg(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE, NFPROTO_INET);
  nlm_attr_put_strz(msg, NFTA_TABLE_NAME, table);
  batch_msg_end(&b, msg);
  msg = batch_msg(&b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, NFPROTO_INET);
  nlm_attr_put_strz(msg, NFTA_CHAIN_TABLE, table);
  nlm_attr_put_strz(msg, NFTA_CHAIN_NAME, chain);
  struct nlattr *hook = nlm_nest_start(msg, NFTA_CHAIN_HOOK);
  put_be32(msg, NFTA_HOOK_HOOKNUM, NF_INET_POST_ROUTING);
  put_be32(msg, NFTA_HOOK_PRIORITY, 100);  // srcnat
  nlm_nest_end(msg, hook);
  nlm_attr_put_strz(msg, NFTA_CHAIN_TYPE, "nat");
  put_be32(msg, NFTA_CHAIN_POLICY, NF_ACCEPT);
  batch_msg_end(&b, msg);

  // The set of the pods' addresses (nft's ipv4_addr, 7, or ipv6_addr, 8).
  msg = batch_msg(&b, NFT_MSG_NEWSET, NLM_F_CREATE, NFPROTO_INET);
  nlm_attr_put_strz(msg, NFTA_SET_TABLE, table);
  nlm_attr_put_strz(msg, NFTA_SET_NAME, set);
  put_be32(msg, NFTA_SET_FLAGS, 0);
  put_be32(msg, NFTA_SET_KEY_TYPE, v4 ? 7 : 8);
  put_be32(msg, NFTA_SET_KEY_LEN, alen);
  put_be32(msg, NFTA_SET_ID, set_id);
  batch_msg_end(&b, msg);

  // meta nfproto ipv4|ipv6, saddr @set, daddr != each exempted network, masquerade.
  msg = batch_msg(&b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, NFPROTO_INET);
  nlm_attr_put_strz(msg, NFTA_RULE_TABLE, table);
  nlm_attr_put_strz(msg, NFTA_RULE_CHAIN, chain);
  struct nlattr *exprs = nlm_nest_start(msg, NFTA_RULE_EXPRESSIONS);
  struct nlattr *data, *e = expr_start(msg, "meta", &data);
  put_be32(msg, NFTA_META_KEY, NFT_META_NFPROTO);
  put_be32(msg, NFTA_META_DREG, NFT_REG_1);
  expr_end(msg, e, data);
  uint8_t proto = v4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
  expr_cmp(msg, NFT_CMP_EQ, &proto, 1);
  expr_payload(msg, v4 ? 12 : 8, alen);  // saddr
  e = expr_start(msg, "lookup", &data);
  nlm_attr_put_strz(msg, NFTA_LOOKUP_SET, set);
  put_be32(msg, NFTA_LOOKUP_SET_ID, set_id);
  put_be32(msg, NFTA_LOOKUP_SREG, NFT_REG_1);
  expr_end(msg, e, data);
  for (uint32_t i = 0; i < count; i++) {
    uint8_t mask[16] = {0}, net[16] = {0}, zero[16] = {0};
    uint32_t prefix = prefixes[i] > alen * 8 ? alen * 8 : prefixes[i];
    for (uint32_t bit = 0; bit < prefix; bit++) mask[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
    for (uint32_t j = 0; j < alen; j++) net[j] = nets[i * 16 + j] & mask[j];
    expr_payload(msg, v4 ? 16 : 24, alen);  // daddr
    if (prefix < alen * 8) {
      e = expr_start(msg, "bitwise", &data);
      put_be32(msg, NFTA_BITWISE_SREG, NFT_REG_1);
      put_be32(msg, NFTA_BITWISE_DREG, NFT_REG_1);
      put_be32(msg, NFTA_BITWISE_LEN, alen);
      put_data(msg, NFTA_BITWISE_MASK, mask, alen);
      put_data(msg, NFTA_BITWISE_XOR, zero, alen);
      expr_end(msg, e, data);
    }
    expr_cmp(msg, NFT_CMP_NEQ, net, alen);
  }
  e = expr_start(msg, "masq", &data);
  expr_end(msg, e, data);
  nlm_nest_end(msg, exprs);
  // The comment as nft stores it: a TLV of type 0 (NFTNL_UDATA_RULE_COMMENT) with the NUL.
  uint8_t udata[2 + 129];
  size_t clen = strlen(comment) + 1;
  udata[0] = 0;
  udata[1] = (uint8_t)clen;
  memcpy(udata + 2, comment, clen);
  nlm_attr_put(msg, NFTA_RULE_USERDATA, 2 + clen, udata);
  batch_msg_end(&b, msg);
  return batch_send(&b);
}
