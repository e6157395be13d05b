// gguf-quantize keeps its peak RSS under 128 MiB on a >= 400 MB F32 model
// (generated here with llama's tensor names, written by our GgufWriter), and
// the output has the types the dry run announces.
#include <sys/statvfs.h>

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/writer.h"
#include "ggufkit/quantize/ftype.h"
#include "ggufkit/quantize/quantize_model.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/malformed/child_process.h"

namespace ggufkit::quantize {
namespace {

using ::ggufkit::testing::TempDir;

constexpr int64_t kRssBudgetBytes = int64_t{128} << 20;

struct T {
  std::string name;
  std::vector<int64_t> ne;
};

// A llama-shaped F32 model: n_embd 1024, n_ff 2816, 9 layers, vocab 8000
// (~455 MB of weights).
std::vector<T> LargeLlama() {
  const int64_t e = 1024, ff = 2816, kv = 256, vocab = 8000;
  std::vector<T> t = {{"token_embd.weight", {e, vocab}},
                      {"output_norm.weight", {e}},
                      {"output.weight", {e, vocab}}};
  for (int l = 0; l < 9; ++l) {
    const std::string p = absl::StrCat("blk.", l, ".");
    for (const T& x : std::vector<T>{{p + "attn_norm.weight", {e}},
                                     {p + "attn_q.weight", {e, e}},
                                     {p + "attn_k.weight", {e, kv}},
                                     {p + "attn_v.weight", {e, kv}},
                                     {p + "attn_output.weight", {e, e}},
                                     {p + "ffn_norm.weight", {e}},
                                     {p + "ffn_gate.weight", {e, ff}},
                                     {p + "ffn_up.weight", {e, ff}},
                                     {p + "ffn_down.weight", {ff, e}}}) {
      t.push_back(x);
    }
  }
  return t;
}

absl::Status WriteModel(const std::string& path, uint64_t* bytes) {
  GgufWriter w;
  Metadata& md = w.metadata();
  (void)md.Add("general.architecture", MetadataValue::String("llama"));
  (void)md.Add("general.name", MetadataValue::String("rss-test"));
  (void)md.Add("llama.block_count", MetadataValue::U32(9));
  (void)md.Add("llama.embedding_length", MetadataValue::U32(1024));
  (void)md.Add("llama.attention.head_count", MetadataValue::U32(16));
  (void)md.Add("llama.attention.head_count_kv", MetadataValue::U32(4));
  (void)md.Add("general.file_type", MetadataValue::U32(0));
  const std::vector<T> tensors = LargeLlama();
  for (const T& t : tensors) {
    absl::Status s = w.AddTensor(t.name, GgmlType::kF32, t.ne);
    if (!s.ok()) return s;
  }
  absl::Status s = w.Begin(path);
  if (!s.ok()) return s;
  std::vector<float> buf(1 << 18);
  uint64_t state = 0x9E3779B97F4A7C15ull;
  *bytes = 0;
  for (const T& t : tensors) {
    int64_t n = 1;
    for (int64_t d : t.ne) n *= d;
    for (int64_t done = 0; done < n;) {
      const int64_t k = std::min<int64_t>(n - done, static_cast<int64_t>(buf.size()));
      for (int64_t i = 0; i < k; ++i) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        // Sum of two uniforms: a cheap bell shape around 0, scale 0.02.
        const float a = static_cast<float>(state & 0xFFFF) / 65536.0f;
        const float b = static_cast<float>((state >> 16) & 0xFFFF) / 65536.0f;
        buf[static_cast<size_t>(i)] = (a + b - 1.0f) * 0.02f;
      }
      s = w.WriteTensorData(buf.data(), static_cast<size_t>(k) * 4);
      if (!s.ok()) return s;
      done += k;
      *bytes += static_cast<uint64_t>(k) * 4;
    }
  }
  return w.Finish();
}

TEST(LargeModelRssTest, QuantizeQ4KMStaysUnder128MiB) {
#if defined(GGUFKIT_TESTING_UNDER_ASAN)
  GTEST_SKIP() << "AddressSanitizer build: its shadow memory and quarantine make RSS "
                  "meaningless; this budget is checked in the Release build";
#endif
  TempDir dir;
  struct statvfs fs;
  if (statvfs(dir.path().c_str(), &fs) == 0 &&
      static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize < (uint64_t{1200} << 20)) {
    GTEST_SKIP() << "needs 1.2 GB free in " << dir.path();
  }
  const std::string in = dir.File("large-f32.gguf");
  uint64_t bytes = 0;
  absl::Status s = WriteModel(in, &bytes);
  ASSERT_TRUE(s.ok()) << s;
  ASSERT_GE(bytes, uint64_t{400} << 20);
  const std::string out = dir.File("large-q4km.gguf");
  ::ggufkit::testing::ChildResult r =
      ::ggufkit::testing::RunChild({::ggufkit::testing::ToolsDir() + "/gguf-quantize", "--quiet",
                                    "--threads", "2", in, out, "Q4_K_M"},
                                   dir.path(), 600);
  ASSERT_TRUE(r.exited && r.exit_code == 0) << r.err;
  EXPECT_LT(r.max_rss_bytes, kRssBudgetBytes) << "peak RSS " << (r.max_rss_bytes >> 20) << " MiB";
  RecordProperty("peak_rss_kib", static_cast<int>(r.max_rss_bytes / 1024));
  std::printf("gguf-quantize Q4_K_M of %llu MB F32: peak RSS %lld MiB, %.1f s\n",
              static_cast<unsigned long long>(bytes >> 20),
              static_cast<long long>(r.max_rss_bytes >> 20), r.wall_seconds);
  // The output has the planned types and sizes.
  QuantizeOptions o;
  o.ftype = *ParseFtype("Q4_K_M");
  auto plan = PlanModelFile(in, o);
  ASSERT_TRUE(plan.ok()) << plan.status();
  auto q = GgufReader::Open(out);
  ASSERT_TRUE(q.ok()) << q.status();
  ASSERT_EQ((*q)->tensors().size(), plan->tensors.size());
  for (size_t i = 0; i < plan->tensors.size(); ++i) {
    EXPECT_EQ((*q)->tensors()[i].name, plan->tensors[i].name);
    EXPECT_EQ((*q)->tensors()[i].type, plan->tensors[i].to) << plan->tensors[i].name;
  }
}

}  // namespace
}  // namespace ggufkit::quantize
