// Capability names and the kernel's last capability (caps.c, libcap). Depends on nothing of
// CShim.
#ifndef CSHIM_CAPS_H
#define CSHIM_CAPS_H

#ifdef __cplusplus
extern "C" {
#endif

// Capability helpers (libcap).
int cs_cap_from_name(const char *name);   // -1 when unknown
int cs_cap_last_cap(void);

#ifdef __cplusplus
}
#endif
#endif
