// Per-target helpers of the SIMD quantizers' fast groups (legacy 32-weight
// formats and MXFP4): a group is kGroupBlocks = Lanes blocks of 32 values.
// Its fast path computes every block's reduction with one transposed tree
// (no per-block horizontal reduction), the scales one block per lane, and
// the codes with plain conversions, checking on the way that no code left
// the range where those conversions equal the reference's (a NaN or an
// overflow lands outside it; MXFP4's codes need no check); a group that
// fails the check is redone by the family's general path, which reproduces
// the reference for every input.

#if defined(GGUFKIT_DEQUANT_QUANTIZE_GROUP_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_QUANTIZE_GROUP_INL_H_
#undef GGUFKIT_DEQUANT_QUANTIZE_GROUP_INL_H_
#else
#define GGUFKIT_DEQUANT_QUANTIZE_GROUP_INL_H_
#endif

#include <cstddef>
#include <cstdint>

#include "ggufkit/dequant/quantize_common-inl.h"
#include "ggufkit/dequant/quantize_kernels.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

inline constexpr size_t kGroupQK = 32;  // values per block

constexpr size_t kGroupBlocks = hn::MaxLanes(DF());
static_assert(kGroupBlocks == 4 || kGroupBlocks == 8 || kGroupBlocks == 16, "4, 8 or 16 lanes");

// cvttps2dq without Highway's overflow fix-up: INT32_MIN for NaN and for
// every out-of-range value, which the fast paths' range checks rely on.
HWY_INLINE VI TruncRaw(VF f) {
#if HWY_TARGET <= HWY_AVX3
  return VI{_mm512_cvttps_epi32(f.raw)};
#elif HWY_TARGET == HWY_AVX2
  return VI{_mm256_cvttps_epi32(f.raw)};
#elif HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3
  return VI{_mm_cvttps_epi32(f.raw)};
#else
  return TruncToInt32V(f);  // non-x86 targets (EMU128): the same result, emulated
#endif
}

// A transposed tree reduction: lane k of the result = op over all lanes of
// source vector k (k < Lanes(d)), built from ReduceFour of each four
// sources and FinishReduce. op must be associative and commutative on the
// values it sees (min / max of non-NaN floats): the tree visits lanes in no
// particular order.
template <class D, class V, class Op>
HWY_INLINE V ReduceFour(D d, V a, V b, V c, V e, const Op& op) {
  // Per 128-bit block: [a02 b02 a13 b13], then [a b c e].
  const hn::Repartition<uint64_t, D> d64;
  const V ab = op(hn::InterleaveLower(d, a, b), hn::InterleaveUpper(d, a, b));
  const V ce = op(hn::InterleaveLower(d, c, e), hn::InterleaveUpper(d, c, e));
  const auto ab64 = hn::BitCast(d64, ab);
  const auto ce64 = hn::BitCast(d64, ce);
  return op(hn::BitCast(d, hn::InterleaveLower(d64, ab64, ce64)),
            hn::BitCast(d, hn::InterleaveUpper(d64, ab64, ce64)));
}

// The last steps of the transposed tree: w[g] = ReduceFour of sources
// 4g..4g+3 (Lanes(d) / 4 of them); lane k of the result = op over all lanes
// of source k.
template <class D, class V, class Op>
HWY_INLINE V FinishReduce(D d, const V* w, const Op& op) {
  constexpr size_t kN = hn::MaxLanes(D());
  if constexpr (kN == 4) {
    return w[0];
  } else if constexpr (kN == 8) {
    return op(hn::ConcatLowerLower(d, w[1], w[0]), hn::ConcatUpperUpper(d, w[1], w[0]));
  } else {
    // Each w holds, in every 128-bit block, partials of its four sources.
    // Halves first: m02 = [w0 (B0,B2) w0 (B1,B3) w2 (B0,B2) w2 (B1,B3)], and
    // the same of w1 and w3; then adjacent blocks, which leaves sources
    // 0-3, 4-7, 8-11, 12-15 in blocks 0, 1, 2, 3.
    const V m02 = op(hn::ConcatLowerLower(d, w[2], w[0]), hn::ConcatUpperUpper(d, w[2], w[0]));
    const V m13 = op(hn::ConcatLowerLower(d, w[3], w[1]), hn::ConcatUpperUpper(d, w[3], w[1]));
    return op(hn::OddEvenBlocks(m13, m02), hn::SwapAdjacentBlocks(hn::OddEvenBlocks(m02, m13)));
  }
}

struct MaxOp {
  template <class V>
  HWY_INLINE V operator()(V a, V b) const {
    return hn::Max(a, b);
  }
};
struct MinOp {
  template <class V>
  HWY_INLINE V operator()(V a, V b) const {
    return hn::Min(a, b);
  }
};

// std::round of a value of magnitude below 2^23 (or NaN / out of range,
// which then converts to INT32_MIN): adding the largest float below 0.5
// with the sign of f never carries past the next integer and always reaches
// it from a fraction of one half, so truncation finishes the rounding.
HWY_INLINE VI RoundHalfAwayRaw(VF f) {
  const DF df;
  return TruncRaw(hn::Add(f, hn::CopySign(hn::Set(df, 0.49999997f), f)));
}

// Maxima of floats' bits as signed and as unsigned integers (see
// GroupMinMaxBits).
struct BitsSignedMaxOp {
  template <class V>
  HWY_INLINE V operator()(V a, V b) const {
    const hn::RebindToSigned<hn::DFromV<V>> di;
    return hn::BitCast(hn::DFromV<V>(), hn::Max(hn::BitCast(di, a), hn::BitCast(di, b)));
  }
};
struct BitsUnsignedMaxOp {
  template <class V>
  HWY_INLINE V operator()(V a, V b) const {
    const hn::RebindToUnsigned<hn::DFromV<V>> du;
    return hn::BitCast(hn::DFromV<V>(), hn::Max(hn::BitCast(du, a), hn::BitCast(du, b)));
  }
};

// Per-block reductions of Lanes(d) blocks at x: lane k of *max_out /
// *min_out is the max / min over block k (NaN-free blocks only; a NaN
// spoils its lane), or what MinOpT / MaxOpT reduce to.
template <bool kMin, bool kMax, bool kAbs, class MinOpT, class MaxOpT, class D, class V>
HWY_INLINE void BlockMinMax(D d, const float* x, V* min_out, V* max_out) {
  constexpr size_t kN = hn::MaxLanes(D());
  const MinOpT min_op;
  const MaxOpT max_op;
  V wmin[kN / 4], wmax[kN / 4];
  for (size_t g = 0; g < kN / 4; ++g) {
    V mins[4], maxs[4];
    for (size_t k = 0; k < 4; ++k) {
      const float* xb = x + (4 * g + k) * kGroupQK;
      V v = hn::LoadU(d, xb);
      if (kAbs) v = hn::Abs(v);
      V lo = v, hi = v;
      for (size_t i = kN; i < kGroupQK; i += kN) {
        V u = hn::LoadU(d, xb + i);
        if (kAbs) u = hn::Abs(u);
        if (kMin) lo = min_op(lo, u);
        if (kMax) hi = max_op(hi, u);
      }
      mins[k] = lo;
      maxs[k] = hi;
    }
    if (kMin) wmin[g] = ReduceFour(d, mins[0], mins[1], mins[2], mins[3], min_op);
    if (kMax) wmax[g] = ReduceFour(d, maxs[0], maxs[1], maxs[2], maxs[3], max_op);
  }
  if (kMin) *min_out = FinishReduce(d, wmin, min_op);
  if (kMax) *max_out = FinishReduce(d, wmax, max_op);
}

// BlockMinMax of a whole group. On AVX3 with kHalfWidth (a CPU that splits
// 512-bit operations, see Split512BitVectors) as two trees of 256-bit
// vectors: on Zen 4 a 512-bit min, max or shuffle costs two 256-bit ones,
// and the narrower tree has fewer levels per block (measured in one run:
// Q4_0 8.5 instead of 9.0 us, Q4_1 9.8 instead of 10.4 us per 256 KiB).
// Otherwise as one tree of full vectors: on the Intel Xeon's 512-bit units
// 3-15 % faster than the two trees for every type that uses it (both ways
// alternated in one process; fifteenth pass in docs/performance.md).
template <bool kHalfWidth, bool kMin, bool kMax, bool kAbs, class MinOpT = MinOp,
          class MaxOpT = MaxOp>
HWY_INLINE void GroupMinMax(const float* x, VF* min_out, VF* max_out) {
#if HWY_TARGET <= HWY_AVX3
  if constexpr (kHalfWidth) {
    const DF df;
    const hn::Half<DF> dh;
    hn::Vec<decltype(dh)> min_lo, min_hi, max_lo, max_hi;
    BlockMinMax<kMin, kMax, kAbs, MinOpT, MaxOpT>(dh, x, &min_lo, &max_lo);
    BlockMinMax<kMin, kMax, kAbs, MinOpT, MaxOpT>(dh, x + 8 * kGroupQK, &min_hi, &max_hi);
    if (kMin) *min_out = hn::Combine(df, min_hi, min_lo);
    if (kMax) *max_out = hn::Combine(df, max_hi, max_lo);
    return;
  }
#endif
  BlockMinMax<kMin, kMax, kAbs, MinOpT, MaxOpT>(DF(), x, min_out, max_out);
}

// Every block's min and max, from integer maxima of the values' bits, which
// run on every vector ALU where the float min and max compete with the
// codes' conversions (measured in one run on AVX3, with the unchecked codes
// it allows (quantize_simple-inl.h): Q4_0 8.23 -> 7.68 us, Q4_1 8.57 ->
// 8.16, Q5_0 8.93 -> 8.53, Q5_1 9.15 -> 9.07 per 256 KiB).
// The signed maximum is the float max of a block holding a value whose sign
// bit is clear (every value with a set sign bit is below it), the unsigned
// maximum the float min of a block holding one whose sign bit is set (of
// those, the largest magnitude). A NaN is the signed maximum if its sign is
// clear and the unsigned one if set, so NaN-free results mean a NaN-free
// block. Returns whether every block holds values of both signs (±0
// counted by their sign bit); otherwise the results are not the min and max.
template <bool kHalfWidth>
HWY_INLINE bool GroupMinMaxBits(const float* x, VF* min_out, VF* max_out) {
  const DI di;
  GroupMinMax<kHalfWidth, true, true, false, BitsUnsignedMaxOp, BitsSignedMaxOp>(x, min_out,
                                                                                 max_out);
  // Sign of min set and sign of max clear in every lane.
  const VI both = hn::AndNot(hn::BitCast(di, *max_out), hn::BitCast(di, *min_out));
  return hn::AllTrue(di, hn::Lt(both, hn::Zero(di)));
}

// Stores 16 nibble bytes c[j] | c[j + 16] << 4 of 32 codes (each 0..15 when
// kLowNibble is false; masked to 4 bits when true) at p.
template <bool kLowNibble>
HWY_INLINE void StoreNibbles16(const VI* c, uint8_t* p) {
  const DI di;
  constexpr size_t kL = kGroupBlocks;
  constexpr size_t kHalf = 16 / kL;  // vectors per 16 elements
  VI b[kHalf];
  for (size_t i = 0; i < kHalf; ++i) {
    const VI hi = hn::ShiftLeft<4>(c[i + kHalf]);
    if (kLowNibble) {
#if HWY_TARGET <= HWY_AVX3
      // vpmovdb below keeps only bits 0-7: no mask on the high code.
      b[i] = hn::Or(hn::And(c[i], hn::Set(di, 0x0F)), hi);
#else
      b[i] = hn::Or(hn::And(c[i], hn::Set(di, 0x0F)), hn::And(hi, hn::Set(di, 0xF0)));
#endif
    } else {
      b[i] = hn::Or(c[i], hi);
    }
  }
#if HWY_TARGET <= HWY_AVX3
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(b[0].raw));
#elif HWY_TARGET == HWY_AVX2
  // Per 128-bit lane j: b0[4j..4j+3] b1[4j..4j+3] (twice); gather the dwords.
  const __m256i bytes =
      _mm256_packus_epi16(_mm256_packs_epi32(b[0].raw, b[1].raw), _mm256_setzero_si256());
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 0, 0, 0, 0);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p),
                   _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(bytes, order)));
#elif HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3
  _mm_storeu_si128(
      reinterpret_cast<__m128i*>(p),
      _mm_packus_epi16(_mm_packs_epi32(b[0].raw, b[1].raw), _mm_packs_epi32(b[2].raw, b[3].raw)));
#else
  for (size_t i = 0; i < kHalf; ++i) StoreLowBytes(b[i], p + i * kL);  // non-x86 (EMU128)
#endif
}

// The fast groups' driver. Family::Prepare<kHalfWidth>(x, out, State*)
// computes a group's scales (reductions by GroupMinMax<kHalfWidth>,
// divisions) and writes them, returning false
// when the group cannot take the fast path; Family::Emit(x, out, const
// State&) writes the codes and returns whether the group's bytes are the
// reference's. Group g + 1 is prepared before group g is emitted, so the
// latency of one group's divisions overlaps the previous group's codes.
// general(first, count) writes blocks first .. first + count - 1 (the
// partial last group, and any group whose fast path failed).
template <class Family, bool kHalfWidth, class General>
HWY_INLINE void RunFastGroupsOf(const float* x, uint8_t* out, int64_t n_blocks,
                                const General& general) {
  constexpr int64_t kL = static_cast<int64_t>(kGroupBlocks);
  constexpr int64_t kIn = kL * static_cast<int64_t>(kGroupQK);
  constexpr int64_t kOut = kL * static_cast<int64_t>(Family::kBlockBytes);
  const int64_t full = n_blocks / kL;
  typename Family::State state[2];
  bool ready[2] = {false, false};
  if (full > 0) ready[0] = Family::template Prepare<kHalfWidth>(x, out, &state[0]);
  for (int64_t g = 0; g < full; ++g) {
    const int cur = static_cast<int>(g & 1);
    if (g + 1 < full) {
      ready[cur ^ 1] = Family::template Prepare<kHalfWidth>(x + (g + 1) * kIn, out + (g + 1) * kOut,
                                                            &state[cur ^ 1]);
    }
    if (!ready[cur] || !Family::Emit(x + g * kIn, out + g * kOut, state[cur])) general(g * kL, kL);
  }
  if (full * kL < n_blocks) general(full * kL, n_blocks - full * kL);
}
template <class Family, class General>
HWY_INLINE void RunFastGroups(const float* x, uint8_t* out, int64_t n_blocks,
                              const General& general) {
#if HWY_TARGET <= HWY_AVX3
  if (quantize_internal::Split512BitVectors()) {
    return RunFastGroupsOf<Family, true>(x, out, n_blocks, general);
  }
#endif
  RunFastGroupsOf<Family, false>(x, out, n_blocks, general);
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_QUANTIZE_GROUP_INL_H_
