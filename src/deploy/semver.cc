#include "deploy/semver.h"

#include <vector>

#include "base/strings.h"

namespace hearth::deploy {
namespace {

bool ParseNumber(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 18) return false;
  if (s.size() > 1 && s[0] == '0') return false;  // no leading zeros (SemVer §2)
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  *out = v;
  return true;
}

bool IsIdentifierChar(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-';
}

bool AllDigits(std::string_view s) {
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return !s.empty();
}

}  // namespace

Result<SemVer> ParseSemVer(std::string_view text) {
  auto bad = [&](const char* why) {
    return InvalidArgumentError(
        StrFormat("version '%s' is not MAJOR.MINOR.PATCH: %s", std::string(text).c_str(), why),
        "semver.syntax");
  };
  std::string_view core = text;
  if (size_t plus = core.find('+'); plus != std::string_view::npos) core = core.substr(0, plus);
  std::string_view pre;
  if (size_t dash = core.find('-'); dash != std::string_view::npos) {
    pre = core.substr(dash + 1);
    core = core.substr(0, dash);
    if (pre.empty()) return bad("empty prerelease");
    for (std::string_view id : StrSplit(pre, '.')) {
      if (id.empty()) return bad("empty prerelease identifier");
      for (char c : id)
        if (!IsIdentifierChar(c)) return bad("bad character in prerelease");
    }
  }
  std::vector<std::string_view> parts = StrSplit(core, '.');
  if (parts.size() != 3) return bad("expected three numbers");
  SemVer v;
  if (!ParseNumber(parts[0], &v.major) || !ParseNumber(parts[1], &v.minor) ||
      !ParseNumber(parts[2], &v.patch))
    return bad("each part must be a number without leading zeros");
  v.prerelease = std::string(pre);
  return v;
}

int CompareSemVer(const SemVer& a, const SemVer& b) {
  auto cmp = [](uint64_t x, uint64_t y) { return x < y ? -1 : (x > y ? 1 : 0); };
  if (int c = cmp(a.major, b.major)) return c;
  if (int c = cmp(a.minor, b.minor)) return c;
  if (int c = cmp(a.patch, b.patch)) return c;
  if (a.prerelease.empty() || b.prerelease.empty()) {
    if (a.prerelease.empty() && b.prerelease.empty()) return 0;
    return a.prerelease.empty() ? 1 : -1;  // the release sorts after its prereleases
  }
  std::vector<std::string_view> x = StrSplit(a.prerelease, '.');
  std::vector<std::string_view> y = StrSplit(b.prerelease, '.');
  for (size_t i = 0; i < x.size() && i < y.size(); ++i) {
    const bool nx = AllDigits(x[i]), ny = AllDigits(y[i]);
    if (nx && ny) {
      if (x[i].size() != y[i].size()) return x[i].size() < y[i].size() ? -1 : 1;
      if (int c = x[i].compare(y[i])) return c < 0 ? -1 : 1;
    } else if (nx != ny) {
      return nx ? -1 : 1;  // numeric identifiers sort before alphanumeric ones
    } else if (int c = x[i].compare(y[i])) {
      return c < 0 ? -1 : 1;
    }
  }
  return cmp(x.size(), y.size());
}

Result<int> CompareVersions(std::string_view a, std::string_view b) {
  HEARTH_ASSIGN_OR_RETURN(SemVer va, ParseSemVer(a));
  HEARTH_ASSIGN_OR_RETURN(SemVer vb, ParseSemVer(b));
  return CompareSemVer(va, vb);
}

Result<uint64_t> CounterFromVersion(std::string_view version) {
  HEARTH_ASSIGN_OR_RETURN(SemVer v, ParseSemVer(version));
  if (!v.prerelease.empty() || v.major >= 1000 || v.minor >= 1000 || v.patch >= 1000)
    return InvalidArgumentError(
        StrFormat("version '%s' has no default version counter (each part must be below "
                  "1000, no prerelease); pass --counter N",
                  std::string(version).c_str()),
        "bundle.counter");
  return v.major * 1000000 + v.minor * 1000 + v.patch;
}

}  // namespace hearth::deploy
