#include "deploy/crash_point.h"

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

namespace hearth::deploy {

void CrashPoint(std::string_view name) {
  const char* at = std::getenv("HEARTH_CRASH_AT");
  const char* trace = std::getenv("HEARTH_CRASH_TRACE");
  if (at == nullptr && trace == nullptr) return;

  static std::mutex mu;
  static std::map<std::string, int, std::less<>> hits;
  std::lock_guard<std::mutex> lock(mu);
  const int n = ++hits[std::string(name)];
  const std::string tag = std::string(name) + "@" + std::to_string(n);
  if (trace != nullptr) {
    const int fd = ::open(trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd >= 0) {
      const std::string line = tag + "\n";
      [[maybe_unused]] ssize_t w = ::write(fd, line.data(), line.size());
      ::close(fd);
    }
  }
  if (at != nullptr) {
    std::string want = at;
    if (want.find('@') == std::string::npos) want += "@1";
    if (want == tag) ::raise(SIGKILL);
  }
}

}  // namespace hearth::deploy
