// HTTP/1.1 request parsing (RFC 9112) as pure functions over bytes.
//
// The transport (http_server.h) reads bytes from sockets and asks these
// functions what they mean, so every framing decision (where the head ends,
// how long the body is, what is malformed) can be unit-tested and fuzzed
// without a socket. Errors carry a reason slug "http.*"; HttpStatusForError()
// maps a slug to the status code the transport answers with.
//
// Also here: the JSON error envelope of DESIGN §6, shared by the transport's
// own error responses and the server layer above.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace hearth::server {

// Header fields as name/value pairs, in the order received or to be sent.
using HeaderList = std::vector<std::pair<std::string, std::string>>;

// At most this many header fields in a request head (more: 431).
inline constexpr size_t kMaxHeaderCount = 100;

enum class BodyKind {
  kNone,           // no body (or Content-Length: 0)
  kContentLength,  // exactly `content_length` bytes follow the head
  kChunked,        // Transfer-Encoding: chunked; decode with ChunkedDecoder
};

// A parsed request line and header section.
struct ParsedHead {
  std::string method;        // as sent (methods are case-sensitive): "GET"
  std::string target;        // request-target as sent: "/v1/models?x=1"
  std::string path;          // raw path, escapes kept: "/a%20b" ("*" for OPTIONS *)
  std::string decoded_path;  // percent-decoded path: "/a b" (may contain any byte)
  std::string query;         // raw text after the first '?', without it; "" if none
  int version_minor = 1;     // HTTP/1.<minor>; the major version is always 1
  HeaderList headers;        // names lower-cased, values without surrounding blanks

  BodyKind body_kind = BodyKind::kNone;
  uint64_t content_length = 0;   // the body size when body_kind == kContentLength
  bool keep_alive = true;        // 1.1 unless "Connection: close"; 1.0 only with "keep-alive"
  bool expect_continue = false;  // "Expect: 100-continue" on an HTTP/1.1 request

  // The value of the first header named `lower_name` (lower-case), or nullptr.
  const std::string* Header(std::string_view lower_name) const;
};

// Offset just past the empty line that ends the head at the start of `buf`, or
// npos if it has not arrived yet. Lines end with CRLF; a bare LF is accepted.
// `from` lets a caller that appends to `buf` resume the scan (pass the previous
// size minus 3, or 0).
size_t FindHeadEnd(std::string_view buf, size_t from = 0);

// Parses a request head: exactly the bytes up to and including the empty line
// (as delimited by FindHeadEnd). Validates the request line, the version (1.x;
// other majors fail with "http.unsupported_version"), header syntax and count,
// and the body framing (Content-Length / Transfer-Encoding rules of RFC 9112
// §6.3: conflicting lengths, both headers at once, or a final coding other than
// chunked are errors). Does not enforce the byte limit of the head: the reader
// does, before the head is complete.
Result<ParsedHead> ParseRequestHead(std::string_view bytes);

// Decodes %XX escapes (either hex case) into *out; false on a malformed escape.
// '+' is kept as is (it means space only in form-encoded query strings).
bool PercentDecode(std::string_view in, std::string* out);

// Incremental decoder of a chunked request body (RFC 9112 §7.1). Feed it bytes
// as they arrive; it appends the chunk data to *body. Chunk extensions are
// ignored and trailer fields discarded. The body limit is checked against each
// chunk's declared size before its data arrives, so an oversized body is
// refused without reading it.
class ChunkedDecoder {
 public:
  explicit ChunkedDecoder(size_t max_body_bytes) : max_body_bytes_(max_body_bytes) {}

  // Consumes a prefix of `in` and returns its length: all of `in`, or less when
  // the body ended inside it (the rest belongs to the next request).
  // Errors: "http.bad_chunk" (400), "http.body_too_large" (413),
  // "http.trailers_too_large" (431). After an error the decoder is unusable.
  Result<size_t> Feed(std::string_view in, std::string* body);
  // True once the last chunk and the trailer section have been consumed.
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State { kSizeLine, kData, kDataEnd, kTrailer, kDone };
  // Handles one complete line (without its LF) in the current state.
  Status OnLine(std::string_view line);

  size_t max_body_bytes_;
  State state_ = State::kSizeLine;
  std::string line_;        // the current partial line
  uint64_t remaining_ = 0;  // data bytes left in the current chunk
  uint64_t total_ = 0;      // body bytes declared so far
  size_t trailer_bytes_ = 0;
};

// The status code the transport answers a parse or framing error with:
// 400, 413, 431, 501 or 505.
int HttpStatusForError(const Status& error);

// "Not Found" for 404, ...; "Unknown" for codes this server never sends.
std::string_view ReasonPhrase(int status);

// The envelope code for a status the transport itself answers with:
// 400 invalid_request, 408 timeout, 413 payload_too_large, 431 header_too_large,
// 500 generation_failed, 503 overloaded; other 4xx invalid_request, 5xx server_error.
std::string_view ErrorCodeForStatus(int status);

// The DESIGN §6 error envelope:
// {"error":{"code":"…","message":"…","type":"…","param":null}}
// `param` is written as null when empty.
std::string ErrorBody(std::string_view code, std::string_view message,
                      std::string_view type = "invalid_request_error", std::string_view param = {});

}  // namespace hearth::server
