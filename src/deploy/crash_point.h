// Crash injection for the store's crash-safety tests.
//
// Every step of install / activate / rollback that changes the disk calls
// CrashPoint("install.rename") (etc.). In normal runs this is a cheap no-op.
// Two environment variables turn it into a test harness:
//   HEARTH_CRASH_TRACE=FILE   appends "<name>@<n>" for the n-th hit of each point
//   HEARTH_CRASH_AT=NAME@N    kills the process with SIGKILL at the N-th hit of NAME
//                             (a bare NAME means its first hit)
// so a test can first trace an operation, then kill it at each traced point and
// check that the store recovers (tests/deploy/store_crash_test.cc).
#pragma once

#include <string_view>

namespace hearth::deploy {

void CrashPoint(std::string_view name);

}  // namespace hearth::deploy
