// The HTTP/1.1 transport of the server (DESIGN §6): a listener, one thread per
// connection, keep-alive, request framing and limits, and streamed responses.
//
//   auto server = HttpServer::Start(options, [](const HttpRequest& req, HttpResponder& out) {
//     out.Send(200, "application/json", "{\"ok\":true}");
//   });
//   ...
//   (*server)->Shutdown(/*drain_ms=*/5000);
//
// Each connection has its own thread with blocking sockets and poll() timeouts,
// and the handler runs on it: a handler may stream for minutes, and a slow or
// stalled client only ever holds its own thread. Connections beyond
// max_connections are answered 503 (`overloaded`) and closed.
//
// The transport answers by itself, with the JSON envelope of ErrorBody() and
// then closing the connection: malformed heads 400, unsupported HTTP versions
// 505, unsupported transfer codings 501, heads over max_header_bytes or
// kMaxHeaderCount fields 431, bodies over max_body_bytes 413 (before reading
// them, and without "100 Continue"), heads or bodies that stop arriving 408.
// Request bodies come by Content-Length or chunked (decoded, same limit).
// Requests with "Expect: 100-continue" get "HTTP/1.1 100 Continue" before their
// body is read. POSIX sockets only; IPv4 and IPv6 literals.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "base/status.h"
#include "server/http/http_parse.h"

namespace hearth::server {

// One request, with its whole body, as given to the handler.
struct HttpRequest : ParsedHead {
  std::string body;
  std::string peer_ip;  // "127.0.0.1", "::1" (IPv4-mapped addresses shown as IPv4)
  int peer_port = 0;
  uint64_t connection_id = 0;  // 1, 2, ... per server; equal for keep-alive requests
};

// Writes the response to one request, on the connection's thread. Exactly one
// of Send() or StartStream() (then WriteChunk()* and End()). Not thread-safe,
// except ClientGone(), which any thread may call while the handler runs.
class HttpResponder {
 public:
  // For the transport (and for tests with a socketpair): responds on `fd` to
  // `request`, whose method (HEAD: no body), version (1.0: no chunked coding)
  // and keep_alive shape the response. While *stopping is true, responses say
  // "Connection: close".
  HttpResponder(int fd, const ParsedHead& request, int write_timeout_ms,
                const std::atomic<bool>* stopping = nullptr);
  HttpResponder(const HttpResponder&) = delete;
  HttpResponder& operator=(const HttpResponder&) = delete;

  // A complete response with Content-Length. `headers` are extra fields; those
  // the transport owns (Content-Length, Transfer-Encoding, Connection) and any
  // with CR, LF or NUL are dropped ("Connection: close" is honoured). Returns
  // false when a response was already started or the client did not accept
  // the bytes within write_timeout_ms of no progress.
  bool Send(int status, std::string_view content_type, std::string_view body,
            const HeaderList& headers = {});

  // Streaming: the status line and headers now (Transfer-Encoding: chunked;
  // for an HTTP/1.0 client raw bytes delimited by closing the connection).
  bool StartStream(int status, std::string_view content_type, const HeaderList& headers = {});
  // Writes one chunk (empty data writes nothing), waiting at most `timeout_ms`
  // without progress for the client to accept the bytes. False when the client
  // is gone or stalled; the caller then cancels its work. Every later write
  // fails too.
  bool WriteChunk(std::string_view data, int timeout_ms);
  // The final zero-size chunk. Keep-alive continues only after a successful End().
  bool End();

  // True when the peer closed, half-closed or reset the connection, or a write
  // failed. Cheap and non-blocking (poll with POLLRDHUP). A client that shuts
  // down its sending side while waiting for the response counts as gone.
  bool ClientGone() const;

  // Bytes written but not yet taken by the client (the socket's send queue,
  // SIOCOUTQ). A queue that stays non-empty without shrinking means a client
  // that has stopped reading, even while our writes still fit the buffers.
  size_t UnsentBytes() const;
  bool sent() const { return started_; }  // Send() or StartStream() was called
  // The response went out whole (Send() succeeded, or End() did).
  bool complete() const { return complete_; }
  // The connection may carry another request after this response.
  bool keep_alive() const { return keep_alive_ && complete_ && !broken_; }

 private:
  // The status line and header section, ending with the empty line.
  std::string Head(int status, std::string_view content_type, const HeaderList& headers,
                   std::string_view framing);
  // Writes all parts in order; marks the responder broken on failure.
  bool Write(std::initializer_list<std::string_view> parts, int timeout_ms);

  int fd_;
  bool head_only_;  // a HEAD request: headers without body
  bool chunked_;    // HTTP/1.1 client: streams use the chunked coding
  bool keep_alive_;
  int write_timeout_ms_;
  const std::atomic<bool>* stopping_;
  bool started_ = false, streaming_ = false, ended_ = false, complete_ = false;
  std::atomic<bool> broken_{false};
};

using HttpHandler = std::function<void(const HttpRequest&, HttpResponder&)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // IPv4/IPv6 literal ("::1", "[::1]", "0.0.0.0") or "localhost"
  int port = 8080;                 // 0: an ephemeral port, see HttpServer::port()
  size_t max_body_bytes = 1 << 20;
  size_t max_header_bytes = 16 << 10;  // request line + header fields + empty line
  int max_connections = 64;            // open connections; more are answered 503
  int header_timeout_ms = 10000;       // a head must complete this soon after its first byte
                                       // (for a new connection: after accept)
  int body_timeout_ms = 10000;         // longest pause while a request body arrives
  int idle_timeout_ms = 30000;         // keep-alive wait for the next request
  int write_timeout_ms = 10000;        // longest stall while Send() writes
};

class HttpServer {
 public:
  // Binds (SO_REUSEADDR), listens and starts the accept thread.
  static Result<std::unique_ptr<HttpServer>> Start(HttpServerOptions options, HttpHandler handler);
  ~HttpServer();  // Shutdown(0)
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }  // the bound port
  const HttpServerOptions& options() const { return options_; }
  size_t active_connections() const { return active_.load(); }

  // Stops accepting, closes idle keep-alive connections, lets requests in
  // progress finish for up to drain_ms, then shuts the remaining sockets down
  // (their writes fail, ClientGone() turns true) and joins every thread, so it
  // returns once the handlers have returned. Idempotent. Must not be called
  // from a handler.
  void Shutdown(int drain_ms);

 private:
  struct Connection;
  HttpServer(HttpServerOptions options, HttpHandler handler);
  void AcceptLoop();
  // Runs one connection to its end on its own thread.
  void Serve(Connection* conn);
  // Joins and forgets connections whose thread has finished.
  void ReapFinished();

  HttpServerOptions options_;
  HttpHandler handler_;
  int listen_fd_ = -1;
  int wake_read_ = -1, wake_write_ = -1;  // readable once Shutdown began
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> active_{0};
  uint64_t next_connection_id_ = 0;  // accept thread only
  std::thread accept_thread_;

  std::mutex mu_;                    // guards conns_ and each Connection::fd
  std::condition_variable idle_cv_;  // signalled when a connection ends
  std::list<std::unique_ptr<Connection>> conns_;

  std::mutex shutdown_mu_;
  bool shut_down_ = false;
};

}  // namespace hearth::server
