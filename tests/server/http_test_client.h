// A small blocking HTTP/1.1 client for the server tests: whole requests, and
// streamed responses read chunk by chunk (or not read at all, to play a slow
// or vanished client).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace hearth::server::testing {

struct HttpResult {
  int status = 0;                                            // 0: no response (connection failed)
  std::vector<std::pair<std::string, std::string>> headers;  // lower-case names
  std::string body;                                          // de-chunked
  std::string Header(const std::string& lower) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

HttpResult Request(int port, const std::string& method, const std::string& target,
                   const std::string& body = "", const Headers& headers = {},
                   int timeout_ms = 30000);

// One connection whose response is read incrementally.
class StreamConn {
 public:
  // rcvbuf > 0 sets SO_RCVBUF (small: a reader whose socket fills up quickly).
  StreamConn(int port, int rcvbuf = 0);
  ~StreamConn();
  bool Send(const std::string& method, const std::string& target, const std::string& body,
            const Headers& headers = {});
  // Reads the status line and headers.
  bool ReadHead(int timeout_ms = 30000);
  int status() const { return status_; }
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }
  // The next piece of the de-chunked body; "" at the end (done() then true) or on timeout.
  std::string ReadSome(int timeout_ms = 30000);
  // Everything until the end of the response.
  std::string ReadAll(int timeout_ms = 30000);
  bool done() const { return done_; }
  void Close();

 private:
  bool Fill(int timeout_ms);  // more raw bytes into buf_
  int fd_ = -1;
  std::string buf_;
  int status_ = 0;
  std::vector<std::pair<std::string, std::string>> headers_;
  bool chunked_ = false, done_ = false;
  long long remaining_ = -1;  // content-length body left, or chunk bytes left
};

}  // namespace hearth::server::testing
