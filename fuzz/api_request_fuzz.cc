// Fuzzes the API request parser (src/server/api_types.h): every request body
// `serve` accepts goes through ParseApiRequest before anything else sees it.
//
// Input: byte 0 chooses the endpoint (value % 3: chat, completion, /generate)
// and, with bit 2, a bundle's generation defaults; the rest is the body. Any
// body must give either an error or a request, never crash:
// - an error is a 400 with a code, a message and the envelope ErrorJson makes,
//   which parses back to the same code;
// - a request keeps every promise the server relies on: sampling parameters
//   that ValidateSamplingParams accepts, 1 <= max_tokens <= the limit (or the
//   default), at most max_stop_strings non-empty stop strings, a timeout in
//   [0, 86400], a non-empty messages array (chat) or a prompt of 1 to
//   max_prompt_bytes bytes (otherwise).
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/check.h"
#include "base/json.h"
#include "sampling/sampling_params.h"
#include "server/api_types.h"

using namespace hearth;
using namespace hearth::server;

namespace {

const json::Value& Defaults() {
  static const json::Value d = [] {
    Result<json::Value> v = json::Parse(
        R"({"temperature": 0.7, "top_p": 0.9, "top_k": 40, "max_tokens": 64,
            "stop": ["\n\n", "User:"], "seed": 7, "repetition_penalty": 1.1})");
    HEARTH_CHECK(v.ok(), "fuzz defaults do not parse");
    return std::move(v).value();
  }();
  return d;
}

void CheckError(const ApiError& e) {
  HEARTH_CHECK(e.status == 400, "status %d (%s)", e.status, e.code.c_str());
  HEARTH_CHECK(!e.code.empty() && !e.message.empty(), "an error without code or message");
  Result<json::Value> env = json::Parse(ErrorJson(e));
  HEARTH_CHECK(env.ok(), "ErrorJson does not parse: %s", env.status().ToString().c_str());
  const json::Value* err = env->Find("error");
  HEARTH_CHECK(err != nullptr && err->Find("code") != nullptr && err->Find("code")->is_string() &&
                   err->Find("code")->as_string() == e.code,
               "the envelope lost the code");
}

void CheckRequest(Endpoint endpoint, const ApiRequest& r, const ApiLimits& limits) {
  const Status s = sampling::ValidateSamplingParams(r.sampling);
  HEARTH_CHECK(s.ok(), "accepted sampling parameters are invalid: %s", s.ToString().c_str());
  HEARTH_CHECK(r.max_tokens >= 1 && r.max_tokens <= limits.max_tokens_limit, "max_tokens %lld",
               static_cast<long long>(r.max_tokens));
  HEARTH_CHECK(r.stops.size() <= limits.max_stop_strings, "%zu stop strings", r.stops.size());
  for (const std::string& stop : r.stops) HEARTH_CHECK(!stop.empty(), "an empty stop string");
  HEARTH_CHECK(std::isfinite(r.timeout_s) && r.timeout_s >= 0 && r.timeout_s <= 86400, "timeout %g",
               r.timeout_s);
  if (endpoint == Endpoint::kChat) {
    HEARTH_CHECK(r.messages.is_array() && !r.messages.as_array().empty(), "messages");
  } else {
    HEARTH_CHECK(!r.prompt.empty() && r.prompt.size() <= limits.max_prompt_bytes,
                 "prompt of %zu bytes", r.prompt.size());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const Endpoint kEndpoints[] = {Endpoint::kChat, Endpoint::kCompletion,
                                        Endpoint::kGenerate};
  const Endpoint endpoint = kEndpoints[(data[0] & 3) % 3];
  const json::Value none;
  const json::Value& defaults = (data[0] & 4) != 0 ? Defaults() : none;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  ApiLimits limits;
  limits.max_prompt_bytes = 2048;  // small, so that the fuzzer reaches the limit
  limits.max_stop_strings = 4;
  const std::variant<ApiRequest, ApiError> parsed =
      ParseApiRequest(endpoint, body, limits, defaults);
  if (const ApiError* e = std::get_if<ApiError>(&parsed)) {
    CheckError(*e);
  } else {
    CheckRequest(endpoint, std::get<ApiRequest>(parsed), limits);
  }
  return 0;
}
