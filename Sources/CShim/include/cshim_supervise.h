// The foreground supervisor of `run` and `exec` (supervise.c). Depends on nothing of CShim.
#ifndef CSHIM_SUPERVISE_H
#define CSHIM_SUPERVISE_H

#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

// The foreground supervisor: forwards signals to `pid`, relays stdio to the pty master when
// `master_fd` >= 0, and returns the wait status of `pid`. `forward` lists signals (0-ended)
// that the caller blocked before spawning.
int cs_supervise(pid_t pid, int master_fd, const int *forward);

// Blocks the forwarded signals in the calling thread (before cs_spawn) so none is lost.
void cs_block_signals(const int *forward);

#ifdef __cplusplus
}
#endif
#endif
