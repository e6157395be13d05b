// Per-target scale searches of the K-quant quantizers, one group (sub-block)
// per SIMD lane: lane g runs quants/quant_search.cc's MakeQkxQuants or
// MakeQxQuants on its own group, every float operation in the reference's
// order, so the chosen scales and codes are the reference's bit for bit
// (sums are accumulated per lane in element order, never reassociated;
// conditionals become per-lane selects with the reference's comparisons,
// which are false for NaN like C's).
//
// Groups are stored transposed in a tile: element i of lane g at
// t[i * Lanes + g].

#if defined(GGUFKIT_DEQUANT_QUANTIZE_SEARCH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_QUANTIZE_SEARCH_INL_H_
#undef GGUFKIT_DEQUANT_QUANTIZE_SEARCH_INL_H_
#else
#define GGUFKIT_DEQUANT_QUANTIZE_SEARCH_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ggufkit/dequant/quantize_common-inl.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

inline constexpr size_t kMaxLanes = HWY_MAX_BYTES / sizeof(float);

// Transposes `groups` (<= Lanes) groups of kN floats, group g at
// src + g * stride, into t; lanes past `groups` get zeros.
template <int kN>
HWY_INLINE void GatherTile(const float* src, size_t stride, size_t groups, float* t) {
  const size_t lanes = hn::Lanes(DF());
  for (size_t g = 0; g < lanes; ++g) {
    if (g < groups) {
      const float* s = src + g * stride;
      for (int i = 0; i < kN; ++i) t[static_cast<size_t>(i) * lanes + g] = s[i];
    } else {
      for (int i = 0; i < kN; ++i) t[static_cast<size_t>(i) * lanes + g] = 0.0f;
    }
  }
}

// GatherTile for a full tile (Lanes groups) by vector loads and in-register
// transposes of Lanes x Lanes blocks: log2(Lanes) rounds of ConcatEven /
// ConcatOdd, each of which rotates the bits of (row, lane) right by one, so
// that after the last round row and lane have swapped. Needs kN to be a
// multiple of Lanes; otherwise (and for scalable vectors) GatherTile.
template <int kN>
HWY_INLINE void TransposeTile(const float* HWY_RESTRICT src, size_t stride, float* HWY_RESTRICT t) {
#if HWY_HAVE_SCALABLE
  GatherTile<kN>(src, stride, hn::Lanes(DF()), t);
#else
  const DF df;
  constexpr size_t N = hn::MaxLanes(DF());
  if constexpr (N > static_cast<size_t>(kN) || kN % N != 0) {
    GatherTile<kN>(src, stride, N, t);
  } else {
    for (size_t c0 = 0; c0 < static_cast<size_t>(kN); c0 += N) {
      VF v[N];
      VF u[N];
      for (size_t g = 0; g < N; ++g) v[g] = hn::LoadU(df, src + g * stride + c0);
      for (size_t round = 1; round < N; round *= 2) {
        for (size_t j = 0; j < N / 2; ++j) {
          u[j] = hn::ConcatEven(df, v[2 * j + 1], v[2 * j]);
          u[N / 2 + j] = hn::ConcatOdd(df, v[2 * j + 1], v[2 * j]);
        }
        for (size_t j = 0; j < N; ++j) v[j] = u[j];
      }
      for (size_t i = 0; i < N; ++i) hn::Store(v[i], df, t + (c0 + i) * N);
    }
  }
#endif
}

// Inverse of GatherTile for int32 codes: group g's kN codes to
// dst[g * kN + i] as bytes.
template <int kN>
HWY_INLINE void ScatterCodes(const int32_t* t, size_t groups, uint8_t* dst) {
  const size_t lanes = hn::Lanes(DF());
  for (size_t g = 0; g < groups; ++g) {
    for (int i = 0; i < kN; ++i) {
      dst[g * kN + static_cast<size_t>(i)] = static_cast<uint8_t>(t[static_cast<size_t>(i) * lanes + g]);
    }
  }
}

HWY_INLINE VI ClampV(VI v, int lo, int hi) {
  const DI di;
  return hn::Max(hn::Set(di, lo), hn::Min(hn::Set(di, hi), v));
}

// MakeQkxQuants (quant_search.cc) per lane, weights given: xt, wt tiles of kN
// rows; codes to Lt, results to scale_out / the_min_out (Lanes each).
// kLeConstant: the qkx3 form (a group with max <= min is constant).
template <int kN, bool kUseMad, bool kLeConstant>
HWY_INLINE void SearchQkx(const float* HWY_RESTRICT xt, const float* HWY_RESTRICT wt, int nmax,
                          float rmin, float rdelta, int nstep, int32_t* HWY_RESTRICT Lt,
                          float* scale_out, float* the_min_out) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  const VF zero = hn::Zero(df);
  VF min = hn::Load(df, xt);
  VF max = min;
  VF sum_w = hn::Load(df, wt);
  VF sum_x = hn::Mul(sum_w, min);
  for (int i = 1; i < kN; ++i) {
    const VF x = hn::Load(df, xt + i * lanes);
    const VF w = hn::Load(df, wt + i * lanes);
    min = hn::IfThenElse(hn::Lt(x, min), x, min);
    max = hn::IfThenElse(hn::Gt(x, max), x, max);
    sum_w = hn::Add(sum_w, w);
    sum_x = hn::Add(sum_x, hn::Mul(w, x));
  }
  min = hn::IfThenElse(hn::Gt(min, zero), zero, min);
  const MF constant = kLeConstant ? hn::Le(max, min) : hn::Eq(max, min);
  VF iscale = hn::Div(hn::Set(df, static_cast<float>(nmax)), hn::Sub(max, min));
  VF scale = hn::Div(hn::Set(df, 1.0f), iscale);
  VF best_error = zero;
  for (int i = 0; i < kN; ++i) {
    const VF x = hn::Load(df, xt + i * lanes);
    const VF w = hn::Load(df, wt + i * lanes);
    const VI l = ClampV(NearestIntV(hn::Mul(iscale, hn::Sub(x, min))), 0, nmax);
    hn::Store(l, di, Lt + i * lanes);
    VF diff = hn::Sub(hn::Add(hn::Mul(scale, ToFloat(l)), min), x);
    diff = kUseMad ? hn::Abs(diff) : hn::Mul(diff, diff);
    best_error = hn::Add(best_error, hn::Mul(w, diff));
  }
  // The trial levels, as floats (what the error loop needs).
  HWY_ALIGN float Laux[kN * kMaxLanes];
  for (int is = 0; is <= nstep; ++is) {
    const float numerator = rmin + rdelta * static_cast<float>(is) + static_cast<float>(nmax);
    // max - min with the min of the best fit so far, as in the reference.
    iscale = hn::Div(hn::Set(df, numerator), hn::Sub(max, min));
    VF sum_l = zero, sum_l2 = zero, sum_xl = zero;
    for (int i = 0; i < kN; ++i) {
      const VF x = hn::Load(df, xt + i * lanes);
      const VF w = hn::Load(df, wt + i * lanes);
      const VF fl = ToFloat(ClampV(NearestIntV(hn::Mul(iscale, hn::Sub(x, min))), 0, nmax));
      hn::Store(fl, df, Laux + i * lanes);
      const VF wl = hn::Mul(w, fl);
      sum_l = hn::Add(sum_l, wl);
      sum_l2 = hn::Add(sum_l2, hn::Mul(wl, fl));
      sum_xl = hn::Add(sum_xl, hn::Mul(wl, x));
    }
    const VF D = hn::Sub(hn::Mul(sum_w, sum_l2), hn::Mul(sum_l, sum_l));
    const MF d_pos = hn::AndNot(constant, hn::Gt(D, zero));
    if (hn::AllFalse(df, d_pos)) continue;
    VF this_scale = hn::Div(hn::Sub(hn::Mul(sum_w, sum_xl), hn::Mul(sum_x, sum_l)), D);
    VF this_min = hn::Div(hn::Sub(hn::Mul(sum_l2, sum_x), hn::Mul(sum_l, sum_xl)), D);
    const MF min_pos = hn::Gt(this_min, zero);
    this_min = hn::IfThenElse(min_pos, zero, this_min);
    this_scale = hn::IfThenElse(min_pos, hn::Div(sum_xl, sum_l2), this_scale);
    VF cur_error = zero;
    for (int i = 0; i < kN; ++i) {
      const VF x = hn::Load(df, xt + i * lanes);
      const VF w = hn::Load(df, wt + i * lanes);
      const VF fl = hn::Load(df, Laux + i * lanes);
      VF diff = hn::Sub(hn::Add(hn::Mul(this_scale, fl), this_min), x);
      diff = kUseMad ? hn::Abs(diff) : hn::Mul(diff, diff);
      cur_error = hn::Add(cur_error, hn::Mul(w, diff));
    }
    const MF better = hn::And(d_pos, hn::Lt(cur_error, best_error));
    if (hn::AllFalse(df, better)) continue;
    const MI better_i = hn::RebindMask(di, better);
    for (int i = 0; i < kN; ++i) {
      const VI old_l = hn::Load(di, Lt + i * lanes);
      const VI new_l = hn::ConvertTo(di, hn::Load(df, Laux + i * lanes));
      hn::Store(hn::IfThenElse(better_i, new_l, old_l), di, Lt + i * lanes);
    }
    best_error = hn::IfThenElse(better, cur_error, best_error);
    scale = hn::IfThenElse(better, this_scale, scale);
    min = hn::IfThenElse(better, this_min, min);
  }
  const MI constant_i = hn::RebindMask(di, constant);
  if (!hn::AllFalse(df, constant)) {
    for (int i = 0; i < kN; ++i) {
      hn::Store(hn::IfThenZeroElse(constant_i, hn::Load(di, Lt + i * lanes)), di, Lt + i * lanes);
    }
  }
  hn::Store(hn::IfThenZeroElse(constant, scale), df, scale_out);
  hn::Store(hn::Neg(min), df, the_min_out);
}

// MakeQxQuants with rmse_type 1 (quant_search.cc) per lane: weights wt, or
// x^2 when wt is null. Codes (0 .. 2 nmax - 1) to Lt, scale to scale_out.
template <int kN>
HWY_INLINE void SearchQx(const float* HWY_RESTRICT xt, const float* HWY_RESTRICT wt, int nmax,
                         int32_t* HWY_RESTRICT Lt, float* scale_out) {
  const DF df;
  const DI di;
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
  const VI vnmax = hn::Set(di, nmax);
  HWY_ALIGN int32_t Laux[kN * kMaxLanes];
  // Per element, constant over the passes: w and w * x (the reference's
  // (w * x) * l and (w * l) * l keep their order).
  HWY_ALIGN float w_tile[kN * kMaxLanes];
  HWY_ALIGN float wx_tile[kN * kMaxLanes];
  for (int i = 0; i < kN; ++i) {
    const VF x = hn::Load(df, xt + i * lanes);
    const VF w = wt ? hn::Load(df, wt + i * lanes) : hn::Mul(x, x);
    hn::Store(w, df, w_tile + i * lanes);
    hn::Store(hn::Mul(w, x), df, wx_tile + i * lanes);
  }
  // One pass: signed levels for iscale to `codes`, and the two weighted sums.
  auto pass = [&](VF iscale, int32_t* codes, VF* sumlx, VF* suml2) {
    VF slx = zero, sl2 = zero;
    for (int i = 0; i < kN; ++i) {
      const VF x = hn::Load(df, xt + i * lanes);
      const VI l = ClampV(NearestIntV(hn::Mul(iscale, x)), -nmax, nmax - 1);
      hn::Store(l, di, codes + i * lanes);
      const VF fl = ToFloat(l);
      slx = hn::Add(slx, hn::Mul(hn::Load(df, wx_tile + i * lanes), fl));
      sl2 = hn::Add(sl2, hn::Mul(hn::Mul(hn::Load(df, w_tile + i * lanes), fl), fl));
    }
    *sumlx = slx;
    *suml2 = sl2;
  };
  VF sumlx, suml2;
  pass(hn::Div(hn::Set(df, static_cast<float>(-nmax)), max), Lt, &sumlx, &suml2);
  // suml2 != 0 (true for NaN, as in C).
  VF scale = hn::IfThenElseZero(hn::Not(hn::Eq(suml2, zero)), hn::Div(sumlx, suml2));
  VF best = hn::Mul(scale, sumlx);
  for (int is = -9; is <= 9; ++is) {
    if (is == 0) continue;
    const float numerator = -(static_cast<float>(nmax) + 0.1f * static_cast<float>(is));
    pass(hn::Div(hn::Set(df, numerator), max), Laux, &sumlx, &suml2);
    const MF better = hn::AndNot(
        small, hn::And(hn::Gt(suml2, zero), hn::Gt(hn::Mul(sumlx, sumlx), hn::Mul(best, suml2))));
    if (hn::AllFalse(df, better)) continue;
    const MI better_i = hn::RebindMask(di, better);
    for (int i = 0; i < kN; ++i) {
      const VI old_l = hn::Load(di, Lt + i * lanes);
      hn::Store(hn::IfThenElse(better_i, hn::Load(di, Laux + i * lanes), old_l), di, Lt + i * lanes);
    }
    scale = hn::IfThenElse(better, hn::Div(sumlx, suml2), scale);
    best = hn::IfThenElse(better, hn::Mul(scale, sumlx), best);
  }
  for (int i = 0; i < kN; ++i) {
    hn::Store(hn::Add(hn::Load(di, Lt + i * lanes), vnmax), di, Lt + i * lanes);
  }
  if (!hn::AllFalse(df, small)) {
    const MI small_i = hn::RebindMask(di, small);
    for (int i = 0; i < kN; ++i) {
      hn::Store(hn::IfThenZeroElse(small_i, hn::Load(di, Lt + i * lanes)), di, Lt + i * lanes);
    }
  }
  hn::Store(hn::IfThenZeroElse(small, scale), df, scale_out);
}

// MakeQ3Quants' coordinate descent (quant_search.cc, do_rmse) for one group
// of kN at x, from the first pass's iscale and sums; codes as floats
// -nmax .. nmax - 1 to l, returns the scale.
//
// The group lies in its natural layout, `Lanes` elements per vector. One
// evaluation computes every remaining element's step of the reference's
// pass with the current sums at once; the reference's first element whose
// new code is accepted is the first lane accepted here (the elements before
// it saw exactly these sums and kept their codes). That change is applied to
// the sums as the reference does, and the elements after it are evaluated
// again; a pass ends when no remaining element's change is accepted.
//
// Most steps keep their code, and that is decided without the division: with
// slx >= 2^-120 and |x * sl2 - l * slx| (rounded) below slx / 2 less 512
// units in its last place (exact integer arithmetic on the bits, at most
// (1/2 - 2^-17) slx), x * sl2 / slx lies within 1/2 - 2^-18 of the code l
// (|l| <= 4; the roundings add at most 2^-21), so the reference's NearestInt
// gives l again (the clamp keeps it). Only when some element fails that test
// (NaN, Inf, tiny sums and near-ties fail it too) are the divisions done.
template <int kN>
HWY_INLINE float DescendQ3(const float* HWY_RESTRICT x, float iscale, float sumlx, float suml2,
                           int nmax, float* HWY_RESTRICT l) {
  const hn::CappedTag<float, kN> d;
  const hn::RebindToSigned<decltype(d)> di;
  using V = hn::Vec<decltype(d)>;
  using M = hn::Mask<decltype(d)>;
  constexpr size_t kMaxV = hn::MaxLanes(d);
  const size_t N = hn::Lanes(d);
  const size_t nv = static_cast<size_t>(kN) / N;
  static_assert(kN % kMaxV == 0, "whole vectors");
  constexpr size_t kVecs = kN / kMaxV;
  const V zero = hn::Zero(d);
  const V magic = hn::Set(d, 12582912.f);
  const auto mant = hn::Set(di, 0x007FFFFF);
  const auto bias = hn::Set(di, 0x00400000);
  // The reference's clamp(NearestInt(f), -nmax, nmax - 1), as a float.
  auto nearest_clamped = [&](V f) HWY_ATTR {
    const auto bits = hn::BitCast(di, hn::Add(f, magic));
    const auto i = hn::Sub(hn::And(bits, mant), bias);
    return hn::ConvertTo(d, hn::Max(hn::Set(di, -nmax), hn::Min(hn::Set(di, nmax - 1), i)));
  };
  const V vis = hn::Set(d, iscale);
  V xv[kVecs], w[kVecs], wx[kVecs], lv[kVecs], a[kVecs], b[kVecs];
  for (size_t v = 0; v < nv; ++v) {
    xv[v] = hn::LoadU(d, x + v * N);
    lv[v] = nearest_clamped(hn::Mul(vis, xv[v]));
    w[v] = hn::Mul(xv[v], xv[v]);
    wx[v] = hn::Mul(w[v], xv[v]);
    a[v] = hn::Mul(wx[v], lv[v]);
    b[v] = hn::Mul(hn::Mul(w[v], lv[v]), lv[v]);
  }
  const V kTiny = hn::Set(d, 7.52316385e-37f);  // 2^-120
  const auto kHalfBits = hn::Set(di, 0x00800000 + 512);
  for (int itry = 0; itry < 5; ++itry) {
    bool changed = false;
    for (size_t v = 0; v < nv; ++v) {
      size_t start = 0;
      for (;;) {
        const V S = hn::Set(d, sumlx);
        const V T = hn::Set(d, suml2);
        const V slx = hn::Sub(S, a[v]);
        const V sl2 = hn::Sub(T, b[v]);
        const M valid = hn::AndNot(hn::FirstN(d, start), hn::Gt(slx, zero));
        const V num = hn::Mul(xv[v], sl2);
        const V off = hn::Abs(hn::Sub(num, hn::Mul(lv[v], slx)));
        const V bound = hn::BitCast(d, hn::Sub(hn::BitCast(di, slx), kHalfBits));
        const M keeps = hn::And(hn::Gt(slx, kTiny), hn::Lt(off, bound));
        const M need = hn::AndNot(keeps, valid);
        if (hn::AllFalse(d, need)) break;
        const V fnew = nearest_clamped(hn::Div(num, slx));
        const M differs = hn::And(need, hn::Not(hn::Eq(fnew, lv[v])));
        if (hn::AllFalse(d, differs)) break;
        const V an = hn::Mul(wx[v], fnew);
        const V bn = hn::Mul(hn::Mul(w[v], fnew), fnew);
        const V slx2 = hn::Add(slx, an);
        const V sl22 = hn::Add(sl2, bn);
        const M accept = hn::And(
            differs, hn::And(hn::Gt(sl22, zero), hn::Gt(hn::Mul(hn::Mul(slx2, slx2), T),
                                                        hn::Mul(hn::Mul(S, S), sl22))));
        const intptr_t j = hn::FindFirstTrue(d, accept);
        if (j < 0) break;
        const size_t ju = static_cast<size_t>(j);
        sumlx = hn::ExtractLane(slx2, ju);
        suml2 = hn::ExtractLane(sl22, ju);
        const M at = hn::AndNot(hn::FirstN(d, ju), hn::FirstN(d, ju + 1));
        lv[v] = hn::IfThenElse(at, fnew, lv[v]);
        a[v] = hn::IfThenElse(at, an, a[v]);
        b[v] = hn::IfThenElse(at, bn, b[v]);
        changed = true;
        start = ju + 1;
        if (start == N) break;
      }
    }
    if (!changed) break;
  }
  for (size_t v = 0; v < nv; ++v) hn::StoreU(lv[v], d, l + v * N);
  return suml2 > 0.0f ? sumlx / suml2 : 0.0f;
}

// The first evaluation of DescendQ3 without a branch: stores the group's
// first-pass codes to l and says whether any element of the first pass fails
// the division-free test (only then can the descent change anything; else
// the codes stay and the scale is sumlx / suml2).
template <int kN>
HWY_INLINE bool Q3NeedsDescent(const float* HWY_RESTRICT x, float iscale, float sumlx,
                               float suml2, int nmax, float* HWY_RESTRICT l) {
  const hn::CappedTag<float, kN> d;
  const hn::RebindToSigned<decltype(d)> di;
  using V = hn::Vec<decltype(d)>;
  using M = hn::Mask<decltype(d)>;
  const size_t N = hn::Lanes(d);
  const V zero = hn::Zero(d);
  const V magic = hn::Set(d, 12582912.f);
  const auto mant = hn::Set(di, 0x007FFFFF);
  const auto bias = hn::Set(di, 0x00400000);
  const V vis = hn::Set(d, iscale);
  const V S = hn::Set(d, sumlx);
  const V T = hn::Set(d, suml2);
  const V kTiny = hn::Set(d, 7.52316385e-37f);  // 2^-120
  const auto kHalfBits = hn::Set(di, 0x00800000 + 512);
  M need = hn::FirstN(d, 0);
  for (size_t v = 0; v < static_cast<size_t>(kN); v += N) {
    const V xv = hn::LoadU(d, x + v);
    const auto bits = hn::BitCast(di, hn::Add(hn::Mul(vis, xv), magic));
    const auto i = hn::Sub(hn::And(bits, mant), bias);
    const V lv = hn::ConvertTo(d, hn::Max(hn::Set(di, -nmax), hn::Min(hn::Set(di, nmax - 1), i)));
    hn::StoreU(lv, d, l + v);
    const V w = hn::Mul(xv, xv);
    const V slx = hn::Sub(S, hn::Mul(hn::Mul(w, xv), lv));
    const V sl2 = hn::Sub(T, hn::Mul(hn::Mul(w, lv), lv));
    const V off = hn::Abs(hn::Sub(hn::Mul(xv, sl2), hn::Mul(lv, slx)));
    const V bound = hn::BitCast(d, hn::Sub(hn::BitCast(di, slx), kHalfBits));
    const M keeps = hn::And(hn::Gt(slx, kTiny), hn::Lt(off, bound));
    need = hn::Or(need, hn::AndNot(keeps, hn::Gt(slx, zero)));
  }
  return !hn::AllFalse(d, need);
}

// DescendQ3 for the groups work[0 .. n_work) of a chunk (group g at
// x + g * kN, its first-pass sums and iscale at sumlx[g], suml2[g],
// iscale[g]; codes to codes + g * kN, scale to scale_out[g]), kQ3Cursors
// groups at once. Each group's descent is a serial chain (every evaluation
// waits for the sums the previous one accepted), so the groups advance by
// turns, one evaluation each, and their chains overlap. An evaluation is
// DescendQ3's, for the vector holding element `start` (the lanes from it
// on), always with the division; it has no branch but the end of a group.
inline constexpr size_t kQ3Cursors = 4;
template <int kN>
HWY_INLINE void Q3Descents(const float* HWY_RESTRICT x, const size_t* work, size_t n_work,
                           const float* sumlx, const float* suml2, const float* iscale, int nmax,
                           float* HWY_RESTRICT codes, float* HWY_RESTRICT scale_out) {
  const hn::CappedTag<float, kN> d;
  const hn::RebindToSigned<decltype(d)> di;
  using V = hn::Vec<decltype(d)>;
  using M = hn::Mask<decltype(d)>;
  const size_t N = hn::Lanes(d);
  const V zero = hn::Zero(d);
  const V magic = hn::Set(d, 12582912.f);
  const auto mant = hn::Set(di, 0x007FFFFF);
  const auto bias = hn::Set(di, 0x00400000);
  auto nearest_clamped = [&](V f) HWY_ATTR {
    const auto bits = hn::BitCast(di, hn::Add(f, magic));
    const auto i = hn::Sub(hn::And(bits, mant), bias);
    return hn::ConvertTo(d, hn::Max(hn::Set(di, -nmax), hn::Min(hn::Set(di, nmax - 1), i)));
  };
  // Per cursor: x, x^2, x^3 (as the reference's w * x), the codes and the
  // two terms of each element in the sums.
  HWY_ALIGN float xs[kQ3Cursors][kN], ws[kQ3Cursors][kN], wxs[kQ3Cursors][kN];
  HWY_ALIGN float ls[kQ3Cursors][kN], as[kQ3Cursors][kN], bs[kQ3Cursors][kN];
  HWY_ALIGN float lane_buf[hn::MaxLanes(d) + 1];
  float slx_c[kQ3Cursors], sl2_c[kQ3Cursors];
  size_t g_c[kQ3Cursors], start_c[kQ3Cursors];
  int itry_c[kQ3Cursors];
  size_t changed_c[kQ3Cursors];
  bool live_c[kQ3Cursors];
  size_t next = 0;
  auto load = [&](size_t c) HWY_ATTR {
    live_c[c] = next < n_work;
    if (!live_c[c]) return;
    const size_t g = work[next++];
    g_c[c] = g;
    slx_c[c] = sumlx[g];
    sl2_c[c] = suml2[g];
    start_c[c] = 0;
    itry_c[c] = 0;
    changed_c[c] = 0;
    const V vis = hn::Set(d, iscale[g]);
    for (size_t v = 0; v < static_cast<size_t>(kN); v += N) {
      const V xv = hn::LoadU(d, x + g * kN + v);
      const V lv = nearest_clamped(hn::Mul(vis, xv));
      const V w = hn::Mul(xv, xv);
      const V wx = hn::Mul(w, xv);
      hn::Store(xv, d, xs[c] + v);
      hn::Store(w, d, ws[c] + v);
      hn::Store(wx, d, wxs[c] + v);
      hn::Store(lv, d, ls[c] + v);
      hn::Store(hn::Mul(wx, lv), d, as[c] + v);
      hn::Store(hn::Mul(hn::Mul(w, lv), lv), d, bs[c] + v);
    }
  };
  size_t live = 0;
  for (size_t c = 0; c < kQ3Cursors; ++c) {
    load(c);
    live += live_c[c] ? 1 : 0;
  }
  while (live != 0) {
    for (size_t c = 0; c < kQ3Cursors; ++c) {
      if (!live_c[c]) continue;
      const size_t start = start_c[c];
      const size_t v0 = start - start % N;  // the vector holding `start`
      const V S = hn::Set(d, slx_c[c]);
      const V T = hn::Set(d, sl2_c[c]);
      const V xv = hn::Load(d, xs[c] + v0);
      const V w = hn::Load(d, ws[c] + v0);
      const V wx = hn::Load(d, wxs[c] + v0);
      const V lv = hn::Load(d, ls[c] + v0);
      const V slx = hn::Sub(S, hn::Load(d, as[c] + v0));
      const V sl2 = hn::Sub(T, hn::Load(d, bs[c] + v0));
      const M valid = hn::AndNot(hn::FirstN(d, start - v0), hn::Gt(slx, zero));
      const V fnew = nearest_clamped(hn::Div(hn::Mul(xv, sl2), slx));
      const M differs = hn::And(valid, hn::Not(hn::Eq(fnew, lv)));
      const V an = hn::Mul(wx, fnew);
      const V bn = hn::Mul(hn::Mul(w, fnew), fnew);
      const V slx2 = hn::Add(slx, an);
      const V sl22 = hn::Add(sl2, bn);
      const M accept = hn::And(
          differs, hn::And(hn::Gt(sl22, zero), hn::Gt(hn::Mul(hn::Mul(slx2, slx2), T),
                                                      hn::Mul(hn::Mul(S, S), sl22))));
      // The first accepted lane jj, or N for none; no branch on it (the
      // outcome is unpredictable and a mispredicted branch would drain the
      // other groups' work in flight).
      uint8_t mask_bytes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      hn::StoreMaskBits(d, accept, mask_bytes);
      uint64_t accept_bits;
      std::memcpy(&accept_bits, mask_bytes, 8);
      const size_t jj = hwy::Num0BitsBelowLS1Bit_Nonzero64(accept_bits | (uint64_t{1} << N));
      const auto at = hn::Eq(hn::Iota(di, 0), hn::Set(di, static_cast<int32_t>(jj)));
      const auto at_f = hn::RebindMask(d, at);
      hn::Store(hn::IfThenElse(at_f, fnew, lv), d, ls[c] + v0);
      hn::Store(hn::IfThenElse(at_f, an, hn::Load(d, as[c] + v0)), d, as[c] + v0);
      hn::Store(hn::IfThenElse(at_f, bn, hn::Load(d, bs[c] + v0)), d, bs[c] + v0);
      // The sums: lane jj of the candidates, or the old sums (lane N).
      hn::StoreU(slx2, d, lane_buf);
      lane_buf[N] = slx_c[c];
      slx_c[c] = lane_buf[jj];
      hn::StoreU(sl22, d, lane_buf);
      lane_buf[N] = sl2_c[c];
      sl2_c[c] = lane_buf[jj];
      const size_t has = static_cast<size_t>(jj != N);
      const size_t next_start = v0 + HWY_MIN(jj + 1, N);
      // End of a pass: another when this one changed a code (at most 5).
      const size_t pass_end = static_cast<size_t>(next_start == static_cast<size_t>(kN));
      const size_t changed = changed_c[c] | has;
      const bool done = (pass_end & (static_cast<size_t>(itry_c[c] >= 4) | (changed ^ 1))) != 0;
      start_c[c] = next_start & (static_cast<size_t>(kN) - 1);
      itry_c[c] += static_cast<int>(pass_end);
      changed_c[c] = changed & (pass_end ^ 1);
      if (done) {
        const size_t g = g_c[c];
        for (size_t v = 0; v < static_cast<size_t>(kN); v += N) {
          hn::StoreU(hn::Load(d, ls[c] + v), d, codes + g * kN + v);
        }
        scale_out[g] = sl2_c[c] > 0.0f ? slx_c[c] / sl2_c[c] : 0.0f;
        load(c);
        live -= live_c[c] ? 0 : 1;
      }
    }
  }
}

// MakeQ3Quants with do_rmse (quant_search.cc) for the `groups` groups of kN
// at src (group g at src + g * kN), kTiles tiles at a time (tile k of xt holds
// groups k * Lanes ..., transposed): codes as floats -nmax .. nmax - 1 (the
// reference's L[i] - nmax) to codes + g * kN, scales to scale_out[g].
//
// The first pass (max |x|, initial codes and the two sums, accumulated in
// element order) runs one group per lane on the tiles. The coordinate
// descent then runs per group on its natural layout (DescendQ3).
template <int kN, int kTiles>
HWY_INLINE void SearchQ3(const float* HWY_RESTRICT xt, const float* HWY_RESTRICT src,
                         size_t groups, int nmax, float* HWY_RESTRICT codes,
                         float* HWY_RESTRICT scale_out, float* sumlx, float* suml2, float* iscale,
                         size_t g_base, size_t* work, size_t* n_work) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  const size_t tile = static_cast<size_t>(kN) * lanes;
  static_assert(kN % 4 == 0, "max |x| runs as four chains of kN / 4");
  const VF zero = hn::Zero(df);
  HWY_ALIGN float sumlx_out[kTiles * kMaxLanes];
  HWY_ALIGN float suml2_out[kTiles * kMaxLanes];
  HWY_ALIGN float iscale_out[kTiles * kMaxLanes];
  HWY_ALIGN float amax_out[kTiles * kMaxLanes];
  for (int k = 0; k < kTiles; ++k) {
    // The first element of largest |x| (NaN never wins), as four chains of
    // quarters merged in order: a later quarter wins only when strictly
    // larger, so the first maximum is kept as in the reference's loop.
    const float* x_k = xt + k * tile;
    VF amax_q[4], max_q[4];
    for (int q = 0; q < 4; ++q) {
      amax_q[q] = zero;
      max_q[q] = zero;
    }
    for (int i = 0; i < kN / 4; ++i) {
      for (int q = 0; q < 4; ++q) {
        const VF x = hn::Load(df, x_k + (q * (kN / 4) + i) * lanes);
        const VF ax = hn::Abs(x);
        const MF gt = hn::Gt(ax, amax_q[q]);
        amax_q[q] = hn::IfThenElse(gt, ax, amax_q[q]);
        max_q[q] = hn::IfThenElse(gt, x, max_q[q]);
      }
    }
    for (int q = 0; q < 4; q += 2) {
      const MF gt = hn::Gt(amax_q[q + 1], amax_q[q]);
      amax_q[q] = hn::IfThenElse(gt, amax_q[q + 1], amax_q[q]);
      max_q[q] = hn::IfThenElse(gt, max_q[q + 1], max_q[q]);
    }
    const MF gt2 = hn::Gt(amax_q[2], amax_q[0]);
    const VF amax = hn::IfThenElse(gt2, amax_q[2], amax_q[0]);
    const VF max = hn::IfThenElse(gt2, max_q[2], max_q[0]);
    const VF iscale = hn::Div(hn::Set(df, static_cast<float>(-nmax)), max);
    VF slx = zero, sl2 = zero;
    for (int i = 0; i < kN; ++i) {
      const VF x = hn::Load(df, x_k + i * lanes);
      const VF fl = ToFloat(ClampV(NearestIntV(hn::Mul(iscale, x)), -nmax, nmax - 1));
      const VF w = hn::Mul(x, x);
      slx = hn::Add(slx, hn::Mul(hn::Mul(w, x), fl));
      sl2 = hn::Add(sl2, hn::Mul(hn::Mul(w, fl), fl));
    }
    hn::Store(slx, df, sumlx_out + k * lanes);
    hn::Store(sl2, df, suml2_out + k * lanes);
    hn::Store(iscale, df, iscale_out + k * lanes);
    hn::Store(amax, df, amax_out + k * lanes);
  }
  // Groups whose descent can change something, found without a branch per
  // group (most groups keep their first-pass codes), to work[] for
  // Q3Descents (as g_base + g).
  for (size_t g = 0; g < groups; ++g) {
    float* l = codes + g * kN;
    if (amax_out[g] < 1e-15f) {  // code 0 (l = -nmax), scale 0
      for (int i = 0; i < kN; ++i) l[i] = static_cast<float>(-nmax);
      scale_out[g] = 0.0f;
      continue;
    }
    const float slx = sumlx_out[g], sl2 = suml2_out[g];
    sumlx[g] = slx;
    suml2[g] = sl2;
    iscale[g] = iscale_out[g];
    work[*n_work] = g_base + g;
    *n_work += Q3NeedsDescent<kN>(src + g * kN, iscale_out[g], slx, sl2, nmax, l) ? 1 : 0;
    scale_out[g] = sl2 > 0.0f ? slx / sl2 : 0.0f;
  }
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_QUANTIZE_SEARCH_INL_H_
