#include "bench_text.h"

#include <cstdint>

namespace hearth::cli {
namespace {

constexpr const char* kEnglish[] = {
    "The quick brown fox jumps over the lazy dog while the kettle starts to whistle.",
    "Once upon a time, a little robot named Pip wanted to see the ocean for itself.",
    "Memory bandwidth, not arithmetic, decides how fast a small device can decode tokens.",
    "She said: \"Let's meet at 7:30 pm, okay?\" and he replied, \"Sure, I'll be there!\"",
    "In 2024 the committee approved 3,482 requests; 17% of them were resubmitted twice.",
    "Don't forget: it's the user's data, and they're trusting us to keep it on the device.",
};
constexpr const char* kCode[] = {
    "for (int i = 0; i < n; ++i) { sum += x[i] * w[i]; }",
    ("def softmax(xs):\n    m = max(xs)\n    e = [math.exp(x - m) for x in xs]\n    return [v / "
     "sum(e) for v in e]"),
    "if (!status.ok()) return status.WithContext(\"loading model\");",
    "const result = await fetch(`/v1/chat/completions`, { method: 'POST', body });",
    "SELECT id, name FROM users WHERE created_at > '2024-01-01' ORDER BY id DESC;",
    "    \t// TODO(hearth): tile the matmul for the L2 cache\n",
};
constexpr const char* kMultilingual[] = {
    "Le café était fermé, alors nous sommes allés à la bibliothèque près de l'église.",
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Ταχίστη αλώπηξ βαφής ψημένη γη, δρασκελίζει υπέρ νωθρού κυνός.",
    "今日はとても良い天気ですね。散歩に行きましょう！",
    "我们在设备上运行语言模型，不需要网络连接。",
    "한국어 문장도 토큰화 테스트에 포함됩니다.",
    "مرحبا بالعالم، هذا اختبار للنص العربي.",
    "Emoji mix: 🙂👍🏽🚀 — naïve façade, coöperate, Ångström, ½ ≠ ¼.",
};

uint64_t Next(uint64_t* s) {
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

}  // namespace

std::string MakeBenchText(size_t bytes) {
  std::string out;
  out.reserve(bytes + 256);
  uint64_t state = 0x9e3779b97f4a7c15ULL;
  while (out.size() < bytes) {
    uint64_t r = Next(&state);
    switch (r % 3) {
      case 0:
        out += kEnglish[(r >> 8) % (sizeof(kEnglish) / sizeof(*kEnglish))];
        break;
      case 1:
        out += kCode[(r >> 8) % (sizeof(kCode) / sizeof(*kCode))];
        break;
      default:
        out += kMultilingual[(r >> 8) % (sizeof(kMultilingual) / sizeof(*kMultilingual))];
    }
    out += (r >> 40) % 4 == 0 ? "\n\n" : (r >> 40) % 4 == 1 ? "\n" : " ";
  }
  return out;
}

}  // namespace hearth::cli
