// Exhaustive small-domain tests: every code, every scale field value and
// every sign pattern of the formats in this family, each checked against the
// format's definition written independently here (double arithmetic, ldexp,
// the OCP E2M1/E8M0/UE4M3 definitions), not against the codec's own code.
#include <bitset>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/block_fp4.h"
#include "ggufkit/quants/block_iq.h"
#include "ggufkit/quants/block_q1_q2.h"
#include "ggufkit/quants/block_ternary.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/iq_tables_data.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/quants_extra/extra_test_util.h"

namespace ggufkit::testing {
namespace {

using internal::E8M0ToHalfScale;
using internal::FloatToUe4m3;
using internal::Ue4m3ToHalfScale;

uint32_t Bits(float f) { return FloatBits(f); }

// E2M1 by its definition: sign bit 3, exponent bits 2..1 (bias 1), mantissa
// bit 0; exponent 0 is subnormal (0 or 0.5).
double E2M1Value(int code) {
  const int exponent = (code >> 1) & 3;
  const int mantissa = code & 1;
  const double magnitude =
      exponent == 0 ? 0.5 * mantissa : std::ldexp(1.0 + 0.5 * mantissa, exponent - 1);
  return (code & 8) ? -magnitude : magnitude;
}

// UE4M3 by its definition (bias 7, exponent 0 subnormal), for bytes 0..0x7E.
double Ue4m3Value(int byte) {
  const int exponent = (byte >> 3) & 0xF;
  const int mantissa = byte & 7;
  return exponent == 0 ? std::ldexp(mantissa, -9) : std::ldexp(1.0 + mantissa / 8.0, exponent - 7);
}

// ggml (and we) read E2M1 -0 (code 8) as +0 (its table entry is +0); the
// other negative codes times a zero scale do give -0.0.
float ExpectedFp4(int code, double scale) {
  if (code == 8) return 0.0f;
  return static_cast<float>(E2M1Value(code) * scale);
}

TEST(Q1_0Exhaustive, EveryHalfScaleGivesPlusMinusD) {
  std::vector<uint8_t> block(sizeof(BlockQ1_0));
  std::vector<float> y(kQ1_0BlockSize);
  for (uint32_t h = 0; h < 65536; ++h) {
    PutU16(block.data(), static_cast<uint16_t>(h));
    for (int k = 0; k < 16; ++k) block[2 + k] = static_cast<uint8_t>(0x5A ^ (k * 37));
    y = DequantizeWithReference(GgmlType::kQ1_0, block.data(), kQ1_0BlockSize);
    const uint32_t plus = Bits(F16ToF32(static_cast<uint16_t>(h)));
    for (int j = 0; j < kQ1_0BlockSize; ++j) {
      const bool bit = (block[2 + j / 8] >> (j % 8)) & 1;
      // -d flips the sign bit only, also for 0, subnormals, inf and NaN.
      const uint32_t want = bit ? plus : plus ^ 0x80000000u;
      ASSERT_EQ(Bits(y[j]), want) << "half 0x" << std::hex << h << " element " << std::dec << j;
    }
  }
}

TEST(Q1_0Exhaustive, EveryByteAtEveryPosition) {
  std::vector<uint8_t> block(sizeof(BlockQ1_0), 0);
  PutU16(block.data(), 0x3C00);  // d = 1
  for (int pos = 0; pos < 16; ++pos) {
    for (int v = 0; v < 256; ++v) {
      block[2 + pos] = static_cast<uint8_t>(v);
      const auto y = DequantizeWithReference(GgmlType::kQ1_0, block.data(), kQ1_0BlockSize);
      for (int b = 0; b < 8; ++b) ASSERT_EQ(y[8 * pos + b], ((v >> b) & 1) ? 1.0f : -1.0f);
    }
    block[2 + pos] = 0;
  }
}

TEST(Q1_0Exhaustive, QuantizerUsesMeanMagnitudeAndSign) {
  std::vector<float> x(kQ1_0BlockSize);
  for (int j = 0; j < kQ1_0BlockSize; ++j) x[j] = (j % 3 == 0) ? -0.0f : (j % 2 ? 2.0f : -6.0f);
  double sum = 0;
  for (float v : x) sum += std::fabs(v);
  std::vector<uint8_t> q(sizeof(BlockQ1_0));
  GetReferenceCodec(GgmlType::kQ1_0).quantize(x.data(), q.data(), kQ1_0BlockSize, nullptr);
  EXPECT_EQ(GetU16(q.data()), F32ToF16(static_cast<float>(sum / 128)));
  for (int j = 0; j < kQ1_0BlockSize; ++j) {
    EXPECT_EQ((q[2 + j / 8] >> (j % 8)) & 1, x[j] >= 0.0f ? 1 : 0) << j;  // -0.0 -> +d
  }
}

TEST(Q2_0Exhaustive, EveryCodeAtEveryPosition) {
  std::vector<uint8_t> block(sizeof(BlockQ2_0), 0);
  const uint16_t d_half = 0x3A00;  // 0.75
  PutU16(block.data(), d_half);
  for (int pos = 0; pos < 16; ++pos) {
    for (int v = 0; v < 256; ++v) {
      block[2 + pos] = static_cast<uint8_t>(v);
      const auto y = DequantizeWithReference(GgmlType::kQ2_0, block.data(), kQ2_0BlockSize);
      for (int k = 0; k < 4; ++k) {
        const int code = (v >> (2 * k)) & 3;
        ASSERT_EQ(Bits(y[4 * pos + k]), Bits(static_cast<float>((code - 1) * 0.75)));
      }
    }
  }
}

TEST(Mxfp4Exhaustive, EveryScaleAndEveryCode) {
  for (int e = 0; e < 256; ++e) {
    EXPECT_EQ(Bits(E8M0ToHalfScale(static_cast<uint8_t>(e))),
              Bits(static_cast<float>(std::ldexp(1.0, e - 128))))
        << e;
    BlockMxfp4 block;
    block.e = static_cast<uint8_t>(e);
    for (int j = 0; j < 16; ++j) block.qs[j] = static_cast<uint8_t>(j | ((15 - j) << 4));
    const auto y = DequantizeWithReference(GgmlType::kMXFP4, reinterpret_cast<uint8_t*>(&block),
                                           kMxfp4BlockSize);
    // The MX scale is 2^(e-127); 6 * 2^128 overflows to inf in fp32 as in ggml.
    const double scale = std::ldexp(1.0, e - 127);
    for (int j = 0; j < 16; ++j) {
      ASSERT_EQ(Bits(y[j]), Bits(ExpectedFp4(j, scale))) << "e " << e << " code " << j;
      ASSERT_EQ(Bits(y[j + 16]), Bits(ExpectedFp4(15 - j, scale))) << "e " << e;
    }
  }
}

TEST(Nvfp4Exhaustive, EveryScaleByteAndEveryCode) {
  for (int s = 0; s < 256; ++s) {
    // Bytes 0x00..0x7E by the UE4M3 definition; ggml's quirks outside it:
    // 0x7F (UE4M3 NaN) reads 0 and bit 7 is ignored (0x80 | b reads as b,
    // except 0xFF, which is not the 0x7F special case and reads as 480).
    double scale;
    if (s == 0x7F) {
      scale = 0;
    } else if (s == 0xFF) {
      scale = 480;
    } else {
      scale = Ue4m3Value(s & 0x7F);
    }
    EXPECT_EQ(Bits(Ue4m3ToHalfScale(static_cast<uint8_t>(s))), Bits(static_cast<float>(scale / 2)))
        << s;
    BlockNvfp4 block;
    for (int k = 0; k < 4; ++k) block.d[k] = static_cast<uint8_t>(k == 2 ? s : 0x38);  // 0x38 = 1
    for (int j = 0; j < 32; ++j)
      block.qs[j] = static_cast<uint8_t>((j % 16) | ((15 - j % 16) << 4));
    const auto y = DequantizeWithReference(GgmlType::kNVFP4, reinterpret_cast<uint8_t*>(&block),
                                           kNvfp4BlockSize);
    for (int sub = 0; sub < 4; ++sub) {
      const double sub_scale = sub == 2 ? scale : 1.0;
      for (int j = 0; j < 8; ++j) {
        const int byte = block.qs[8 * sub + j];
        ASSERT_EQ(Bits(y[16 * sub + j]), Bits(ExpectedFp4(byte & 15, sub_scale)))
            << "scale byte " << s << " sub " << sub << " j " << j;
        ASSERT_EQ(Bits(y[16 * sub + j + 8]), Bits(ExpectedFp4(byte >> 4, sub_scale)));
      }
    }
  }
}

TEST(Nvfp4Exhaustive, Ue4m3EncoderRoundTripsEveryValueAndSaturates) {
  for (int b = 1; b < 0x78; ++b) {
    EXPECT_EQ(FloatToUe4m3(static_cast<float>(Ue4m3Value(b))), b) << b;
  }
  // ggml's encoder never emits exponent 15 below 0x7E: [256, 448] -> 448.
  for (int b = 0x78; b < 0x7F; ++b) {
    EXPECT_EQ(FloatToUe4m3(static_cast<float>(Ue4m3Value(b))), 0x7E) << b;
  }
  EXPECT_EQ(FloatToUe4m3(0.0f), 0);
  EXPECT_EQ(FloatToUe4m3(-1.0f), 0);
  EXPECT_EQ(FloatToUe4m3(std::nanf("")), 0);
  EXPECT_EQ(FloatToUe4m3(1e9f), 0x7E);  // saturates at 448
  EXPECT_EQ(FloatToUe4m3(INFINITY), 0x7E);
  // Half-way between 1.0 (0x38) and 1.125 (0x39) rounds up (not to even).
  EXPECT_EQ(FloatToUe4m3(1.0625f), 0x39);
}

TEST(Iq4Exhaustive, NlEveryCodeAtEveryPosition) {
  for (const uint16_t d_half :
       {uint16_t{0x3C00}, uint16_t{0xB800}, uint16_t{0x0001}, uint16_t{0x8000}}) {
    for (int code = 0; code < 16; ++code) {
      BlockIq4Nl block;
      block.d = d_half;
      for (int j = 0; j < 16; ++j) block.qs[j] = static_cast<uint8_t>(code | ((15 - code) << 4));
      const auto y = DequantizeWithReference(GgmlType::kIQ4_NL, reinterpret_cast<uint8_t*>(&block),
                                             kIq4NlBlockSize);
      const double d = F16ToF32(d_half);
      for (int j = 0; j < 16; ++j) {
        ASSERT_EQ(Bits(y[j]), Bits(static_cast<float>(d * internal::kIq4NlValues[code])));
        ASSERT_EQ(Bits(y[j + 16]), Bits(static_cast<float>(d * internal::kIq4NlValues[15 - code])));
      }
    }
  }
}

TEST(Iq4Exhaustive, XsEverySixBitScaleInEverySlotAndEveryCode) {
  const uint16_t d_half = 0x2E66;  // ~0.1: d * (ls - 32) * value needs real rounding
  const float d = F16ToF32(d_half);
  for (int slot = 0; slot < 8; ++slot) {
    for (int ls = 0; ls < 64; ++ls) {
      BlockIq4Xs block;
      std::memset(&block, 0, sizeof block);
      block.d = d_half;
      block.scales_l[slot / 2] = static_cast<uint8_t>((ls & 15) << (4 * (slot % 2)));
      block.scales_h = static_cast<uint16_t>((ls >> 4) << (2 * slot));
      for (int j = 0; j < 128; ++j)
        block.qs[j] = static_cast<uint8_t>((j % 16) | ((j / 8 % 16) << 4));
      const auto y = DequantizeWithReference(GgmlType::kIQ4_XS, reinterpret_cast<uint8_t*>(&block),
                                             kIqSuperBlockSize);
      for (int sub = 0; sub < 8; ++sub) {
        // Other slots hold scale code 0, i.e. -32.
        const float dl = d * static_cast<float>((sub == slot ? ls : 0) - 32);
        for (int j = 0; j < 16; ++j) {
          const uint8_t byte = block.qs[16 * sub + j];
          ASSERT_EQ(Bits(y[32 * sub + j]), Bits(dl * internal::kIq4NlValues[byte & 15]))
              << "slot " << slot << " ls " << ls;
          ASSERT_EQ(Bits(y[32 * sub + j + 16]), Bits(dl * internal::kIq4NlValues[byte >> 4]));
        }
      }
    }
  }
}

TEST(Tq1_0Exhaustive, EveryTritTupleInEveryByteKind) {
  // Weight index of trit n of byte k, as documented in block_ternary.h.
  auto weight_of = [](int byte, int n) {
    if (byte < 32) return 32 * n + byte;
    if (byte < 48) return 160 + 16 * n + (byte - 32);
    return 240 + 4 * n + (byte - 48);
  };
  for (int tuple = 0; tuple < 243; ++tuple) {
    int trits[5];
    for (int k = 4, t = tuple; k >= 0; --k, t /= 3) trits[k] = t % 3;  // trits[0] most significant
    for (int byte : {0, 31, 32, 47, 48, 51}) {
      const bool is_qh = byte >= 48;
      if (is_qh && trits[4] != 0) continue;  // qh bytes hold 4 trits
      BlockTq1_0 block;
      std::memset(&block, 0, sizeof block);
      block.d = 0x3C00;
      // The bytes 0 (all trits 0) decode as -1: fill the others with that.
      const uint8_t packed = static_cast<uint8_t>((tuple * 256 + 242) / 243);
      if (is_qh) {
        block.qh[byte - 48] = packed;
      } else {
        block.qs[byte] = packed;
      }
      const auto y = DequantizeWithReference(GgmlType::kTQ1_0, reinterpret_cast<uint8_t*>(&block),
                                             kTernaryBlockSize);
      for (int n = 0; n < (is_qh ? 4 : 5); ++n) {
        ASSERT_EQ(y[weight_of(byte, n)], static_cast<float>(trits[n] - 1))
            << "tuple " << tuple << " byte " << byte << " trit " << n;
      }
    }
  }
}

TEST(TernaryExhaustive, QuantizeDequantizeRoundTripsTernaryInput) {
  std::mt19937 rng(7);
  for (GgmlType type : {GgmlType::kTQ1_0, GgmlType::kTQ2_0}) {
    std::vector<float> x(4 * kTernaryBlockSize);
    for (size_t i = 0; i < x.size(); ++i) {
      const int t = static_cast<int>(rng() % 3) - 1;
      x[i] = static_cast<float>(t) * 0.5f;
    }
    x[0] = 0.5f;  // every block has max |x| = 0.5, so d = 0.5
    for (int b = 1; b < 4; ++b) x[static_cast<size_t>(b) * kTernaryBlockSize] = -0.5f;
    std::vector<uint8_t> q(
        static_cast<size_t>(*RowSizeBytes(type, static_cast<int64_t>(x.size()))));
    GetReferenceCodec(type).quantize(x.data(), q.data(), static_cast<int64_t>(x.size()), nullptr);
    const auto y = DequantizeWithReference(type, q.data(), static_cast<int64_t>(x.size()));
    for (size_t i = 0; i < x.size(); ++i) {
      ASSERT_EQ(Bits(y[i]), Bits(x[i] == 0.0f ? 0.0f : x[i])) << GgmlTypeName(type) << " " << i;
    }
  }
}

TEST(Tq2_0Exhaustive, EveryCodeAtEveryPosition) {
  for (int pos = 0; pos < 64; ++pos) {
    for (int v = 0; v < 256; ++v) {
      BlockTq2_0 block;
      std::memset(&block, 0, sizeof block);
      block.d = 0x4000;  // 2
      block.qs[pos] = static_cast<uint8_t>(v);
      const auto y = DequantizeWithReference(GgmlType::kTQ2_0, reinterpret_cast<uint8_t*>(&block),
                                             kTernaryBlockSize);
      for (int l = 0; l < 4; ++l) {
        const int weight = 128 * (pos / 32) + 32 * l + pos % 32;
        ASSERT_EQ(y[weight], 2.0f * static_cast<float>(((v >> (2 * l)) & 3) - 1));
      }
    }
  }
}

TEST(IqTables, SignPatternsCarryEvenParity) {
  for (int i = 0; i < 128; ++i) {
    const uint8_t pattern = internal::kIqSignPatterns[i];
    EXPECT_EQ(pattern & 127, i);
    EXPECT_EQ(std::bitset<8>(pattern).count() % 2, 0u) << i;
  }
}

TEST(IqTables, GridsHoldOnlyTheirDocumentedLevels) {
  auto all_bytes_in = [](auto table, size_t count, int bytes, std::vector<int> allowed) {
    for (size_t i = 0; i < count; ++i) {
      for (int j = 0; j < bytes; ++j) {
        const int v = static_cast<int>((static_cast<uint64_t>(table[i]) >> (8 * j)) & 0xFF);
        bool ok = false;
        for (int a : allowed) ok = ok || a == v;
        if (!ok) return false;
      }
    }
    return true;
  };
  EXPECT_TRUE(all_bytes_in(internal::kIq2XxsGrid, 256, 8, {8, 25, 43}));
  EXPECT_TRUE(all_bytes_in(internal::kIq2XsGrid, 512, 8, {8, 25, 43}));
  EXPECT_TRUE(all_bytes_in(internal::kIq2SGrid, 1024, 8, {8, 25, 43}));
  EXPECT_TRUE(all_bytes_in(internal::kIq3XxsGrid, 256, 4, {4, 12, 20, 28, 36, 44, 52, 62}));
  EXPECT_TRUE(all_bytes_in(internal::kIq3SGrid, 512, 4, {1, 3, 5, 7, 9, 11, 13, 15}));
  EXPECT_TRUE(all_bytes_in(internal::kIq1SGrid, 2048, 8, {0x00, 0x01, 0xFF}));
}

TEST(Iq1SExhaustive, EveryScaleAndDeltaSign) {
  // Grid entry 0 is all -1: y = d * (2s + 1) * (-1 +- 0.125).
  for (int s = 0; s < 8; ++s) {
    for (int neg : {0, 1}) {
      BlockIq1S block;
      std::memset(&block, 0, sizeof block);
      block.d = 0x3C00;
      for (auto& qh : block.qh) qh = static_cast<uint16_t>((s << 12) | (neg << 15));
      const auto y = DequantizeWithReference(GgmlType::kIQ1_S, reinterpret_cast<uint8_t*>(&block),
                                             kIqSuperBlockSize);
      const float want = static_cast<float>((2 * s + 1) * (-1.0 + (neg ? -0.125 : 0.125)));
      for (float v : y) ASSERT_EQ(v, want) << s << " " << neg;
    }
  }
}

TEST(Iq1MExhaustive, ScaleIsAssembledFromFourNibbles) {
  for (uint32_t h = 0; h < 65536; h += 7) {
    if (((h >> 10) & 0x1F) == 0x1F) continue;
    BlockIq1M block;
    std::memset(&block, 0, sizeof block);
    uint16_t sc[4];
    for (int k = 0; k < 4; ++k) sc[k] = static_cast<uint16_t>(((h >> (4 * k)) & 0xF) << 12);
    std::memcpy(block.scales, sc, sizeof sc);
    const auto y = DequantizeWithReference(GgmlType::kIQ1_M, reinterpret_cast<uint8_t*>(&block),
                                           kIqSuperBlockSize);
    // Grid entry 0 (all -1), scale codes 0 (x1), delta +0.125: y = d * -0.875.
    const float want = F16ToF32(static_cast<uint16_t>(h)) * -0.875f;
    ASSERT_EQ(Bits(y[0]), Bits(want)) << std::hex << h;
    ASSERT_EQ(Bits(y[255]), Bits(want)) << std::hex << h;
  }
}

}  // namespace
}  // namespace ggufkit::testing
