// Network namespaces bound to a path (netns.c). Depends on nothing of CShim.
#ifndef CSHIM_NETNS_H
#define CSHIM_NETNS_H

#ifdef __cplusplus
extern "C" {
#endif

// A new network namespace bound to `path` (created), with lo up; and its removal.
int cs_netns_create(const char *path);
int cs_netns_remove(const char *path);

#ifdef __cplusplus
}
#endif
#endif
