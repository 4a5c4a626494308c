// Python string operations on UTF-8 text (internal to the chat library).
// Case changes are ASCII-only; other code points pass through unchanged.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "tokenizer/chat/value.h"

namespace hearth::chat {

// str.strip/lstrip/rstrip; chars == nullptr strips whitespace.
std::string PyStrip(std::string_view s, const std::string* chars, bool left, bool right);
// str.split/rsplit; sep == nullptr splits on whitespace runs.
std::vector<std::string> PySplit(std::string_view s, const std::string* sep, int64_t maxsplit,
                                 bool from_right);
// str.replace(old, new[, count]); an error when the result would exceed kMaxStringBytes.
Result<Value> PyReplace(std::string_view s, std::string_view from, std::string_view to,
                        int64_t count);
// "upper", "lower", "title", "capitalize", "swapcase".
std::string ChangeCase(std::string_view s, std::string_view how);
// str.splitlines() on "\n", "\r\n" and "\r".
std::vector<std::string> SplitLines(std::string_view s);
// "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower" (ASCII classes).
bool CharClassTest(std::string_view s, std::string_view which);

}  // namespace hearth::chat
