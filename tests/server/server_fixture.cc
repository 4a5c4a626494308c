#include "server_fixture.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <sstream>

#include "base/mapped_file.h"
#include "format/ggml_types.h"
#include "model/synth.h"
#include "server/support/auth.h"
#include "testing/test_paths.h"

namespace hearth::server::testing {
namespace {

std::string ModelDir() {
  static const std::string* dir = [] {
    auto* d = new std::string(::hearth::testing::BinaryDir() + "/test_tmp/server-models");
    std::filesystem::create_directories(*d);
    return d;
  }();
  return *dir;
}

std::string Synth(const std::string& name, const std::string& dims) {
  const std::string path = ModelDir() + "/" + name + ".gguf";
  if (std::filesystem::exists(path)) return path;
  SynthOptions o;
  o.dims = *SynthPreset("tiny");
  EXPECT_TRUE(ApplyDimsOverrides(dims, &o.dims).ok());
  o.type = GgmlType::kQ8_0;
  o.threads = 2;
  Status s = WriteSynthModel(o, path);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return path;
}

}  // namespace

const std::string& FastModel() {
  static const std::string p = Synth("fast", "n_ctx=1024");
  return p;
}

const std::string& SlowModel() {
  static const std::string p = Synth("slow", "n_embd=512,n_ff=1536,n_layer=8,n_ctx=4096");
  return p;
}

const std::string& HugeContextModel() {
  static const std::string p = Synth("hugectx", "n_ctx=1048576");
  return p;
}

ServeOptions TestOptions(const std::string& model) {
  ServeOptions o;
  o.model_path = model;
  o.port = 0;
  o.ctx = 1024;
  o.parallel = 2;
  o.threads = 2;
  o.drain_ms = 2000;
  return o;
}

std::unique_ptr<Server> StartServer(const ServeOptions& o) {
  Result<std::unique_ptr<Server>> s = Server::Start(o);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return nullptr;
  EXPECT_TRUE((*s)->WaitReady(30000)) << "server did not become ready";
  return std::move(s).value();
}

const std::string& UserSecret() {
  static const std::string s = "hk_test_user_secret_0123456789";
  return s;
}
const std::string& AdminSecret() {
  static const std::string s = "hk_test_admin_secret_9876543210";
  return s;
}

std::string WriteKeysFile(const std::string& dir) {
  ApiKeys keys;
  EXPECT_TRUE(keys.Add("k_user", Role::kUser, HashApiKey(UserSecret())).ok());
  EXPECT_TRUE(keys.Add("k_admin", Role::kAdmin, HashApiKey(AdminSecret())).ok());
  const std::string path = dir + "/keys.json";
  EXPECT_TRUE(WriteFileAtomic(path, keys.ToJson()).ok());
  ::chmod(path.c_str(), 0600);
  return path;
}

json::Value ParseJson(const std::string& text) {
  Result<json::Value> v = json::Parse(text);
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : json::Value();
}

std::string ErrorMessage(const HttpResult& r) {
  Result<json::Value> v = json::Parse(r.body);
  if (!v.ok())
    return "<not json (status " + std::to_string(r.status) + "): " + r.body.substr(0, 200) + ">";
  const json::Value* e = v->Find("error");
  const json::Value* m = e ? e->Find("message") : nullptr;
  return m && m->is_string() ? m->as_string() : "<no error message: " + r.body.substr(0, 200) + ">";
}

std::string ErrorCode(const HttpResult& r) {
  Result<json::Value> v = json::Parse(r.body);
  if (!v.ok()) return "<not json: " + r.body.substr(0, 200) + ">";
  const json::Value* e = v->Find("error");
  const json::Value* c = e ? e->Find("code") : nullptr;
  return c && c->is_string() ? c->as_string() : "<no error code: " + r.body.substr(0, 200) + ">";
}

Sse ParseSse(const std::string& body) {
  Sse s;
  std::istringstream in(body);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("data: ", 0) != 0) continue;
    const std::string data = line.substr(6);
    if (data == "[DONE]") {
      s.done = true;
      continue;
    }
    ++s.events;
    Result<json::Value> v = json::Parse(data);
    if (!v.ok()) continue;
    if (const json::Value* m = v->Find("model"); m && m->is_string()) s.model = m->as_string();
    if (const json::Value* u = v->Find("usage"); u && u->is_object()) s.usage = *u;
    const json::Value* choices = v->Find("choices");
    if (!choices || !choices->is_array()) continue;
    for (const json::Value& c : choices->as_array()) {
      if (const json::Value* d = c.Find("delta"))
        if (const json::Value* t = d->Find("content"); t && t->is_string())
          s.text += t->as_string();
      if (const json::Value* t = c.Find("text"); t && t->is_string()) s.text += t->as_string();
      if (const json::Value* f = c.Find("finish_reason"); f && f->is_string())
        s.finish_reason = f->as_string();
    }
  }
  return s;
}

double MetricValue(const std::string& metrics, const std::string& series) {
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

std::string ChatBody(const std::string& content, int max_tokens, bool stream,
                     const std::string& extra) {
  json::Value msg = json::Value::Object{{"role", "user"}, {"content", content}};
  std::string body = json::Serialize(json::Value::Object{
      {"messages", json::Value::Array{msg}}, {"max_tokens", max_tokens}, {"stream", stream}});
  if (!extra.empty()) body = body.substr(0, body.size() - 1) + "," + extra + "}";
  return body;
}

}  // namespace hearth::server::testing
