#include "deploy/bundle.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "base/build_info.h"
#include "base/file_writer.h"
#include "base/sha256.h"
#include "base/strings.h"
#include "deploy/semver.h"
#include "deploy/tar.h"
#include "tokenizer/chat/template.h"

namespace hearth::deploy {
namespace {

constexpr size_t kChunk = size_t{1} << 20;

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads exactly n bytes at `offset` (short file = DataLoss naming it).
Status PreadAll(int fd, void* buf, size_t n, uint64_t offset, const std::string& name) {
  auto* p = static_cast<uint8_t*>(buf);
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoError("reading '" + name + "'", errno);
    }
    if (r == 0) return DataLossError("'" + name + "' ended early", "bundle.truncated");
    p += r, n -= static_cast<size_t>(r), offset += static_cast<uint64_t>(r);
  }
  return Status::Ok();
}

bool IsTarPath(const std::string& path) {
  return EndsWith(path, ".tar");
}

std::string BaseName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

Result<std::unique_ptr<BundleReader>> BundleReader::Open(const std::string& path) {
  auto r = std::unique_ptr<BundleReader>(new BundleReader());
  r->path_ = path;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return ErrnoError("bundle '" + path + "'", errno);
  if (S_ISDIR(st.st_mode)) {
    HEARTH_RETURN_IF_ERROR(r->Walk(path, ""));
  } else if (S_ISREG(st.st_mode)) {
    r->is_tar_ = true;
    Result<std::vector<TarMember>> members = ListTar(path);
    if (!members.ok()) return members.status().WithContext("bundle '" + path + "'");
    for (const TarMember& m : *members)
      if (!m.is_dir) r->files_.push_back({m.path, m.size, m.data_offset});
  } else {
    return InvalidArgumentError("bundle '" + path + "' is neither a directory nor a tar file",
                                "bundle.not_a_bundle");
  }
  std::sort(r->files_.begin(), r->files_.end(),
            [](const Entry& a, const Entry& b) { return a.path < b.path; });
  return r;
}

Status BundleReader::Walk(const std::string& dir, const std::string& prefix) {
  HEARTH_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(dir));
  for (const std::string& name : names) {
    const std::string full = dir + "/" + name;
    const std::string rel = prefix.empty() ? name : prefix + "/" + name;
    struct stat st;
    if (::lstat(full.c_str(), &st) != 0) return ErrnoError("reading '" + full + "'", errno);
    if (S_ISDIR(st.st_mode)) {
      HEARTH_RETURN_IF_ERROR(Walk(full, rel));
    } else if (S_ISREG(st.st_mode)) {
      if (Status s = ValidateMemberPath(rel); !s.ok()) return s;
      files_.push_back({rel, static_cast<uint64_t>(st.st_size), 0});
    } else {
      return DataLossError("bundle file '" + rel + "' is not a regular file (symlinks and " +
                               "special files are not allowed in bundles)",
                           "bundle.not_regular");
    }
  }
  return Status::Ok();
}

const BundleReader::Entry* BundleReader::Find(std::string_view rel) const {
  auto it = std::lower_bound(files_.begin(), files_.end(), rel,
                             [](const Entry& e, std::string_view p) { return e.path < p; });
  return it != files_.end() && it->path == rel ? &*it : nullptr;
}

Result<std::string> BundleReader::ReadSmall(std::string_view rel, size_t max_bytes) const {
  const Entry* e = Find(rel);
  if (e == nullptr) return NotFoundError("missing: " + std::string(rel), "bundle.missing");
  if (e->size > max_bytes)
    return DataLossError(
        StrFormat("'%s' is %llu bytes, more than the %zu allowed", std::string(rel).c_str(),
                  static_cast<unsigned long long>(e->size), max_bytes),
        "bundle.too_large");
  const std::string file = is_tar_ ? path_ : path_ + "/" + e->path;
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) return ErrnoError("opening '" + file + "'", errno);
  std::string out(e->size, '\0');
  HEARTH_RETURN_IF_ERROR(PreadAll(fd.fd, out.data(), out.size(), e->tar_offset, e->path));
  return out;
}

Result<std::string> BundleReader::HashFile(std::string_view rel, const ProgressFn& progress) const {
  const Entry* e = Find(rel);
  if (e == nullptr) return NotFoundError("missing: " + std::string(rel), "bundle.missing");
  const std::string file = is_tar_ ? path_ : path_ + "/" + e->path;
  Fd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.fd < 0) return ErrnoError("opening '" + file + "'", errno);
  Sha256 h;
  std::string buf(kChunk, '\0');
  for (uint64_t done = 0; done < e->size;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, e->size - done));
    HEARTH_RETURN_IF_ERROR(PreadAll(fd.fd, buf.data(), n, e->tar_offset + done, e->path));
    h.Update(buf.data(), n);
    done += n;
    if (progress) progress(done, e->size);
  }
  return ToHex(h.Final());
}

Result<GgufFile> BundleReader::OpenGguf(std::string_view rel) const {
  const Entry* e = Find(rel);
  if (e == nullptr) return NotFoundError("missing: " + std::string(rel), "bundle.missing");
  if (!is_tar_) return GgufFile::Open(path_ + "/" + e->path);
  auto* self = const_cast<BundleReader*>(this);
  if (!tar_map_) {
    HEARTH_ASSIGN_OR_RETURN(MappedFile map, MappedFile::Open(path_));
    self->tar_map_ = std::make_shared<MappedFile>(std::move(map));
  }
  if (e->tar_offset + e->size > tar_map_->size())
    return DataLossError("'" + e->path + "' lies past the end of the tar", "bundle.truncated");
  Result<GgufFile> g = GgufFile::Parse(tar_map_->bytes().subspan(e->tar_offset, e->size));
  if (!g.ok()) return g.status().WithContext("'" + e->path + "'");
  return g;
}

Status SyncDir(const std::string& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.fd < 0) return ErrnoError("opening directory '" + dir + "'", errno);
  if (::fsync(fd.fd) != 0) return ErrnoError("syncing directory '" + dir + "'", errno);
  return Status::Ok();
}

Status CopyFile(const std::string& from, const std::string& to, const ProgressFn& progress) {
  Fd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (in.fd < 0) return ErrnoError("opening '" + from + "'", errno);
  struct stat st;
  if (::fstat(in.fd, &st) != 0) return ErrnoError("reading '" + from + "'", errno);
  Fd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644));
  if (out.fd < 0) return ErrnoError("creating '" + to + "'", errno);
  const uint64_t total = static_cast<uint64_t>(st.st_size);
  std::string buf(kChunk, '\0');
  for (uint64_t done = 0; done < total;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, total - done));
    HEARTH_RETURN_IF_ERROR(PreadAll(in.fd, buf.data(), n, done, from));
    for (size_t w = 0; w < n;) {
      const ssize_t r = ::write(out.fd, buf.data() + w, n - w);
      if (r < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("writing '" + to + "'", errno);
      }
      w += static_cast<size_t>(r);
    }
    done += n;
    if (progress) progress(done, total);
  }
  if (::fsync(out.fd) != 0) return ErrnoError("syncing '" + to + "'", errno);
  return Status::Ok();
}

Status RemoveTree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoError("removing '" + path + "'", errno);
  }
  if (S_ISDIR(st.st_mode)) {
    ::chmod(path.c_str(), 0755);  // read-only store directories
    HEARTH_ASSIGN_OR_RETURN(std::vector<std::string> names, ListDirectory(path));
    for (const std::string& n : names) HEARTH_RETURN_IF_ERROR(RemoveTree(path + "/" + n));
    if (::rmdir(path.c_str()) != 0) return ErrnoError("removing '" + path + "'", errno);
  } else if (::unlink(path.c_str()) != 0) {
    return ErrnoError("removing '" + path + "'", errno);
  }
  return Status::Ok();
}

Result<PackResult> Pack(const PackOptions& o) {
  HEARTH_RETURN_IF_ERROR(ValidateName("--name", o.name));
  HEARTH_RETURN_IF_ERROR(ValidateName("--version", o.version));
  if (Result<SemVer> v = ParseSemVer(o.version); !v.ok()) return v.status();
  Manifest m;
  m.name = o.name;
  m.version = o.version;
  m.bundle_id = o.name + "-" + o.version;
  if (o.version_counter) {
    m.version_counter = *o.version_counter;
  } else {
    HEARTH_ASSIGN_OR_RETURN(m.version_counter, CounterFromVersion(o.version));
  }
  m.runtime_min_version = o.min_runtime_version.empty() ? BuildVersion() : o.min_runtime_version;
  if (Result<SemVer> v = ParseSemVer(m.runtime_min_version); !v.ok())
    return v.status().WithContext("--min-runtime");

  // The model: readable, computable by this engine, with the facts devices check.
  HEARTH_ASSIGN_OR_RETURN(GgufFile gguf, GgufFile::Open(o.gguf_path));
  if (Status s = gguf.CheckEngineSupport(); !s.ok())
    return s.WithContext("'" + o.gguf_path + "' cannot be run by this runtime");
  m.model = ReadModelFacts(gguf);
  if (m.model.arch.empty() || m.model.vocab_size == 0)
    return InvalidArgumentError("'" + o.gguf_path + "' has no architecture or vocabulary",
                                "bundle.not_a_model");
  std::string model_name = BaseName(o.gguf_path);
  if (!EndsWith(model_name, ".gguf")) model_name += ".gguf";
  if (Status s = ValidateName("model file name", model_name); !s.ok()) model_name = "model.gguf";
  m.model_path = "model/" + model_name;

  std::vector<std::pair<std::string, std::string>> inputs;  // bundle path, source path
  inputs.emplace_back(m.model_path, o.gguf_path);
  if (!o.template_path.empty()) {
    HEARTH_ASSIGN_OR_RETURN(std::string text, ReadFileToString(o.template_path, 1 << 20));
    if (Result<chat::Template> t = chat::Template::Parse(text); !t.ok())
      return t.status().WithContext("--template '" + o.template_path + "'");
    m.template_path = "config/template.jinja";
    inputs.emplace_back(m.template_path, o.template_path);
  }
  if (!o.defaults_path.empty()) {
    HEARTH_ASSIGN_OR_RETURN(std::string text, ReadFileToString(o.defaults_path, 1 << 20));
    Result<json::Value> d = json::Parse(text);
    if (!d.ok()) return d.status().WithContext("--defaults '" + o.defaults_path + "'");
    HEARTH_RETURN_IF_ERROR(
        ValidateGenerationDefaults(*d).WithContext("--defaults '" + o.defaults_path + "'"));
    m.generation_defaults = *d;
  }
  if (!o.eval_baseline_path.empty() && o.eval_suite_path.empty())
    return InvalidArgumentError("--eval-baseline needs --eval-suite", "cli.usage");
  if (!o.eval_suite_path.empty()) {
    HEARTH_ASSIGN_OR_RETURN(std::string text, ReadFileToString(o.eval_suite_path, 64 << 20));
    size_t line_no = 0;
    for (std::string_view line : StrSplit(text, '\n')) {
      ++line_no;
      if (StripWhitespace(line).empty()) continue;
      Result<json::Value> v = json::Parse(line);
      if (!v.ok() || !v->is_object())
        return InvalidArgumentError(StrFormat("--eval-suite '%s' line %zu is not a JSON object",
                                              o.eval_suite_path.c_str(), line_no),
                                    "bundle.eval_suite");
    }
    m.eval_suite_path = "eval/suite.jsonl";
    inputs.emplace_back(m.eval_suite_path, o.eval_suite_path);
    if (!o.eval_baseline_path.empty()) {
      HEARTH_ASSIGN_OR_RETURN(std::string b, ReadFileToString(o.eval_baseline_path, 16 << 20));
      if (Result<json::Value> v = json::Parse(b); !v.ok() || !v->is_object())
        return InvalidArgumentError(
            "--eval-baseline '" + o.eval_baseline_path + "' is not a JSON object",
            "bundle.eval_baseline");
      m.eval_baseline_path = "eval/baseline.json";
      inputs.emplace_back(m.eval_baseline_path, o.eval_baseline_path);
    }
  }

  uint64_t total = 0, base = 0;
  for (const auto& [rel, src] : inputs) {
    struct stat st;
    if (::stat(src.c_str(), &st) != 0) return ErrnoError("reading '" + src + "'", errno);
    total += static_cast<uint64_t>(st.st_size);
  }
  for (const auto& [rel, src] : inputs) {
    ManifestFile f;
    f.path = rel;
    Sha256 h;
    Fd fd(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.fd < 0) return ErrnoError("opening '" + src + "'", errno);
    std::string buf(kChunk, '\0');
    for (;;) {
      const ssize_t n = ::read(fd.fd, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR) continue;
        return ErrnoError("reading '" + src + "'", errno);
      }
      if (n == 0) break;
      h.Update(buf.data(), static_cast<size_t>(n));
      f.size += static_cast<uint64_t>(n);
      if (o.progress) o.progress(base + f.size, total);
    }
    base += f.size;
    f.sha256 = ToHex(h.Final());
    m.files.push_back(f);
  }
  std::sort(m.files.begin(), m.files.end(),
            [](const ManifestFile& a, const ManifestFile& b) { return a.path < b.path; });

  PackResult result;
  result.manifest_text = SerializeManifest(m);
  result.manifest = m;
  result.output = o.output;
  std::string sig_text;
  if (o.sign_key != nullptr) {
    HEARTH_ASSIGN_OR_RETURN(sig_text, AddSignature(*o.sign_key, result.manifest_text, ""));
  }

  // Small files are staged beside the output, then everything is placed atomically.
  const std::string work = o.output + ".pack-" + std::to_string(::getpid());
  HEARTH_RETURN_IF_ERROR(RemoveTree(work));
  if (::mkdir(work.c_str(), 0755) != 0) return ErrnoError("creating '" + work + "'", errno);
  auto cleanup = [&] { (void)RemoveTree(work); };
  Status s = [&]() -> Status {
    HEARTH_RETURN_IF_ERROR(WriteFileAtomic(work + "/" + kManifestName, result.manifest_text));
    if (!sig_text.empty())
      HEARTH_RETURN_IF_ERROR(WriteFileAtomic(work + "/" + kSignatureName, sig_text));
    if (IsTarPath(o.output)) {
      std::vector<TarInput> tar_inputs;
      for (const auto& [rel, src] : inputs) tar_inputs.push_back({rel, src});
      tar_inputs.push_back({kManifestName, work + "/" + kManifestName});
      if (!sig_text.empty()) tar_inputs.push_back({kSignatureName, work + "/" + kSignatureName});
      return WriteTar(o.output, std::move(tar_inputs));
    }
    for (const auto& [rel, src] : inputs) {
      const size_t slash = rel.rfind('/');
      const std::string dir = work + "/" + rel.substr(0, slash);
      if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
        return ErrnoError("creating '" + dir + "'", errno);
      HEARTH_RETURN_IF_ERROR(CopyFile(src, work + "/" + rel));
      HEARTH_RETURN_IF_ERROR(SyncDir(dir));
    }
    HEARTH_RETURN_IF_ERROR(SyncDir(work));
    struct stat st;
    if (::stat(o.output.c_str(), &st) == 0)
      return AlreadyExistsError("'" + o.output + "' exists; remove it or choose another -o",
                                "bundle.exists");
    if (::rename(work.c_str(), o.output.c_str()) != 0)
      return ErrnoError("moving the bundle to '" + o.output + "'", errno);
    return Status::Ok();
  }();
  cleanup();
  if (!s.ok()) return s;
  return result;
}

Status SignBundle(const std::string& bundle_path, const SecretKey& key) {
  HEARTH_ASSIGN_OR_RETURN(std::unique_ptr<BundleReader> b, BundleReader::Open(bundle_path));
  HEARTH_ASSIGN_OR_RETURN(std::string manifest, b->ReadSmall(kManifestName, 16 << 20));
  HEARTH_RETURN_IF_ERROR(ParseManifest(manifest).status());  // sign only what a device can read
  std::string existing;
  if (b->Find(kSignatureName) != nullptr) {
    HEARTH_ASSIGN_OR_RETURN(existing, b->ReadSmall(kSignatureName, 1 << 20));
  }
  HEARTH_ASSIGN_OR_RETURN(std::string sig, AddSignature(key, manifest, existing));
  if (!b->is_tar()) return WriteFileAtomic(bundle_path + "/" + kSignatureName, sig);

  // A tar is rewritten whole (deterministically) with the new signature.
  const std::string work = bundle_path + ".sign-" + std::to_string(::getpid());
  HEARTH_RETURN_IF_ERROR(RemoveTree(work));
  if (::mkdir(work.c_str(), 0755) != 0) return ErrnoError("creating '" + work + "'", errno);
  Status s = [&]() -> Status {
    HEARTH_RETURN_IF_ERROR(ExtractTar(bundle_path, work));
    const std::string sig_path = work + "/" + kSignatureName;
    ::unlink(sig_path.c_str());
    HEARTH_RETURN_IF_ERROR(WriteFileAtomic(sig_path, sig));
    std::vector<TarInput> inputs;
    for (const BundleReader::Entry& e : b->files())
      if (e.path != kSignatureName) inputs.push_back({e.path, work + "/" + e.path});
    inputs.push_back({kSignatureName, sig_path});
    return WriteTar(bundle_path, std::move(inputs));
  }();
  (void)RemoveTree(work);
  return s;
}

}  // namespace hearth::deploy
