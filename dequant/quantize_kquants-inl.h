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

#include "ggufkit/dequant/quantize_search-inl.h"
#include "ggufkit/quants/block_k.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/quant_search_internal.h"
#include "hwy/highway.h"

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

// Byte-vector packers of the super-block codes (16 bytes at a time; the
// formats' bit layouts as in quants/k_codecs.cc).
using D8 = hn::Full128<uint8_t>;

// Q2_K / Q3_K: 2-bit codes (low 2 bits of L[e]) of element 128h + 32j + r to
// bits 2j of qs[32h + r].
HWY_INLINE void Pack2BitCodes(const uint8_t* L, uint8_t* qs) {
  const D8 d8;
  const auto k3 = hn::Set(d8, 3);
  for (int h = 0; h < 2; ++h) {
    for (int r0 = 0; r0 < 32; r0 += 16) {
      const uint8_t* p = L + 128 * h + r0;
      const auto q0 = hn::And(hn::LoadU(d8, p), k3);
      const auto q1 = hn::And(hn::LoadU(d8, p + 32), k3);
      const auto q2 = hn::And(hn::LoadU(d8, p + 64), k3);
      const auto q3 = hn::And(hn::LoadU(d8, p + 96), k3);
      const auto q = hn::Or(hn::Or(q0, hn::ShiftLeft<2>(q1)),
                            hn::Or(hn::ShiftLeft<4>(q2), hn::ShiftLeft<6>(q3)));
      hn::StoreU(q, d8, qs + 32 * h + r0);
    }
  }
}

// Q3_K's hmask: bit 2 of L[e] (codes 0..7) to bit e / 32 of hmask[e % 32].
HWY_INLINE void PackQ3HighBits(const uint8_t* L, uint8_t* hmask) {
  const D8 d8;
  const auto k1 = hn::Set(d8, 1);
  for (int r0 = 0; r0 < 32; r0 += 16) {
    auto bit = [&](int k) { return hn::And(hn::ShiftRight<2>(hn::LoadU(d8, L + 32 * k + r0)), k1); };
    const auto lo = hn::Or(hn::Or(bit(0), hn::ShiftLeft<1>(bit(1))),
                           hn::Or(hn::ShiftLeft<2>(bit(2)), hn::ShiftLeft<3>(bit(3))));
    const auto hi = hn::Or(hn::Or(hn::ShiftLeft<4>(bit(4)), hn::ShiftLeft<5>(bit(5))),
                           hn::Or(hn::ShiftLeft<6>(bit(6)), hn::ShiftLeft<7>(bit(7))));
    hn::StoreU(hn::Or(lo, hi), d8, hmask + r0);
  }
}

// Q4_K (codes 0..15) and Q5_K (0..31): low nibbles of elements 64c + l and
// 64c + 32 + l to qs[32c + l]; for Q5_K bit 4 of each to bits 2c and 2c + 1
// of qh[l].
template <bool kQ5>
HWY_INLINE void PackK4Codes(const uint8_t* L, uint8_t* qs, uint8_t* qh) {
  const D8 d8;
  const auto k15 = hn::Set(d8, 15);
  const auto k1 = hn::Set(d8, 1);
  auto qh_lo = hn::Zero(d8);
  auto qh_hi = hn::Zero(d8);
  for (int c = 0; c < 4; ++c) {
    for (int l0 = 0; l0 < 32; l0 += 16) {
      const auto a = hn::LoadU(d8, L + 64 * c + l0);
      const auto b = hn::LoadU(d8, L + 64 * c + 32 + l0);
      hn::StoreU(hn::Or(hn::And(a, k15), hn::ShiftLeft<4>(hn::And(b, k15))), d8, qs + 32 * c + l0);
      if (kQ5) {
        // bit 4 -> bit 0 and bit 1, then to position 2c.
        const auto bits = hn::Or(hn::And(hn::ShiftRight<4>(a), k1),
                                 hn::ShiftLeft<1>(hn::And(hn::ShiftRight<4>(b), k1)));
        auto& acc = l0 == 0 ? qh_lo : qh_hi;
        switch (c) {
          case 0: acc = hn::Or(acc, bits); break;
          case 1: acc = hn::Or(acc, hn::ShiftLeft<2>(bits)); break;
          case 2: acc = hn::Or(acc, hn::ShiftLeft<4>(bits)); break;
          default: acc = hn::Or(acc, hn::ShiftLeft<6>(bits)); break;
        }
      }
    }
  }
  if (kQ5) {
    hn::StoreU(qh_lo, d8, qh);
    hn::StoreU(qh_hi, d8, qh + 16);
  }
}

// Q6_K (codes 0..63): per half h, ql[l] = low nibbles of elements l and
// l + 64, ql[l + 32] = of l + 32 and l + 96, qh[l] = their top 2 bits.
HWY_INLINE void PackQ6Codes(const uint8_t* L, uint8_t* ql_all, uint8_t* qh_all) {
  const D8 d8;
  const auto k15 = hn::Set(d8, 15);
  for (int h = 0; h < 2; ++h) {
    for (int l0 = 0; l0 < 32; l0 += 16) {
      const uint8_t* p = L + 128 * h + l0;
      const auto q1 = hn::LoadU(d8, p);
      const auto q2 = hn::LoadU(d8, p + 32);
      const auto q3 = hn::LoadU(d8, p + 64);
      const auto q4 = hn::LoadU(d8, p + 96);
      uint8_t* ql = ql_all + 64 * h + l0;
      hn::StoreU(hn::Or(hn::And(q1, k15), hn::ShiftLeft<4>(hn::And(q3, k15))), d8, ql);
      hn::StoreU(hn::Or(hn::And(q2, k15), hn::ShiftLeft<4>(hn::And(q4, k15))), d8, ql + 32);
      const auto qh = hn::Or(hn::Or(hn::ShiftRight<4>(q1), hn::ShiftLeft<2>(hn::ShiftRight<4>(q2))),
                             hn::Or(hn::ShiftLeft<4>(hn::ShiftRight<4>(q3)),
                                    hn::ShiftLeft<6>(hn::ShiftRight<4>(q4))));
      hn::StoreU(qh, d8, qh_all + 32 * h + l0);
    }
  }
}

// The group searches of a chunk of super-blocks: for each group (kN
// elements) its scale, min (qkx forms) and codes, and with an imatrix the sum
// of its weights.
enum class KSearch { kQ4K, kQ5K, kQ2K, kQ6K, kQ3K };

// Tiles per call of SearchQ3: on AVX-512 (32 vector registers) two
// interleaved tiles ran ~6 % faster than one and four no faster than two; with
// 16 registers one (measured on Zen 4).
inline constexpr size_t kQ3Tiles = HWY_TARGET <= HWY_AVX3 ? 2 : 1;

template <KSearch kKind>
void SearchChunk(const float* x, const float* qw, int n_sb, float* scales, float* mins, float* sw,
                 int32_t* code_tiles) {
  constexpr int kN = (kKind == KSearch::kQ4K || kKind == KSearch::kQ5K) ? 32 : 16;
  constexpr int kGroupsPerSb = kSuperQK / kN;
  const DF df;
  const size_t lanes = hn::Lanes(df);
  HWY_ALIGN float xt[kN * kMaxLanes];
  HWY_ALIGN float wt[kN * kMaxLanes];
  HWY_ALIGN float qt[kN * kMaxLanes];
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
    // The search's codes stay in their tile: the re-fit replaces them for
    // every group whose stored scale is not zero (TileCodes fetches the rest).
    int32_t* Lt = code_tiles + g0 * kN;
    if (kKind == KSearch::kQ3K && gn == lanes) {
      TransposeTile<kN>(x + g0 * kN, kN, xt);
      if (qw) TransposeTile<kN>(qw + g0 * kN, kN, qt);
    } else {
      GatherTile<kN>(x + g0 * kN, kN, gn, xt);
      if (qw) GatherTile<kN>(qw + g0 * kN, kN, gn, qt);
    }
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
      SearchQx<kN>(xt, w_tile, 4, Lt, sc);  // with an imatrix (see above)
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
  }
}

// The search codes of group g of a chunk (kN per group), from SearchChunk's
// tiles, as bytes.
template <int kN>
HWY_INLINE void TileCodes(const int32_t* code_tiles, size_t g, uint8_t* dst) {
  const size_t lanes = hn::Lanes(DF());
  const int32_t* tile = code_tiles + (g / lanes) * lanes * kN;
  for (int i = 0; i < kN; ++i) {
    dst[i] = static_cast<uint8_t>(tile[static_cast<size_t>(i) * lanes + g % lanes]);
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
  HWY_ALIGN int32_t code_tiles[kChunkSuperBlocks * kSuperQK];
  for (int64_t sb0 = 0; sb0 < n_sb; sb0 += kChunkSuperBlocks) {
    const int count = static_cast<int>(std::min<int64_t>(kChunkSuperBlocks, n_sb - sb0));
    const float* xc = x + sb0 * kSuperQK;
    const float* qc = imatrix ? imatrix + sb0 * kSuperQK : nullptr;
    SearchChunk<kQ5 ? KSearch::kQ5K : KSearch::kQ4K>(xc, qc, count, scales, mins, sw, code_tiles);
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
        if (d == 0.0f) {  // the reference keeps the search's codes
          TileCodes<32>(code_tiles, static_cast<size_t>(s * 8 + j), Ls + 32 * j);
          continue;
        }
        const float dm = F16ToF32(dmin_half) * static_cast<float>(m6);
        RefitGroup<32, true>(xs + 32 * j, d, dm, 0, kNmax, 0, Ls + 32 * j);
      }
      uint8_t* o = out + static_cast<size_t>(sb0 + s) * kBlockBytes;
      std::memcpy(o, &d_half, 2);
      std::memcpy(o + 2, &dmin_half, 2);
      std::memcpy(o + 4, packed, 12);
      PackK4Codes<kQ5>(Ls, o + (kQ5 ? 48 : 16), o + 16);
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
  HWY_ALIGN int32_t code_tiles[kChunkSuperBlocks * kSuperQK];
  for (int64_t sb0 = 0; sb0 < n_sb; sb0 += kChunkSuperBlocks) {
    const int count = static_cast<int>(std::min<int64_t>(kChunkSuperBlocks, n_sb - sb0));
    const float* xc = x + sb0 * kSuperQK;
    const float* qc = imatrix ? imatrix + sb0 * kSuperQK : nullptr;
    SearchChunk<KSearch::kQ6K>(xc, qc, count, scales, nullptr, nullptr, code_tiles);
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
        if (d == 0.0f) {  // the reference keeps the search's codes
          TileCodes<16>(code_tiles, static_cast<size_t>(s * 16 + j), Ls + 16 * j);
          continue;
        }
        RefitGroup<16, false>(xs + 16 * j, d, 0.0f, -32, 31, 32, Ls + 16 * j);
      }
      PackQ6Codes(Ls, o, o + 128);
      std::memcpy(o + 192, sc8, 16);
      std::memcpy(o + 208, &d_half, 2);
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
  HWY_ALIGN int32_t code_tiles[kChunkSuperBlocks * kSuperQK];
  for (int64_t sb0 = 0; sb0 < n_sb; sb0 += kChunkSuperBlocks) {
    const int count = static_cast<int>(std::min<int64_t>(kChunkSuperBlocks, n_sb - sb0));
    const float* xc = x + sb0 * kSuperQK;
    const float* qc = imatrix ? imatrix + sb0 * kSuperQK : nullptr;
    SearchChunk<KSearch::kQ2K>(xc, qc, count, scales, mins, sw, code_tiles);
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
        if (d == 0.0f) {  // the reference keeps the search's codes
          TileCodes<16>(code_tiles, static_cast<size_t>(s * 16 + j), Ls + 16 * j);
          continue;
        }
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

// Q3_K's 6-bit scale codes of 16 sub-block scales (no imatrix):
// clamp((int8_t) NearestInt(iscale * sc[j]), -32, 31) + 32.
HWY_INLINE void Q3ScaleCodes(const float* sc, float iscale, int32_t* codes) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  int j = 0;
  for (; j + static_cast<int>(lanes) <= 16; j += static_cast<int>(lanes)) {
    const VI l =
        SignExtendLowByte(NearestIntV(hn::Mul(hn::Set(df, iscale), hn::LoadU(df, sc + j))));
    hn::StoreU(hn::Add(ClampV(l, -32, 31), hn::Set(di, 32)), di, codes + j);
  }
  for (; j < 16; ++j) {
    const int l = static_cast<int8_t>(static_cast<uint8_t>(internal::NearestInt(iscale * sc[j])));
    codes[j] = std::max(-32, std::min(31, l)) + 32;
  }
}

// Super-blocks per batch of Q3_K's search (see Q3Searcher).
inline constexpr int kQ3BatchSuperBlocks = 32;

// SearchQ3 on gn (at most kQ3Tiles * Lanes, at most 32) groups, group g at
// x + id(g) * 16, its scale to scale(id(g)) (the codes are not kept: only a
// sub-block scale of 0 needs them, and PackBlockQ3 then asks the reference).
// kPreTest: SearchQ3's first round's tests instead of its descent; returns
// the groups that need the descent (bit g for group g), 0 otherwise.
template <bool kPreTest, class Id, class Scale>
HWY_INLINE uint32_t SearchTilesQ3(const float* x, size_t gn, const Id& id, const Scale& scale,
                                  const char* pf = nullptr, size_t pf_lines = 0) {
  constexpr int kN = 16;
  const size_t lanes = hn::Lanes(DF());
  // On 1 KiB boundaries with two tiles, as SearchQ3's tile arrays (see there).
  alignas(kQ3Tiles > 1 ? 1024 : 64) float xt[kQ3Tiles * kN * kMaxLanes];
  alignas(kQ3Tiles > 1 ? 1024 : 64) float codes[kQ3Tiles * kN * kMaxLanes];
  HWY_ALIGN float sc[kQ3Tiles * kMaxLanes];
  for (size_t k = 0; k * lanes < gn; ++k) {
    const size_t gk = std::min(lanes, gn - k * lanes);
    auto row = [&](size_t g) { return x + id(k * lanes + g) * kN; };
    if (gk == lanes) {
      TransposeTileRows<kN>(row, xt + k * kN * lanes);
    } else {
      GatherTileRows<kN>(row, gk, xt + k * kN * lanes);
    }
  }
  uint32_t need[kQ3Tiles] = {};
  if (gn == kQ3Tiles * lanes) {
    SearchQ3<kN, kQ3Tiles, kPreTest>(xt, 4, codes, sc, pf, pf_lines, need);
  } else {  // the last tiles, one at a time
    for (size_t k = 0; k * lanes < gn; ++k) {
      SearchQ3<kN, 1, kPreTest>(xt + k * kN * lanes, 4, codes, sc + k * lanes, nullptr, 0,
                                need + k);
    }
  }
  for (size_t g = 0; g < gn; ++g) scale(id(g)) = sc[g];
  uint32_t groups_need = 0;
  for (size_t k = 0; k < kQ3Tiles; ++k) groups_need |= need[k] << (k * lanes);
  return groups_need;
}

// The sub-block scales of Q3_K without an imatrix (MakeQ3Quants with do_rmse
// per group) for n_sb super-blocks at x, a batch of kQ3BatchSuperBlocks at a
// time, in two passes. The first runs every group of a batch up to its
// descent's first round, tested with the first pass's sums: a group none of
// whose steps must be taken changes no code in that round, so the reference
// stops there, and its scale is final. That is most groups: those whose max
// is positive never change a code (SearchQ3), and on Gaussian data more than
// half of the others change none either. The rest (about one group in five
// there, some 100 a batch) queue for the second pass, which searches them
// from the start in full pairs of tiles; the few left over wait for the next
// batch's, since a partial tile costs as much as a full one. So a batch's
// scales are final one batch later (Next), or at the end (Finish).
class Q3Searcher {
 public:
  static constexpr size_t kBatchGroups = kQ3BatchSuperBlocks * kSuperQK / 16;

  Q3Searcher(const float* x, int64_t n_sb) : x_(x), n_sb_(n_sb) {}

  // Runs the first pass of batch b (super-blocks from b * kQ3BatchSuperBlocks)
  // and the full tile pairs of the queue; returns the batch whose scales are
  // now final (b - 1; -1 for none), whose scales Scales(b - 1) gives.
  int64_t Next(int64_t b) {
    constexpr size_t kN = 16;
    const size_t pair = kQ3Tiles * hn::Lanes(DF());
    static_assert(kQ3Tiles * hn::MaxLanes(DF()) <= 32, "a tile pair's groups fit a uint32_t");
    const int64_t sb0 = b * kQ3BatchSuperBlocks;
    const size_t g_begin = static_cast<size_t>(sb0) * (kSuperQK / kN);
    const size_t g_end =
        static_cast<size_t>(std::min(sb0 + kQ3BatchSuperBlocks, n_sb_)) * (kSuperQK / kN);
    // The first pass prefetches the next batch's lines at the same offset,
    // one per element.
    const size_t g_last = static_cast<size_t>(n_sb_) * (kSuperQK / kN);
    const size_t next_groups = std::min(g_last - g_end, kBatchGroups);
    for (size_t g0 = g_begin; g0 < g_end; g0 += pair) {
      const size_t gn = std::min(pair, g_end - g0);
      const char* pf = nullptr;
      size_t pf_lines = 0;
      if (g0 - g_begin < next_groups) {
        pf = reinterpret_cast<const char*>(x_ + (g0 + kBatchGroups) * kN);
        pf_lines =
            (std::min(g0 - g_begin + gn, next_groups) - (g0 - g_begin)) * kN * sizeof(float) / 64;
      }
      uint32_t need = SearchTilesQ3<true>(
          x_, gn, [g0](size_t g) { return g0 + g; },
          [this](size_t g) -> float& { return Scale(g); }, pf, pf_lines);
      for (; need != 0; need &= need - 1) {
        queue_[n_queue_++] = g0 + hwy::Num0BitsBelowLS1Bit_Nonzero32(need);
      }
    }
    size_t done = 0;
    for (; n_queue_ - done >= pair; done += pair) Search(done, pair);
    std::copy(queue_ + done, queue_ + n_queue_, queue_);
    n_queue_ -= done;
    if (b == 0) return -1;
    // Batch b - 1 waits for the rest of the queue only when some of its
    // groups are there: when batch b queued fewer than what completes a pair.
    if (n_queue_ > 0 && queue_[0] < g_begin) Finish();
    return b - 1;
  }

  // Searches the queue, in partial tiles: every batch's scales are final.
  void Finish() {
    const size_t pair = kQ3Tiles * hn::Lanes(DF());
    for (size_t done = 0; done < n_queue_; done += pair) {
      Search(done, std::min(pair, n_queue_ - done));
    }
    n_queue_ = 0;
  }

  // The 16 sub-block scales of each super-block of batch b, in order.
  const float* Scales(int64_t b) const {
    return scales_ + static_cast<size_t>(b & 1) * kBatchGroups;
  }

 private:
  void Search(size_t first, size_t gn) {
    SearchTilesQ3<false>(
        x_, gn, [this, first](size_t g) { return queue_[first + g]; },
        [this](size_t g) -> float& { return Scale(g); });
  }

  // Group g's scale (g from x).
  float& Scale(size_t g) { return scales_[g % (2 * kBatchGroups)]; }

  const float* x_;
  int64_t n_sb_;
  // Two batches' scales, batch b's at (b & 1) * kBatchGroups.
  float scales_[2 * kBatchGroups];
  // Groups (from x) queued for the second pass, in order: at most a pair less
  // one left over and a batch.
  size_t queue_[kBatchGroups + 32];
  size_t n_queue_ = 0;
};

// The first of Q3_K's 16 sub-block scales with the largest |scale|, as the
// reference's loop finds it (a later one wins only when strictly larger, NaN
// never); 0 when every |scale| is 0 or NaN.
HWY_INLINE float Q3MaxScale(const float* sc) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  if (lanes > 16) {
    float max_scale = 0, amax = 0;
    for (int j = 0; j < 16; ++j) {
      const float a = std::fabs(sc[j]);
      if (a > amax) {
        amax = a;
        max_scale = sc[j];
      }
    }
    return max_scale;
  }
  // The largest |scale| (NaN lanes never replace the start value 0), then the
  // first scale of that magnitude.
  VF amax = hn::Zero(df);
  for (size_t j = 0; j < 16; j += lanes) {
    const VF a = hn::Abs(hn::LoadU(df, sc + j));
    amax = hn::IfThenElse(hn::Gt(a, amax), a, amax);
  }
  const VF m = hn::MaxOfLanes(df, amax);
  if (hn::GetLane(m) == 0.0f) return 0.0f;
  for (size_t j = 0; j < 16; j += lanes) {
    const intptr_t first = hn::FindFirstTrue(df, hn::Eq(hn::Abs(hn::LoadU(df, sc + j)), m));
    if (first >= 0) return sc[j + static_cast<size_t>(first)];
  }
  return 0.0f;  // not reached: some |scale| equals the maximum
}

// Q3_K's sub-block scales d * (codes[j] - 32) (each code 0 .. 63).
HWY_INLINE void Q3SubBlockScales(float dh, const int32_t* codes, float* d) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  int j = 0;
  for (; j + static_cast<int>(lanes) <= 16; j += static_cast<int>(lanes)) {
    const VF sc6 = ToFloat(hn::Sub(hn::LoadU(di, codes + j), hn::Set(di, 32)));
    hn::StoreU(hn::Mul(hn::Set(df, dh), sc6), df, d + j);
  }
  for (; j < 16; ++j) d[j] = dh * static_cast<float>(codes[j] - 32);
}

// RefitGroup<16, false> with Q3_K's range: L = clamp(NearestInt(x / d), -4, 3)
// + 4, bytes by truncation (the codes are 0 .. 7).
HWY_INLINE void RefitQ3Group(const float* x, float d, uint8_t* L) {
  const DF df;
  const hn::RebindToUnsigned<DI> du;
  const hn::Rebind<uint8_t, DI> du8;
  const size_t lanes = hn::Lanes(df);
  const VF vd = hn::Set(df, d);
  for (size_t i = 0; i < 16; i += lanes) {
    const VI l =
        hn::Add(ClampV(NearestIntV(hn::Div(hn::LoadU(df, x + i), vd)), -4, 3), hn::Set(DI(), 4));
    hn::StoreU(hn::TruncateTo(du8, hn::BitCast(du, l)), du8, L + i);
  }
}

// Whether none of the 16 floats at d (aligned) is 0 (NaN counts as not 0).
HWY_INLINE bool NoneZero16(const float* d) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  auto zero = hn::Eq(hn::Load(df, d), hn::Zero(df));
  for (size_t j = lanes; j < 16; j += lanes) {
    zero = hn::Or(zero, hn::Eq(hn::Load(df, d + j), hn::Zero(df)));
  }
  return hn::AllFalse(df, zero);
}

// Step k = 4 h + j of RefitPackQ3: lanes v .. of group g = 8 h + 2 j + r1,
// low bits to bits 2j of qs[h], bit 2 (inverted) to bit k of hm.
template <int k>
HWY_INLINE void RefitPackQ3Step(VF x, VF d, VI& qs, VI& hm) {
  const DI di;
  constexpr int j = k % 4;
  const VI c = hn::Min(hn::Max(NearestIntBitsV(hn::Div(x, d)), hn::Set(di, 0x003FFFFC)),
                       hn::Set(di, 0x00400003));
  if constexpr (j == 0) {
    qs = hn::And(c, hn::Set(di, 3));
  } else {
    qs = hn::OrAnd(qs, hn::ShiftLeft<2 * j>(c), hn::Set(di, 3 << (2 * j)));
  }
  if constexpr (k < 2) {
    hm = hn::OrAnd(hm, hn::ShiftRight<2 - k>(c), hn::Set(di, 1 << k));
  } else {
    hm = hn::OrAnd(hm, hn::ShiftLeft<k - 2>(c), hn::Set(di, 1 << k));
  }
}

// Stores the low bytes of Lanes int32 lanes (any values) at p: on AVX3 one
// truncating vpmovdb, where StoreLowBytes' saturating DemoteTo takes two
// operations (Q3_K 2 % slower with it, measured).
HWY_INLINE void StoreTruncatedBytes(VI v, uint8_t* p) {
#if HWY_TARGET <= HWY_AVX3
  _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(v.raw));
#else
  StoreLowBytes(hn::And(v, hn::Set(DI(), 0xFF)), p);
#endif
}

// Q3_K's codes of one super-block re-fitted to its sub-block scales d[0..15]
// (none of them 0) and packed in registers: L = clamp(NearestInt(x / d[j]),
// -4, 3) + 4, as RefitQ3Group, then Pack2BitCodes' and PackQ3HighBits'
// layouts without the byte array between them (measured on AVX3: 3 % faster
// Q3_K). NearestInt's masked bits m = NearestIntBitsV (0 .. 2^23 - 1) are
// clamped to [2^22 - 4, 2^22 + 3] (the same integer function: clamp(m -
// 2^22, -4, 3) + 4 = clamp(m, 2^22 - 4, 2^22 + 3) - (2^22 - 4)), whose low
// three bits are L ^ 4: bits 0-1 are L's, bit 2 is L's inverted.
HWY_INLINE void RefitPackQ3(const float* xs, const float* d, uint8_t* o) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  for (size_t r1 = 0; r1 < 2; ++r1) {
    for (size_t v = 0; v < 16; v += lanes) {
      // Group g = 8 h + 2 j + r1 for k = 4 h + j.
      auto x = [&](size_t g) HWY_ATTR { return hn::LoadU(df, xs + 16 * (g + r1) + v); };
      auto dv = [&](size_t g) HWY_ATTR { return hn::Set(df, d[g + r1]); };
      VI qs0, qs1;
      VI hm = hn::Zero(di);
      RefitPackQ3Step<0>(x(0), dv(0), qs0, hm);
      RefitPackQ3Step<1>(x(2), dv(2), qs0, hm);
      RefitPackQ3Step<2>(x(4), dv(4), qs0, hm);
      RefitPackQ3Step<3>(x(6), dv(6), qs0, hm);
      RefitPackQ3Step<4>(x(8), dv(8), qs1, hm);
      RefitPackQ3Step<5>(x(10), dv(10), qs1, hm);
      RefitPackQ3Step<6>(x(12), dv(12), qs1, hm);
      RefitPackQ3Step<7>(x(14), dv(14), qs1, hm);
      StoreTruncatedBytes(qs0, o + 32 + 16 * r1 + v);
      StoreTruncatedBytes(qs1, o + 64 + 16 * r1 + v);
      StoreTruncatedBytes(hn::Not(hm), o + 16 * r1 + v);
    }
  }
}

// With an imatrix, Q3_K's scale codes and block scale of each super-block
// of a chunk: MakeQxQuants(16, 32, scales, L, 1, sum of weights) per
// super-block, one super-block per lane (SearchQx on transposed scales).
HWY_INLINE void Q3ImatrixScaleCodes(const float* scales, const float* sw, int count, int32_t* codes,
                                    float* d_block) {
  const size_t lanes = hn::Lanes(DF());
  HWY_ALIGN float st[16 * kMaxLanes];
  HWY_ALIGN float wt[16 * kMaxLanes];
  HWY_ALIGN int32_t lt[16 * kMaxLanes];
  HWY_ALIGN float d[kMaxLanes];
  for (size_t s0 = 0; s0 < static_cast<size_t>(count); s0 += lanes) {
    const size_t n = std::min(lanes, static_cast<size_t>(count) - s0);
    GatherTile<16>(scales + 16 * s0, 16, n, st);
    GatherTile<16>(sw + 16 * s0, 16, n, wt);
    SearchQx<16>(st, wt, 32, lt, d);
    for (size_t s = 0; s < n; ++s) {
      for (size_t j = 0; j < 16; ++j) codes[16 * (s0 + s) + j] = lt[j * lanes + s];
      d_block[s0 + s] = d[s];
    }
  }
}

// Q3_K's bytes of one super-block from its 16 scale codes (0 .. 63) and its
// block scale: the codes re-fitted to the sub-block scales and packed, except
// where a sub-block scale is 0 (the reference then keeps the search's codes:
// keep(j, L) writes group j's 16 codes, 0 .. 7, to L).
template <class KeepCodes>
HWY_INLINE void PackBlockQ3(const float* xs, const int32_t* codes, uint16_t d_half, uint8_t* o,
                            KeepCodes keep) {
  uint8_t packed[12];
  for (int j = 0; j < 8; ++j) {
    packed[j] = static_cast<uint8_t>((codes[j] & 0xF) | ((codes[j + 8] & 0xF) << 4));
  }
  for (int m = 0; m < 4; ++m) {
    packed[8 + m] = static_cast<uint8_t>((codes[m] >> 4) | ((codes[m + 4] >> 4) << 2) |
                                         ((codes[m + 8] >> 4) << 4) | ((codes[m + 12] >> 4) << 6));
  }
  std::memcpy(o + 96, packed, 12);
  std::memcpy(o + 108, &d_half, 2);
  // Codes 0 .. 63 unpack to themselves: scale j is d * (codes[j] - 32).
  HWY_ALIGN float d[16];
  Q3SubBlockScales(F16ToF32(d_half), codes, d);
  if (NoneZero16(d)) {
    RefitPackQ3(xs, d, o);
    return;
  }
  uint8_t L[kSuperQK];
  for (int j = 0; j < 16; ++j) {
    if (d[j] == 0.0f) {
      keep(j, L + 16 * j);
    } else {
      RefitQ3Group(xs + 16 * j, d[j], L + 16 * j);
    }
  }
  PackQ3HighBits(L, o);
  Pack2BitCodes(L, o + 32);
}

// Q3_K: 16 groups of 16, symmetric 3-bit codes (MakeQ3Quants with coordinate
// descent, or MakeQxQuants under an imatrix), 6-bit signed sub-block scales.
inline void QuantizeQ3_K(const float* x, uint8_t* out, int64_t n, const float* imatrix) {
  const int64_t n_sb = n / kSuperQK;
  if (!imatrix) {
    Q3Searcher search(x, n_sb);
    const int64_t n_batches = (n_sb + kQ3BatchSuperBlocks - 1) / kQ3BatchSuperBlocks;
    auto pack = [&](int64_t b) {
      const int64_t sb0 = b * kQ3BatchSuperBlocks;
      const int count = static_cast<int>(std::min<int64_t>(kQ3BatchSuperBlocks, n_sb - sb0));
      const float* xb = x + sb0 * kSuperQK;
      const float* scales = search.Scales(b);
      for (int s = 0; s < count; ++s) {
        const float* sc = scales + 16 * s;
        const float* xs = xb + s * kSuperQK;
        HWY_ALIGN int32_t codes[16];
        uint16_t d_half;
        const float max_scale = Q3MaxScale(sc);
        if (max_scale != 0.0f) {
          const float iscale = -32.f / max_scale;
          Q3ScaleCodes(sc, iscale, codes);
          d_half = F32ToF16(1 / iscale);
        } else {  // all codes 0, which packs to the reference's zero bytes
          std::fill(codes, codes + 16, 0);
          d_half = F32ToF16(0.f);
        }
        PackBlockQ3(xs, codes, d_half, out + static_cast<size_t>(sb0 + s) * sizeof(BlockQ3_K),
                    [&](int j, uint8_t* L) {
                      int8_t l[16];
                      internal::MakeQ3Quants(16, 4, xs + 16 * j, l, true);
                      std::memcpy(L, l, 16);
                    });
      }
    };
    for (int64_t b = 0; b < n_batches; ++b) {
      const int64_t ready = search.Next(b);
      if (ready >= 0) pack(ready);
    }
    if (n_batches > 0) {
      search.Finish();
      pack(n_batches - 1);
    }
    return;
  }
  float scales[kChunkSuperBlocks * 16], sw[kChunkSuperBlocks * 16];
  HWY_ALIGN int32_t code_tiles[kChunkSuperBlocks * kSuperQK];
  int32_t block_codes[kChunkSuperBlocks * 16];  // scale codes
  float block_d[kChunkSuperBlocks];             // and block scales
  for (int64_t sb0 = 0; sb0 < n_sb; sb0 += kChunkSuperBlocks) {
    const int count = static_cast<int>(std::min<int64_t>(kChunkSuperBlocks, n_sb - sb0));
    const float* xc = x + sb0 * kSuperQK;
    SearchChunk<KSearch::kQ3K>(xc, imatrix + sb0 * kSuperQK, count, scales, nullptr, sw,
                               code_tiles);
    Q3ImatrixScaleCodes(scales, sw, count, block_codes, block_d);
    for (int s = 0; s < count; ++s) {
      PackBlockQ3(xc + s * kSuperQK, block_codes + 16 * s, F32ToF16(block_d[s]),
                  out + static_cast<size_t>(sb0 + s) * sizeof(BlockQ3_K),
                  [&](int j, uint8_t* L) { TileCodes<16>(code_tiles, 16 * s + j, L); });
    }
  }
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_QUANTIZE_KQUANTS_INL_H_
