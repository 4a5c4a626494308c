#include "server/http/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <optional>
#include <system_error>
#include <vector>

#include "base/strings.h"

namespace hearth::server {
namespace {

using Clock = std::chrono::steady_clock;
constexpr size_t npos = std::string::npos;

// After its last response a closing connection reads (and discards) what the
// client still sends for up to this long: closing a socket with unread input
// resets the connection, which can destroy the response before the client has
// read it (e.g. a 413 while the client is still uploading).
constexpr int kLingerMs = 1000;
// Refused (503) connections the accept thread lingers over at once; more are closed at once.
constexpr size_t kMaxLingering = 64;
constexpr size_t kReadChunk = 16 << 10;

int RemainingMs(Clock::time_point deadline) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return ms <= 0 ? 0 : ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

Clock::time_point After(int ms) {
  return Clock::now() + std::chrono::milliseconds(ms);
}

enum class ReadResult { kData, kEof, kTimeout, kWoken, kError };

// Appends what `fd` delivers to *buf, waiting until `deadline`. When `wake_fd`
// is >= 0 and becomes readable (Shutdown began), returns kWoken instead.
ReadResult ReadMore(int fd, std::string* buf, Clock::time_point deadline, int wake_fd) {
  for (;;) {
    pollfd p[2] = {{fd, POLLIN, 0}, {wake_fd, POLLIN, 0}};
    int r = poll(p, wake_fd >= 0 ? 2 : 1, RemainingMs(deadline));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return ReadResult::kError;
    if (r == 0) return ReadResult::kTimeout;
    if (wake_fd >= 0 && p[1].revents != 0) return ReadResult::kWoken;
    char tmp[kReadChunk];
    ssize_t n = recv(fd, tmp, sizeof tmp, MSG_DONTWAIT);
    if (n > 0) {
      buf->append(tmp, static_cast<size_t>(n));
      return ReadResult::kData;
    }
    if (n == 0) return ReadResult::kEof;
    if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) return ReadResult::kError;
  }
}

// Writes all `parts` in order with as few syscalls as possible. Fails when the
// peer is gone or no byte could be written for `timeout_ms`.
bool WriteAll(int fd, std::initializer_list<std::string_view> parts, int timeout_ms) {
  iovec iov[4];
  size_t n = 0;
  HEARTH_CHECK(parts.size() <= 4);
  for (std::string_view p : parts)
    if (!p.empty()) iov[n++] = {const_cast<char*>(p.data()), p.size()};
  size_t i = 0;
  while (i < n) {
    msghdr msg{};
    msg.msg_iov = iov + i;
    msg.msg_iovlen = n - i;
    ssize_t w = sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      pollfd p{fd, POLLOUT, 0};
      int r = poll(&p, 1, timeout_ms);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;  // no progress for timeout_ms: a stalled reader
      continue;                  // writable, or an error the next sendmsg reports
    }
    size_t left = static_cast<size_t>(w);
    while (i < n && left >= iov[i].iov_len) left -= iov[i++].iov_len;
    if (i < n) {
      iov[i].iov_base = static_cast<char*>(iov[i].iov_base) + left;
      iov[i].iov_len -= left;
    }
  }
  return true;
}

// A complete error response from the transport itself, closing the connection.
std::string TransportError(int status, std::string_view message, std::string_view extra = {}) {
  std::string body = ErrorBody(ErrorCodeForStatus(status), message,
                               status >= 500 ? "server_error" : "invalid_request_error");
  std::string_view phrase = ReasonPhrase(status);
  return StrFormat(
             "HTTP/1.1 %d %.*s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
             "Connection: close\r\n%.*s\r\n",
             status, static_cast<int>(phrase.size()), phrase.data(), body.size(),
             static_cast<int>(extra.size()), extra.data()) +
         body;
}

// Half-closes, then discards input until the client closes or kLingerMs pass
// (or, once Shutdown began, until nothing more is pending).
void LingerBeforeClose(int fd, int wake_fd) {
  shutdown(fd, SHUT_WR);
  Clock::time_point deadline = After(kLingerMs);
  std::string sink;
  ReadResult r;
  do {
    sink.clear();
    r = ReadMore(fd, &sink, deadline, wake_fd);
  } while (r == ReadResult::kData);
  char tmp[4096];
  if (r == ReadResult::kWoken)
    while (recv(fd, tmp, sizeof tmp, MSG_DONTWAIT) > 0) {
    }
}

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool SafeHeaderText(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == npos;
}

// "1.2.3.4" / "::1" and the port of a peer; IPv4-mapped IPv6 addresses as IPv4.
void FormatPeer(const sockaddr_storage& addr, std::string* ip, int* port) {
  char buf[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
    *port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
      inet_ntop(AF_INET, &a->sin6_addr.s6_addr[12], buf, sizeof buf);
    } else {
      inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
    }
    *port = ntohs(a->sin6_port);
  }
  *ip = buf;
}

// Reads the body `head` announces into *body, leaving what follows it (a
// pipelined request) in *in. Returns 0, the status to refuse the request with
// (message in *message), or -1 when the client went away.
int ReadBody(int fd, const ParsedHead& head, const HttpServerOptions& opt, std::string* in,
             std::string* body, std::string* message) {
  if (head.body_kind == BodyKind::kNone) return 0;
  bool by_length = head.body_kind == BodyKind::kContentLength;
  if (by_length && head.content_length > opt.max_body_bytes) {
    *message = StrFormat("request body of %llu bytes exceeds the limit of %zu bytes",
                         static_cast<unsigned long long>(head.content_length), opt.max_body_bytes);
    return 413;
  }
  // The client waits for this before sending the body; a failed write shows up as a failed read.
  if (head.expect_continue) WriteAll(fd, {"HTTP/1.1 100 Continue\r\n\r\n"}, opt.write_timeout_ms);
  ChunkedDecoder decoder(opt.max_body_bytes);
  for (;;) {
    if (by_length && in->size() >= head.content_length) {
      body->assign(*in, 0, head.content_length);
      in->erase(0, head.content_length);
      return 0;
    }
    if (!by_length) {
      Result<size_t> used = decoder.Feed(*in, body);
      if (!used.ok()) {
        *message = used.status().message();
        return HttpStatusForError(used.status());
      }
      in->erase(0, *used);
      if (decoder.done()) return 0;
    }
    ReadResult r = ReadMore(fd, in, After(opt.body_timeout_ms), -1);
    if (r == ReadResult::kTimeout) {
      *message = "the request body stopped arriving";
      return 408;
    }
    if (r != ReadResult::kData) return -1;
  }
}

// A listening, non-blocking (accept() must never wait for a connection that
// went away) socket bound to `ai`; `where` names it in errors.
Result<int> Listen(const addrinfo& ai, const std::string& where) {
  int fd = socket(ai.ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const char* step = nullptr;
  int one = 1;
  if (fd < 0) {
    step = "creating a socket for";
  } else if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) {
    step = "setting SO_REUSEADDR on";
  } else if (bind(fd, ai.ai_addr, ai.ai_addrlen) != 0) {
    step = "binding";
  } else if (listen(fd, 128) != 0) {
    step = "listening on";
  } else if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
    step = "configuring";
  }
  if (step == nullptr) return fd;
  int err = errno;
  if (fd >= 0) close(fd);
  Status s = ErrnoError(std::string(step) + " " + where, err);
  return Status(s.code(), s.message(), "http.bind_failed");
}

}  // namespace

// ---------------------------------------------------------------- HttpResponder

HttpResponder::HttpResponder(int fd, const ParsedHead& request, int write_timeout_ms,
                             const std::atomic<bool>* stopping)
    : fd_(fd),
      head_only_(request.method == "HEAD"),
      chunked_(request.version_minor >= 1),
      keep_alive_(request.keep_alive),
      write_timeout_ms_(write_timeout_ms),
      stopping_(stopping) {}

std::string HttpResponder::Head(int status, std::string_view content_type,
                                const HeaderList& headers, std::string_view framing) {
  if (stopping_ != nullptr && stopping_->load()) keep_alive_ = false;
  std::string extra;
  for (const auto& h : headers) {
    if (h.first.empty() || !SafeHeaderText(h.first) || h.first.find(':') != npos ||
        !SafeHeaderText(h.second))
      continue;
    std::string name = LowerAscii(h.first);
    if (name == "connection" && LowerAscii(h.second).find("close") != npos) keep_alive_ = false;
    if (name == "connection" || name == "content-length" || name == "transfer-encoding") continue;
    extra += h.first + ": " + h.second + "\r\n";
  }
  std::string_view phrase = ReasonPhrase(status);
  std::string out =
      StrFormat("HTTP/1.1 %d %.*s\r\n", status, static_cast<int>(phrase.size()), phrase.data());
  if (!content_type.empty() && SafeHeaderText(content_type))
    out.append("Content-Type: ").append(content_type).append("\r\n");
  out.append(framing).append(extra);
  if (!keep_alive_) {
    out += "Connection: close\r\n";
  } else if (!chunked_) {
    out += "Connection: keep-alive\r\n";  // an HTTP/1.0 client asked for it
  }
  out += "\r\n";
  return out;
}

bool HttpResponder::Write(std::initializer_list<std::string_view> parts, int timeout_ms) {
  if (broken_) return false;
  if (!WriteAll(fd_, parts, timeout_ms)) broken_ = true;
  return !broken_;
}

bool HttpResponder::Send(int status, std::string_view content_type, std::string_view body,
                         const HeaderList& headers) {
  if (started_) return false;
  started_ = true;
  bool no_body = status < 200 || status == 204 || status == 304;  // RFC 9110 §6.4.1
  std::string head = Head(status, content_type, headers,
                          no_body ? "" : StrFormat("Content-Length: %zu\r\n", body.size()));
  complete_ = Write({head, head_only_ || no_body ? std::string_view() : body}, write_timeout_ms_);
  return complete_;
}

bool HttpResponder::StartStream(int status, std::string_view content_type,
                                const HeaderList& headers) {
  if (started_) return false;
  started_ = streaming_ = true;
  if (!chunked_) keep_alive_ = false;  // HTTP/1.0: the end of the body is the close
  return Write(
      {Head(status, content_type, headers, chunked_ ? "Transfer-Encoding: chunked\r\n" : "")},
      write_timeout_ms_);
}

bool HttpResponder::WriteChunk(std::string_view data, int timeout_ms) {
  if (!streaming_ || ended_ || broken_) return false;
  if (data.empty() || head_only_) return true;
  if (!chunked_) return Write({data}, timeout_ms);
  char size_line[24];
  snprintf(size_line, sizeof size_line, "%zx\r\n", data.size());
  return Write({size_line, data, "\r\n"}, timeout_ms);
}

bool HttpResponder::End() {
  if (!streaming_ || ended_ || broken_) return false;
  ended_ = true;
  complete_ = head_only_ || !chunked_ || Write({"0\r\n\r\n"}, write_timeout_ms_);
  return complete_;
}

bool HttpResponder::ClientGone() const {
  if (broken_) return true;
#ifdef POLLRDHUP
  pollfd p{fd_, POLLRDHUP, 0};
  if (poll(&p, 1, 0) <= 0) return false;
  return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
#else
  char c;
  ssize_t n = recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
#endif
}

size_t HttpResponder::UnsentBytes() const {
  int queued = 0;
  if (::ioctl(fd_, SIOCOUTQ, &queued) != 0 || queued < 0) return 0;
  return static_cast<size_t>(queued);
}

// ---------------------------------------------------------------- HttpServer

struct HttpServer::Connection {
  int fd = -1;            // -1 once closed; guarded by HttpServer::mu_
  bool finished = false;  // guarded by HttpServer::mu_
  uint64_t id = 0;
  std::string peer_ip;
  int peer_port = 0;
  std::thread thread;
};

HttpServer::HttpServer(HttpServerOptions options, HttpHandler handler)
    : options_(std::move(options)), handler_(std::move(handler)) {}

HttpServer::~HttpServer() {
  Shutdown(0);
}

Result<std::unique_ptr<HttpServer>> HttpServer::Start(HttpServerOptions options,
                                                      HttpHandler handler) {
  if (!handler) return InvalidArgumentError("the HTTP server needs a handler", "http.bad_options");
  if (options.port < 0 || options.port > 65535 || options.max_connections < 1)
    return InvalidArgumentError("bad HTTP server port or max_connections", "http.bad_options");
  std::string host = options.host == "localhost" ? "127.0.0.1" : options.host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::string where =
      StrFormat(host.find(':') != npos ? "[%s]:%d" : "%s:%d", host.c_str(), options.port);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV;
  addrinfo* addr = nullptr;
  int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), std::to_string(options.port).c_str(),
                       &hints, &addr);
  if (rc != 0)
    return InvalidArgumentError(
        StrFormat("bad listen address '%s': %s", options.host.c_str(), gai_strerror(rc)),
        "http.bad_address");

  Result<int> fd = Listen(*addr, where);
  freeaddrinfo(addr);
  if (!fd.ok()) return fd.status();
  std::unique_ptr<HttpServer> server(new HttpServer(std::move(options), std::move(handler)));
  server->listen_fd_ = *fd;  // closed by the accept thread, or by Shutdown if it never ran
  sockaddr_storage bound{};
  socklen_t bound_len = sizeof bound;
  if (getsockname(*fd, reinterpret_cast<sockaddr*>(&bound), &bound_len) != 0)
    return ErrnoError("reading the address of " + where, errno);
  int wake[2];
  if (pipe(wake) != 0) return ErrnoError("creating the wake pipe of " + where, errno);
  for (int w : wake) fcntl(w, F_SETFD, FD_CLOEXEC);
  std::string ignored_ip;
  FormatPeer(bound, &ignored_ip, &server->port_);
  server->wake_read_ = wake[0];
  server->wake_write_ = wake[1];
  HttpServer* s = server.get();
  server->accept_thread_ = std::thread([s] { s->AcceptLoop(); });
  return server;
}

void HttpServer::AcceptLoop() {
  // Connections refused with 503, read from until they close (see kLingerMs).
  struct Lingering {
    int fd;
    Clock::time_point deadline;
  };
  std::vector<Lingering> lingering;
  std::vector<pollfd> fds;
  const std::string overloaded =
      TransportError(503, "too many open connections; retry later", "Retry-After: 1\r\n");
  for (;;) {
    fds.assign({{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}});
    int timeout_ms = 1000;  // also reaps finished connection threads now and then
    for (const Lingering& l : lingering) {
      fds.push_back({l.fd, POLLIN, 0});
      timeout_ms = std::min(timeout_ms, RemainingMs(l.deadline));
    }
    if (poll(fds.data(), fds.size(), timeout_ms) < 0 && errno != EINTR) break;
    if (fds[1].revents != 0) break;  // Shutdown
    for (size_t i = lingering.size(); i-- > 0;) {
      bool done = RemainingMs(lingering[i].deadline) == 0;
      if (fds[i + 2].revents != 0) {
        char sink[4096];
        ssize_t n = recv(lingering[i].fd, sink, sizeof sink, MSG_DONTWAIT);
        done = done || n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR);
      }
      if (done) {
        close(lingering[i].fd);
        lingering.erase(lingering.begin() + static_cast<ptrdiff_t>(i));
      }
    }
    ReapFinished();
    if ((fds[0].revents & POLLIN) == 0) continue;

    sockaddr_storage peer{};
    socklen_t peer_len = sizeof peer;
    int fd = accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &peer_len, SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors or memory: back off instead of spinning on a readable listener.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
        poll(nullptr, 0, 50);
      continue;
    }
    int one = 1;  // streamed text must leave at once
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    bool spawned = false;
    if (active_.load() < static_cast<size_t>(options_.max_connections)) {
      auto conn = std::make_unique<Connection>();
      conn->fd = fd;
      conn->id = ++next_connection_id_;
      FormatPeer(peer, &conn->peer_ip, &conn->peer_port);
      Connection* raw = conn.get();
      std::lock_guard<std::mutex> lock(mu_);
      conns_.push_back(std::move(conn));
      ++active_;
      try {
        raw->thread = std::thread([this, raw] { Serve(raw); });
        spawned = true;
      } catch (const std::system_error&) {  // no thread for it: refuse like an overload
        conns_.pop_back();
        --active_;
      }
    }
    if (spawned) continue;
    WriteAll(fd, {overloaded}, 0);  // fits an empty socket buffer; never waits
    shutdown(fd, SHUT_WR);
    if (lingering.size() < kMaxLingering) {
      lingering.push_back({fd, After(kLingerMs)});
    } else {
      close(fd);
    }
  }
  close(listen_fd_);
  listen_fd_ = -1;
  for (const Lingering& l : lingering) close(l.fd);
}

void HttpServer::Serve(Connection* conn) {
  const int fd = conn->fd;  // only this thread closes it
  const HttpServerOptions& opt = options_;
  std::string in;       // received bytes not consumed yet
  bool linger = false;  // a response went out: linger before closing
  for (bool first = true; !stopping_.load(); first = false) {
    // The head. Until its first byte the wait is idle (Shutdown ends it, and
    // its timeout closes quietly); then the head has a deadline.
    Clock::time_point idle_deadline = After(first ? opt.header_timeout_ms : opt.idle_timeout_ms);
    Clock::time_point head_deadline;
    bool started = false;
    size_t head_end = npos, scan_from = 0;
    int error = 0;
    std::string message;
    for (;;) {
      if (!started) {  // empty lines before a request line are ignored (RFC 9112 §2.2)
        in.erase(0, std::min(in.find_first_not_of("\r\n"), in.size()));
        started = !in.empty();
        head_deadline = first ? idle_deadline : After(opt.header_timeout_ms);
      }
      if (started) {
        head_end = FindHeadEnd(in, scan_from);
        if (head_end != npos || in.size() > opt.max_header_bytes) break;
        scan_from = in.size() >= 3 ? in.size() - 3 : 0;
      }
      ReadResult r = started ? ReadMore(fd, &in, head_deadline, -1)
                             : ReadMore(fd, &in, idle_deadline, wake_read_);
      if (r == ReadResult::kData) continue;
      if (r == ReadResult::kTimeout && started) {
        error = 408;
        message = "the request head did not arrive in time";
      }
      break;
    }
    if (error == 0 && (head_end == npos ? in.size() : head_end) > opt.max_header_bytes) {
      error = 431;
      message = StrFormat("the request head exceeds %zu bytes", opt.max_header_bytes);
    }
    if (error == 0 && head_end == npos) break;  // closed, idle timeout or Shutdown: no answer

    std::optional<ParsedHead> head;
    if (error == 0) {
      Result<ParsedHead> parsed = ParseRequestHead(std::string_view(in).substr(0, head_end));
      in.erase(0, head_end);
      if (parsed.ok()) {
        head = std::move(*parsed);
      } else {
        error = HttpStatusForError(parsed.status());
        message = parsed.status().message();
      }
    }
    std::string body;
    if (error == 0) error = ReadBody(fd, *head, opt, &in, &body, &message);
    if (error < 0) break;  // the client left mid-body
    if (error > 0) {
      linger = WriteAll(fd, {TransportError(error, message)}, opt.write_timeout_ms);
      break;
    }

    HttpRequest request;
    static_cast<ParsedHead&>(request) = std::move(*head);
    request.body = std::move(body);
    request.peer_ip = conn->peer_ip;
    request.peer_port = conn->peer_port;
    request.connection_id = conn->id;
    HttpResponder responder(fd, request, opt.write_timeout_ms, &stopping_);
    bool threw = false;
    try {  // Hearth code throws nothing, but one failing handler must not end the process
      handler_(request, responder);
    } catch (...) {
      threw = true;
    }
    if (!responder.sent())
      responder.Send(500, "application/json",
                     ErrorBody("generation_failed",
                               threw ? "the request handler failed"
                                     : "the request handler produced no response",
                               "server_error"),
                     {{"Connection", threw ? "close" : "keep-alive"}});
    if (!responder.keep_alive()) {
      linger = responder.complete();
      break;
    }
  }

  if (linger) LingerBeforeClose(fd, wake_read_);
  {
    std::lock_guard<std::mutex> lock(mu_);
    close(conn->fd);
    conn->fd = -1;
    conn->finished = true;
    --active_;
  }
  idle_cv_.notify_all();
}

void HttpServer::ReapFinished() {
  std::list<std::unique_ptr<Connection>> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = conns_.begin(); it != conns_.end();) {
      auto next = std::next(it);
      if ((*it)->finished) done.splice(done.end(), conns_, it);
      it = next;
    }
  }
  for (auto& c : done) c->thread.join();
}

void HttpServer::Shutdown(int drain_ms) {
  std::lock_guard<std::mutex> once(shutdown_mu_);
  if (shut_down_) return;
  shut_down_ = true;
  stopping_ = true;
  if (wake_write_ >= 0) {  // stays readable: wakes the accept thread and every idle connection
    char byte = 1;
    if (write(wake_write_, &byte, 1) < 0) {
      // Cannot happen with an empty pipe; idle connections would then end by their timeouts.
    }
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  if (listen_fd_ >= 0) close(listen_fd_);
  listen_fd_ = -1;
  std::list<std::unique_ptr<Connection>> conns;
  {
    std::unique_lock<std::mutex> lock(mu_);
    idle_cv_.wait_for(lock, std::chrono::milliseconds(std::max(drain_ms, 0)),
                      [this] { return active_.load() == 0; });
    // Past the drain: fail their reads and writes so that their handlers return.
    for (auto& c : conns_)
      if (c->fd >= 0) shutdown(c->fd, SHUT_RDWR);
    conns.swap(conns_);
  }
  for (auto& c : conns) c->thread.join();
  for (int* w : {&wake_read_, &wake_write_}) {
    if (*w >= 0) close(*w);
    *w = -1;
  }
}

}  // namespace hearth::server
