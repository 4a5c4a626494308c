// Facts fixed at build time, for `hearth --version` and run records.
#pragma once

namespace hearth {
const char* BuildVersion();    // "0.1.0"
const char* BuildGitCommit();  // short hash, "-dirty" suffix, or "unknown"
const char* BuildType();       // CMAKE_BUILD_TYPE
const char* BuildCompiler();   // "g++ 12.2.0"
}  // namespace hearth
