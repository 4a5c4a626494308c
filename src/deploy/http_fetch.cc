#include "deploy/http_fetch.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

#include "base/build_info.h"
#include "base/strings.h"

namespace hearth::deploy {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kProgressInterval = std::chrono::milliseconds(100);

void EnsureCurlInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
using CurlPtr = std::unique_ptr<CURL, CurlDeleter>;

// Closes a descriptor on every path out of FetchToFile unless released.
struct FdCloser {
  int fd = -1;
  ~FdCloser() {
    if (fd >= 0) close(fd);
  }
};

// Lower-cased scheme of `url` ("http", "file"), or "" without "://".
std::string Scheme(const std::string& url) {
  size_t pos = url.find("://");
  if (pos == std::string::npos) return "";
  std::string s = url.substr(0, pos);
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Status CheckScheme(const std::string& url) {
  std::string s = Scheme(url);
  if (s == "http" || s == "https" || s == "file") return Status::Ok();
  return InvalidArgumentError("unsupported URL '" + url + "' (want http://, https:// or file://)",
                              "fetch.bad_url");
}

long ResponseCode(CURL* curl) {  // NOLINT(runtime/int): libcurl's type
  long code = 0;                 // NOLINT(runtime/int)
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  return code;
}

int64_t ContentLength(CURL* curl) {
  curl_off_t length = -1;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  return length;
}

// A non-2xx answer as a Status naming the URL and the status.
Status HttpStatusError(const std::string& url, long code) {  // NOLINT(runtime/int)
  std::string msg = StrFormat("%s: server answered HTTP %ld", url.c_str(), code);
  if (code == 404 || code == 410) return NotFoundError(std::move(msg), "fetch.not_found");
  StatusCode sc = StatusCode::kFailedPrecondition;
  if (code == 401 || code == 403) sc = StatusCode::kPermissionDenied;
  if (code >= 500 || code == 408 || code == 429) sc = StatusCode::kUnavailable;
  return Status(sc, std::move(msg), "fetch.http_status");
}

bool RetryableHttp(long code) {  // NOLINT(runtime/int)
  return code >= 500 || code == 408 || code == 429;
}

// A failed transfer as a Status naming the URL and libcurl's explanation.
Status CurlError(const std::string& url, CURLcode rc, const char* errbuf) {
  std::string text = errbuf[0] != '\0' ? errbuf : curl_easy_strerror(rc);
  std::string msg = url + ": " + text;
  if (rc == CURLE_FILE_COULDNT_READ_FILE) return NotFoundError(std::move(msg), "fetch.not_found");
  return Status(StatusCode::kUnavailable, std::move(msg), "fetch.network");
}

// Errors that another attempt will not fix.
bool RetryableCurl(CURLcode rc) {
  switch (rc) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_TOO_MANY_REDIRECTS:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_FILE_COULDNT_READ_FILE:
    case CURLE_LOGIN_DENIED:
      return false;
    default:
      return true;
  }
}

Status TooLarge(const std::string& url, uint64_t limit) {
  return ResourceExhaustedError(StrFormat("%s: body is larger than the expected %llu bytes",
                                          url.c_str(), static_cast<unsigned long long>(limit)),
                                "fetch.too_large");
}

// Options every request shares. `errbuf` (CURL_ERROR_SIZE) must outlive the transfer.
void SetCommonOptions(CURL* curl, const std::string& url, char* errbuf, int connect_timeout_s) {
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM in a multi-threaded agent
  std::string agent = std::string("hearth/") + BuildVersion();
  curl_easy_setopt(curl, CURLOPT_USERAGENT, agent.c_str());  // libcurl copies strings
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85: the *_STR forms
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,file");
  curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");  // never redirect to file://
#endif
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, static_cast<long>(connect_timeout_s));
  curl_easy_setopt(curl, CURLOPT_FAILONERROR, 0L);  // we classify statuses ourselves
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 1L);   // no built-in meter on stderr
}

// Parses "bytes A-B/T" or "bytes */T" (T may be "*"). *first and *total are -1 for "*".
bool ParseContentRange(std::string_view v, int64_t* first, int64_t* total) {
  v = StripWhitespace(v);
  if (!StartsWith(v, "bytes ")) return false;
  v = StripWhitespace(v.substr(6));
  size_t slash = v.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view range = v.substr(0, slash), size = v.substr(slash + 1);
  *total = -1;
  if (size != "*" && !ParseInt64(size, total)) return false;
  *first = -1;
  if (range == "*") return true;
  size_t dash = range.find('-');
  return dash != std::string_view::npos && ParseInt64(range.substr(0, dash), first) && *first >= 0;
}

// ---- FetchToFile ----------------------------------------------------------------------

// State of one FetchToFile call, shared with libcurl's callbacks.
struct FileTransfer {
  CURL* curl = nullptr;
  const FetchOptions* options = nullptr;
  std::string url, path;
  int fd = -1;
  bool http = true;    // false for file://
  uint64_t size = 0;   // bytes in the part file
  uint64_t total = 0;  // final size if known, else 0
  // Per attempt:
  bool body_started = false;
  bool bad_status = false;    // a non-2xx answer whose body we refused
  std::string content_range;  // of the latest response header block
  Status error;               // a local failure that aborted the transfer
  Clock::time_point last_progress;
};

Status TruncatePart(FileTransfer* t) {
  if (ftruncate(t->fd, 0) != 0) return ErrnoError("cannot truncate '" + t->path + "'", errno);
  t->size = 0;
  return Status::Ok();
}

// Called before the first body byte of a 200/206 (or file://) answer is stored: decides
// whether the body appends or replaces, and learns the total.
Status BeginBody(FileTransfer* t) {
  t->body_started = true;
  int64_t length = ContentLength(t->curl);
  uint64_t body_total = 0;
  if (t->http && ResponseCode(t->curl) == 206) {
    int64_t first = -1, total = -1;
    if (!ParseContentRange(t->content_range, &first, &total) ||
        first != static_cast<int64_t>(t->size)) {
      return Status(StatusCode::kFailedPrecondition,
                    StrFormat("%s: server answered 206 with Content-Range '%s' to a request "
                              "from byte %llu",
                              t->url.c_str(), t->content_range.c_str(),
                              static_cast<unsigned long long>(t->size)),
                    "fetch.http_status");
    }
    if (total >= 0) {
      body_total = static_cast<uint64_t>(total);
    } else if (length >= 0) {
      body_total = t->size + static_cast<uint64_t>(length);
    }
  } else {
    // A 200 is the whole file: the server ignored our Range (or none was sent).
    if (t->size > 0) HEARTH_RETURN_IF_ERROR(TruncatePart(t));
    if (length >= 0) body_total = static_cast<uint64_t>(length);
  }
  uint64_t expected = t->options->expected_size;
  if (expected > 0 && body_total > expected) return TooLarge(t->url, expected);
  t->total = expected > 0 ? expected : body_total;
  return Status::Ok();
}

size_t OnFileBody(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<FileTransfer*>(userdata);
  size_t n = size * nmemb;
  if (!t->body_started && t->error.ok() && !t->bad_status) {
    long code = ResponseCode(t->curl);  // NOLINT(runtime/int)
    if (t->http && code != 200 && code != 206) {
      t->bad_status = true;  // an error page: not wanted, and not written to the part file
    } else {
      t->error = BeginBody(t);
    }
  }
  if (!t->error.ok() || t->bad_status) return 0;  // != n aborts the transfer
  uint64_t expected = t->options->expected_size;
  if (expected > 0 && t->size + n > expected) {
    t->error = TooLarge(t->url, expected);
    return 0;
  }
  for (size_t off = 0; off < n;) {
    ssize_t w = pwrite(t->fd, data + off, n - off, static_cast<off_t>(t->size));
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      t->error = ErrnoError("writing '" + t->path + "'", w < 0 ? errno : EIO);
      return 0;
    }
    off += static_cast<size_t>(w);
    t->size += static_cast<uint64_t>(w);
  }
  return n;
}

size_t OnFileHeader(char* data, size_t size, size_t nitems, void* userdata) {
  auto* t = static_cast<FileTransfer*>(userdata);
  std::string_view line(data, size * nitems);
  if (StartsWith(line, "HTTP/")) {
    t->content_range.clear();  // a new response (after a redirect or a 100)
  } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name == "content-range")
      t->content_range = std::string(StripWhitespace(line.substr(colon + 1)));
  }
  return size * nitems;
}

int OnFileProgress(void* userdata, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* t = static_cast<FileTransfer*>(userdata);
  Clock::time_point now = Clock::now();
  if (now - t->last_progress >= kProgressInterval) {
    t->last_progress = now;
    t->options->on_progress(t->size, t->total);
  }
  return 0;
}

struct AttemptOutcome {
  Status status;
  bool retryable = false;
  bool restart = false;  // the part file does not fit the remote file: start over from 0
};

AttemptOutcome RunAttempt(FileTransfer* t, char* errbuf) {
  t->body_started = false;
  t->bad_status = false;
  t->content_range.clear();
  t->error = Status::Ok();
  if (t->total == 0) t->total = t->options->expected_size;
  std::string range;
  if (t->http && t->size > 0) {
    range = StrFormat("%llu-", static_cast<unsigned long long>(t->size));  // "Range: bytes=N-"
  }
  curl_easy_setopt(t->curl, CURLOPT_RANGE, range.empty() ? nullptr : range.c_str());
  errbuf[0] = '\0';
  CURLcode rc = curl_easy_perform(t->curl);

  if (!t->error.ok()) return {t->error};  // local I/O, too large, bad range: not retried
  long code = ResponseCode(t->curl);      // NOLINT(runtime/int)
  if (t->bad_status || (rc == CURLE_OK && t->http && code != 200 && code != 206)) {
    if (code == 416 && t->size > 0) {
      int64_t first = -1, total = -1;
      uint64_t expected = t->options->expected_size;
      bool complete = expected > 0 ? t->size == expected
                                   : ParseContentRange(t->content_range, &first, &total) &&
                                         total == static_cast<int64_t>(t->size);
      if (complete) {
        t->total = t->size;
        return {};
      }
      return {HttpStatusError(t->url, code), false, /*restart=*/true};
    }
    return {HttpStatusError(t->url, code), RetryableHttp(code)};
  }
  if (rc != CURLE_OK) return {CurlError(t->url, rc, errbuf), RetryableCurl(rc)};
  if (!t->body_started) {  // an empty 200 body still replaces the part file
    Status s = BeginBody(t);
    if (!s.ok()) return {s};
  }
  return {};
}

}  // namespace

Result<uint64_t> FetchToFile(const std::string& url, const std::string& part_path,
                             const FetchOptions& options) {
  HEARTH_RETURN_IF_ERROR(CheckScheme(url));
  EnsureCurlInitialized();
  FileTransfer t;
  t.options = &options;
  t.url = url;
  t.path = part_path;
  t.http = Scheme(url) != "file";
  FdCloser closer{open(part_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)};
  if (closer.fd < 0) return ErrnoError("cannot open part file '" + part_path + "'", errno);
  t.fd = closer.fd;
  struct stat st;
  if (fstat(t.fd, &st) != 0) return ErrnoError("cannot stat '" + part_path + "'", errno);
  t.size = static_cast<uint64_t>(st.st_size);
  // file:// cannot tell us whether a range was honoured, and a part longer than the
  // expected file cannot be a prefix of it: both start over.
  if (t.size > 0 && (!t.http || (options.expected_size > 0 && t.size > options.expected_size))) {
    HEARTH_RETURN_IF_ERROR(TruncatePart(&t));
  }

  CurlPtr curl(curl_easy_init());
  if (curl == nullptr) return InternalError("curl_easy_init failed");
  t.curl = curl.get();
  char errbuf[CURL_ERROR_SIZE];
  SetCommonOptions(t.curl, url, errbuf, options.connect_timeout_s);
  curl_easy_setopt(t.curl, CURLOPT_WRITEFUNCTION, &OnFileBody);
  curl_easy_setopt(t.curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(t.curl, CURLOPT_HEADERFUNCTION, &OnFileHeader);
  curl_easy_setopt(t.curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(t.curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(t.curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options.stall_timeout_s));
  curl_easy_setopt(t.curl, CURLOPT_BUFFERSIZE, 128L * 1024);  // fewer, larger writes
  if (options.on_progress) {
    curl_easy_setopt(t.curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(t.curl, CURLOPT_XFERINFOFUNCTION, &OnFileProgress);
    curl_easy_setopt(t.curl, CURLOPT_XFERINFODATA, &t);
  }

  const int max_attempts = std::max(1, options.max_attempts);
  bool restarted = false;
  Status failure;
  for (int attempt = 1;; ++attempt) {
    AttemptOutcome out = RunAttempt(&t, errbuf);
    if (out.status.ok()) break;
    if (out.restart && !restarted) {  // at most once per call, without using up an attempt
      restarted = true;
      --attempt;
      HEARTH_RETURN_IF_ERROR(TruncatePart(&t));
      continue;
    }
    if (!out.retryable || attempt >= max_attempts) {
      failure = std::move(out.status);
      break;
    }
    // 0.5 s, 1 s, 2 s, ... capped at 8 s.
    std::this_thread::sleep_for(std::chrono::milliseconds(500) * (1 << std::min(attempt - 1, 4)));
  }
  if (options.on_progress) options.on_progress(t.size, failure.ok() ? t.size : t.total);
  if (!failure.ok()) return failure;

  if (fsync(t.fd) != 0) return ErrnoError("syncing '" + part_path + "'", errno);
  int fd = closer.fd;
  closer.fd = -1;
  if (close(fd) != 0) return ErrnoError("closing '" + part_path + "'", errno);
  return t.size;
}

// ---- FetchToString --------------------------------------------------------------------

namespace {

struct StringTransfer {
  CURL* curl = nullptr;
  bool http = true;
  size_t max_bytes = 0;
  std::string body;
  bool checked = false;  // the status and Content-Length were looked at
  bool bad_status = false;
  bool too_large = false;
};

size_t OnStringBody(char* data, size_t size, size_t nmemb, void* userdata) {
  auto* t = static_cast<StringTransfer*>(userdata);
  size_t n = size * nmemb;
  if (!t->checked) {
    t->checked = true;
    if (t->http && ResponseCode(t->curl) != 200) t->bad_status = true;
    int64_t length = ContentLength(t->curl);
    if (length > 0 && static_cast<uint64_t>(length) > t->max_bytes) t->too_large = true;
  }
  if (!t->bad_status && t->body.size() + n > t->max_bytes) t->too_large = true;
  if (t->bad_status || t->too_large) return 0;
  t->body.append(data, n);
  return n;
}

}  // namespace

Result<std::string> FetchToString(const std::string& url, size_t max_bytes, int timeout_s) {
  HEARTH_RETURN_IF_ERROR(CheckScheme(url));
  EnsureCurlInitialized();
  CurlPtr curl(curl_easy_init());
  if (curl == nullptr) return InternalError("curl_easy_init failed");
  StringTransfer t;
  t.curl = curl.get();
  t.http = Scheme(url) != "file";
  t.max_bytes = max_bytes;
  char errbuf[CURL_ERROR_SIZE];
  SetCommonOptions(t.curl, url, errbuf, std::min(timeout_s, 10));
  curl_easy_setopt(t.curl, CURLOPT_TIMEOUT, static_cast<long>(timeout_s));
  curl_easy_setopt(t.curl, CURLOPT_WRITEFUNCTION, &OnStringBody);
  curl_easy_setopt(t.curl, CURLOPT_WRITEDATA, &t);
  errbuf[0] = '\0';
  CURLcode rc = curl_easy_perform(t.curl);

  if (t.too_large) {
    return ResourceExhaustedError(
        StrFormat("%s: document is larger than %zu bytes", url.c_str(), max_bytes),
        "fetch.too_large");
  }
  long code = ResponseCode(t.curl);  // NOLINT(runtime/int)
  if (t.bad_status || (rc == CURLE_OK && t.http && code != 200)) return HttpStatusError(url, code);
  if (rc != CURLE_OK) return CurlError(url, rc, errbuf);
  return std::move(t.body);
}

// ---- FormatProgress -------------------------------------------------------------------

namespace {

// "512 B", "123.4 MiB": binary units, one decimal above bytes.
std::string FormatAmount(double bytes) {
  static const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  if (bytes < 1023.5) return StrFormat("%.0f B", bytes);
  double v = bytes / 1024.0;
  int unit = 0;
  while (v >= 1023.95 && unit < 4) {  // 1023.96 would print as "1024.0"
    v /= 1024.0;
    ++unit;
  }
  return StrFormat("%.1f %s", v, kUnits[unit]);
}

}  // namespace

std::string FormatProgress(uint64_t done, uint64_t total, double bytes_per_second) {
  std::string line;
  if (total > 0) {
    double pct = std::floor(100.0 * static_cast<double>(done) / static_cast<double>(total));
    line = StrFormat("%4d%%", static_cast<int>(std::clamp(pct, 0.0, 100.0)));
  }
  line += "  " + FormatAmount(static_cast<double>(done));
  if (total > 0) line += " / " + FormatAmount(static_cast<double>(total));
  if (!std::isfinite(bytes_per_second) || bytes_per_second < 0) bytes_per_second = 0;
  line += "  " + FormatAmount(bytes_per_second) + "/s";
  return line;
}

}  // namespace hearth::deploy
