#include "tests/quantize/quantize_test_util.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/gguf/byte_source.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/verify/hash.h"
#include "tests/common/test_data.h"

namespace ggufkit::quantize::testing {
namespace {

std::vector<std::string> ReadLines(const std::string& text) {
  std::vector<std::string> lines;
  for (absl::string_view l : absl::StrSplit(text, '\n')) {
    if (!l.empty() && l[0] != '#') lines.emplace_back(l);
  }
  return lines;
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Regenerates one golden input: its header plus tensor data drawn as the
// golden harness drew it.
absl::Status Regenerate(const std::string& name, uint64_t size, const std::string& sha,
                        const std::string& out_path, std::string* skip) {
  auto header =
      ReadZstFile(QuantizeDataDir() + "/" + name.substr(0, name.size() - 5) + ".header.zst");
  if (!header.ok()) return header.status();
  std::vector<uint8_t> file(size, 0);
  std::memcpy(file.data(), header->data(), std::min<size_t>(header->size(), file.size()));
  auto reader = GgufReader::Open(MakeMemoryViewSource(name, file));
  if (!reader.ok()) return reader.status();
  for (const TensorInfo& t : (*reader)->tensors()) {
    std::mt19937 gen(static_cast<std::mt19937::result_type>(std::hash<std::string>{}(t.name) + 7));
    std::normal_distribution<float> dis(0.0f, 1.0e-2f);
    std::vector<float> v(static_cast<size_t>(t.n_elements));
    for (float& x : v) x = dis(gen);
    uint8_t* dst = file.data() + t.absolute_offset;
    if (t.type == GgmlType::kF32) {
      std::memcpy(dst, v.data(), v.size() * 4);
    } else if (t.type == GgmlType::kF16) {
      absl::Status s = Quantize(GgmlType::kF16, v, absl::MakeSpan(dst, v.size() * 2));
      if (!s.ok()) return s;
    } else {
      return absl::InternalError(absl::StrCat(name, ": unexpected type of ", t.name));
    }
  }
  const std::string got = Sha256Hex(file.data(), file.size());
  if (got != sha) {
    *skip = absl::StrCat("cannot regenerate ", name, " on this platform (sha256 ", got, " != ", sha,
                         "): its std::normal_distribution / std::hash differ from "
                         "libstdc++'s, which drew the golden inputs");
    return absl::OkStatus();
  }
  if (!ggufkit::testing::WriteFileBytes(out_path, file.data(), file.size())) {
    return absl::InternalError("cannot write " + out_path);
  }
  return absl::OkStatus();
}

}  // namespace

std::string Sha256Hex(const void* data, size_t n) {
  verify::Sha256 h;
  h.Update(data, n);
  return verify::HexBytes(h.Final());
}

std::string Sha256File(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return "";
  verify::Sha256 h;
  std::vector<uint8_t> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) h.Update(buf.data(), n);
  std::fclose(f);
  return verify::HexBytes(h.Final());
}

std::string QuantizeDataDir() { return ggufkit::testing::TestDataDir() + "/llama-quantize"; }

absl::StatusOr<std::vector<uint8_t>> ReadZstFile(const std::string& path) {
  const std::string c = ReadText(path);
  if (c.empty()) return absl::NotFoundError("cannot read " + path);
  std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> ds(ZSTD_createDStream(),
                                                              ZSTD_freeDStream);
  ZSTD_inBuffer in{c.data(), c.size(), 0};
  std::vector<uint8_t> out;
  std::vector<uint8_t> buf(1 << 16);
  size_t r = 1;
  while (in.pos < in.size || r != 0) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    r = ZSTD_decompressStream(ds.get(), &o, &in);
    if (ZSTD_isError(r)) return absl::DataLossError(path + ": bad zstd data");
    out.insert(out.end(), buf.begin(), buf.begin() + static_cast<std::ptrdiff_t>(o.pos));
    if (out.size() > (size_t{1} << 30)) return absl::DataLossError(path + ": too big");
    if (in.pos == in.size && o.pos == 0 && r != 0) return absl::DataLossError(path + ": truncated");
  }
  return out;
}

std::string ReferenceRun::input() const {
  std::vector<std::string> pos;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) == 0) {
      static const char* kWithValue[] = {"--imatrix",
                                         "--include-weights",
                                         "--exclude-weights",
                                         "--output-tensor-type",
                                         "--token-embedding-type",
                                         "--tensor-type",
                                         "--override-kv"};
      for (const char* f : kWithValue) {
        if (args[i] == f) ++i;
      }
      continue;
    }
    pos.push_back(args[i]);
  }
  return pos.empty() ? "" : pos[0];
}

std::string ReferenceRun::output() const {
  const std::string in = input();
  for (size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == in) return args[i + 1];
  }
  return "";
}

std::vector<ReferenceRun> LoadReferenceRuns() {
  std::vector<ReferenceRun> runs;
  for (const std::string& line : ReadLines(ReadText(QuantizeDataDir() + "/runs.tsv"))) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() != 6) continue;
    ReferenceRun r;
    r.label = f[0];
    r.exit_status = std::stoi(f[1]);
    r.file_sha256 = f[2];
    r.file_size = std::stoull(f[3]);
    r.error_phrase = f[4];
    r.args = absl::StrSplit(f[5], ' ');
    runs.push_back(std::move(r));
  }
  return runs;
}

std::map<std::string, std::vector<std::pair<std::string, std::string>>> LoadReferenceTypes() {
  std::map<std::string, std::vector<std::pair<std::string, std::string>>> out;
  auto text = ReadZstFile(QuantizeDataDir() + "/types.tsv.zst");
  if (!text.ok()) return out;
  for (const std::string& line : ReadLines(std::string(text->begin(), text->end()))) {
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    if (f.size() == 3) out[f[0]].emplace_back(f[1], f[2]);
  }
  return out;
}

std::string GoldenWorkDir(std::string* skip) {
  static ggufkit::testing::TempDir dir;  // removed at exit
  static std::string skip_reason;
  static bool done = false;
  if (!done) {
    done = true;
    // Regenerated once per build tree (ctest runs every test in its own
    // process): <build>/testdata/llama-quantize-inputs/<file>, written to a
    // temp name and renamed, with a "<file>.sha256" stamp once verified;
    // each process links them into its own work folder.
    const std::string cache = ggufkit::testing::GoldenDir() + "/../llama-quantize-inputs";
    mkdir(cache.c_str(), 0755);
    for (const std::string& line : ReadLines(ReadText(QuantizeDataDir() + "/inputs.tsv"))) {
      std::vector<std::string> f = absl::StrSplit(line, '\t');
      if (f.size() != 4) continue;
      const std::string cached = cache + "/" + f[0];
      const std::string stamp = cached + ".sha256";
      if (ReadText(stamp) != f[2] || access(cached.c_str(), R_OK) != 0) {
        const std::string tmp = absl::StrCat(cached, ".tmp.", getpid());
        absl::Status s = Regenerate(f[0], std::stoull(f[1]), f[2], tmp, &skip_reason);
        if (!s.ok()) skip_reason = std::string(s.message());
        if (!skip_reason.empty()) break;
        if (rename(tmp.c_str(), cached.c_str()) != 0 ||
            !ggufkit::testing::WriteFileBytes(stamp, f[2].data(), f[2].size())) {
          skip_reason = "cannot write " + cached;
          break;
        }
      }
      if (symlink(cached.c_str(), dir.File(f[0]).c_str()) != 0) {
        skip_reason = "cannot link " + cached;
        break;
      }
    }
    for (const char* name : {"llama-8l.imatrix.gguf", "llama-8l.imatrix.dat"}) {
      auto bytes = ReadZstFile(QuantizeDataDir() + "/" + name + ".zst");
      if (!bytes.ok() ||
          !ggufkit::testing::WriteFileBytes(dir.File(name), bytes->data(), bytes->size())) {
        skip_reason = absl::StrCat("cannot unpack ", name);
      }
    }
  }
  *skip = skip_reason;
  return skip_reason.empty() ? dir.path() : "";
}

}  // namespace ggufkit::quantize::testing
