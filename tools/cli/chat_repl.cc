// `hearth run --chat`: an interactive conversation. Each user line is added
// to the history, the whole conversation is rendered with the chat template
// and budgeted against the context, and only the tokens after the prefix the
// session already holds are evaluated. Ctrl-C stops the current reply (the
// conversation keeps what was said); Ctrl-D or /exit leaves.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "base/json.h"
#include "base/mapped_file.h"
#include "base/strings.h"
#include "commands.h"
#include "engine_cli.h"
#include "run_options.h"
#include "runtime/chat_prompt.h"
#include "tokenizer/chat/template.h"

namespace hearth::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void OnSigint(int) {
  g_interrupted.store(true);
  const char msg[] = "\n";
  (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
}

constexpr const char* kHelp =
    "commands: /reset (forget the conversation), /stats (timings of the last reply),\n"
    "          /save FILE (write the conversation as JSON), /exit (or Ctrl-D)\n"
    "Ctrl-C stops the current reply.\n";

json::Value Message(const std::string& role, const std::string& content) {
  return json::Value(json::Value::Object{{"role", role}, {"content", content}});
}

}  // namespace

int RunChat(const Args& args) {
  auto setup = ParseEngineOptions(args);
  if (!setup.ok()) return ReportError("run", setup.status());
  auto gen = ParseGenerationOptions(args);
  if (!gen.ok()) return ReportError("run", gen.status());
  auto truncation = args.GetChoice("truncation", "none", {"none", "oldest_turns"});
  if (!truncation.ok()) return ReportError("run", truncation.status());
  auto loaded = LoadModelAndTokenizer(*setup);
  if (!loaded.ok()) return ReportError("run", loaded.status());
  const tok::Tokenizer& tokenizer = *loaded->tokenizer;

  std::string source;
  if (args.Has("template")) {
    auto t = ReadFileToString(args.Get("template"));
    if (!t.ok()) return ReportError("run", t.status());
    source = std::move(t).value();
  } else if (args.Has("builtin-template")) {
    source = std::string(chat::BuiltinTemplate(args.Get("builtin-template")));
    if (source.empty()) {
      return ReportError("run", InvalidArgumentError("unknown built-in template '" +
                                                         args.Get("builtin-template") + "'",
                                                     "cli.bad_value"));
    }
  } else if (const GgufValue* t = loaded->model->file().Find("tokenizer.chat_template");
             t != nullptr && t->is_string()) {
    source = std::string(t->string());
  }
  auto formatter =
      runtime::ChatFormatter::ForTokenizer(source, loaded->model->hparams().arch, tokenizer);
  if (!formatter.ok()) return ReportError("run", formatter.status());
  auto session = Session::Create(loaded->model, setup->session);
  if (!session.ok()) return ReportError("run", session.status());
  Session& s = **session;
  auto sampler = sampling::Sampler::Create(gen->sampling, tokenizer.n_vocab());
  if (!sampler.ok()) return ReportError("run", sampler.status());
  sampling::Rng rng(gen->sampling.seed);

  struct sigaction sa {};
  sa.sa_handler = OnSigint;
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, nullptr);

  json::Value messages(json::Value::Array{});
  if (args.Has("system")) messages.Push(Message("system", args.Get("system")));
  std::vector<int32_t> cached;  // ids whose KV the session holds, in order
  runtime::GenerateResult last;
  const bool tty = isatty(STDIN_FILENO);
  std::fprintf(stderr, "hearth chat: %s, context %d tokens. /help for commands.\n",
               setup->model_path.c_str(), s.n_ctx());
  std::string line;
  while (true) {
    if (tty) std::fprintf(stderr, "> ");
    g_interrupted.store(false);
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/help") {
      std::fprintf(stderr, "%s", kHelp);
      continue;
    }
    if (line == "/reset") {
      messages = json::Value(json::Value::Array{});
      if (args.Has("system")) messages.Push(Message("system", args.Get("system")));
      cached.clear();
      s.Reset();
      std::fprintf(stderr, "(conversation reset)\n");
      continue;
    }
    if (line == "/stats") {
      std::fprintf(stderr,
                   "prompt %zu tokens, prefill %.1f tok/s, TTFT %.0f ms, %zu tokens, decode %.1f "
                   "tok/s, stop: %s; context used %d of %d\n",
                   last.prompt_tokens, last.PrefillTokensPerSecond(), last.ttft_ms,
                   last.output_ids.size(), last.DecodeTokensPerSecond(),
                   last.stop_reason.empty() ? "-" : last.stop_reason.c_str(), s.pos(), s.n_ctx());
      continue;
    }
    if (StartsWith(line, "/save")) {
      std::string path(StripWhitespace(std::string_view(line).substr(5)));
      if (path.empty()) {
        std::fprintf(stderr, "usage: /save FILE\n");
        continue;
      }
      json::Value doc(json::Value::Object{{"messages", messages}});
      Status st = WriteFileAtomic(path, json::Serialize(doc, 1) + "\n");
      std::fprintf(stderr, st.ok() ? "(saved %s)\n" : "error: %s\n",
                   st.ok() ? path.c_str() : st.message().c_str());
      continue;
    }
    if (line[0] == '/') {
      std::fprintf(stderr, "unknown command %s\n%s", line.c_str(), kHelp);
      continue;
    }

    messages.Push(Message("user", line));
    runtime::ChatPromptOptions po;
    po.n_ctx = s.n_ctx();
    po.max_tokens = static_cast<int>(gen->config.max_tokens);
    po.truncation = *truncation == "oldest_turns" ? runtime::Truncation::kOldestTurns
                                                  : runtime::Truncation::kNone;
    auto prompt = formatter->Build(messages, tokenizer, po);
    if (!prompt.ok()) {
      messages.as_array().pop_back();
      std::fprintf(stderr, "error: %s%s\n", prompt.status().message().c_str(),
                   prompt.status().reason() == "prompt_too_long"
                       ? " (/reset, or start with --truncation oldest_turns)"
                       : "");
      continue;
    }
    if (prompt->truncated) {
      std::fprintf(stderr, "(dropped the %d oldest turn(s), %d messages, to fit the context)\n",
                   prompt->dropped_turns, prompt->dropped_messages);
      // Keep the messages the prompt kept: the system message, then all after the dropped ones.
      const auto& all = messages.as_array();
      const size_t first = all.front().Find("role")->as_string() == "system" ? 1 : 0;
      json::Value::Array kept(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(first));
      kept.insert(kept.end(),
                  all.begin() + static_cast<std::ptrdiff_t>(first + prompt->dropped_messages),
                  all.end());
      messages = json::Value(kept);
    }
    // Reuse the KV of the longest common prefix with what the session holds.
    size_t common = 0;
    while (common < cached.size() && common < prompt->ids.size() &&
           cached[common] == prompt->ids[common]) {
      ++common;
    }
    if (common == prompt->ids.size() && common > 0) --common;  // re-feed one token for logits
    s.Truncate(static_cast<int>(common));
    cached.resize(common);
    std::vector<int32_t> fresh(prompt->ids.begin() + static_cast<std::ptrdiff_t>(common),
                               prompt->ids.end());
    std::vector<int32_t> history = prompt->ids;
    runtime::GenerateConfig cfg = gen->config;
    cfg.cancel = &g_interrupted;
    cfg.on_text = [](const std::string& t) {
      std::fwrite(t.data(), 1, t.size(), stdout);
      std::fflush(stdout);
    };
    auto g = runtime::Generate(s, tokenizer, fresh, *sampler, rng, &history, cfg);
    std::printf("\n");
    std::fflush(stdout);
    if (!g.ok()) {
      std::fprintf(stderr, "error: %s\n", g.status().message().c_str());
      messages.as_array().pop_back();
      s.Reset();
      cached.clear();
      continue;
    }
    if (g->stop_reason == "cancelled") std::fprintf(stderr, "(stopped)\n");
    // The session holds the prompt and the generated ids it was fed (all but
    // possibly the last): exactly its first pos() ids.
    cached = prompt->ids;
    cached.insert(cached.end(), g->output_ids.begin(), g->output_ids.end());
    cached.resize(static_cast<size_t>(s.pos()));
    messages.Push(Message("assistant", g->text));
    last = std::move(g).value();
  }
  return kExitOk;
}

}  // namespace hearth::cli
