// nftables over NETLINK_NETFILTER, for ipMasq: one batch (begin, messages, end) per change, all
// or nothing. Each network subnet gets its own NAT base chain holding one masquerade rule, made
// once in one batch; after that an ADD only asks whether the chain is there (a read, no
// transaction) and a DEL does nothing, so pods never wait for each other in nftables.
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

static int nft_socket(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
  if (fd < 0) return -errno;
  struct sockaddr_nl addr = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
    int e = -errno;
    close(fd);
    return e;
  }
  return fd;
}

// Called with each reply message; nonzero when the last expected one has come.
typedef int (*nft_reply_cb)(const struct nlmsghdr *h, void *ctx);

// Sends `len` bytes of requests on `fd`, then hands every reply message to `each` until it
// says done. 0, or -errno of the failed send or receive.
static int nft_exchange(int fd, const void *requests, size_t len, nft_reply_cb each, void *ctx) {
  struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
  if (sendto(fd, requests, len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0) return -errno;
  static char reply[32768];
  for (;;) {
    ssize_t n = recv(fd, reply, sizeof reply, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    long remaining = (long)n;
    for (struct nlmsghdr *h = (struct nlmsghdr *)reply; NLMSG_OK(h, remaining); h = NLMSG_NEXT(h, remaining)) {
      if (each(h, ctx)) return 0;
    }
  }
}

// A batch's answers: an ACK or error for each message (seq + 1 ... seq + count), and for a
// failed commit an error on the begin message's seq, before the messages' own ACKs.
struct batch_answers {
  uint32_t seq, count, answered;
  int result;
};

static int batch_answer(const struct nlmsghdr *h, void *ctx) {
  struct batch_answers *a = ctx;
  if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq < a->seq || h->nlmsg_seq > a->seq + a->count) return 0;
  int r = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
  if (r < 0 && a->result == 0) a->result = r;
  if (h->nlmsg_seq != a->seq) a->answered++;
  return a->answered >= a->count;
}

// Sends the batch; 0 when every message was accepted and the transaction committed, else the
// first error (-errno).
static int batch_send(struct batch *b) {
  struct nlmsghdr *end = nft_msg(b->next, NFNL_MSG_BATCH_END, 0, b->seq + b->count + 1, AF_UNSPEC, NFNL_SUBSYS_NFTABLES);
  size_t total = (size_t)((char *)nlm_tail(end) - b->buf);
  int fd = nft_socket();
  if (fd < 0) return fd;
  struct batch_answers a = {.seq = b->seq, .count = b->count};
  int r = nft_exchange(fd, b->buf, total, batch_answer, &a);
  if (r < 0 && a.result == 0) a.result = r;
  // (Releasing the socket makes the kernel flush nf_tables' pending destroy work under its
  // commit mutex: after a deletion, an RCU grace period, 10-20 ms. Only removing a network's
  // chains deletes anything, so pods' ADD and DEL never pay it.)
  close(fd);
  return a.result;
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

// The GETs' answers: a bit per chain that is there, or the first error other than ENOENT.
struct present_answers {
  uint32_t seq, count, answered;
  int result;
};

static int present_answer(const struct nlmsghdr *h, void *ctx) {
  struct present_answers *a = ctx;
  if (h->nlmsg_type != NLMSG_ERROR || h->nlmsg_seq < a->seq || h->nlmsg_seq >= a->seq + a->count) return 0;
  int r = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
  a->answered++;
  if (r == 0) a->result |= 1 << (h->nlmsg_seq - a->seq);
  else if (r != -ENOENT && a->result >= 0) a->result = r;
  return a->answered >= a->count;
}

int nl_nft_chains_present(int family, const char *table, uint32_t count, const char *const *chains) {
  char buf[NLM_BUFFER_SIZE];
  if (count == 0) return 0;
  if (count > 16 || strlen(table) > 64) return -E2BIG;
  for (uint32_t i = 0; i < count; i++) {
    if (strlen(chains[i]) > 200) return -E2BIG;
  }
  // Every GET in one send, each answered by the chain (when it is there) and an ACK or error.
  uint32_t seq = (uint32_t)time(NULL);
  char *at = buf;
  for (uint32_t i = 0; i < count; i++) {
    struct nlmsghdr *msg = nft_msg(at, (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN), NLM_F_ACK, seq + i,
                                   (uint8_t)family, 0);
    nlm_attr_put_strz(msg, NFTA_CHAIN_TABLE, table);
    nlm_attr_put_strz(msg, NFTA_CHAIN_NAME, chains[i]);
    at = nlm_tail(msg);
  }
  int fd = nft_socket();
  if (fd < 0) return fd;
  struct present_answers a = {.seq = seq, .count = count};
  int r = nft_exchange(fd, buf, (size_t)(at - buf), present_answer, &a);
  if (r < 0) a.result = r;
  close(fd);
  return a.result;
}

// The chains of `table` whose name starts with a prefix, from a dump (or its error).
struct chain_list {
  const char *table;
  const char *prefix;
  uint32_t seq;
  int result;
  char names[32][201];
  uint32_t count;
};

static int chain_collect(const struct nlmsghdr *h, void *ctx) {
  struct chain_list *l = ctx;
  if (h->nlmsg_seq != l->seq) return 0;
  if (h->nlmsg_type == NLMSG_DONE) return 1;
  if (h->nlmsg_type == NLMSG_ERROR) {
    int r = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
    if (r < 0) l->result = r;
    return 1;
  }
  const struct nlattr *a;
  const char *table = NULL, *name = NULL;
  nlm_attr_for_each(a, h, sizeof(struct nfgenmsg)) {
    if (nlm_attr_type(a) == NFTA_CHAIN_TABLE) table = nlm_attr_str(a);
    if (nlm_attr_type(a) == NFTA_CHAIN_NAME) name = nlm_attr_str(a);
  }
  if (!table || !name || strcmp(table, l->table) != 0 || strncmp(name, l->prefix, strlen(l->prefix)) != 0) return 0;
  if (l->count < 32 && strlen(name) <= 200) strcpy(l->names[l->count++], name);
  return 0;
}

int nl_nft_chains_delete(int family, const char *table, const char *prefix) {
  char buf[NLM_BUFFER_SIZE];
  if (strlen(table) > 64 || strlen(prefix) > 200) return -E2BIG;
  static struct chain_list l;
  memset(&l, 0, sizeof l);
  l.table = table;
  l.prefix = prefix;
  l.seq = (uint32_t)time(NULL);
  struct nlmsghdr *msg = nft_msg(buf, (uint16_t)((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETCHAIN), NLM_F_DUMP, l.seq,
                                 (uint8_t)family, 0);
  int fd = nft_socket();
  if (fd < 0) return fd;
  int r = nft_exchange(fd, buf, msg->nlmsg_len, chain_collect, &l);
  if (r < 0) l.result = r;
  close(fd);
  if (l.result < 0) return l.result == -ENOENT ? 0 : l.result;
  if (l.count == 0) return 0;
  // Each chain's rules, then the chain, in one transaction.
  struct batch b;
  batch_begin(&b, buf);
  for (uint32_t i = 0; i < l.count; i++) {
    if ((size_t)((char *)b.next - buf) > NLM_BUFFER_SIZE - 1024) break;  // the rest next time
    msg = batch_msg(&b, NFT_MSG_DELRULE, 0, (uint8_t)family);
    nlm_attr_put_strz(msg, NFTA_RULE_TABLE, table);
    nlm_attr_put_strz(msg, NFTA_RULE_CHAIN, l.names[i]);
    batch_msg_end(&b, msg);
    msg = batch_msg(&b, NFT_MSG_DELCHAIN, 0, (uint8_t)family);
    nlm_attr_put_strz(msg, NFTA_CHAIN_TABLE, table);
    nlm_attr_put_strz(msg, NFTA_CHAIN_NAME, l.names[i]);
    batch_msg_end(&b, msg);
  }
  r = batch_send(&b);
  return r < 0 ? r : (int)l.count;
}

// Network `net` of `prefix` bits at `nets` (the first alen bytes) compared with register 1
// (an address), masked: `op` NFT_CMP_EQ (in it) or NFT_CMP_NEQ (not in it).
static void expr_net(struct nlmsghdr *msg, uint32_t offset, uint32_t alen, const uint8_t *addr, uint32_t prefix, uint32_t op) {
  uint8_t mask[16] = {0}, net[16] = {0}, zero[16] = {0};
  if (prefix > alen * 8) prefix = alen * 8;
  for (uint32_t bit = 0; bit < prefix; bit++) mask[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
  for (uint32_t j = 0; j < alen; j++) net[j] = addr[j] & mask[j];
  expr_payload(msg, offset, alen);
  if (prefix < alen * 8) {
    struct nlattr *data, *e = expr_start(msg, "bitwise", &data);
    put_be32(msg, NFTA_BITWISE_SREG, NFT_REG_1);
    put_be32(msg, NFTA_BITWISE_DREG, NFT_REG_1);
    put_be32(msg, NFTA_BITWISE_LEN, alen);
    put_data(msg, NFTA_BITWISE_MASK, mask, alen);
    put_data(msg, NFTA_BITWISE_XOR, zero, alen);
    expr_end(msg, e, data);
  }
  expr_cmp(msg, op, net, alen);
}

int nl_nft_masq_setup(const char *table, const char *chain, int v4, const uint8_t *subnet, uint8_t subnet_prefix,
                      const uint8_t *nets, const uint8_t *prefixes, uint32_t count, const char *comment) {
  const uint32_t alen = v4 ? 4 : 16;
  char buf[NLM_BUFFER_SIZE];
  // Fixed parts take under 900 bytes, each exempted network under 200.
  if (count > 24 || strlen(table) > 64 || strlen(chain) > 200 || strlen(comment) > 128) return -E2BIG;
  struct batch b;
  batch_begin(&b, buf);

  // The table (made if missing) and the subnet's own NAT chain (EEXIST if it is there: then
  // nothing of the batch is done, and the rule is not added twice).
  struct nlmsghdr *msg = batch_msg(&b, NFT_MSG_NEWTABLE, NLM_F_CREATE, NFPROTO_INET);
  nlm_attr_put_strz(msg, NFTA_TABLE_NAME, table);
  batch_msg_end(&b, msg);
  msg = batch_msg(&b, NFT_MSG_NEWCHAIN, NLM_F_CREATE | NLM_F_EXCL, NFPROTO_INET);
  nlm_attr_put_strz(msg, NFTA_CHAIN_TABLE, table);
  nlm_attr_put_strz(msg, NFTA_CHAIN_NAME, chain);
  struct nlattr *hook = nlm_nest_start(msg, NFTA_CHAIN_HOOK);
  put_be32(msg, NFTA_HOOK_HOOKNUM, NF_INET_POST_ROUTING);
  put_be32(msg, NFTA_HOOK_PRIORITY, 100);  // srcnat
  nlm_nest_end(msg, hook);
  nlm_attr_put_strz(msg, NFTA_CHAIN_TYPE, "nat");
  put_be32(msg, NFTA_CHAIN_POLICY, NF_ACCEPT);
  batch_msg_end(&b, msg);

  // meta nfproto ipv4|ipv6, saddr SUBNET, daddr != each exempted network, masquerade.
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
  expr_net(msg, v4 ? 12 : 8, alen, subnet, subnet_prefix, NFT_CMP_EQ);  // saddr
  for (uint32_t i = 0; i < count; i++) expr_net(msg, v4 ? 16 : 24, alen, nets + 16 * i, prefixes[i], NFT_CMP_NEQ);
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
