#include "ggufkit/quants/quality.h"

#include <cmath>
#include <vector>

#include "gtest/gtest.h"

namespace ggufkit {
namespace {

TEST(QualityTest, KnownValues) {
  const std::vector<float> x = {3, 4};
  const std::vector<float> y = {3, 5};
  auto r = CompareRows(x, y);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->n, 2);
  EXPECT_DOUBLE_EQ(r->rmse, std::sqrt(0.5));
  EXPECT_DOUBLE_EQ(r->max_abs_error, 1.0);
  EXPECT_DOUBLE_EQ(r->cosine_similarity, 29.0 / (5.0 * std::sqrt(34.0)));
  EXPECT_DOUBLE_EQ(r->snr_db, 10.0 * std::log10(25.0));
}

TEST(QualityTest, ExactAndDegenerateRows) {
  const std::vector<float> x = {1, -2, 0.5f};
  auto same = CompareRows(x, x);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->rmse, 0.0);
  EXPECT_EQ(same->max_abs_error, 0.0);
  EXPECT_DOUBLE_EQ(same->cosine_similarity, 1.0);
  EXPECT_TRUE(std::isinf(same->snr_db) && same->snr_db > 0);

  const std::vector<float> zeros = {0, 0, 0};
  auto both_zero = CompareRows(zeros, zeros);
  ASSERT_TRUE(both_zero.ok());
  EXPECT_EQ(both_zero->cosine_similarity, 1.0);
  auto zero_source = CompareRows(zeros, x);
  ASSERT_TRUE(zero_source.ok());
  EXPECT_EQ(zero_source->cosine_similarity, 0.0);
  EXPECT_TRUE(std::isinf(zero_source->snr_db) && zero_source->snr_db < 0);

  const std::vector<float> negated = {-1, 2, -0.5f};
  auto opposite = CompareRows(x, negated);
  ASSERT_TRUE(opposite.ok());
  EXPECT_DOUBLE_EQ(opposite->cosine_similarity, -1.0);
  EXPECT_DOUBLE_EQ(opposite->max_abs_error, 4.0);

  const std::vector<float> with_nan = {1, NAN, 0.5f};
  auto nan = CompareRows(x, with_nan);
  ASSERT_TRUE(nan.ok());
  EXPECT_TRUE(std::isnan(nan->rmse));
  EXPECT_TRUE(std::isnan(nan->max_abs_error));
}

TEST(QualityTest, BadSizesAreErrors) {
  const std::vector<float> a = {1, 2, 3};
  const std::vector<float> b = {1, 2};
  EXPECT_FALSE(CompareRows(a, b).ok());
  EXPECT_FALSE(CompareRows({}, {}).ok());
}

}  // namespace
}  // namespace ggufkit
