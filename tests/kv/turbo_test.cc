// Reference turbo codec: bit-exact against the fork's golden output, and the
// properties the format relies on (rotation, ties, norm correction, NaN/Inf).
#include "ggufkit/quants/turbo.h"

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

constexpr TurboFormat kFormats[] = {TurboFormat::kTurbo2, TurboFormat::kTurbo3,
                                    TurboFormat::kTurbo4};
constexpr TurboVariant kVariants[] = {TurboVariant::kCurrent, TurboVariant::kV1};

// ---------------------------------------------------------------------------
// Lloyd-Max levels of N(0, 1/128), recomputed.
//
// Lloyd's iteration: thresholds = midpoints of adjacent levels; each level =
// the conditional mean of its cell, E[X | a < X < b] = sigma^2 (p(a) - p(b)) /
// (P(b) - P(a)) with p, P the N(0, sigma^2) density and distribution (closed
// form of the integral, evaluated in double). Iterated until no level moves by
// more than 1e-15. The mean squared error of a table is integrated
// numerically (composite Simpson, 20,000 panels per cell).
// ---------------------------------------------------------------------------
constexpr double kSigma = 0.08838834764831845;  // sqrt(1/128)

double NormalPdf(double x) {
  return std::exp(-x * x / (2 * kSigma * kSigma)) / (kSigma * std::sqrt(2 * M_PI));
}
double NormalCdf(double x) { return 0.5 * std::erfc(-x / (kSigma * std::sqrt(2.0))); }

std::vector<double> LloydMaxLevels(int n_levels) {
  std::vector<double> c(n_levels);
  for (int k = 0; k < n_levels; ++k) c[k] = kSigma * (2.0 * k + 1 - n_levels) / n_levels * 2;
  for (int iter = 0; iter < 100000; ++iter) {
    std::vector<double> next(n_levels);
    double moved = 0;
    for (int k = 0; k < n_levels; ++k) {
      const double a = k == 0 ? -INFINITY : (c[k - 1] + c[k]) / 2;
      const double b = k == n_levels - 1 ? INFINITY : (c[k] + c[k + 1]) / 2;
      const double pa = std::isinf(a) ? 0 : NormalPdf(a);
      const double pb = std::isinf(b) ? 0 : NormalPdf(b);
      const double mass = (std::isinf(b) ? 1 : NormalCdf(b)) - (std::isinf(a) ? 0 : NormalCdf(a));
      next[k] = kSigma * kSigma * (pa - pb) / mass;
      moved = std::max(moved, std::fabs(next[k] - c[k]));
    }
    c = next;
    if (moved < 1e-15) break;
  }
  return c;
}

// E[(X - q(X))^2] for X ~ N(0, 1/128) and nearest-level quantization with the
// given (ascending) levels, by Simpson integration over [-12 sigma, 12 sigma].
double QuantizerMse(const std::vector<double>& levels) {
  const int n = static_cast<int>(levels.size());
  double total = 0;
  for (int k = 0; k < n; ++k) {
    const double a = k == 0 ? -12 * kSigma : (levels[k - 1] + levels[k]) / 2;
    const double b = k == n - 1 ? 12 * kSigma : (levels[k] + levels[k + 1]) / 2;
    const int panels = 20000;
    const double h = (b - a) / panels;
    auto f = [&](double x) { return (x - levels[k]) * (x - levels[k]) * NormalPdf(x); };
    double sum = f(a) + f(b);
    for (int i = 1; i < panels; ++i) sum += f(a + i * h) * (i % 2 ? 4 : 2);
    total += sum * h / 3;
  }
  return total;
}

std::vector<double> TableLevels(TurboFormat format, TurboVariant variant) {
  const TurboCodebook& book = GetTurboCodebook(format, variant);
  return std::vector<double>(book.centroids, book.centroids + book.n_levels);
}

double MaxDifference(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(a[i] - b[i]));
  return d;
}

// The current 3-bit and 4-bit tables are Lloyd-Max for N(0, 1/128) to 1e-5
// (to the 6 printed decimals, in fact).
TEST(TurboLloydMaxTest, CurrentThreeAndFourBitTablesAreLloydMax) {
  for (TurboFormat f : {TurboFormat::kTurbo3, TurboFormat::kTurbo4}) {
    const std::vector<double> table = TableLevels(f, TurboVariant::kCurrent);
    const std::vector<double> optimal = LloydMaxLevels(static_cast<int>(table.size()));
    EXPECT_LT(MaxDifference(table, optimal), 1e-5) << static_cast<int>(f) << " bits";
  }
}

// The 2-bit table (both variants) is close to, but NOT within 1e-5 of, the
// Lloyd-Max levels of N(0, 1/128): 0.039994 / 0.133462 against 0.040020 /
// 0.133503 (off by 2.6e-5 and 4.1e-5; nor is it the Lloyd-Max table of the
// exact Beta distribution of a unit-sphere coordinate, 0.039992 / 0.133042).
// Its distortion is within 0.01 % of the optimum.
TEST(TurboLloydMaxTest, TwoBitTableIsNearlyButNotExactlyLloydMax) {
  const std::vector<double> table = TableLevels(TurboFormat::kTurbo2, TurboVariant::kCurrent);
  const std::vector<double> optimal = LloydMaxLevels(4);
  EXPECT_NEAR(optimal[3], 0.133503, 1e-6);
  EXPECT_NEAR(optimal[2], 0.040020, 1e-6);
  const double diff = MaxDifference(table, optimal);
  EXPECT_GT(diff, 1e-5);
  EXPECT_LT(diff, 5e-5);
  EXPECT_LT(QuantizerMse(table), QuantizerMse(optimal) * 1.0001);
}

// v1 tables are not Lloyd-Max: the 3-bit one is off by ~2e-4 (distortion
// +0.1 %), and the 4-bit one is far too narrow (largest level 0.1739 instead
// of 0.2415) with about twice the optimal distortion.
TEST(TurboLloydMaxTest, V1TablesAreNotLloydMax) {
  const std::vector<double> t3 = TableLevels(TurboFormat::kTurbo3, TurboVariant::kV1);
  const std::vector<double> opt3 = LloydMaxLevels(8);
  EXPECT_GT(MaxDifference(t3, opt3), 1e-4);
  EXPECT_GT(QuantizerMse(t3), QuantizerMse(opt3));

  const std::vector<double> t4 = TableLevels(TurboFormat::kTurbo4, TurboVariant::kV1);
  const std::vector<double> opt4 = LloydMaxLevels(16);
  EXPECT_GT(MaxDifference(t4, opt4), 0.05);
  for (int k = 8; k < 16; ++k) EXPECT_LT(t4[k], opt4[k]) << "level " << k;  // narrower
  const double mse_v1 = QuantizerMse(t4);
  const double mse_opt = QuantizerMse(opt4);
  std::printf("4-bit distortion (x128): v1 %.5f, Lloyd-Max %.5f\n", mse_v1 * 128, mse_opt * 128);
  EXPECT_GT(mse_v1, 1.7 * mse_opt);
}

// Thresholds are the midpoints of adjacent centroids (as float literals), the
// tables are ascending and symmetric.
TEST(TurboTablesTest, ThresholdsAreMidpointsAndTablesSymmetric) {
  for (TurboFormat f : kFormats) {
    for (TurboVariant v : kVariants) {
      const TurboCodebook& book = GetTurboCodebook(f, v);
      ASSERT_EQ(book.n_levels, 1 << static_cast<int>(f));
      for (int k = 0; k < book.n_levels; ++k) {
        EXPECT_EQ(book.centroids[k], -book.centroids[book.n_levels - 1 - k]);
        if (k + 1 < book.n_levels) {
          EXPECT_LT(book.centroids[k], book.centroids[k + 1]);
          EXPECT_NEAR(book.thresholds[k], (book.centroids[k] + book.centroids[k + 1]) / 2, 1.5e-6);
        }
      }
    }
  }
  EXPECT_EQ(TurboBlockBytes(TurboFormat::kTurbo4, TurboVariant::kV1), 68);
  EXPECT_EQ(TurboBlockBytes(TurboFormat::kTurbo4, TurboVariant::kCurrent), 66);
  EXPECT_EQ(FloatBits(kTurboWhtScale), 0x3DB504F3u);
}

// A value equal to a threshold takes the higher index; just below it, the
// lower one. +0.0 and -0.0 both sit on threshold 0 -> index n/2. NaN -> last.
TEST(TurboTiesTest, ThresholdTiesTakeHigherIndex) {
  for (TurboFormat f : kFormats) {
    for (TurboVariant v : kVariants) {
      const TurboCodebook& book = GetTurboCodebook(f, v);
      for (int k = 0; k + 1 < book.n_levels; ++k) {
        const float t = book.thresholds[k];
        EXPECT_EQ(TurboNearestIndex(t, book), k + 1);
        EXPECT_EQ(TurboNearestIndex(std::nextafter(t, -1.0f), book), k);
      }
      EXPECT_EQ(TurboNearestIndex(0.0f, book), book.n_levels / 2);
      EXPECT_EQ(TurboNearestIndex(-0.0f, book), book.n_levels / 2);
      EXPECT_EQ(TurboNearestIndex(std::numeric_limits<float>::quiet_NaN(), book),
                book.n_levels - 1);
      EXPECT_EQ(TurboNearestIndex(-INFINITY, book), 0);
    }
  }
}

// Ties through the whole quantizer: a group whose rotation is exactly zero in
// some lanes. x = s1 (the sign table itself) rotates to a single spike: after
// x *= s1 every element is 1, so the butterflies give 128 in lane 0 and exact
// zeros elsewhere; those 127 zeros must take index n/2.
TEST(TurboTiesTest, ExactZerosAfterRotationTakeHigherIndex) {
  for (TurboFormat f : kFormats) {
    for (TurboVariant v : kVariants) {
      uint8_t block[68];
      uint8_t idx[kTurboGroupSize];
      QuantizeTurboGroup(f, v, kTurboSigns1, block);
      UnpackTurboIndices(f, v, block, idx);
      const int n = 1 << static_cast<int>(f);
      EXPECT_EQ(idx[0], kTurboSigns2[0] > 0 ? n - 1 : 0);
      for (int i = 1; i < kTurboGroupSize; ++i) ASSERT_EQ(idx[i], n / 2) << i;
    }
  }
}

// Norm correction: the dequantized (rotated) group's L2 norm equals the
// stored norm times the centroid norm r = sqrt(sum c[idx]^2), and therefore
// the input's L2 norm up to the fp16 rounding of the stored norm.
TEST(TurboNormTest, NormCorrectionIdentity) {
  std::mt19937 rng(99);
  std::normal_distribution<float> normal;
  std::student_t_distribution<float> heavy(3.0f);
  for (TurboFormat f : kFormats) {
    for (TurboVariant v : kVariants) {
      const TurboCodebook& book = GetTurboCodebook(f, v);
      for (int trial = 0; trial < 100; ++trial) {
        float x[kTurboGroupSize], y[kTurboGroupSize];
        const float scale = std::pow(10.0f, static_cast<float>(trial % 7) - 3);
        for (float& e : x) e = scale * (trial % 2 ? heavy(rng) : normal(rng));
        uint8_t block[68];
        uint8_t idx[kTurboGroupSize];
        QuantizeTurboGroup(f, v, x, block);
        DequantizeTurboGroup(f, v, block, y);
        UnpackTurboIndices(f, v, block, idx);
        double r2 = 0, y2 = 0, x2 = 0;
        for (int i = 0; i < kTurboGroupSize; ++i) {
          r2 += double(book.centroids[idx[i]]) * book.centroids[idx[i]];
          y2 += double(y[i]) * y[i];
          x2 += double(x[i]) * x[i];
        }
        const double stored = F16ToF32(TurboBlockNormBits(block));
        EXPECT_NEAR(std::sqrt(y2), stored * std::sqrt(r2), 1e-6 * std::sqrt(y2));
        // fp16 keeps 11 significant bits: relative error <= 2^-11.
        EXPECT_NEAR(std::sqrt(y2), std::sqrt(x2), std::ldexp(1.0, -11) * std::sqrt(x2) * 1.01);
      }
    }
  }
}

// A zero group stores norm 0 and dequantizes to +0.0 (never -0.0), in every
// format; so does a group so small its squares underflow (1e-30).
TEST(TurboSpecialTest, ZeroAndUnderflowGroups) {
  for (TurboFormat f : kFormats) {
    for (TurboVariant v : kVariants) {
      for (float value : {0.0f, -0.0f, 1e-30f}) {
        float x[kTurboGroupSize], y[kTurboGroupSize];
        for (int i = 0; i < kTurboGroupSize; ++i) x[i] = i % 3 ? value : -value;
        uint8_t block[68];
        QuantizeTurboGroup(f, v, x, block);
        EXPECT_EQ(TurboBlockNormBits(block), 0u);
        DequantizeTurboGroup(f, v, block, y);
        for (int i = 0; i < kTurboGroupSize; ++i) ASSERT_EQ(FloatBits(y[i]), 0u) << i;
      }
    }
  }
}

// NaN and Inf follow the fork: a NaN anywhere in a group -> norm 0x7E00 and
// 128 NaNs out; +-Inf -> norm 0x7C00 and +-Inf out in every element; a finite
// group whose squares overflow float also stores an infinite norm.
TEST(TurboSpecialTest, NanAndInf) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal;
  for (TurboFormat f : kFormats) {
    for (TurboVariant v : kVariants) {
      float x[kTurboGroupSize], y[kTurboGroupSize];
      uint8_t block[68], idx[kTurboGroupSize];
      for (float& e : x) e = normal(rng);
      x[17] = std::numeric_limits<float>::quiet_NaN();
      QuantizeTurboGroup(f, v, x, block);
      EXPECT_EQ(TurboBlockNormBits(block), 0x7E00u);
      DequantizeTurboGroup(f, v, block, y);
      for (float e : y) ASSERT_TRUE(std::isnan(e));
      // Which indices a NaN group gets differs by format: turbo2/3 spread the
      // NaN through the rotation (every index = last), turbo4 zeroes the
      // group first (every index = n/2). The output is NaN either way.
      UnpackTurboIndices(f, v, block, idx);
      const int n = 1 << static_cast<int>(f);
      const int want = f == TurboFormat::kTurbo4 ? n / 2 : n - 1;
      for (int i = 0; i < kTurboGroupSize; ++i) ASSERT_EQ(idx[i], want) << i;

      for (float& e : x) e = normal(rng);
      x[3] = -INFINITY;
      QuantizeTurboGroup(f, v, x, block);
      EXPECT_EQ(TurboBlockNormBits(block), 0x7C00u);
      DequantizeTurboGroup(f, v, block, y);
      for (float e : y) ASSERT_TRUE(std::isinf(e));

      for (float& e : x) e = 3e19f * normal(rng);  // sum of squares overflows
      QuantizeTurboGroup(f, v, x, block);
      EXPECT_EQ(TurboBlockNormBits(block), 0x7C00u);
    }
  }
}

// The v1 turbo4 block writes its unused rnorm field as zero.
TEST(TurboLayoutTest, V1Turbo4RnormIsZero) {
  std::mt19937 rng(8);
  std::normal_distribution<float> normal;
  float x[kTurboGroupSize];
  for (float& e : x) e = normal(rng);
  uint8_t block[68];
  std::memset(block, 0xFF, sizeof block);
  QuantizeTurboGroup(TurboFormat::kTurbo4, TurboVariant::kV1, x, block);
  EXPECT_EQ(block[2], 0);
  EXPECT_EQ(block[3], 0);
  // Same indices as packing the current layout with the v1 table would give:
  // the nibbles start at byte 4.
  uint8_t idx[kTurboGroupSize];
  UnpackTurboIndices(TurboFormat::kTurbo4, TurboVariant::kV1, block, idx);
  EXPECT_EQ(idx[0], block[4] & 15);
  EXPECT_EQ(idx[1], block[4] >> 4);
}

}  // namespace
}  // namespace ggufkit
