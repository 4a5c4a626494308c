#include "args.h"

#include "base/strings.h"

namespace hearth::cli {

std::string Args::Get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

Result<int64_t> Args::GetInt(const std::string& name, int64_t fallback, int64_t min,
                             int64_t max) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  int64_t v = 0;
  if (!ParseInt64(it->second, &v)) {
    return InvalidArgumentError(
        StrFormat("--%s expects an integer, got '%s'", name.c_str(), it->second.c_str()),
        "cli.bad_value");
  }
  if (v < min || v > max) {
    return OutOfRangeError(StrFormat("--%s must be between %lld and %lld, got %lld", name.c_str(),
                                     static_cast<long long>(min), static_cast<long long>(max),
                                     static_cast<long long>(v)),
                           "cli.out_of_range");
  }
  return v;
}

Result<double> Args::GetDouble(const std::string& name, double fallback, double min,
                               double max) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  double v = 0;
  if (!ParseDouble(it->second, &v)) {
    return InvalidArgumentError(
        StrFormat("--%s expects a number, got '%s'", name.c_str(), it->second.c_str()),
        "cli.bad_value");
  }
  if (v < min || v > max) {
    return OutOfRangeError(
        StrFormat("--%s must be between %g and %g, got %g", name.c_str(), min, max, v),
        "cli.out_of_range");
  }
  return v;
}

Result<std::vector<int64_t>> Args::GetIntList(const std::string& name,
                                              std::vector<int64_t> fallback, int64_t min,
                                              int64_t max) const {
  auto it = values_.find(name);
  if (it == values_.end()) return fallback;
  std::vector<int64_t> out;
  for (std::string_view part : StrSplit(it->second, ',')) {
    int64_t v = 0;
    if (!ParseInt64(StripWhitespace(part), &v)) {
      return InvalidArgumentError(StrFormat("--%s expects comma-separated integers, got '%s'",
                                            name.c_str(), it->second.c_str()),
                                  "cli.bad_value");
    }
    if (v < min || v > max) {
      return OutOfRangeError(StrFormat("--%s values must be between %lld and %lld, got %lld",
                                       name.c_str(), static_cast<long long>(min),
                                       static_cast<long long>(max), static_cast<long long>(v)),
                             "cli.out_of_range");
    }
    out.push_back(v);
  }
  return out;
}

Result<std::string> Args::GetChoice(const std::string& name, const std::string& fallback,
                                    const std::vector<std::string>& choices) const {
  std::string v = Get(name, fallback);
  for (const auto& c : choices) {
    if (c == v) return v;
  }
  std::string list;
  for (const auto& c : choices) list += (list.empty() ? "" : ", ") + c;
  return InvalidArgumentError(
      StrFormat("--%s must be one of %s, got '%s'", name.c_str(), list.c_str(), v.c_str()),
      "cli.bad_value");
}

ArgParser::ArgParser(std::string command, std::string summary)
    : command_(std::move(command)), summary_(std::move(summary)) {}

ArgParser& ArgParser::Flag(const std::string& name, char short_name, const std::string& help) {
  opts_.push_back({name, short_name, "", help, ""});
  return *this;
}

ArgParser& ArgParser::Option(const std::string& name, char short_name,
                             const std::string& value_name, const std::string& help,
                             const std::string& default_text) {
  opts_.push_back({name, short_name, value_name, help, default_text});
  return *this;
}

ArgParser& ArgParser::Positional(const std::string& name, const std::string& help, bool required) {
  pos_.push_back({name, help, required});
  return *this;
}

ArgParser& ArgParser::Epilog(const std::string& text) {
  epilog_ = text;
  return *this;
}

const ArgParser::Opt* ArgParser::FindLong(const std::string& name) const {
  for (const auto& o : opts_) {
    if (o.name == name) return &o;
  }
  return nullptr;
}

const ArgParser::Opt* ArgParser::FindShort(char c) const {
  for (const auto& o : opts_) {
    if (o.short_name == c && c != 0) return &o;
  }
  return nullptr;
}

Status ArgParser::UsageError(const std::string& msg) const {
  return InvalidArgumentError(StrFormat("%s (see '%s --help')", msg.c_str(), command_.c_str()),
                              "cli.usage");
}

Result<Args> ArgParser::Parse(int argc, char** argv) const {
  std::vector<std::string> v;
  for (int i = 0; i < argc; ++i) v.emplace_back(argv[i]);
  return Parse(v);
}

Result<Args> ArgParser::Parse(const std::vector<std::string>& argv) const {
  Args out;
  bool options_done = false;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (options_done || a.size() < 2 || a[0] != '-' || a == "-") {
      out.positionals.push_back(a);
      continue;
    }
    if (a == "--") {
      options_done = true;
      continue;
    }
    if (a == "--help" || a == "-h") {
      out.help = true;
      continue;
    }
    const Opt* opt = nullptr;
    std::string value;
    bool has_inline_value = false;
    if (a[1] == '-') {
      std::string name = a.substr(2);
      size_t eq = name.find('=');
      if (eq != std::string::npos) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
        has_inline_value = true;
      }
      opt = FindLong(name);
      if (opt == nullptr) return UsageError(StrFormat("unknown option '--%s'", name.c_str()));
    } else {
      if (a.size() != 2) {
        return UsageError(
            StrFormat("unknown option '%s' (short options take one letter)", a.c_str()));
      }
      opt = FindShort(a[1]);
      if (opt == nullptr) return UsageError(StrFormat("unknown option '%s'", a.c_str()));
    }
    if (opt->value_name.empty()) {
      if (has_inline_value) {
        return UsageError(StrFormat("option '--%s' takes no value", opt->name.c_str()));
      }
      out.values_[opt->name] = "1";
      continue;
    }
    if (!has_inline_value) {
      if (i + 1 >= argv.size()) {
        return UsageError(StrFormat("option '--%s' needs a value %s", opt->name.c_str(),
                                    opt->value_name.c_str()));
      }
      value = argv[++i];
    }
    out.values_[opt->name] = value;
  }
  if (out.help) return out;
  size_t required = 0;
  for (const auto& p : pos_) required += p.required ? 1 : 0;
  if (out.positionals.size() < required) {
    return UsageError(StrFormat("missing argument %s", pos_[out.positionals.size()].name.c_str()));
  }
  if (out.positionals.size() > pos_.size()) {
    return UsageError(StrFormat("unexpected argument '%s'", out.positionals[pos_.size()].c_str()));
  }
  return out;
}

std::string ArgParser::Help() const {
  std::string h = "Usage: " + command_;
  if (!opts_.empty()) h += " [options]";
  for (const auto& p : pos_) h += p.required ? " " + p.name : " [" + p.name + "]";
  h += "\n\n" + summary_ + "\n";
  if (!pos_.empty()) {
    h += "\nArguments:\n";
    for (const auto& p : pos_) h += StrFormat("  %-24s %s\n", p.name.c_str(), p.help.c_str());
  }
  h += "\nOptions:\n";
  for (const auto& o : opts_) {
    std::string lhs = o.short_name ? StrFormat("-%c, --%s", o.short_name, o.name.c_str())
                                   : StrFormat("    --%s", o.name.c_str());
    if (!o.value_name.empty()) lhs += " " + o.value_name;
    std::string rhs = o.help;
    if (!o.default_text.empty()) rhs += " (default: " + o.default_text + ")";
    if (lhs.size() > 24) {
      h += "  " + lhs + "\n" + std::string(27, ' ') + rhs + "\n";
    } else {
      h += StrFormat("  %-24s %s\n", lhs.c_str(), rhs.c_str());
    }
  }
  h += StrFormat("  %-24s %s\n", "-h, --help", "show this help and exit");
  if (!epilog_.empty()) h += "\n" + epilog_ + (epilog_.back() == '\n' ? "" : "\n");
  return h;
}

}  // namespace hearth::cli
