// DequantizeModelFile as a library call: stats, progress, metadata strings.
#include "ggufkit/stream/dequant_model.h"

#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/stream/model_gen.h"
#include "tests/stream/tool_test_util.h"

namespace ggufkit::stream {
namespace {

using ::ggufkit::testing::TempDir;

TEST(MetadataValueAsStringTest, ScalarsStringsAndArrays) {
  EXPECT_EQ(MetadataValueAsString(MetadataValue::U32(4096)), "4096");
  EXPECT_EQ(MetadataValueAsString(MetadataValue::I32(-7)), "-7");
  EXPECT_EQ(MetadataValueAsString(MetadataValue::F32(1e-5f)), "9.99999975e-06");
  EXPECT_EQ(MetadataValueAsString(MetadataValue::F64(0.1)), "0.10000000000000001");
  EXPECT_EQ(MetadataValueAsString(MetadataValue::Bool(true)), "true");
  EXPECT_EQ(MetadataValueAsString(MetadataValue::String("a \"b\"")), "a \"b\"");
  const std::vector<int32_t> ints = {1, -2, 3};
  EXPECT_EQ(MetadataValueAsString(MetadataValue::ArrayI32(ints)), "[1,-2,3]");
  const std::vector<std::string> strs = {"x", "\"q\"", ""};
  EXPECT_EQ(MetadataValueAsString(MetadataValue::ArrayString(strs)), R"(["x","\"q\"",""])");
  const std::vector<float> floats = {0.5f, -2.0f};
  EXPECT_EQ(MetadataValueAsString(MetadataValue::ArrayF32(floats)), "[0.5,-2]");
}

TEST(DequantizeModelFileTest, StatsAndProgressAreConsistent) {
  std::string missing;
  if (!testing::HaveCodecsFor(testing::SmallMixedModel(), &missing)) {
    GTEST_SKIP() << "no reference dequantizer registered for " << missing;
  }
  TempDir dir;
  const std::string in = dir.File("in.gguf"), out = dir.File("out.gguf");
  ASSERT_TRUE(testing::WriteRandomModel(in, testing::SmallMixedModel(), 5).ok());
  DequantModelOptions options;
  options.to = OutputType::kF16;
  options.threads = 3;
  options.chunk_bytes = 100000;
  uint64_t last_done = 0, total = 0;
  size_t calls = 0, last_tensor = 0;
  auto stats = DequantizeModelFile(in, out, options, [&](const DequantProgress& p) {
    EXPECT_GT(p.bytes_done, last_done);
    EXPECT_GE(p.tensor_index, last_tensor);
    EXPECT_EQ(p.tensor_count, testing::SmallMixedModel().size());
    last_done = p.bytes_done;
    last_tensor = p.tensor_index;
    total = p.bytes_total;
    ++calls;
  });
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(last_done, total);
  EXPECT_GT(calls, 10u);
  EXPECT_EQ(stats->tensors_written, 8u);
  EXPECT_EQ(stats->tensors_copied, 2u);  // the I32 tensor and the F16 one (already f16)
  EXPECT_EQ(stats->tensors_converted, 6u);
  EXPECT_EQ(stats->threads, 3);
  EXPECT_TRUE(testing::CompareWithReference(in, out, OutputType::kF16).ok());
}

TEST(DequantizeModelFileTest, CudaWithoutCudaIsAClearError) {
#ifdef GGUFKIT_HAVE_CUDA
  GTEST_SKIP() << "built with CUDA";
#else
  TempDir dir;
  DequantModelOptions options;
  options.device = Device::kCuda;
  auto stats = DequantizeModelFile(dir.File("in.gguf"), dir.File("out.gguf"), options);
  EXPECT_EQ(stats.status().code(), absl::StatusCode::kUnimplemented);
  EXPECT_FALSE(testing::FileExists(dir.File("out.gguf")));
#endif
}

}  // namespace
}  // namespace ggufkit::stream
