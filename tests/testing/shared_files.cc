#include "testing/shared_files.h"

#include <algorithm>
#include <filesystem>

#include "testing/test_paths.h"

namespace hearth::testing {

std::vector<std::string> SharedGgufFiles() {
  std::vector<std::string> out;
  const std::string shared = SharedDir();
  if (shared.empty()) return out;
  for (const char* sub : {"models", "testdata/vocab", "testdata/golden"}) {
    std::error_code ec;
    for (auto it = std::filesystem::recursive_directory_iterator(shared + "/" + sub, ec);
         !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
      if (it->is_regular_file() && it->path().extension() == ".gguf") {
        out.push_back(it->path().string());
      }
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace hearth::testing
