// As Sources/CShim/buildinfo.c: scripts/build-release writes build_commit.h (gitignored) here.
#include "swnet_build.h"

#if !defined(DEBUG) && __has_include("build_commit.h")
#include "build_commit.h"
#endif
#ifndef CRUN_SWIFT_COMMIT
#define CRUN_SWIFT_COMMIT "unknown"
#endif

const char *swnet_build_commit(void) { return CRUN_SWIFT_COMMIT; }
