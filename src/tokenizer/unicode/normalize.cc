// Unicode normalization (UAX #15): full decomposition, canonical ordering and
// canonical composition over the generated tables.
#include <algorithm>
#include <vector>

#include "tokenizer/unicode/unicode.h"
#include "tokenizer/unicode/unicode_tables.h"

namespace hearth::unicode {

namespace {

// Hangul syllable arithmetic (Unicode 15.0, section 3.12).
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28;
constexpr uint32_t kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

const internal::DecompEntry* FindDecomp(uint32_t cp) {
  const internal::DecompEntry* begin = internal::kDecompEntries;
  const internal::DecompEntry* end = begin + internal::kDecompEntryCount;
  const internal::DecompEntry* it = std::lower_bound(
      begin, end, cp, [](const internal::DecompEntry& e, uint32_t c) { return e.cp < c; });
  return (it != end && it->cp == cp) ? it : nullptr;
}

// Appends the full decomposition of `cp` to `out`.
void Decompose(uint32_t cp, bool compat, std::vector<uint32_t>* out) {
  if (cp < 0xA0) {  // nothing below U+00A0 decomposes
    out->push_back(cp);
    return;
  }
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const uint32_t s = cp - kSBase;
    out->push_back(kLBase + s / kNCount);
    out->push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out->push_back(kTBase + s % kTCount);
    return;
  }
  const internal::DecompEntry* e = FindDecomp(cp);
  const size_t len = e == nullptr ? 0 : compat ? e->compat_len : e->canon_len;
  if (len == 0) {
    out->push_back(cp);
    return;
  }
  const uint32_t* d = internal::kDecompPool + (compat ? e->compat_offset : e->canon_offset);
  out->insert(out->end(), d, d + len);
}

// The primary composite of (a, b), or 0.
uint32_t Compose(uint32_t a, uint32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount) {
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  }
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount) {
    return a + (b - kTBase);
  }
  const uint64_t key = (static_cast<uint64_t>(a) << 32) | b;
  const internal::ComposePair* begin = internal::kComposePairs;
  const internal::ComposePair* end = begin + internal::kComposePairCount;
  const internal::ComposePair* it = std::lower_bound(
      begin, end, key, [](const internal::ComposePair& p, uint64_t k) { return p.key < k; });
  return (it != end && it->key == key) ? it->composite : 0;
}

// Stable sort of each run of non-starters by combining class.
void CanonicalOrder(std::vector<uint32_t>* cps) {
  std::vector<uint32_t>& v = *cps;
  for (size_t i = 1; i < v.size(); ++i) {
    const uint8_t cc = CombiningClass(v[i]);
    if (cc == 0) continue;
    size_t j = i;
    while (j > 0) {
      const uint8_t prev = CombiningClass(v[j - 1]);
      if (prev == 0 || prev <= cc) break;
      std::swap(v[j - 1], v[j]);
      --j;
    }
  }
}

// Canonical composition algorithm (UAX #15 section 1.3 / D117).
void ComposeAll(std::vector<uint32_t>* cps) {
  std::vector<uint32_t>& v = *cps;
  if (v.empty()) return;
  size_t starter = 0;
  bool have_starter = CombiningClass(v[0]) == 0;  // leading non-starters compose with nothing
  int last_class = have_starter ? 0 : 256;
  size_t out = 1;
  for (size_t i = 1; i < v.size(); ++i) {
    const uint32_t ch = v[i];
    const int ch_class = CombiningClass(ch);
    // Not blocked: nothing between the starter and ch, or everything between
    // has a lower non-zero class.
    if (have_starter && (last_class < ch_class || last_class == 0)) {
      if (const uint32_t composite = Compose(v[starter], ch); composite != 0) {
        v[starter] = composite;
        continue;
      }
    }
    if (ch_class == 0) {
      starter = out;
      have_starter = true;
    }
    last_class = ch_class;
    v[out++] = ch;
  }
  v.resize(out);
}

// Normalizes a run of valid UTF-8 and appends it to `out`.
void NormalizeValid(std::string_view run, Form form, std::vector<uint32_t>* buf, std::string* out) {
  const bool compat = form == Form::kNfkc || form == Form::kNfkd;
  const bool compose = form == Form::kNfc || form == Form::kNfkc;
  buf->clear();
  size_t pos = 0;
  while (pos < run.size()) Decompose(DecodeUtf8(run, &pos), compat, buf);
  CanonicalOrder(buf);
  if (compose) ComposeAll(buf);
  for (uint32_t cp : *buf) AppendUtf8(out, cp);
}

}  // namespace

uint8_t CombiningClass(uint32_t cp) {
  if (cp < 0x300) return 0;
  const internal::CccRange* begin = internal::kCccRanges;
  const internal::CccRange* end = begin + internal::kCccRangeCount;
  const internal::CccRange* it = std::lower_bound(
      begin, end, cp, [](const internal::CccRange& r, uint32_t c) { return r.last < c; });
  return (it != end && it->first <= cp) ? it->ccc : 0;
}

std::string Normalize(std::string_view utf8, Form form) {
  if (std::all_of(utf8.begin(), utf8.end(), [](char c) { return (c & 0x80) == 0; })) {
    return std::string(utf8);  // ASCII is invariant under every form
  }
  std::string out;
  out.reserve(utf8.size() + utf8.size() / 4);
  std::vector<uint32_t> buf;
  size_t run_start = 0;
  size_t pos = 0;
  while (pos < utf8.size()) {
    const size_t start = pos;
    if (DecodeUtf8(utf8, &pos) != kReplacementChar || pos != start + 1) continue;
    // An invalid byte: normalize the valid run before it, then copy the byte.
    NormalizeValid(utf8.substr(run_start, start - run_start), form, &buf, &out);
    out.push_back(utf8[start]);
    run_start = pos;
  }
  NormalizeValid(utf8.substr(run_start), form, &buf, &out);
  return out;
}

std::string StripAccents(std::string_view utf8) {
  const std::string nfd = Normalize(utf8, Form::kNfd);
  std::string out;
  out.reserve(nfd.size());
  size_t pos = 0;
  while (pos < nfd.size()) {
    const size_t start = pos;
    const uint32_t cp = DecodeUtf8(nfd, &pos);
    if ((Flags(cp) & kNonspacingMark) != 0 && pos != start + 1) continue;
    out.append(nfd, start, pos - start);
  }
  return out;
}

}  // namespace hearth::unicode
