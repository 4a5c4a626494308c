#include "testing/vocab_cases.h"

#include <gtest/gtest.h>

#include "base/mapped_file.h"
#include "base/strings.h"

namespace hearth::testing {

std::vector<VocabCase> ReadVocabCases(const std::string& inp_path, const std::string& out_path) {
  std::vector<VocabCase> cases;
  auto inp = ReadFileToString(inp_path);
  auto out = ReadFileToString(out_path);
  EXPECT_TRUE(inp.ok() && out.ok()) << inp_path;
  if (!inp.ok() || !out.ok()) return cases;
  const std::string sep = "\n__ggml_vocab_test__\n";
  for (size_t pos = 0, end; (end = inp->find(sep, pos)) != std::string::npos;
       pos = end + sep.size()) {
    cases.push_back({inp->substr(pos, end - pos), {}});
  }
  std::vector<std::string_view> lines = StrSplit(*out, '\n');
  EXPECT_GE(lines.size(), cases.size()) << out_path;
  for (size_t i = 0; i < cases.size() && i < lines.size(); ++i) {
    for (std::string_view part : StrSplit(lines[i], ' ')) {
      int64_t v;
      if (!part.empty() && ParseInt64(part, &v)) cases[i].ids.push_back(static_cast<int32_t>(v));
    }
  }
  return cases;
}

std::string IdsText(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += " " + std::to_string(id);
  return s;
}

}  // namespace hearth::testing
