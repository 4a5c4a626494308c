// Tokenizer conformance files in llama.cpp's format: `X.inp` holds strings, each
// followed by "\n__ggml_vocab_test__\n"; `X.out` one line of space-separated
// expected ids per string.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace hearth::testing {

struct VocabCase {
  std::string text;
  std::vector<int32_t> ids;
};

// Reads a pair of files; records a test failure (and returns what it could) if
// either is missing or the counts disagree.
std::vector<VocabCase> ReadVocabCases(const std::string& inp_path, const std::string& out_path);

// " 1 2 3": ids as text, for failure messages and comparisons.
std::string IdsText(const std::vector<int32_t>& ids);

}  // namespace hearth::testing
