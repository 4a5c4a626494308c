// A tiny HTTP/1.1 static file server for tests of the download path.
//
// Plain POSIX sockets, bound to 127.0.0.1 on an ephemeral port, serving the
// files under one root directory from a background thread. It handles one
// connection at a time (every response ends with "Connection: close"), which
// is all a single-client download test needs and keeps the request log in
// order. Tests can make it drop a response midway or answer with a forced
// status, and can read back what each request asked for.
//
// Supported: GET and HEAD; "%XX" decoding; single ranges "bytes=N-" and
// "bytes=N-M" (206 with Content-Range, 416 with "Content-Range: bytes */SIZE"
// when N is past the end). Paths with a ".." segment get 400, directories
// 403, missing files 404, other methods 405.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/status.h"

namespace hearth::testing {

// One request as the server saw and answered it.
struct HttpRequestRecord {
  std::string method, path, range_header;  // path as sent (not decoded); range_header "" if none
  int status = 0;
  uint64_t body_bytes_sent = 0;  // body bytes handed to the socket
};

class StaticHttpServer {
 public:
  struct Options {
    std::string root;           // directory served at "/"
    bool support_range = true;  // false: ignore Range headers and always answer 200
  };

  static Result<std::unique_ptr<StaticHttpServer>> Start(Options options);
  ~StaticHttpServer();  // stops the server and joins its thread; never blocks for long
  StaticHttpServer(const StaticHttpServer&) = delete;
  StaticHttpServer& operator=(const StaticHttpServer&) = delete;

  int port() const { return port_; }
  std::string url() const;  // "http://127.0.0.1:<port>"

  // The next GET of `path` (URL path, e.g. "/bundles/x.tar") that sends a body sends the
  // headers and only the first `bytes` bytes of the body, then closes the connection (the
  // client sees fewer bytes than Content-Length promised, like a dropped download).
  void CutNextResponse(const std::string& path, uint64_t bytes);
  // Makes every response to `path` this status with an empty body (e.g. 500), until
  // cleared with 0.
  void ForceStatus(const std::string& path, int status);
  // Every request so far, oldest first. A request is logged before its response is sent.
  std::vector<HttpRequestRecord> requests() const;

 private:
  StaticHttpServer(Options options, int listen_fd, int wake_read, int wake_write, int port);
  void Serve();
  void HandleConnection(int fd);
  // Waits until `fd` is ready for `events`; false on stop or timeout.
  bool WaitFor(int fd, short events, int timeout_ms) const;  // NOLINT(runtime/int): poll's type
  // Sends as much of `data` as the client takes; returns the count sent.
  size_t SendAll(int fd, const char* data, size_t size);
  void AddBodyBytes(size_t record_index, int64_t delta);

  const Options options_;
  const int listen_fd_, wake_read_, wake_write_, port_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;

  mutable std::mutex mu_;
  std::vector<HttpRequestRecord> requests_;
  std::map<std::string, uint64_t> cuts_;
  std::map<std::string, int> forced_;
};

}  // namespace hearth::testing
