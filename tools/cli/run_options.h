// Generation options shared by `hearth run` and `hearth run --chat`: sampling
// parameters, -n, stop strings, and the chat REPL's options.
#pragma once

#include "args.h"
#include "runtime/generate.h"
#include "sampling/sampling_params.h"

namespace hearth::cli {

void AddGenerationOptions(ArgParser& p);

struct GenerationOptions {
  sampling::SamplingParams sampling;
  runtime::GenerateConfig config;
};
Result<GenerationOptions> ParseGenerationOptions(const Args& a);

// --chat, --system, --template, --builtin-template, --truncation.
void AddChatOptions(ArgParser& p);
// The interactive REPL (chat_repl.cc).
int RunChat(const Args& args);

}  // namespace hearth::cli
