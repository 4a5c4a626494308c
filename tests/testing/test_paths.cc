#include "testing/test_paths.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>

namespace hearth::testing {

std::string SourceDir() {
  return HEARTH_SOURCE_DIR;
}
std::string BinaryDir() {
  return HEARTH_BINARY_DIR;
}

std::string SharedDir() {
  const char* env = std::getenv("HEARTH_SHARED_DIR");
  std::string dir = env != nullptr ? env : SourceDir() + "/../shared";
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return "";
  return std::filesystem::canonical(dir, ec).string();
}

std::string HearthBinary() {
  return BinaryDir() + "/bin/hearth";
}

std::string TempDir() {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = info != nullptr ? std::string(info->test_suite_name()) + "." + info->name()
                                     : std::string("anon");
  for (char& c : name) {
    if (c == '/') c = '_';
  }
  std::string dir = BinaryDir() + "/test_tmp/" + name + "." + std::to_string(getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

CommandResult RunCommand(const std::string& command, bool merge_stderr) {
  CommandResult r;
  std::string cmd = command + (merge_stderr ? " 2>&1" : "");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace hearth::testing
