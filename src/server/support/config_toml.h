// `hearth serve --config hearth.toml`: the config file (DESIGN §6).
//
// Every command-line flag is also a config key, so the server turns the file
// into `--name value` pairs (ConfigToArgs) and feeds them through the same
// flag parser as argv, config first, so a flag given on the command line wins
// (the parser keeps the last occurrence).
//
//   host = "0.0.0.0"            # --host 0.0.0.0
//   port = 8080                 # --port 8080
//   api_keys = "/etc/hearth/keys.json"   # --api-keys …  ('_' and '-' are the same)
//   stream = true               # --stream            (false: omitted)
//   stop = ["</s>", "###"]      # --stop </s>,###
//   [limits]
//   max_body_bytes = 1_048_576  # --limits-max-body-bytes 1048576
//
// The accepted language is a strict subset of TOML 1.0:
//   - comments (#) to the end of a line; LF or CRLF line ends; an optional
//     UTF-8 byte order mark at the start;
//   - `key = value` on one line (an array may continue over several lines);
//     keys bare ([A-Za-z0-9_-]+) or quoted ("…" with escapes, '…' literal),
//     quoted keys non-empty and without '.';
//   - values: basic strings "…" with \b \t \n \f \r \" \\ \uXXXX \UXXXXXXXX,
//     literal strings '…', decimal integers (sign, '_' between digits, no
//     leading zeros, int64 range), floats (1.5, -2e-3, 6.02_2e23; finite),
//     true/false, and arrays of these (mixed types allowed, trailing comma
//     allowed, comments and newlines between elements);
//   - [table] and [dotted.table] headers; key k under [a.b] is "a.b.k".
// Rejected as errors rather than half-supported: dotted keys on the left of
// '=', inline tables {…}, arrays of tables [[…]], nested arrays, multi-line
// strings, dates and times, hex/octal/binary integers, inf and nan.
//
// Every error is InvalidArgumentError with reason "config.syntax" and the
// message "<file>:LINE:COL: what is wrong" (1-based; COL counts bytes).
// Errors include duplicate keys, a table defined twice, a key that is both a
// value and a table, invalid UTF-8 and control characters other than tab.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"
#include "base/status.h"

namespace hearth::server {

// A flat object {"dotted.key": value, …} in document order. Values are
// strings, int64 integers, doubles, booleans or arrays of those. `file_name`
// only labels error messages.
Result<json::Value> ParseConfigToml(std::string_view text,
                                    std::string_view file_name = "hearth.toml");

// Reads `path` (at most 1 MiB) and parses it; errors are labelled with `path`.
Result<json::Value> LoadConfigToml(const std::string& path);

// The flag spelling of a config key: a leading "--" is dropped and '_' and
// '.' become '-': "api_keys" and "api-keys" → "api-keys",
// "limits.max_body_bytes" → "limits-max-body-bytes". Case is kept.
std::string CanonicalFlagName(std::string_view key);

// The flat table as (flag, value) pairs in document order, e.g.
// ("--port", "8080"). Strings are passed as-is; integers in decimal; other
// numbers in their shortest exact form ("2.5"); true gives ("--name", "")
// (a switch) and false gives nothing; arrays are comma-joined ("a,b").
// Because an empty value marks a switch, empty strings and empty arrays are
// rejected (leave the key out instead), as are array elements that contain
// ',' or are empty (the join could not be split back), NUL characters, nested
// arrays, objects and null. Two keys with the same flag name ("api_keys" and
// "api-keys", or [limits] rate and "limits-rate") are an error too.
// Errors: InvalidArgumentError, reason "config.key" (name problems) or
// "config.value", message naming the key.
Result<std::vector<std::pair<std::string, std::string>>> ConfigToArgs(const json::Value& flat);

}  // namespace hearth::server
