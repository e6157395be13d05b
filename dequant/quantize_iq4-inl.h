// IQ4_NL and IQ4_XS SIMD quantizers (per target), with and without an
// importance matrix. The scale search of each 32-weight sub-block runs in its
// own lane (as quantize_search-inl.h does for the K-quants); the nearest
// codebook level is found with the reference's comparisons (its binary
// search over the 16 sorted levels always ends at the same pair of
// neighbours, which a sweep of compares finds without branches).
// Reference: quants/iq_codecs.cc (QuantizeIq4SuperBlock).

#if defined(GGUFKIT_DEQUANT_QUANTIZE_IQ4_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_QUANTIZE_IQ4_INL_H_
#undef GGUFKIT_DEQUANT_QUANTIZE_IQ4_INL_H_
#else
#define GGUFKIT_DEQUANT_QUANTIZE_IQ4_INL_H_
#endif

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ggufkit/dequant/quantize_search-inl.h"
#include "hwy/highway.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/iq_tables_data.h"
#include "ggufkit/quants/quant_search_internal.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

// NearestIq4Level per lane: the index (as int32) and the level (as float).
// x <= v[0] -> 0; x >= v[15] or NaN -> 15; else with v[hi-1] <= x < v[hi],
// hi - 1 when x - v[hi-1] < v[hi] - x (ties go up).
HWY_INLINE VF NearestIq4V(VF x, VI* index) {
  const DF df;
  const DI di;
  const int8_t* v = internal::kIq4NlValues;
  VF lo = hn::Set(df, v[0]);
  VF hi = hn::Set(df, v[1]);
  VI idx = hn::Set(di, 1);
  for (int k = 1; k < 15; ++k) {
    const MF le = hn::Le(hn::Set(df, v[k]), x);
    lo = hn::IfThenElse(le, hn::Set(df, v[k]), lo);
    hi = hn::IfThenElse(le, hn::Set(df, v[k + 1]), hi);
    idx = hn::IfThenElse(hn::RebindMask(di, le), hn::Set(di, k + 1), idx);
  }
  const MF take_lo = hn::Lt(hn::Sub(x, lo), hn::Sub(hi, x));
  VF q = hn::IfThenElse(take_lo, lo, hi);
  idx = hn::IfThenElse(hn::RebindMask(di, take_lo), hn::Sub(idx, hn::Set(di, 1)), idx);
  const MF bottom = hn::Le(x, hn::Set(df, v[0]));
  const MF top = hn::Or(hn::Ge(x, hn::Set(df, v[15])), hn::Not(hn::Eq(x, x)));
  q = hn::IfThenElse(top, hn::Set(df, v[15]), hn::IfThenElse(bottom, hn::Set(df, v[0]), q));
  idx = hn::IfThenElse(hn::RebindMask(di, top), hn::Set(di, 15),
                       hn::IfThenZeroElse(hn::RebindMask(di, bottom), idx));
  *index = idx;
  return q;
}

// The scale search of 32-weight sub-blocks, one per lane (weights wt).
HWY_INLINE VF SearchIq4(const float* HWY_RESTRICT xt, const float* HWY_RESTRICT wt) {
  constexpr int kN = 32;
  const DF df;
  const size_t lanes = hn::Lanes(df);
  const VF zero = hn::Zero(df);
  VF amax = zero, max = zero;
  for (int i = 0; i < kN; ++i) {
    const VF x = hn::Load(df, xt + i * lanes);
    const VF ax = hn::Abs(x);
    const MF gt = hn::Gt(ax, amax);
    amax = hn::IfThenElse(gt, ax, amax);
    max = hn::IfThenElse(gt, x, max);
  }
  const MF small = hn::Lt(amax, hn::Set(df, 1e-15f));
  auto pass = [&](VF id, VF* sumqx, VF* sumq2) {
    VF sqx = zero, sq2 = zero;
    for (int i = 0; i < kN; ++i) {
      const VF x = hn::Load(df, xt + i * lanes);
      const VF w = hn::Load(df, wt + i * lanes);
      VI unused;
      const VF q = NearestIq4V(hn::Mul(id, x), &unused);
      const VF wq = hn::Mul(w, q);
      sqx = hn::Add(sqx, hn::Mul(wq, x));
      sq2 = hn::Add(sq2, hn::Mul(wq, q));
    }
    *sumqx = sqx;
    *sumq2 = sq2;
  };
  const float v0 = internal::kIq4NlValues[0];
  const VF d0 = hn::Div(hn::Neg(max), hn::Set(df, v0));
  VF sumqx, sumq2;
  pass(hn::Div(hn::Set(df, 1.0f), d0), &sumqx, &sumq2);
  VF d = hn::IfThenElseZero(hn::Gt(sumq2, zero), hn::Div(sumqx, sumq2));
  VF best = hn::Mul(d, sumqx);
  for (int itry = -7; itry <= 7; ++itry) {
    const float numerator = static_cast<float>(itry + internal::kIq4NlValues[0]);
    pass(hn::Div(hn::Set(df, numerator), max), &sumqx, &sumq2);
    const MF better =
        hn::And(hn::Gt(sumq2, zero), hn::Gt(hn::Mul(sumqx, sumqx), hn::Mul(best, sumq2)));
    d = hn::IfThenElse(better, hn::Div(sumqx, sumq2), d);
    best = hn::IfThenElse(better, hn::Mul(d, sumqx), best);
  }
  return hn::IfThenZeroElse(small, d);
}

// Codes of 32 weights at `id` scale, packed as IQ4's nibbles (element j in
// the low nibble of qs[j], j + 16 in the high one).
HWY_INLINE void Iq4Codes32(const float* x, float id, uint8_t* qs) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  const VF vid = hn::Set(df, id);
  for (size_t i = 0; i < 16; i += lanes) {
    VI lo, hi;
    NearestIq4V(hn::Mul(vid, hn::LoadU(df, x + i)), &lo);
    NearestIq4V(hn::Mul(vid, hn::LoadU(df, x + 16 + i)), &hi);
    StoreLowBytes(hn::Or(lo, hn::ShiftLeft<4>(hi)), qs + i);
  }
}

// kXs: IQ4_XS (256-weight super-blocks of 8 sub-blocks), else IQ4_NL (32).
template <bool kXs>
void QuantizeIq4(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  constexpr int kSub = 32;
  constexpr int kSuper = kXs ? 256 : 32;
  constexpr int kNSub = kSuper / kSub;
  constexpr size_t kBlockBytes = kXs ? 136 : 18;
  const DF df;
  const size_t lanes = hn::Lanes(df);
  HWY_ALIGN float xt[kSub * kMaxLanes];
  HWY_ALIGN float wt[kSub * kMaxLanes];
  HWY_ALIGN float d_lanes[kMaxLanes];
  // Super-blocks per pass: a whole number of tiles of sub-blocks.
  constexpr int kChunk = kXs ? 8 : 16;
  float scales[kChunk * kNSub];
  float sigma2[kChunk];
  const int64_t n_super = n / kSuper;
  for (int64_t s0 = 0; s0 < n_super; s0 += kChunk) {
    const int count = static_cast<int>(std::min<int64_t>(kChunk, n_super - s0));
    const float* xc = x + s0 * kSuper;
    const float* qc = imatrix ? imatrix + s0 * kSuper : nullptr;
    if (kXs) {
      for (int s = 0; s < count; ++s) {
        float sum = 0;
        for (int j = 0; j < kSuper; ++j) sum += xc[s * kSuper + j] * xc[s * kSuper + j];
        sigma2[s] = sum * (2.f / kSuper);
      }
    }
    const size_t groups = static_cast<size_t>(count) * kNSub;
    for (size_t g0 = 0; g0 < groups; g0 += lanes) {
      const size_t gn = std::min(lanes, groups - g0);
      GatherTile<kSub>(xc + g0 * kSub, kSub, gn, xt);
      if (qc) {
        GatherTile<kSub>(qc + g0 * kSub, kSub, gn, wt);
        VF s2;
        if (kXs) {
          HWY_ALIGN float v[kMaxLanes] = {0};
          for (size_t g = 0; g < gn; ++g) v[g] = sigma2[(g0 + g) / kNSub];
          s2 = hn::Load(df, v);
        } else {
          // IQ4_NL: the super-block is the sub-block; its sum in order.
          VF sum = hn::Zero(df);
          for (int i = 0; i < kSub; ++i) {
            const VF v = hn::Load(df, xt + i * lanes);
            sum = hn::Add(sum, hn::Mul(v, v));
          }
          s2 = hn::Mul(sum, hn::Set(df, 2.f / kSuper));
        }
        for (int i = 0; i < kSub; ++i) {
          const VF v = hn::Load(df, xt + i * lanes);
          const VF w = hn::Mul(hn::Load(df, wt + i * lanes), hn::Sqrt(hn::Add(s2, hn::Mul(v, v))));
          hn::Store(w, df, wt + i * lanes);
        }
      } else {
        for (int i = 0; i < kSub; ++i) {
          const VF v = hn::Load(df, xt + i * lanes);
          hn::Store(hn::Mul(v, v), df, wt + i * lanes);
        }
      }
      hn::Store(SearchIq4(xt, wt), df, d_lanes);
      for (size_t g = 0; g < gn; ++g) scales[g0 + g] = d_lanes[g];
    }
    for (int s = 0; s < count; ++s) {
      const float* xs = xc + s * kSuper;
      uint8_t* o = out + static_cast<size_t>(s0 + s) * kBlockBytes;
      const float* sc = scales + s * kNSub;
      if (!kXs) {
        StoreHalf(sc[0], o);
        const float id = sc[0] != 0.0f ? 1 / sc[0] : 0;
        Iq4Codes32(xs, id, o + 2);
        continue;
      }
      float max_scale = 0, amax_scale = 0;
      for (int ib = 0; ib < kNSub; ++ib) {
        const float abs_d = std::fabs(sc[ib]);
        if (abs_d > amax_scale) {
          amax_scale = abs_d;
          max_scale = sc[ib];
        }
      }
      const float d = -max_scale / 32;
      const float id = d != 0.0f ? 1 / d : 0.f;
      uint16_t scales_h = 0;
      uint8_t scales_l[4] = {0};
      for (int ib = 0; ib < kNSub; ++ib) {
        int l = internal::NearestInt(id * sc[ib]);
        l = l < -32 ? -32 : (l > 31 ? 31 : l);
        const float dl = d * static_cast<float>(l);
        const float idl = dl != 0.0f ? 1 / dl : 0.f;
        Iq4Codes32(xs + kSub * ib, idl, o + 8 + 16 * ib);
        l += 32;
        const uint8_t l_low = static_cast<uint8_t>(l & 0xf);
        const uint8_t l_high = static_cast<uint8_t>(l >> 4);
        scales_l[ib / 2] = static_cast<uint8_t>(scales_l[ib / 2] | (l_low << (4 * (ib % 2))));
        scales_h = static_cast<uint16_t>(scales_h | (l_high << (2 * (ib % 8))));
      }
      StoreHalf(d, o);
      std::memcpy(o + 2, &scales_h, 2);
      std::memcpy(o + 4, scales_l, 4);
    }
  }
}

inline void QuantizeIq4Nl(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  QuantizeIq4<false>(x, out, n, imatrix);
}
inline void QuantizeIq4Xs(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  QuantizeIq4<true>(x, out, n, imatrix);
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_QUANTIZE_IQ4_INL_H_
