// Helpers shared by the chat-template unit tests.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "base/json.h"
#include "tokenizer/chat/template.h"

namespace hearth::chat::testing_util {

// Renders `source` with the JSON object `context`; a failure is reported and gives "<error>".
inline std::string Render(const std::string& source, const std::string& context = "{}") {
  auto ctx = json::Parse(context);
  EXPECT_TRUE(ctx.ok()) << ctx.status().ToString();
  if (!ctx.ok()) return "<error>";
  auto t = Template::Parse(source);
  EXPECT_TRUE(t.ok()) << source << ": " << t.status().ToString();
  if (!t.ok()) return "<error>";
  auto out = t->Render(*ctx);
  EXPECT_TRUE(out.ok()) << source << ": " << out.status().ToString();
  return out.ok() ? *out : "<error>";
}

// The error of parsing or rendering `source`; success is reported.
inline Status RenderError(const std::string& source, const std::string& context = "{}",
                          const RenderLimits& limits = {}) {
  auto t = Template::Parse(source);
  if (!t.ok()) return t.status();
  auto out = t->Render(*json::Parse(context), limits);
  EXPECT_FALSE(out.ok()) << source << " rendered " << *out;
  return out.ok() ? Status() : out.status();
}

}  // namespace hearth::chat::testing_util
