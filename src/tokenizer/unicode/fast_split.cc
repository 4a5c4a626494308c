#include "tokenizer/unicode/fast_split.h"

#include <array>
#include <cstdint>

#include "tokenizer/unicode/unicode.h"

namespace hearth::unicode::internal {

namespace {

// Character classes as PCRE2 (UTF + UCP) sees them.
enum Class : uint8_t {
  kInvalid = 0,  // an invalid UTF-8 byte: matched by nothing
  kL = 1,        // \p{L}
  kN = 2,        // \p{N}
  kS = 3,        // \s
  kOther = 4,    // [^\s\p{L}\p{N}]
};

// PCRE2 10.42's \s under UCP: White_Space plus U+180E MONGOLIAN VOWEL SEPARATOR
// (a space before Unicode 6.3; PCRE2 keeps it). Checked over every code point
// by pretokenizer_test.cc.
bool IsPcreSpace(uint32_t cp, uint32_t flags) {
  return (flags & kWhitespace) != 0 || cp == 0x180E;
}

Class ClassOf(uint32_t cp) {
  const uint32_t f = Flags(cp);
  if (f & kLetter) return kL;
  if (f & kNumber) return kN;
  if (IsPcreSpace(cp, f)) return kS;
  return kOther;
}

std::array<Class, 128> MakeAsciiClasses() {
  std::array<Class, 128> t{};
  for (uint32_t c = 0; c < 128; ++c) t[c] = ClassOf(c);
  return t;
}

const std::array<Class, 128> kAsciiClass = MakeAsciiClasses();

struct Ch {
  uint32_t cp;
  uint32_t len;
  Class cls;
};

// The character at s[p] (p < s.size()).
inline Ch At(std::string_view s, size_t p) {
  const uint8_t b = static_cast<uint8_t>(s[p]);
  if (b < 0x80) return {b, 1, kAsciiClass[b]};
  size_t q = p;
  const uint32_t cp = DecodeUtf8(s, &q);
  if (cp == kReplacementChar && q == p + 1) return {cp, 1, kInvalid};
  return {cp, static_cast<uint32_t>(q - p), ClassOf(cp)};
}

// End of the run of characters of class `cls` starting at p.
inline size_t RunEnd(std::string_view s, size_t p, Class cls) {
  while (p < s.size()) {
    const Ch c = At(s, p);
    if (c.cls != cls) break;
    p += c.len;
  }
  return p;
}

enum class CaseMode { kExact, kAscii, kUnicode };

inline bool Is(char c, char lower, CaseMode mode) {
  return c == lower || (mode != CaseMode::kExact && c == lower - 32);
}

// Length of the contraction ('s 't 're 've 'm 'll 'd) at s[p] == '\'', or 0.
size_t Contraction(std::string_view s, size_t p, CaseMode mode) {
  if (p + 1 >= s.size()) return 0;
  const char a = s[p + 1];
  if (Is(a, 's', mode) || Is(a, 't', mode) || Is(a, 'm', mode) || Is(a, 'd', mode)) return 2;
  // U+017F LATIN SMALL LETTER LONG S folds to 's' under Unicode caseless matching.
  if (mode == CaseMode::kUnicode && s.substr(p + 1, 2) == "\xC5\xBF") return 3;
  if (p + 2 >= s.size()) return 0;
  const char b = s[p + 2];
  if ((Is(a, 'r', mode) && Is(b, 'e', mode)) || (Is(a, 'v', mode) && Is(b, 'e', mode)) ||
      (Is(a, 'l', mode) && Is(b, 'l', mode))) {
    return 3;
  }
  return 0;
}

// \s+(?!\S)|\s+ at p (a whitespace character): the end of the match.
inline size_t Whitespace(std::string_view s, size_t p) {
  size_t last = p;  // start of the last whitespace character
  size_t q = p;
  while (q < s.size()) {
    const Ch c = At(s, q);
    if (c.cls != kS) {
      // (?!\S) fails before a valid non-space: give back one character if we can.
      if (c.cls != kInvalid && last > p) return last;
      return q;
    }
    last = q;
    q += c.len;
  }
  return q;
}

// The end of the GPT-2 pattern's match at p, or p if nothing matches there.
size_t MatchGpt2(std::string_view s, size_t p) {
  const Ch c = At(s, p);
  if (c.cls == kInvalid) return p;
  if (c.cp == '\'') {
    if (size_t n = Contraction(s, p, CaseMode::kExact)) return p + n;
  }
  size_t start = p;
  Class cls = c.cls;
  if (c.cp == ' ' && p + 1 < s.size()) {
    const Ch n = At(s, p + 1);
    if (n.cls == kL || n.cls == kN || n.cls == kOther) {
      start = p + 1;
      cls = n.cls;
    }
  }
  if (cls != kS) return RunEnd(s, start, cls);
  return Whitespace(s, p);
}

// The end of the llama3 / qwen2 pattern's match at p, or p if nothing matches.
size_t MatchLlama3(std::string_view s, size_t p, size_t max_digits, CaseMode mode) {
  const Ch c = At(s, p);
  if (c.cls == kInvalid) return p;
  if (c.cp == '\'') {
    if (size_t n = Contraction(s, p, mode)) return p + n;
  }
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (c.cls == kL) return RunEnd(s, p, kL);
  const size_t next = p + c.len;
  if (c.cp != '\r' && c.cp != '\n' && c.cls != kN && next < s.size() && At(s, next).cls == kL) {
    return RunEnd(s, next, kL);
  }
  // \p{N}{1,3}
  if (c.cls == kN) {
    size_t q = next;
    for (size_t k = 1; k < max_digits && q < s.size(); ++k) {
      const Ch d = At(s, q);
      if (d.cls != kN) break;
      q += d.len;
    }
    return q;
  }
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  size_t start = p;
  if (c.cp == ' ' && next < s.size() && At(s, next).cls == kOther) start = next;
  if (start != p || c.cls == kOther) {
    size_t q = RunEnd(s, start, kOther);
    while (q < s.size() && (s[q] == '\r' || s[q] == '\n')) ++q;
    return q;
  }
  // c is whitespace. \s*[\r\n]+ : up to the last newline of the run.
  size_t q = p;
  size_t after_newline = 0;
  while (q < s.size()) {
    const Ch w = At(s, q);
    if (w.cls != kS) break;
    q += w.len;
    if (w.cp == '\r' || w.cp == '\n') after_newline = q;
  }
  if (after_newline != 0) return after_newline;
  return Whitespace(s, p);
}

template <typename MatchFn>
void SplitWith(std::string_view s, std::vector<std::string_view>* out, MatchFn match) {
  size_t gap = 0;
  size_t p = 0;
  while (p < s.size()) {
    const size_t e = match(p);
    if (e == p) {  // nothing matches here: part of a gap
      p += At(s, p).len;
      continue;
    }
    if (gap < p) out->push_back(s.substr(gap, p - gap));
    out->push_back(s.substr(p, e - p));
    p = gap = e;
  }
  if (gap < s.size()) out->push_back(s.substr(gap));
}

}  // namespace

void FastSplit(FastPattern pattern, std::string_view text, std::vector<std::string_view>* out) {
  switch (pattern) {
    case FastPattern::kGpt2:
      SplitWith(text, out, [&](size_t p) { return MatchGpt2(text, p); });
      return;
    case FastPattern::kLlama3:
      SplitWith(text, out, [&](size_t p) { return MatchLlama3(text, p, 3, CaseMode::kAscii); });
      return;
    case FastPattern::kQwen2:
      SplitWith(text, out, [&](size_t p) { return MatchLlama3(text, p, 1, CaseMode::kAscii); });
      return;
    case FastPattern::kLlama3Caseless:
      SplitWith(text, out, [&](size_t p) { return MatchLlama3(text, p, 3, CaseMode::kUnicode); });
      return;
    case FastPattern::kQwen2Caseless:
      SplitWith(text, out, [&](size_t p) { return MatchLlama3(text, p, 1, CaseMode::kUnicode); });
      return;
    case FastPattern::kNone:
      break;
  }
  if (!text.empty()) out->push_back(text);
}

}  // namespace hearth::unicode::internal
