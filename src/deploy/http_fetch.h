// HTTP(S) downloads for the update agent, with resume (libcurl underneath).
//
// Model bundles are hundreds of MB to GB and come from any static origin
// (nginx, S3, a CDN), so a download goes to a "part" file that survives an
// interruption: the next call asks for the missing tail with a Range request
// and appends. Verification (hash, signature) and the final rename are the
// caller's job; this layer only moves bytes and names what went wrong.
//
// Error reasons (Status::reason()):
//   "fetch.not_found"    404/410, or a missing file:// path      (kNotFound)
//   "fetch.http_status"  any other unexpected status; the message names the URL and status
//   "fetch.network"      connect refused, reset, stall, timeout, TLS; names the URL and
//                        libcurl's error text                    (kUnavailable)
//   "fetch.too_large"    the body exceeds expected_size / max_bytes (kResourceExhausted)
//   os.*                 the local part file could not be opened, written or synced
//                        (ErrnoError; a full disk names the file)
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "base/status.h"

namespace hearth::deploy {

struct FetchOptions {
  // When known (from a signed channel file): bodies that would make the part file larger than
  // this are refused ("fetch.too_large"), and it is reported as the progress total.
  uint64_t expected_size = 0;
  int connect_timeout_s = 10;
  // Abort an attempt when it receives less than 1 byte/s for this long.
  int stall_timeout_s = 30;
  // Attempts per call; each retry resumes from the current part size. Network errors and
  // 5xx/408/429 answers are retried; 404, other 4xx and local errors are not.
  int max_attempts = 3;
  // Progress: bytes in the part file so far, and the total (0 if unknown). Called at most
  // ~10 times a second and once at the end. May be empty. `done` drops back to 0 if the
  // server ignores a Range request and the download restarts.
  std::function<void(uint64_t done, uint64_t total)> on_progress;
};

// Downloads `url` into `part_path`, appending. If part_path already holds N bytes it sends
// "Range: bytes=N-" and appends the 206 body; a 200 answer (no range support) truncates
// part_path and restarts from 0. A 416 answer with a part file that is already complete
// (its size equals expected_size, or the server's "Content-Range: bytes */SIZE") is
// success. Between attempts it waits 0.5 s, 1 s, 2 s, ... . The part file is fsynced at
// the end. Returns the final size of part_path.
//
// Supports http://, https:// and file:// (a file:// download always restarts from 0).
// Redirects are followed (at most 5, and only to http/https).
Result<uint64_t> FetchToFile(const std::string& url, const std::string& part_path,
                             const FetchOptions& options);

// GETs a small document (a channel file, a signature) into memory in one attempt. Bodies
// larger than max_bytes are refused ("fetch.too_large") without being buffered. `timeout_s`
// bounds the whole transfer. Same error reasons as FetchToFile.
Result<std::string> FetchToString(const std::string& url, size_t max_bytes, int timeout_s = 30);

// One line for a terminal progress display:
//   "  42%  123.4 MiB / 600.0 MiB  18.2 MiB/s"
// Without a total (0) the percent and " / total" are omitted: "  123.4 MiB  18.2 MiB/s".
// Pure function.
std::string FormatProgress(uint64_t done, uint64_t total, double bytes_per_second);

}  // namespace hearth::deploy
