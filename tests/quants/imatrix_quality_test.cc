// Quantizer behaviour beyond golden bytes: distortion floors on Gaussian rows
// (what each format is expected to keep) and what an importance matrix
// buys: lower error where the weights are high.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/quality.h"
#include "ggufkit/quants/quants.h"

namespace ggufkit {
namespace {

constexpr int64_t kCols = 4096;
constexpr int kRows = 8;

std::vector<float> GaussianRows(uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(kRows * kCols);
  for (auto& v : x) v = dist(rng);
  return x;
}

std::vector<float> RoundTrip(GgmlType type, const std::vector<float>& x,
                             const std::vector<float>& imatrix) {
  std::vector<uint8_t> q(static_cast<size_t>(*RowSizeBytes(type, static_cast<int64_t>(x.size()))));
  const absl::Status s = reference::Quantize(type, x, absl::MakeSpan(q), imatrix);
  EXPECT_TRUE(s.ok()) << s;
  std::vector<float> y(x.size());
  EXPECT_TRUE(reference::Dequantize(type, q, static_cast<int64_t>(x.size()), y.data()).ok());
  return y;
}

struct Floor {
  GgmlType type;
  double min_snr_db;  // measured (8 x 4096 N(0,1)) minus about 1 dB
};

// Signal-to-noise floors: a quantizer that regresses falls below them.
TEST(QuantizerQuality, SnrFloorsOnGaussianRows) {
  const std::vector<float> x = GaussianRows(1);
  const Floor floors[] = {{GgmlType::kQ8_0, 44.0}, {GgmlType::kQ8_1, 44.0}, {GgmlType::kQ8_K, 42.0},
                          {GgmlType::kQ6_K, 34.0}, {GgmlType::kQ5_0, 26.5}, {GgmlType::kQ5_1, 27.5},
                          {GgmlType::kQ5_K, 28.0}, {GgmlType::kQ4_0, 20.5}, {GgmlType::kQ4_1, 21.0},
                          {GgmlType::kQ4_K, 22.0}, {GgmlType::kQ3_K, 15.5}, {GgmlType::kQ2_K, 9.5},
                          {GgmlType::kF16, 72.0},  {GgmlType::kBF16, 54.0}};
  for (const Floor& f : floors) {
    const std::vector<float> y = RoundTrip(f.type, x, {});
    auto r = CompareRows(x, y);
    ASSERT_TRUE(r.ok());
    std::cout << GgmlTypeName(f.type) << ": SNR " << r->snr_db << " dB, RMSE " << r->rmse
              << ", max err " << r->max_abs_error << ", cos " << r->cosine_similarity << "\n";
    EXPECT_GT(r->snr_db, f.min_snr_db) << GgmlTypeName(f.type);
    EXPECT_GT(r->cosine_similarity, 0.85) << GgmlTypeName(f.type);
  }
}

double WeightedSquaredError(const std::vector<float>& x, const std::vector<float>& y,
                            const std::vector<float>& w) {
  double e = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double d = static_cast<double>(y[i]) - x[i];
    e += w[i % w.size()] * d * d;
  }
  return e;
}

// With an importance matrix that favours some columns, the quantizers that
// read it trade error away from those columns: the imatrix-weighted error
// drops compared with the plain reference quantizer.
TEST(QuantizerQuality, ImatrixLowersWeightedError) {
  const std::vector<float> x = GaussianRows(2);
  std::vector<float> imatrix(kCols);
  for (int64_t j = 0; j < kCols; ++j) imatrix[j] = (j / 7) % 3 == 0 ? 40.0f : 0.05f;
  for (GgmlType type :
       {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1, GgmlType::kQ2_K,
        GgmlType::kQ3_K, GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K}) {
    ASSERT_TRUE(GetReferenceCodec(type).uses_imatrix) << GgmlTypeName(type);
    const double plain = WeightedSquaredError(x, RoundTrip(type, x, {}), imatrix);
    const double weighted = WeightedSquaredError(x, RoundTrip(type, x, imatrix), imatrix);
    std::cout << GgmlTypeName(type) << ": weighted error " << plain << " -> " << weighted << " ("
              << 100.0 * (weighted - plain) / plain << " %)\n";
    EXPECT_LT(weighted, plain) << GgmlTypeName(type);
  }
}

TEST(QuantizerQuality, ImatrixIgnoredWhereGgmlIgnoresIt) {
  const std::vector<float> x = GaussianRows(3);
  const std::vector<float> imatrix(kCols, 3.0f);
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kF16, GgmlType::kBF16}) {
    EXPECT_FALSE(GetReferenceCodec(type).uses_imatrix);
    EXPECT_EQ(RoundTrip(type, x, imatrix), RoundTrip(type, x, {})) << GgmlTypeName(type);
  }
}

TEST(QuantizerQuality, ImatrixShapeIsChecked) {
  const std::vector<float> x(2 * kCols, 1.0f);
  std::vector<uint8_t> q(static_cast<size_t>(*RowSizeBytes(GgmlType::kQ4_K, 2 * kCols)));
  const std::vector<float> not_blocks(100, 1.0f);
  EXPECT_FALSE(reference::Quantize(GgmlType::kQ4_K, x, absl::MakeSpan(q), not_blocks).ok());
  const std::vector<float> not_divisor(3 * 256, 1.0f);
  EXPECT_FALSE(reference::Quantize(GgmlType::kQ4_K, x, absl::MakeSpan(q), not_divisor).ok());
  const std::vector<float> one_row(kCols, 1.0f);
  EXPECT_TRUE(reference::Quantize(GgmlType::kQ4_K, x, absl::MakeSpan(q), one_row).ok());
}

// NaN, infinities, huge and tiny values must not crash or hit undefined
// behaviour in any quantizer (run under the sanitizer build), and finite
// rows next to them are unaffected (blocks are independent without imatrix).
TEST(QuantizerQuality, NonFiniteAndExtremeInputsAreSafe) {
  std::vector<float> x = GaussianRows(4);
  const float specials[] = {NAN, INFINITY, -INFINITY, 3.0e38f, -3.0e38f, 1e-40f, -0.0f, 65504.f};
  for (int64_t i = 0; i < kCols; i += 3) x[i] = specials[(i / 3) % 8];  // row 0 only
  const std::vector<float> imatrix(kCols, 1.0f);
  for (const TypeTraits& t : AllTypeTraits()) {
    const ReferenceCodec& codec = GetReferenceCodec(t.type);
    if (codec.quantize == nullptr || codec.dequantize == nullptr) continue;
    if (kCols % t.block_size != 0) continue;
    const std::vector<float> clean(x.begin() + kCols, x.end());
    const std::vector<float> y = RoundTrip(t.type, x, {});
    const std::vector<float> y_clean = RoundTrip(t.type, clean, {});
    EXPECT_TRUE(std::equal(y.begin() + kCols, y.end(), y_clean.begin(), [](float a, float b) {
      return std::memcmp(&a, &b, 4) == 0;
    })) << t.name;
    if (codec.uses_imatrix) RoundTrip(t.type, x, imatrix);
  }
}

}  // namespace
}  // namespace ggufkit
