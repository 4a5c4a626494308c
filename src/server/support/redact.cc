#include "server/support/redact.h"

#include <cstdint>

#include "base/json.h"
#include "base/sha256.h"

namespace hearth::server {
namespace {

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsAlpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
// \w in the ASCII sense; bytes >= 0x80 are deliberately not word characters.
bool IsWord(char c) {
  return IsAlpha(c) || IsDigit(c) || c == '_';
}
bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
// [A-Za-z0-9._%+-]
bool IsEmailLocal(char c) {
  return IsAlpha(c) || IsDigit(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
// [A-Za-z0-9.-]
bool IsEmailDomain(char c) {
  return IsAlpha(c) || IsDigit(c) || c == '.' || c == '-';
}

// The end of the longest match of [A-Za-z0-9.-]+\.[A-Za-z]{2,} starting at
// `p`, or npos. As the greedy regex does: take the whole run of domain
// characters, back off to the last '.' (with something before it) that is
// followed by two letters, then take every letter after that dot.
size_t MatchEmailDomain(std::string_view t, size_t p) {
  size_t run_end = p;
  while (run_end < t.size() && IsEmailDomain(t[run_end])) ++run_end;
  for (size_t d = run_end; d-- > p + 1;) {
    if (t[d] != '.' || d + 2 >= t.size() || !IsAlpha(t[d + 1]) || !IsAlpha(t[d + 2])) continue;
    size_t end = d + 1;
    while (end < t.size() && IsAlpha(t[end])) ++end;
    return end;
  }
  return std::string_view::npos;
}

std::string ScrubEmails(std::string_view t) {
  std::string out;
  out.reserve(t.size());
  size_t copied = 0;  // t[0, copied) is already in `out`
  size_t at = t.find('@');
  while (at != std::string_view::npos) {
    // The local part may not reach back into an earlier replacement.
    size_t start = at;
    while (start > copied && IsEmailLocal(t[start - 1])) --start;
    size_t end = start < at ? MatchEmailDomain(t, at + 1) : std::string_view::npos;
    if (end == std::string_view::npos) {
      at = t.find('@', at + 1);
      continue;
    }
    out.append(t.substr(copied, start - copied));
    out.append("[EMAIL]");
    copied = end;
    at = t.find('@', end);
  }
  out.append(t.substr(copied));
  return out;
}

// \b between t[k-1] and t[k] (outside the text counts as non-word).
bool IsBoundary(std::string_view t, size_t k) {
  bool left = k > 0 && IsWord(t[k - 1]);
  bool right = k < t.size() && IsWord(t[k]);
  return left != right;
}

bool IsPhoneRun(char c) {
  return IsDigit(c) || IsSpace(c) || c == '-';
}

// \b\+?\d[\d\s-]{7,}\b, leftmost and greedy like the regex, then widened
// by a '+' just before the digit and narrowed to end on a digit.
std::string ScrubPhones(std::string_view t) {
  std::string out;
  out.reserve(t.size());
  size_t copied = 0;  // t[0, copied) is already in `out`
  size_t i = 0;       // where the regex would try its next match
  while (i < t.size()) {
    // \b before '+' needs a word character before it (the '+' is not one);
    // \b before a digit needs a non-word character (or the start) before it.
    size_t first_digit;
    if (t[i] == '+' && i + 1 < t.size() && IsDigit(t[i + 1]) && IsBoundary(t, i)) {
      first_digit = i + 1;
    } else if (IsDigit(t[i]) && IsBoundary(t, i)) {
      first_digit = i;
    } else {
      ++i;
      continue;
    }
    size_t run_end = first_digit + 1;
    while (run_end < t.size() && IsPhoneRun(t[run_end])) ++run_end;
    // Greedy: the longest run of at least 7 characters after the first digit
    // that ends on a word boundary.
    size_t end = std::string_view::npos;
    for (size_t k = run_end; k >= first_digit + 8; --k) {
      if (IsBoundary(t, k)) {
        end = k;
        break;
      }
    }
    if (end == std::string_view::npos) {
      ++i;
      continue;
    }
    size_t start = i;
    if (start == first_digit && start > copied && t[start - 1] == '+') --start;
    size_t last = end;
    while (!IsDigit(t[last - 1])) --last;  // trailing spaces/dashes stay as text
    out.append(t.substr(copied, start - copied));
    out.append("[PHONE_OR_ID]");
    copied = last;
    i = end;
  }
  out.append(t.substr(copied));
  return out;
}

// Decodes the valid multi-byte sequence at p (length len).
uint32_t DecodeUtf8(const unsigned char* p, size_t len) {
  if (len == 2) return (p[0] & 0x1Fu) << 6 | (p[1] & 0x3Fu);
  if (len == 3) return (p[0] & 0x0Fu) << 12 | (p[1] & 0x3Fu) << 6 | (p[2] & 0x3Fu);
  return (p[0] & 0x07u) << 18 | (p[1] & 0x3Fu) << 12 | (p[2] & 0x3Fu) << 6 | (p[3] & 0x3Fu);
}

// Valid UTF-8 out, one line, no control characters (see PreviewText).
std::string SanitizeForLog(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* end = p + text.size();
  while (p < end) {
    unsigned char c = *p;
    if (c < 0x80) {
      if (c == '\t' || c == '\n' || c == '\r') {
        out.push_back(' ');
      } else if (c >= 0x20 && c != 0x7F) {
        out.push_back(static_cast<char>(c));
      }
      ++p;
      continue;
    }
    size_t len = 0;
    if (json::internal::CheckUtf8Sequence(p, end, &len) != json::internal::Utf8Error::kOk) {
      out.append("\xEF\xBF\xBD");  // U+FFFD for each invalid byte
      ++p;
      continue;
    }
    uint32_t cp = DecodeUtf8(p, len);
    if (cp == 0x2028 || cp == 0x2029) {
      out.push_back(' ');  // line / paragraph separators break lines in some viewers
    } else if (!(cp >= 0x80 && cp <= 0x9F) && !(cp >= 0x202A && cp <= 0x202E) &&
               !(cp >= 0x2066 && cp <= 0x2069)) {
      // (dropped: C1 controls and the bidi overrides that can disguise text)
      out.append(reinterpret_cast<const char*>(p), len);
    }
    p += len;
  }
  return out;
}

}  // namespace

std::string ScrubPii(std::string_view text) {
  return ScrubPhones(ScrubEmails(text));
}

std::string PreviewText(std::string_view text, size_t max_code_points, bool scrub_pii) {
  std::string s = SanitizeForLog(text);
  if (scrub_pii) s = ScrubPii(s);
  // `s` is valid UTF-8 now: count lead bytes and cut before the first one
  // past the limit.
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (count == max_code_points) {
      s.resize(i);
      break;
    }
    ++count;
  }
  return s;
}

std::string PromptHash(std::string_view text) {
  Sha256 h;
  size_t start = 0;  // text[start, i) is pending, free of CR
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') continue;
    h.Update(text.substr(start, i - start));
    h.Update("\n");
    if (i + 1 < text.size() && text[i + 1] == '\n') ++i;  // CRLF: one LF
    start = i + 1;
  }
  h.Update(text.substr(start));
  return "sha256:" + ToHex(h.Final());
}

}  // namespace hearth::server
