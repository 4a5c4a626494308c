// The server's JSON-lines log (DESIGN §6 "Logs", book 12.3 and 13.4).
//
// One JSON object per line. Every line starts with
//   "log_schema_version": 1, "ts_unix_ms": <wall clock, ms>
// followed by the record's own members (the request's fields; any members
// of the record with those two names are dropped in favour of ours). Lines go
// to <dir>/hearth.log and/or to a line sink (e.g. stderr).
//
// Rotation keeps the files within a byte budget: before a line that would
// take hearth.log past max_file_bytes, hearth.log.(N-2) is renamed over
// hearth.log.(N-1) (dropping the oldest), ..., hearth.log.1 -> .2, hearth.log
// -> hearth.log.1, and a new hearth.log is started (N = max_files, counting
// hearth.log itself; N = 1 simply restarts hearth.log). So there are at most
// max_files files, each at most max_file_bytes, except that a single line
// longer than max_file_bytes is still written whole, alone in its own file:
// total <= max_files x max_file_bytes + one line. Lines are never split across
// files. The logger assumes it owns hearth.log* in its directory (one server
// per log directory); files are created with mode 0600.
//
// Never throws and never fails a request: write, rename and open errors are
// counted (stats().write_errors). If a rotation fails, that line is dropped
// (counted) rather than let the file outgrow its budget; the next line tries
// again. Each line is one write(2) on an O_APPEND descriptor, unbuffered, so
// it is in the kernel when Write returns. Thread-safe; lines from different
// threads never interleave.
//
// Privacy (book 13.4): records must not carry user text directly; build the
// text-derived fields with AddTextFields, which applies LogPolicy.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "base/json.h"
#include "base/status.h"

namespace hearth::server {

// The book's four knobs (13.4), with its defaults.
struct LogPolicy {
  bool log_prompt_output = false;     // full prompt/output text, PII-scrubbed
  bool log_hashes = true;             // prompt_hash / output_hash
  bool log_previews = false;          // short scrubbed excerpts instead of placeholders
  bool scrub_pii_in_previews = true;  // (previews only; full text is always scrubbed)
  size_t preview_code_points = 80;    // excerpt length (12.3: first 80 characters)
};

// Adds the fields derived from user text to `record` (an object):
//   redaction_level  "hash_only" | "placeholders" | "preview" | "scrubbed_text"
//   prompt_hash, output_hash        when log_hashes (redact.h PromptHash)
//   prompt_preview, output_preview  "[REDACTED_PROMPT]" / "[REDACTED_OUTPUT]",
//                                   or PreviewText(...) when log_previews
//   prompt, output                  ScrubPii(text), only when log_prompt_output
// Output fields are added only when `output` is given (a failed request has
// none). The raw text itself never reaches the record.
void AddTextFields(const LogPolicy& policy, std::string_view prompt,
                   std::optional<std::string_view> output, json::Value* record);

// The redaction_level value for a policy.
std::string_view RedactionLevel(const LogPolicy& policy);

struct JsonLogOptions {
  std::string dir;  // log directory (created if missing); "" = no file
  uint64_t max_file_bytes = uint64_t{16} << 20;
  int max_files = 4;  // hearth.log + hearth.log.1 .. .3
  // Receives every line (with its '\n'), under the logger's lock; may be empty.
  std::function<void(std::string_view)> sink;
  // Wall clock in unix milliseconds, called from any writing thread;
  // defaults to std::chrono::system_clock.
  std::function<int64_t()> now_unix_ms;
};

// A sink writing lines to stderr (fd 2).
std::function<void(std::string_view)> StderrLineSink();

class JsonLog {
 public:
  // Creates the directory if needed and opens <dir>/hearth.log for appending.
  // Errors name the path. max_file_bytes and max_files are raised to >= 1.
  static Result<std::unique_ptr<JsonLog>> Open(JsonLogOptions options);
  ~JsonLog();
  JsonLog(const JsonLog&) = delete;
  JsonLog& operator=(const JsonLog&) = delete;

  // Logs one record (a JSON object; anything else is counted as an error and
  // dropped). Never throws.
  void Write(const json::Value& record) noexcept;

  struct Stats {
    uint64_t lines = 0;         // lines written to the file (or the sink alone)
    uint64_t write_errors = 0;  // failed writes, renames, opens, bad records
    uint64_t dropped = 0;       // lines that reached no file because of an error
    uint64_t rotations = 0;
  };
  Stats stats() const;
  // <dir>/hearth.log, or "" without a file.
  const std::string& path() const { return path_; }

  static constexpr const char* kFileName = "hearth.log";

 private:
  explicit JsonLog(JsonLogOptions options);
  std::string FormatLine(const json::Value& record) const;
  void WriteToFile(std::string_view line);  // requires mu_
  bool Reopen();                            // requires mu_
  bool Rotate();                            // requires mu_

  JsonLogOptions options_;
  std::string path_;

  mutable std::mutex mu_;
  int fd_ = -1;
  uint64_t size_ = 0;  // bytes in the current hearth.log
  Stats stats_;
};

}  // namespace hearth::server
