// The `hearth` subcommands. Each takes the arguments after its own name.
//
// Exit codes (docs/CLI.md): 0 success, 1 the operation failed (bad file,
// I/O error, failed check), 2 usage error (unknown option, bad value).
#pragma once

#include "base/status.h"

namespace hearth::cli {

constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

struct Command {
  const char* name;
  const char* summary;
  int (*run)(int argc, char** argv);
};

int RunInspect(int argc, char** argv);
int RunDoctor(int argc, char** argv);
int RunSynth(int argc, char** argv);
int RunTokenize(int argc, char** argv);
int RunRun(int argc, char** argv);
int RunLogits(int argc, char** argv);
int RunBench(int argc, char** argv);
int RunTemplate(int argc, char** argv);
int RunPack(int argc, char** argv);
int RunKeygen(int argc, char** argv);
int RunSign(int argc, char** argv);
int RunVerify(int argc, char** argv);
int RunInstall(int argc, char** argv);
int RunActivate(int argc, char** argv);
int RunRollback(int argc, char** argv);
int RunStatus(int argc, char** argv);
int RunRecover(int argc, char** argv);
int RunRollout(int argc, char** argv);
int RunUpdate(int argc, char** argv);
int RunPublish(int argc, char** argv);
int RunServe(int argc, char** argv);
int RunBenchServe(int argc, char** argv);

// After ArgParser::Parse: true when the command is done — a parse error was
// reported or --help printed — with its exit code in *rc.
class ArgParser;
class Args;
bool HelpOrError(const char* command, const ArgParser& parser, const Result<Args>& args, int* rc);

// Prints "hearth <command>: error: <message>" to stderr and returns the exit
// code for `status` (kExitUsage for usage errors, else kExitFailure).
int ReportError(const char* command, const Status& status);

}  // namespace hearth::cli
