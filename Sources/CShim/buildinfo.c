// scripts/build-release writes build_commit.h (gitignored) next to this file with
// `#define CRUN_SWIFT_COMMIT "<hash>"`; a plain `swift build` has none and says "unknown".
// Debug builds (-DDEBUG) ignore it, so a debug binary never claims a commit it may predate.
// A generated header rather than a -Xcc define: only this file recompiles when it changes.
#include "cshim_build.h"

#if !defined(DEBUG) && __has_include("build_commit.h")
#include "build_commit.h"
#endif
#ifndef CRUN_SWIFT_COMMIT
#define CRUN_SWIFT_COMMIT "unknown"
#endif

const char *cs_build_commit(void) { return CRUN_SWIFT_COMMIT; }
