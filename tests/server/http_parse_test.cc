// The pure HTTP/1.1 parsing functions: request heads, framing, chunked bodies,
// the status mapping and the error envelope.
#include "server/http/http_parse.h"

#include <gtest/gtest.h>

#include <string>

#include "base/json.h"

namespace hearth::server {
namespace {

struct HeadCase {
  const char* name;
  std::string head;
  const char* reason;  // "" = parses
  int status;          // HttpStatusForError when it fails
};

TEST(HttpParseTest, HeadTable) {
  std::string many = "GET / HTTP/1.1\r\n";
  for (int i = 0; i <= 100; ++i) many += "X-" + std::to_string(i) + ": v\r\n";
  many += "\r\n";
  const HeadCase cases[] = {
      {"simple", "GET / HTTP/1.1\r\nHost: x\r\n\r\n", "", 0},
      {"bare LF", "GET / HTTP/1.0\n\n", "", 0},
      {"asterisk", "OPTIONS * HTTP/1.1\r\n\r\n", "", 0},
      {"absolute form", "GET http://h:1/v1?q HTTP/1.1\r\n\r\n", "", 0},
      {"empty value", "GET / HTTP/1.1\r\nX-Empty:\r\n\r\n", "", 0},
      {"same lengths", "POST / HTTP/1.1\r\nContent-Length: 5, 5\r\nContent-Length: 5\r\n\r\n", "",
       0},
      {"obs-text value", "GET / HTTP/1.1\r\nX: caf\xc3\xa9\r\n\r\n", "", 0},
      {"empty", "", "http.incomplete_head", 400},
      {"no end", "GET / HTTP/1.1\r\nHost: x\r\n", "http.incomplete_head", 400},
      {"trailing bytes", "GET / HTTP/1.1\r\n\r\nx", "http.trailing_bytes", 400},
      {"two words", "GET /\r\n\r\n", "http.bad_request_line", 400},
      {"garbage", "hello\r\n\r\n", "http.bad_request_line", 400},
      {"bad method", "G(T / HTTP/1.1\r\n\r\n", "http.bad_method", 400},
      {"empty target", "GET  HTTP/1.1\r\n\r\n", "http.bad_target", 400},
      {"relative target", "GET foo HTTP/1.1\r\n\r\n", "http.bad_target", 400},
      {"ctl in target", "GET /\x01 HTTP/1.1\r\n\r\n", "http.bad_target", 400},
      {"star for GET", "GET * HTTP/1.1\r\n\r\n", "http.bad_target", 400},
      {"no host", "GET http:///x HTTP/1.1\r\n\r\n", "http.bad_target", 400},
      {"bad escape", "GET /%zz HTTP/1.1\r\n\r\n", "http.bad_percent_encoding", 400},
      {"short escape", "GET /a%2 HTTP/1.1\r\n\r\n", "http.bad_percent_encoding", 400},
      {"lower-case version", "GET / http/1.1\r\n\r\n", "http.bad_version", 400},
      {"space after version", "GET / HTTP/1.1 \r\n\r\n", "http.bad_version", 400},
      {"space in target", "GET /a b HTTP/1.1\r\n\r\n", "http.bad_version", 400},
      {"HTTP/2.0", "GET / HTTP/2.0\r\n\r\n", "http.unsupported_version", 505},
      {"h2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "http.unsupported_version", 505},
      {"no colon", "GET / HTTP/1.1\r\nHost x\r\n\r\n", "http.bad_header", 400},
      {"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", "http.bad_header", 400},
      {"empty name", "GET / HTTP/1.1\r\n: x\r\n\r\n", "http.bad_header", 400},
      {"folded", "GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", "http.obsolete_line_folding", 400},
      {"ctl in value", "GET / HTTP/1.1\r\nX: a\x01\r\n\r\n", "http.bad_header_value", 400},
      {"bare CR", "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", "http.bad_line_ending", 400},
      {"101 headers", many, "http.too_many_headers", 431},
      {"bad length", "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", "http.bad_content_length",
       400},
      {"negative length", "POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
       "http.bad_content_length", 400},
      {"empty length", "POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", "http.bad_content_length",
       400},
      {"huge length", "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
       "http.bad_content_length", 400},
      {"conflicting list", "POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n",
       "http.conflicting_content_length", 400},
      {"conflicting headers", "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
       "http.conflicting_content_length", 400},
      {"TE and CL", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
       "http.conflicting_framing", 400},
      {"TE not chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
       "http.bad_transfer_encoding", 400},
      {"chunked twice", "POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
       "http.bad_transfer_encoding", 400},
      {"TE in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n",
       "http.bad_transfer_encoding", 400},
      {"gzip then chunked", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       "http.unsupported_transfer_encoding", 501},
  };
  for (const HeadCase& c : cases) {
    SCOPED_TRACE(c.name);
    Result<ParsedHead> head = ParseRequestHead(c.head);
    if (*c.reason == '\0') {
      EXPECT_TRUE(head.ok()) << head.status().ToString();
    } else {
      ASSERT_FALSE(head.ok());
      EXPECT_EQ(head.status().reason(), c.reason) << head.status().ToString();
      EXPECT_EQ(HttpStatusForError(head.status()), c.status);
      EXPECT_FALSE(head.status().message().empty());
    }
  }
}

TEST(HttpParseTest, FieldsOfAValidHead) {
  Result<ParsedHead> h = ParseRequestHead(
      "POST /v1/a%20b?x=1&y=%20 HTTP/1.1\r\nHOST: example\r\nX-Pad:   a b \t\r\n"
      "Content-Length: 12\r\nexpect: 100-Continue\r\nX-Pad: second\r\n\r\n");
  ASSERT_TRUE(h.ok()) << h.status().ToString();
  EXPECT_EQ(h->method, "POST");
  EXPECT_EQ(h->target, "/v1/a%20b?x=1&y=%20");
  EXPECT_EQ(h->path, "/v1/a%20b");
  EXPECT_EQ(h->decoded_path, "/v1/a b");
  EXPECT_EQ(h->query, "x=1&y=%20");
  EXPECT_EQ(h->version_minor, 1);
  ASSERT_EQ(h->headers.size(), 5u);
  EXPECT_EQ(h->headers[0].first, "host");
  ASSERT_NE(h->Header("x-pad"), nullptr);
  EXPECT_EQ(*h->Header("x-pad"), "a b");   // the first, trimmed
  EXPECT_EQ(h->Header("X-Pad"), nullptr);  // lookups take lower-case names
  EXPECT_EQ(h->body_kind, BodyKind::kContentLength);
  EXPECT_EQ(h->content_length, 12u);
  EXPECT_TRUE(h->keep_alive);
  EXPECT_TRUE(h->expect_continue);

  Result<ParsedHead> abs = ParseRequestHead("GET HTTP://host:8080?q=1 HTTP/1.1\r\n\r\n");
  ASSERT_TRUE(abs.ok());
  EXPECT_EQ(abs->path, "/");
  EXPECT_EQ(abs->query, "q=1");
}

TEST(HttpParseTest, ConnectionAndVersionRules) {
  struct Case {
    std::string head;
    bool keep_alive, expect_continue;
    BodyKind body;
  };
  const Case cases[] = {
      {"GET / HTTP/1.1\r\n\r\n", true, false, BodyKind::kNone},
      {"GET / HTTP/1.1\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", false, false, BodyKind::kNone},
      {"GET / HTTP/1.0\r\n\r\n", false, false, BodyKind::kNone},
      {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true, false, BodyKind::kNone},
      {"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", false, false,
       BodyKind::kContentLength},
      {"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", true, false, BodyKind::kNone},
      {"POST / HTTP/1.1\r\nTransfer-Encoding: Chunked\r\n\r\n", true, false, BodyKind::kChunked},
      {"GET / HTTP/1.9\r\n\r\n", true, false, BodyKind::kNone},  // a later 1.x is served as 1.1
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.head);
    Result<ParsedHead> h = ParseRequestHead(c.head);
    ASSERT_TRUE(h.ok()) << h.status().ToString();
    EXPECT_EQ(h->keep_alive, c.keep_alive);
    EXPECT_EQ(h->expect_continue, c.expect_continue);
    EXPECT_EQ(h->body_kind, c.body);
  }
}

TEST(HttpParseTest, FindHeadEnd) {
  constexpr size_t npos = std::string_view::npos;
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\n\r\nbody"), 18u);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\n\nbody"), 16u);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n"), npos);
  EXPECT_EQ(FindHeadEnd("GET / HTTP/1.1\r\nHost: x\r\n\r"), npos);
  EXPECT_EQ(FindHeadEnd(""), npos);
  // Resuming from an offset finds the same end.
  std::string s = "GET / HTTP/1.1\r\nA: b\r\n\r\n";
  for (size_t from = 0; from + 3 <= s.size(); ++from) EXPECT_EQ(FindHeadEnd(s, from), s.size());
}

TEST(HttpParseTest, PercentDecode) {
  std::string out;
  EXPECT_TRUE(PercentDecode("/a%2fb%2F%41+c", &out));
  EXPECT_EQ(out, "/a/b/A+c");
  EXPECT_TRUE(PercentDecode("%00", &out));
  EXPECT_EQ(out, std::string(1, '\0'));
  EXPECT_FALSE(PercentDecode("%", &out));
  EXPECT_FALSE(PercentDecode("%4", &out));
  EXPECT_FALSE(PercentDecode("%g0", &out));
}

// Feeds `wire` to a decoder `step` bytes at a time; returns the body or the error reason.
std::string Decode(std::string_view wire, size_t step, size_t limit, size_t* consumed = nullptr) {
  ChunkedDecoder d(limit);
  std::string body;
  size_t pos = 0;
  while (pos < wire.size() && !d.done()) {
    std::string_view piece = wire.substr(pos, step);
    Result<size_t> used = d.Feed(piece, &body);
    if (!used.ok()) return "error:" + used.status().reason();
    pos += *used;
    if (*used < piece.size()) break;
  }
  if (consumed != nullptr) *consumed = pos;
  return d.done() ? body : "incomplete";
}

TEST(HttpParseTest, ChunkedDecoder) {
  const std::string wire = "5\r\nhello\r\n7;ext=1 \r\n, world\r\n0\r\nX-Trailer: t\r\n\r\nNEXT";
  for (size_t step : {1, 2, 3, 7, 100}) {
    size_t consumed = 0;
    EXPECT_EQ(Decode(wire, step, 1 << 20, &consumed), "hello, world") << step;
    EXPECT_EQ(consumed, wire.size() - 4) << "the next request is left unconsumed";
  }
  EXPECT_EQ(Decode("A\nabcdefghij\n0\n\n", 1, 100), "abcdefghij");  // bare LF, upper-case hex
  EXPECT_EQ(Decode("5\r\nhel", 100, 100), "incomplete");
  EXPECT_EQ(Decode("5\r\nhelloX\r\n0\r\n\r\n", 3, 100), "error:http.bad_chunk");
  EXPECT_EQ(Decode("zz\r\n", 1, 100), "error:http.bad_chunk");
  EXPECT_EQ(Decode("\r\n", 1, 100), "error:http.bad_chunk");
  EXPECT_EQ(Decode("5 x\r\n", 1, 100), "error:http.bad_chunk");
  EXPECT_EQ(Decode("ffffffffffffffffff\r\n", 100, 100), "error:http.bad_chunk");
  EXPECT_EQ(Decode("1;" + std::string(5000, 'e') + "\r\n", 100, 100), "error:http.bad_chunk");
  // The limit applies to the declared sizes, before the data arrives.
  EXPECT_EQ(Decode("6\r\n", 100, 10), "incomplete");
  EXPECT_EQ(Decode("6\r\nabcdef\r\n5\r\n", 100, 10), "error:http.body_too_large");
  EXPECT_EQ(Decode("7fffffffffffff\r\n", 100, 10), "error:http.body_too_large");
  EXPECT_EQ(Decode("5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n", 4, 10), "abcdefghij");
  std::string big_trailer = "0\r\n";
  for (int i = 0; i < 400; ++i) big_trailer += "X-T: " + std::string(50, 't') + "\r\n";
  EXPECT_EQ(Decode(big_trailer + "\r\n", 512, 10), "error:http.trailers_too_large");
}

TEST(HttpParseTest, StatusMappingAndErrorBody) {
  EXPECT_EQ(HttpStatusForError(InvalidArgumentError("x", "http.bad_header")), 400);
  EXPECT_EQ(HttpStatusForError(ResourceExhaustedError("x", "http.body_too_large")), 413);
  EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(ReasonPhrase(799), "Unknown");
  EXPECT_EQ(ErrorCodeForStatus(400), "invalid_request");
  EXPECT_EQ(ErrorCodeForStatus(408), "timeout");
  EXPECT_EQ(ErrorCodeForStatus(413), "payload_too_large");
  EXPECT_EQ(ErrorCodeForStatus(431), "header_too_large");
  EXPECT_EQ(ErrorCodeForStatus(503), "overloaded");
  EXPECT_EQ(ErrorCodeForStatus(505), "server_error");

  EXPECT_EQ(ErrorBody("payload_too_large", "too big"),
            R"({"error":{"code":"payload_too_large","message":"too big",)"
            R"("type":"invalid_request_error","param":null}})");
  // Hostile text stays one valid JSON string.
  std::string body =
      ErrorBody("invalid_parameter", "bad \"x\"\n\xff", "invalid_request_error", "temperature");
  Result<json::Value> v = json::Parse(body);
  ASSERT_TRUE(v.ok()) << body;
  const json::Value* error = v->Find("error");
  ASSERT_NE(error, nullptr);
  ASSERT_NE(error->Find("param"), nullptr);
  EXPECT_EQ(error->Find("param")->as_string(), "temperature");
}

}  // namespace
}  // namespace hearth::server
