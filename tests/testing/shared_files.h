// Enumerates the GGUF files of the shared test data.
#pragma once

#include <string>
#include <vector>

namespace hearth::testing {

// Every *.gguf under shared/models, shared/testdata/vocab and shared/testdata/golden
// (absolute paths, sorted). Empty when the shared directory is absent.
std::vector<std::string> SharedGgufFiles();

}  // namespace hearth::testing
