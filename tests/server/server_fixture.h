// Shared pieces of the server tests: synthetic models, an in-process server on
// a free loopback port, SSE parsing, keys files.
#pragma once

#include <memory>
#include <string>

#include "base/json.h"
#include "http_test_client.h"
#include "server/server.h"

namespace hearth::server::testing {

// A small model (fast) and a larger one (~1 ms per token: slow enough to
// cancel or stall mid-stream). Written once per process.
const std::string& FastModel();
const std::string& SlowModel();
// A tiny model whose trained context is 1M tokens (KV cache planning tests).
const std::string& HugeContextModel();

// Options for a test server: port 0, the given model, no log file.
ServeOptions TestOptions(const std::string& model);
// Starts and waits until ready (fails the test otherwise).
std::unique_ptr<Server> StartServer(const ServeOptions& o);

// A keys file (mode 0600) with one user key "k_user" and one admin key
// "k_admin"; returns its path; the secrets are UserSecret()/AdminSecret().
std::string WriteKeysFile(const std::string& dir);
const std::string& UserSecret();
const std::string& AdminSecret();

// The concatenated delta content (chat) or text (completion) of an SSE body,
// and whether it ended with "data: [DONE]".
struct Sse {
  std::string text;
  std::string finish_reason;
  bool done = false;
  int events = 0;
  json::Value usage;
  std::string model;
};
Sse ParseSse(const std::string& body);

json::Value ParseJson(const std::string& text);
// The error envelope's message, or a description of what came instead.
std::string ErrorMessage(const HttpResult& r);
std::string ErrorCode(const HttpResult& r);
// The value of metric line `name{labels}` in a /metrics body, or -1.
double MetricValue(const std::string& metrics, const std::string& series);

std::string ChatBody(const std::string& content, int max_tokens, bool stream,
                     const std::string& extra = "");

}  // namespace hearth::server::testing
