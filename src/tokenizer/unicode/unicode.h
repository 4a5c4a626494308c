// Unicode support for tokenizers: UTF-8, general categories, case mapping,
// normalization (NFC/NFD/NFKC/NFKD) and the GPT-2 byte <-> code point mapping.
//
// Tables are generated at build time from the Unicode Character Database in
// Debian's unicode-data package (Unicode 15.0 on Debian 12) by
// gen_unicode_tables; nothing is read at run time. Every function is pure and
// thread-safe, allocates only its result, and accepts any byte string: invalid
// UTF-8 never crashes and, where text is transformed, passes through unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hearth::unicode {

inline constexpr uint32_t kReplacementChar = 0xFFFD;
inline constexpr uint32_t kMaxCodepoint = 0x10FFFF;

// ---------------------------------------------------------------------------
// UTF-8

// Decodes the code point starting at s[*pos] and advances *pos past it.
// An invalid or truncated sequence (bad lead or continuation byte, overlong
// form, surrogate, > U+10FFFF) yields U+FFFD and advances exactly one byte, so
// callers can tell it from a real U+FFFD (which advances three). Requires
// *pos < s.size().
uint32_t DecodeUtf8(std::string_view s, size_t* pos);

// Appends the UTF-8 form of `cp`; surrogates and values > U+10FFFF are
// written as U+FFFD.
void AppendUtf8(std::string* out, uint32_t cp);

// Length of the sequence a lead byte starts: 1 (ASCII), 2 (C2..DF), 3 (E0..EF)
// or 4 (F0..F4); 0 for a byte that can never start a valid sequence
// (continuation bytes 80..BF and C0, C1, F5..FF).
size_t Utf8SequenceLength(uint8_t lead);

bool IsValidUtf8(std::string_view s);

// For streaming output: the length of the longest prefix of `s` that does not
// end inside an incomplete sequence that could still become valid when more
// bytes arrive. Bytes that can never become valid are not held back, so the
// held-back tail is at most 3 bytes.
size_t ValidUtf8Prefix(std::string_view s);

// ---------------------------------------------------------------------------
// Character properties (UnicodeData.txt general categories + PropList.txt)

enum CharFlags : uint32_t {
  kLetter = 1u << 0,       // L*
  kMark = 1u << 1,         // M*
  kNumber = 1u << 2,       // N*
  kPunctuation = 1u << 3,  // P*
  kSymbol = 1u << 4,       // S*
  kSeparator = 1u << 5,    // Z*
  kControl = 1u << 6,      // Cc
  kFormat = 1u << 7,       // Cf
  // The Unicode White_Space property: what Rust's char::is_whitespace (HF
  // tokenizers), Oniguruma's \s and llama.cpp use. Python's str.isspace also
  // counts U+001C..U+001F; BERT's _is_whitespace is narrower (\t \n \r and Zs).
  kWhitespace = 1u << 8,
  kUppercase = 1u << 9,        // Lu
  kLowercase = 1u << 10,       // Ll
  kNonspacingMark = 1u << 11,  // Mn (what StripAccents drops)
};

// Bitwise OR of CharFlags for `cp`; 0 for unassigned code points, surrogates,
// private use and values > U+10FFFF.
uint32_t Flags(uint32_t cp);

inline bool IsLetter(uint32_t cp) {
  return (Flags(cp) & kLetter) != 0;
}
inline bool IsNumber(uint32_t cp) {
  return (Flags(cp) & kNumber) != 0;
}
inline bool IsWhitespace(uint32_t cp) {
  return (Flags(cp) & kWhitespace) != 0;
}
inline bool IsPunctuation(uint32_t cp) {
  return (Flags(cp) & kPunctuation) != 0;
}

// CJK ideographs exactly as BERT's _is_chinese_char defines them: U+4E00..9FFF,
// U+3400..4DBF, U+20000..2A6DF, U+2A700..2B73F, U+2B740..2B81F,
// U+2B820..2CEAF, U+F900..FAFF, U+2F800..2FA1F.
bool IsHan(uint32_t cp);

// Simple (one-to-one) lowercase mapping, UnicodeData.txt field 13; `cp` itself
// when there is none.
uint32_t ToLower(uint32_t cp);
// ToLower applied to every code point; invalid bytes are copied unchanged.
std::string ToLowerUtf8(std::string_view utf8);

// ---------------------------------------------------------------------------
// Normalization (UAX #15)

enum class Form { kNfc, kNfd, kNfkc, kNfkd };

// Decomposes (canonically, or with compatibility mappings for NFK*), orders
// combining marks canonically and, for NFC/NFKC, recomposes (Hangul included,
// composition exclusions respected). Each invalid UTF-8 byte is copied through
// unchanged and acts as a boundary: text on either side is normalized
// separately. ASCII-only input is returned as is without further work.
std::string Normalize(std::string_view utf8, Form form);

// BERT's accent stripping: NFD, then drop nonspacing marks (Mn).
std::string StripAccents(std::string_view utf8);

// Canonical combining class (0 for starters and unassigned code points).
uint8_t CombiningClass(uint32_t cp);

// ---------------------------------------------------------------------------
// GPT-2 byte-level alphabet (bytes_to_unicode): the printable bytes
// '!'..'~', 0xA1..0xAC and 0xAE..0xFF map to the same code point; the other 68
// bytes map to U+0100, U+0101, ... in increasing byte order.

uint32_t ByteToCodepoint(uint8_t b);
// The byte that `cp` stands for, or -1 if `cp` is not in the alphabet.
int CodepointToByte(uint32_t cp);

}  // namespace hearth::unicode
