// Internal to the C shim: procfs writes the container cannot redirect (procfs.c). Depends on
// child.h (in procfs.c).
#ifndef CSHIM_PROCFS_H
#define CSHIM_PROCFS_H

// A verified procfs descriptor and writes beneath it.
int cs_procfs_open(void);
int cs_procfs_write(int proc_fd, const char *rel, const char *data);
// The procfs descriptor of this child (opened before entering the container), or -1.
extern int cs_proc_fd;

#endif
