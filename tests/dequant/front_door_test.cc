// The front door (dequant/dequant.h, dequant/kv_rows.h): span checks, and the
// same bytes as the references under ggufkit::reference:: whichever path runs.
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "ggufkit/dequant/dequant.h"
#include "ggufkit/dequant/kv_rows.h"
#include "ggufkit/quants/kv_cache.h"
#include "ggufkit/quants/quants.h"
#include "gtest/gtest.h"

namespace ggufkit {
namespace {

std::vector<float> RandomFloats(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(n);
  for (float& v : x) v = normal(rng);
  return x;
}

TEST(FrontDoorTest, DequantizeEqualsReferenceForEveryOutput) {
  for (GgmlType type : {GgmlType::kQ4_K, GgmlType::kQ8_0, GgmlType::kQ6_K, GgmlType::kIQ4_XS,
                        GgmlType::kF16}) {
    const int64_t n = 4 * 256;
    const std::vector<float> x = RandomFloats(n, 7);
    std::vector<uint8_t> q(static_cast<size_t>(*RowSizeBytes(type, n)));
    ASSERT_TRUE(Quantize(type, x, absl::MakeSpan(q)).ok()) << GgmlTypeName(type);
    std::vector<uint8_t> q_ref(q.size());
    ASSERT_TRUE(reference::Quantize(type, x, absl::MakeSpan(q_ref)).ok());
    EXPECT_EQ(q, q_ref) << GgmlTypeName(type);

    std::vector<float> want(n), got(n);
    ASSERT_TRUE(reference::Dequantize(type, q, n, want.data()).ok());
    ASSERT_TRUE(Dequantize(type, q, absl::MakeSpan(got)).ok());
    EXPECT_EQ(0, std::memcmp(want.data(), got.data(), sizeof(float) * n)) << GgmlTypeName(type);

    std::vector<uint16_t> want16(n), got16(n);
    ASSERT_TRUE(reference::DequantizeToF16(type, q, n, want16.data()).ok());
    ASSERT_TRUE(Dequantize(type, q, absl::MakeSpan(got16), OutputType::kF16).ok());
    EXPECT_EQ(want16, got16) << GgmlTypeName(type);
    ASSERT_TRUE(reference::DequantizeToBF16(type, q, n, want16.data()).ok());
    ASSERT_TRUE(Dequantize(type, q, absl::MakeSpan(got16), OutputType::kBF16).ok());
    EXPECT_EQ(want16, got16) << GgmlTypeName(type);
  }
}

TEST(FrontDoorTest, SpanSizesAreChecked) {
  std::vector<uint8_t> q(144);  // one q4_K block
  std::vector<float> out(256);
  EXPECT_TRUE(Dequantize(GgmlType::kQ4_K, q, absl::MakeSpan(out)).ok());
  // Input one byte short or long, output not a whole block, f32 into uint16_t.
  EXPECT_FALSE(Dequantize(GgmlType::kQ4_K, absl::MakeConstSpan(q).subspan(1), absl::MakeSpan(out)).ok());
  std::vector<uint8_t> longer(145);
  EXPECT_FALSE(Dequantize(GgmlType::kQ4_K, longer, absl::MakeSpan(out)).ok());
  EXPECT_FALSE(Dequantize(GgmlType::kQ4_K, q, absl::MakeSpan(out).subspan(1)).ok());
  std::vector<uint16_t> out16(256);
  EXPECT_FALSE(Dequantize(GgmlType::kQ4_K, q, absl::MakeSpan(out16), OutputType::kF32).ok());
  std::vector<uint8_t> odd_bytes(1023);
  EXPECT_FALSE(Dequantize(GgmlType::kQ4_K, q, absl::MakeSpan(odd_bytes), OutputType::kF32).ok());
  EXPECT_FALSE(Dequantize(static_cast<GgmlType>(4), q, absl::MakeSpan(out)).ok());  // removed id
  // Quantize: the output must be exactly the encoded size.
  const std::vector<float> x(256, 1.0f);
  std::vector<uint8_t> big(145);
  EXPECT_FALSE(Quantize(GgmlType::kQ4_K, x, absl::MakeSpan(big)).ok());
  EXPECT_TRUE(Quantize(GgmlType::kQ4_K, x, absl::MakeSpan(q)).ok());
  EXPECT_FALSE(Quantize(GgmlType::kQ4_K, absl::MakeConstSpan(x).subspan(1), absl::MakeSpan(q)).ok());
  // Empty spans are fine.
  EXPECT_TRUE(Dequantize(GgmlType::kQ4_K, {}, absl::Span<float>()).ok());
}

TEST(FrontDoorTest, KvRowsEqualReferenceForEveryTypeAndPadding) {
  for (KvType type : kAllKvTypes) {
    for (TurboVariant variant : {TurboVariant::kCurrent, TurboVariant::kV1}) {
      for (int64_t head_dim : {64, 128, 96, 256, 320}) {
        if ((type == KvType::kQ8_0 || type == KvType::kQ4_0) && head_dim % 32 != 0) continue;
        const int64_t rows = 5, heads = 3;
        const std::vector<float> x = RandomFloats(static_cast<size_t>(rows * heads * head_dim), 11);
        const int64_t row_bytes = *KvRowBytes(type, heads, head_dim, variant);
        const int64_t row_floats = *KvRowFloats(type, heads, head_dim);
        std::vector<uint8_t> got(static_cast<size_t>(rows * row_bytes)), want(got.size());
        ASSERT_TRUE(QuantizeKvRows(type, rows, heads, head_dim, x.data(), got.data(), variant).ok());
        ASSERT_TRUE(
            reference::QuantizeKvRows(type, rows, heads, head_dim, x.data(), want.data(), variant).ok());
        ASSERT_EQ(got, want) << KvTypeName(type) << " head_dim " << head_dim;
        std::vector<float> y(static_cast<size_t>(rows * row_floats)), y_ref(y.size());
        ASSERT_TRUE(DequantizeKvRows(type, rows, heads, head_dim, got.data(), y.data(), variant).ok());
        ASSERT_TRUE(
            reference::DequantizeKvRows(type, rows, heads, head_dim, got.data(), y_ref.data(), variant)
                .ok());
        ASSERT_EQ(0, std::memcmp(y.data(), y_ref.data(), sizeof(float) * y.size()))
            << KvTypeName(type) << " head_dim " << head_dim;
        if (type == KvType::kTurbo4 && variant == TurboVariant::kCurrent) {
          std::vector<float> back(x.size()), back_ref(x.size());
          ASSERT_TRUE(UnrotateKvRows(rows, heads, head_dim, y.data(), back.data()).ok());
          ASSERT_TRUE(reference::UnrotateKvRows(rows, heads, head_dim, y.data(), back_ref.data()).ok());
          ASSERT_EQ(0, std::memcmp(back.data(), back_ref.data(), sizeof(float) * x.size()));
          std::vector<float> rot(y.size()), rot_ref(y.size());
          ASSERT_TRUE(RotateKvRows(rows, heads, head_dim, x.data(), rot.data()).ok());
          ASSERT_TRUE(reference::RotateKvRows(rows, heads, head_dim, x.data(), rot_ref.data()).ok());
          ASSERT_EQ(0, std::memcmp(rot.data(), rot_ref.data(), sizeof(float) * rot.size()));
        }
      }
    }
  }
  // Errors are the reference's.
  std::vector<float> x(128);
  std::vector<uint8_t> q(1024);
  EXPECT_FALSE(QuantizeKvRows(KvType::kTurbo3, 1, 0, 128, x.data(), q.data()).ok());
  EXPECT_FALSE(QuantizeKvRows(KvType::kTurbo3, 1, 1, 128, nullptr, q.data()).ok());
  EXPECT_FALSE(DequantizeKvRows(KvType::kQ8_0, 1, 1, 100, q.data(), x.data()).ok());
}

}  // namespace
}  // namespace ggufkit
