#include "ggufkit/quants/half.h"

#include <cmath>
#include <cstdint>

#include "gtest/gtest.h"

namespace ggufkit {
namespace {

// Every one of the 65,536 half values converts to float and back unchanged
// (NaNs come back as the quiet NaN with the same sign, as in ggml).
TEST(HalfTest, EveryHalfRoundTrips) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = F16ToF32(static_cast<uint16_t>(h));
    const bool is_nan = ((h >> 10) & 0x1F) == 0x1F && (h & 0x3FF) != 0;
    if (is_nan) {
      ASSERT_TRUE(std::isnan(f)) << h;
      EXPECT_EQ(F32ToF16(f), (h & 0x8000) | 0x7E00) << h;
    } else {
      ASSERT_EQ(F32ToF16(f), h) << h;
    }
  }
}

// f16 -> f32 agrees with the value computed from the definition.
TEST(HalfTest, EveryHalfHasItsValue) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const int exp = (h >> 10) & 0x1F;
    const int mant = h & 0x3FF;
    if (exp == 0x1F) continue;
    const double mag = exp == 0 ? std::ldexp(mant, -24) : std::ldexp(1024 + mant, exp - 25);
    const double want = (h & 0x8000) ? -mag : mag;
    const float got = F16ToF32(static_cast<uint16_t>(h));
    ASSERT_EQ(static_cast<double>(got), want) << h;
    ASSERT_EQ(std::signbit(got), (h & 0x8000) != 0) << h;
  }
}

// Rounding to nearest even between two neighbouring halves, including the
// subnormal range and the overflow threshold.
TEST(HalfTest, RoundsToNearestEven) {
  for (uint32_t h = 0; h < 0x7BFF; ++h) {
    const float lo = F16ToF32(static_cast<uint16_t>(h));
    const float hi = F16ToF32(static_cast<uint16_t>(h + 1));
    const float mid = static_cast<float>((static_cast<double>(lo) + hi) / 2);
    const uint16_t even = (h & 1) ? static_cast<uint16_t>(h + 1) : static_cast<uint16_t>(h);
    ASSERT_EQ(F32ToF16(mid), even) << h;
    ASSERT_EQ(F32ToF16(std::nextafter(mid, 0.0f)), h) << h;
    ASSERT_EQ(F32ToF16(std::nextafter(mid, 1e9f)), h + 1) << h;
  }
  EXPECT_EQ(F32ToF16(65504.0f), 0x7BFF);
  EXPECT_EQ(F32ToF16(65519.99f), 0x7BFF);
  EXPECT_EQ(F32ToF16(65520.0f), 0x7C00);
  EXPECT_EQ(F32ToF16(-1e30f), 0xFC00);
  EXPECT_EQ(F32ToF16(std::ldexp(1.0f, -25)), 0x0000);                       // tie -> even 0
  EXPECT_EQ(F32ToF16(std::nextafter(std::ldexp(1.0f, -25), 1.0f)), 0x0001);  // above tie
  EXPECT_EQ(F32ToF16(-0.0f), 0x8000);
  EXPECT_EQ(F32ToF16(1e-30f), 0x0000);
}

TEST(HalfTest, BF16RoundsToNearestEvenAndQuietsNaN) {
  EXPECT_EQ(F32ToBF16(1.0f), 0x3F80);
  EXPECT_EQ(F32ToBF16(BitsToFloat(0x3F808000u)), 0x3F80);  // tie, even stays
  EXPECT_EQ(F32ToBF16(BitsToFloat(0x3F818000u)), 0x3F82);  // tie, odd rounds up
  EXPECT_EQ(F32ToBF16(BitsToFloat(0x3F808001u)), 0x3F81);
  EXPECT_EQ(F32ToBF16(BitsToFloat(0x7F800001u)), 0x7FC0);  // signalling NaN -> quiet
  EXPECT_EQ(F32ToBF16(BitsToFloat(0xFF800000u)), 0xFF80);  // -inf stays
  for (uint32_t b = 0; b < 65536; ++b) {
    const float f = BF16ToF32(static_cast<uint16_t>(b));
    if (std::isnan(f)) continue;
    ASSERT_EQ(F32ToBF16(f), b);
  }
}

}  // namespace
}  // namespace ggufkit
