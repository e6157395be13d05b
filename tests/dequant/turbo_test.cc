// The SIMD turbo2/3/4 codecs and rotation (dequant/turbo.h) against the
// scalar reference of quants/turbo.h and the fork's golden vectors, on every
// compiled Highway target.
#include "ggufkit/dequant/turbo.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "ggufkit/dequant/dequant.h"
#include "gtest/gtest.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/turbo.h"
#include "tests/common/test_data.h"

namespace ggufkit {

void PrintTo(const DequantTarget& target, std::ostream* os);

namespace {

using testing::GoldenPath;
using testing::ReadFileBytes;
using testing::ReadFloats;

constexpr TurboFormat kFormats[] = {TurboFormat::kTurbo2, TurboFormat::kTurbo3,
                                    TurboFormat::kTurbo4};
constexpr TurboVariant kVariants[] = {TurboVariant::kCurrent, TurboVariant::kV1};

std::string Name(TurboFormat format, TurboVariant variant) {
  return "turbo" + std::to_string(static_cast<int>(format)) +
         (variant == TurboVariant::kV1 ? " v1" : "");
}

// Groups that exercise every path: Gaussian rows of several scales, zeros,
// constants (the rotation cancels exactly: values land on threshold 0),
// tiny norms (1e-30: the sum of squares underflows), a huge outlier, NaN,
// +-Inf, and values exactly on thresholds after rotation.
std::vector<float> TestGroups(int n_random, std::mt19937* rng) {
  std::vector<float> x;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const float scales[] = {1.0f, 0.02f, 1e-6f, 1e-30f, 1e3f};
  for (int g = 0; g < n_random; ++g) {
    const float s = scales[g % 5];
    for (int i = 0; i < 128; ++i) x.push_back(normal(*rng) * s);
  }
  for (float c : {0.0f, 0.75f, -2.0f, -0.0f}) {
    for (int i = 0; i < 128; ++i) x.push_back(c);
  }
  for (int special = 0; special < 3; ++special) {
    for (int i = 0; i < 128; ++i) x.push_back(normal(*rng));
    const float v = special == 0 ? NAN : (special == 1 ? INFINITY : -INFINITY);
    x[x.size() - 128 + static_cast<size_t>(special) * 7] = v;
  }
  return x;
}

class TurboTargetTest : public ::testing::TestWithParam<DequantTarget> {
 protected:
  void SetUp() override { scope_ = std::make_unique<ScopedDequantTarget>(GetParam().id); }
  void TearDown() override { scope_.reset(); }

 private:
  std::unique_ptr<ScopedDequantTarget> scope_;
};

// Quantize: the SIMD bytes equal the reference bytes. A mismatch would only
// be tolerated for an index whose rotated value lies within 1e-6 of a
// threshold; the test counts such values and bounds the mismatches by them
// (the SIMD quantizer keeps the reference's order of operations, so the
// number of mismatches is in fact 0).
TEST_P(TurboTargetTest, QuantizeMatchesReference) {
  std::mt19937 rng(42);
  const std::vector<float> x = TestGroups(200, &rng);
  const int64_t n_groups = static_cast<int64_t>(x.size() / 128);
  for (TurboFormat format : kFormats) {
    for (TurboVariant variant : kVariants) {
      const TurboCodebook& book = GetTurboCodebook(format, variant);
      const int64_t block_bytes = TurboBlockBytes(format, variant);
      std::vector<uint8_t> got(static_cast<size_t>(n_groups * block_bytes), 0xCD);
      ASSERT_TRUE(QuantizeTurboGroups(format, variant, x.data(), n_groups, got.data()).ok());
      int64_t near_threshold = 0, mismatched_indices = 0, mismatched_norms = 0;
      for (int64_t g = 0; g < n_groups; ++g) {
        std::vector<uint8_t> want(static_cast<size_t>(block_bytes));
        QuantizeTurboGroup(format, variant, x.data() + g * 128, want.data());
        const uint8_t* block = got.data() + g * block_bytes;
        // The rotated, normalised values the reference compared.
        float u[128];
        float norm_sq = 0.0f;
        for (int i = 0; i < 128; ++i) norm_sq += x[g * 128 + i] * x[g * 128 + i];
        const float norm = std::sqrt(norm_sq);
        for (int i = 0; i < 128; ++i) u[i] = x[g * 128 + i] * (norm > 1e-10f ? 1.0f / norm : 0.0f);
        WhtForward128(u);
        uint8_t want_idx[128], got_idx[128];
        UnpackTurboIndices(format, variant, want.data(), want_idx);
        UnpackTurboIndices(format, variant, block, got_idx);
        for (int i = 0; i < 128; ++i) {
          bool near = false;
          for (int k = 0; k + 1 < book.n_levels; ++k) {
            near |= std::fabs(u[i] - book.thresholds[k]) <= 1e-6f;
          }
          near_threshold += near;
          if (want_idx[i] != got_idx[i]) {
            ++mismatched_indices;
            EXPECT_TRUE(near) << Name(format, variant) << " group " << g << " element " << i
                              << ": index differs for a value " << u[i] << " not near a threshold";
          }
        }
        if (TurboBlockNormBits(block) != TurboBlockNormBits(want.data())) ++mismatched_norms;
        if (mismatched_indices == 0 && mismatched_norms == 0) {
          ASSERT_EQ(std::memcmp(block, want.data(), static_cast<size_t>(block_bytes)), 0)
              << Name(format, variant) << " group " << g;
        }
      }
      EXPECT_LE(mismatched_indices, near_threshold);
      EXPECT_EQ(mismatched_indices, 0) << Name(format, variant) << ": " << near_threshold
                                       << " values within 1e-6 of a threshold";
      EXPECT_EQ(mismatched_norms, 0) << Name(format, variant);
      // The data does reach the thresholds (constant groups land on 0).
      EXPECT_GT(near_threshold, 0) << Name(format, variant);
    }
  }
}

// Dequantize: random index bytes and norms (every half, NaN and Inf
// included), block counts 1..65, misaligned input blocks.
TEST_P(TurboTargetTest, DequantizeMatchesReference) {
  std::mt19937 rng(7);
  for (TurboFormat format : kFormats) {
    for (TurboVariant variant : kVariants) {
      const int64_t block_bytes = TurboBlockBytes(format, variant);
      for (int64_t n_groups : {1, 2, 9, 65}) {
        for (int misalign : {0, 1, 3}) {
          std::vector<uint8_t> in(static_cast<size_t>(n_groups * block_bytes + 8));
          for (auto& b : in) b = static_cast<uint8_t>(rng());
          const uint8_t* blocks = in.data() + misalign;
          std::vector<float> want(static_cast<size_t>(n_groups * 128));
          for (int64_t g = 0; g < n_groups; ++g) {
            DequantizeTurboGroup(format, variant, blocks + g * block_bytes, want.data() + g * 128);
          }
          // Output: a float array (aligned as C++ requires), one guard after.
          std::vector<float> out(want.size() + 1, -123.0f);
          ASSERT_TRUE(DequantizeTurboGroups(format, variant, blocks, n_groups, out.data()).ok());
          ASSERT_EQ(std::memcmp(out.data(), want.data(), want.size() * 4), 0)
              << Name(format, variant) << ", " << n_groups << " groups, misalign " << misalign;
          ASSERT_EQ(out[want.size()], -123.0f) << "wrote past the end";
        }
      }
    }
  }
}

// Rotation both ways, random data with specials: bit-exact with the reference.
TEST_P(TurboTargetTest, RotationMatchesReference) {
  std::mt19937 rng(3);
  std::vector<float> x = TestGroups(40, &rng);
  const int64_t n_groups = static_cast<int64_t>(x.size() / 128);
  for (RotationDirection direction : {RotationDirection::kForward, RotationDirection::kInverse}) {
    std::vector<float> want = x;
    for (int64_t g = 0; g < n_groups; ++g) {
      if (direction == RotationDirection::kForward) {
        WhtForward128(want.data() + g * 128);
      } else {
        WhtInverse128(want.data() + g * 128);
      }
    }
    std::vector<float> got = x;
    ASSERT_TRUE(RotateTurboGroups(got.data(), n_groups, direction).ok());
    for (size_t i = 0; i < got.size(); ++i) {
      const bool both_nan = std::isnan(got[i]) && std::isnan(want[i]);
      ASSERT_TRUE(both_nan || FloatBits(got[i]) == FloatBits(want[i]))
          << "element " << i << ": " << got[i] << " vs " << want[i];
    }
  }
}

// The fork's own vectors: golden/turbo/{current,v1}: quantizing ggml's
// input.f32 gives <type>.q, dequantizing it gives <type>.deq.f32, and the
// inverse rotation of turbo3.deq.f32 gives wht_inverse.f32.
TEST_P(TurboTargetTest, MatchesForkGoldenVectors) {
  const std::vector<float> input = ReadFloats(GoldenPath("ggml/input.f32"));
  ASSERT_EQ(input.size(), 25u * 4096u);
  const int64_t n_groups = static_cast<int64_t>(input.size() / 128);
  for (TurboVariant variant : kVariants) {
    const std::string dir = variant == TurboVariant::kV1 ? "turbo/v1/" : "turbo/current/";
    for (TurboFormat format : kFormats) {
      const std::string name = "turbo" + std::to_string(static_cast<int>(format));
      const std::vector<uint8_t> q = ReadFileBytes(GoldenPath(dir + name + ".q"));
      const std::vector<uint8_t> deq = ReadFileBytes(GoldenPath(dir + name + ".deq.f32"));
      if (q.empty() && format == TurboFormat::kTurbo2 && variant == TurboVariant::kCurrent) {
        continue;  // turbo2 is unchanged, only in v1/
      }
      ASSERT_EQ(static_cast<int64_t>(q.size()), n_groups * TurboBlockBytes(format, variant))
          << dir << name;
      std::vector<uint8_t> got_q(q.size());
      ASSERT_TRUE(QuantizeTurboGroups(format, variant, input.data(), n_groups, got_q.data()).ok());
      EXPECT_EQ(std::memcmp(got_q.data(), q.data(), q.size()), 0) << dir << name << ".q";
      std::vector<float> got(input.size());
      ASSERT_TRUE(DequantizeTurboGroups(format, variant, q.data(), n_groups, got.data()).ok());
      EXPECT_EQ(std::memcmp(got.data(), deq.data(), deq.size()), 0) << dir << name << ".deq.f32";
      if (format == TurboFormat::kTurbo3) {
        const std::vector<uint8_t> inv = ReadFileBytes(GoldenPath(dir + "wht_inverse.f32"));
        ASSERT_TRUE(RotateTurboGroups(got.data(), n_groups, RotationDirection::kInverse).ok());
        EXPECT_EQ(std::memcmp(got.data(), inv.data(), inv.size()), 0) << dir << "wht_inverse.f32";
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllTargets, TurboTargetTest,
                         ::testing::ValuesIn(SupportedDequantTargets()),
                         [](const ::testing::TestParamInfo<DequantTarget>& param_info) {
                           return param_info.param.name;
                         });

TEST(TurboGroups, RejectsBadRequests) {
  float x[128] = {};
  uint8_t blocks[68] = {};
  EXPECT_TRUE(absl::IsInvalidArgument(
      QuantizeTurboGroups(static_cast<TurboFormat>(5), TurboVariant::kCurrent, x, 1, blocks)));
  EXPECT_TRUE(absl::IsInvalidArgument(
      QuantizeTurboGroups(TurboFormat::kTurbo2, static_cast<TurboVariant>(9), x, 1, blocks)));
  EXPECT_TRUE(absl::IsInvalidArgument(
      DequantizeTurboGroups(TurboFormat::kTurbo3, TurboVariant::kCurrent, blocks, -1, x)));
  EXPECT_TRUE(absl::IsInvalidArgument(
      DequantizeTurboGroups(TurboFormat::kTurbo3, TurboVariant::kCurrent, nullptr, 1, x)));
  EXPECT_TRUE(absl::IsInvalidArgument(RotateTurboGroups(nullptr, 1, RotationDirection::kForward)));
  EXPECT_TRUE(
      DequantizeTurboGroups(TurboFormat::kTurbo3, TurboVariant::kCurrent, nullptr, 0, nullptr)
          .ok());
}

}  // namespace
}  // namespace ggufkit
