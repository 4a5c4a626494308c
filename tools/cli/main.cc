// `hearth`: the command-line front end. Thin: parsing and printing only.
#include <cstdio>
#include <cstring>
#include <string>

#include "args.h"
#include "base/build_info.h"
#include "base/cpu_features.h"
#include "commands.h"

namespace hearth::cli {
namespace {

constexpr Command kCommands[] = {
    {"run", "generate text from a prompt with a GGUF model", RunRun},
    {"serve", "serve a model over HTTP (OpenAI API, streaming, batching, auth, metrics)", RunServe},
    {"bench", "measure prefill and decode throughput (JSON / markdown)", RunBench},
    {"bench-serve", "aggregate decode throughput with concurrent streams (batching)",
     RunBenchServe},
    {"logits", "write the float32 logits of every prompt position", RunLogits},
    {"inspect", "show a GGUF file's metadata, hyper-parameters, tensors and memory plan",
     RunInspect},
    {"doctor", "measure this device: cores, ISA, RAM, disk, memory bandwidth", RunDoctor},
    {"synth", "write a deterministic random-weight model of a real shape", RunSynth},
    {"tokenize", "turn text into token ids (and back) with a model's tokenizer", RunTokenize},
    {"template", "render a chat template for a list of messages", RunTemplate},
    {"pack", "package a GGUF model into a bundle (manifest, deterministic tar)", RunPack},
    {"keygen", "create an Ed25519 signing key pair", RunKeygen},
    {"sign", "sign a bundle's manifest", RunSign},
    {"verify", "verify a bundle: signature, files, model facts (fails closed)", RunVerify},
    {"install", "install a bundle into the device store and trial-activate it", RunInstall},
    {"activate", "trial-activate an installed bundle", RunActivate},
    {"rollback", "switch back to the previous bundle", RunRollback},
    {"status", "show the device store: active, previous, trial, quarantined", RunStatus},
    {"recover", "repair the store after a crash (run at boot)", RunRecover},
    {"rollout", "staged rollout: a device's bucket, a policy decision", RunRollout},
    {"update", "poll a signed channel and install what it points to", RunUpdate},
    {"publish", "put a bundle and a signed channel file on a static origin", RunPublish},
};

void PrintUsage(FILE* out) {
  std::fprintf(out,
               "Usage: hearth <command> [options]\n\n"
               "Hearth runs open-weight LLMs (GGUF) on the device, offline, within a memory "
               "budget.\n\nCommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-11s %s\n", c.name, c.summary);
  std::fprintf(out,
               "\nGlobal options:\n"
               "  --version  print version, build and the CPU features in use\n"
               "  --help     show this help\n\n"
               "Run 'hearth <command> --help' for a command's options.\n");
}

void PrintVersion() {
  std::printf("hearth %s\n", BuildVersion());
  std::printf("commit:     %s\n", BuildGitCommit());
  std::printf("compiler:   %s\n", BuildCompiler());
  std::printf("build type: %s\n", BuildType());
  const CpuFeatures& f = GetCpuFeatures();
  std::printf("cpu:        %s\n", f.model_name.c_str());
  std::printf("cpu features usable at run time: %s\n", f.UsableList().c_str());
}

}  // namespace

bool HelpOrError(const char* command, const ArgParser& parser, const Result<Args>& args, int* rc) {
  if (!args.ok()) {
    *rc = ReportError(command, args.status());
    return true;
  }
  if (args->help) {
    std::printf("%s", parser.Help().c_str());
    *rc = kExitOk;
    return true;
  }
  return false;
}

int ReportError(const char* command, const Status& status) {
  std::fprintf(stderr, "hearth %s: error: %s\n", command, status.message().c_str());
  return status.reason() == "cli.usage" || status.reason() == "cli.bad_value" ||
                 status.reason() == "cli.out_of_range"
             ? kExitUsage
             : kExitFailure;
}

int Main(int argc, char** argv) {
  if (argc < 2) {
    PrintUsage(stderr);
    return kExitUsage;
  }
  const char* cmd = argv[1];
  if (std::strcmp(cmd, "--help") == 0 || std::strcmp(cmd, "-h") == 0 ||
      std::strcmp(cmd, "help") == 0) {
    PrintUsage(stdout);
    return kExitOk;
  }
  if (std::strcmp(cmd, "--version") == 0 || std::strcmp(cmd, "version") == 0) {
    PrintVersion();
    return kExitOk;
  }
  for (const Command& c : kCommands) {
    if (std::strcmp(cmd, c.name) == 0) return c.run(argc - 2, argv + 2);
  }
  std::fprintf(stderr, "hearth: unknown command '%s'\n\n", cmd);
  PrintUsage(stderr);
  return kExitUsage;
}

}  // namespace hearth::cli

int main(int argc, char** argv) {
  return hearth::cli::Main(argc, argv);
}
