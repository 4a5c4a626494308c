// Semantic versions ("1.10.0" > "1.9.0") and the bundle version counter.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace hearth::deploy {

struct SemVer {
  uint64_t major = 0, minor = 0, patch = 0;
  std::string prerelease;  // "rc.1" in "1.2.0-rc.1"; sorts before the release
};

// Parses "MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]" (build metadata is ignored).
// Error: InvalidArgument, reason "semver.syntax".
Result<SemVer> ParseSemVer(std::string_view text);
// <0, 0, >0 like strcmp; numeric fields compare as numbers; a prerelease sorts
// before its release; prerelease identifiers compare per SemVer 2.0 §11.
int CompareSemVer(const SemVer& a, const SemVer& b);
// Convenience: both parse, then compare.
Result<int> CompareVersions(std::string_view a, std::string_view b);

// The default monotonic version_counter of a bundle version "A.B.C":
// A·10^6 + B·10^3 + C, each part below 1000 (else an error asking for an
// explicit counter). Prerelease versions have no default counter.
Result<uint64_t> CounterFromVersion(std::string_view version);

}  // namespace hearth::deploy
