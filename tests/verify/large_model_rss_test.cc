// The memory promise of gguf-verify and gguf-compare: on a model of >= 400 MB
// of quantized weights (Q4_K / Q6_K / Q8_0 / F32, written by our own writer)
// their peak RSS stays under 128 MiB, with 4 threads and every hash on.
#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/malformed/child_process.h"
#include "tests/stream/model_gen.h"

namespace ggufkit::testing {
namespace {

constexpr int64_t kRssBudgetBytes = int64_t{128} << 20;

TEST(VerifyLargeModelTest, PeakRssStaysUnder128MiB) {
#if defined(GGUFKIT_TESTING_UNDER_ASAN)
  GTEST_SKIP() << "AddressSanitizer build: its shadow memory and quarantine make RSS "
                  "meaningless; this budget is checked in the Release build";
#endif
  TempDir dir;
  const std::string model = dir.File("large.gguf");
  std::string skip;
  absl::Status s = stream::testing::WriteLargeModelForRssTest(model, uint64_t{1} << 30, &skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  ASSERT_TRUE(s.ok()) << s;

  ChildResult v =
      RunChild({ToolsDir() + "/gguf-verify", "--quiet", "--threads", "4", "--all", "--uuid", model},
               dir.path(), 300);
  ASSERT_TRUE(v.exited && v.exit_code == 0) << v.out << v.err;
  EXPECT_LT(v.max_rss_bytes, kRssBudgetBytes)
      << "gguf-verify peak RSS " << v.max_rss_bytes / (1 << 20) << " MiB";
  RecordProperty("verify_peak_rss_kib", static_cast<int>(v.max_rss_bytes / 1024));

  ChildResult c =
      RunChild({ToolsDir() + "/gguf-compare", "--quiet", "--threads", "4", "--json", model, model},
               dir.path(), 300);
  ASSERT_TRUE(c.exited && c.exit_code == 0) << c.err;
  EXPECT_LT(c.max_rss_bytes, kRssBudgetBytes)
      << "gguf-compare peak RSS " << c.max_rss_bytes / (1 << 20) << " MiB";
  RecordProperty("compare_peak_rss_kib", static_cast<int>(c.max_rss_bytes / 1024));
  std::printf("peak RSS on a %s: gguf-verify %lld KiB, gguf-compare %lld KiB\n", "400+ MB model",
              static_cast<long long>(v.max_rss_bytes / 1024),
              static_cast<long long>(c.max_rss_bytes / 1024));
}

}  // namespace
}  // namespace ggufkit::testing
