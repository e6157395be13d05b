// The row-codec contract for every type of this family: registered, no
// alignment requirement (blocks at any byte offset, output at any float
// offset), whole blocks only, deterministic quantizers that honour the
// importance matrix where ggml does.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/quants_extra/extra_test_util.h"

namespace ggufkit::testing {
namespace {

class CodecContractTest : public ::testing::TestWithParam<GgmlType> {};

TEST_P(CodecContractTest, RegisteredAsDocumented) {
  const GgmlType type = GetParam();
  const ReferenceCodec& codec = GetReferenceCodec(type);
  for (const ExtraType& t : ExtraTypes()) {
    if (t.type != type) continue;
    EXPECT_NE(codec.dequantize, nullptr);
    EXPECT_EQ(codec.quantize != nullptr, t.has_quantizer);
    EXPECT_EQ(codec.uses_imatrix, type == GgmlType::kIQ4_NL || type == GgmlType::kIQ4_XS);
  }
}

TEST_P(CodecContractTest, PartialBlocksAreRejectedBySize) {
  const GgmlType type = GetParam();
  const int64_t block = GetTypeTraits(type).block_size;
  EXPECT_TRUE(RowSizeBytes(type, 3 * block).ok());
  EXPECT_FALSE(RowSizeBytes(type, 3 * block + 1).ok());
  EXPECT_FALSE(RowSizeBytes(type, block - 1).ok());
  EXPECT_FALSE(RowSizeBytes(type, block / 2).ok());
}

// Blocks come from files: any byte pattern (NaN/inf scales, every index
// value) must decode without reading outside the codebooks or the input.
// Run under ASan + UBSan this is the bounds check of every table lookup.
TEST_P(CodecContractTest, ArbitraryBytesDecodeInBounds) {
  const GgmlType type = GetParam();
  const TypeTraits& traits = GetTypeTraits(type);
  constexpr int64_t kBlocks = 64;
  std::mt19937 rng(static_cast<uint32_t>(type));
  std::vector<uint8_t> blocks(static_cast<size_t>(kBlocks * traits.type_size));
  for (int pass = 0; pass < 3; ++pass) {
    for (auto& b : blocks) {
      b = pass == 0 ? static_cast<uint8_t>(rng()) : (pass == 1 ? uint8_t{0xFF} : uint8_t{0});
    }
    const std::vector<float> y =
        DequantizeWithReference(type, blocks.data(), kBlocks * traits.block_size);
    ASSERT_EQ(static_cast<int64_t>(y.size()), kBlocks * traits.block_size);
    if (pass == 2) {
      // All-zero blocks have a zero scale in every format: only +-0 comes out.
      for (float v : y) ASSERT_EQ(v, 0.0f) << GgmlTypeName(type);
    }
  }
}

TEST_P(CodecContractTest, DequantizeAtEveryMisalignment) {
  const GgmlType type = GetParam();
  const TypeTraits& traits = GetTypeTraits(type);
  constexpr int64_t kBlocks = 5;
  const int64_t n = kBlocks * traits.block_size;
  const std::vector<uint8_t> blocks = RandomBlocks(type, kBlocks, 99u);
  const std::vector<float> want = DequantizeWithReference(type, blocks.data(), n);
  for (size_t byte_offset = 1; byte_offset < 16; ++byte_offset) {
    std::vector<uint8_t> shifted(blocks.size() + 16);
    std::memcpy(shifted.data() + byte_offset, blocks.data(), blocks.size());
    // Output shifted by 1..3 floats: off the 16-byte grid SIMD code likes.
    const size_t float_offset = byte_offset % 4;
    std::vector<float> out(static_cast<size_t>(n) + 4, 12345.0f);
    GetReferenceCodec(type).dequantize(shifted.data() + byte_offset, out.data() + float_offset, n);
    const int64_t bad = FirstBitMismatch(out.data() + float_offset, want.data(), n);
    ASSERT_EQ(bad, -1) << "byte offset " << byte_offset;
    // Nothing written outside the n outputs.
    for (size_t i = 0; i < float_offset; ++i) EXPECT_EQ(out[i], 12345.0f);
    for (size_t i = float_offset + static_cast<size_t>(n); i < out.size(); ++i) {
      EXPECT_EQ(out[i], 12345.0f);
    }
  }
}

class QuantizerContractTest : public ::testing::TestWithParam<GgmlType> {};

TEST_P(QuantizerContractTest, QuantizeAtEveryMisalignmentIsDeterministic) {
  const GgmlType type = GetParam();
  const ReferenceCodec& codec = GetReferenceCodec(type);
  ASSERT_NE(codec.quantize, nullptr);
  const TypeTraits& traits = GetTypeTraits(type);
  constexpr int64_t kBlocks = 4;
  const int64_t n = kBlocks * traits.block_size;
  const size_t bytes = static_cast<size_t>(kBlocks * traits.type_size);
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n) + 4);
  for (float& v : x) v = normal(rng);
  std::vector<uint8_t> want(bytes);
  codec.quantize(x.data(), want.data(), n, nullptr);
  for (size_t byte_offset = 1; byte_offset < 16; ++byte_offset) {
    const size_t float_offset = byte_offset % 4;
    std::vector<float> x_shifted(x.size() + 4);
    std::memcpy(x_shifted.data() + float_offset, x.data(), static_cast<size_t>(n) * sizeof(float));
    std::vector<uint8_t> out(bytes + 32, 0xA5);
    codec.quantize(x_shifted.data() + float_offset, out.data() + byte_offset, n, nullptr);
    EXPECT_EQ(0, std::memcmp(out.data() + byte_offset, want.data(), bytes)) << byte_offset;
    for (size_t i = 0; i < byte_offset; ++i) EXPECT_EQ(out[i], 0xA5);
    for (size_t i = byte_offset + bytes; i < out.size(); ++i) EXPECT_EQ(out[i], 0xA5);
  }
}

TEST_P(QuantizerContractTest, QuantizeThenDequantizeIsClose) {
  const GgmlType type = GetParam();
  const ReferenceCodec& codec = GetReferenceCodec(type);
  ASSERT_NE(codec.quantize, nullptr);
  const TypeTraits& traits = GetTypeTraits(type);
  const int64_t n = 16 * 256;
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (float& v : x) v = normal(rng);
  std::vector<uint8_t> q(static_cast<size_t>(n / traits.block_size * traits.type_size));
  codec.quantize(x.data(), q.data(), n, nullptr);
  const std::vector<float> y = DequantizeWithReference(type, q.data(), n);
  double err = 0, ref = 0;
  for (int64_t i = 0; i < n; ++i) {
    err += (x[i] - y[i]) * static_cast<double>(x[i] - y[i]);
    ref += x[i] * static_cast<double>(x[i]);
  }
  const double relative_rmse = std::sqrt(err / ref);
  // Loose, per-format bounds on N(0,1) data: catches a wrong layout (which
  // gives ~1.0 or more), not a small quality change.
  double bound = 0.2;  // 4-bit formats
  if (type == GgmlType::kQ1_0) bound = 0.65;
  if (type == GgmlType::kQ2_0) bound = 0.75;
  // Ternary scales by the block max: most N(0,1) weights round to 0.
  if (type == GgmlType::kTQ1_0 || type == GgmlType::kTQ2_0) bound = 0.85;
  EXPECT_LT(relative_rmse, bound) << GgmlTypeName(type);
}

std::vector<GgmlType> AllExtraTypes() {
  std::vector<GgmlType> types;
  for (const ExtraType& t : ExtraTypes()) types.push_back(t.type);
  return types;
}

std::vector<GgmlType> QuantizableExtraTypes() {
  std::vector<GgmlType> types;
  for (const ExtraType& t : ExtraTypes()) {
    if (t.has_quantizer) types.push_back(t.type);
  }
  return types;
}

INSTANTIATE_TEST_SUITE_P(ExtraTypes, CodecContractTest, ::testing::ValuesIn(AllExtraTypes()),
                         TypeParamName);
INSTANTIATE_TEST_SUITE_P(ExtraTypes, QuantizerContractTest,
                         ::testing::ValuesIn(QuantizableExtraTypes()), TypeParamName);

// IQ4_NL / IQ4_XS read the importance matrix: the scale search minimizes
// sum w_j * sqrt(sigma2 + x_j^2) * (x_j - y_j)^2 instead of sum x_j^2 (x_j - y_j)^2.
// With weights concentrated on a few columns, those columns come out better.
TEST(ImportanceMatrix, Iq4QuantizersFavourHeavilyWeightedColumns) {
  for (GgmlType type : {GgmlType::kIQ4_NL, GgmlType::kIQ4_XS}) {
    const ReferenceCodec& codec = GetReferenceCodec(type);
    const int64_t n = 64 * 256;
    std::mt19937 rng(21);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    std::vector<float> x(static_cast<size_t>(n));
    std::vector<float> imatrix(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      x[i] = normal(rng);
      imatrix[i] = (i % 7 == 0) ? 100.0f : 0.01f;
    }
    const size_t bytes = static_cast<size_t>(*RowSizeBytes(type, n));
    std::vector<uint8_t> plain(bytes), weighted(bytes);
    codec.quantize(x.data(), plain.data(), n, nullptr);
    codec.quantize(x.data(), weighted.data(), n, imatrix.data());
    EXPECT_NE(plain, weighted) << GgmlTypeName(type);
    const std::vector<float> y_plain = DequantizeWithReference(type, plain.data(), n);
    const std::vector<float> y_weighted = DequantizeWithReference(type, weighted.data(), n);
    double err_plain = 0, err_weighted = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double w = imatrix[i];
      err_plain += w * (x[i] - y_plain[i]) * (x[i] - y_plain[i]);
      err_weighted += w * (x[i] - y_weighted[i]) * (x[i] - y_weighted[i]);
    }
    EXPECT_LT(err_weighted, err_plain) << GgmlTypeName(type);
  }
}

// ggml accepts an importance matrix for the other quantizable types and
// ignores it; so do we (same bytes with and without).
TEST(ImportanceMatrix, IgnoredWhereGgmlIgnoresIt) {
  for (const ExtraType& t : ExtraTypes()) {
    if (!t.has_quantizer || GetReferenceCodec(t.type).uses_imatrix) continue;
    const int64_t n = 4 * 256;
    std::vector<float> x(static_cast<size_t>(n)), imatrix(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      x[i] = std::sin(0.37f * static_cast<float>(i));
      imatrix[i] = static_cast<float>(1 + i % 5);
    }
    const size_t bytes = static_cast<size_t>(*RowSizeBytes(t.type, n));
    std::vector<uint8_t> a(bytes), b(bytes);
    GetReferenceCodec(t.type).quantize(x.data(), a.data(), n, nullptr);
    GetReferenceCodec(t.type).quantize(x.data(), b.data(), n, imatrix.data());
    EXPECT_EQ(a, b) << GgmlTypeName(t.type);
  }
}

// Non-finite inputs must not crash or trip the sanitizers (ggml's casts are
// undefined there; ours reproduce x86's results without the undefined step).
TEST(NonFiniteInput, QuantizersDoNotCrash) {
  for (const ExtraType& t : ExtraTypes()) {
    if (!t.has_quantizer) continue;
    const int64_t n = 2 * 256;
    std::vector<float> x(static_cast<size_t>(n), 1.0f);
    x[3] = NAN;
    x[100] = INFINITY;
    x[300] = -INFINITY;
    x[400] = 1e38f;
    x[401] = 1e-42f;
    const size_t bytes = static_cast<size_t>(*RowSizeBytes(t.type, n));
    std::vector<uint8_t> q(bytes);
    GetReferenceCodec(t.type).quantize(x.data(), q.data(), n, nullptr);
    const std::vector<float> y = DequantizeWithReference(t.type, q.data(), n);
    EXPECT_EQ(static_cast<int64_t>(y.size()), n);
  }
}

}  // namespace
}  // namespace ggufkit::testing
