#include "server/http/http_parse.h"

#include <algorithm>
#include <string_view>

#include "base/json_writer.h"
#include "base/strings.h"

namespace hearth::server {
namespace {

constexpr size_t npos = std::string_view::npos;
// Longest chunk-size line (size plus extensions) and trailer section accepted.
constexpr size_t kMaxChunkLine = 4096;
constexpr size_t kMaxTrailerBytes = 16 << 10;

Status Bad(std::string_view reason, std::string message) {
  return InvalidArgumentError(std::move(message), std::string(reason));
}

// RFC 9110 §5.6.2 token characters.
bool IsTchar(unsigned char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(static_cast<char>(c)) != npos;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s)
    if (!IsTchar(c)) return false;
  return true;
}

char Lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (Lower(a[i]) != Lower(b[i])) return false;
  return true;
}

// Strips optional whitespace (SP / HTAB) from both ends.
std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Calls fn(element) for each non-empty, trimmed element of a comma-separated list.
template <typename Fn>
void ForEachListElement(std::string_view list, Fn fn) {
  for (std::string_view part : StrSplit(list, ',')) {
    part = TrimOws(part);
    if (!part.empty()) fn(part);
  }
}

Status ParseRequestLine(std::string_view line, ParsedHead* head) {
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == npos ? npos : line.find(' ', sp1 + 1);
  if (sp2 == npos)
    return Bad("http.bad_request_line", "malformed request line '" + EscapeForDisplay(line) + "'");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method))
    return Bad("http.bad_method", "malformed method '" + EscapeForDisplay(method) + "'");

  // HTTP-version = "HTTP/" DIGIT "." DIGIT
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      HexValue(version[5]) < 0 || HexValue(version[5]) > 9 || HexValue(version[7]) < 0 ||
      HexValue(version[7]) > 9)
    return Bad("http.bad_version", "malformed HTTP version '" + EscapeForDisplay(version) + "'");
  if (version[5] != '1')
    return UnimplementedError("HTTP version " + std::string(version) + " is not supported",
                              "http.unsupported_version");
  head->version_minor = version[7] - '0';

  // Visible ASCII only; no fragment (clients never send one).
  for (unsigned char c : target)
    if (c <= 0x20 || c >= 0x7f || c == '#')
      return Bad("http.bad_target", "malformed request target '" + EscapeForDisplay(target) + "'");
  std::string_view path_and_query;
  if (target.empty()) {
    return Bad("http.bad_target", "empty request target");
  } else if (target[0] == '/') {  // origin-form
    path_and_query = target;
  } else if (target == "*") {  // asterisk-form
    if (method != "OPTIONS") return Bad("http.bad_target", "'*' is a target only for OPTIONS");
    path_and_query = target;
  } else {  // absolute-form: http(s)://authority[/path][?query]
    size_t scheme_end = target.find("://");
    std::string_view scheme = scheme_end == npos ? "" : target.substr(0, scheme_end);
    if (!EqualsIgnoreCase(scheme, "http") && !EqualsIgnoreCase(scheme, "https"))
      return Bad("http.bad_target", "malformed request target '" + EscapeForDisplay(target) + "'");
    std::string_view rest = target.substr(scheme_end + 3);
    size_t path_start = rest.find_first_of("/?");
    if (path_start == 0 || rest.empty())
      return Bad("http.bad_target", "request target without a host");
    path_and_query = path_start == npos ? "/" : rest.substr(path_start);
  }
  size_t q = path_and_query.find('?');
  std::string_view path = path_and_query.substr(0, q);
  if (path.empty()) path = "/";  // "http://host?x" has an empty path
  head->method = std::string(method);
  head->target = std::string(target);
  head->path = std::string(path);
  head->query = q == npos ? "" : std::string(path_and_query.substr(q + 1));
  if (!PercentDecode(head->path, &head->decoded_path))
    return Bad("http.bad_percent_encoding",
               "malformed %-escape in path '" + EscapeForDisplay(head->path) + "'");
  return Status::Ok();
}

Status ParseHeaderLine(std::string_view line, ParsedHead* head) {
  if (line[0] == ' ' || line[0] == '\t')
    return Bad("http.obsolete_line_folding", "folded header lines are not accepted");
  size_t colon = line.find(':');
  std::string_view name = line.substr(0, colon == npos ? line.size() : colon);
  if (colon == npos || !IsToken(name))
    return Bad("http.bad_header", "malformed header line '" + EscapeForDisplay(line) + "'");
  std::string_view value = TrimOws(line.substr(colon + 1));
  for (unsigned char c : value)
    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return Bad("http.bad_header_value",
                 "control character in header '" + EscapeForDisplay(name) + "'");
  if (head->headers.size() >= kMaxHeaderCount)
    return ResourceExhaustedError(StrFormat("more than %zu header fields", kMaxHeaderCount),
                                  "http.too_many_headers");
  head->headers.emplace_back(ToLower(name), std::string(value));
  return Status::Ok();
}

// Body framing and connection options from the header fields (RFC 9112 §6.3, §9.3).
Status ResolveFraming(ParsedHead* head) {
  bool has_te = false, chunked_last = false, chunked_early = false, other_coding = false;
  bool has_length = false;
  uint64_t length = 0;
  bool close = false, keep_alive = false;
  Status error;
  for (const auto& header : head->headers) {
    const std::string& name = header.first;
    const std::string& value = header.second;
    if (name == "transfer-encoding") {
      has_te = true;
      ForEachListElement(value, [&](std::string_view coding) {
        if (chunked_last) chunked_early = true;  // a coding after chunked
        chunked_last = EqualsIgnoreCase(coding, "chunked");
        if (!chunked_last) other_coding = true;
      });
    } else if (name == "content-length") {
      size_t count = 0;
      ForEachListElement(value, [&](std::string_view v) {
        ++count;
        uint64_t n = 0;
        bool digits = v.size() <= 18;  // < 10^18 cannot overflow
        for (char c : v) digits = digits && c >= '0' && c <= '9';
        if (!digits) {
          if (error.ok()) error = Bad("http.bad_content_length", "malformed Content-Length");
          return;
        }
        for (char c : v) n = n * 10 + static_cast<uint64_t>(c - '0');
        if (has_length && n != length && error.ok())
          error = Bad("http.conflicting_content_length", "conflicting Content-Length values");
        has_length = true;
        length = n;
      });
      if (count == 0 && error.ok()) error = Bad("http.bad_content_length", "empty Content-Length");
    } else if (name == "connection") {
      ForEachListElement(value, [&](std::string_view option) {
        if (EqualsIgnoreCase(option, "close")) close = true;
        if (EqualsIgnoreCase(option, "keep-alive")) keep_alive = true;
      });
    } else if (name == "expect") {
      if (EqualsIgnoreCase(TrimOws(value), "100-continue") && head->version_minor >= 1)
        head->expect_continue = true;
    }
  }
  HEARTH_RETURN_IF_ERROR(error);
  head->keep_alive = !close && (head->version_minor >= 1 || keep_alive);
  if (has_te) {
    if (head->version_minor == 0)
      return Bad("http.bad_transfer_encoding", "Transfer-Encoding in an HTTP/1.0 request");
    if (has_length)
      return Bad("http.conflicting_framing", "both Transfer-Encoding and Content-Length");
    if (!chunked_last || chunked_early)
      return Bad("http.bad_transfer_encoding", "chunked is not the final transfer coding, once");
    if (other_coding)
      return UnimplementedError("only the chunked transfer coding is supported",
                                "http.unsupported_transfer_encoding");
    head->body_kind = BodyKind::kChunked;
  } else if (has_length && length > 0) {
    head->body_kind = BodyKind::kContentLength;
    head->content_length = length;
  }
  return Status::Ok();
}

}  // namespace

const std::string* ParsedHead::Header(std::string_view lower_name) const {
  for (const auto& h : headers)
    if (h.first == lower_name) return &h.second;
  return nullptr;
}

size_t FindHeadEnd(std::string_view buf, size_t from) {
  for (size_t i = buf.find('\n', from); i != npos; i = buf.find('\n', i + 1)) {
    if (i + 1 < buf.size() && buf[i + 1] == '\n') return i + 2;
    if (i + 2 < buf.size() && buf[i + 1] == '\r' && buf[i + 2] == '\n') return i + 3;
  }
  return npos;
}

Result<ParsedHead> ParseRequestHead(std::string_view bytes) {
  ParsedHead head;
  bool first = true;
  size_t pos = 0;
  for (;;) {
    size_t nl = bytes.find('\n', pos);
    if (nl == npos) return Bad("http.incomplete_head", "the request head has no end");
    std::string_view line = bytes.substr(pos, nl - pos);
    pos = nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != npos) return Bad("http.bad_line_ending", "bare CR in the request head");
    if (first) {
      HEARTH_RETURN_IF_ERROR(ParseRequestLine(line, &head));
      first = false;
    } else if (line.empty()) {
      break;
    } else {
      HEARTH_RETURN_IF_ERROR(ParseHeaderLine(line, &head));
    }
  }
  if (pos != bytes.size()) return Bad("http.trailing_bytes", "bytes after the request head");
  HEARTH_RETURN_IF_ERROR(ResolveFraming(&head));
  return head;
}

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out->push_back(in[i]);
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return true;
}

Result<size_t> ChunkedDecoder::Feed(std::string_view in, std::string* body) {
  size_t pos = 0;
  while (pos < in.size() && state_ != State::kDone) {
    if (state_ == State::kData) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, in.size() - pos));
      body->append(in.data() + pos, n);
      pos += n;
      remaining_ -= n;
      if (remaining_ == 0) state_ = State::kDataEnd;
      continue;
    }
    // The other states consume whole lines.
    size_t nl = in.find('\n', pos);
    size_t take = (nl == npos ? in.size() : nl) - pos;
    size_t limit = state_ == State::kTrailer ? kMaxTrailerBytes : kMaxChunkLine;
    if (line_.size() + take > limit) {
      if (state_ == State::kTrailer)
        return ResourceExhaustedError("chunked trailer section too large",
                                      "http.trailers_too_large");
      return Bad("http.bad_chunk", "chunk-size line too long");
    }
    line_.append(in.data() + pos, take);
    pos += take;
    if (nl == npos) break;
    ++pos;  // the LF
    std::string line = std::move(line_);
    line_.clear();
    if (!line.empty() && line.back() == '\r') line.pop_back();
    HEARTH_RETURN_IF_ERROR(OnLine(line));
  }
  return pos;
}

Status ChunkedDecoder::OnLine(std::string_view line) {
  switch (state_) {
    case State::kSizeLine: {
      // chunk-size [ BWS ; chunk-ext ]
      uint64_t size = 0;
      size_t i = 0;
      for (; i < line.size() && HexValue(line[i]) >= 0; ++i) {
        if (i >= 15) return Bad("http.bad_chunk", "chunk size too large");
        size = size * 16 + static_cast<uint64_t>(HexValue(line[i]));
      }
      std::string_view rest = TrimOws(line.substr(i));
      if (i == 0 || (!rest.empty() && rest[0] != ';'))
        return Bad("http.bad_chunk", "malformed chunk size '" + EscapeForDisplay(line) + "'");
      if (size > max_body_bytes_ - std::min<uint64_t>(total_, max_body_bytes_))
        return ResourceExhaustedError(StrFormat("request body exceeds %zu bytes", max_body_bytes_),
                                      "http.body_too_large");
      total_ += size;
      remaining_ = size;
      state_ = size == 0 ? State::kTrailer : State::kData;
      return Status::Ok();
    }
    case State::kDataEnd:
      if (!line.empty()) return Bad("http.bad_chunk", "chunk data longer than its size");
      state_ = State::kSizeLine;
      return Status::Ok();
    case State::kTrailer:
      trailer_bytes_ += line.size() + 2;
      if (trailer_bytes_ > kMaxTrailerBytes)
        return ResourceExhaustedError("chunked trailer section too large",
                                      "http.trailers_too_large");
      if (line.empty()) state_ = State::kDone;
      return Status::Ok();
    case State::kData:
    case State::kDone:
      break;
  }
  return InternalError("chunked decoder: line in a data state");
}

int HttpStatusForError(const Status& error) {
  const std::string& r = error.reason();
  if (r == "http.unsupported_version") return 505;
  if (r == "http.unsupported_transfer_encoding") return 501;
  if (r == "http.body_too_large") return 413;
  if (r == "http.too_many_headers" || r == "http.header_too_large" ||
      r == "http.trailers_too_large")
    return 431;
  return 400;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 505:
      return "HTTP Version Not Supported";
    case 507:
      return "Insufficient Storage";
    default:
      return "Unknown";
  }
}

std::string_view ErrorCodeForStatus(int status) {
  switch (status) {
    case 408:
      return "timeout";
    case 413:
      return "payload_too_large";
    case 431:
      return "header_too_large";
    case 500:
      return "generation_failed";
    case 503:
      return "overloaded";
    default:
      return status >= 500 ? "server_error" : "invalid_request";
  }
}

std::string ErrorBody(std::string_view code, std::string_view message, std::string_view type,
                      std::string_view param) {
  json::Writer w;
  w.BeginObject();
  w.Key("error");
  w.BeginObject();
  w.Key("code");
  w.String(code);
  w.Key("message");
  w.String(message);
  w.Key("type");
  w.String(type);
  w.Key("param");
  if (param.empty()) {
    w.Null();
  } else {
    w.String(param);
  }
  w.EndObject();
  w.EndObject();
  return w.TakeStr();
}

}  // namespace hearth::server
