// What swnet was built from (see buildinfo.c).
#ifndef SWNET_BUILD_H
#define SWNET_BUILD_H

/// The git commit of the build, or "unknown" when it was not built through scripts/build-release.
const char *swnet_build_commit(void);

#endif
