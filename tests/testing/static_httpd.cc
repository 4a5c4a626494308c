#include "testing/static_httpd.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <string_view>

#include "base/strings.h"

namespace hearth::testing {
namespace {

constexpr int kIoTimeoutMs = 10000;  // a client silent this long is dropped
constexpr int kDrainTimeoutMs = 2000;
constexpr size_t kMaxHeaderBytes = 16 * 1024;
constexpr size_t kChunk = 64 * 1024;

const char* ReasonPhrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 206:
      return "Partial Content";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 416:
      return "Range Not Satisfiable";
    case 500:
      return "Internal Server Error";
    case 503:
      return "Service Unavailable";
    default:
      return "Status";
  }
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes; false on a malformed escape or a NUL byte.
bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return false;
    out->push_back(c);
  }
  return true;
}

bool HasDotDotSegment(std::string_view path) {
  for (std::string_view seg : StrSplit(path, '/')) {
    if (seg == "..") return true;
  }
  return false;
}

// A single range "bytes=N-" or "bytes=N-M" (*last = UINT64_MAX when open). Anything else
// (suffix ranges, lists, junk) returns false and the header is ignored, as RFC 9110 allows.
bool ParseRange(std::string_view v, uint64_t* first, uint64_t* last) {
  v = StripWhitespace(v);
  if (!StartsWith(v, "bytes=") || v.find(',') != std::string_view::npos) return false;
  v = v.substr(6);
  size_t dash = v.find('-');
  if (dash == std::string_view::npos || dash == 0) return false;
  int64_t a = 0, b = 0;
  if (!ParseInt64(v.substr(0, dash), &a) || a < 0) return false;
  std::string_view tail = v.substr(dash + 1);
  if (tail.empty()) {
    b = -1;
  } else if (!ParseInt64(tail, &b) || b < a) {
    return false;
  }
  *first = static_cast<uint64_t>(a);
  *last = b < 0 ? UINT64_MAX : static_cast<uint64_t>(b);
  return true;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

Result<std::unique_ptr<StaticHttpServer>> StaticHttpServer::Start(Options options) {
  struct stat st;
  if (stat(options.root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return NotFoundError("server root '" + options.root + "' is not a directory");
  }
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return ErrnoError("socket", errno);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // ephemeral
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    int err = errno;
    close(fd);
    return ErrnoError("binding 127.0.0.1", err);
  }
  int wake[2];
  if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
    int err = errno;
    close(fd);
    return ErrnoError("pipe2", err);
  }
  std::unique_ptr<StaticHttpServer> server(
      new StaticHttpServer(std::move(options), fd, wake[0], wake[1], ntohs(addr.sin_port)));
  server->thread_ = std::thread(&StaticHttpServer::Serve, server.get());
  return server;
}

StaticHttpServer::StaticHttpServer(Options options, int listen_fd, int wake_read, int wake_write,
                                   int port)
    : options_(std::move(options)),
      listen_fd_(listen_fd),
      wake_read_(wake_read),
      wake_write_(wake_write),
      port_(port) {}

StaticHttpServer::~StaticHttpServer() {
  stopping_ = true;
  // The pipe stays readable from now on, so every poll in the server thread returns at once.
  char b = 1;
  ssize_t ignored = write(wake_write_, &b, 1);
  (void)ignored;
  if (thread_.joinable()) thread_.join();
  close(listen_fd_);
  close(wake_read_);
  close(wake_write_);
}

std::string StaticHttpServer::url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

void StaticHttpServer::CutNextResponse(const std::string& path, uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  cuts_[path] = bytes;
}

void StaticHttpServer::ForceStatus(const std::string& path, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (status == 0) {
    forced_.erase(path);
  } else {
    forced_[path] = status;
  }
}

std::vector<HttpRequestRecord> StaticHttpServer::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void StaticHttpServer::Serve() {
  while (!stopping_) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    int r = poll(fds, 2, -1);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 || fds[1].revents != 0) return;
    int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) continue;  // EAGAIN (the client gave up) and friends
    HandleConnection(fd);
    close(fd);
  }
}

bool StaticHttpServer::WaitFor(int fd, short events,  // NOLINT(runtime/int)
                               int timeout_ms) const {
  pollfd fds[2] = {{fd, events, 0}, {wake_read_, POLLIN, 0}};
  while (true) {
    int r = poll(fds, 2, timeout_ms);
    if (r < 0 && errno == EINTR) continue;
    return r > 0 && fds[1].revents == 0;  // ready, or an error the next call reports
  }
}

size_t StaticHttpServer::SendAll(int fd, const char* data, size_t size) {
  size_t sent = 0;
  while (sent < size) {
    ssize_t n = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {
      if (!WaitFor(fd, POLLOUT, kIoTimeoutMs)) break;
    } else {
      break;  // the client went away
    }
  }
  return sent;
}

void StaticHttpServer::AddBodyBytes(size_t record_index, int64_t delta) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_[record_index].body_bytes_sent += static_cast<uint64_t>(delta);
}

void StaticHttpServer::HandleConnection(int fd) {
  // Read the request head.
  std::string head;
  size_t head_end;
  while ((head_end = head.find("\r\n\r\n")) == std::string::npos) {
    if (head.size() > kMaxHeaderBytes || !WaitFor(fd, POLLIN, kIoTimeoutMs)) return;
    char buf[4096];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (n <= 0) return;
    head.append(buf, static_cast<size_t>(n));
  }
  std::vector<std::string_view> lines = StrSplit(std::string_view(head).substr(0, head_end), '\n');
  std::vector<std::string_view> request_line = StrSplit(StripWhitespace(lines[0]), ' ');
  HttpRequestRecord rec;
  std::string target;
  if (request_line.size() == 3) {
    rec.method = std::string(request_line[0]);
    target = std::string(request_line[1]);
  }
  rec.path = target.substr(0, target.find('?'));
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == std::string_view::npos) continue;
    if (Lower(StripWhitespace(lines[i].substr(0, colon))) == "range") {
      rec.range_header = std::string(StripWhitespace(lines[i].substr(colon + 1)));
    }
  }

  // Decide the answer.
  int status = 200;
  std::string extra_headers;
  int file_fd = -1;
  uint64_t first = 0, length = 0;
  int forced = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = forced_.find(rec.path); it != forced_.end()) forced = it->second;
  }
  std::string decoded;
  struct stat st;
  if (rec.method.empty() || rec.path.empty() || rec.path[0] != '/') {
    status = 400;
  } else if (rec.method != "GET" && rec.method != "HEAD") {
    status = 405;
    extra_headers = "Allow: GET, HEAD\r\n";
  } else if (forced != 0) {
    status = forced;
  } else if (!PercentDecode(rec.path, &decoded) || HasDotDotSegment(decoded)) {
    status = 400;
  } else if (std::string file = options_.root + decoded; stat(file.c_str(), &st) != 0) {
    status = 404;
  } else if (!S_ISREG(st.st_mode)) {
    status = 403;  // directories are not listed
  } else if ((file_fd = open(file.c_str(), O_RDONLY | O_CLOEXEC)) < 0) {
    status = 403;
  } else {
    uint64_t size = static_cast<uint64_t>(st.st_size);
    length = size;
    uint64_t last = 0;
    if (options_.support_range && ParseRange(rec.range_header, &first, &last)) {
      if (first >= size) {
        status = 416;
        length = 0;
        extra_headers =
            StrFormat("Content-Range: bytes */%llu\r\n", static_cast<unsigned long long>(size));
      } else {
        status = 206;
        last = std::min(last, size - 1);
        length = last - first + 1;
        extra_headers = StrFormat(
            "Content-Range: bytes %llu-%llu/%llu\r\n", static_cast<unsigned long long>(first),
            static_cast<unsigned long long>(last), static_cast<unsigned long long>(size));
      }
    } else {
      first = 0;
    }
  }
  if (options_.support_range) extra_headers += "Accept-Ranges: bytes\r\n";

  // Log the request before answering, so a client that got its answer always finds it.
  uint64_t body_limit = rec.method == "GET" && (status == 200 || status == 206) ? length : 0;
  size_t index;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (body_limit > 0) {
      if (auto it = cuts_.find(rec.path); it != cuts_.end()) {
        body_limit = std::min(body_limit, it->second);
        cuts_.erase(it);
      }
    }
    rec.status = status;
    index = requests_.size();
    requests_.push_back(rec);
  }

  std::string response = StrFormat(
      "HTTP/1.1 %d %s\r\nContent-Length: %llu\r\nContent-Type: "
      "application/octet-stream\r\n%sConnection: close\r\n\r\n",
      status, ReasonPhrase(status), static_cast<unsigned long long>(length), extra_headers.c_str());
  bool ok = SendAll(fd, response.data(), response.size()) == response.size();
  std::string buf(kChunk, '\0');
  for (uint64_t sent = 0; ok && sent < body_limit;) {
    size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, body_limit - sent));
    ssize_t n = pread(file_fd, buf.data(), want, static_cast<off_t>(first + sent));
    if (n <= 0) break;
    AddBodyBytes(index, n);  // counted before sending: the client may look right after
    size_t done = SendAll(fd, buf.data(), static_cast<size_t>(n));
    if (done < static_cast<size_t>(n)) {
      AddBodyBytes(index, -static_cast<int64_t>(static_cast<size_t>(n) - done));
      ok = false;
    }
    sent += done;
  }
  if (file_fd >= 0) close(file_fd);

  // Close gracefully (FIN, not RST) so the client receives every byte sent, even of a cut
  // response, then drain until it hangs up: unread input at close() would turn into a RST.
  shutdown(fd, SHUT_WR);
  while (WaitFor(fd, POLLIN, kDrainTimeoutMs)) {
    ssize_t n = recv(fd, buf.data(), buf.size(), 0);
    if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) break;
  }
}

}  // namespace hearth::testing
