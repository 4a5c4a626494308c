#include "server/support/json_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <utility>

#include "base/json_writer.h"
#include "base/strings.h"
#include "server/support/redact.h"

namespace hearth::server {
namespace {

// Writes all of `data`, retrying on EINTR and short writes.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string_view RedactionLevel(const LogPolicy& policy) {
  if (policy.log_prompt_output) return "scrubbed_text";
  if (policy.log_previews) return "preview";
  return policy.log_hashes ? "hash_only" : "placeholders";
}

void AddTextFields(const LogPolicy& policy, std::string_view prompt,
                   std::optional<std::string_view> output, json::Value* record) {
  record->Set("redaction_level", RedactionLevel(policy));
  if (policy.log_hashes) {
    record->Set("prompt_hash", PromptHash(prompt));
    if (output) record->Set("output_hash", PromptHash(*output));
  }
  auto preview = [&](std::string_view text, const char* placeholder) -> json::Value {
    if (!policy.log_previews) return placeholder;
    return PreviewText(text, policy.preview_code_points, policy.scrub_pii_in_previews);
  };
  record->Set("prompt_preview", preview(prompt, "[REDACTED_PROMPT]"));
  if (output) record->Set("output_preview", preview(*output, "[REDACTED_OUTPUT]"));
  if (policy.log_prompt_output) {
    record->Set("prompt", ScrubPii(prompt));
    if (output) record->Set("output", ScrubPii(*output));
  }
}

std::function<void(std::string_view)> StderrLineSink() {
  return [](std::string_view line) { WriteAll(2, line); };
}

JsonLog::JsonLog(JsonLogOptions options) : options_(std::move(options)) {
  if (options_.max_file_bytes < 1) options_.max_file_bytes = 1;
  if (options_.max_files < 1) options_.max_files = 1;
  if (!options_.now_unix_ms) options_.now_unix_ms = SystemNowMs;
  if (!options_.dir.empty()) path_ = options_.dir + "/" + kFileName;
}

JsonLog::~JsonLog() {
  if (fd_ >= 0) close(fd_);
}

Result<std::unique_ptr<JsonLog>> JsonLog::Open(JsonLogOptions options) {
  std::unique_ptr<JsonLog> log(new JsonLog(std::move(options)));
  if (log->path_.empty()) return log;
  std::error_code ec;
  std::filesystem::create_directories(log->options_.dir, ec);
  if (ec) {
    return IoError("creating log directory '" + log->options_.dir + "': " + ec.message(),
                   "log.open");
  }
  if (!log->Reopen()) return ErrnoError("opening log file '" + log->path_ + "'", errno);
  return log;
}

bool JsonLog::Reopen() {
  if (fd_ >= 0) close(fd_);
  fd_ = open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) return false;
  struct stat st;
  size_ = fstat(fd_, &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
  return true;
}

bool JsonLog::Rotate() {
  close(fd_);
  fd_ = -1;
  bool ok = true;
  if (options_.max_files == 1) {
    ok = unlink(path_.c_str()) == 0 || errno == ENOENT;
  } else {
    // Oldest first: .(N-2) replaces .(N-1), ..., then hearth.log becomes .1.
    // A missing older file is normal (the log is young).
    for (int i = options_.max_files - 1; i >= 2; --i) {
      std::string from = path_ + "." + std::to_string(i - 1);
      std::string to = path_ + "." + std::to_string(i);
      if (rename(from.c_str(), to.c_str()) != 0 && errno != ENOENT) ok = false;
    }
    if (ok && rename(path_.c_str(), (path_ + ".1").c_str()) != 0 && errno != ENOENT) ok = false;
  }
  // Reopen either way: a fresh file after success, the old one (still over
  // budget, so the next line retries the rotation) after a failure.
  if (!Reopen()) ok = false;
  if (ok) ++stats_.rotations;
  return ok;
}

void JsonLog::WriteToFile(std::string_view line) {
  if (fd_ < 0 && !Reopen()) {
    ++stats_.write_errors;
    ++stats_.dropped;
    return;
  }
  // A line that does not fit starts a new file, unless the file is empty
  // (a line longer than the budget is written whole into a file of its own).
  if (size_ > 0 && size_ + line.size() > options_.max_file_bytes && !Rotate()) {
    ++stats_.write_errors;
    ++stats_.dropped;
    return;
  }
  if (!WriteAll(fd_, line)) {
    ++stats_.write_errors;
    ++stats_.dropped;
    // Re-read the size: a short write may have left part of the line.
    struct stat st;
    if (fstat(fd_, &st) == 0) size_ = static_cast<uint64_t>(st.st_size);
    return;
  }
  size_ += line.size();
  ++stats_.lines;
}

std::string JsonLog::FormatLine(const json::Value& record) const {
  json::Writer w;
  w.BeginObject();
  w.Key("log_schema_version");
  w.Int(1);
  w.Key("ts_unix_ms");
  w.Int(options_.now_unix_ms());
  for (const auto& member : record.as_object()) {
    if (member.first == "log_schema_version" || member.first == "ts_unix_ms") continue;
    w.Key(member.first);
    w.Raw(member.second);
  }
  w.EndObject();
  std::string line = w.TakeStr();
  line.push_back('\n');  // the serializer escapes control characters: one line
  return line;
}

void JsonLog::Write(const json::Value& record) noexcept {
  try {
    if (!record.is_object()) {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.write_errors;
      ++stats_.dropped;
      return;
    }
    std::string line = FormatLine(record);  // outside the lock
    std::lock_guard<std::mutex> lock(mu_);
    if (options_.sink) options_.sink(line);
    if (path_.empty()) {
      ++stats_.lines;
    } else {
      WriteToFile(line);
    }
  } catch (...) {
    // Out of memory or a throwing sink: a log line is never worth a crash.
    // Unwinding has released the lock (lock_guard), so take it to count.
    try {
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.write_errors;
      ++stats_.dropped;
    } catch (...) {
    }
  }
}

JsonLog::Stats JsonLog::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace hearth::server
