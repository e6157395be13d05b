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
#include "hwy/cache_control.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

inline constexpr size_t kMaxLanes = HWY_MAX_BYTES / sizeof(float);

// Transposes `groups` (<= Lanes) groups of kN floats, group g at row(g),
// into t; lanes past `groups` get zeros.
template <int kN, class Row>
HWY_INLINE void GatherTileRows(const Row& row, size_t groups, float* t) {
  const size_t lanes = hn::Lanes(DF());
  for (size_t g = 0; g < lanes; ++g) {
    if (g < groups) {
      const float* s = row(g);
      for (int i = 0; i < kN; ++i) t[static_cast<size_t>(i) * lanes + g] = s[i];
    } else {
      for (int i = 0; i < kN; ++i) t[static_cast<size_t>(i) * lanes + g] = 0.0f;
    }
  }
}

// GatherTileRows with group g at src + g * stride.
template <int kN>
HWY_INLINE void GatherTile(const float* src, size_t stride, size_t groups, float* t) {
  GatherTileRows<kN>([&](size_t g) { return src + g * stride; }, groups, t);
}

// GatherTileRows for a full tile (Lanes groups) by vector loads and
// in-register transposes of Lanes x Lanes blocks: log2(Lanes) rounds of
// ConcatEven / ConcatOdd, each of which rotates the bits of (row, lane) right
// by one, so that after the last round row and lane have swapped. Needs kN to
// be a multiple of Lanes; otherwise (and for scalable vectors) GatherTileRows.
template <int kN, class Row>
HWY_INLINE void TransposeTileRows(const Row& row, float* HWY_RESTRICT t) {
#if HWY_HAVE_SCALABLE
  GatherTileRows<kN>(row, hn::Lanes(DF()), t);
#else
  const DF df;
  constexpr size_t N = hn::MaxLanes(DF());
  if constexpr (N > static_cast<size_t>(kN) || kN % N != 0) {
    GatherTileRows<kN>(row, N, t);
  } else {
    for (size_t c0 = 0; c0 < static_cast<size_t>(kN); c0 += N) {
      VF v[N];
      VF u[N];
      for (size_t g = 0; g < N; ++g) v[g] = hn::LoadU(df, row(g) + c0);
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

// TransposeTileRows with group g at src + g * stride.
template <int kN>
HWY_INLINE void TransposeTile(const float* HWY_RESTRICT src, size_t stride, float* HWY_RESTRICT t) {
  TransposeTileRows<kN>([&](size_t g) { return src + g * stride; }, t);
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

// MakeQ3Quants with do_rmse (quant_search.cc) per lane, for kTiles tiles at
// once (tile k: xt + k * kN * Lanes, codes to l_tile + k * kN * Lanes, scales
// to scale_out + k * Lanes): weights x^2, then up to 5 rounds of coordinate
// descent; a lane stops after its first round without a change, as the
// reference's loop breaks. Codes are stored as floats -nmax .. nmax - 1 (the
// reference's L[i] - nmax). The first prefetch_lines (at most kTiles * kN)
// 64-byte lines at prefetch are prefetched, one per element of the first
// pass (Q3Searcher's next batch). kPreTest: no descent, only its first
// round's tests with the first pass's sums; need[k] gets the lanes of tile k
// that fail one (the others' results are final: see Q3Searcher).
//
// The descent's step i recomputes code i as NearestInt(x * sl2 / slx) with
// sums that depend on every earlier step, a serial chain through a division.
// Mostly the code does not change, and that is decided without the division:
// with slx >= 2^-120 and |x * sl2 - l * slx| (rounded) below slx / 2 less 512
// units in its last place (exact integer arithmetic on the bits, at most
// (1/2 - 2^-17) slx), x * sl2 / slx lies within 1/2 - 2^-18 of the code l
// (|l| <= 4; the roundings add at most 2^-21), so the reference's NearestInt
// gives l again (the clamp keeps it). Only when some lane fails that test (NaN, Inf, tiny
// sums and near-ties fail it too) is the step done as in the reference. The
// tiles are independent chains, interleaved step by step so that one tile's
// exact step overlaps the other's work.
//
// A group whose max (its first element of largest |x|) is positive never
// changes a code, so only the others run the descent: its iscale is negative,
// so every code l has the opposite sign of x or is 0, and every term (w * x)
// * l is <= 0 (or NaN). The sum of such terms, rounded after each addition,
// is <= each of them (rounding is monotonic), so slx = sumlx - (w * x) * l
// is <= 0 or NaN at every step and the reference's `slx > 0` never holds.
// The same holds with NaN or Inf among x, or x^2 overflowing: every term is
// then <= 0, -Inf or NaN, never +Inf (an Inf makes iscale -0, and its own
// code NearestInt(-0 * Inf), of the default NaN, is 0, so its term is NaN),
// and the sums are NaN or -Inf. A tile without such a group skips the
// descent.
template <int kN, int kTiles, bool kPreTest = false>
HWY_INLINE void SearchQ3(const float* HWY_RESTRICT xt, int nmax, float* HWY_RESTRICT l_tile,
                         float* scale_out, const char* prefetch = nullptr,
                         size_t prefetch_lines = 0, uint32_t* need = nullptr) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  const size_t tile = static_cast<size_t>(kN) * lanes;
  static_assert(kN % 4 == 0, "max |x| runs as four chains of kN / 4");
  const VF zero = hn::Zero(df);
  // Per element: the code l (in l_tile, as a float) and the reference's two
  // terms of it in the sums, (w * x) * l and (w * l) * l with w = x^2.
  // With two tiles (AVX-512), every tile array starts on a 1 KiB boundary, as
  // SearchTilesQ3's, so that no load of one array follows a store to another
  // at the same address modulo 4 KiB (measured: which arrays collide moved
  // with the stack layout, by up to 7 %); on one-tile targets 1 KiB measured
  // 3 % slower out of cache.
  alignas(kTiles > 1 ? 1024 : 64) float a_tile[kTiles * kN * kMaxLanes];
  alignas(kTiles > 1 ? 1024 : 64) float b_tile[kTiles * kN * kMaxLanes];
  VF sumlx[kTiles], suml2[kTiles];
  MF small[kTiles], active[kTiles];
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
    small[k] = hn::Lt(amax, hn::Set(df, 1e-15f));
    // Only a group whose max is negative can change a code (see above).
    active[k] = hn::AndNot(small[k], hn::Lt(max, zero));
    const VF iscale = hn::Div(hn::Set(df, static_cast<float>(-nmax)), max);
    VF slx = zero, sl2 = zero;
    for (int i = 0; i < kN; ++i) {
      const size_t at = k * tile + i * lanes;
      const size_t line = static_cast<size_t>(k * kN + i);
      if (line < prefetch_lines) hwy::Prefetch(prefetch + 64 * line);
      const VF x = hn::Load(df, xt + at);
      const VF fl = ToFloat(ClampV(NearestIntV(hn::Mul(iscale, x)), -nmax, nmax - 1));
      const VF w = hn::Mul(x, x);
      const VF a = hn::Mul(hn::Mul(w, x), fl);
      const VF b = hn::Mul(hn::Mul(w, fl), fl);
      hn::Store(fl, df, l_tile + at);
      hn::Store(a, df, a_tile + at);
      hn::Store(b, df, b_tile + at);
      slx = hn::Add(slx, a);
      sl2 = hn::Add(sl2, b);
    }
    sumlx[k] = slx;
    suml2[k] = sl2;
  }
  const VF kTiny = hn::Set(df, 7.52316385e-37f);  // 2^-120
  const VI kHalfBits = hn::Set(di, 0x00800000 + 512);
  MF changed[kTiles];
  // Step i of tile k up to its test: the lanes that must take the
  // reference's step (slx > 0 and the test failed).
  auto must_step = [&](int k, int i, VF& x, VF& slx, VF& sl2, VF& num, VF& li, MF& slx_pos)
                       HWY_ATTR {
                         const size_t at = k * tile + i * lanes;
                         slx = hn::Sub(sumlx[k], hn::Load(df, a_tile + at));
                         sl2 = hn::Sub(suml2[k], hn::Load(df, b_tile + at));
                         x = hn::Load(df, xt + at);
                         num = hn::Mul(x, sl2);
                         li = hn::Load(df, l_tile + at);
                         const VF off = hn::Abs(hn::Sub(num, hn::Mul(li, slx)));
                         // slx / 2 less 512 units in the last place: (1/2 - 2^-17) slx or less.
                         const VF bound = hn::BitCast(df, hn::Sub(hn::BitCast(di, slx), kHalfBits));
                         const MF keeps = hn::And(hn::Gt(slx, kTiny), hn::Lt(off, bound));
                         slx_pos = hn::And(active[k], hn::Gt(slx, zero));
                         return hn::AndNot(keeps, slx_pos);
                       };
  // Step i of tile k.
  auto step = [&](int k, int i) HWY_ATTR {
    const size_t at = k * tile + i * lanes;
    VF x, slx, sl2, num, li;
    MF slx_pos;
    if (hn::AllFalse(df, must_step(k, i, x, slx, sl2, num, li, slx_pos))) return;
    // The reference's step (lanes that passed the test get their own code).
    const VF fnew = ToFloat(ClampV(NearestIntV(hn::Div(num, slx)), -nmax, nmax - 1));
    const MF differs = hn::And(slx_pos, hn::Not(hn::Eq(fnew, li)));
    const VF w = hn::Mul(x, x);
    const VF a = hn::Mul(hn::Mul(w, x), fnew);
    const VF b = hn::Mul(hn::Mul(w, fnew), fnew);
    slx = hn::Add(slx, a);
    sl2 = hn::Add(sl2, b);
    MF take = hn::And(
        differs, hn::And(hn::Gt(sl2, zero), hn::Gt(hn::Mul(hn::Mul(slx, slx), suml2[k]),
                                                   hn::Mul(hn::Mul(sumlx[k], sumlx[k]), sl2))));
    // Nearly always every lane whose code differs takes it: `take` is then
    // `differs` (a value the next step does not wait for: the test above stays
    // off the chain through the sums), and only otherwise the test's own mask.
    // With two tiles interleaved this ran slower (measured), so one tile only.
    if (kTiles == 1) {
      const MF taken = take;
      take = differs;
      if (HWY_UNLIKELY(!hn::AllFalse(df, hn::AndNot(taken, differs)))) take = taken;
    }
    hn::Store(hn::IfThenElse(take, fnew, li), df, l_tile + at);
    hn::Store(hn::IfThenElse(take, a, hn::Load(df, a_tile + at)), df, a_tile + at);
    hn::Store(hn::IfThenElse(take, b, hn::Load(df, b_tile + at)), df, b_tile + at);
    sumlx[k] = hn::IfThenElse(take, slx, sumlx[k]);
    suml2[k] = hn::IfThenElse(take, sl2, suml2[k]);
    changed[k] = hn::Or(changed[k], take);
  };
  if (kPreTest) {
    // A lane none of whose steps must be taken changes no code in the first
    // round, so the reference stops there.
    for (int k = 0; k < kTiles; ++k) {
      MF must = hn::FirstN(df, 0);
      if (!hn::AllFalse(df, active[k])) {
        for (int i = 0; i < kN; ++i) {
          VF x, slx, sl2, num, li;
          MF slx_pos;
          must = hn::Or(must, must_step(k, i, x, slx, sl2, num, li, slx_pos));
        }
      }
      need[k] = MaskBits(hn::RebindMask(di, must));
      active[k] = hn::FirstN(df, 0);
    }
  }
  for (int itry = 0; itry < 5; ++itry) {
    bool run[kTiles];
    bool any = false;
    for (int k = 0; k < kTiles; ++k) {
      run[k] = !hn::AllFalse(df, active[k]);
      any = any || run[k];
    }
    if (!any) break;
    for (int k = 0; k < kTiles; ++k) changed[k] = hn::FirstN(df, 0);
    for (int i = 0; i < kN; ++i) {
      for (int k = 0; k < kTiles; ++k) {
        if (run[k]) step(k, i);
      }
    }
    for (int k = 0; k < kTiles; ++k) active[k] = hn::And(active[k], changed[k]);
  }
  for (int k = 0; k < kTiles; ++k) {
    if (!hn::AllFalse(df, small[k])) {
      // Code 0 (l = -nmax) for groups of tiny max.
      const VF lowest = hn::Set(df, static_cast<float>(-nmax));
      for (int i = 0; i < kN; ++i) {
        const size_t at = k * tile + i * lanes;
        hn::Store(hn::IfThenElse(small[k], lowest, hn::Load(df, l_tile + at)), df, l_tile + at);
      }
    }
    const VF scale = hn::IfThenElseZero(hn::Gt(suml2[k], zero), hn::Div(sumlx[k], suml2[k]));
    hn::Store(hn::IfThenZeroElse(small[k], scale), df, scale_out + k * lanes);
  }
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_QUANTIZE_SEARCH_INL_H_
