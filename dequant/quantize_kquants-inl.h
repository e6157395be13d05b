// Q2_K, Q4_K, Q5_K, Q6_K SIMD quantizers (per target), with and without an
// importance matrix. The per-group scale searches (the costly part) run one
// group per lane (quantize_search-inl.h); the per-super-block steps (scale
// quantization, packing) follow the reference in scalar code, and the final
// re-fit of each code to the stored scales is elementwise. Formats:
// quants/block_k.h; reference: quants/k_codecs.cc.

#if defined(GGUFKIT_DEQUANT_QUANTIZE_KQUANTS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_QUANTIZE_KQUANTS_INL_H_
#undef GGUFKIT_DEQUANT_QUANTIZE_KQUANTS_INL_H_
#else
#define GGUFKIT_DEQUANT_QUANTIZE_KQUANTS_INL_H_
#endif

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dequant/quantize_search-inl.h"
#include "hwy/highway.h"
#include "quants/block_k.h"
#include "quants/half.h"
#include "quants/quant_search_internal.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

inline constexpr int kSuperQK = 256;
// Super-blocks per pass: 8 x 256 floats; 32 or 64 groups, a whole number of
// tiles for every lane count.
inline constexpr int kChunkSuperBlocks = 8;

// Sum of x^2 over one super-block, in element order (the reference's sigma2).
HWY_INLINE float SumSquares256(const float* x) {
  float s = 0;
  for (int l = 0; l < kSuperQK; ++l) s += x[l] * x[l];
  return s;
}

// Codes of one group of kN elements re-fitted to its stored scale:
// L = clamp(NearestInt((x + dm) / d), lo, hi) + bias (x / d without kAddMin).
template <int kN, bool kAddMin>
HWY_INLINE void RefitGroup(const float* x, float d, float dm, int lo, int hi, int bias,
                           uint8_t* L) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  const VF vd = hn::Set(df, d);
  const VF vdm = hn::Set(df, dm);
  const VI vbias = hn::Set(di, bias);
  for (size_t i = 0; i < static_cast<size_t>(kN); i += lanes) {
    const VF v = hn::LoadU(df, x + i);
    const VF q = kAddMin ? hn::Div(hn::Add(v, vdm), vd) : hn::Div(v, vd);
    StoreLowBytes(hn::Add(ClampV(NearestIntV(q), lo, hi), vbias), L + i);
  }
}

// Per-lane values of a per-super-block quantity: lane g of tile g0 belongs
// to super-block (g0 + g) / groups_per_sb.
HWY_INLINE VF PerSuperBlock(const float* per_sb, size_t g0, size_t groups, int groups_per_sb) {
  const DF df;
  HWY_ALIGN float v[kMaxLanes] = {0};
  for (size_t g = 0; g < groups; ++g) v[g] = per_sb[(g0 + g) / static_cast<size_t>(groups_per_sb)];
  return hn::Load(df, v);
}

// The group searches of a chunk of super-blocks: for each group (kN
// elements) its scale, min (qkx forms) and codes, and with an imatrix the sum
// of its weights.
enum class KSearch { kQ4K, kQ5K, kQ2K, kQ6K, kQ3K };

template <KSearch kKind>
void SearchChunk(const float* x, const float* qw, int n_sb, float* scales, float* mins, float* sw,
                 uint8_t* L) {
  constexpr int kN = (kKind == KSearch::kQ4K || kKind == KSearch::kQ5K) ? 32 : 16;
  constexpr int kGroupsPerSb = kSuperQK / kN;
  const DF df;
  const size_t lanes = hn::Lanes(df);
  HWY_ALIGN float xt[kN * kMaxLanes];
  HWY_ALIGN float wt[kN * kMaxLanes];
  HWY_ALIGN float qt[kN * kMaxLanes];
  HWY_ALIGN int32_t Lt[kN * kMaxLanes];
  float sigma2[kChunkSuperBlocks];
  if (qw && kKind != KSearch::kQ6K) {
    for (int s = 0; s < n_sb; ++s) {
      const float ss = SumSquares256(x + s * kSuperQK);
      // Q2_K: sum / 256; Q3_K, Q4_K, Q5_K: 2 * sum / 256.
      sigma2[s] = kKind == KSearch::kQ2K ? ss / kSuperQK : 2 * ss / kSuperQK;
    }
  }
  const size_t groups = static_cast<size_t>(n_sb) * kGroupsPerSb;
  for (size_t g0 = 0; g0 < groups; g0 += lanes) {
    const size_t gn = std::min(lanes, groups - g0);
    GatherTile<kN>(x + g0 * kN, kN, gn, xt);
    if (qw) GatherTile<kN>(qw + g0 * kN, kN, gn, qt);
    const float* w_tile = wt;
    if (kKind == KSearch::kQ6K && qw) {
      w_tile = qt;  // Q6_K weights by the imatrix alone
    } else if (qw) {
      const VF s2 = PerSuperBlock(sigma2, g0, gn, kGroupsPerSb);
      VF sumw = hn::Zero(df);
      for (int i = 0; i < kN; ++i) {
        const VF v = hn::Load(df, xt + i * lanes);
        const VF w = hn::Mul(hn::Load(df, qt + i * lanes), hn::Sqrt(hn::Add(s2, hn::Mul(v, v))));
        hn::Store(w, df, wt + i * lanes);
        sumw = hn::Add(sumw, w);
      }
      HWY_ALIGN float sumw_lanes[kMaxLanes];
      hn::Store(sumw, df, sumw_lanes);
      for (size_t g = 0; g < gn; ++g) sw[g0 + g] = sumw_lanes[g];
    } else if constexpr (kKind == KSearch::kQ4K || kKind == KSearch::kQ5K) {
      VF sum_x2 = hn::Zero(df);
      for (int i = 0; i < kN; ++i) {
        const VF v = hn::Load(df, xt + i * lanes);
        sum_x2 = hn::Add(sum_x2, hn::Mul(v, v));
      }
      const VF av_x = hn::Sqrt(hn::Div(sum_x2, hn::Set(df, 32.0f)));
      for (int i = 0; i < kN; ++i) {
        hn::Store(hn::Add(av_x, hn::Abs(hn::Load(df, xt + i * lanes))), df, wt + i * lanes);
      }
    } else if constexpr (kKind == KSearch::kQ2K) {
      for (int i = 0; i < kN; ++i) {
        hn::Store(hn::Abs(hn::Load(df, xt + i * lanes)), df, wt + i * lanes);
      }
    } else {
      w_tile = nullptr;  // Q6_K without imatrix: x^2
    }
    HWY_ALIGN float sc[kMaxLanes];
    HWY_ALIGN float mn[kMaxLanes];
    if constexpr (kKind == KSearch::kQ6K) {
      SearchQx<kN>(xt, w_tile, 32, Lt, sc);
    } else if constexpr (kKind == KSearch::kQ3K) {
      if (qw) {
        SearchQx<kN>(xt, w_tile, 4, Lt, sc);
      } else {
        SearchQ3<kN>(xt, 4, Lt, sc);
      }
    } else if (qw) {
      constexpr int kNmax = kKind == KSearch::kQ4K ? 15 : (kKind == KSearch::kQ5K ? 31 : 3);
      SearchQkx<kN, false, true>(xt, w_tile, kNmax, -0.9f, 0.05f, 36, Lt, sc, mn);
    } else if constexpr (kKind == KSearch::kQ2K) {
      SearchQkx<kN, true, false>(xt, w_tile, 3, -0.5f, 0.1f, 15, Lt, sc, mn);
    } else if constexpr (kKind == KSearch::kQ4K) {
      SearchQkx<kN, false, false>(xt, w_tile, 15, -1.0f, 0.1f, 20, Lt, sc, mn);
    } else {
      SearchQkx<kN, false, false>(xt, w_tile, 31, -0.5f, 0.1f, 15, Lt, sc, mn);
    }
    for (size_t g = 0; g < gn; ++g) {
      scales[g0 + g] = sc[g];
      if (kKind != KSearch::kQ6K && kKind != KSearch::kQ3K) mins[g0 + g] = mn[g];
    }
    ScatterCodes<kN>(Lt, gn, L + g0 * kN);
  }
}

// Packs 8 six-bit (scale, min) pairs into Q4_K/Q5_K's 12 scale bytes.
HWY_INLINE void PackScaleMinK4(const uint8_t* ls, const uint8_t* lm, uint8_t* scales) {
  for (int j = 0; j < 4; ++j) {
    scales[j] = ls[j];
    scales[j + 4] = lm[j];
  }
  for (int j = 4; j < 8; ++j) {
    scales[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
    scales[j - 4] = static_cast<uint8_t>(scales[j - 4] | ((ls[j] >> 4) << 6));
    scales[j] = static_cast<uint8_t>(scales[j] | ((lm[j] >> 4) << 6));
  }
}

// Q4_K (kNmax 15) and Q5_K (31).
template <int kNmax>
void QuantizeK4(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  constexpr bool kQ5 = kNmax == 31;
  constexpr size_t kBlockBytes = kQ5 ? sizeof(BlockQ5_K) : sizeof(BlockQ4_K);
  const int64_t n_sb = n / kSuperQK;
  float scales[kChunkSuperBlocks * 8], mins[kChunkSuperBlocks * 8], sw[kChunkSuperBlocks * 8];
  uint8_t L[kChunkSuperBlocks * kSuperQK];
  for (int64_t sb0 = 0; sb0 < n_sb; sb0 += kChunkSuperBlocks) {
    const int count = static_cast<int>(std::min<int64_t>(kChunkSuperBlocks, n_sb - sb0));
    const float* xc = x + sb0 * kSuperQK;
    const float* qc = imatrix ? imatrix + sb0 * kSuperQK : nullptr;
    SearchChunk<kQ5 ? KSearch::kQ5K : KSearch::kQ4K>(xc, qc, count, scales, mins, sw, L);
    for (int s = 0; s < count; ++s) {
      const float* xs = xc + s * kSuperQK;
      const float* sc = scales + 8 * s;
      const float* mn = mins + 8 * s;
      uint8_t* Ls = L + s * kSuperQK;
      uint8_t ls[8], lm[8];
      uint16_t d_half, dmin_half;
      if (!imatrix) {
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < 8; ++j) {
          if (sc[j] > max_scale) max_scale = sc[j];
          if (mn[j] > max_min) max_min = mn[j];
        }
        const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
        const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
        for (int j = 0; j < 8; ++j) {
          ls[j] = std::min<uint8_t>(63, static_cast<uint8_t>(internal::NearestInt(inv_scale * sc[j])));
          lm[j] = std::min<uint8_t>(63, static_cast<uint8_t>(internal::NearestInt(inv_min * mn[j])));
        }
        d_half = F32ToF16(max_scale / 63.f);
        dmin_half = F32ToF16(max_min / 63.f);
      } else {
        const float d_block = internal::MakeQpQuants(8, 63, sc, ls, sw + 8 * s);
        const float m_block = internal::MakeQpQuants(8, 63, mn, lm, sw + 8 * s);
        if (kQ5) {
          for (int j = 0; j < 8; ++j) {
            ls[j] = std::min<uint8_t>(63, ls[j]);
            lm[j] = std::min<uint8_t>(63, lm[j]);
          }
        }
        d_half = F32ToF16(d_block);
        dmin_half = F32ToF16(m_block);
      }
      uint8_t packed[12] = {0};
      PackScaleMinK4(ls, lm, packed);
      for (int j = 0; j < 8; ++j) {
        uint8_t sc6, m6;
        internal::UnpackScaleMinK4(j, packed, &sc6, &m6);
        const float d = F16ToF32(d_half) * static_cast<float>(sc6);
        if (d == 0.0f) continue;
        const float dm = F16ToF32(dmin_half) * static_cast<float>(m6);
        RefitGroup<32, true>(xs + 32 * j, d, dm, 0, kNmax, 0, Ls + 32 * j);
      }
      uint8_t* o = out + static_cast<size_t>(sb0 + s) * kBlockBytes;
      std::memcpy(o, &d_half, 2);
      std::memcpy(o + 2, &dmin_half, 2);
      std::memcpy(o + 4, packed, 12);
      if (kQ5) {
        uint8_t qh[32] = {0};
        uint8_t* qs = o + 16 + 32;
        for (int c = 0; c < 4; ++c) {
          for (int l = 0; l < 32; ++l) {
            int l1 = Ls[64 * c + l];
            int l2 = Ls[64 * c + l + 32];
            if (l1 > 15) {
              l1 -= 16;
              qh[l] = static_cast<uint8_t>(qh[l] | (1u << (2 * c)));
            }
            if (l2 > 15) {
              l2 -= 16;
              qh[l] = static_cast<uint8_t>(qh[l] | (2u << (2 * c)));
            }
            qs[32 * c + l] = static_cast<uint8_t>(l1 | (l2 << 4));
          }
        }
        std::memcpy(o + 16, qh, 32);
      } else {
        uint8_t* qs = o + 16;
        for (int c = 0; c < 4; ++c) {
          for (int l = 0; l < 32; ++l) {
            qs[32 * c + l] = static_cast<uint8_t>(Ls[64 * c + l] | (Ls[64 * c + l + 32] << 4));
          }
        }
      }
    }
  }
}

inline void QuantizeQ4_K(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  QuantizeK4<15>(x, out, n, imatrix);
}
inline void QuantizeQ5_K(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  QuantizeK4<31>(x, out, n, imatrix);
}


// Q6_K: 16 groups of 16, symmetric search with nmax 32 (weights x^2, or the
// imatrix alone), int8 sub-block scales.
inline void QuantizeQ6_K(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  constexpr size_t kBlockBytes = sizeof(BlockQ6_K);
  const int64_t n_sb = n / kSuperQK;
  float scales[kChunkSuperBlocks * 16];
  uint8_t L[kChunkSuperBlocks * kSuperQK];
  for (int64_t sb0 = 0; sb0 < n_sb; sb0 += kChunkSuperBlocks) {
    const int count = static_cast<int>(std::min<int64_t>(kChunkSuperBlocks, n_sb - sb0));
    const float* xc = x + sb0 * kSuperQK;
    const float* qc = imatrix ? imatrix + sb0 * kSuperQK : nullptr;
    SearchChunk<KSearch::kQ6K>(xc, qc, count, scales, nullptr, nullptr, L);
    for (int s = 0; s < count; ++s) {
      const float* xs = xc + s * kSuperQK;
      const float* sc = scales + 16 * s;
      uint8_t* Ls = L + s * kSuperQK;
      uint8_t* o = out + static_cast<size_t>(sb0 + s) * kBlockBytes;
      float max_scale = 0, max_abs_scale = 0;
      for (int ib = 0; ib < 16; ++ib) {
        if (std::fabs(sc[ib]) > max_abs_scale) {
          max_abs_scale = std::fabs(sc[ib]);
          max_scale = sc[ib];
        }
      }
      if (max_abs_scale < internal::kGroupMaxEps) {
        std::memset(o, 0, kBlockBytes);
        continue;
      }
      const float iscale = -128.f / max_scale;
      const uint16_t d_half = F32ToF16(1 / iscale);
      int8_t sc8[16];
      for (int ib = 0; ib < 16; ++ib) {
        sc8[ib] = static_cast<int8_t>(
            static_cast<uint8_t>(std::min(127, internal::NearestInt(iscale * sc[ib]))));
      }
      for (int j = 0; j < 16; ++j) {
        const float d = F16ToF32(d_half) * static_cast<float>(sc8[j]);
        if (d == 0.0f) continue;
        RefitGroup<16, false>(xs + 16 * j, d, 0.0f, -32, 31, 32, Ls + 16 * j);
      }
      uint8_t* ql_all = o;
      uint8_t* qh_all = o + 128;
      for (int h = 0; h < 2; ++h) {
        const uint8_t* Lh = Ls + 128 * h;
        uint8_t* ql = ql_all + 64 * h;
        uint8_t* qh = qh_all + 32 * h;
        for (int l = 0; l < 32; ++l) {
          const int q1 = Lh[l], q2 = Lh[l + 32], q3 = Lh[l + 64], q4 = Lh[l + 96];
          ql[l] = static_cast<uint8_t>((q1 & 0xF) | ((q3 & 0xF) << 4));
          ql[l + 32] = static_cast<uint8_t>((q2 & 0xF) | ((q4 & 0xF) << 4));
          qh[l] = static_cast<uint8_t>((q1 >> 4) | ((q2 >> 4) << 2) | ((q3 >> 4) << 4) |
                                       ((q4 >> 4) << 6));
        }
      }
      std::memcpy(o + 192, sc8, 16);
      std::memcpy(o + 208, &d_half, 2);
    }
  }
}

// Packs 2-bit codes L[0..255] into Q2_K/Q3_K's qs: element 128h + 32j + r
// goes to bits 2j of qs[32h + r].
HWY_INLINE void Pack2BitCodes(const uint8_t* L, uint8_t* qs) {
  for (int h = 0; h < 2; ++h) {
    const uint8_t* Lh = L + 128 * h;
    for (int r = 0; r < 32; ++r) {
      qs[32 * h + r] =
          static_cast<uint8_t>(Lh[r] | (Lh[r + 32] << 2) | (Lh[r + 64] << 4) | (Lh[r + 96] << 6));
    }
  }
}

// Q2_K: 16 groups of 16, asymmetric search with nmax 3 (|x| weights and
// absolute error, or imatrix weights), 4-bit sub-block scales and mins.
inline void QuantizeQ2_K(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  constexpr size_t kBlockBytes = sizeof(BlockQ2_K);
  constexpr float kQ4Scale = 15.f;
  const int64_t n_sb = n / kSuperQK;
  float scales[kChunkSuperBlocks * 16], mins[kChunkSuperBlocks * 16], sw[kChunkSuperBlocks * 16];
  uint8_t L[kChunkSuperBlocks * kSuperQK];
  for (int64_t sb0 = 0; sb0 < n_sb; sb0 += kChunkSuperBlocks) {
    const int count = static_cast<int>(std::min<int64_t>(kChunkSuperBlocks, n_sb - sb0));
    const float* xc = x + sb0 * kSuperQK;
    const float* qc = imatrix ? imatrix + sb0 * kSuperQK : nullptr;
    SearchChunk<KSearch::kQ2K>(xc, qc, count, scales, mins, sw, L);
    for (int s = 0; s < count; ++s) {
      const float* xs = xc + s * kSuperQK;
      const float* sc = scales + 16 * s;
      const float* mn = mins + 16 * s;
      uint8_t* Ls = L + s * kSuperQK;
      uint8_t* o = out + static_cast<size_t>(sb0 + s) * kBlockBytes;
      uint8_t bscales[16];
      uint16_t d_half, dmin_half;
      if (!imatrix) {
        float max_scale = 0, max_min = 0;
        for (int j = 0; j < 16; ++j) {
          if (sc[j] > max_scale) max_scale = sc[j];
          if (mn[j] > max_min) max_min = mn[j];
        }
        if (max_scale > 0) {
          const float iscale = kQ4Scale / max_scale;
          for (int j = 0; j < 16; ++j) {
            bscales[j] = static_cast<uint8_t>(internal::NearestInt(iscale * sc[j]));
          }
          d_half = F32ToF16(max_scale / kQ4Scale);
        } else {
          std::memset(bscales, 0, sizeof bscales);
          d_half = F32ToF16(0.f);
        }
        if (max_min > 0) {
          const float iscale = kQ4Scale / max_min;
          for (int j = 0; j < 16; ++j) {
            const unsigned l = static_cast<unsigned>(internal::NearestInt(iscale * mn[j]));
            bscales[j] = static_cast<uint8_t>(bscales[j] | (l << 4));
          }
          dmin_half = F32ToF16(max_min / kQ4Scale);
        } else {
          dmin_half = F32ToF16(0.f);
        }
      } else {
        uint8_t Lsc[16], Lmn[16];
        const float dm = internal::MakeQpQuants(16, 15, sc, Lsc, sw + 16 * s);
        const float mm = internal::MakeQpQuants(16, 15, mn, Lmn, sw + 16 * s);
        d_half = F32ToF16(dm);
        dmin_half = F32ToF16(mm);
        for (int j = 0; j < 16; ++j) bscales[j] = static_cast<uint8_t>(Lsc[j] | (Lmn[j] << 4));
      }
      for (int j = 0; j < 16; ++j) {
        const float d = F16ToF32(d_half) * static_cast<float>(bscales[j] & 0xF);
        if (d == 0.0f) continue;
        const float dm = F16ToF32(dmin_half) * static_cast<float>(bscales[j] >> 4);
        RefitGroup<16, true>(xs + 16 * j, d, dm, 0, 3, 0, Ls + 16 * j);
      }
      std::memcpy(o, bscales, 16);
      Pack2BitCodes(Ls, o + 16);
      std::memcpy(o + 80, &d_half, 2);
      std::memcpy(o + 82, &dmin_half, 2);
    }
  }
}


// Q3_K: 16 groups of 16, symmetric 3-bit codes (MakeQ3Quants with coordinate
// descent, or MakeQxQuants under an imatrix), 6-bit signed sub-block scales.
inline void QuantizeQ3_K(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  constexpr size_t kBlockBytes = sizeof(BlockQ3_K);
  const int64_t n_sb = n / kSuperQK;
  float scales[kChunkSuperBlocks * 16], sw[kChunkSuperBlocks * 16];
  uint8_t L[kChunkSuperBlocks * kSuperQK];
  for (int64_t sb0 = 0; sb0 < n_sb; sb0 += kChunkSuperBlocks) {
    const int count = static_cast<int>(std::min<int64_t>(kChunkSuperBlocks, n_sb - sb0));
    const float* xc = x + sb0 * kSuperQK;
    const float* qc = imatrix ? imatrix + sb0 * kSuperQK : nullptr;
    SearchChunk<KSearch::kQ3K>(xc, qc, count, scales, nullptr, sw, L);
    for (int s = 0; s < count; ++s) {
      const float* xs = xc + s * kSuperQK;
      const float* sc = scales + 16 * s;
      uint8_t* Ls = L + s * kSuperQK;
      uint8_t* o = out + static_cast<size_t>(sb0 + s) * kBlockBytes;
      int codes[16];
      uint8_t packed[12] = {0};
      uint16_t d_half;
      bool pack = true;
      if (!imatrix) {
        float max_scale = 0, amax = 0;
        for (int j = 0; j < 16; ++j) {
          const float a = std::fabs(sc[j]);
          if (a > amax) {
            amax = a;
            max_scale = sc[j];
          }
        }
        if (max_scale != 0.0f) {
          const float iscale = -32.f / max_scale;
          for (int j = 0; j < 16; ++j) {
            const int l =
                static_cast<int8_t>(static_cast<uint8_t>(internal::NearestInt(iscale * sc[j])));
            codes[j] = std::max(-32, std::min(31, l)) + 32;
          }
          d_half = F32ToF16(1 / iscale);
        } else {
          pack = false;
          d_half = F32ToF16(0.f);
        }
      } else {
        int8_t Lsc[16];
        const float d_block = internal::MakeQxQuants(16, 32, sc, Lsc, 1, sw + 16 * s);
        for (int j = 0; j < 16; ++j) codes[j] = Lsc[j];
        d_half = F32ToF16(d_block);
      }
      if (pack) {
        for (int j = 0; j < 16; ++j) {
          int l = codes[j];
          if (j < 8) {
            packed[j] = static_cast<uint8_t>(l & 0xF);
          } else {
            packed[j - 8] = static_cast<uint8_t>(packed[j - 8] | ((l & 0xF) << 4));
          }
          l >>= 4;
          packed[j % 4 + 8] = static_cast<uint8_t>(packed[j % 4 + 8] | (l << (2 * (j / 4))));
        }
      }
      for (int j = 0; j < 16; ++j) {
        const int sc6 = internal::UnpackScaleQ3K(j, packed) - 32;
        const float d = F16ToF32(d_half) * static_cast<float>(sc6);
        if (d == 0.0f) continue;
        RefitGroup<16, false>(xs + 16 * j, d, 0.0f, -4, 3, 4, Ls + 16 * j);
      }
      uint8_t hmask[32] = {0};
      uint8_t low[kSuperQK];
      for (int e = 0; e < kSuperQK; ++e) {
        int l = Ls[e];
        if (l > 3) {
          hmask[e % 32] = static_cast<uint8_t>(hmask[e % 32] | (1u << (e / 32)));
          l -= 4;
        }
        low[e] = static_cast<uint8_t>(l);
      }
      std::memcpy(o, hmask, 32);
      Pack2BitCodes(low, o + 32);
      std::memcpy(o + 96, packed, 12);
      std::memcpy(o + 108, &d_half, 2);
    }
  }
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_QUANTIZE_KQUANTS_INL_H_
