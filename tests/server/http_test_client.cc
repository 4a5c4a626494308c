#include "http_test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cstring>

namespace hearth::server::testing {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Build(const std::string& method, const std::string& target, const std::string& body,
                  const Headers& headers) {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    r += k + ": " + v + "\r\n";
    has_type = has_type || Lower(k) == "content-type";
  }
  if (!body.empty() || method == "POST") {
    if (!has_type) r += "Content-Type: application/json\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  r += "Connection: close\r\n\r\n" + body;
  return r;
}

}  // namespace

std::string HttpResult::Header(const std::string& lower) const {
  for (const auto& [k, v] : headers)
    if (k == lower) return v;
  return "";
}

StreamConn::StreamConn(int port, int rcvbuf) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) Close();
}

StreamConn::~StreamConn() {
  Close();
}

void StreamConn::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool StreamConn::Send(const std::string& method, const std::string& target, const std::string& body,
                      const Headers& headers) {
  if (fd_ < 0) return false;
  const std::string req = Build(method, target, body, headers);
  size_t off = 0;
  while (off < req.size()) {
    const ssize_t n = ::send(fd_, req.data() + off, req.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return false;
    off += static_cast<size_t>(n);
  }
  return true;
}

bool StreamConn::Fill(int timeout_ms) {
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char tmp[65536];
  const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf_.append(tmp, static_cast<size_t>(n));
  return true;
}

bool StreamConn::ReadHead(int timeout_ms) {
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos)
    if (!Fill(timeout_ms)) return false;
  const std::string head = buf_.substr(0, end);
  buf_.erase(0, end + 4);
  status_ = std::atoi(head.c_str() + head.find(' ') + 1);
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    const size_t next = head.find("\r\n", pos + 2);
    const std::string line =
        head.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
    const size_t colon = line.find(':');
    if (colon != std::string::npos) {
      const std::string k = Lower(line.substr(0, colon));
      std::string v = line.substr(colon + 1);
      while (!v.empty() && v[0] == ' ') v.erase(0, 1);
      if (k == "transfer-encoding" && Lower(v).find("chunked") != std::string::npos)
        chunked_ = true;
      if (k == "content-length") remaining_ = std::atoll(v.c_str());
      headers_.emplace_back(k, v);
    }
    pos = next;
  }
  if (!chunked_ && remaining_ == 0) done_ = true;
  return true;
}

std::string StreamConn::ReadSome(int timeout_ms) {
  if (done_) return "";
  if (!chunked_) {
    if (buf_.empty() && !Fill(timeout_ms)) {
      if (remaining_ < 0) done_ = true;  // close-delimited
      return "";
    }
    std::string out;
    if (remaining_ >= 0) {
      out = buf_.substr(0, static_cast<size_t>(remaining_));
      remaining_ -= static_cast<long long>(out.size());
      if (remaining_ == 0) done_ = true;
    } else {
      out = buf_;
    }
    buf_.erase(0, out.size());
    return out;
  }
  for (;;) {
    if (remaining_ > 0) {
      if (buf_.empty() && !Fill(timeout_ms)) return "";
      const size_t n = std::min<size_t>(buf_.size(), static_cast<size_t>(remaining_));
      std::string out = buf_.substr(0, n);
      buf_.erase(0, n);
      remaining_ -= static_cast<long long>(n);
      return out;
    }
    // Chunk boundary: [CRLF after data] size line.
    if (remaining_ == 0) {
      while (buf_.size() < 2)
        if (!Fill(timeout_ms)) return "";
      buf_.erase(0, 2);
      remaining_ = -1;
    }
    size_t eol;
    while ((eol = buf_.find("\r\n")) == std::string::npos)
      if (!Fill(timeout_ms)) return "";
    const long long size = std::strtoll(buf_.c_str(), nullptr, 16);
    buf_.erase(0, eol + 2);
    if (size == 0) {
      done_ = true;
      return "";
    }
    remaining_ = size;
  }
}

std::string StreamConn::ReadAll(int timeout_ms) {
  std::string all;
  while (!done_) {
    std::string s = ReadSome(timeout_ms);
    if (s.empty() && !done_) break;
    all += s;
  }
  return all;
}

HttpResult Request(int port, const std::string& method, const std::string& target,
                   const std::string& body, const Headers& headers, int timeout_ms) {
  HttpResult r;
  StreamConn c(port);
  if (!c.Send(method, target, body, headers) || !c.ReadHead(timeout_ms)) return r;
  r.status = c.status();
  r.headers = c.headers();
  r.body = c.ReadAll(timeout_ms);
  return r;
}

}  // namespace hearth::server::testing
