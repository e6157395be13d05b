// QuantizeModelFile's heap is a fixed scratch per thread: its peak does not
// grow with the model (1 vs 3 layers of a llama-shaped F32 model) and stays
// under 48 MiB with 2 threads. Its own executable: it links the counting
// allocator, which replaces malloc for the whole process.
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ggufkit/gguf/writer.h"
#include "ggufkit/quantize/ftype.h"
#include "ggufkit/quantize/quantize_model.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/stream/counting_allocator.h"

namespace ggufkit::quantize {
namespace {

using ::ggufkit::stream::testing::HeapBytesInUse;
using ::ggufkit::stream::testing::HeapCountingActive;
using ::ggufkit::stream::testing::HeapPeakBytes;
using ::ggufkit::stream::testing::ResetHeapPeak;
using ::ggufkit::testing::TempDir;

absl::Status WriteModel(const std::string& path, int layers) {
  const int64_t e = 1024, ff = 2816;
  GgufWriter w;
  (void)w.metadata().Add("general.architecture", MetadataValue::String("llama"));
  (void)w.metadata().Add("llama.block_count", MetadataValue::U32(static_cast<uint32_t>(layers)));
  (void)w.metadata().Add("llama.attention.head_count", MetadataValue::U32(16));
  (void)w.metadata().Add("llama.attention.head_count_kv", MetadataValue::U32(4));
  std::vector<std::pair<std::string, std::vector<int64_t>>> t = {{"token_embd.weight", {e, 2000}}};
  for (int l = 0; l < layers; ++l) {
    const std::string p = absl::StrCat("blk.", l, ".");
    t.push_back({p + "attn_norm.weight", {e}});
    t.push_back({p + "attn_q.weight", {e, e}});
    t.push_back({p + "ffn_gate.weight", {e, ff}});
    t.push_back({p + "ffn_down.weight", {ff, e}});
  }
  for (const auto& [name, ne] : t) {
    absl::Status s = w.AddTensor(name, GgmlType::kF32, ne);
    if (!s.ok()) return s;
  }
  absl::Status s = w.Begin(path);
  if (!s.ok()) return s;
  std::vector<float> buf(1 << 16);
  for (size_t i = 0; i < buf.size(); ++i)
    buf[i] = static_cast<float>((i * 2654435761u) % 2001) * 1e-5f - 0.01f;
  for (const auto& [name, ne] : t) {
    int64_t n = 1;
    for (int64_t d : ne) n *= d;
    for (int64_t done = 0; done < n;) {
      const int64_t k = std::min<int64_t>(n - done, static_cast<int64_t>(buf.size()));
      s = w.WriteTensorData(buf.data(), static_cast<size_t>(k) * 4);
      if (!s.ok()) return s;
      done += k;
    }
  }
  return w.Finish();
}

int64_t PeakHeapOfQuantizing(const std::string& in, const std::string& out) {
  QuantizeOptions o;
  o.ftype = *ParseFtype("Q4_K_M");
  o.threads = 2;
  const int64_t before = HeapBytesInUse();
  ResetHeapPeak();
  auto r = QuantizeModelFile(in, out, o);
  EXPECT_TRUE(r.ok()) << r.status();
  return HeapPeakBytes() - before;
}

TEST(QuantizeHeapTest, PeakHeapIsAFixedScratchWhateverTheModelSize) {
  if (!HeapCountingActive()) GTEST_SKIP() << "no counting allocator (sanitizer build owns malloc)";
  TempDir dir;
  ASSERT_TRUE(WriteModel(dir.File("small.gguf"), 1).ok());
  ASSERT_TRUE(WriteModel(dir.File("large.gguf"), 3).ok());
  const int64_t small = PeakHeapOfQuantizing(dir.File("small.gguf"), dir.File("small-q.gguf"));
  const int64_t large = PeakHeapOfQuantizing(dir.File("large.gguf"), dir.File("large-q.gguf"));
  std::printf("peak heap: 1 layer %lld KiB, 3 layers %lld KiB\n",
              static_cast<long long>(small >> 10), static_cast<long long>(large >> 10));
  EXPECT_LT(large, int64_t{48} << 20);
  EXPECT_LT(large, small + (int64_t{1} << 20)) << "heap grows with the model";
}

}  // namespace
}  // namespace ggufkit::quantize
