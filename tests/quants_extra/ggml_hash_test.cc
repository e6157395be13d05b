// Beyond the golden set: every codec of this family against ggml itself on
// inputs the golden set does not have. The expected hashes were produced once
// by ggml's own functions (ggml-org/ggml d99724f2, ggml-quants.c built for
// baseline x86-64 with NDEBUG and without FMA contraction, like the golden
// set): dequantize_row_<type> on RandomBlocks(type, 512, 4242) — random
// bytes, every grid index, finite fp16 scales, every MXFP4/NVFP4 scale byte
// including e = 255 (inf) — and quantize_<type>(imatrix = NULL) on
// StressInput(256 * 1024, 2024): magnitudes from 2^-140 to 2^40, exact powers
// of two and their predecessors, zeros of both signs. Output bytes are
// compared through their 64-bit FNV-1a hash.
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/quants_extra/extra_test_util.h"

namespace ggufkit::testing {
namespace {

struct GgmlHashes {
  uint32_t type_id;
  uint64_t dequantized;  // FNV-1a of the f32 output on RandomBlocks
  uint64_t quantized;    // FNV-1a of the blocks from StressInput (0: no quantizer)
};

constexpr GgmlHashes kGgmlHashes[] = {
    {41, 0xa2afded5bcb48c25ull, 0x55a15ef22207fa04ull},  // q1_0
    {42, 0xcb2b0b2aa8e8e78eull, 0x82bad966eab57835ull},  // q2_0
    {20, 0x3433634bc535482aull, 0xe395ba50b4ce3434ull},  // iq4_nl
    {23, 0x6429b4513049c321ull, 0xb84db57c5ae02a9full},  // iq4_xs
    {34, 0x230f8189fafaf79eull, 0xf8fa48487a45cd45ull},  // tq1_0
    {35, 0x0ab66b4d1024eb41ull, 0xf0fa160c0b4558aaull},  // tq2_0
    {39, 0xf66ba696ac9ba5e8ull, 0x6ddd42b52c3d8398ull},  // mxfp4
    {40, 0x78fde209dea1468bull, 0x551ddb0b85e7761cull},  // nvfp4
    {16, 0x76e8241ee73331a4ull, 0},                      // iq2_xxs
    {17, 0xae475446b1316b84ull, 0},                      // iq2_xs
    {22, 0x2c32181bb78c2e81ull, 0},                      // iq2_s
    {18, 0x7c181b9576f6fdb5ull, 0},                      // iq3_xxs
    {21, 0xf8fd235f9fba0f90ull, 0},                      // iq3_s
    {19, 0xae50674922ebdfc0ull, 0},                      // iq1_s
    {29, 0x82a1194ce877893bull, 0},                      // iq1_m
};

class GgmlHashTest : public ::testing::TestWithParam<GgmlHashes> {};

TEST_P(GgmlHashTest, DequantizeRandomBlocksLikeGgml) {
  const GgmlType type = static_cast<GgmlType>(GetParam().type_id);
  constexpr int64_t kBlocks = 512;
  const int64_t n = kBlocks * GetTypeTraits(type).block_size;
  const std::vector<uint8_t> blocks = RandomBlocks(type, kBlocks, 4242u);
  const std::vector<float> y = DequantizeWithReference(type, blocks.data(), n);
  EXPECT_EQ(Fnv1a64(y.data(), y.size() * sizeof(float)), GetParam().dequantized)
      << GgmlTypeName(type);
}

TEST_P(GgmlHashTest, QuantizeStressInputLikeGgml) {
  const GgmlType type = static_cast<GgmlType>(GetParam().type_id);
  const ReferenceCodec& codec = GetReferenceCodec(type);
  ASSERT_EQ(codec.quantize != nullptr, GetParam().quantized != 0) << GgmlTypeName(type);
  if (codec.quantize == nullptr) return;  // dequantize-only type: nothing more to compare
  constexpr int64_t kN = 256 * 1024;
  const std::vector<float> x = StressInput(kN, 2024u);
  std::vector<uint8_t> q(static_cast<size_t>(*RowSizeBytes(type, kN)));
  codec.quantize(x.data(), q.data(), kN, nullptr);
  EXPECT_EQ(Fnv1a64(q.data(), q.size()), GetParam().quantized) << GgmlTypeName(type);
}

std::string HashParamName(const ::testing::TestParamInfo<GgmlHashes>& param_info) {
  return std::string(GgmlTypeName(static_cast<GgmlType>(param_info.param.type_id)));
}

INSTANTIATE_TEST_SUITE_P(ExtraTypes, GgmlHashTest, ::testing::ValuesIn(kGgmlHashes), HashParamName);

}  // namespace
}  // namespace ggufkit::testing
