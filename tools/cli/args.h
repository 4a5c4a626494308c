// A small declarative command-line parser shared by every `hearth` subcommand.
//
//   ArgParser p("hearth inspect", "Show what is inside a GGUF file.");
//   p.Positional("FILE", "the GGUF file");
//   p.Flag("json", 0, "print JSON instead of text");
//   p.Option("ctx", 'c', "N", "context length for the memory plan", "model's");
//   HEARTH_ASSIGN_OR_RETURN(Args a, p.Parse(argc, argv));
//
// Accepts --name value, --name=value, -x value, and "--" to end options.
// Unknown options, missing values and missing positionals are errors that
// name the option and point to --help. `--help`/`-h` sets Args::help.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace hearth::cli {

class Args {
 public:
  bool help = false;
  std::vector<std::string> positionals;

  bool Has(const std::string& name) const { return values_.count(name) != 0; }
  std::string Get(const std::string& name, const std::string& fallback = {}) const;
  // Integer option within [min, max]; `fallback` when absent.
  Result<int64_t> GetInt(const std::string& name, int64_t fallback, int64_t min, int64_t max) const;
  Result<double> GetDouble(const std::string& name, double fallback, double min, double max) const;
  // Comma-separated integer list ("128,512"), each within [min, max].
  Result<std::vector<int64_t>> GetIntList(const std::string& name, std::vector<int64_t> fallback,
                                          int64_t min, int64_t max) const;
  // Value restricted to `choices`.
  Result<std::string> GetChoice(const std::string& name, const std::string& fallback,
                                const std::vector<std::string>& choices) const;

 private:
  friend class ArgParser;
  std::map<std::string, std::string> values_;  // flags map to "1"
};

class ArgParser {
 public:
  ArgParser(std::string command, std::string summary);

  // A boolean flag --name (and -s when short_name != 0).
  ArgParser& Flag(const std::string& name, char short_name, const std::string& help);
  // An option taking a value.
  ArgParser& Option(const std::string& name, char short_name, const std::string& value_name,
                    const std::string& help, const std::string& default_text = {});
  // A positional argument; `required` ones must be present.
  ArgParser& Positional(const std::string& name, const std::string& help, bool required = true);
  // Free text appended to --help (examples, notes).
  ArgParser& Epilog(const std::string& text);

  Result<Args> Parse(int argc, char** argv) const;
  Result<Args> Parse(const std::vector<std::string>& argv) const;
  std::string Help() const;

 private:
  struct Opt {
    std::string name;
    char short_name;
    std::string value_name;  // empty: flag
    std::string help;
    std::string default_text;
  };
  struct Pos {
    std::string name;
    std::string help;
    bool required;
  };
  const Opt* FindLong(const std::string& name) const;
  const Opt* FindShort(char c) const;
  Status UsageError(const std::string& msg) const;

  std::string command_;
  std::string summary_;
  std::string epilog_;
  std::vector<Opt> opts_;
  std::vector<Pos> pos_;
};

}  // namespace hearth::cli
