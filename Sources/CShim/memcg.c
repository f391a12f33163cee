// cgroup v1 memory controller notifications (Documentation/admin-guide/cgroup-v1/memory.rst,
// "OOM Control"): an eventfd registered through cgroup.event_control.
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "cshim_memcg.h"

int cs_memcg_oom_eventfd(const char *dir) {
    char path[4096], line[64];
    if (snprintf(path, sizeof path, "%s/memory.oom_control", dir) >= (int)sizeof path) return -ENAMETOOLONG;
    int ofd = open(path, O_RDONLY | O_CLOEXEC);
    if (ofd < 0) return -errno;
    int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (efd < 0) {
        int e = errno;
        close(ofd);
        return -e;
    }
    snprintf(path, sizeof path, "%s/cgroup.event_control", dir);
    int cfd = open(path, O_WRONLY | O_CLOEXEC);
    int e = 0;
    if (cfd < 0) {
        e = errno;
    } else {
        int n = snprintf(line, sizeof line, "%d %d", efd, ofd);
        if (write(cfd, line, (size_t)n) != n) e = errno ? errno : EIO;
        close(cfd);
    }
    // The kernel holds the registration (until the cgroup goes); memory.oom_control's fd was
    // needed only to name the file.
    close(ofd);
    if (e) {
        close(efd);
        return -e;
    }
    return efd;
}
