// The HTTP transport over real loopback sockets: round trips, keep-alive,
// limits and the transport's own error answers, streaming, disconnect and
// stall detection, overload, shutdown, and curl as an independent client.
#include "server/http/http_server.h"

#include <gtest/gtest.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <thread>

#include "base/json.h"
#include "base/strings.h"
#include "testing/test_paths.h"

namespace hearth::server {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

int64_t MsSince(Clock::time_point t) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - t).count();
}

struct Response {
  int status = 0;                              // 0: no (complete) response
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::vector<std::string> chunks;  // the data of each chunk of a chunked body
};

// A small blocking HTTP/1.1 client over one connection.
class Client {
 public:
  explicit Client(int port, int rcvbuf = 0, const char* host = "127.0.0.1") {
    addrinfo hints{}, *ai = nullptr;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    if (getaddrinfo(host, std::to_string(port).c_str(), &hints, &ai) != 0) return;
    fd_ = socket(ai->ai_family, SOCK_STREAM, 0);
    if (rcvbuf > 0) setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (connect(fd_, ai->ai_addr, ai->ai_addrlen) != 0) Close();
    freeaddrinfo(ai);
  }
  ~Client() { Close(); }
  bool connected() const { return fd_ >= 0; }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  bool Send(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      data.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  // The status line and header fields of the next (possibly interim 1xx) response.
  bool ReadHead(Response* r, int timeout_ms = 3000) {
    auto deadline = Clock::now() + milliseconds(timeout_ms);
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
      if (!Fill(deadline)) return false;
    std::string head = buf_.substr(0, end + 2);
    buf_.erase(0, end + 4);
    if (head.size() < 12 || !StartsWith(head, "HTTP/1.1 ")) return false;
    r->status = std::stoi(head.substr(9, 3));
    std::string fields = head.substr(head.find("\r\n") + 2);
    for (std::string_view line : StrSplit(fields, '\n')) {
      size_t colon = line.find(':');
      if (colon == std::string_view::npos) continue;
      std::string name(line.substr(0, colon));
      for (char& c : name) c = static_cast<char>(tolower(c));
      r->headers[name] = std::string(StripWhitespace(line.substr(colon + 1)));
    }
    return true;
  }
  // One chunk of a chunked body: its data, "" for the last one.
  bool ReadChunk(std::string* data, int timeout_ms = 3000) {
    auto deadline = Clock::now() + milliseconds(timeout_ms);
    size_t eol;
    while ((eol = buf_.find("\r\n")) == std::string::npos)
      if (!Fill(deadline)) return false;
    size_t size = std::stoul(buf_.substr(0, eol), nullptr, 16);
    while (buf_.size() < eol + 2 + size + 2)
      if (!Fill(deadline)) return false;
    *data = buf_.substr(eol + 2, size);
    buf_.erase(0, eol + 2 + size + 2);
    return true;
  }
  bool ReadBody(Response* r, int timeout_ms = 3000) {
    auto deadline = Clock::now() + milliseconds(timeout_ms);
    auto te = r->headers.find("transfer-encoding");
    if (te != r->headers.end() && te->second == "chunked") {
      for (std::string chunk; ReadChunk(&chunk, timeout_ms);) {
        if (chunk.empty()) return true;
        r->chunks.push_back(chunk);
        r->body += chunk;
      }
      return false;
    }
    if (r->headers.count("content-length") == 0) {  // until the server closes
      while (Fill(deadline)) {
      }
      r->body = std::move(buf_);
      buf_.clear();
      return true;
    }
    size_t length = std::stoul(r->headers["content-length"]);
    while (buf_.size() < length)
      if (!Fill(deadline)) return false;
    r->body = buf_.substr(0, length);
    buf_.erase(0, length);
    return true;
  }
  Response Read(int timeout_ms = 3000) {
    Response r;
    if (!ReadHead(&r, timeout_ms) || !ReadBody(&r, timeout_ms)) r.status = 0;
    return r;
  }
  // True when the server closes the connection (EOF or reset) within timeout_ms.
  bool Closed(int timeout_ms = 3000) {
    auto deadline = Clock::now() + milliseconds(timeout_ms);
    while (Fill(deadline)) {
    }
    return eof_;
  }

 private:
  bool Fill(Clock::time_point deadline) {
    pollfd p{fd_, POLLIN, 0};
    int wait = static_cast<int>(std::max<int64_t>(0, -MsSince(deadline)));
    if (fd_ < 0 || poll(&p, 1, wait) <= 0) return false;
    char tmp[65536];
    ssize_t n = recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) eof_ = true;
    if (n <= 0) return false;
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  bool eof_ = false;
  std::string buf_;
};

std::string ErrorCode(const Response& r) {
  Result<json::Value> v = json::Parse(r.body);
  if (!v.ok() || v->Find("error") == nullptr) return "not an envelope: " + r.body;
  return v->Find("error")->Find("code")->as_string();
}

class HttpServerTest : public ::testing::Test {
 protected:
  void Start(HttpServerOptions options = {}) {
    options.port = 0;
    auto s = HttpServer::Start(options,
                               [this](const HttpRequest& q, HttpResponder& r) { Handle(q, r); });
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = std::move(*s);
    ASSERT_GT(server_->port(), 0);
  }
  int port() const { return server_->port(); }

  void Handle(const HttpRequest& req, HttpResponder& out) {
    const std::string& p = req.path;
    if (p == "/echo") {
      std::string text = StrFormat("%s %s ?%s conn=%llu expect=%d len=%zu\n", req.method.c_str(),
                                   req.decoded_path.c_str(), req.query.c_str(),
                                   static_cast<unsigned long long>(req.connection_id),
                                   req.expect_continue ? 1 : 0, req.body.size());
      out.Send(200, "text/plain", text + req.body, {{"X-Peer", req.peer_ip}});
    } else if (p == "/stream") {
      out.StartStream(200, "text/plain");
      for (int i = 0; i < 5; ++i) out.WriteChunk(StrFormat("token %d\n", i), 1000);
      out.End();
    } else if (p == "/gone") {  // streams until the client leaves, then notes when it saw that
      out.StartStream(200, "text/event-stream");
      out.WriteChunk("first", 1000);
      auto until = Clock::now() + milliseconds(3000);
      while (!out.ClientGone() && Clock::now() < until)
        std::this_thread::sleep_for(milliseconds(2));
      gone_seen_at_ = Clock::now().time_since_epoch().count();
    } else if (p == "/stall") {  // writes until the (non-reading) client stalls the socket
      out.StartStream(200, "application/octet-stream");
      std::string block(64 << 10, 'x');
      for (uint64_t total = 0; total < (512u << 20); total += block.size()) {
        auto t = Clock::now();
        if (!out.WriteChunk(block, 300)) {
          stall_fail_ms_ = MsSince(t);
          break;
        }
        stall_bytes_ = total + block.size();
      }
      stall_done_ = true;
    } else if (p == "/slow") {
      std::this_thread::sleep_for(milliseconds(300));
      out.Send(200, "text/plain", "slow done");
    }
    // Anything else: no response at all.
  }

  std::atomic<int64_t> gone_seen_at_{0};
  std::atomic<int64_t> stall_fail_ms_{-1};
  std::atomic<uint64_t> stall_bytes_{0};
  std::atomic<bool> stall_done_{false};
  std::unique_ptr<HttpServer> server_;  // last: destroyed (and joined) first
};

TEST_F(HttpServerTest, GetAndPostOnOneKeepAliveConnection) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c(port());
  ASSERT_TRUE(c.Send("GET /echo?x=1 HTTP/1.1\r\nHost: t\r\n\r\n"));
  Response get = c.Read();
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "GET /echo ?x=1 conn=1 expect=0 len=0\n");
  EXPECT_EQ(get.headers["content-type"], "text/plain");
  EXPECT_EQ(get.headers["x-peer"], "127.0.0.1");
  EXPECT_EQ(get.headers.count("connection"), 0u);
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello"));
  Response post = c.Read();
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(post.body, "POST /echo ? conn=1 expect=0 len=5\nhello");
  // Pipelined: two requests in one write, two answers in order.
  ASSERT_TRUE(c.Send("GET /echo?a HTTP/1.1\r\n\r\nGET /echo?b HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(c.Read().body, "GET /echo ?a conn=1 expect=0 len=0\n");
  EXPECT_EQ(c.Read().body, "GET /echo ?b conn=1 expect=0 len=0\n");
  // HEAD: the same header fields, no body (the next response follows right after the head).
  ASSERT_TRUE(c.Send("HEAD /echo HTTP/1.1\r\n\r\nGET /echo?c HTTP/1.1\r\n\r\n"));
  Response head;
  ASSERT_TRUE(c.ReadHead(&head));
  EXPECT_EQ(head.headers["content-length"], "35");  // "HEAD /echo ? conn=1 ..."
  EXPECT_EQ(c.Read().body, "GET /echo ?c conn=1 expect=0 len=0\n");
  EXPECT_EQ(server_->active_connections(), 1u);
}

TEST_F(HttpServerTest, ConnectionCloseAndHttp10AreHonoured) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c(port());
  ASSERT_TRUE(c.Send("GET /echo HTTP/1.1\r\nConnection: close\r\n\r\n"));
  Response r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(c.Closed());
  Client old(port());
  ASSERT_TRUE(old.Send("GET /stream HTTP/1.0\r\n\r\n"));  // no chunked coding for 1.0
  Response s = old.Read();
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.headers.count("transfer-encoding"), 0u);
  EXPECT_EQ(s.body, "token 0\ntoken 1\ntoken 2\ntoken 3\ntoken 4\n");
}

TEST_F(HttpServerTest, OversizedBodyIs413WithoutReadingIt) {
  HttpServerOptions o;
  o.max_body_bytes = 1024;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  Client c(port());
  auto t = Clock::now();
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nContent-Length: 100000000\r\n\r\nabc"));
  Response r = c.Read();
  EXPECT_LT(MsSince(t), 1000);
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(ErrorCode(r), "payload_too_large");
  EXPECT_EQ(r.headers["connection"], "close");
  EXPECT_TRUE(c.Closed());
  // Chunked bodies are decoded under the same limit.
  Client chunked(port());
  ASSERT_TRUE(
      chunked.Send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                   "400\r\n" +
                   std::string(1024, 'a') + "\r\n1\r\n"));
  EXPECT_EQ(chunked.Read().status, 413);
}

TEST_F(HttpServerTest, ChunkedRequestBodyIsDecoded) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c(port());
  ASSERT_TRUE(
      c.Send("POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
             "3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\nTrailer: t\r\n\r\n"));
  EXPECT_EQ(c.Read().body, "POST /echo ? conn=1 expect=0 len=7\nabcdefg");
}

TEST_F(HttpServerTest, MalformedHeadsGetTheirStatus) {
  ASSERT_NO_FATAL_FAILURE(Start());
  struct Case {
    std::string request;
    int status;
    const char* code;
  };
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i < 101; ++i) many += StrFormat("X-%d: v\r\n", i);
  const Case cases[] = {
      {"hello there\r\n\r\n", 400, "invalid_request"},
      {std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\n\n", 13), 400,
       "invalid_request"},  // binary, as from a TLS client
      {"GET / HTTP/2.0\r\n\r\n", 505, "server_error"},
      {"GET / HTTP/1.1\r\nX-Big: " + std::string(20 << 10, 'b') + "\r\n\r\n", 431,
       "header_too_large"},
      {many + "\r\n", 431, "header_too_large"},
      {"POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd", 400,
       "invalid_request"},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(EscapeForDisplay(k.request, 40));
    Client c(port());
    ASSERT_TRUE(c.Send(k.request));
    Response r = c.Read();
    EXPECT_EQ(r.status, k.status);
    EXPECT_EQ(ErrorCode(r), k.code);
    EXPECT_TRUE(c.Closed());
  }
}

TEST_F(HttpServerTest, HeadThatNeverCompletesIs408) {
  HttpServerOptions o;
  o.header_timeout_ms = 200;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  Client c(port());
  auto t = Clock::now();
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\nHost: x"));
  Response r = c.Read();
  EXPECT_EQ(r.status, 408);
  EXPECT_EQ(ErrorCode(r), "timeout");
  EXPECT_GE(MsSince(t), 150);
  EXPECT_LT(MsSince(t), 1500);
  EXPECT_TRUE(c.Closed());
  Client silent(port());  // sends nothing at all: closed without an answer
  EXPECT_TRUE(silent.Closed());
}

TEST_F(HttpServerTest, ExpectContinue) {
  HttpServerOptions o;
  o.max_body_bytes = 100;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  Client c(port());
  ASSERT_TRUE(c.Send("POST /echo HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
  Response interim;
  ASSERT_TRUE(c.ReadHead(&interim));
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(c.Send("hello"));
  EXPECT_EQ(c.Read().body, "POST /echo ? conn=1 expect=1 len=5\nhello");
  // Over the limit: the refusal comes instead of "100 Continue".
  Client big(port());
  ASSERT_TRUE(
      big.Send("POST /echo HTTP/1.1\r\nContent-Length: 500\r\nExpect: 100-continue\r\n\r\n"));
  EXPECT_EQ(big.Read().status, 413);
}

TEST_F(HttpServerTest, StreamedResponseArrivesAsChunks) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c(port());
  ASSERT_TRUE(c.Send("GET /stream HTTP/1.1\r\n\r\n"));
  Response r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["transfer-encoding"], "chunked");
  ASSERT_EQ(r.chunks.size(), 5u);
  EXPECT_EQ(r.chunks[4], "token 4\n");
  EXPECT_EQ(r.body, "token 0\ntoken 1\ntoken 2\ntoken 3\ntoken 4\n");
  ASSERT_TRUE(c.Send("GET /echo HTTP/1.1\r\n\r\n"));  // keep-alive after End()
  EXPECT_EQ(c.Read().status, 200);
}

TEST_F(HttpServerTest, ClientGoneSoonAfterDisconnect) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c(port());
  ASSERT_TRUE(c.Send("GET /gone HTTP/1.1\r\n\r\n"));
  Response r;
  std::string first;
  ASSERT_TRUE(c.ReadHead(&r));
  ASSERT_TRUE(c.ReadChunk(&first));
  EXPECT_EQ(first, "first");
  std::this_thread::sleep_for(milliseconds(50));  // the handler is polling
  int64_t closed_at = Clock::now().time_since_epoch().count();
  c.Close();
  for (int i = 0; i < 300 && gone_seen_at_ == 0; ++i) std::this_thread::sleep_for(milliseconds(5));
  ASSERT_NE(gone_seen_at_.load(), 0);
  int64_t delay_ms =
      std::chrono::duration_cast<milliseconds>(Clock::duration(gone_seen_at_.load() - closed_at))
          .count();
  EXPECT_LT(delay_ms, 100);
}

TEST_F(HttpServerTest, WriteChunkFailsWhenTheReaderStalls) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c(port(), /*rcvbuf=*/4096);
  ASSERT_TRUE(c.Send("GET /stall HTTP/1.1\r\n\r\n"));  // and never read
  for (int i = 0; i < 1000 && !stall_done_; ++i) std::this_thread::sleep_for(milliseconds(5));
  ASSERT_TRUE(stall_done_);
  EXPECT_GE(stall_fail_ms_.load(), 250);
  EXPECT_LT(stall_fail_ms_.load(), 1500);
  EXPECT_GE(stall_bytes_.load(), 64u << 10);
}

TEST_F(HttpServerTest, ConnectionsBeyondTheLimitGet503) {
  HttpServerOptions o;
  o.max_connections = 2;
  ASSERT_NO_FATAL_FAILURE(Start(o));
  auto a = std::make_unique<Client>(port());
  Client b(port());
  for (int i = 0; i < 200 && server_->active_connections() < 2; ++i)
    std::this_thread::sleep_for(milliseconds(5));
  ASSERT_EQ(server_->active_connections(), 2u);
  Client third(port());
  ASSERT_TRUE(third.Send("GET /echo HTTP/1.1\r\n\r\n"));
  Response r = third.Read();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(ErrorCode(r), "overloaded");
  EXPECT_EQ(r.headers["retry-after"], "1");
  EXPECT_TRUE(third.Closed());
  a.reset();  // a slot frees up
  for (int i = 0; i < 200 && server_->active_connections() > 1; ++i)
    std::this_thread::sleep_for(milliseconds(5));
  Client fourth(port());
  ASSERT_TRUE(fourth.Send("GET /echo HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(fourth.Read().status, 200);
}

TEST_F(HttpServerTest, ShutdownClosesIdleConnectionsPromptly) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c(port());
  ASSERT_TRUE(c.Send("GET /echo HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(c.Read().status, 200);
  auto t = Clock::now();
  server_->Shutdown(5000);
  EXPECT_LT(MsSince(t), 1000);
  EXPECT_TRUE(c.Closed(1000));
  EXPECT_EQ(server_->active_connections(), 0u);
  server_->Shutdown(5000);  // idempotent
}

TEST_F(HttpServerTest, ShutdownLetsRequestsInProgressFinish) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c(port());
  ASSERT_TRUE(c.Send("GET /slow HTTP/1.1\r\n\r\n"));
  std::this_thread::sleep_for(milliseconds(100));  // the handler is running
  server_->Shutdown(2000);
  Response r = c.Read();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "slow done");
  EXPECT_EQ(r.headers["connection"], "close");
  Client late(port());
  EXPECT_FALSE(late.connected());
}

TEST_F(HttpServerTest, HandlerThatSendsNothingGets500) {
  ASSERT_NO_FATAL_FAILURE(Start());
  Client c(port());
  ASSERT_TRUE(c.Send("GET /nothing HTTP/1.1\r\n\r\n"));
  Response r = c.Read();
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(ErrorCode(r), "generation_failed");
}

TEST_F(HttpServerTest, BindErrorsAndIpv6) {
  ASSERT_NO_FATAL_FAILURE(Start());
  HttpServerOptions o;
  o.port = port();  // taken
  auto taken = HttpServer::Start(o, [](const HttpRequest&, HttpResponder&) {});
  ASSERT_FALSE(taken.ok());
  EXPECT_EQ(taken.status().reason(), "http.bind_failed");
  o.host = "not-an-address";
  EXPECT_EQ(HttpServer::Start(o, [](const HttpRequest&, HttpResponder&) {}).status().reason(),
            "http.bad_address");

  o.host = "::1";
  o.port = 0;
  auto v6 = HttpServer::Start(
      o, [](const HttpRequest& q, HttpResponder& r) { r.Send(200, "text/plain", q.peer_ip); });
  if (!v6.ok()) GTEST_SKIP() << "no IPv6 loopback here: " << v6.status().ToString();
  Client c((*v6)->port(), 0, "::1");
  ASSERT_TRUE(c.Send("GET / HTTP/1.1\r\n\r\n"));
  EXPECT_EQ(c.Read().body, "::1");
}

TEST_F(HttpServerTest, Curl) {
  if (access("/usr/bin/curl", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/curl";
  ASSERT_NO_FATAL_FAILURE(Start());
  std::string dir = testing::TempDir();
  std::string body(100 << 10, 'q');
  std::ofstream(dir + "/body") << body;
  std::string url = StrFormat("http://127.0.0.1:%d/echo", port());
  auto get = testing::RunCommand("/usr/bin/curl -sS " + url + "?a=b");
  EXPECT_EQ(get.exit_code, 0);
  EXPECT_EQ(get.output, "GET /echo ?a=b conn=1 expect=0 len=0\n");
  auto post = testing::RunCommand("/usr/bin/curl -sS -d @" + dir + "/body " + url);
  EXPECT_EQ(post.exit_code, 0);
  EXPECT_TRUE(EndsWith(post.output, "len=102400\n" + body)) << post.output.substr(0, 80);
  auto expect = testing::RunCommand(
      "/usr/bin/curl -sS -v -o /dev/null -H 'Expect: 100-continue' "
      "--data-binary @" +
          dir + "/body " + url,
      /*merge_stderr=*/true);
  EXPECT_EQ(expect.exit_code, 0);
  EXPECT_NE(expect.output.find("< HTTP/1.1 100 Continue"), std::string::npos) << expect.output;
  EXPECT_NE(expect.output.find("< HTTP/1.1 200 OK"), std::string::npos);
}

}  // namespace
}  // namespace hearth::server
