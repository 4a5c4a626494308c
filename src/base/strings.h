// Small string helpers (libstdc++ 12 has no <format>).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

// printf-style formatting into a std::string.
std::string StrFormat(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

std::vector<std::string_view> StrSplit(std::string_view s, char sep);
std::string StrJoin(const std::vector<std::string>& parts, std::string_view sep);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
std::string_view StripWhitespace(std::string_view s);

// "1.23 GiB", "512 B": binary units with 3 significant digits.
std::string HumanBytes(uint64_t bytes);

// Parses a whole string as a base-10 integer / finite double; false on any junk.
bool ParseInt64(std::string_view s, int64_t* out);
bool ParseDouble(std::string_view s, double* out);

// Escapes a byte string for display: printable ASCII kept, others as \xNN, \n, \t.
std::string EscapeForDisplay(std::string_view s, size_t max_len = 80);

}  // namespace hearth
