// Conformance with ggml's own output (golden/ggml, made by ggml 0.21.0):
// dequantized floats bit for bit (-0.0 included) and quantized bytes.
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/common/test_data.h"
#include "tests/quants_extra/extra_test_util.h"

namespace ggufkit::testing {
namespace {

constexpr int64_t kRows = 25;
constexpr int64_t kCols = 4096;

class GoldenTest : public ::testing::TestWithParam<GgmlType> {};

TEST_P(GoldenTest, DequantizeMatchesGgmlBitForBit) {
  const GgmlType type = GetParam();
  const std::string name(GgmlTypeName(type));
  const std::vector<uint8_t> q = ReadFileBytes(GoldenPath("ggml/" + name + ".q"));
  const std::vector<float> want = ReadFloats(GoldenPath("ggml/" + name + ".deq.f32"));
  const int64_t row_bytes = *RowSizeBytes(type, kCols);
  ASSERT_EQ(static_cast<int64_t>(q.size()), kRows * row_bytes);
  ASSERT_EQ(static_cast<int64_t>(want.size()), kRows * kCols);
  // Rows are whole blocks laid end to end, so the file is one block stream.
  const std::vector<float> got = DequantizeWithReference(type, q.data(), kRows * kCols);
  const int64_t bad = FirstBitMismatch(got.data(), want.data(), kRows * kCols);
  EXPECT_EQ(bad, -1) << name << " row " << bad / kCols << ", "
                     << (bad >= 0 ? DescribeMismatch(got.data(), want.data(), bad) : "");
  // The golden set holds -0.0 values for most types: make sure they survived.
  int64_t negative_zeros = 0;
  for (float v : want) negative_zeros += FloatBits(v) == 0x80000000u;
  int64_t got_negative_zeros = 0;
  for (float v : got) got_negative_zeros += FloatBits(v) == 0x80000000u;
  EXPECT_EQ(got_negative_zeros, negative_zeros) << name;
}

TEST_P(GoldenTest, QuantizeMatchesGgmlByteForByte) {
  const GgmlType type = GetParam();
  const std::string name(GgmlTypeName(type));
  const std::vector<float> input = ReadFloats(GoldenPath("ggml/input.f32"));
  const std::vector<uint8_t> want = ReadFileBytes(GoldenPath("ggml/" + name + ".q"));
  ASSERT_EQ(static_cast<int64_t>(input.size()), kRows * kCols);
  const int64_t row_bytes = *RowSizeBytes(type, kCols);
  ASSERT_EQ(static_cast<int64_t>(want.size()), kRows * row_bytes);
  const ReferenceCodec& codec = GetReferenceCodec(type);
  ASSERT_NE(codec.quantize, nullptr) << name;
  std::vector<uint8_t> got(want.size(), 0xCD);
  for (int64_t r = 0; r < kRows; ++r) {
    codec.quantize(input.data() + r * kCols, got.data() + r * row_bytes, kCols, nullptr);
  }
  const int64_t block_bytes = GetTypeTraits(type).type_size;
  for (int64_t r = 0; r < kRows; ++r) {
    for (int64_t off = 0; off < row_bytes; ++off) {
      const size_t at = static_cast<size_t>(r * row_bytes + off);
      if (got[at] != want[at]) {
        ADD_FAILURE() << name << ": first differing byte in row " << r << ", block "
                      << off / block_bytes << ", byte " << off % block_bytes << ": got "
                      << int{got[at]} << ", want " << int{want[at]};
        r = kRows;
        break;
      }
    }
  }
}

std::vector<GgmlType> GoldenTypes() {
  std::vector<GgmlType> types;
  for (const ExtraType& t : ExtraTypes()) {
    if (t.has_golden) types.push_back(t.type);
  }
  return types;
}

INSTANTIATE_TEST_SUITE_P(ExtraTypes, GoldenTest, ::testing::ValuesIn(GoldenTypes()), TypeParamName);

}  // namespace
}  // namespace ggufkit::testing
