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
#include "tests/common/test_data.h"

namespace ggufkit::quantize::testing {
namespace {

// FIPS 180-4 SHA-256.
class Sha256 {
 public:
  Sha256() { Reset(); }
  void Update(const uint8_t* p, size_t n) {
    length_ += n;
    while (n > 0) {
      const size_t take = std::min(n, 64 - fill_);
      std::memcpy(block_ + fill_, p, take);
      fill_ += take;
      p += take;
      n -= take;
      if (fill_ == 64) {
        Compress(block_);
        fill_ = 0;
      }
    }
  }
  std::string HexDigest() {
    const uint64_t bits = length_ * 8;
    const uint8_t pad = 0x80;
    Update(&pad, 1);
    const uint8_t zero = 0;
    while (fill_ != 56) Update(&zero, 1);
    uint8_t len[8];
    for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(bits >> (56 - 8 * i));
    Update(len, 8);
    std::string out;
    for (uint32_t v : h_) absl::StrAppend(&out, absl::StrFormat("%08x", v));
    return out;
  }

 private:
  static uint32_t Rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }
  void Reset() {
    static constexpr uint32_t kInit[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                          0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    std::memcpy(h_, kInit, sizeof(h_));
    fill_ = 0;
    length_ = 0;
  }
  void Compress(const uint8_t* b) {
    static constexpr uint32_t k[64] = {
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2};
    uint32_t w[64];
    for (int i = 0; i < 16; ++i) {
      w[i] = (uint32_t{b[4 * i]} << 24) | (uint32_t{b[4 * i + 1]} << 16) |
             (uint32_t{b[4 * i + 2]} << 8) | uint32_t{b[4 * i + 3]};
    }
    for (int i = 16; i < 64; ++i) {
      const uint32_t s0 = Rotr(w[i - 15], 7) ^ Rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
      const uint32_t s1 = Rotr(w[i - 2], 17) ^ Rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
      w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h_[0], bb = h_[1], c = h_[2], d = h_[3], e = h_[4], f = h_[5], g = h_[6],
             hh = h_[7];
    for (int i = 0; i < 64; ++i) {
      const uint32_t t1 =
          hh + (Rotr(e, 6) ^ Rotr(e, 11) ^ Rotr(e, 25)) + ((e & f) ^ (~e & g)) + k[i] + w[i];
      const uint32_t t2 =
          (Rotr(a, 2) ^ Rotr(a, 13) ^ Rotr(a, 22)) + ((a & bb) ^ (a & c) ^ (bb & c));
      hh = g;
      g = f;
      f = e;
      e = d + t1;
      d = c;
      c = bb;
      bb = a;
      a = t1 + t2;
    }
    h_[0] += a;
    h_[1] += bb;
    h_[2] += c;
    h_[3] += d;
    h_[4] += e;
    h_[5] += f;
    h_[6] += g;
    h_[7] += hh;
  }
  uint32_t h_[8];
  uint8_t block_[64];
  size_t fill_;
  uint64_t length_;
};

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
  Sha256 h;
  h.Update(static_cast<const uint8_t*>(data), n);
  return h.HexDigest();
}

std::string Sha256File(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) return "";
  Sha256 h;
  std::vector<uint8_t> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) h.Update(buf.data(), n);
  std::fclose(f);
  return h.HexDigest();
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
