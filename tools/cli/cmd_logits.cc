// `hearth logits`: float32 logits for every prompt position, in the byte layout
// of shared/testdata/golden: raw little-endian [n_positions][n_vocab].
#include <cstdio>

#include "args.h"
#include "base/file_writer.h"
#include "base/json_writer.h"
#include "base/mapped_file.h"
#include "commands.h"
#include "engine_cli.h"

namespace hearth::cli {

int RunLogits(int argc, char** argv) {
  ArgParser p("hearth logits",
              "Evaluate a prompt as one batch and write the logits of every position as raw\n"
              "little-endian float32, row-major [n_positions][n_vocab] (the layout of the golden\n"
              "test data). BOS is added as the model's tokenizer says.");
  AddEngineOptions(p);
  p.Option("prompt", 'p', "TEXT", "the prompt (or --file)");
  p.Option("file", 'f', "FILE", "read the prompt from a file");
  p.Option("output", 'o', "OUT.f32", "where to write the logits (required)");
  p.Option("json", 0, "META.json", "also write the prompt ids and shapes as JSON");
  p.Epilog(
      "Example:\n  hearth logits -m model.gguf -p \"Once upon a time\" -o once.f32 --kv-type f32");
  auto args = p.Parse(argc, argv);
  if (!args.ok()) return ReportError("logits", args.status());
  if (args->help) {
    std::printf("%s", p.Help().c_str());
    return kExitOk;
  }
  auto setup = ParseEngineOptions(*args);
  if (!setup.ok()) return ReportError("logits", setup.status());
  const std::string out_path = args->Get("output");
  if (out_path.empty())
    return ReportError("logits", InvalidArgumentError("missing -o OUT.f32", "cli.usage"));
  std::string prompt = args->Get("prompt");
  if (args->Has("file")) {
    auto r = ReadFileToString(args->Get("file"));
    if (!r.ok()) return ReportError("logits", r.status());
    prompt = std::move(r).value();
  } else if (!args->Has("prompt")) {
    return ReportError("logits", InvalidArgumentError("give -p TEXT or --file FILE", "cli.usage"));
  }
  auto loaded = LoadModelAndTokenizer(*setup);
  if (!loaded.ok()) return ReportError("logits", loaded.status());
  std::vector<int32_t> ids = loaded->tokenizer->Encode(prompt);
  if (ids.empty()) return ReportError("logits", InvalidArgumentError("the prompt has no tokens"));
  SessionOptions so = setup->session;
  if (so.n_ctx <= 0) so.n_ctx = std::max<int>(static_cast<int>(ids.size()), 512);
  auto session = Session::Create(loaded->model, so);
  if (!session.ok()) return ReportError("logits", session.status());
  std::vector<float> logits;
  Status st = (*session)->Eval(ids, true, &logits);
  if (!st.ok()) return ReportError("logits", st);

  auto w = FileWriter::Create(out_path);
  if (!w.ok()) return ReportError("logits", w.status());
  st = w->Write(logits.data(), logits.size() * sizeof(float));
  if (st.ok()) st = w->Commit();
  if (!st.ok()) return ReportError("logits", st);

  const int64_t n_vocab = static_cast<int64_t>(loaded->model->hparams().n_vocab);
  if (args->Has("json")) {
    json::Writer j(2);
    j.BeginObject();
    j.Key("model"), j.String(setup->model_path);
    j.Key("prompt"), j.String(prompt);
    j.Key("prompt_ids");
    j.BeginArray();
    for (int32_t id : ids) j.Int(id);
    j.EndArray();
    j.Key("n_positions"), j.Uint(ids.size());
    j.Key("n_vocab"), j.Int(n_vocab);
    j.Key("kv_type"), j.String(KvTypeName(so.kv_type));
    j.Key("threads"), j.Int((*session)->n_threads());
    j.Key("isa"), j.String(kernels::IsaName((*session)->isa()));
    j.Key("logits_file"), j.String(out_path);
    j.EndObject();
    Status js = WriteFileAtomic(args->Get("json"), j.str() + "\n");
    if (!js.ok()) return ReportError("logits", js);
  }
  std::fprintf(stderr, "logits: %zu positions x %lld vocab -> %s\n", ids.size(),
               static_cast<long long>(n_vocab), out_path.c_str());
  return kExitOk;
}

}  // namespace hearth::cli
