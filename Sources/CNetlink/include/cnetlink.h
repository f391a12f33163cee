// rtnetlink for swnet, spoken directly (nlmsg.h). Each socket is bound to the network namespace it was
// opened in, so a plugin opens one in the node's namespace and one in the pod's (see
// nl_open_in) and never switches namespaces while it works.
#ifndef CNETLINK_H
#define CNETLINK_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct nl_sock;

// Opens a NETLINK_ROUTE socket in the current namespace. NULL with errno.
struct nl_sock *nl_open(void);
// Opens one in the namespace at `netns_path` (e.g. /run/netns/x) and returns to ours.
struct nl_sock *nl_open_in(const char *netns_path);
void nl_close(struct nl_sock *nl);

struct nl_link_info {
  int32_t index;
  int32_t master;
  uint32_t mtu;
  uint32_t flags;      // IFF_*
  uint8_t mac[6];
  int32_t has_mac;
  char kind[16];       // "bridge", "veth", ...
  char alias[256];     // IFLA_IFALIAS: swnet records the attachment that owns a host veth here
};

// All return 0 or -errno.
int nl_link_get(struct nl_sock *nl, const char *name, struct nl_link_info *info);
// `mac`: the bridge's own address, set explicitly so that it never changes when ports come and
// go (a bridge otherwise takes its lowest port's MAC, and pods' ARP entries go stale).
int nl_bridge_add(struct nl_sock *nl, const char *name, uint32_t mtu, const uint8_t *mac);
// A veth pair: `name` here, `peer` created directly in the namespace of `peer_netns_fd`.
// `master` > 0: created already enslaved to that bridge (no window in which a crash leaves a
// veth that is not on the bridge).
int nl_veth_add(struct nl_sock *nl, const char *name, const char *peer, int peer_netns_fd, uint32_t mtu,
                const uint8_t *peer_mac, int32_t master);
int nl_link_set(struct nl_sock *nl, int32_t index, int up, int32_t master, uint32_t mtu, const uint8_t *mac);
int nl_link_promisc(struct nl_sock *nl, int32_t index, int on);
int nl_brport_hairpin(struct nl_sock *nl, int32_t index, int on);
int nl_link_del(struct nl_sock *nl, const char *name);
int nl_link_del_index(struct nl_sock *nl, int32_t index);
// Names link `index`, records `alias` on it and sets it up or down (-1: unchanged), in one
// request. -EEXIST when another link has that name.
int nl_link_setup(struct nl_sock *nl, int32_t index, const char *name, const char *alias, int up);
// Takes link `index` down and renames it to `retired` (a fresh "swdel........" name written
// there, 16 bytes), so its old name is free at once. 0 or -errno.
int nl_link_retire(struct nl_sock *nl, int32_t index, char *retired);
// Deletes the link `name` (a retired one) without waiting (unregistering a veth takes
// ~15 ms): a detached helper with a netlink socket of its own, opened here in the namespace
// at `netns_path` (NULL: ours), does it. Deletes at once when it cannot fork. 0 or -errno.
int nl_reap(const char *netns_path, const char *name);

struct nl_link_entry {
  int32_t index;
  int32_t master;
  char name[16];
  char alias[256];
};
// Every link; returns the count (at most `max`) or -errno.
int nl_link_dump(struct nl_sock *nl, struct nl_link_entry *out, int max);
// 4 random bytes as 8 hex digits (for temporary link names).
void nl_random_hex8(char out[9]);
// family AF_INET/AF_INET6; addr 4 or 16 bytes. EEXIST is returned as is.
int nl_addr_add(struct nl_sock *nl, int32_t index, int family, const uint8_t *addr, uint8_t prefix);
// Lists the addresses of a link: writes up to `max` entries of 17 bytes (family byte, then 16
// address bytes) plus prefixes; returns the count or -errno.
int nl_addr_list(struct nl_sock *nl, int32_t index, uint8_t *out, uint8_t *prefixes, int max);
// dst_len 0 = default route; gw may be NULL; oif 0 = none; mtu 0 = none.
int nl_route_add(struct nl_sock *nl, int family, const uint8_t *dst, uint8_t dst_len, const uint8_t *gw,
                 int32_t oif, uint32_t mtu);
int nl_route_del(struct nl_sock *nl, int family, const uint8_t *dst, uint8_t dst_len);
// Counts routes to dst/dst_len in the main table (for CHECK). Returns count or -errno.
int nl_route_count(struct nl_sock *nl, int family, const uint8_t *dst, uint8_t dst_len);

// Which of `count` (at most 16) chains of nftables table `table` of `family` (NFPROTO_INET =
// 1, ...) are there, asked in one read (no transaction): bit i set when chains[i] is.
// A missing table or chain is not an error. The mask or -errno.
int nl_nft_chains_present(int family, const char *table, uint32_t count, const char *const *chains);
// Deletes (one transaction, rules first) every chain of `table` whose name starts with
// `prefix`. The number deleted (0 when there is no such table or chain) or -errno.
int nl_nft_chains_delete(int family, const char *table, const char *prefix);
// ipMasq for one network subnet, in one batch (NFPROTO_INET): table `table` (made if missing),
// its NAT postrouting base chain `chain` (-EEXIST if there: nothing is changed), and the rule
//   meta nfproto ipv4|ipv6 <family> saddr SUBNET <family> daddr != net ... masquerade comment C
// with the subnet (16 bytes, the first 4 for IPv4) and one `daddr != net/prefix` per exempted
// network: `count` (at most 24) addresses of 16 bytes each in `nets`, prefixes in `prefixes`.
// 0 or -errno; nothing is changed on error.
int nl_nft_masq_setup(const char *table, const char *chain, int v4, const uint8_t *subnet, uint8_t subnet_prefix,
                      const uint8_t *nets, const uint8_t *prefixes, uint32_t count, const char *comment);

// The inode of a network namespace file (to tell namespaces apart), or 0.
uint64_t nl_netns_inode(const char *path);
// Opens a netns file (O_RDONLY|O_CLOEXEC) and checks it is one. fd or -errno.
int nl_netns_open(const char *path);

#ifdef __cplusplus
}
#endif
#endif
