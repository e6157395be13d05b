// Conformance with ggml's own output (golden/ggml): for each basic type,
// dequantizing <type>.q reproduces <type>.deq.f32 bit for bit (-0.0
// included), and quantizing input.f32 without an importance matrix
// reproduces <type>.q byte for byte.
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/quants.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/common/test_data.h"

namespace ggufkit {
namespace {

using testing::GoldenPath;
using testing::ReadFileBytes;
using testing::ReadFloats;

constexpr int64_t kRows = 25;
constexpr int64_t kCols = 4096;

class GoldenCodecTest : public ::testing::TestWithParam<const char*> {};

// Index of the first differing 32-bit pattern, or -1.
int64_t FirstBitMismatch(const std::vector<float>& a, const std::vector<float>& b) {
  for (size_t i = 0; i < a.size(); ++i) {
    uint32_t ua, ub;
    std::memcpy(&ua, &a[i], 4);
    std::memcpy(&ub, &b[i], 4);
    if (ua != ub) return static_cast<int64_t>(i);
  }
  return -1;
}

TEST_P(GoldenCodecTest, DequantizeMatchesGgmlBitForBit) {
  const std::string name = GetParam();
  auto type = ParseGgmlType(name);
  ASSERT_TRUE(type.ok()) << type.status();
  const std::vector<uint8_t> q = ReadFileBytes(GoldenPath("ggml/" + name + ".q"));
  const std::vector<float> expected = ReadFloats(GoldenPath("ggml/" + name + ".deq.f32"));
  ASSERT_EQ(expected.size(), static_cast<size_t>(kRows * kCols));
  ASSERT_EQ(static_cast<int64_t>(q.size()), *RowSizeBytes(*type, kRows * kCols));

  std::vector<float> got(expected.size());
  ASSERT_TRUE(reference::Dequantize(*type, q, kRows * kCols, got.data()).ok());
  const int64_t bad = FirstBitMismatch(got, expected);
  EXPECT_EQ(bad, -1) << name << " row " << bad / kCols << " col " << bad % kCols << ": got "
                     << got[bad] << " want " << expected[bad];

  // Row by row gives the same (rows start at r * row_size).
  const int64_t row_bytes = *RowSizeBytes(*type, kCols);
  std::vector<float> row(kCols);
  for (int64_t r = 0; r < kRows; ++r) {
    ASSERT_TRUE(reference::Dequantize(*type, absl::MakeConstSpan(q).subspan(r * row_bytes, row_bytes), kCols,
                           row.data())
                    .ok());
    ASSERT_EQ(std::memcmp(row.data(), expected.data() + r * kCols, kCols * 4), 0)
        << name << " row " << r;
  }
}

TEST_P(GoldenCodecTest, QuantizeMatchesGgmlByteForByte) {
  const std::string name = GetParam();
  auto type = ParseGgmlType(name);
  ASSERT_TRUE(type.ok()) << type.status();
  const std::vector<float> input = ReadFloats(GoldenPath("ggml/input.f32"));
  const std::vector<uint8_t> expected = ReadFileBytes(GoldenPath("ggml/" + name + ".q"));
  ASSERT_EQ(input.size(), static_cast<size_t>(kRows * kCols));
  std::vector<uint8_t> got(expected.size());
  ASSERT_TRUE(reference::Quantize(*type, input, absl::MakeSpan(got)).ok());
  const int64_t row_bytes = *RowSizeBytes(*type, kCols);
  const int64_t block_bytes = GetTypeTraits(*type).type_size;
  int bad_rows = 0;
  for (int64_t r = 0; r < kRows; ++r) {
    for (int64_t b = 0; b < row_bytes; ++b) {
      if (got[r * row_bytes + b] != expected[r * row_bytes + b]) {
        ADD_FAILURE() << name << " row " << r << " block " << b / block_bytes << " byte "
                      << b % block_bytes << ": got " << int(got[r * row_bytes + b]) << " want "
                      << int(expected[r * row_bytes + b]);
        ++bad_rows;
        break;
      }
    }
  }
  EXPECT_EQ(bad_rows, 0);
}

INSTANTIATE_TEST_SUITE_P(Basic, GoldenCodecTest,
                         ::testing::Values("f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0",
                                           "q2_K", "q3_K", "q4_K", "q5_K", "q6_K"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           return std::string(param_info.param);
                         });

// The rest of the golden set (codecs from quants/codecs_extra.cc): run here
// too so that this one suite covers every file in golden/ggml.
INSTANTIATE_TEST_SUITE_P(Extra, GoldenCodecTest,
                         ::testing::Values("iq4_nl", "iq4_xs", "tq1_0", "tq2_0", "mxfp4", "nvfp4",
                                           "q1_0", "q2_0"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           return std::string(param_info.param);
                         });

}  // namespace
}  // namespace ggufkit
