// The public API (quants/quants.h): argument checks, misaligned buffers, the
// f16 / bf16 output forms, and the importance-matrix plumbing.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/quants.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/common/test_data.h"
#include "tests/quants/test_blocks.h"

namespace ggufkit {
namespace {

using testing::RandomBlocks;

// The types this part of the library registers (floats, integers, legacy,
// K-quants).
const GgmlType kBasicTypes[] = {GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kF64,
                                GgmlType::kI8,   GgmlType::kI16,  GgmlType::kI32,  GgmlType::kI64,
                                GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1,
                                GgmlType::kQ8_0, GgmlType::kQ8_1, GgmlType::kQ2_K, GgmlType::kQ3_K,
                                GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kQ8_K};

const GgmlType kQuantizable[] = {
    GgmlType::kF32,  GgmlType::kF16,  GgmlType::kBF16, GgmlType::kF64,
    GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1,
    GgmlType::kQ8_0, GgmlType::kQ8_1, GgmlType::kQ2_K, GgmlType::kQ3_K,
    GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kQ8_K};

std::vector<float> GaussianRow(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = dist(rng);
  return x;
}

TEST(QuantsApi, EveryBasicTypeHasItsCodecs) {
  for (GgmlType t : kBasicTypes) {
    EXPECT_NE(GetReferenceCodec(t).dequantize, nullptr) << GgmlTypeName(t);
  }
  for (GgmlType t : kQuantizable) {
    EXPECT_NE(GetReferenceCodec(t).quantize, nullptr) << GgmlTypeName(t);
  }
}

TEST(QuantsApi, PartialBlockIsAnErrorNotATruncation) {
  std::vector<uint8_t> bytes(10 * 144);
  std::vector<float> out(4096, 42.0f);
  const absl::Status s = reference::Dequantize(GgmlType::kQ4_K, bytes, 300, out.data());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("not a whole number"), std::string::npos) << s;
  EXPECT_EQ(out[0], 42.0f);  // nothing written
  EXPECT_FALSE(reference::Dequantize(GgmlType::kQ8_0, bytes, 33, out.data()).ok());
  EXPECT_FALSE(reference::Dequantize(GgmlType::kQ8_0, bytes, -32, out.data()).ok());
  std::vector<uint16_t> half(4096);
  EXPECT_FALSE(reference::DequantizeToF16(GgmlType::kQ4_0, bytes, 31, half.data()).ok());
  EXPECT_FALSE(reference::DequantizeToBF16(GgmlType::kQ4_0, bytes, 31, half.data()).ok());
  std::vector<float> x(100);
  std::vector<uint8_t> q(1000);
  EXPECT_FALSE(reference::Quantize(GgmlType::kQ4_0, x, absl::MakeSpan(q)).ok());
}

TEST(QuantsApi, ShortInputOrOutputSpanIsAnError) {
  std::vector<uint8_t> bytes(2 * 144 - 1);
  std::vector<float> out(512);
  const absl::Status s = reference::Dequantize(GgmlType::kQ4_K, bytes, 512, out.data());
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("288"), std::string::npos) << s;
  EXPECT_FALSE(
      reference::Dequantize(GgmlType::kQ4_K, absl::MakeConstSpan(bytes.data(), 144), 512, out.data()).ok());
  EXPECT_FALSE(reference::Dequantize(GgmlType::kQ4_K, bytes, 256, nullptr).ok());
  std::vector<float> x(512);
  std::vector<uint8_t> q(287);
  EXPECT_FALSE(reference::Quantize(GgmlType::kQ4_K, x, absl::MakeSpan(q)).ok());
  // Zero elements: nothing to do.
  EXPECT_TRUE(reference::Dequantize(GgmlType::kQ4_K, {}, 0, out.data()).ok());
}

TEST(QuantsApi, MissingCodecIsNamed) {
  std::vector<float> x(32);
  std::vector<uint8_t> q(256);
  const absl::Status s = reference::Quantize(GgmlType::kI32, x, absl::MakeSpan(q));
  EXPECT_EQ(s.code(), absl::StatusCode::kUnimplemented);
  EXPECT_NE(std::string(s.message()).find("no quantizer for type i32"), std::string::npos) << s;

  // A type without a dequantizer, if any is left in the table.
  for (const TypeTraits& t : AllTypeTraits()) {
    if (GetReferenceCodec(t.type).dequantize != nullptr) continue;
    std::vector<uint8_t> bytes(static_cast<size_t>(t.type_size));
    std::vector<float> out(static_cast<size_t>(t.block_size));
    const absl::Status d = reference::Dequantize(t.type, bytes, t.block_size, out.data());
    EXPECT_EQ(d.code(), absl::StatusCode::kUnimplemented);
    EXPECT_NE(std::string(d.message()).find("no dequantizer for type " + std::string(t.name)),
              std::string::npos)
        << d;
    return;
  }
  GTEST_SKIP() << "every type in the table has a dequantizer: no missing-codec case to check";
}

// Real blocks are 18, 34, 210... bytes long: decoding must not depend on the
// alignment of either buffer.
TEST(QuantsApi, MisalignedInputAndOutputGiveTheSameBits) {
  for (GgmlType type : kBasicTypes) {
    const TypeTraits& t = GetTypeTraits(type);
    const int64_t n_blocks = t.block_size == 1 ? 67 : 5;
    const int64_t n = n_blocks * t.block_size;
    const std::vector<uint8_t> blocks = RandomBlocks(type, n_blocks, 77u);
    std::vector<float> aligned(static_cast<size_t>(n));
    ASSERT_TRUE(reference::Dequantize(type, blocks, n, aligned.data()).ok()) << t.name;
    for (int offset : {1, 3, 5}) {
      std::vector<uint8_t> buffer(blocks.size() + 8);
      std::memcpy(buffer.data() + offset, blocks.data(), blocks.size());
      std::vector<uint8_t> out_buffer(static_cast<size_t>(n) * 4 + 8);
      float* out = reinterpret_cast<float*>(out_buffer.data());  // aligned
      ASSERT_TRUE(
          reference::Dequantize(type, absl::MakeConstSpan(buffer.data() + offset, blocks.size()), n, out)
              .ok());
      EXPECT_EQ(std::memcmp(out, aligned.data(), static_cast<size_t>(n) * 4), 0)
          << t.name << " input offset " << offset;
    }
  }
  // Quantizing into a misaligned output gives the same bytes.
  const std::vector<float> x = GaussianRow(1024, 5);
  for (GgmlType type : kQuantizable) {
    const int64_t bytes = *RowSizeBytes(type, 1024);
    std::vector<uint8_t> ref(static_cast<size_t>(bytes));
    ASSERT_TRUE(reference::Quantize(type, x, absl::MakeSpan(ref)).ok()) << GgmlTypeName(type);
    for (int offset : {1, 3}) {
      std::vector<uint8_t> buffer(static_cast<size_t>(bytes) + 8);
      ASSERT_TRUE(reference::Quantize(type, x, absl::MakeSpan(buffer.data() + offset, bytes)).ok());
      EXPECT_EQ(std::memcmp(buffer.data() + offset, ref.data(), ref.size()), 0)
          << GgmlTypeName(type) << " output offset " << offset;
    }
  }
}

// The f16 / bf16 forms work in chunks; rows longer than a chunk must come out
// the same as rounding the f32 output.
TEST(QuantsApi, HalfOutputsEqualRoundedFloatOutputs) {
  for (GgmlType type : kBasicTypes) {
    const TypeTraits& t = GetTypeTraits(type);
    const int64_t n = (5 * 1024 + 256) / t.block_size * t.block_size;
    const std::vector<uint8_t> blocks = RandomBlocks(type, n / t.block_size, 99u);
    std::vector<float> f32(static_cast<size_t>(n));
    std::vector<uint16_t> f16(static_cast<size_t>(n)), bf16(static_cast<size_t>(n));
    ASSERT_TRUE(reference::Dequantize(type, blocks, n, f32.data()).ok());
    ASSERT_TRUE(reference::DequantizeToF16(type, blocks, n, f16.data()).ok());
    ASSERT_TRUE(reference::DequantizeToBF16(type, blocks, n, bf16.data()).ok());
    for (int64_t i = 0; i < n; ++i) {
      if (type != GgmlType::kF16) {
        ASSERT_EQ(f16[i], F32ToF16(f32[i])) << t.name << " " << i;
      }
      if (type != GgmlType::kBF16) {
        ASSERT_EQ(bf16[i], F32ToBF16(f32[i])) << t.name << " " << i;
      }
    }
  }
}

// F16 -> F16 and BF16 -> BF16 are copies: every bit pattern, NaN payloads
// and signalling NaNs included, comes back unchanged.
TEST(QuantsApi, SameTypeHalfOutputIsIdentityOnBits) {
  std::vector<uint16_t> all(65536);
  for (uint32_t i = 0; i < 65536; ++i) all[i] = static_cast<uint16_t>(i);
  const auto bytes = absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(all.data()), 2 * 65536);
  std::vector<uint16_t> out(65536);
  ASSERT_TRUE(reference::DequantizeToF16(GgmlType::kF16, bytes, 65536, out.data()).ok());
  EXPECT_EQ(out, all);
  ASSERT_TRUE(reference::DequantizeToBF16(GgmlType::kBF16, bytes, 65536, out.data()).ok());
  EXPECT_EQ(out, all);
  // F16 -> f32 -> F16 through the BF16 form rounds (not identity), but every
  // finite f16 survives the F16 -> f32 path exactly.
  std::vector<float> f32(65536);
  ASSERT_TRUE(reference::Dequantize(GgmlType::kF16, bytes, 65536, f32.data()).ok());
  for (uint32_t i = 0; i < 65536; ++i) {
    if (((i >> 10) & 0x1F) != 0x1F) {
      ASSERT_EQ(F32ToF16(f32[i]), i);
    }
  }
}

TEST(QuantsApi, IntegersDecodeAsNumbers) {
  const int64_t i64[3] = {-5, 16777217, INT64_MIN};
  std::vector<float> out(3);
  ASSERT_TRUE(reference::Dequantize(GgmlType::kI64,
                         absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(i64), sizeof i64), 3,
                         out.data())
                  .ok());
  EXPECT_EQ(out[0], -5.0f);
  EXPECT_EQ(out[1], 16777216.0f);  // nearest float
  EXPECT_EQ(out[2], -9223372036854775808.0f);
  const int8_t i8[2] = {-128, 127};
  ASSERT_TRUE(reference::Dequantize(GgmlType::kI8,
                         absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(i8), 2), 2,
                         out.data())
                  .ok());
  EXPECT_EQ(out[0], -128.0f);
  EXPECT_EQ(out[1], 127.0f);
  const double f64[2] = {0.1, -1e300};
  ASSERT_TRUE(reference::Dequantize(GgmlType::kF64,
                         absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(f64), sizeof f64), 2,
                         out.data())
                  .ok());
  EXPECT_EQ(out[0], 0.1f);
  EXPECT_EQ(out[1], -INFINITY);
  // FLT_MAX, just below the rounding midpoint (2^128 - 2^103), the midpoint
  // itself (a tie: rounds to even, i.e. to 2^128 = inf), NaN.
  const double edges[4] = {3.4028234663852886e38, 3.4028235677973362e38, 3.4028235677973366e38,
                           std::nan("")};
  out.resize(4);
  ASSERT_TRUE(reference::Dequantize(GgmlType::kF64,
                         absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(edges), sizeof edges),
                         4, out.data())
                  .ok());
  EXPECT_EQ(out[0], std::numeric_limits<float>::max());
  EXPECT_EQ(out[1], std::numeric_limits<float>::max());
  EXPECT_TRUE(std::isinf(out[2]));
  EXPECT_TRUE(std::isnan(out[3]));
}

// Q8_1 is Q8_0 plus s = half(d * sum(qs)); Q8_K keeps bsums.
TEST(QuantsApi, Q8_1AndQ8_KQuantizerInvariants) {
  const std::vector<float> x = GaussianRow(4096, 11);
  std::vector<uint8_t> q80(*RowSizeBytes(GgmlType::kQ8_0, 4096));
  std::vector<uint8_t> q81(*RowSizeBytes(GgmlType::kQ8_1, 4096));
  ASSERT_TRUE(reference::Quantize(GgmlType::kQ8_0, x, absl::MakeSpan(q80)).ok());
  ASSERT_TRUE(reference::Quantize(GgmlType::kQ8_1, x, absl::MakeSpan(q81)).ok());
  for (int b = 0; b < 128; ++b) {
    const uint8_t* a = q80.data() + 34 * b;
    const uint8_t* c = q81.data() + 36 * b;
    EXPECT_EQ(std::memcmp(a, c, 2), 0);
    EXPECT_EQ(std::memcmp(a + 2, c + 4, 32), 0);
    int sum = 0;
    for (int j = 0; j < 32; ++j) sum += static_cast<int8_t>(c[4 + j]);
    // s uses the unrounded f32 scale, as in ggml: d = max|x| / 127.
    float amax = 0;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[32 * b + j]));
    uint16_t s;
    std::memcpy(&s, c + 2, 2);
    EXPECT_EQ(s, F32ToF16(static_cast<float>(sum) * (amax / 127)));
  }
  std::vector<uint8_t> q8k(*RowSizeBytes(GgmlType::kQ8_K, 4096));
  ASSERT_TRUE(reference::Quantize(GgmlType::kQ8_K, x, absl::MakeSpan(q8k)).ok());
  std::vector<float> y(4096);
  ASSERT_TRUE(reference::Dequantize(GgmlType::kQ8_K, q8k, 4096, y.data()).ok());
  for (int b = 0; b < 16; ++b) {
    const uint8_t* blk = q8k.data() + 292 * b;
    float amax = 0;
    for (int j = 0; j < 256; ++j) amax = std::max(amax, std::fabs(x[256 * b + j]));
    for (int j = 0; j < 256; ++j) {
      EXPECT_NEAR(y[256 * b + j], x[256 * b + j], amax / 127 * 0.5001f);
    }
    for (int k = 0; k < 16; ++k) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += static_cast<int8_t>(blk[4 + 16 * k + j]);
      int16_t bsum;
      std::memcpy(&bsum, blk + 260 + 2 * k, 2);
      EXPECT_EQ(bsum, sum);
    }
  }
}

}  // namespace
}  // namespace ggufkit
