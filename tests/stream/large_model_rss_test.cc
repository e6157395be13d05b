// The mission's promise, enforced: gguf-dequant on a model of >= 400 MB of
// quantized weights (Q4_K / Q6_K / Q8_0 / F32, written by our own writer)
// keeps its peak RSS under 128 MiB, and its output equals per-tensor
// reference dequantization.

#include "ggufkit/gguf/reader.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/stream/model_gen.h"
#include "tests/stream/tool_test_util.h"

namespace ggufkit::stream {
namespace {

using ::ggufkit::testing::TempDir;

constexpr int64_t kRssBudgetKb = 128 * 1024;

TEST(LargeModelRssTest, PeakRssStaysUnder128MiBAndOutputMatchesReference) {
#if defined(GGUFKIT_TESTING_UNDER_ASAN)
  GTEST_SKIP() << "AddressSanitizer build: its shadow memory and quarantine make RSS "
                  "meaningless; this budget is checked in the Release build";
#endif
  TempDir dir;
  const std::string in = dir.File("large.gguf");
  std::string skip;
  absl::Status s = testing::WriteLargeModelForRssTest(in, uint64_t{4} << 30, &skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  ASSERT_TRUE(s.ok()) << s;
  const std::string out = dir.File("large-f32.gguf");
  testing::ToolRun run = testing::RunDequantTool({"--quiet", in, out});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_LT(run.max_rss_kb, kRssBudgetKb) << "peak RSS " << run.max_rss_kb / 1024 << " MiB";
  RecordProperty("peak_rss_kib", static_cast<int>(run.max_rss_kb));
  s = testing::CompareWithReference(in, out, OutputType::kF32);
  EXPECT_TRUE(s.ok()) << s;
}

}  // namespace
}  // namespace ggufkit::stream
