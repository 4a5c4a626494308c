// Fuzzes the HTTP/1.1 request parsing the server applies to bytes from the
// network: head delimiting, request heads (line, fields, framing), percent
// decoding and the chunked body decoder. None may crash, and each must keep
// its own invariants on whatever it accepts.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/check.h"
#include "server/http/http_parse.h"

using namespace hearth;
using namespace hearth::server;

namespace {

// Decodes `wire` as a chunked body, fed in pieces of `step` bytes.
// Returns false on an error; *body and *consumed describe a finished body.
bool DecodeChunked(std::string_view wire, size_t step, std::string* body, size_t* consumed) {
  ChunkedDecoder decoder(/*max_body_bytes=*/4096);
  size_t pos = 0;
  while (pos < wire.size() && !decoder.done()) {
    std::string_view piece = wire.substr(pos, step);
    Result<size_t> used = decoder.Feed(piece, body);
    if (!used.ok()) return false;
    HEARTH_CHECK(*used <= piece.size(), "consumed more than given");
    pos += *used;
    if (*used < piece.size()) HEARTH_CHECK(decoder.done(), "stopped early without finishing");
  }
  HEARTH_CHECK(body->size() <= 4096, "body over the limit");
  *consumed = pos;
  return decoder.done();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  size_t end = FindHeadEnd(text);
  if (end != std::string_view::npos) {
    HEARTH_CHECK(end <= text.size());
    HEARTH_CHECK(FindHeadEnd(text, end > 3 ? end - 3 : 0) == end, "resumed scan disagrees");
  }
  Result<ParsedHead> head =
      ParseRequestHead(end == std::string_view::npos ? text : text.substr(0, end));
  if (head.ok()) {
    HEARTH_CHECK(head->headers.size() <= kMaxHeaderCount);
    for (const auto& h : head->headers)
      for (char c : h.first) HEARTH_CHECK(!(c >= 'A' && c <= 'Z'), "header name not lower-case");
    HEARTH_CHECK(head->target.find(head->query) != std::string::npos);
    HEARTH_CHECK(head->body_kind != BodyKind::kContentLength || head->content_length > 0);
  } else {
    int status = HttpStatusForError(head.status());
    HEARTH_CHECK(status == 400 || status == 413 || status == 431 || status == 501 || status == 505);
    (void)ErrorBody(ErrorCodeForStatus(status), head.status().message());
  }

  std::string decoded;
  (void)PercentDecode(text, &decoded);
  HEARTH_CHECK(decoded.size() <= text.size());

  // The decoder must not depend on how the bytes are split.
  std::string whole, split;
  size_t whole_used = 0, split_used = 0;
  bool whole_ok = DecodeChunked(text, text.size() + 1, &whole, &whole_used);
  size_t step = size > 0 ? 1 + data[0] % 7 : 1;
  bool split_ok = DecodeChunked(text, step, &split, &split_used);
  HEARTH_CHECK(whole_ok == split_ok, "chunked result depends on the split");
  if (whole_ok) HEARTH_CHECK(whole == split && whole_used == split_used, "chunked split mismatch");
  return 0;
}
