// Bit-exactness of the SIMD quantizers (dequant/quantize.h) on every compiled
// Highway target: QuantizeBlocks must write the bytes of the quants/
// reference quantizer (itself checked against ggml's golden blocks here) for
// the golden input, random rows, zeros, constants, huge / tiny / subnormal
// values, NaN and Inf, with and without an importance matrix, at misaligned
// addresses; plus the entry point's error handling.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <limits>
#include <memory>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/dequant/quantize.h"
#include "ggufkit/dequant/quantize_kernels.h"
#include "ggufkit/quants/block_k.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/quants.h"
#include "ggufkit/quants/type_traits.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"

namespace ggufkit {
namespace {

using testing::GoldenPath;
using testing::ReadFileBytes;

// Every type with a SIMD quantizer on every SIMD target.
const GgmlType kSimdTypes[] = {
    GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1,
    GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kQ2_K, GgmlType::kQ3_K,
    GgmlType::kIQ4_NL, GgmlType::kIQ4_XS, GgmlType::kTQ1_0, GgmlType::kTQ2_0, GgmlType::kQ1_0,
    GgmlType::kMXFP4,
};
// Of those, the ones whose SIMD quantizer also takes an importance matrix
// (types whose reference ignores the imatrix count as taking it).
const GgmlType kSimdImatrixTypes[] = {
    GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1,
    GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K, GgmlType::kQ2_K, GgmlType::kQ3_K,
    GgmlType::kIQ4_NL, GgmlType::kIQ4_XS, GgmlType::kTQ1_0, GgmlType::kTQ2_0, GgmlType::kQ1_0,
    GgmlType::kMXFP4,
};

// Types the reference can quantize, checked through QuantizeBlocks whether
// or not they have a SIMD quantizer (the fallback must match too).
std::vector<GgmlType> QuantizableTypes() {
  std::vector<GgmlType> types;
  for (const TypeTraits& t : AllTypeTraits()) {
    if (t.kind == TypeKind::kQuantized && GetReferenceCodec(t.type).quantize != nullptr) {
      types.push_back(t.type);
    }
  }
  return types;
}

constexpr int64_t kRowLength = 512;  // two K-quant super-blocks, 16 legacy blocks

// Rows of kRowLength covering the inputs whose bytes are easy to get wrong.
std::vector<float> HostileRows(int64_t* n_rows) {
  std::mt19937 rng(15);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::vector<std::vector<float>> rows;
  auto row = [&](auto gen) {
    std::vector<float> r(kRowLength);
    for (int64_t i = 0; i < kRowLength; ++i) r[static_cast<size_t>(i)] = gen(i);
    rows.push_back(std::move(r));
  };
  for (int k = 0; k < 6; ++k) row([&](int64_t) { return normal(rng); });
  for (float scale : {1e-3f, 1e-6f, 1e-20f, 1e-30f, 1e-38f, 1e-42f, 1e4f, 6e4f, 1e20f, 3e38f}) {
    row([&](int64_t) { return normal(rng) * scale; });
  }
  row([](int64_t) { return 0.0f; });
  row([](int64_t) { return -0.0f; });
  row([&](int64_t i) { return (i * 7919) % 5 == 0 ? (i % 2 ? -0.0f : 0.0f) : uniform(rng); });
  row([&](int64_t) { return (rng() % 3 == 0) ? 0.0f : normal(rng); });
  for (float c : {0.75f, -2.0f, 1e-40f, -3e38f, 65504.0f, 1.0f}) row([c](int64_t) { return c; });
  // Ties: +v and -v of the same magnitude, small integers, halves.
  row([&](int64_t i) { return (i % 2 ? 1.0f : -1.0f) * static_cast<float>(1 + rng() % 4); });
  row([&](int64_t) { return static_cast<float>(static_cast<int>(rng() % 33) - 16) * 0.5f; });
  row([&](int64_t i) { return static_cast<float>(i % 17) - 8.0f; });
  row([&](int64_t) { return uniform(rng) > 0 ? 1.0f : 0.0f; });
  row([&](int64_t) { return std::fabs(normal(rng)); });
  row([&](int64_t) { return -std::fabs(normal(rng)); });
  row([&](int64_t i) { return i % 32 == 5 ? 1000.0f : normal(rng); });
  // Per 32-value block: a max of 1.5 * 2^s (MXFP4's levels are then
  // multiples of 2^(s-3)) and MXFP4's rounding midpoints between levels,
  // exact and one ulp either side, with random signs.
  row([&](int64_t i) {
    const int s = static_cast<int>((i / 32) % 20) - 10;
    if (i % 32 == 0) return std::ldexp(1.5f, s);
    const float mids[] = {0.5f, 1.5f, 2.5f, 3.5f, 5.0f, 7.0f, 10.0f};
    float v = std::ldexp(mids[rng() % 7], s - 3);
    const uint32_t nudge = rng() % 3;
    if (nudge == 1) v = std::nextafter(v, 0.0f);
    if (nudge == 2) v = std::nextafter(v, 1e30f);
    return rng() % 2 ? -v : v;
  });
  // Block maxima one ulp around powers of two (MXFP4's exponent is
  // floor(log2(max))), next to ordinary values.
  row([&](int64_t i) {
    const float p = std::ldexp(1.0f, static_cast<int>((i / 32) % 24) - 12);
    if (i % 32 == 3) {
      const uint32_t pick = static_cast<uint32_t>(i / 32) % 3;
      return pick == 0 ? p : (pick == 1 ? std::nextafter(p, 0.0f) : std::nextafter(p, 1e30f));
    }
    return uniform(rng) * p * 0.5f;
  });
  // Mixed groups: per 32-value block, a tie of +m and -m, a first zero of
  // either sign among positive values, a NaN, or ordinary values.
  row([&](int64_t i) {
    const int64_t b = i / 32, j = i % 32;
    switch (b % 6) {
      case 0: return j == 4 ? 3.0f : (j == 9 ? -3.0f : uniform(rng));
      case 1: return j == 4 ? -3.0f : (j == 9 ? 3.0f : uniform(rng));
      case 2: return j == 2 ? -0.0f : (j == 7 ? 0.0f : std::fabs(normal(rng)));
      case 3: return j == 2 ? 0.0f : (j == 7 ? -0.0f : std::fabs(normal(rng)));
      case 4: return b == 4 && j == 11 ? nan : normal(rng);
      default: return normal(rng);
    }
  });
  // Blocks with both signs only through one zero, NaN or infinity, or one
  // element of the other sign: the legacy quantizers take a block's min and
  // max from integer maxima of the bits when every block of a group holds
  // both sign bits (see GroupMinMaxBits), and must still see every NaN. One
  // NaN sign per row: the imatrix forms sum the row's squares, and where a
  // +NaN meets a -NaN the sign of the sum is the compiler's choice of
  // operand order (in ggml as in the reference).
  for (int shift = 0; shift < 2; ++shift) {
    const float nan_s = shift ? -nan : nan;
    row([&](int64_t i) {
      const int64_t b = i / 32 + shift, j = i % 32;
      const float a = std::fabs(normal(rng));
      switch (b % 9) {
        case 0: return j == 5 ? -0.0f : (j == 20 ? nan_s : a);
        case 1: return j == 5 ? 0.0f : (j == 20 ? nan_s : -a);
        case 2: return j == 31 ? nan_s : -a;
        case 3: return j == 0 ? nan_s : a;
        case 4: return j == 9 ? -inf : a;
        case 5: return j == 9 ? inf : -a;
        case 6: return j == 17 ? -1e-40f : a;
        case 7: return (j % 2 ? 3e38f : -3.2e38f) * (0.9f + 0.1f * a);
        default: return j == 30 ? -0.0f : a;
      }
    });
  }
  // Non-finite values, alone and among normal ones.
  row([&](int64_t i) { return i % 37 == 3 ? nan : normal(rng); });
  row([&](int64_t i) { return i % 41 == 7 ? (i % 2 ? inf : -inf) : normal(rng); });
  row([&](int64_t i) { return i % 29 == 0 ? -nan : (i % 31 == 0 ? inf : normal(rng)); });
  row([&](int64_t i) { return i % 64 < 32 ? nan : normal(rng); });
  row([&](int64_t) { return inf; });
  row([&](int64_t i) { return i % 3 == 0 ? inf : -inf; });
  row([&](int64_t i) { return i % 16 == 15 ? nan : 0.0f; });
  // Subnormal-only and mixed-magnitude rows.
  row([&](int64_t) { return std::ldexp(uniform(rng), -130); });
  row([&](int64_t i) { return normal(rng) * std::ldexp(1.0f, static_cast<int>(i % 200) - 100); });
  std::vector<float> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  *n_rows = static_cast<int64_t>(rows.size());
  return flat;
}

// Importance weights: positive, with zeros and a wide range.
std::vector<float> Imatrix(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.0f, 4.0f);
  std::vector<float> w(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t r = rng() % 16;
    w[static_cast<size_t>(i)] = r == 0 ? 0.0f : (r == 1 ? u(rng) * 1e4f : u(rng) * u(rng));
  }
  return w;
}

std::vector<uint8_t> ReferenceBytes(GgmlType type, const std::vector<float>& x, int64_t n_per_row,
                                    const float* imatrix) {
  const int64_t row_bytes = RowSizeBytes(type, n_per_row).value();
  const int64_t n_rows = static_cast<int64_t>(x.size()) / n_per_row;
  std::vector<uint8_t> out(static_cast<size_t>(row_bytes * n_rows));
  const absl::Status status =
      reference::Quantize(type, x, absl::MakeSpan(out),
               imatrix ? absl::Span<const float>(imatrix, static_cast<size_t>(n_per_row))
                       : absl::Span<const float>());
  EXPECT_TRUE(status.ok()) << status;
  return out;
}

// Where `got` first differs from `want`: "row r block b" or "".
std::string FirstDifference(GgmlType type, const uint8_t* got, const std::vector<uint8_t>& want,
                            int64_t n_per_row) {
  const TypeTraits& t = GetTypeTraits(type);
  const int64_t row_bytes = n_per_row / t.block_size * t.type_size;
  for (size_t i = 0; i < want.size(); ++i) {
    if (got[i] != want[i]) {
      const int64_t row = static_cast<int64_t>(i) / row_bytes;
      const int64_t block = (static_cast<int64_t>(i) % row_bytes) / t.type_size;
      return "row " + std::to_string(row) + " block " + std::to_string(block) + " byte " +
             std::to_string((static_cast<int64_t>(i) % row_bytes) % t.type_size);
    }
  }
  return "";
}

}  // namespace

void PrintTo(const DequantTarget& target, std::ostream* os) { *os << target.name; }

namespace {

class QuantizeTargetTest : public ::testing::TestWithParam<DequantTarget> {
 protected:
  void SetUp() override { scope_ = std::make_unique<ScopedDequantTarget>(GetParam().id); }
  void TearDown() override { scope_.reset(); }
  bool SimdTarget() const { return GetParam().name != "SCALAR"; }

  // QuantizeBlocks on this target vs the reference: input shifted by
  // `misalign` floats (off any vector alignment; a float* itself must stay
  // 4-byte aligned), output by (3 * misalign) % 8 bytes.
  void ExpectSameBytes(GgmlType type, const std::vector<float>& x, int64_t n_per_row,
                       const float* imatrix, int misalign, const std::string& what) {
    const std::vector<uint8_t> want = ReferenceBytes(type, x, n_per_row, imatrix);
    std::vector<float> in_buf(x.size() + 8);
    std::memcpy(in_buf.data() + misalign, x.data(), x.size() * 4);
    std::vector<uint8_t> out_buf(want.size() + 16, 0xCD);
    const int out_misalign = (misalign * 3) % 8;
    const int64_t n_rows = static_cast<int64_t>(x.size()) / n_per_row;
    const float* in = in_buf.data() + misalign;
    const absl::Status status = QuantizeBlocks(type, in, n_rows, n_per_row,
                                               out_buf.data() + out_misalign, imatrix);
    ASSERT_TRUE(status.ok()) << status;
    const std::string diff =
        FirstDifference(type, out_buf.data() + out_misalign, want, n_per_row);
    EXPECT_EQ(diff, "") << GetTypeTraits(type).name << " " << what
                        << (imatrix ? " with imatrix" : "") << ": differs at " << diff;
    for (int i = 0; i < out_misalign; ++i) ASSERT_EQ(out_buf[static_cast<size_t>(i)], 0xCD);
    for (size_t i = out_misalign + want.size(); i < out_buf.size(); ++i) {
      ASSERT_EQ(out_buf[i], 0xCD) << GetTypeTraits(type).name << ": wrote past the end";
    }
  }

 private:
  std::unique_ptr<ScopedDequantTarget> scope_;
};

TEST_P(QuantizeTargetTest, EveryListedTypeHasASimdQuantizer) {
  if (ScalarForcedByEnvironment()) GTEST_SKIP() << "GGUFKIT_FORCE_SCALAR is set";
  for (GgmlType type : kSimdTypes) {
    EXPECT_EQ(HasSimdQuantizer(type, false), SimdTarget()) << GetTypeTraits(type).name;
  }
  for (GgmlType type : kSimdImatrixTypes) {
    EXPECT_EQ(HasSimdQuantizer(type, true), SimdTarget())
        << GetTypeTraits(type).name << " with imatrix";
  }
}

// The golden input (25 rows of 4096, ggml's own bytes) through QuantizeBlocks.
TEST_P(QuantizeTargetTest, MatchesGgmlGoldenBlocks) {
  const std::vector<float> input = testing::ReadFloats(GoldenPath("ggml/input.f32"));
  ASSERT_EQ(input.size(), 25u * 4096u);
  int checked = 0;
  for (GgmlType type : QuantizableTypes()) {
    const std::string name(GgmlTypeName(type));
    if (GetReferenceCodec(type).requires_imatrix) continue;  // ggml has no imatrix-free bytes
    const std::string path = GoldenPath("ggml/" + name + ".q");
    // Types ggml's harness did not quantize (q8_1, q8_K, the imatrix-only IQ types).
    if (!std::filesystem::exists(path)) continue;
    const std::vector<uint8_t> want = ReadFileBytes(path);
    ++checked;
    std::vector<uint8_t> got(want.size(), 0xCD);
    ASSERT_TRUE(QuantizeBlocks(type, input.data(), 25, 4096, got.data()).ok()) << name;
    EXPECT_EQ(FirstDifference(type, got.data(), want, 4096), "") << name;
  }
  EXPECT_GE(checked, 18);
}

// The golden input with an imatrix, and the hostile rows with and without
// one, at several alignments: same bytes as the reference.
TEST_P(QuantizeTargetTest, MatchesReferenceOnHostileRows) {
  int64_t n_rows = 0;
  const std::vector<float> hostile = HostileRows(&n_rows);
  const std::vector<float> golden = testing::ReadFloats(GoldenPath("ggml/input.f32"));
  const std::vector<float> imatrix_short = Imatrix(kRowLength, 1);
  const std::vector<float> imatrix_golden = Imatrix(4096, 2);
  for (GgmlType type : kSimdTypes) {
    ExpectSameBytes(type, hostile, kRowLength, nullptr, 0, "hostile rows");
    ExpectSameBytes(type, hostile, kRowLength, nullptr, 3, "hostile rows, misaligned");
    ExpectSameBytes(type, hostile, kRowLength, imatrix_short.data(), 1, "hostile rows");
    ExpectSameBytes(type, golden, 4096, imatrix_golden.data(), 0, "golden input");
  }
}

// Random rows of random lengths (whole blocks), with and without imatrix.
TEST_P(QuantizeTargetTest, MatchesReferenceOnRandomRows) {
  std::mt19937 rng(99);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (GgmlType type : kSimdTypes) {
    const int64_t block = GetTypeTraits(type).block_size;
    for (int64_t blocks_per_row : {int64_t{1}, int64_t{3}, int64_t{17}}) {
      const int64_t n_per_row = blocks_per_row * block;
      std::vector<float> x(static_cast<size_t>(n_per_row * 3));
      for (auto& v : x) v = normal(rng) * std::exp(normal(rng));
      const std::vector<float> w = Imatrix(n_per_row, static_cast<uint32_t>(blocks_per_row));
      ExpectSameBytes(type, x, n_per_row, nullptr, 0, "random rows");
      ExpectSameBytes(type, x, n_per_row, w.data(), 7, "random rows");
    }
  }
}

// Rows of few distinct small values (small integers, halves, thirds, at
// several scales): the searches' sums come out exact or nearly so, and their
// ratios land on or next to the rounding ties of NearestInt, where a
// shortcut that decides a code without the reference's division (the Q3_K
// descent does) must still give the reference's code.
std::vector<float> TieRichRows(int64_t n_rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> x(static_cast<size_t>(n_rows * kRowLength));
  for (int64_t r = 0; r < n_rows; ++r) {
    const int m = 1 + static_cast<int>(rng() % 8);  // values -m .. m
    const float unit = (r % 3 == 0) ? 1.0f : (r % 3 == 1 ? 0.5f : 1.0f / 3);
    const float scale = std::ldexp(1.0f, static_cast<int>(rng() % 21) - 10);
    for (int64_t i = 0; i < kRowLength; ++i) {
      const int v = static_cast<int>(rng() % static_cast<uint32_t>(2 * m + 1)) - m;
      x[static_cast<size_t>(r * kRowLength + i)] = static_cast<float>(v) * unit * scale;
    }
  }
  return x;
}

TEST_P(QuantizeTargetTest, MatchesReferenceOnTieRichRows) {
  const std::vector<float> x = TieRichRows(256, 21);
  const std::vector<float> w = Imatrix(kRowLength, 4);
  for (GgmlType type : kSimdTypes) {
    ExpectSameBytes(type, x, kRowLength, nullptr, 0, "tie-rich rows");
    ExpectSameBytes(type, x, kRowLength, w.data(), 3, "tie-rich rows");
  }
  // Q3_K's descent decides most codes without the division, by a bound kept
  // below slx / 2 by a margin (quantize_search-inl.h); a bound only 8 units in
  // the last place above slx / 2 makes row 7730 of these differ.
  const std::vector<float> many = TieRichRows(20000, 21);
  ExpectSameBytes(GgmlType::kQ3_K, many, kRowLength, nullptr, 1, "tie-rich rows");
}

// The fast groups of the 32-weight formats reduce each block on 256-bit
// halves on a CPU that splits 512-bit operations (Zen 4) and on full vectors
// elsewhere (quantize_internal::Split512BitVectors); the other tests run
// this CPU's way only. Both ways on every target (below AVX3 they are one).
class ForcedSplit512 {
 public:
  explicit ForcedSplit512(bool split) { quantize_internal::SetSplit512BitVectorsForTest(split); }
  ~ForcedSplit512() { quantize_internal::SetSplit512BitVectorsForTest(-1); }
  ForcedSplit512(const ForcedSplit512&) = delete;
  ForcedSplit512& operator=(const ForcedSplit512&) = delete;
};

TEST_P(QuantizeTargetTest, MatchesReferenceWithEitherReductionWidth) {
  int64_t n_rows = 0;
  const std::vector<float> hostile = HostileRows(&n_rows);
  const std::vector<float> ties = TieRichRows(64, 8);
  std::mt19937 rng(15);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> random(static_cast<size_t>(kRowLength * 64));
  for (auto& v : random) v = normal(rng) * std::exp(normal(rng));
  for (bool split : {false, true}) {
    const ForcedSplit512 forced(split);
    const std::string way = split ? " (256-bit halves)" : " (full vectors)";
    for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0,
                          GgmlType::kQ5_1, GgmlType::kMXFP4}) {
      ExpectSameBytes(type, hostile, kRowLength, nullptr, 0, "hostile rows" + way);
      ExpectSameBytes(type, ties, kRowLength, nullptr, 2, "tie-rich rows" + way);
      ExpectSameBytes(type, random, kRowLength, nullptr, 0, "random rows" + way);
    }
  }
}

// Q3_K's descent runs only for the groups whose max (first element of
// largest |x|) is negative, and only those whose first round may change a
// code are searched again, packed into tiles of their own
// (quantize_kquants-inl.h, Q3Searcher): rows whose groups
// are all of one sign, alternate, or come in runs, with the largest |x| on a
// tie of both signs in either order, and groups holding +-Inf, NaN or values
// whose square overflows, must still give the reference's bytes.
TEST_P(QuantizeTargetTest, Q3KDescentOnlyWhereTheMaxIsNegative) {
  std::mt19937 rng(515);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t n_rows = 48;
  std::vector<float> x(static_cast<size_t>(n_rows * kRowLength));
  for (int64_t r = 0; r < n_rows; ++r) {
    for (int64_t g = 0; g < kRowLength / 16; ++g) {
      float* v = x.data() + r * kRowLength + g * 16;
      for (int i = 0; i < 16; ++i) v[i] = normal(rng);
      const int at = static_cast<int>(rng() % 16);
      // Rows of one sign, alternating groups, runs of five, random signs.
      const bool negative = (r % 4 == 0)   ? (r / 4) % 2 == 0
                            : (r % 4 == 1) ? g % 2 == 1
                            : (r % 4 == 2) ? (g / 5) % 2 == 0
                                           : (rng() & 1) != 0;
      v[at] = negative ? -4.0f : 4.0f;
      const uint32_t extra = rng() % 8;
      if (extra == 0) v[(at + 3) % 16] = -v[at];  // a tie of both signs
      if (extra == 1) v[(at + 5) % 16] = negative ? -HUGE_VALF : HUGE_VALF;
      if (extra == 2) v[(at + 7) % 16] = std::nanf("");
      if (extra == 3) v[at] = negative ? -3e19f : 3e19f;  // x^2 overflows
      if (extra == 4) v[(at + 1) % 16] = negative ? HUGE_VALF : -HUGE_VALF;
    }
  }
  ExpectSameBytes(GgmlType::kQ3_K, x, kRowLength, nullptr, 0, "max sign rows");
  ExpectSameBytes(GgmlType::kQ3_K, x, kRowLength, nullptr, 5, "max sign rows, misaligned");
}

// Q3_K's second pass runs in full pairs of tiles, and the groups left over
// wait for the next batch of 32 super-blocks (quantize_kquants-inl.h,
// Q3Searcher); a batch is packed only once all of its groups are searched.
// Batches alternate between Gaussian values (about one group in five queues)
// and groups whose max is positive (none queues, so the leftover of the batch
// before must be searched before it is packed), in calls that end in a
// partial batch or a whole one.
TEST_P(QuantizeTargetTest, Q3KSecondPassCarriedAcrossBatches) {
  std::mt19937 rng(2026);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (int64_t n_sb : {1, 31, 32, 33, 64, 97, 130}) {
    std::vector<float> x(static_cast<size_t>(n_sb * 256));
    for (size_t i = 0; i < x.size(); ++i) {
      const bool queues = (i / (32 * 256)) % 2 == 0;
      x[i] = queues ? normal(rng) : std::fabs(normal(rng));
    }
    ExpectSameBytes(GgmlType::kQ3_K, x, 256, nullptr, 0,
                    absl::StrCat(n_sb, " super-blocks, alternating batches"));
    for (float& v : x) v = normal(rng);
    ExpectSameBytes(GgmlType::kQ3_K, x, 256, nullptr, 1, absl::StrCat(n_sb, " super-blocks"));
  }
}

// Q3_K's sub-block scales d * (code - 32) of the block at b.
std::vector<float> Q3KSubBlockScales(const uint8_t* b) {
  BlockQ3_K block;
  std::memcpy(&block, b, sizeof block);
  std::vector<float> d(16);
  for (int j = 0; j < 16; ++j) {
    d[static_cast<size_t>(j)] =
        F16ToF32(block.d) * static_cast<float>(internal::UnpackScaleQ3K(j, block.scales) - 32);
  }
  return d;
}

// Q3_K re-fits its codes to the final sub-block scales d (NearestInt(x /
// d)): rows whose quotients there are exactly rounding ties, where a shortcut
// for the division (multiplying by 1 / d was tried: it gives other codes
// unless each near-tie is done again with the division) must still give the
// reference's codes. A random row quantized and dequantized (every value a
// code times its scale), a quarter of the values moved half a step (to (l +
// 1/2) d, exact in float), quantized again: most super-blocks keep their
// scales, so that x / d is exactly the tie there; the test checks that many
// do.
TEST_P(QuantizeTargetTest, Q3KRefitOnExactTies) {
  std::mt19937 rng(77);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t n_rows = 64;
  std::vector<float> x(static_cast<size_t>(n_rows * kRowLength));
  for (float& v : x) v = normal(rng);
  const std::vector<uint8_t> first = ReferenceBytes(GgmlType::kQ3_K, x, kRowLength, nullptr);
  ASSERT_TRUE(
      reference::Dequantize(GgmlType::kQ3_K, first, static_cast<int64_t>(x.size()), x.data()).ok());
  for (size_t sb = 0; sb < x.size() / 256; ++sb) {
    const std::vector<float> d = Q3KSubBlockScales(first.data() + sizeof(BlockQ3_K) * sb);
    for (size_t i = 0; i < 256; ++i) {
      float& v = x[256 * sb + i];
      const float step = d[i / 16];
      // Codes -4 .. 2 move up to the ties -3.5 .. 2.5 (3.5 clamps either way).
      if (rng() % 4 == 0 && step != 0 && v / step <= 2.0f) v += 0.5f * step;
    }
  }
  const std::vector<uint8_t> second = ReferenceBytes(GgmlType::kQ3_K, x, kRowLength, nullptr);
  int ties = 0;
  for (size_t sb = 0; sb < x.size() / 256; ++sb) {
    const std::vector<float> d = Q3KSubBlockScales(second.data() + sizeof(BlockQ3_K) * sb);
    for (size_t i = 0; i < 256; ++i) {
      const float q = x[256 * sb + i] / d[i / 16];
      if (std::isfinite(q) && q - std::floor(q) == 0.5f && q < 3.0f) ++ties;
    }
  }
  EXPECT_GT(ties, 250) << "too few exact ties reach the refit";  // 541 with this seed
  ExpectSameBytes(GgmlType::kQ3_K, x, kRowLength, nullptr, 0, "exact refit ties");
  ExpectSameBytes(GgmlType::kQ3_K, x, kRowLength, nullptr, 3, "exact refit ties, misaligned");
}

// Rows of random bit patterns (Inf, subnormals, huge values of every
// exponent) alone and sprinkled into normal rows: the garbage paths of the
// reference's conversions must be reproduced too. NaN bit patterns are
// excluded: when two NaNs with different payloads or signs meet in an
// addition or multiplication, which one survives is decided by the compiler's
// operand order (IEEE 754 leaves it open), so neither the reference's source
// nor ggml's defines those bytes. Canonical NaNs of both signs are covered by
// the hostile rows.
TEST_P(QuantizeTargetTest, MatchesReferenceOnRandomBitPatterns) {
  std::mt19937 rng(2026);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  constexpr int64_t kRows = 6;
  std::vector<float> x(static_cast<size_t>(kRows * kRowLength));
  for (int64_t r = 0; r < kRows; ++r) {
    for (int64_t i = 0; i < kRowLength; ++i) {
      float v = normal(rng);
      // Rows 0-1: all random bits; 2-3: one in 8; 4-5: one in 64.
      const uint32_t one_in = r < 2 ? 1 : (r < 4 ? 8 : 64);
      if (rng() % one_in == 0) {
        uint32_t bits = static_cast<uint32_t>(rng());
        if ((bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu) != 0) {
          bits &= 0xFF800000u;  // NaN -> Inf of the same sign
        }
        std::memcpy(&v, &bits, 4);
      }
      x[static_cast<size_t>(r * kRowLength + i)] = v;
    }
  }
  const std::vector<float> w = Imatrix(kRowLength, 3);
  for (GgmlType type : kSimdTypes) {
    ExpectSameBytes(type, x, kRowLength, nullptr, 0, "random bit patterns");
    ExpectSameBytes(type, x, kRowLength, w.data(), 2, "random bit patterns");
  }
}

std::vector<DequantTarget> TargetsUnderTest() { return SupportedDequantTargets(); }

INSTANTIATE_TEST_SUITE_P(AllTargets, QuantizeTargetTest, ::testing::ValuesIn(TargetsUnderTest()),
                         [](const ::testing::TestParamInfo<DequantTarget>& param_info) {
                           return param_info.param.name;
                         });

TEST(QuantizeBlocksTest, RejectsBadRequests) {
  std::vector<float> x(256, 1.0f);
  std::vector<uint8_t> out(1024);
  EXPECT_TRUE(absl::IsInvalidArgument(
      QuantizeBlocks(static_cast<GgmlType>(4), x.data(), 1, 256, out.data())));
  EXPECT_TRUE(absl::IsInvalidArgument(
      QuantizeBlocks(GgmlType::kQ4_K, x.data(), 1, 255, out.data())));
  EXPECT_TRUE(absl::IsInvalidArgument(QuantizeBlocks(GgmlType::kQ4_K, x.data(), -1, 256, out.data())));
  EXPECT_TRUE(absl::IsInvalidArgument(QuantizeBlocks(GgmlType::kQ4_K, nullptr, 1, 256, out.data())));
  EXPECT_TRUE(absl::IsInvalidArgument(QuantizeBlocks(GgmlType::kQ8_0, x.data(), 1, 256, nullptr)));
  EXPECT_TRUE(absl::IsInvalidArgument(
      QuantizeBlocks(GgmlType::kQ8_0, x.data(), int64_t{1} << 40, int64_t{1} << 40, out.data())));
  EXPECT_TRUE(QuantizeBlocks(GgmlType::kQ8_0, nullptr, 0, 256, nullptr).ok());
  EXPECT_TRUE(absl::IsUnimplemented(QuantizeBlocks(GgmlType::kI8, x.data(), 1, 256, out.data())));
}

// Types without a SIMD quantizer go to the reference through QuantizeBlocks:
// same bytes (with an imatrix, and without where the type allows), and the
// reference's refusal without one where ggml refuses.
TEST(QuantizeBlocksTest, FallbackTypesMatchTheReference) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(2 * 256);
  for (auto& v : x) v = normal(rng);
  x[3] = 0.0f;
  x[300] = 1000.0f;
  const std::vector<float> w = Imatrix(256, 9);
  int checked = 0;
  for (GgmlType type : QuantizableTypes()) {
    bool simd = false;
    for (GgmlType s : kSimdTypes) simd |= s == type;
    if (simd || 256 % GetTypeTraits(type).block_size != 0) continue;
    const ReferenceCodec& codec = GetReferenceCodec(type);
    const int64_t row_bytes = RowSizeBytes(type, 256).value();
    std::vector<uint8_t> got(static_cast<size_t>(2 * row_bytes));
    for (const float* imatrix : {static_cast<const float*>(nullptr), w.data()}) {
      const absl::Status status = QuantizeBlocks(type, x.data(), 2, 256, got.data(), imatrix);
      if (imatrix == nullptr && codec.requires_imatrix) {
        EXPECT_TRUE(absl::IsInvalidArgument(status)) << GetTypeTraits(type).name << ": " << status;
        continue;
      }
      ASSERT_TRUE(status.ok()) << GetTypeTraits(type).name << ": " << status;
      const std::vector<uint8_t> want = ReferenceBytes(type, x, 256, imatrix);
      EXPECT_EQ(FirstDifference(type, got.data(), want, 256), "") << GetTypeTraits(type).name;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0);
}

TEST(QuantizeBlocksTest, ForceScalarWritesTheSameBytes) {
  std::vector<float> x(1024);
  for (size_t i = 0; i < x.size(); ++i) x[i] = std::sin(static_cast<float>(i));
  for (GgmlType type : kSimdTypes) {
    std::vector<uint8_t> a(2048), b(2048);
    QuantizeOptions scalar;
    scalar.force_scalar = true;
    ASSERT_TRUE(QuantizeBlocks(type, x.data(), 4, 256, a.data()).ok());
    ASSERT_TRUE(QuantizeBlocks(type, x.data(), 4, 256, b.data(), nullptr, scalar).ok());
    EXPECT_EQ(a, b) << GetTypeTraits(type).name;
  }
}

}  // namespace
}  // namespace ggufkit
