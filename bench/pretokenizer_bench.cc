// Pre-tokenizer throughput: hand-written splitters vs PCRE2 JIT on ~1 MB of
// deterministic mixed text (English prose, code, multilingual, digits).
//
//   pretokenizer_bench [repetitions]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "tokenizer/unicode/pretokenizer.h"

namespace {

using hearth::unicode::PreTokenizer;

std::string MakeCorpus(size_t bytes) {
  const char* english[] = {"The",   "quick", "brown", "fox",   "jumps", "over", "the",     "lazy",
                           "dog's", "back",  "and",   "we'll", "see",   "what", "THEY'RE", "doing"};
  const char* code[] = {"for (int i = 0; i < n; ++i) {\n", "    x += a[i] * 2;\n", "}\n",
                        "def f(self, x):\n\treturn x ** 2  # square\n",
                        "if (p->next == NULL) return -1;\n"};
  const char* multi[] = {
      "\xE4\xBD\xA0\xE5\xA5\xBD\xE4\xB8\x96\xE7\x95\x8C",              // 你好世界
      "\xD0\x9F\xD1\x80\xD0\xB8\xD0\xB2\xD0\xB5\xD1\x82",              // Привет
      "\xE3\x81\x93\xE3\x82\x93\xE3\x81\xAB\xE3\x81\xA1\xE3\x81\xAF",  // こんにちは
      "caf\xC3\xA9",
      "\xD9\x85\xD8\xB1\xD8\xAD\xD8\xA8\xD8\xA7",  // مرحبا
      "\xEC\x95\x88\xEB\x85\x95",
      "\xF0\x9F\x98\x80\xF0\x9F\x9A\x80"};
  std::mt19937 rng(2024);
  std::string s;
  while (s.size() < bytes) {
    switch (rng() % 10) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
        s += english[rng() % 16];
        s += rng() % 7 == 0 ? ", " : " ";
        break;
      case 5:
      case 6:
        s += code[rng() % 5];
        break;
      case 7:
      case 8:
        s += multi[rng() % 7];
        s += " ";
        break;
      default:
        s += std::to_string(rng() % 1000000);
        s += rng() % 3 == 0 ? ".\n\n" : " ";
    }
  }
  return s;
}

// Median MB/s of `reps` runs.
double Measure(const PreTokenizer& pre, const std::string& text, int reps, size_t* pieces) {
  std::vector<double> rates;
  std::vector<std::string_view> out;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    pre.Split(text, &out);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rates.push_back(static_cast<double>(text.size()) / 1e6 / s);
  }
  *pieces = out.size();
  std::sort(rates.begin(), rates.end());
  return rates[rates.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
  const std::string text = MakeCorpus(1 << 20);
  std::printf("corpus: %zu bytes, %d repetitions (median)\n", text.size(), reps);
  std::printf("%-14s %14s %14s %8s %s\n", "family", "PCRE2 MB/s", "hand MB/s", "speedup", "pieces");
  for (const char* family : {"gpt-2", "llama3", "qwen2"}) {
    auto regex = PreTokenizer::ForFamily(family, PreTokenizer::Engine::kRegex);
    auto fast = PreTokenizer::ForFamily(family, PreTokenizer::Engine::kAuto);
    if (!regex.ok() || !fast.ok() || !fast->uses_fast_path()) {
      std::fprintf(stderr, "%s: no fast path\n", family);
      return 1;
    }
    size_t n_regex = 0, n_fast = 0;
    const double r = Measure(*regex, text, reps, &n_regex);
    const double f = Measure(*fast, text, reps, &n_fast);
    std::printf("%-14s %14.1f %14.1f %7.2fx %zu%s\n", family, r, f, f / r, n_fast,
                n_regex == n_fast ? "" : " (PIECE COUNTS DIFFER)");
  }
  for (const char* family : {"deepseek-v3", "gpt-4o", "default", "bert"}) {
    auto regex = PreTokenizer::ForFamily(family, PreTokenizer::Engine::kRegex);
    if (!regex.ok()) return 1;
    size_t n = 0;
    const double r = Measure(*regex, text, reps, &n);
    std::printf("%-14s %14.1f %14s %8s %zu\n", family, r, "-", "-", n);
  }
  return 0;
}
