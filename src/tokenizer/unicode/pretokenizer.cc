#include "tokenizer/unicode/pretokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <algorithm>
#include <utility>

#include "tokenizer/unicode/fast_split.h"
#include "tokenizer/unicode/pretokenizer_families.h"
#include "tokenizer/unicode/unicode.h"

namespace hearth::unicode {

namespace {

constexpr uint32_t kCompileOptions = PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF |
                                     PCRE2_MULTILINE;  // ^ $ as line anchors, like Oniguruma
constexpr size_t kJitStackStart = 32 * 1024;
constexpr size_t kJitStackMax = 8 * 1024 * 1024;  // deep backtracking on very long pieces

struct CodeDeleter {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
using CodePtr = std::unique_ptr<pcre2_code, CodeDeleter>;

// Per-thread match state: match data, and a match context with a JIT stack
// big enough for patterns that backtrack per character (e.g. tekken's).
struct ThreadMatchState {
  pcre2_match_data* data = pcre2_match_data_create(16, nullptr);
  pcre2_jit_stack* stack = pcre2_jit_stack_create(kJitStackStart, kJitStackMax, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  ThreadMatchState() {
    if (context != nullptr && stack != nullptr) pcre2_jit_stack_assign(context, nullptr, stack);
  }
  ~ThreadMatchState() {
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(stack);
    pcre2_match_data_free(data);
  }
  ThreadMatchState(const ThreadMatchState&) = delete;
  ThreadMatchState& operator=(const ThreadMatchState&) = delete;
};

ThreadMatchState& MatchState() {
  thread_local ThreadMatchState state;
  return state;
}

size_t NextCharEnd(std::string_view s, size_t p) {
  DecodeUtf8(s, &p);
  return p;
}

// Matches and gaps of one regex over `s`, appended to *out.
void RegexSplit(const pcre2_code* code, std::string_view s, std::vector<std::string_view>* out) {
  ThreadMatchState& st = MatchState();
  HEARTH_CHECK(st.data != nullptr && st.context != nullptr, "PCRE2 match state allocation failed");
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(s.data());
  size_t gap = 0;
  size_t offset = 0;
  uint32_t options = 0;
  while (offset <= s.size()) {
    int rc = pcre2_match(code, subject, s.size(), offset, options, st.data, st.context);
    if (rc == PCRE2_ERROR_NOMATCH) {
      if (options == 0 || offset >= s.size()) break;
      // No non-empty match where the empty one was: move on one character.
      offset = NextCharEnd(s, offset);
      options = 0;
      continue;
    }
    if (rc < 0) break;  // resource limit: the rest stays one gap piece
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(st.data);
    const size_t begin = ov[0], end = ov[1];
    if (begin > gap) out->push_back(s.substr(gap, begin - gap));
    gap = begin;
    if (end == begin) {
      // An empty match only marks a split point; look for a non-empty match here (Perl rules).
      offset = begin;
      options = PCRE2_NOTEMPTY_ATSTART | PCRE2_ANCHORED;
      continue;
    }
    out->push_back(s.substr(begin, end - begin));
    gap = offset = end;
    options = 0;
  }
  if (gap < s.size()) out->push_back(s.substr(gap));
}

std::string JoinNames() {
  std::string all;
  for (const std::string& n : PreTokenizer::KnownFamilies()) {
    if (n.empty()) continue;
    if (!all.empty()) all += ", ";
    all += n;
  }
  return all;
}

}  // namespace

struct PreTokenizer::Impl {
  std::vector<std::string> patterns;
  std::vector<CodePtr> codes;
  internal::FastPattern fast = internal::FastPattern::kNone;  // replaces all stages
};

PreTokenizer::PreTokenizer() : impl_(std::make_shared<const Impl>()) {}

Result<PreTokenizer> PreTokenizer::Build(std::vector<std::string> patterns, int fast_path) {
  auto impl = std::make_shared<Impl>();
  impl->fast = static_cast<internal::FastPattern>(fast_path);
  pcre2_compile_context* cctx = pcre2_compile_context_create(nullptr);
  if (cctx == nullptr) return ResourceExhaustedError("allocating a PCRE2 compile context");
  pcre2_set_newline(cctx, PCRE2_NEWLINE_LF);
  for (size_t i = 0; i < patterns.size(); ++i) {
    int err = 0;
    PCRE2_SIZE err_offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(patterns[i].data()),
                                     patterns[i].size(), kCompileOptions, &err, &err_offset, cctx);
    if (code == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof(msg));
      pcre2_compile_context_free(cctx);
      return InvalidArgumentError("pre-tokenizer regex #" + std::to_string(i) + " '" + patterns[i] +
                                      "': " + reinterpret_cast<char*>(msg) + " at offset " +
                                      std::to_string(err_offset),
                                  "tokenizer.bad_regex");
    }
    // JIT is an optimization: without it (unsupported CPU) pcre2_match interprets.
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
    impl->codes.emplace_back(code);
  }
  pcre2_compile_context_free(cctx);
  impl->patterns = std::move(patterns);
  return PreTokenizer(std::move(impl));
}

Result<PreTokenizer> PreTokenizer::ForFamily(std::string_view family, Engine engine) {
  for (const internal::Family& f : internal::Families()) {
    if (std::find(f.names.begin(), f.names.end(), family) == f.names.end()) continue;
    if (f.custom) {
      return UnimplementedError("pre-tokenizer '" + std::string(family) +
                                    "' needs llama.cpp's custom splitting code, which Hearth "
                                    "does not implement",
                                "tokenizer.unsupported_pre");
    }
    std::vector<std::string> patterns(f.patterns.begin(), f.patterns.end());
    const auto fast = engine == Engine::kAuto ? f.fast : internal::FastPattern::kNone;
    return Build(std::move(patterns), static_cast<int>(fast));
  }
  return InvalidArgumentError("unknown pre-tokenizer '" + std::string(family) +
                                  "' (tokenizer.ggml.pre); known: " + JoinNames(),
                              "tokenizer.unknown_pre");
}

Result<PreTokenizer> PreTokenizer::FromRegexes(std::vector<std::string> patterns, Engine engine) {
  internal::FastPattern fast = internal::FastPattern::kNone;
  if (engine == Engine::kAuto && patterns.size() == 1) fast = internal::FastPatternFor(patterns[0]);
  return Build(std::move(patterns), static_cast<int>(fast));
}

std::vector<std::string> PreTokenizer::KnownFamilies() {
  std::vector<std::string> names;
  for (const internal::Family& f : internal::Families()) {
    for (std::string_view n : f.names) names.emplace_back(n);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void PreTokenizer::Split(std::string_view text, std::vector<std::string_view>* out) const {
  out->clear();
  if (text.empty()) return;
  if (impl_->fast != internal::FastPattern::kNone) {
    internal::FastSplit(impl_->fast, text, out);
    return;
  }
  out->push_back(text);
  std::vector<std::string_view> next;
  for (const CodePtr& code : impl_->codes) {
    next.clear();
    next.reserve(out->size() * 2);
    for (std::string_view piece : *out) RegexSplit(code.get(), piece, &next);
    out->swap(next);
  }
}

const std::vector<std::string>& PreTokenizer::patterns() const {
  return impl_->patterns;
}

bool PreTokenizer::uses_fast_path() const {
  return impl_->fast != internal::FastPattern::kNone;
}

}  // namespace hearth::unicode
