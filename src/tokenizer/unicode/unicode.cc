#include "tokenizer/unicode/unicode.h"

#include <algorithm>
#include <array>

#include "tokenizer/unicode/unicode_tables.h"

namespace hearth::unicode {

namespace {

bool InRange(uint8_t b, uint8_t lo, uint8_t hi) {
  return b >= lo && b <= hi;
}

// Valid range of the second byte of a sequence led by `lead` (Unicode Table 3-7).
void SecondByteRange(uint8_t lead, uint8_t* lo, uint8_t* hi) {
  *lo = 0x80;
  *hi = 0xBF;
  if (lead == 0xE0) *lo = 0xA0;
  if (lead == 0xED) *hi = 0x9F;
  if (lead == 0xF0) *lo = 0x90;
  if (lead == 0xF4) *hi = 0x8F;
}

// True if s[0..n) (n < the sequence length) could begin a valid sequence.
bool IsIncompletePrefix(std::string_view s) {
  const uint8_t lead = static_cast<uint8_t>(s[0]);
  const size_t len = Utf8SequenceLength(lead);
  if (len < 2 || s.size() >= len) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    uint8_t lo = 0x80, hi = 0xBF;
    if (i == 1) SecondByteRange(lead, &lo, &hi);
    if (!InRange(static_cast<uint8_t>(s[i]), lo, hi)) return false;
  }
  return true;
}

struct ByteMapping {
  std::array<uint32_t, 256> to_cp{};
  std::array<int16_t, 324> to_byte{};  // code points < 324 only
};

constexpr bool IsPrintableGpt2Byte(int b) {
  return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
}

constexpr ByteMapping MakeByteMapping() {
  ByteMapping m;
  for (auto& v : m.to_byte) v = -1;
  uint32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    uint32_t cp = IsPrintableGpt2Byte(b) ? static_cast<uint32_t>(b) : next++;
    m.to_cp[b] = cp;
    m.to_byte[cp] = static_cast<int16_t>(b);
  }
  return m;
}

constexpr ByteMapping kByteMapping = MakeByteMapping();
static_assert(kByteMapping.to_cp[0] == 256 && kByteMapping.to_cp[' '] == 288 &&
              kByteMapping.to_cp[0xAD] == 323);

}  // namespace

uint32_t DecodeUtf8(std::string_view s, size_t* pos) {
  const size_t p = *pos;
  const uint8_t b0 = static_cast<uint8_t>(s[p]);
  if (b0 < 0x80) {
    *pos = p + 1;
    return b0;
  }
  const size_t len = Utf8SequenceLength(b0);
  if (len == 0 || p + len > s.size()) {
    *pos = p + 1;
    return kReplacementChar;
  }
  uint8_t lo, hi;
  SecondByteRange(b0, &lo, &hi);
  const uint8_t b1 = static_cast<uint8_t>(s[p + 1]);
  if (!InRange(b1, lo, hi)) {
    *pos = p + 1;
    return kReplacementChar;
  }
  uint32_t cp = len == 2 ? (b0 & 0x1F) : len == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  cp = (cp << 6) | (b1 & 0x3F);
  for (size_t i = 2; i < len; ++i) {
    const uint8_t b = static_cast<uint8_t>(s[p + i]);
    if (!InRange(b, 0x80, 0xBF)) {
      *pos = p + 1;
      return kReplacementChar;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  *pos = p + len;
  return cp;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp > kMaxCodepoint || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacementChar;
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

size_t Utf8SequenceLength(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xC2) return 0;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  if (lead < 0xF5) return 4;
  return 0;
}

bool IsValidUtf8(std::string_view s) {
  size_t pos = 0;
  while (pos < s.size()) {
    const size_t start = pos;
    if (DecodeUtf8(s, &pos) == kReplacementChar && pos == start + 1) return false;
  }
  return true;
}

size_t ValidUtf8Prefix(std::string_view s) {
  // At most one lead byte in the last three can start an incomplete sequence
  // (a later lead would be a continuation byte of it), and the decoder always
  // lands on it: an earlier sequence never spans a lead byte.
  const size_t start = s.size() > 3 ? s.size() - 3 : 0;
  for (size_t p = start; p < s.size(); ++p) {
    if (IsIncompletePrefix(s.substr(p))) return p;
  }
  return s.size();
}

uint32_t Flags(uint32_t cp) {
  using internal::kFlagBlockSize;
  if (cp > kMaxCodepoint) return 0;
  return internal::kFlagStage2[internal::kFlagStage1[cp / kFlagBlockSize] * kFlagBlockSize +
                               cp % kFlagBlockSize];
}

bool IsHan(uint32_t cp) {
  return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
         (cp >= 0x20000 && cp <= 0x2A6DF) || (cp >= 0x2A700 && cp <= 0x2B73F) ||
         (cp >= 0x2B740 && cp <= 0x2B81F) || (cp >= 0x2B820 && cp <= 0x2CEAF) ||
         (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x2F800 && cp <= 0x2FA1F);
}

uint32_t ToLower(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  const internal::LowerPair* begin = internal::kLowerPairs;
  const internal::LowerPair* end = begin + internal::kLowerPairCount;
  const internal::LowerPair* it = std::lower_bound(
      begin, end, cp, [](const internal::LowerPair& p, uint32_t c) { return p.cp < c; });
  return (it != end && it->cp == cp) ? it->lower : cp;
}

std::string ToLowerUtf8(std::string_view utf8) {
  std::string out;
  out.reserve(utf8.size());
  size_t pos = 0;
  while (pos < utf8.size()) {
    const size_t start = pos;
    const uint32_t cp = DecodeUtf8(utf8, &pos);
    if (cp == kReplacementChar && pos == start + 1) {
      out.push_back(utf8[start]);  // invalid byte: copy through
    } else if (cp < 0x80) {
      out.push_back(static_cast<char>(ToLower(cp)));
    } else {
      AppendUtf8(&out, ToLower(cp));
    }
  }
  return out;
}

uint32_t ByteToCodepoint(uint8_t b) {
  return kByteMapping.to_cp[b];
}

int CodepointToByte(uint32_t cp) {
  return cp < kByteMapping.to_byte.size() ? kByteMapping.to_byte[cp] : -1;
}

}  // namespace hearth::unicode
