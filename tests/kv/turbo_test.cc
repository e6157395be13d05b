// Reference turbo codec: bit-exact against the fork's golden output, and the
// properties the format relies on (rotation, ties, norm correction, NaN/Inf).
#include "quants/turbo.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "quants/half.h"
#include "tests/common/test_data.h"

namespace ggufkit {
namespace {

using testing::GoldenPath;
using testing::ReadFileBytes;
using testing::ReadFloats;

constexpr int kRows = 25;
constexpr int kCols = 4096;
constexpr int kGroupsPerRow = kCols / kTurboGroupSize;

struct GoldenCase {
  TurboFormat format;
  TurboVariant variant;
  const char* dir;
  const char* name;
};

std::string CaseName(const ::testing::TestParamInfo<GoldenCase>& info) {
  return std::string(info.param.dir) + "_" + info.param.name;
}

class TurboGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

// Quantized bytes and dequantized float bits equal the fork's on input.f32.
TEST_P(TurboGoldenTest, BytesAndFloatsMatchFork) {
  const GoldenCase& c = GetParam();
  const std::vector<float> input = ReadFloats(GoldenPath("ggml/input.f32"));
  // turbo2 is identical in both variants and only stored under v1/.
  const std::string dir = c.format == TurboFormat::kTurbo2 ? "v1" : c.dir;
  const std::vector<uint8_t> want_q =
      ReadFileBytes(GoldenPath("turbo/" + dir + "/" + c.name + ".q"));
  const std::vector<float> want_deq =
      ReadFloats(GoldenPath("turbo/" + dir + "/" + c.name + ".deq.f32"));
  ASSERT_EQ(input.size(), size_t{kRows} * kCols);
  const int block_bytes = TurboBlockBytes(c.format, c.variant);
  ASSERT_EQ(want_q.size(), size_t{kRows} * kGroupsPerRow * block_bytes);
  ASSERT_EQ(want_deq.size(), input.size());

  std::vector<uint8_t> got_q(want_q.size(), 0xAB);
  std::vector<float> got_deq(input.size());
  const int n_groups = kRows * kGroupsPerRow;
  int bad_blocks = 0;
  int bad_floats = 0;
  for (int g = 0; g < n_groups; ++g) {
    uint8_t* block = got_q.data() + size_t(g) * block_bytes;
    QuantizeTurboGroup(c.format, c.variant, input.data() + size_t(g) * kTurboGroupSize, block);
    if (std::memcmp(block, want_q.data() + size_t(g) * block_bytes, block_bytes) != 0) {
      if (++bad_blocks <= 3) ADD_FAILURE() << "block " << g << " (row " << g / kGroupsPerRow << ")";
    }
    // Dequantize the golden bytes, so a quantizer bug cannot hide a
    // dequantizer bug.
    DequantizeTurboGroup(c.format, c.variant, want_q.data() + size_t(g) * block_bytes,
                         got_deq.data() + size_t(g) * kTurboGroupSize);
  }
  for (size_t i = 0; i < input.size(); ++i) {
    if (FloatBits(got_deq[i]) != FloatBits(want_deq[i]) && ++bad_floats <= 3) {
      ADD_FAILURE() << "deq[" << i << "] = " << got_deq[i] << ", want " << want_deq[i];
    }
  }
  EXPECT_EQ(bad_blocks, 0);
  EXPECT_EQ(bad_floats, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Fork, TurboGoldenTest,
    ::testing::Values(GoldenCase{TurboFormat::kTurbo2, TurboVariant::kV1, "v1", "turbo2"},
                      GoldenCase{TurboFormat::kTurbo3, TurboVariant::kV1, "v1", "turbo3"},
                      GoldenCase{TurboFormat::kTurbo4, TurboVariant::kV1, "v1", "turbo4"},
                      GoldenCase{TurboFormat::kTurbo2, TurboVariant::kCurrent, "current", "turbo2"},
                      GoldenCase{TurboFormat::kTurbo3, TurboVariant::kCurrent, "current", "turbo3"},
                      GoldenCase{TurboFormat::kTurbo4, TurboVariant::kCurrent, "current",
                                 "turbo4"}),
    CaseName);

// The fork's inverse WHT of the turbo3 reconstruction, bit for bit.
TEST(TurboWhtTest, InverseMatchesForkGolden) {
  for (const char* dir : {"v1", "current"}) {
    const std::vector<float> deq =
        ReadFloats(GoldenPath(std::string("turbo/") + dir + "/turbo3.deq.f32"));
    const std::vector<float> want =
        ReadFloats(GoldenPath(std::string("turbo/") + dir + "/wht_inverse.f32"));
    ASSERT_EQ(deq.size(), want.size());
    std::vector<float> got = deq;
    for (size_t g = 0; g < got.size(); g += kTurboGroupSize) WhtInverse128(got.data() + g);
    int bad = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      if (FloatBits(got[i]) != FloatBits(want[i]) && ++bad <= 3) {
        ADD_FAILURE() << dir << " [" << i << "] = " << got[i] << ", want " << want[i];
      }
    }
    EXPECT_EQ(bad, 0) << dir;
  }
}

}  // namespace
}  // namespace ggufkit
