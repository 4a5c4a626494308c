// Fuzzes the hearth.toml parser (src/server/support/config_toml.h). Any bytes
// must be rejected with a "config.syntax" status naming file:line:col, or
// accepted as a flat table of scalars and scalar arrays that survives being
// written back as TOML and parsed again. ConfigToArgs must then accept or
// reject the table without crashing.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "base/check.h"
#include "base/json.h"
#include "base/strings.h"
#include "server/support/config_toml.h"

using namespace hearth;
using namespace hearth::server;

namespace {

// A TOML basic string for `s` (escapes quote, backslash and control bytes).
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (u < 0x20 || u == 0x7F) {
      out += StrFormat("\\u%04X", u);
    } else {
      out.push_back(c);
    }
  }
  return out + "\"";
}

std::string Scalar(const json::Value& v) {
  if (v.is_bool()) return v.as_bool() ? "true" : "false";
  if (v.is_string()) return Quote(v.as_string());
  HEARTH_CHECK(v.is_number(), "unexpected value type in a parsed config");
  if (v.is_integer()) return std::to_string(v.as_int());
  // Scientific always has an exponent, so it reads back as a float, never as
  // an out-of-range integer ("12345678901234567000").
  char buf[40];
  const auto r =
      std::to_chars(buf, buf + sizeof(buf), v.as_double(), std::chars_format::scientific);
  return std::string(buf, r.ptr);
}

// The flat table as TOML: top-level keys, then one [header] per table in the
// order first seen (each table's keys are contiguous in document order).
std::string Emit(const json::Value& flat) {
  std::string out, table;
  for (const auto& member : flat.as_object()) {
    const std::string& key = member.first;
    const size_t dot = key.rfind('.');
    const std::string t = dot == std::string::npos ? "" : key.substr(0, dot);
    if (t != table) {
      std::string header;
      for (std::string_view part : StrSplit(t, '.'))
        header += (header.empty() ? "" : ".") + Quote(part);
      out += "[" + header + "]\n";
      table = t;
    }
    out += Quote(dot == std::string::npos ? key : key.substr(dot + 1)) + " = ";
    if (member.second.is_array()) {
      out += "[";
      for (const json::Value& item : member.second.as_array()) out += Scalar(item) + ", ";
      out += "]";
    } else {
      out += Scalar(member.second);
    }
    out += "\n";
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Result<json::Value> flat = ParseConfigToml(text);
  if (!flat.ok()) {
    HEARTH_CHECK(flat.status().reason() == "config.syntax", "unexpected reason %s",
                 flat.status().reason().c_str());
    HEARTH_CHECK(StartsWith(flat.status().message(), "hearth.toml:"), "message lacks file:line");
    return 0;
  }
  HEARTH_CHECK(flat->is_object(), "the result must be a flat object");
  for (const auto& member : flat->as_object()) {
    HEARTH_CHECK(!member.first.empty(), "empty key");
    HEARTH_CHECK(!member.second.is_object() && !member.second.is_null(), "non-flat value");
    if (member.second.is_array())
      for (const json::Value& item : member.second.as_array())
        HEARTH_CHECK(!item.is_array() && !item.is_object(), "nested array");
  }
  const std::string again_text = Emit(*flat);
  Result<json::Value> again = ParseConfigToml(again_text);
  HEARTH_CHECK(again.ok(), "re-emitted config does not parse: %s\n%s",
               again.status().ToString().c_str(), again_text.c_str());
  HEARTH_CHECK(*again == *flat, "config round trip changed the table:\n%s", again_text.c_str());

  Result<std::vector<std::pair<std::string, std::string>>> args = ConfigToArgs(*flat);
  if (args.ok()) {
    for (const auto& arg : *args) HEARTH_CHECK(StartsWith(arg.first, "--"), "flag without --");
  } else {
    const Status status = args.status();  // status() returns a copy: keep it alive
    const std::string& reason = status.reason();
    HEARTH_CHECK(reason == "config.key" || reason == "config.value", "unexpected reason %s",
                 reason.c_str());
  }
  return 0;
}
