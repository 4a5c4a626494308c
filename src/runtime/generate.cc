#include "runtime/generate.h"

#include <chrono>

#include "runtime/stop_matcher.h"

namespace hearth::runtime {
namespace {
using Clock = std::chrono::steady_clock;
double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}
}  // namespace

double GenerateResult::PrefillTokensPerSecond() const {
  return prefill_ms > 0 ? prompt_tokens / (prefill_ms / 1e3) : 0.0;
}

double GenerateResult::DecodeTokensPerSecond() const {
  return output_ids.size() > 1 && decode_ms > 0 ? (output_ids.size() - 1) / (decode_ms / 1e3) : 0.0;
}

Result<GenerateResult> Generate(Session& s, const tok::Tokenizer& tokenizer,
                                const std::vector<int32_t>& prompt, sampling::Sampler& sampler,
                                sampling::Rng& rng, std::vector<int32_t>* history,
                                const GenerateConfig& c) {
  GenerateResult r;
  r.prompt_tokens = prompt.size();
  HEARTH_ASSIGN_OR_RETURN(runtime::StopMatcher stops, runtime::StopMatcher::Create(c.stops));
  // Only generated ids are decoded here: their first leading space is real text.
  tok::DecodeOptions decode_opts;
  decode_opts.strip_leading_space = false;
  tok::StreamingDetokenizer detok(tokenizer, decode_opts);
  const auto emit = [&](const std::string& text) {
    if (text.empty()) return;
    r.text += text;
    if (c.on_text) c.on_text(text);
  };

  std::vector<float> logits;
  const auto t_start = Clock::now();
  if (!prompt.empty()) HEARTH_RETURN_IF_ERROR(s.Eval(prompt, false, &logits));
  const auto t_prefill = Clock::now();
  r.prefill_ms = Ms(t_start, t_prefill);
  Clock::time_point t_first = t_prefill;
  r.stop_reason = "max_tokens";
  for (int64_t i = 0; i < c.max_tokens; ++i) {
    if (c.cancel != nullptr && c.cancel->load()) {
      r.stop_reason = "cancelled";
      break;
    }
    HEARTH_ASSIGN_OR_RETURN(int32_t next, sampler.Sample(logits, *history, rng));
    if (i == 0) t_first = Clock::now();
    history->push_back(next);
    if (tokenizer.IsEog(next) && !c.ignore_eos) {
      r.stop_reason = "eos";
      break;
    }
    r.output_ids.push_back(next);
    runtime::StopMatcher::Step step = stops.Push(detok.Push(next));
    emit(step.text);
    if (step.stopped) {
      r.stop_reason = "stop_sequence";
      break;
    }
    if (i + 1 == c.max_tokens) break;
    HEARTH_RETURN_IF_ERROR(s.Eval(std::span<const int32_t>(&next, 1), false, &logits));
  }
  if (!stops.stopped()) {
    runtime::StopMatcher::Step last = stops.Push(detok.Flush());
    emit(last.text);
    if (last.stopped) {
      r.stop_reason = "stop_sequence";
    } else {
      emit(stops.Flush());
    }
  }
  const auto t_end = Clock::now();
  r.ttft_ms = Ms(t_start, t_first);
  r.decode_ms = Ms(t_first, t_end);
  return r;
}

}  // namespace hearth::runtime
