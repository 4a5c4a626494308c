#include "tokenizer/chat/text_util.h"

#include "tokenizer/chat/builtins.h"

namespace hearth::chat {
namespace {

bool IsPySpace(std::string_view cp) {
  return cp.size() == 1 &&
         (cp[0] == ' ' || (cp[0] >= '\t' && cp[0] <= '\r') || (cp[0] >= '\x1c' && cp[0] <= '\x1f'));
}
bool IsLower(char c) {
  return c >= 'a' && c <= 'z';
}
bool IsUpper(char c) {
  return c >= 'A' && c <= 'Z';
}
char ToUpper(char c) {
  return IsLower(c) ? static_cast<char>(c - 32) : c;
}
char ToLower(char c) {
  return IsUpper(c) ? static_cast<char>(c + 32) : c;
}

}  // namespace

std::string PyStrip(std::string_view s, const std::string* chars, bool left, bool right) {
  std::vector<std::string_view> cps = SplitCodepoints(s);
  std::vector<std::string_view> set;
  if (chars != nullptr) set = SplitCodepoints(*chars);
  const auto strip = [&](std::string_view cp) {
    if (chars == nullptr) return IsPySpace(cp);
    for (std::string_view c : set) {
      if (c == cp) return true;
    }
    return false;
  };
  size_t a = 0, b = cps.size();
  if (left) {
    while (a < b && strip(cps[a])) ++a;
  }
  if (right) {
    while (b > a && strip(cps[b - 1])) --b;
  }
  std::string out;
  for (size_t k = a; k < b; ++k) out += cps[k];
  return out;
}

std::vector<std::string> PySplit(std::string_view s, const std::string* sep, int64_t maxsplit,
                                 bool from_right) {
  std::vector<std::string> out;
  if (sep != nullptr) {
    if (!from_right) {
      size_t p = 0;
      while (maxsplit < 0 || static_cast<int64_t>(out.size()) < maxsplit) {
        const size_t q = s.find(*sep, p);
        if (q == std::string_view::npos) break;
        out.emplace_back(s.substr(p, q - p));
        p = q + sep->size();
      }
      out.emplace_back(s.substr(p));
      return out;
    }
    size_t end = s.size();
    std::vector<std::string> rev;
    while (maxsplit < 0 || static_cast<int64_t>(rev.size()) < maxsplit) {
      if (end < sep->size()) break;
      const size_t q = s.rfind(*sep, end - sep->size());
      if (q == std::string_view::npos) break;
      rev.emplace_back(s.substr(q + sep->size(), end - q - sep->size()));
      end = q;
    }
    rev.emplace_back(s.substr(0, end));
    return {rev.rbegin(), rev.rend()};
  }
  // Whitespace split: runs of whitespace separate, no empty strings.
  std::vector<std::string_view> cps = SplitCodepoints(s);
  std::vector<std::pair<size_t, size_t>> words;  // code point ranges
  size_t k = 0;
  while (k < cps.size()) {
    while (k < cps.size() && IsPySpace(cps[k])) ++k;
    if (k == cps.size()) break;
    size_t j = k;
    while (j < cps.size() && !IsPySpace(cps[j])) ++j;
    words.emplace_back(k, j);
    k = j;
  }
  const auto text = [&](size_t a, size_t b) {
    std::string t;
    for (size_t x = a; x < b; ++x) t += cps[x];
    return t;
  };
  if (maxsplit < 0 || static_cast<int64_t>(words.size()) <= maxsplit + 1) {
    for (auto [a, b] : words) out.push_back(text(a, b));
    return out;
  }
  const size_t m = static_cast<size_t>(maxsplit);
  if (!from_right) {
    for (size_t w = 0; w < m; ++w) out.push_back(text(words[w].first, words[w].second));
    size_t rest = words[m].first;
    size_t end = cps.size();
    while (end > rest && IsPySpace(cps[end - 1])) --end;
    out.push_back(text(rest, end));
    return out;
  }
  const size_t first_kept = words.size() - m;
  size_t begin = 0;
  while (begin < cps.size() && IsPySpace(cps[begin])) ++begin;
  out.push_back(text(begin, words[first_kept - 1].second));
  for (size_t w = first_kept; w < words.size(); ++w) {
    out.push_back(text(words[w].first, words[w].second));
  }
  return out;
}

Result<Value> PyReplace(std::string_view s, std::string_view from, std::string_view to,
                        int64_t count) {
  std::string out;
  int64_t done = 0;
  if (from.empty()) {  // Python inserts `to` between every code point
    std::vector<std::string_view> cps = SplitCodepoints(s);
    for (size_t k = 0; k <= cps.size(); ++k) {
      if (count < 0 || done < count) {
        out += to;
        ++done;
      }
      if (k < cps.size()) out += cps[k];
      if (out.size() > kMaxStringBytes) return ResourceExhaustedError("replace result too large");
    }
    return Value::Str(std::move(out));
  }
  size_t p = 0;
  while (count < 0 || done < count) {
    const size_t q = s.find(from, p);
    if (q == std::string_view::npos) break;
    out += s.substr(p, q - p);
    out += to;
    p = q + from.size();
    ++done;
    if (out.size() > kMaxStringBytes) return ResourceExhaustedError("replace result too large");
  }
  out += s.substr(p);
  return Value::Str(std::move(out));
}

std::string ChangeCase(std::string_view s, std::string_view how) {
  std::string out(s);
  if (how == "upper") {
    for (char& c : out) c = ToUpper(c);
  } else if (how == "lower") {
    for (char& c : out) c = ToLower(c);
  } else if (how == "swapcase") {
    for (char& c : out) c = IsUpper(c) ? ToLower(c) : ToUpper(c);
  } else if (how == "capitalize") {
    for (size_t k = 0; k < out.size(); ++k) out[k] = k == 0 ? ToUpper(out[k]) : ToLower(out[k]);
  } else {  // title: a letter after a non-letter starts a word
    bool prev_letter = false;
    for (char& c : out) {
      const bool letter = IsUpper(c) || IsLower(c) || static_cast<unsigned char>(c) >= 0x80;
      c = letter && !prev_letter ? ToUpper(c) : ToLower(c);
      prev_letter = letter;
    }
  }
  return out;
}

std::vector<std::string> SplitLines(std::string_view s) {
  std::vector<std::string> out;
  size_t p = 0;
  while (p < s.size()) {
    size_t q = p;
    while (q < s.size() && s[q] != '\n' && s[q] != '\r') ++q;
    out.emplace_back(s.substr(p, q - p));
    if (q < s.size() && s[q] == '\r' && q + 1 < s.size() && s[q + 1] == '\n') ++q;
    p = q + 1;
  }
  return out;
}

bool CharClassTest(std::string_view s, std::string_view which) {
  if (which == "isupper" || which == "islower") {
    bool cased = false;
    for (char c : s) {
      if (which == "isupper" ? IsLower(c) : IsUpper(c)) return false;
      cased |= IsUpper(c) || IsLower(c);
    }
    return cased;
  }
  if (s.empty()) return false;
  for (char c : s) {
    const bool digit = c >= '0' && c <= '9';
    const bool alpha = IsUpper(c) || IsLower(c);
    const bool ok = which == "isdigit"   ? digit
                    : which == "isalpha" ? alpha
                    : which == "isalnum" ? digit || alpha
                                         : IsPySpace(std::string_view(&c, 1));
    if (!ok) return false;
  }
  return true;
}

}  // namespace hearth::chat
