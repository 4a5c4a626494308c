#include "run_options.h"

#include "base/strings.h"

namespace hearth::cli {

void AddGenerationOptions(ArgParser& p) {
  p.Option("n-predict", 'n', "N", "tokens to generate at most", "128");
  p.Option("temp", 0, "T", "sampling temperature (0..2); 0 = greedy", "0");
  p.Option("top-k", 0, "K", "keep the K most likely tokens; 0 = off", "0");
  p.Option("top-p", 0, "P", "nucleus sampling threshold in (0, 1]", "1");
  p.Option("min-p", 0, "P", "drop tokens below P x the top probability", "0");
  p.Option("repeat-penalty", 0, "R", "repetition penalty (1 = off)", "1");
  p.Option("repeat-last-n", 0, "N", "tokens the penalties look back over (-1: all)", "64");
  p.Option("frequency-penalty", 0, "F", "OpenAI frequency penalty (-2..2)", "0");
  p.Option("presence-penalty", 0, "F", "OpenAI presence penalty (-2..2)", "0");
  p.Option("seed", 's', "S", "random seed for sampling", "0");
  p.Flag("ignore-eos", 0, "keep generating past end-of-generation tokens");
  p.Option("stop", 0, "TEXT[,TEXT...]",
           "stop when the output contains one of these strings (not printed); comma-separated");
}

Result<GenerationOptions> ParseGenerationOptions(const Args& a) {
  GenerationOptions g;
  sampling::SamplingParams& sp = g.sampling;
  HEARTH_ASSIGN_OR_RETURN(g.config.max_tokens, a.GetInt("n-predict", 128, 0, 1 << 20));
  HEARTH_ASSIGN_OR_RETURN(double temp, a.GetDouble("temp", 0.0, 0.0, 2.0));
  HEARTH_ASSIGN_OR_RETURN(int64_t top_k, a.GetInt("top-k", 0, 0, 1 << 30));
  HEARTH_ASSIGN_OR_RETURN(double top_p, a.GetDouble("top-p", 1.0, 0.0, 1.0));
  HEARTH_ASSIGN_OR_RETURN(double min_p, a.GetDouble("min-p", 0.0, 0.0, 1.0));
  HEARTH_ASSIGN_OR_RETURN(double rep, a.GetDouble("repeat-penalty", 1.0, 0.0, 2.0));
  HEARTH_ASSIGN_OR_RETURN(int64_t last_n, a.GetInt("repeat-last-n", 64, -1, 1 << 30));
  HEARTH_ASSIGN_OR_RETURN(double freq, a.GetDouble("frequency-penalty", 0.0, -2.0, 2.0));
  HEARTH_ASSIGN_OR_RETURN(double pres, a.GetDouble("presence-penalty", 0.0, -2.0, 2.0));
  HEARTH_ASSIGN_OR_RETURN(int64_t seed, a.GetInt("seed", 0, 0, INT64_MAX));
  sp.temperature = static_cast<float>(temp);
  sp.top_k = static_cast<int32_t>(top_k);
  sp.top_p = static_cast<float>(top_p);
  sp.min_p = static_cast<float>(min_p);
  sp.repetition_penalty = static_cast<float>(rep);
  sp.penalty_last_n = static_cast<int32_t>(last_n);
  sp.frequency_penalty = static_cast<float>(freq);
  sp.presence_penalty = static_cast<float>(pres);
  sp.seed = static_cast<uint64_t>(seed);
  HEARTH_RETURN_IF_ERROR(sampling::ValidateSamplingParams(sp));
  g.config.ignore_eos = a.Has("ignore-eos");
  if (a.Has("stop")) {
    const std::string stops = a.Get("stop");  // StrSplit returns views into it
    for (std::string_view part : StrSplit(stops, ',')) {
      if (!part.empty()) g.config.stops.emplace_back(part);
    }
  }
  return g;
}

void AddChatOptions(ArgParser& p) {
  p.Flag("chat", 0, "interactive chat (/help lists the commands; Ctrl-C stops a reply)");
  p.Option("system", 0, "TEXT", "chat: system message");
  p.Option("template", 0, "FILE", "chat: Jinja chat template to use", "the model's own");
  p.Option("builtin-template", 0, "NAME",
           "chat: built-in template (chatml, llama2, llama3, gemma, phi3)");
  p.Option("truncation", 0, "POLICY",
           "chat: when the conversation outgrows the context: none (refuse) or oldest_turns",
           "none");
}

}  // namespace hearth::cli
