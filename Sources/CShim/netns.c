// Named network namespaces for `crun-swift run --network`: a new namespace bound to a file
// (as `ip netns add` does) with its loopback up, and its removal.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cshim_netns.h"

int cs_netns_create(const char *path) {
  int f = open(path, O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, 0444);
  if (f < 0) return -errno;
  close(f);
  int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (self < 0) { int e = errno; unlink(path); return -e; }
  int r = 0;
  if (unshare(CLONE_NEWNET) < 0) {
    r = -errno;
  } else {
    // Loopback up, as runtimes do for a pod before CNI runs.
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s >= 0) {
      struct ifreq ifr;
      memset(&ifr, 0, sizeof ifr);
      strcpy(ifr.ifr_name, "lo");
      if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP;
        ioctl(s, SIOCSIFFLAGS, &ifr);
      }
      close(s);
    }
    if (mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0) r = -errno;
    if (setns(self, CLONE_NEWNET) < 0 && r == 0) r = -errno;
  }
  close(self);
  if (r < 0) unlink(path);
  return r;
}

int cs_netns_remove(const char *path) {
  if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) return -errno;
  if (unlink(path) < 0 && errno != ENOENT) return -errno;
  return 0;
}
