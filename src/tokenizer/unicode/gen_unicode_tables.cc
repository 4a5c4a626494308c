// Build-time generator of the Unicode tables behind unicode.h.
//
//   gen_unicode_tables <unicode data dir> <output .cc>
//
// Reads UnicodeData.txt, PropList.txt (White_Space) and
// DerivedNormalizationProps.txt (Full_Composition_Exclusion) from the Unicode
// Character Database (Debian's unicode-data package) and writes the arrays
// declared in unicode_tables.h. Runs on the build machine only; exits non-zero
// with a message on any missing or malformed input.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/unicode/unicode_tables.h"

namespace {

namespace t = hearth::unicode::internal;

constexpr uint32_t kMaxCp = 0x110000;
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = 11172;

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "gen_unicode_tables: %s\n", msg.c_str());
  std::exit(1);
}

std::vector<std::string> SplitFields(const std::string& line, char sep) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : line) {
    if (c == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  out.push_back(cur);
  return out;
}

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

uint32_t Hex(const std::string& s) {
  return static_cast<uint32_t>(std::stoul(s, nullptr, 16));
}

std::ifstream Open(const std::string& dir, const char* name) {
  std::ifstream in(dir + "/" + name);
  if (!in)
    Die(std::string("cannot open ") + dir + "/" + name +
        ": install unicode-data (scripts/bootstrap)");
  return in;
}

// Calls fn(first, last, property) for each "XXXX..YYYY ; Prop # ..." line.
template <typename Fn>
void ReadPropertyFile(const std::string& dir, const char* name, Fn fn) {
  std::ifstream in = Open(dir, name);
  std::string line;
  while (std::getline(in, line)) {
    line = line.substr(0, line.find('#'));
    if (Trim(line).empty()) continue;
    std::vector<std::string> f = SplitFields(line, ';');
    if (f.size() < 2) continue;
    std::string range = Trim(f[0]);
    size_t dots = range.find("..");
    uint32_t first = Hex(range.substr(0, dots));
    uint32_t last = dots == std::string::npos ? first : Hex(range.substr(dots + 2));
    fn(first, last, Trim(f[1]));
  }
}

struct DecompEntryOut {
  uint32_t cp, canon_offset, canon_len, compat_offset, compat_len;
};

struct Char {
  uint16_t flags = 0;
  uint8_t ccc = 0;
  uint32_t lower = 0;  // 0 = maps to itself
  bool compat = false;
  std::vector<uint32_t> decomp;  // single-level mapping from UnicodeData
};

uint16_t CategoryFlags(const std::string& gc) {
  using hearth::unicode::CharFlags;
  uint16_t f = 0;
  switch (gc[0]) {
    case 'L':
      f |= CharFlags::kLetter;
      if (gc == "Lu") f |= CharFlags::kUppercase;
      if (gc == "Ll") f |= CharFlags::kLowercase;
      break;
    case 'M':
      f |= CharFlags::kMark;
      if (gc == "Mn") f |= CharFlags::kNonspacingMark;
      break;
    case 'N':
      f |= CharFlags::kNumber;
      break;
    case 'P':
      f |= CharFlags::kPunctuation;
      break;
    case 'S':
      f |= CharFlags::kSymbol;
      break;
    case 'Z':
      f |= CharFlags::kSeparator;
      break;
    case 'C':
      if (gc == "Cc") f |= CharFlags::kControl;
      if (gc == "Cf") f |= CharFlags::kFormat;
      break;
    default:
      Die("unknown general category " + gc);
  }
  return f;
}

void FullDecompose(const std::vector<Char>& chars, uint32_t cp, bool compat,
                   std::vector<uint32_t>* out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    uint32_t s = cp - kSBase;
    out->push_back(kLBase + s / kNCount);
    out->push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out->push_back(kTBase + s % kTCount);
    return;
  }
  const Char& c = chars[cp];
  if (c.decomp.empty() || (c.compat && !compat)) {
    out->push_back(cp);
    return;
  }
  for (uint32_t d : c.decomp) FullDecompose(chars, d, compat, out);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) Die("usage: gen_unicode_tables <unicode data dir> <output.cc>");
  const std::string dir = argv[1];
  std::vector<Char> chars(kMaxCp);

  // UnicodeData.txt: 0 code, 1 name, 2 category, 3 ccc, 5 decomposition, 13 lowercase.
  {
    std::ifstream in = Open(dir, "UnicodeData.txt");
    std::string line;
    uint32_t range_first = 0;
    size_t n = 0;
    while (std::getline(in, line)) {
      if (line.empty()) continue;
      std::vector<std::string> f = SplitFields(line, ';');
      if (f.size() < 15) Die("malformed UnicodeData.txt line: " + line);
      uint32_t cp = Hex(f[0]);
      Char c;
      c.flags = CategoryFlags(f[2]);
      c.ccc = static_cast<uint8_t>(std::stoi(f[3]));
      if (!f[13].empty()) c.lower = Hex(f[13]);
      std::string d = f[5];
      if (!d.empty()) {
        if (d[0] == '<') {
          c.compat = true;
          d = d.substr(d.find('>') + 1);
        }
        std::istringstream ds(d);
        std::string h;
        while (ds >> h) c.decomp.push_back(Hex(h));
      }
      if (f[1].find(", First>") != std::string::npos) {
        range_first = cp;
        continue;
      }
      uint32_t first = f[1].find(", Last>") != std::string::npos ? range_first : cp;
      for (uint32_t x = first; x <= cp; ++x) chars[x] = c;
      ++n;
    }
    if (n < 30000) Die("UnicodeData.txt looks truncated");
  }
  ReadPropertyFile(dir, "PropList.txt", [&](uint32_t a, uint32_t b, const std::string& p) {
    if (p == "White_Space")
      for (uint32_t x = a; x <= b; ++x) chars[x].flags |= hearth::unicode::CharFlags::kWhitespace;
  });
  std::set<uint32_t> comp_excl;
  ReadPropertyFile(dir, "DerivedNormalizationProps.txt",
                   [&](uint32_t a, uint32_t b, const std::string& p) {
                     if (p == "Full_Composition_Exclusion")
                       for (uint32_t x = a; x <= b; ++x) comp_excl.insert(x);
                   });
  if (comp_excl.size() < 1000) Die("Full_Composition_Exclusion missing");

  FILE* out = std::fopen(argv[2], "w");
  if (out == nullptr) Die(std::string("cannot write ") + argv[2]);
  std::fprintf(out, "// Generated by gen_unicode_tables from %s. Do not edit.\n", dir.c_str());
  std::fprintf(out, "#include \"tokenizer/unicode/unicode_tables.h\"\n\n");
  std::fprintf(out, "namespace hearth::unicode::internal {\n\n");

  // Flags: two-stage table, blocks of kFlagBlockSize code points, identical blocks shared.
  {
    std::map<std::vector<uint16_t>, uint32_t> block_ids;
    std::vector<std::vector<uint16_t>> blocks;
    std::vector<uint32_t> stage1;
    for (uint32_t base = 0; base < kMaxCp; base += t::kFlagBlockSize) {
      std::vector<uint16_t> blk(t::kFlagBlockSize);
      for (uint32_t i = 0; i < t::kFlagBlockSize; ++i) blk[i] = chars[base + i].flags;
      auto [it, inserted] = block_ids.emplace(blk, static_cast<uint32_t>(blocks.size()));
      if (inserted) blocks.push_back(blk);
      stage1.push_back(it->second);
    }
    if (blocks.size() > 0xFFFF) Die("too many flag blocks");
    std::fprintf(out, "const uint16_t kFlagStage1[%zu] = {", stage1.size());
    for (size_t i = 0; i < stage1.size(); ++i)
      std::fprintf(out, "%s%u,", i % 16 ? "" : "\n", stage1[i]);
    std::fprintf(out, "\n};\nconst uint16_t kFlagStage2[%zu] = {",
                 blocks.size() * t::kFlagBlockSize);
    size_t k = 0;
    for (const auto& b : blocks)
      for (uint16_t v : b) std::fprintf(out, "%s%u,", k++ % 16 ? "" : "\n", v);
    std::fprintf(out, "\n};\n\n");
  }

  // Simple lowercase mappings.
  {
    std::fprintf(out, "const LowerPair kLowerPairs[] = {\n");
    size_t n = 0;
    for (uint32_t cp = 0; cp < kMaxCp; ++cp) {
      if (chars[cp].lower != 0 && chars[cp].lower != cp) {
        std::fprintf(out, "{0x%X,0x%X},", cp, chars[cp].lower);
        if (++n % 8 == 0) std::fprintf(out, "\n");
      }
    }
    std::fprintf(out, "\n};\nconst size_t kLowerPairCount = %zu;\n\n", n);
  }

  // Canonical combining classes as ranges of equal non-zero class.
  {
    std::fprintf(out, "const CccRange kCccRanges[] = {\n");
    size_t n = 0;
    for (uint32_t cp = 0; cp < kMaxCp;) {
      uint8_t ccc = chars[cp].ccc;
      uint32_t end = cp;
      while (end + 1 < kMaxCp && chars[end + 1].ccc == ccc) ++end;
      if (ccc != 0) {
        std::fprintf(out, "{0x%X,0x%X,%u},", cp, end, ccc);
        if (++n % 6 == 0) std::fprintf(out, "\n");
      }
      cp = end + 1;
    }
    std::fprintf(out, "\n};\nconst size_t kCccRangeCount = %zu;\n\n", n);
  }

  // Full (recursive) canonical and compatibility decompositions.
  {
    std::vector<uint32_t> pool;
    std::vector<DecompEntryOut> entries;
    for (uint32_t cp = 0; cp < kMaxCp; ++cp) {
      if (chars[cp].decomp.empty()) continue;
      std::vector<uint32_t> canon, compat;
      FullDecompose(chars, cp, false, &canon);
      FullDecompose(chars, cp, true, &compat);
      DecompEntryOut e{cp, 0, 0, 0, 0};
      if (!(canon.size() == 1 && canon[0] == cp)) {
        e.canon_offset = static_cast<uint32_t>(pool.size());
        e.canon_len = static_cast<uint32_t>(canon.size());
        pool.insert(pool.end(), canon.begin(), canon.end());
      }
      if (compat == canon) {
        e.compat_offset = e.canon_offset;
        e.compat_len = e.canon_len;
      } else {
        e.compat_offset = static_cast<uint32_t>(pool.size());
        e.compat_len = static_cast<uint32_t>(compat.size());
        pool.insert(pool.end(), compat.begin(), compat.end());
      }
      if (e.canon_len > 255 || e.compat_len > 255) Die("decomposition too long");
      entries.push_back(e);
    }
    if (pool.size() > 0xFFFF) Die("decomposition pool too large");
    std::fprintf(out, "const uint32_t kDecompPool[] = {");
    for (size_t i = 0; i < pool.size(); ++i)
      std::fprintf(out, "%s0x%X,", i % 12 ? "" : "\n", pool[i]);
    std::fprintf(out, "\n};\nconst DecompEntry kDecompEntries[] = {\n");
    for (size_t i = 0; i < entries.size(); ++i) {
      const auto& e = entries[i];
      std::fprintf(out, "{0x%X,%u,%u,%u,%u},%s", e.cp, e.canon_offset, e.canon_len, e.compat_offset,
                   e.compat_len, (i + 1) % 6 ? "" : "\n");
    }
    std::fprintf(out, "\n};\nconst size_t kDecompEntryCount = %zu;\n\n", entries.size());
  }

  // Primary composites: canonical two-code-point mappings not excluded from composition.
  {
    std::map<uint64_t, uint32_t> pairs;
    for (uint32_t cp = 0; cp < kMaxCp; ++cp) {
      const Char& c = chars[cp];
      if (c.compat || c.decomp.size() != 2 || comp_excl.count(cp)) continue;
      pairs[(static_cast<uint64_t>(c.decomp[0]) << 32) | c.decomp[1]] = cp;
    }
    std::fprintf(out, "const ComposePair kComposePairs[] = {\n");
    size_t n = 0;
    for (const auto& [key, cp] : pairs) {
      std::fprintf(out, "{0x%llXull,0x%X},", static_cast<unsigned long long>(key), cp);
      if (++n % 4 == 0) std::fprintf(out, "\n");
    }
    std::fprintf(out, "\n};\nconst size_t kComposePairCount = %zu;\n\n", n);
  }

  std::fprintf(out, "}  // namespace hearth::unicode::internal\n");
  if (std::fclose(out) != 0) Die(std::string("error writing ") + argv[2]);
  return 0;
}
