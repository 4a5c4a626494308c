// `hearth tokenize`: text -> ids (and ids -> text) with a model's tokenizer,
// from a GGUF file or a Hugging Face tokenizer.json; `--bench` measures speed.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <iterator>

#include "args.h"
#include "base/json_writer.h"
#include "base/mapped_file.h"
#include "base/strings.h"
#include "bench_text.h"
#include "commands.h"
#include "format/gguf.h"
#include "model/vocab_gguf.h"
#include "tokenizer/hf_json.h"
#include "tokenizer/tokenizer.h"

namespace hearth::cli {
namespace {

Result<std::unique_ptr<tok::Tokenizer>> LoadAny(const std::string& path) {
  if (EndsWith(path, ".json")) {
    HEARTH_ASSIGN_OR_RETURN(tok::VocabData v, tok::VocabFromHfFile(path));
    auto t = tok::Tokenizer::Create(std::move(v));
    if (!t.ok()) return t.status().WithContext("'" + path + "'");
    return t;
  }
  HEARTH_ASSIGN_OR_RETURN(GgufFile f, GgufFile::Open(path));
  auto t = LoadTokenizer(f);
  if (!t.ok()) return t.status().WithContext("'" + path + "'");
  return t;
}

Result<std::vector<int32_t>> ParseIds(const std::string& s, int32_t n_vocab) {
  std::vector<int32_t> ids;
  std::string cleaned = s;
  for (char& c : cleaned) {
    if (c == ',' || c == '[' || c == ']' || c == '\n' || c == '\t') c = ' ';
  }
  for (std::string_view part : StrSplit(cleaned, ' ')) {
    if (part.empty()) continue;
    int64_t v = 0;
    if (!ParseInt64(part, &v) || v < 0 || v >= n_vocab) {
      return InvalidArgumentError(StrFormat("--decode: '%s' is not a token id (0..%d)",
                                            std::string(part).c_str(), n_vocab - 1),
                                  "cli.bad_value");
    }
    ids.push_back(static_cast<int32_t>(v));
  }
  return ids;
}

int RunBench(const tok::Tokenizer& t, const std::string& path, size_t mb, int reps, bool as_json) {
  const std::string text = MakeBenchText(mb << 20);
  tok::EncodeOptions opts;
  opts.add_special = false;
  std::vector<double> secs;
  size_t n_tokens = 0;
  (void)t.Encode(text.substr(0, 4096), opts);  // warm-up
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<int32_t> ids = t.Encode(text, opts);
    secs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    n_tokens = ids.size();
  }
  std::vector<double> sorted = secs;
  std::sort(sorted.begin(), sorted.end());
  const double median = sorted[sorted.size() / 2];
  const double mbps = static_cast<double>(text.size()) / 1e6 / median;
  const double tps = static_cast<double>(n_tokens) / median;
  if (as_json) {
    json::Writer w;
    w.BeginObject();
    w.Key("test"), w.String("tokenize");
    w.Key("tokenizer"), w.String(path.substr(path.rfind('/') + 1));
    w.Key("bytes"), w.Uint(text.size());
    w.Key("tokens"), w.Uint(n_tokens);
    w.Key("mb_per_second"), w.Double(mbps);
    w.Key("tokens_per_second"), w.Double(tps);
    w.Key("samples_seconds");
    w.BeginArray();
    for (double s : secs) w.Double(s);
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
  } else {
    std::printf(
        "tokenize bench: %s\n  text   %zu bytes (English, code, multilingual), %zu tokens\n"
        "  speed  %.2f MB/s, %.0f tokens/s (median of %d runs; min %.3f s, max %.3f s)\n",
        path.c_str(), text.size(), n_tokens, mbps, tps, reps, sorted.front(), sorted.back());
  }
  return kExitOk;
}

}  // namespace

int RunTokenize(int argc, char** argv) {
  ArgParser p("hearth tokenize",
              "Turn text into token ids with the tokenizer of a GGUF model or a Hugging Face\n"
              "tokenizer.json (its tokenizer_config.json is read from the same directory).\n"
              "Special-token text such as <|im_start|> stays plain text unless --special.");
  p.Positional("MODEL", "a .gguf file or a tokenizer.json");
  p.Positional("TEXT", "the text (or use --file / --stdin)", false);
  p.Flag("ids", 0, "print the ids, space-separated (the default)");
  p.Flag("pieces", 0, "print one line per token: id and piece");
  p.Flag("json", 0, "print {\"ids\": [...], \"pieces\": [...]} ");
  p.Flag("special", 0, "recognise special tokens (control tokens) written in the text");
  p.Flag("no-bos", 0, "do not add BOS/EOS even if the tokenizer normally does");
  p.Option("file", 'f', "FILE", "read the text from a file");
  p.Flag("stdin", 0, "read the text from standard input");
  p.Option("decode", 'd', "IDS", "decode these ids (\"1 2 3\" or \"1,2,3\") instead of encoding");
  p.Flag("bench", 0, "measure encoding speed on ~1 MB of mixed text");
  p.Option("bench-mb", 0, "N", "size of the benchmark text in MiB", "1");
  p.Option("repeat", 'r', "N", "benchmark repetitions", "5");
  p.Epilog(
      "Examples:\n"
      "  hearth tokenize model.gguf \"Hello world\"\n"
      "  hearth tokenize tokenizer.json --file prompt.txt --pieces\n"
      "  hearth tokenize model.gguf --decode \"15043 3186\"\n"
      "  hearth tokenize model.gguf --bench --json");
  auto args = p.Parse(argc, argv);
  if (!args.ok()) return ReportError("tokenize", args.status());
  if (args->help) {
    std::printf("%s", p.Help().c_str());
    return kExitOk;
  }
  const std::string path = args->positionals[0];
  int sources = (args->positionals.size() > 1) + args->Has("file") + args->Has("stdin") +
                args->Has("decode") + args->Has("bench");
  if (sources != 1) {
    return ReportError("tokenize",
                       InvalidArgumentError("give exactly one of TEXT, --file, --stdin, --decode "
                                            "or --bench (see 'hearth tokenize --help')",
                                            "cli.usage"));
  }
  auto reps = args->GetInt("repeat", 5, 1, 1000);
  if (!reps.ok()) return ReportError("tokenize", reps.status());
  auto mb = args->GetInt("bench-mb", 1, 1, 1024);
  if (!mb.ok()) return ReportError("tokenize", mb.status());

  auto tokenizer = LoadAny(path);
  if (!tokenizer.ok()) return ReportError("tokenize", tokenizer.status());
  const tok::Tokenizer& t = **tokenizer;

  if (args->Has("bench")) {
    return RunBench(t, path, static_cast<size_t>(*mb), static_cast<int>(*reps), args->Has("json"));
  }
  if (args->Has("decode")) {
    auto ids = ParseIds(args->Get("decode"), t.n_vocab());
    if (!ids.ok()) return ReportError("tokenize", ids.status());
    std::string text = t.Decode(*ids);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::printf("\n");
    return kExitOk;
  }

  std::string text;
  if (args->positionals.size() > 1) {
    text = args->positionals[1];
  } else if (args->Has("file")) {
    auto r = ReadFileToString(args->Get("file"));
    if (!r.ok()) return ReportError("tokenize", r.status());
    text = std::move(r).value();
  } else {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  }
  tok::EncodeOptions opts;
  opts.parse_special = args->Has("special");
  opts.add_special = !args->Has("no-bos");
  std::vector<int32_t> ids = t.Encode(text, opts);

  if (args->Has("json")) {
    json::Writer w;
    w.BeginObject();
    w.Key("n_tokens"), w.Uint(ids.size());
    w.Key("ids");
    w.BeginArray();
    for (int32_t id : ids) w.Int(id);
    w.EndArray();
    w.Key("pieces");
    w.BeginArray();
    for (int32_t id : ids) w.String(t.TokenToPiece(id));
    w.EndArray();
    w.EndObject();
    std::printf("%s\n", w.str().c_str());
  } else if (args->Has("pieces")) {
    for (int32_t id : ids) {
      std::printf("%6d  '%s'\n", id, EscapeForDisplay(t.TokenToPiece(id), 60).c_str());
    }
  } else {
    std::string line;
    for (int32_t id : ids) line += (line.empty() ? "" : " ") + std::to_string(id);
    std::printf("%s\n", line.c_str());
  }
  return kExitOk;
}

}  // namespace hearth::cli
