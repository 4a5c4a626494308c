// Deterministic benchmark text: a mix of English prose, source code and
// multilingual text (accents, Cyrillic, Greek, CJK, Arabic, emoji).
#pragma once

#include <cstddef>
#include <string>

namespace hearth::cli {

// About `bytes` bytes of text (whole lines, valid UTF-8), the same every run.
std::string MakeBenchText(size_t bytes);

}  // namespace hearth::cli
