// TQ1_0, TQ2_0, Q1_0 and MXFP4 SIMD quantizers (per target; none reads an
// imatrix). References: quants/ternary_codecs.cc, q1_q2_codecs.cc,
// fp4_codecs.cc.

#if defined(GGUFKIT_DEQUANT_QUANTIZE_EXTRA_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_QUANTIZE_EXTRA_INL_H_
#undef GGUFKIT_DEQUANT_QUANTIZE_EXTRA_INL_H_
#else
#define GGUFKIT_DEQUANT_QUANTIZE_EXTRA_INL_H_
#endif

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ggufkit/dequant/quantize_common-inl.h"
#include "ggufkit/dequant/quantize_group-inl.h"
#include "ggufkit/quants/block_fp4.h"
#include "ggufkit/quants/extra_codec_util.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/iq_tables_data.h"
#include "ggufkit/quants/type_traits.h"
#include "hwy/cache_control.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

// RoundHalfAwayToInt32: lround for |v| < 2^30, else (and for NaN) 0.
HWY_INLINE VI RoundHalfAwayToInt32V(VF v) {
  const DF df;
  const DI di;
  const MF in_range = hn::Lt(hn::Abs(v), hn::Set(df, 1073741824.0f));
  return hn::IfThenElseZero(hn::RebindMask(di, in_range), hn::ConvertTo(di, RoundHalfAwayV(v)));
}

// The ternary blocks' d: max |x| with ggml's MAX macro (NaN-order
// dependent: false when the block holds a NaN, which the caller hands to the
// reference).
HWY_INLINE bool TernaryAbsMax(const float* xb, float* d) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  VF amax = hn::Zero(df);
  MF nan = hn::FirstN(df, 0);
  for (size_t i = 0; i < 256; i += lanes) {
    const VF v = hn::LoadU(df, xb + i);
    nan = hn::Or(nan, hn::Not(hn::Eq(v, v)));
    amax = hn::Max(amax, hn::Abs(v));
  }
  if (!hn::AllFalse(df, nan)) return false;
  *d = hn::GetLane(hn::MaxOfLanes(df, amax));
  return true;
}

// TQ2_0: 2-bit codes round(x / d) + 1, element 128c + 32l + m at bits 2l of
// qs[32c + m]; d after the 64 code bytes.
inline void QuantizeTq2_0(const float* x, uint8_t* out, int64_t n, const float*) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  const quantize_internal::QuantizeFn reference = GetReferenceCodec(GgmlType::kTQ2_0).quantize;
  const VI k1 = hn::Set(di, 1);
  const VI k3 = hn::Set(di, 3);
  for (int64_t b = 0; b < n / 256; ++b) {
    const float* xb = x + b * 256;
    uint8_t* o = out + b * 66;
    float d;
    if (!TernaryAbsMax(xb, &d)) {
      reference(xb, o, 256, nullptr);
      continue;
    }
    const VF vid = hn::Set(df, d != 0.0f ? 1.0f / d : 0.0f);
    auto code = [&](size_t e) {
      return hn::And(hn::Add(RoundHalfAwayToInt32V(hn::Mul(hn::LoadU(df, xb + e), vid)), k1), k3);
    };
    for (size_t c = 0; c < 2; ++c) {
      for (size_t m = 0; m < 32; m += lanes) {
        const size_t e = 128 * c + m;
        const VI byte =
            hn::Or(hn::Or(code(e), hn::ShiftLeft<2>(code(e + 32))),
                   hn::Or(hn::ShiftLeft<4>(code(e + 64)), hn::ShiftLeft<6>(code(e + 96))));
        StoreLowBytes(byte, o + 32 * c + m);
      }
    }
    StoreHalf(d, o + 64);
  }
}

// TQ1_0: trits round(x / d) + 1, five per byte (base 3, uint8 arithmetic,
// then scaled to 0..255 with (t * 256 + 242) / 243).
HWY_INLINE VI PackTritsV(const VI* trits, int count) {
  const DF df;
  const DI di;
  const VI k255 = hn::Set(di, 0xFF);
  VI t = hn::Zero(di);
  for (int k = 0; k < 5; ++k) {
    t = hn::Add(t, hn::ShiftLeft<1>(t));  // t * 3
    if (k < count) t = hn::Add(t, trits[k]);
    t = hn::And(t, k255);
  }
  // (t * 256 + 242) / 243 for t in 0..255: the float quotient is at least
  // 1/243 away from the next integer, so truncation is exact.
  const VF num = ToFloat(hn::Add(hn::ShiftLeft<8>(t), hn::Set(di, 242)));
  return hn::ConvertTo(di, hn::Div(num, hn::Set(df, 243.0f)));
}

inline void QuantizeTq1_0(const float* x, uint8_t* out, int64_t n, const float*) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  const quantize_internal::QuantizeFn reference = GetReferenceCodec(GgmlType::kTQ1_0).quantize;
  const VI k1 = hn::Set(di, 1);
  for (int64_t b = 0; b < n / 256; ++b) {
    const float* xb = x + b * 256;
    uint8_t* o = out + b * 54;
    float d;
    if (!TernaryAbsMax(xb, &d)) {
      reference(xb, o, 256, nullptr);
      continue;
    }
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    const VF vid = hn::Set(df, id);
    auto trit = [&](size_t e) {
      return hn::Add(RoundHalfAwayToInt32V(hn::Mul(hn::LoadU(df, xb + e), vid)), k1);
    };
    VI t[5];
    for (size_t m = 0; m < 32; m += lanes) {
      for (int k = 0; k < 5; ++k) t[k] = trit(32 * k + m);
      StoreLowBytes(PackTritsV(t, 5), o + m);
    }
    for (size_t m = 0; m < 16; m += lanes) {
      for (int k = 0; k < 5; ++k) t[k] = trit(160 + 16 * k + m);
      StoreLowBytes(PackTritsV(t, 5), o + 32 + m);
    }
    // The last 16 elements, four per qh byte: scalar, as the reference.
    for (int m = 0; m < 4; ++m) {
      uint8_t tt = 0;
      for (int k = 0; k < 4; ++k) {
        tt = static_cast<uint8_t>(tt * 3 +
                                  internal::RoundHalfAwayToInt32(xb[240 + 4 * k + m] * id) + 1);
      }
      tt = static_cast<uint8_t>(tt * 3);
      o[48 + m] = static_cast<uint8_t>((static_cast<int>(tt) * 256 + 242) / 243);
    }
    StoreHalf(d, o + 52);
  }
}

// Transposes a tile of kL rows x kL values (r[k] = row k): on return t[j]
// holds value j of every row, row k in lane k.
HWY_INLINE void TransposeTile(const VF* r, VF* t) {
  const DF df;
  const hn::Repartition<uint64_t, DF> d64;
  constexpr size_t kL = kGroupBlocks;
  // Within 128-bit blocks: u[4g + p] holds, in block q, value 4q + p of rows
  // 4g..4g+3.
  VF u[kL];
  for (size_t g = 0; g < kL / 4; ++g) {
    const VF* rg = r + 4 * g;
    const auto t0 = hn::BitCast(d64, hn::InterleaveLower(df, rg[0], rg[1]));
    const auto t1 = hn::BitCast(d64, hn::InterleaveUpper(df, rg[0], rg[1]));
    const auto t2 = hn::BitCast(d64, hn::InterleaveLower(df, rg[2], rg[3]));
    const auto t3 = hn::BitCast(d64, hn::InterleaveUpper(df, rg[2], rg[3]));
    u[4 * g + 0] = hn::BitCast(df, hn::InterleaveLower(d64, t0, t2));
    u[4 * g + 1] = hn::BitCast(df, hn::InterleaveUpper(d64, t0, t2));
    u[4 * g + 2] = hn::BitCast(df, hn::InterleaveLower(d64, t1, t3));
    u[4 * g + 3] = hn::BitCast(df, hn::InterleaveUpper(d64, t1, t3));
  }
  // Across blocks: value 4q + p is block q of u[p], u[4 + p], ...
  for (size_t p = 0; p < 4; ++p) {
    if constexpr (kL == 4) {
      t[p] = u[p];
    } else if constexpr (kL == 8) {
      t[p] = hn::ConcatLowerLower(df, u[4 + p], u[p]);
      t[4 + p] = hn::ConcatUpperUpper(df, u[4 + p], u[p]);
    } else {
#if HWY_TARGET <= HWY_AVX3
      const __m512 s0 = _mm512_shuffle_f32x4(u[p].raw, u[4 + p].raw, 0x44);
      const __m512 s1 = _mm512_shuffle_f32x4(u[p].raw, u[4 + p].raw, 0xEE);
      const __m512 s2 = _mm512_shuffle_f32x4(u[8 + p].raw, u[12 + p].raw, 0x44);
      const __m512 s3 = _mm512_shuffle_f32x4(u[8 + p].raw, u[12 + p].raw, 0xEE);
      t[p] = VF{_mm512_shuffle_f32x4(s0, s2, 0x88)};
      t[4 + p] = VF{_mm512_shuffle_f32x4(s0, s2, 0xDD)};
      t[8 + p] = VF{_mm512_shuffle_f32x4(s1, s3, 0x88)};
      t[12 + p] = VF{_mm512_shuffle_f32x4(s1, s3, 0xDD)};
#endif
    }
  }
}

// Q1_0's 16 sign-bit bytes of a block: bit j set when x[j] >= 0 (false for
// NaN).
HWY_INLINE void StoreSignBits128(const float* xb, uint8_t* o) {
  const DF df;
  const DI di;
  constexpr size_t kL = kGroupBlocks;
#if HWY_TARGET <= HWY_AVX3
  (void)di;
  for (size_t j = 0; j < 128; j += kL) {
    const __mmask16 m =
        _mm512_cmp_ps_mask(hn::LoadU(df, xb + j).raw, _mm512_setzero_ps(), _CMP_GE_OQ);
    std::memcpy(o + j / 8, &m, 2);
  }
#else
  uint8_t bits[16];
  for (size_t j = 0; j < 128; j += kL) {
    const uint32_t m = MaskBits(hn::RebindMask(di, hn::Ge(hn::LoadU(df, xb + j), hn::Zero(df))));
    if (kL >= 8) {
      std::memcpy(bits + j / 8, &m, kL / 8);
    } else if (j % 8 == 0) {
      bits[j / 8] = static_cast<uint8_t>(m);
    } else {
      bits[j / 8] = static_cast<uint8_t>(bits[j / 8] | (m << (j % 8)));
    }
  }
  std::memcpy(o, bits, 16);
#endif
}

// Q1_0: d = sum |x| / 128 summed in element order, one sign bit (x >= 0) per
// weight. The sums run one block per lane: each tile of Lanes values of
// Lanes blocks is transposed in registers, so lane k adds block k's values
// in order (the reference's order, hence its rounding).
inline void QuantizeQ1_0(const float* x, uint8_t* out, int64_t n, const float*) {
  const DF df;
  constexpr size_t kL = kGroupBlocks;
  const int64_t n_blocks = n / 128;
  int64_t b0 = 0;
  for (; b0 + static_cast<int64_t>(kL) <= n_blocks; b0 += static_cast<int64_t>(kL)) {
    const float* xg = x + b0 * 128;
    if (b0 + 2 * static_cast<int64_t>(kL) <= n_blocks) {
      const char* next = reinterpret_cast<const char*>(xg + kL * 128);
      for (size_t off = 0; off < kL * 128 * sizeof(float); off += 64) hwy::Prefetch(next + off);
    }
    VF sum = hn::Zero(df);
    for (size_t c = 0; c < 128; c += kL) {
      VF r[kL], t[kL];
      for (size_t k = 0; k < kL; ++k) r[k] = hn::Abs(hn::LoadU(df, xg + k * 128 + c));
      TransposeTile(r, t);
      for (size_t j = 0; j < kL; ++j) sum = hn::Add(sum, t[j]);
    }
    const VF d = hn::Div(sum, hn::Set(df, 128.0f));
    HWY_ALIGN float ds[kL];
    hn::Store(d, df, ds);
    for (size_t k = 0; k < kL; ++k) {
      uint8_t* o = out + (b0 + static_cast<int64_t>(k)) * 18;
      StoreHalf(ds[k], o);
      StoreSignBits128(xg + k * 128, o + 2);
    }
  }
  for (; b0 < n_blocks; ++b0) {  // the last blocks, one at a time
    const float* xb = x + b0 * 128;
    float s = 0.0f;
    for (int j = 0; j < 128; ++j) s += std::fabs(xb[j]);
    uint8_t* o = out + b0 * 18;
    StoreHalf(s / 128, o);
    StoreSignBits128(xb, o + 2);
  }
}

// MXFP4's fast group (see RunFastGroups).
//
// Scale: for amax = 2^F' (1 + m), floor(log2(amax)) is F' unless amax is
// within a few ulps of a power of two, where log2f's rounding could decide;
// those lanes (and zero, subnormal or huge amax) take the reference's
// formula. Only e >= 2 (h = 2^(e - 128) normal) stays on the fast path.
//
// Codes: with u = 2 |x| / h (exact: h is a power of two), the nearest of the
// doubled levels 0 1 2 3 4 6 8 12 with ties to the lower one is decided by
// u against the doubled midpoints 1 3 5 7 10 14 20, strictly: the two
// candidates' errors |level * h - |x|| are exact (Sterbenz: neighbouring
// levels are within a factor of two, and 0 vs 1 is exact below h/2), so
// their rounded comparison is the exact one; farther levels and levels of
// the other sign are strictly worse, or lose the tie by index. With
// c = ceil(u): the level is kLevelOfCeil[min(c, 21)]; negative x takes code
// level + 8 unless the level is 0 (+0 comes first).
struct Mxfp4Family {
  static constexpr size_t kBlockBytes = 17;
  struct State {
    HWY_ALIGN float inv2h[kGroupBlocks];
  };
  template <bool kHalfWidth>
  static HWY_INLINE bool Prepare(const float* x, uint8_t* out, State* st);
  static HWY_INLINE bool Emit(const float* x, uint8_t* out, const State& st);
};

template <bool kHalfWidth>
HWY_INLINE bool Mxfp4Family::Prepare(const float* x, uint8_t* out, State* st) {
  const DF df;
  const DI di;
  constexpr size_t kL = kGroupBlocks;
  VF amax;
  // |x|'s bits compare as integers in float order, and a NaN beats them all.
  GroupMinMax<kHalfWidth, false, true, true, MinOp, BitsSignedMaxOp>(x, nullptr, &amax);
  HWY_ALIGN int32_t es[kL];
  HWY_ALIGN float amaxs[kL];
  const VI bits = hn::BitCast(di, amax);  // amax >= 0 (or NaN)
  const VI field = hn::ShiftRight<23>(bits);
  const VI mant = hn::And(bits, hn::Set(di, 0x7FFFFF));
  const MI sure =
      hn::And(hn::And(hn::Gt(field, hn::Set(di, 3)), hn::Lt(field, hn::Set(di, 255))),
              hn::And(hn::Gt(mant, hn::Set(di, 63)), hn::Lt(mant, hn::Set(di, 0x7FFFFF - 63))));
  hn::Store(hn::Sub(field, hn::Set(di, 2)), di, es);
  if (HWY_UNLIKELY(!hn::AllTrue(di, sure))) {
    hn::Store(amax, df, amaxs);
    const uint32_t sure_bits = MaskBits(sure);
    for (size_t k = 0; k < kL; ++k) {
      if ((sure_bits >> k) & 1) continue;
      const float a = amaxs[k];
      if (std::isnan(a)) return false;  // a NaN in the block
      int e = 0;
      if (a > 0.0f) {
        const float biased = std::floor(std::log2(a)) - 2 + 127;
        e = static_cast<int>(static_cast<uint32_t>(internal::TruncateToInt32(biased)) & 0xFFu);
        if (e < 2) return false;
      }
      es[k] = e;  // 0 only for an all-zero block, whose codes are 0 for any h
    }
  }
  for (size_t k = 0; k < kL; ++k) out[k * kBlockBytes] = static_cast<uint8_t>(es[k]);
  const VI ve = hn::Load(di, es);
  // 2 / h = 2^(129 - e); any finite value does for e = 0 (every u is 0).
  const VI safe_e = hn::IfThenElse(hn::Eq(ve, hn::Zero(di)), hn::Set(di, 128), ve);
  hn::Store(hn::BitCast(df, hn::ShiftLeft<23>(hn::Sub(hn::Set(di, 256), safe_e))), df, st->inv2h);
  return true;
}

HWY_INLINE bool Mxfp4Family::Emit(const float* x, uint8_t* out, const State& st) {
  const DF df;
  const DI di;
  constexpr size_t kL = kGroupBlocks;
  // u < 32 for every non-NaN x (amax < 2^(F - 126), h = 2^(F - 130); an
  // infinite amax never gets here), so c <= 32. A NaN x gives c = INT32_MIN,
  // which both paths below turn into code 0: the reference's code for NaN,
  // whose errors never compare below the first one's.
#if HWY_TARGET <= HWY_AVX3
  // Level of c = ceil(u) for c = 0..21, with bit 3 set when the level is not
  // 0 (the sign then keeps it): entries 0-15 and 16-31 of a two-table permute.
  const __m512i table_lo =
      _mm512_setr_epi32(0, 0, 9, 9, 10, 10, 11, 11, 12, 12, 12, 13, 13, 13, 13, 14);
  const __m512i table_hi =
      _mm512_setr_epi32(14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15);
  auto code = [&](const float* xi, VF vinv) {
    const VF v = hn::LoadU(df, xi);
    const VF u = hn::Mul(hn::Abs(v), vinv);
    const VI c = VI{_mm512_cvt_roundps_epi32(u.raw, _MM_FROUND_TO_POS_INF | _MM_FROUND_NO_EXC)};
    // INT32_MIN stays below 21 and indexes entry 0.
    const VI entry =
        VI{_mm512_permutex2var_epi32(table_lo, hn::Min(c, hn::Set(di, 21)).raw, table_hi)};
    // entry & (negative ? 0xF : 0x7): A = entry, B = sign mask, C = 8.
    const VI sign = hn::ShiftRight<31>(hn::BitCast(di, v));
    return VI{_mm512_ternarylogic_epi32(entry.raw, sign.raw, _mm512_set1_epi32(8), 0xD0)};
  };
#else
  const VI k8 = hn::Set(di, 8);
  auto code = [&](const float* xi, VF vinv) {
    const VF v = hn::LoadU(df, xi);
    const VF u = hn::Mul(hn::Abs(v), vinv);
    const VI c = TruncRaw(hn::Ceil(u));
    // Midpoints 1 3 5 7 are c >> 1 (INT32_MIN clamped to 0); 10, 14 and 20
    // are counted (never for NaN).
    VI level = hn::ShiftRight<1>(hn::Min(hn::Max(c, hn::Zero(di)), k8));
    level = hn::Sub(level, hn::VecFromMask(di, hn::RebindMask(di, hn::Gt(u, hn::Set(df, 10.0f)))));
    level = hn::Sub(level, hn::VecFromMask(di, hn::RebindMask(di, hn::Gt(u, hn::Set(df, 14.0f)))));
    level = hn::Sub(level, hn::VecFromMask(di, hn::RebindMask(di, hn::Gt(u, hn::Set(df, 20.0f)))));
    // + 8 when negative and the level is not 0: (level + 7) & 8 is 8 then.
    const VI sign = hn::ShiftRight<31>(hn::BitCast(di, v));
    return hn::Or(level, hn::And(sign, hn::And(hn::Add(level, hn::Set(di, 7)), k8)));
  };
#endif
  for (size_t k = 0; k < kL; ++k) {
    const float* xb = x + k * kGroupQK;
    uint8_t* o = out + k * kBlockBytes;
    const VF vinv = hn::Set(df, st.inv2h[k]);
    VI c[kGroupQK / kL];
    for (size_t i = 0; i < kGroupQK / kL; ++i) c[i] = code(xb + i * kL, vinv);
    StoreNibbles16<false>(c, o + 1);
  }
  return true;
}

// MXFP4: shared exponent from max |x| (NaN ignored), then each code the first
// index minimizing |v_i * h - x| over the 16 doubled E2M1 values.
inline void QuantizeMxfp4(const float* x, uint8_t* out, int64_t n, const float*) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  const int64_t n_blocks = n / 32;
  // Partial last groups and groups whose fast path failed.
  auto general = [&](int64_t first, int64_t count) {
    for (int64_t b = first; b < first + count; ++b) {
      const float* xb = x + b * 32;
      uint8_t* o = out + b * 17;
      VF amax = hn::Zero(df);
      for (size_t i = 0; i < 32; i += lanes) {
        const VF a = hn::Abs(hn::LoadU(df, xb + i));
        amax = hn::IfThenElse(hn::Lt(amax, a), a, amax);
      }
      const float amax_s = hn::GetLane(hn::MaxOfLanes(df, amax));
      uint8_t e = 0;
      if (amax_s > 0.0f) {
        const float biased = std::floor(std::log2(amax_s)) - 2 + 127;
        e = static_cast<uint8_t>(static_cast<uint32_t>(internal::TruncateToInt32(biased)) & 0xFFu);
      }
      o[0] = e;
      const float h = internal::E8M0ToHalfScale(e);
      auto code = [&](size_t i) {
        const VF v = hn::LoadU(df, xb + i);
        VI best = hn::Zero(di);
        VF best_err = hn::Abs(
            hn::Sub(hn::Set(df, static_cast<float>(internal::kFp4DoubledValues[0]) * h), v));
        for (int k = 1; k < 16; ++k) {
          const float level = static_cast<float>(internal::kFp4DoubledValues[k]) * h;
          const VF err = hn::Abs(hn::Sub(hn::Set(df, level), v));
          const MF lt = hn::Lt(err, best_err);
          best = hn::IfThenElse(hn::RebindMask(di, lt), hn::Set(di, k), best);
          best_err = hn::IfThenElse(lt, err, best_err);
        }
        return best;
      };
      for (size_t i = 0; i < 16; i += lanes) {
        StoreLowBytes(hn::Or(code(i), hn::ShiftLeft<4>(code(i + 16))), o + 1 + i);
      }
    }
  };
  RunFastGroups<Mxfp4Family>(x, out, n_blocks, general);
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_QUANTIZE_EXTRA_INL_H_
