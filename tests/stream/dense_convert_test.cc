#include "ggufkit/stream/dense_convert.h"

#include <cstring>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/half.h"

namespace ggufkit::stream {
namespace {

std::vector<uint16_t> RandomHalves(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<uint16_t> h(n);
  for (auto& x : h) x = static_cast<uint16_t>(rng());
  return h;
}

TEST(DenseConvertTest, ParsesEveryAcceptedSpelling) {
  EXPECT_EQ(*ParseOutputType("fp32"), OutputType::kF32);
  EXPECT_EQ(*ParseOutputType("F32"), OutputType::kF32);
  EXPECT_EQ(*ParseOutputType("f16"), OutputType::kF16);
  EXPECT_EQ(*ParseOutputType("FP16"), OutputType::kF16);
  EXPECT_EQ(*ParseOutputType("bf16"), OutputType::kBF16);
  EXPECT_FALSE(ParseOutputType("q4_K").ok());
  EXPECT_EQ(DenseFileType(OutputType::kF32), 0u);
  EXPECT_EQ(DenseFileType(OutputType::kF16), 1u);
  EXPECT_EQ(DenseFileType(OutputType::kBF16), 32u);
}

TEST(DenseConvertTest, SameTypeIsIdentityOnBits) {
  // Every 16-bit pattern, NaN payloads included, must survive unchanged.
  std::vector<uint16_t> all(65536);
  for (uint32_t i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
  std::vector<uint16_t> out(all.size());
  ASSERT_TRUE(ConvertBlocks(GgmlType::kF16, reinterpret_cast<const uint8_t*>(all.data()),
                            65536, OutputType::kF16, out.data())
                  .ok());
  EXPECT_EQ(out, all);
  ASSERT_TRUE(ConvertBlocks(GgmlType::kBF16, reinterpret_cast<const uint8_t*>(all.data()),
                            65536, OutputType::kBF16, out.data())
                  .ok());
  EXPECT_EQ(out, all);
}

TEST(DenseConvertTest, HalvesToF32MatchHalfHelpersAtOddOffsets) {
  const size_t n = 10007;  // not a multiple of the internal stack step
  std::vector<uint16_t> h = RandomHalves(n, 1);
  // Misaligned input: real tensors sit at any 32-byte offset, chunks anywhere.
  std::vector<uint8_t> bytes(n * 2 + 1);
  std::memcpy(bytes.data() + 1, h.data(), n * 2);
  std::vector<float> out(n);
  ASSERT_TRUE(ConvertBlocks(GgmlType::kF16, bytes.data() + 1, n, OutputType::kF32, out.data()).ok());
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(FloatBits(out[i]), FloatBits(F16ToF32(h[i]))) << i;
  }
  ASSERT_TRUE(
      ConvertBlocks(GgmlType::kBF16, bytes.data() + 1, n, OutputType::kF32, out.data()).ok());
  for (size_t i = 0; i < n; ++i) {
    ASSERT_EQ(FloatBits(out[i]), FloatBits(BF16ToF32(h[i]))) << i;
  }
  std::vector<uint16_t> out16(n);
  ASSERT_TRUE(
      ConvertBlocks(GgmlType::kF16, bytes.data() + 1, n, OutputType::kBF16, out16.data()).ok());
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(out16[i], F32ToBF16(F16ToF32(h[i]))) << i;
}

TEST(DenseConvertTest, F32ToHalvesRoundsToNearestEven) {
  std::mt19937 rng(7);
  const size_t n = 9001;
  std::vector<float> x(n);
  for (auto& v : x) v = BitsToFloat(rng());
  std::vector<uint16_t> out(n);
  ASSERT_TRUE(ConvertBlocks(GgmlType::kF32, reinterpret_cast<const uint8_t*>(x.data()), n,
                            OutputType::kF16, out.data())
                  .ok());
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], F32ToF16(x[i])) << i;
  ASSERT_TRUE(ConvertBlocks(GgmlType::kF32, reinterpret_cast<const uint8_t*>(x.data()), n,
                            OutputType::kBF16, out.data())
                  .ok());
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], F32ToBF16(x[i])) << i;
}

TEST(DenseConvertTest, RejectsPartialBlocksAndIntegers) {
  std::vector<uint8_t> bytes(1024);
  std::vector<float> out(1024);
  EXPECT_FALSE(ConvertBlocks(GgmlType::kQ8_0, bytes.data(), 33, OutputType::kF32, out.data()).ok());
  absl::Status s = ConvertBlocks(GgmlType::kI32, bytes.data(), 4, OutputType::kF32, out.data());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("i32"), absl::string_view::npos) << s;
}

TEST(DenseConvertTest, QuantizedMatchesReferenceCodec) {
  const ReferenceCodec& codec = GetReferenceCodec(GgmlType::kQ8_0);
  if (codec.dequantize == nullptr) GTEST_SKIP() << "no Q8_0 reference codec registered yet";
  // Q8_0: fp16 d + 32 int8; any bytes are valid except NaN/Inf d.
  const int64_t n_blocks = 1000;
  std::vector<uint8_t> blocks(static_cast<size_t>(n_blocks) * 34);
  std::mt19937 rng(3);
  for (auto& b : blocks) b = static_cast<uint8_t>(rng());
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint16_t d = F32ToF16(0.01f * static_cast<float>(b % 17 + 1));
    std::memcpy(&blocks[static_cast<size_t>(b) * 34], &d, 2);
  }
  const int64_t n = n_blocks * 32;
  std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n));
  codec.dequantize(blocks.data(), want.data(), n);
  ASSERT_TRUE(ConvertBlocks(GgmlType::kQ8_0, blocks.data(), n, OutputType::kF32, got.data()).ok());
  EXPECT_EQ(0, std::memcmp(want.data(), got.data(), want.size() * 4));
  std::vector<uint16_t> half(static_cast<size_t>(n));
  ASSERT_TRUE(
      ConvertBlocks(GgmlType::kQ8_0, blocks.data(), n, OutputType::kF16, half.data()).ok());
  for (size_t i = 0; i < half.size(); ++i) ASSERT_EQ(half[i], F32ToF16(want[i])) << i;
}

}  // namespace
}  // namespace ggufkit::stream
