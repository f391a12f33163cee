// What crun-swift was built from (see buildinfo.c).
#ifndef CSHIM_BUILD_H
#define CSHIM_BUILD_H

/// The git commit of the build, or "unknown" when it was not built through scripts/build-release.
const char *cs_build_commit(void);

#endif
