// Where tests find their data.
//
// Shared test data (models, golden logits, vocabularies) lives in ../shared
// beside the repository (or $HEARTH_SHARED_DIR). A user's clone may not have
// it: tests that need it call HEARTH_REQUIRE_SHARED() and are skipped with a
// clear reason instead of failing.
#pragma once

#include <gtest/gtest.h>

#include <string>

namespace hearth::testing {

std::string SourceDir();  // repository root
std::string BinaryDir();  // build directory
// Absolute path of the shared directory, or "" if it does not exist.
std::string SharedDir();
// The `hearth` executable of this build.
std::string HearthBinary();
// A fresh empty directory under the build tree, unique to the running test.
std::string TempDir();

// Runs a shell command, capturing stdout (and stderr when merge_stderr).
struct CommandResult {
  int exit_code = -1;
  std::string output;
};
CommandResult RunCommand(const std::string& command, bool merge_stderr = false);

}  // namespace hearth::testing

#define HEARTH_REQUIRE_SHARED()                                                    \
  do {                                                                             \
    if (::hearth::testing::SharedDir().empty())                                    \
      GTEST_SKIP() << "shared test data not found (expected ../shared beside the " \
                      "repository, or set HEARTH_SHARED_DIR); skipping";           \
  } while (0)
