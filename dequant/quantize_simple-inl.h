// Q8_0, Q4_0, Q4_1, Q5_0, Q5_1 SIMD quantizers (per target), without an
// importance matrix. Each block's scale comes from a reduction over its 32
// values that is exact in any order (max of |x| ignoring NaN, min / max
// ignoring NaN, with the reference's choice among equal values restored);
// the codes are elementwise. Formats: quants/block_legacy.h.

#if defined(GGUFKIT_DEQUANT_QUANTIZE_SIMPLE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_QUANTIZE_SIMPLE_INL_H_
#undef GGUFKIT_DEQUANT_QUANTIZE_SIMPLE_INL_H_
#else
#define GGUFKIT_DEQUANT_QUANTIZE_SIMPLE_INL_H_
#endif

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ggufkit/dequant/quantize_common-inl.h"
#include "ggufkit/dequant/quantize_extra-inl.h"
#include "ggufkit/dequant/quantize_group-inl.h"
#include "ggufkit/dequant/quantize_legacy_imatrix-inl.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/type_traits.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

inline constexpr int kLegacyQK = 32;

// The simple quantizers work in batches of Lanes blocks: first every
// block's reduction, then the scales of the whole batch one block per lane
// (divisions, f16 rounding), then every block's codes, so no block waits on
// a serial chain of scalar steps.

// Writes F32ToF16 of each lane k < nb of d to out + k * stride: F16C's RNE
// conversion on AVX2 and up (identical for every non-NaN value; NaN lanes get
// the reference's canonical 0x7E00 | sign), the scalar conversion below.
HWY_INLINE void StoreHalves(VF d, size_t nb, uint8_t* out, size_t stride) {
  const DF df;
  HWY_ALIGN float dv[HWY_MAX_BYTES / sizeof(float)];
  hn::Store(d, df, dv);
#if HWY_TARGET <= HWY_AVX2
  const hn::Rebind<hwy::float16_t, DF> dh;
  HWY_ALIGN hwy::float16_t h[HWY_MAX_BYTES / sizeof(float)];
  hn::Store(hn::DemoteTo(dh, d), dh, h);
  for (size_t k = 0; k < nb; ++k) {
    uint16_t bits;
    std::memcpy(&bits, &h[k], 2);
    if (std::isnan(dv[k])) bits = F32ToF16(dv[k]);
    std::memcpy(out + k * stride, &bits, 2);
  }
#else
  for (size_t k = 0; k < nb; ++k) StoreHalf(dv[k], out + k * stride);
#endif
}

#if HWY_TARGET <= HWY_AVX2
// The scattered 2- and 4-byte stores of a fast group's scales are made from
// general registers (moves and shifts) rather than with one vector extract
// per store, which competes with the reductions and the code packing for
// the vector shuffle ports (measured in one run on AVX3: Q5_0 9.4 -> 8.9
// us, Q5_1 9.9 -> 9.2 us per 256 KiB). InGpr keeps a value loaded from a
// stored vector in a register; ReloadFromMemory makes the compiler forget
// what a buffer holds, so that it is read back with scalar loads.
HWY_INLINE void InGpr(uint64_t* v) { asm("" : "+r"(*v)); }
template <class T, size_t kN>
HWY_INLINE void ReloadFromMemory(T (&buf)[kN]) {
  asm("" : "+m"(buf));
}
#endif

// StoreHalves for a fast group, whose d is never NaN when the group passes
// its check (a NaN d fails it, and the general path rewrites the scales).
HWY_INLINE void StoreGroupHalves(VF d, uint8_t* out, size_t stride) {
#if HWY_TARGET <= HWY_AVX2
  const DF df;
  const hn::Rebind<hwy::float16_t, DF> dh;
  HWY_ALIGN uint16_t h[HWY_MAX_BYTES / sizeof(float)];
  hn::Store(hn::DemoteTo(dh, d), dh, reinterpret_cast<hwy::float16_t*>(h));
  for (size_t q = 0; q < hn::Lanes(df); q += 4) {
    uint64_t v;
    std::memcpy(&v, &h[q], 8);
    InGpr(&v);
    for (size_t t = 0; t < 4; ++t) {
      const uint16_t bits = static_cast<uint16_t>(v >> (16 * t));
      std::memcpy(out + (q + t) * stride, &bits, 2);
    }
  }
#else
  StoreHalves(d, hn::Lanes(DF()), out, stride);
#endif
}

// StoreGroupHalves of a and of b, b's halves right after a's.
HWY_INLINE void StoreGroupHalfPairs(VF a, VF b, uint8_t* out, size_t stride) {
#if HWY_TARGET <= HWY_AVX2
  const hn::Rebind<hwy::float16_t, DF> dh;
  const hn::Rebind<uint16_t, DF> du16;
  const hn::Repartition<uint32_t, decltype(du16)> du32;
  constexpr size_t kN = hn::MaxLanes(DF());
  const auto ha = hn::BitCast(du16, hn::DemoteTo(dh, a));
  const auto hb = hn::BitCast(du16, hn::DemoteTo(dh, b));
  // The pairs of lanes 8g..8g+3 are dwords 4g..4g+3 of the lower
  // interleave, those of lanes 8g+4..8g+7 dwords 4g..4g+3 of the upper one.
  HWY_ALIGN uint32_t pairs[kN];
  hn::Store(hn::BitCast(du32, hn::InterleaveLower(du16, ha, hb)), du32, pairs);
  hn::Store(hn::BitCast(du32, hn::InterleaveUpper(du16, ha, hb)), du32, pairs + kN / 2);
  ReloadFromMemory(pairs);
  for (size_t p = 0; p < kN; p += 2) {
    const size_t i = p % (kN / 2);
    const size_t lane = 8 * (i / 4) + 4 * (p / (kN / 2)) + i % 4;
    uint64_t v;
    std::memcpy(&v, &pairs[p], 8);
    const uint32_t first = static_cast<uint32_t>(v), second = static_cast<uint32_t>(v >> 32);
    std::memcpy(out + lane * stride, &first, 4);
    std::memcpy(out + (lane + 1) * stride, &second, 4);
  }
#else
  StoreGroupHalves(a, out, stride);
  StoreGroupHalves(b, out + 2, stride);
#endif
}

// id = d != 0 ? 1 / d : 0, per lane.
HWY_INLINE VF InverseOrZero(VF d) {
  const DF df;
  return hn::IfThenZeroElse(hn::Eq(d, hn::Zero(df)), hn::Div(hn::Set(df, 1.0f), d));
}

// Whether every lane of v is finite (not NaN, not infinite).
HWY_INLINE bool AllFinite(VF v) {
  const DF df;
  return hn::AllTrue(df, hn::Lt(hn::Abs(v), hn::Set(df, HUGE_VALF)));
}

// Stores the 32 codes q[0..] (32 / Lanes vectors, each lane in -128..127)
// as 32 bytes at p, in element order: saturating packs (exact in range) and
// one dword permute instead of a demotion per vector.
HWY_INLINE void StoreCodes32(const VI* q, uint8_t* p) {
#if HWY_TARGET <= HWY_AVX3
  // Per 128-bit lane j: q0[4j..4j+3] q1[4j..4j+3] (twice); gather the dwords.
  const __m512i bytes =
      _mm512_packs_epi16(_mm512_packs_epi32(q[0].raw, q[1].raw), _mm512_setzero_si512());
  const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p),
                      _mm512_castsi512_si256(_mm512_permutexvar_epi32(order, bytes)));
#elif HWY_TARGET == HWY_AVX2
  // Per 128-bit lane j: q0..q3's elements 4j..4j+3, one dword each.
  const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(q[0].raw, q[1].raw),
                                           _mm256_packs_epi32(q[2].raw, q[3].raw));
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(p), _mm256_permutevar8x32_epi32(bytes, order));
#elif HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3
  for (int h = 0; h < 2; ++h) {
    const __m128i bytes = _mm_packs_epi16(_mm_packs_epi32(q[4 * h].raw, q[4 * h + 1].raw),
                                          _mm_packs_epi32(q[4 * h + 2].raw, q[4 * h + 3].raw));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p + 16 * h), bytes);
  }
#else
  // Non-x86 targets (EMU128): saturating demotion, exact in range.
  const hn::Rebind<int8_t, DI> di8;
  for (size_t i = 0; i < kLegacyQK / kGroupBlocks; ++i) {
    hn::StoreU(hn::DemoteTo(di8, q[i]), di8, reinterpret_cast<int8_t*>(p) + i * kGroupBlocks);
  }
#endif
}

// Q8_0's fast group (see RunFastGroups).
struct Q8_0Family {
  static constexpr size_t kBlockBytes = 34;
  struct State {
    HWY_ALIGN float ids[kGroupBlocks];
    bool check;  // whether Emit must check its codes
  };
  template <bool kHalfWidth>
  static HWY_INLINE bool Prepare(const float* x, uint8_t* out, State* st) {
    const DF df;
    VF amax;
    // |x|'s bits compare as integers in float order (an integer max frees
    // the float pipes: AVX2 9.5 -> 9.1 us per 256 KiB in one run).
    GroupMinMax<kHalfWidth, false, true, true, MinOp, BitsSignedMaxOp>(x, nullptr, &amax);
    const VF d = hn::Div(amax, hn::Set(df, 127.0f));
    const VF id = InverseOrZero(d);
    hn::Store(id, df, st->ids);
    // amax + id is finite only if the blocks are NaN-free (a NaN wins the
    // bits' max) with a finite amax and id (both are not negative).
    st->check = !AllFinite(hn::Add(amax, id));
    StoreGroupHalves(d, out, kBlockBytes);
    return true;
  }
  // Codes are |x * id| <= 127 (1 + 2^-21) for a NaN-free block with a
  // finite amax and id (d's rounding as a subnormal included): the rounding
  // lands in -127..127. Otherwise NaN or overflow gives INT32_MIN, which the
  // running minimum of a group Prepare could not prove tame catches
  // (without that minimum: AVX3 9 % faster, alternated in one process).
  static HWY_INLINE bool Emit(const float* x, uint8_t* out, const State& st) {
    if (st.check) return EmitCodes<true>(x, out, st);
    return EmitCodes<false>(x, out, st);
  }
  template <bool kCheck>
  static HWY_INLINE bool EmitCodes(const float* x, uint8_t* out, const State& st) {
    const DF df;
    const DI di;
    constexpr size_t kL = kGroupBlocks;
    VI lowest = hn::Zero(di);
    for (size_t k = 0; k < kL; ++k) {
      const float* xb = x + k * kLegacyQK;
      const VF vid = hn::Set(df, st.ids[k]);
      VI q[kLegacyQK / kL];
      for (size_t i = 0; i < kLegacyQK / kL; ++i) {
        q[i] = RoundHalfAwayRaw(hn::Mul(hn::LoadU(df, xb + i * kL), vid));
        if (kCheck) lowest = hn::Min(lowest, q[i]);
      }
      StoreCodes32(q, out + k * kBlockBytes + 2);
    }
    return !kCheck || hn::AllTrue(di, hn::Gt(lowest, hn::Set(di, -128)));
  }
};

// Q8_0: d = max|x| / 127 with ggml's MAX macro, whose result depends on
// where a NaN sits in the block; blocks holding a NaN go to the reference.
inline void QuantizeQ8_0(const float* x, uint8_t* out, int64_t n, const float* /*imatrix*/) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  const quantize_internal::QuantizeFn reference = GetReferenceCodec(GgmlType::kQ8_0).quantize;
  const VI k255 = hn::Set(di, 0xFF);
  const int64_t n_blocks = n / kLegacyQK;
  const MF finite_lanes = hn::FirstN(df, lanes);
  // Partial last groups and groups whose fast path failed.
  auto general = [&](int64_t first, int64_t count) {
    for (int64_t b0 = first; b0 < first + count; b0 += static_cast<int64_t>(lanes)) {
      const int nb =
          static_cast<int>(std::min<int64_t>(static_cast<int64_t>(lanes), first + count - b0));
      HWY_ALIGN float amaxs[HWY_MAX_BYTES / sizeof(float)] = {0};
      HWY_ALIGN float ids[HWY_MAX_BYTES / sizeof(float)];
      bool has_nan[HWY_MAX_BYTES / sizeof(float)];
      for (int k = 0; k < nb; ++k) {
        const float* xb = x + (b0 + k) * kLegacyQK;
        VF amax = hn::Zero(df);
        MF nan = hn::FirstN(df, 0);
        for (size_t i = 0; i < kLegacyQK; i += lanes) {
          const VF v = hn::LoadU(df, xb + i);
          nan = hn::Or(nan, hn::Not(hn::Eq(v, v)));  // Ne is ordered on AVX2+
          amax = hn::Max(amax, hn::Abs(v));
        }
        has_nan[k] = !hn::AllFalse(df, nan);
        amaxs[k] = hn::GetLane(hn::MaxOfLanes(df, amax));
      }
      // One block per lane: d = amax / 127, id, the f16 d.
      const VF vamax = hn::Load(df, amaxs);
      const VF d = hn::Div(vamax, hn::Set(df, 127.0f));
      const VF vids = InverseOrZero(d);
      hn::Store(vids, df, ids);
      StoreHalves(d, static_cast<size_t>(nb), out + b0 * 34, 34);
      // Finite amax and id: every |x * id| <= 127 (1 + 2^-22), so the
      // rounded value converts without the out-of-range selects.
      const VF inf = hn::Set(df, HUGE_VALF);
      bool tame[HWY_MAX_BYTES / sizeof(float)];
      const uint32_t tame_bits = MaskBits(hn::RebindMask(
          di, hn::And(finite_lanes, hn::And(hn::Lt(vamax, inf), hn::Lt(hn::Abs(vids), inf)))));
      for (int k = 0; k < nb; ++k) tame[k] = (tame_bits >> k) & 1;
      for (int k = 0; k < nb; ++k) {
        const float* xb = x + (b0 + k) * kLegacyQK;
        uint8_t* o = out + (b0 + k) * 34;
        if (has_nan[k]) {
          reference(xb, o, kLegacyQK, nullptr);
          continue;
        }
        const VF vid = hn::Set(df, ids[k]);
        if (tame[k]) {
          for (size_t i = 0; i < kLegacyQK; i += lanes) {
            const VI q = hn::ConvertTo(di, RoundHalfAwayV(hn::Mul(hn::LoadU(df, xb + i), vid)));
            StoreLowBytes(hn::And(q, k255), o + 2 + i);
          }
          continue;
        }
        for (size_t i = 0; i < kLegacyQK; i += lanes) {
          const VI q = TruncToInt32V(RoundHalfAwayV(hn::Mul(hn::LoadU(df, xb + i), vid)));
          StoreLowBytes(hn::And(q, k255), o + 2 + i);
        }
      }
    }
  };
  RunFastGroups<Q8_0Family>(x, out, n_blocks, general);
}

// The signed value of the first element of largest magnitude (NaN never
// wins a strict >; 0 when every |x| is 0).
// *has_nan: whether the block holds a NaN.
HWY_INLINE float SignedAbsMax32(const float* xb, bool* has_nan) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  VF amax = hn::Zero(df);
  MF nan = hn::FirstN(df, 0);
  for (size_t i = 0; i < kLegacyQK; i += lanes) {
    const VF v = hn::LoadU(df, xb + i);
    const VF a = hn::Abs(v);
    nan = hn::Or(nan, hn::Not(hn::Eq(v, v)));
    amax = hn::IfThenElse(hn::Gt(a, amax), a, amax);
  }
  *has_nan = !hn::AllFalse(df, nan);
  const VF all = hn::MaxOfLanes(df, amax);  // no NaN left in amax
  if (!(hn::GetLane(all) > 0.0f)) return 0.0f;
  for (size_t i = 0; i < kLegacyQK; i += lanes) {
    const intptr_t j = hn::FindFirstTrue(df, hn::Eq(hn::Abs(hn::LoadU(df, xb + i)), all));
    if (j >= 0) return xb[i + static_cast<size_t>(j)];
  }
  return 0.0f;  // unreachable
}

// min and max ignoring NaN (FLT_MAX / -FLT_MAX when all are NaN). Of equal
// values the reference keeps the first; only the sign of a zero min matters
// (a zero max is the same element as a zero min, or max - min = -min).
HWY_INLINE void MinMax32(const float* xb, float* min_out, float* max_out, bool* has_nan) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  VF vmin = hn::Set(df, FLT_MAX);
  VF vmax = hn::Set(df, -FLT_MAX);
  MF nan = hn::FirstN(df, 0);
  for (size_t i = 0; i < kLegacyQK; i += lanes) {
    const VF v = hn::LoadU(df, xb + i);
    nan = hn::Or(nan, hn::Not(hn::Eq(v, v)));
    vmin = hn::IfThenElse(hn::Lt(v, vmin), v, vmin);
    vmax = hn::IfThenElse(hn::Gt(v, vmax), v, vmax);
  }
  *has_nan = !hn::AllFalse(df, nan);
  float min = hn::GetLane(hn::MinOfLanes(df, vmin));
  *max_out = hn::GetLane(hn::MaxOfLanes(df, vmax));
  if (min == 0.0f) {
    for (int j = 0; j < kLegacyQK; ++j) {
      if (xb[j] == 0.0f) {
        min = xb[j];
        break;
      }
    }
  }
  *min_out = min;
}

// Packs 32 codes (int32 lanes, low bits used): element j < 16 in the low
// nibble of qs[j], element j + 16 in the high nibble; with kFifth, bit 4 of
// element j to bit j of the 32-bit qh at qh_out.
template <bool kFifth, class CodeFn>
HWY_INLINE void PackNibbles(const CodeFn& code, uint8_t* qs, uint8_t* qh_out) {
  const DI di;
  const size_t lanes = hn::Lanes(di);
  const VI k15 = hn::Set(di, 0x0F);
  const VI k16 = hn::Set(di, 0x10);
  const VI k255 = hn::Set(di, 0xFF);
  uint32_t qh = 0;
  for (size_t i = 0; i < 16; i += lanes) {
    const VI lo = code(i);
    const VI hi = code(i + 16);
    if (kFifth) {
      StoreLowBytes(hn::Or(hn::And(lo, k15), hn::ShiftLeft<4>(hn::And(hi, k15))), qs + i);
      qh |= MaskBits(hn::Eq(hn::And(lo, k16), k16)) << i;
      qh |= MaskBits(hn::Eq(hn::And(hi, k16), k16)) << (i + 16);
    } else {
      StoreLowBytes(hn::And(hn::Or(lo, hn::ShiftLeft<4>(hi)), k255), qs + i);
    }
  }
  if (kFifth) {
    for (int k = 0; k < 4; ++k) qh_out[k] = static_cast<uint8_t>(qh >> (8 * k));
  }
}

// Bit 4 of each of 32 codes, element j at bit j.
HWY_INLINE uint32_t FifthBits(const VI* c) {
#if HWY_TARGET <= HWY_AVX3
  const __m512i k16 = _mm512_set1_epi32(0x10);
  return static_cast<uint32_t>(_mm512_test_epi32_mask(c[0].raw, k16)) |
         (static_cast<uint32_t>(_mm512_test_epi32_mask(c[1].raw, k16)) << 16);
#elif HWY_TARGET == HWY_AVX2
  // Bit 4 moved to each lane's sign bit, then the sign masks.
  uint32_t qh = 0;
  for (size_t i = 0; i < 4; ++i) {
    qh |= static_cast<uint32_t>(
              _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_slli_epi32(c[i].raw, 27))))
          << (8 * i);
  }
  return qh;
#else
  const DI di;
  constexpr size_t kL = kGroupBlocks;
  const VI k16 = hn::Set(di, 0x10);
  uint32_t qh = 0;
  for (size_t i = 0; i < kLegacyQK / kL; ++i) {
    qh |= MaskBits(hn::Eq(hn::And(c[i], k16), k16)) << (i * kL);
  }
  return qh;
#endif
}

// Stores 32 codes of a fast group's block at p: the 16 nibble bytes, or for
// the 5-bit formats the 32-bit qh (bit 4 of each code) and then the nibble
// bytes; with kCheck returns `seen` ORed with the codes (negative iff one
// was).
template <bool kFifth, bool kCheck>
HWY_INLINE VI StoreLegacyCodes(const VI* c, VI seen, uint8_t* p) {
  constexpr size_t kL = kGroupBlocks;
  if (kCheck) {
    for (size_t i = 0; i < kLegacyQK / kL; i += 2) seen = hn::Or(seen, hn::Or(c[i], c[i + 1]));
  }
  if (kFifth) {
    const uint32_t qh = FifthBits(c);
    std::memcpy(p, &qh, 4);
    StoreNibbles16<true>(c, p + 4);
  } else {
    StoreNibbles16<false>(c, p);
  }
  return seen;
}

// The reference's min and max of a block (first of equal values kept).
HWY_INLINE void ReferenceMinMax(const float* xb, float* min_out, float* max_out) {
  float min = FLT_MAX, max = -FLT_MAX;
  for (int j = 0; j < kLegacyQK; ++j) {
    if (xb[j] < min) min = xb[j];
    if (xb[j] > max) max = xb[j];
  }
  *min_out = min;
  *max_out = max;
}

// A fast group's per-block min and max (*vmin, *vmax), from the bits'
// maxima where every block holds both signs (returns true: then a NaN
// anywhere in a block shows in its min or max), else from the float min and
// max (returns false).
template <bool kHalfWidth>
HWY_INLINE bool LegacyGroupMinMax(const float* x, VF* vmin, VF* vmax) {
#if HWY_TARGET != HWY_SSSE3  // SSSE3 has no 32-bit integer max (emulated: slower)
  if (HWY_LIKELY(GroupMinMaxBits<kHalfWidth>(x, vmin, vmax))) return true;
#endif
  GroupMinMax<kHalfWidth, true, true, false>(x, vmin, vmax);
  return false;
}

// Q4_0 / Q5_0's fast group (see RunFastGroups). The block's signed absmax
// is its max or its min, whichever has the larger magnitude; only when both
// have it (+a and -a) does the reference's "first one" need the scalar
// search, and an all-zero block gives +0.
template <bool kFifth>
struct SymmetricFamily {
  static constexpr int kNmax = kFifth ? 16 : 8;
  static constexpr size_t kBlockBytes = kFifth ? 22 : 18;
  struct State {
    HWY_ALIGN float ids[kGroupBlocks];
    bool check;  // whether Emit must check its codes
  };
  template <bool kHalfWidth>
  static HWY_INLINE bool Prepare(const float* x, uint8_t* out, State* st) {
    const DF df;
    const DI di;
    constexpr size_t kL = kGroupBlocks;
    VF vmin, vmax;
    const bool bits = LegacyGroupMinMax<kHalfWidth>(x, &vmin, &vmax);
    const VF neg_min = hn::Neg(vmin);
    VF m = hn::IfThenElse(hn::Gt(neg_min, vmax), vmin, vmax);
    m = hn::IfThenZeroElse(hn::Eq(m, hn::Zero(df)), m);
    const MF tie = hn::And(hn::Eq(neg_min, vmax), hn::Gt(vmax, hn::Zero(df)));
    if (HWY_UNLIKELY(!hn::AllFalse(df, tie))) {
      HWY_ALIGN float ms[kL];
      hn::Store(m, df, ms);
      const uint32_t tie_bits = MaskBits(hn::RebindMask(di, tie));
      for (size_t k = 0; k < kL; ++k) {
        if ((tie_bits >> k) & 1) {
          bool has_nan;
          ms[k] = SignedAbsMax32(x + k * kLegacyQK, &has_nan);
        }
      }
      m = hn::Load(df, ms);
    }
    // m / -nmax: the product with -1 / nmax (a power of two) is the same
    // correctly rounded quotient, without a division's latency.
    const VF d = hn::Mul(m, hn::Set(df, -1.0f / kNmax));
    const VF id = InverseOrZero(d);
    hn::Store(id, df, st->ids);
    // With the bits' min and max, d + id + min is finite only if the blocks
    // are NaN-free with a finite min, max (a NaN max makes m NaN) and id (d
    // and id have one sign; the sum overflows only near FLT_MAX, which then
    // takes the checked codes).
    st->check = !(bits && AllFinite(hn::Add(hn::Add(d, id), vmin)));
    StoreGroupHalves(d, out, kBlockBytes);
    return true;
  }
  // x * id lies in [-nmax, nmax] (1 + 2^-21) for a NaN-free block with a
  // finite id, so the truncation of x * id + nmax + 0.5 is in 0..2 nmax,
  // where it equals the reference's int8 conversion. Otherwise NaN and
  // overflow give INT32_MIN, the only negative value, which stays negative
  // through the clamp and the OR: a group Prepare could not prove tame
  // checks its codes.
  static HWY_INLINE bool Emit(const float* x, uint8_t* out, const State& st) {
    if (st.check) return EmitCodes<true>(x, out, st);
    return EmitCodes<false>(x, out, st);
  }
  template <bool kCheck>
  static HWY_INLINE bool EmitCodes(const float* x, uint8_t* out, const State& st) {
    const DF df;
    const DI di;
    constexpr size_t kL = kGroupBlocks;
    const VF bias = hn::Set(df, kNmax + 0.5f);
    const VI top = hn::Set(di, 2 * kNmax - 1);
    VI seen = hn::Zero(di);  // OR of the clamped codes: negative iff one was
    for (size_t k = 0; k < kL; ++k) {
      const float* xb = x + k * kLegacyQK;
      uint8_t* o = out + k * kBlockBytes;
      // Q5_0: id broadcast inside each multiply, not once per block with
      // vbroadcastss (AVX3 3 % faster); Q4_0 1 % faster with the latter.
      const VF vid = hn::Set(df, st.ids[k]);
      VI c[kLegacyQK / kL];
      for (size_t i = 0; i < kLegacyQK / kL; ++i) {
        const VF x_i = hn::LoadU(df, xb + i * kL);
        const VF scaled = kFifth ? MulBroadcast(x_i, &st.ids[k]) : hn::Mul(x_i, vid);
        c[i] = hn::Min(TruncRaw(hn::Add(scaled, bias)), top);
      }
      seen = StoreLegacyCodes<kFifth, kCheck>(c, seen, o + 2);
    }
    return !kCheck || hn::AllTrue(di, hn::Gt(seen, hn::Set(di, -1)));
  }
};

// Q4_1 / Q5_1's fast group (see RunFastGroups). A zero min keeps the sign
// of the block's first zero (and then the max may be that same zero): those
// blocks take the reference's scalar min and max.
template <bool kFifth>
struct AsymmetricFamily {
  static constexpr size_t kBlockBytes = kFifth ? 24 : 20;
  struct State {
    HWY_ALIGN float ids[kGroupBlocks];
    HWY_ALIGN float mins[kGroupBlocks];
    bool check;  // whether Emit must check its codes
  };
  template <bool kHalfWidth>
  static HWY_INLINE bool Prepare(const float* x, uint8_t* out, State* st) {
    const DF df;
    const DI di;
    constexpr size_t kL = kGroupBlocks;
    VF vmin, vmax;
    bool bits = LegacyGroupMinMax<kHalfWidth>(x, &vmin, &vmax);
    const MF zero_min = hn::Eq(vmin, hn::Zero(df));
    if (HWY_UNLIKELY(!hn::AllFalse(df, zero_min))) {
      HWY_ALIGN float maxs[kL];
      hn::Store(vmin, df, st->mins);
      hn::Store(vmax, df, maxs);
      const uint32_t zero_bits = MaskBits(hn::RebindMask(di, zero_min));
      for (size_t k = 0; k < kL; ++k) {
        if ((zero_bits >> k) & 1) ReferenceMinMax(x + k * kLegacyQK, &st->mins[k], &maxs[k]);
      }
      vmin = hn::Load(df, st->mins);
      vmax = hn::Load(df, maxs);
      bits = false;  // the scalar min and max skip a NaN
    }
    const VF d = hn::Div(hn::Sub(vmax, vmin), hn::Set(df, kFifth ? 31.0f : 15.0f));
    const VF id = InverseOrZero(d);
    hn::Store(id, df, st->ids);
    hn::Store(vmin, df, st->mins);
    // With the bits' min and max, d is finite iff the blocks are NaN-free
    // with a finite min, max and d; d and id are not negative.
    st->check = !(bits && AllFinite(hn::Add(d, id)));
    StoreGroupHalfPairs(d, vmin, out, kBlockBytes);
    return true;
  }
  // (x - min) * id lies in [0, nmax] (1 + 2^-21) for a NaN-free block whose
  // min, max and d are finite (x - min <= max - min by monotonic rounding;
  // an id that is finite has d within 2^-22 of its value), so the truncation
  // of it plus 0.5 is in 0..nmax (15 (1 + 2^-21) + 0.5 < 16), where it
  // equals the reference's int8 / uint8 conversion and clamp. Otherwise a
  // NaN or an overflow shows up as INT32_MIN, the only negative value, which
  // the OR keeps: a group Prepare could not prove tame checks its codes.
  static HWY_INLINE bool Emit(const float* x, uint8_t* out, const State& st) {
    if (st.check) return EmitCodes<true>(x, out, st);
    return EmitCodes<false>(x, out, st);
  }
  template <bool kCheck>
  static HWY_INLINE bool EmitCodes(const float* x, uint8_t* out, const State& st) {
    const DF df;
    const DI di;
    constexpr size_t kL = kGroupBlocks;
    const VF half = hn::Set(df, 0.5f);
    VI seen = hn::Zero(di);  // OR of the codes: negative iff one was
    for (size_t k = 0; k < kL; ++k) {
      const float* xb = x + k * kLegacyQK;
      uint8_t* o = out + k * kBlockBytes;
      // min and id broadcast inside each subtraction and multiply, not
      // once per block with vbroadcastss (AVX3 Q5_1 8 %, Q4_1 3 % faster).
      VI c[kLegacyQK / kL];
      for (size_t i = 0; i < kLegacyQK / kL; ++i) {
        const VF f = hn::Add(
            MulBroadcast(SubBroadcast(hn::LoadU(df, xb + i * kL), &st.mins[k]), &st.ids[k]), half);
        // In range the truncation is at most nmax (the bound above), so
        // Q4_1's clamp to 15 never acts: c is the code.
        c[i] = TruncRaw(f);
      }
      seen = StoreLegacyCodes<kFifth, kCheck>(c, seen, o + 4);
    }
    return !kCheck || hn::AllTrue(di, hn::Gt(seen, hn::Set(di, -1)));
  }
};

// Q4_0 (kFifth false) and Q5_0: d = signed absmax / -nmax,
// q = MIN(2 nmax - 1, (int8_t)(x * id + nmax + 0.5)).
template <bool kFifth>
inline void QuantizeSymmetric(const float* x, uint8_t* out, int64_t n) {
  const DF df;
  const DI di;
  constexpr int kNmax = kFifth ? 16 : 8;
  constexpr size_t kBlockBytes = kFifth ? 22 : 18;
  const VF bias = hn::Set(df, kFifth ? 16.5f : 8.5f);
  const VI top = hn::Set(di, 2 * kNmax - 1);
  const int64_t n_blocks = n / kLegacyQK;
  const size_t lanes = hn::Lanes(df);
  // Partial last groups and groups whose fast path failed.
  auto general = [&](int64_t first, int64_t count) {
    for (int64_t b0 = first; b0 < first + count; b0 += static_cast<int64_t>(lanes)) {
      const int nb =
          static_cast<int>(std::min<int64_t>(static_cast<int64_t>(lanes), first + count - b0));
      HWY_ALIGN float maxs[HWY_MAX_BYTES / sizeof(float)] = {0};
      HWY_ALIGN float ids[HWY_MAX_BYTES / sizeof(float)];
      uint32_t nan_bits = 0;
      for (int k = 0; k < nb; ++k) {
        bool has_nan;
        maxs[k] = SignedAbsMax32(x + (b0 + k) * kLegacyQK, &has_nan);
        nan_bits |= static_cast<uint32_t>(has_nan) << k;
      }
      // One block per lane: d = max / -nmax, id, the f16 d.
      const VF vmax = hn::Load(df, maxs);
      const VF d = hn::Div(vmax, hn::Set(df, static_cast<float>(-kNmax)));
      const VF vids = InverseOrZero(d);
      hn::Store(vids, df, ids);
      StoreHalves(d, static_cast<size_t>(nb), out + static_cast<size_t>(b0) * kBlockBytes,
                  kBlockBytes);
      // No NaN, finite max and id: x * id + nmax + 0.5 lies in
      // [0.5 - eps, 2 nmax + 0.5 + eps], so truncation needs no range
      // selects and the codes need no sign extension.
      const VF inf = hn::Set(df, HUGE_VALF);
      const uint32_t finite_bits = MaskBits(
          hn::RebindMask(di, hn::And(hn::Lt(hn::Abs(vmax), inf), hn::Lt(hn::Abs(vids), inf))));
      bool tame[HWY_MAX_BYTES / sizeof(float)];
      for (int k = 0; k < nb; ++k) tame[k] = ((finite_bits & ~nan_bits) >> k) & 1;
      for (int k = 0; k < nb; ++k) {
        const float* xb = x + (b0 + k) * kLegacyQK;
        uint8_t* o = out + static_cast<size_t>(b0 + k) * kBlockBytes;
        const VF vid = hn::Set(df, ids[k]);
        if (tame[k]) {
          auto code = [&](size_t i) {
            const VF f = hn::Add(hn::Mul(hn::LoadU(df, xb + i), vid), bias);
            return hn::Min(hn::ConvertTo(di, f), top);
          };
          PackNibbles<kFifth>(code, o + (kFifth ? 6 : 2), o + 2);
          continue;
        }
        auto code = [&](size_t i) {
          const VF f = hn::Add(hn::Mul(hn::LoadU(df, xb + i), vid), bias);
          return hn::Min(SignExtendLowByte(TruncToInt32V(f)), top);
        };
        PackNibbles<kFifth>(code, o + (kFifth ? 6 : 2), o + 2);
      }
    }
  };
  RunFastGroups<SymmetricFamily<kFifth>>(x, out, n_blocks, general);
}

// Q4_1 (clamped to 15) and Q5_1 (not clamped: the low byte):
// d = (max - min) / nmax, m = min, q = (x - min) * id + 0.5 truncated.
template <bool kFifth>
inline void QuantizeAsymmetric(const float* x, uint8_t* out, int64_t n) {
  const DF df;
  const DI di;
  constexpr size_t kBlockBytes = kFifth ? 24 : 20;
  const VF half = hn::Set(df, 0.5f);
  const VI k15 = hn::Set(di, 15);
  const int64_t n_blocks = n / kLegacyQK;
  const size_t lanes = hn::Lanes(df);
  // Partial last groups and groups whose fast path failed.
  auto general = [&](int64_t first, int64_t count) {
    for (int64_t b0 = first; b0 < first + count; b0 += static_cast<int64_t>(lanes)) {
      const int nb =
          static_cast<int>(std::min<int64_t>(static_cast<int64_t>(lanes), first + count - b0));
      HWY_ALIGN float mins[HWY_MAX_BYTES / sizeof(float)] = {0};
      HWY_ALIGN float maxs[HWY_MAX_BYTES / sizeof(float)] = {0};
      HWY_ALIGN float ids[HWY_MAX_BYTES / sizeof(float)];
      uint32_t nan_bits = 0;
      for (int k = 0; k < nb; ++k) {
        bool has_nan;
        MinMax32(x + (b0 + k) * kLegacyQK, &mins[k], &maxs[k], &has_nan);
        nan_bits |= static_cast<uint32_t>(has_nan) << k;
      }
      // One block per lane: d = (max - min) / nmax, id, the f16 d and m.
      const VF vmin = hn::Load(df, mins);
      const VF vmax = hn::Load(df, maxs);
      const VF d = hn::Div(hn::Sub(vmax, vmin), hn::Set(df, kFifth ? 31.0f : 15.0f));
      const VF vids = InverseOrZero(d);
      hn::Store(vids, df, ids);
      uint8_t* ob = out + static_cast<size_t>(b0) * kBlockBytes;
      StoreHalves(d, static_cast<size_t>(nb), ob, kBlockBytes);
      StoreHalves(vmin, static_cast<size_t>(nb), ob + 2, kBlockBytes);
      // No NaN, finite min, max, d and id: (x - min) * id + 0.5 lies in
      // [0.5, nmax + 0.5 + eps]: plain truncation, codes already in range.
      const VF inf = hn::Set(df, HUGE_VALF);
      const MF finite = hn::And(hn::And(hn::Lt(hn::Abs(vmin), inf), hn::Lt(hn::Abs(vmax), inf)),
                                hn::And(hn::Lt(hn::Abs(d), inf), hn::Lt(hn::Abs(vids), inf)));
      const uint32_t finite_bits = MaskBits(hn::RebindMask(di, finite));
      bool tame[HWY_MAX_BYTES / sizeof(float)];
      for (int k = 0; k < nb; ++k) tame[k] = ((finite_bits & ~nan_bits) >> k) & 1;
      for (int k = 0; k < nb; ++k) {
        const float* xb = x + (b0 + k) * kLegacyQK;
        uint8_t* o = out + static_cast<size_t>(b0 + k) * kBlockBytes;
        const VF vid = hn::Set(df, ids[k]);
        const VF vmin_k = hn::Set(df, mins[k]);
        if (tame[k]) {
          auto code = [&](size_t i) {
            const VF f = hn::Add(hn::Mul(hn::Sub(hn::LoadU(df, xb + i), vmin_k), vid), half);
            return hn::ConvertTo(di, f);
          };
          PackNibbles<kFifth>(code, o + (kFifth ? 8 : 4), o + 4);
          continue;
        }
        auto code = [&](size_t i) {
          const VF f = hn::Add(hn::Mul(hn::Sub(hn::LoadU(df, xb + i), vmin_k), vid), half);
          const VI t = TruncToInt32V(f);
          return kFifth ? t : hn::Min(SignExtendLowByte(t), k15);
        };
        PackNibbles<kFifth>(code, o + (kFifth ? 8 : 4), o + 4);
      }
    }
  };
  RunFastGroups<AsymmetricFamily<kFifth>>(x, out, n_blocks, general);
}

// With an imatrix, x is one row (see quantize_kernels.h).
inline void QuantizeQ4_0(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  if (imatrix) return QuantizeLegacyImatrix<false, false>(x, out, n, imatrix);
  QuantizeSymmetric<false>(x, out, n);
}
inline void QuantizeQ5_0(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  if (imatrix) return QuantizeLegacyImatrix<false, true>(x, out, n, imatrix);
  QuantizeSymmetric<true>(x, out, n);
}
inline void QuantizeQ4_1(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  if (imatrix) return QuantizeLegacyImatrix<true, false>(x, out, n, imatrix);
  QuantizeAsymmetric<false>(x, out, n);
}
inline void QuantizeQ5_1(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  if (imatrix) return QuantizeLegacyImatrix<true, true>(x, out, n, imatrix);
  QuantizeAsymmetric<true>(x, out, n);
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_QUANTIZE_SIMPLE_INL_H_
