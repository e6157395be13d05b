// Reference quantizers of the codebook i-quants: IQ2_XXS, IQ2_XS, IQ2_S,
// IQ3_XXS, IQ3_S, IQ1_S, IQ1_M (layouts in block_iq.h).
//
// They reproduce ggml's quantize_iq2_xxs ... quantize_iq1_m (ggml-quants.c,
// ggml-org/ggml d99724f2) byte for byte: the same searches, every float
// operation in the same order (fp32 throughout, no contraction; the project
// builds with -ffp-contract=off), the same tie breaks. Written from the
// algorithm, not copied. In short, per 256-weight super-block:
//   - element weights w_i = imatrix_i * sqrt(sigma2 + x_i^2) (sigma2 a
//     multiple of the mean square of the super-block), or a type-specific
//     formula without an importance matrix;
//   - per sub-block, a sweep over trial scales: round |x| / scale to levels,
//     snap each group to the grid (an off-grid group takes its best
//     neighbour, iq_search_tables.h), keep the scale of the best weighted
//     least-squares fit; then one refit at that scale;
//   - the sub-block scales quantized to 4 (3 for IQ1) bits against
//     d = max_scale / 31 (15 for IQ1), d stored as fp16 with ggml's fudge
//     factors.
// IQ1_S / IQ1_M solve each sub-block exactly over the 3 levels by sorting
// (ggml sorts with glibc's qsort, a stable merge sort for these sizes:
// SortPairs reproduces it, including its order for NaN).
//
// Where ggml aborts (a neighbour search that finds no candidate because every
// distance is NaN or infinite: NaN input, or weights so large the squares
// overflow), these quantizers take the first candidate instead; such input
// has no ggml bytes to match.
#include <array>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "ggufkit/quants/block_iq.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/iq_search_tables.h"
#include "ggufkit/quants/quant_search_internal.h"

namespace ggufkit::internal {
namespace {

constexpr int kQK = kIqSuperBlockSize;

// ggml's thresholds below which a sub-block counts as zero.
constexpr float kEpsDefault = 1e-15f;  // IQ2_XXS, IQ2_XS
constexpr float kEpsIq3Xxs = 1e-8f;
constexpr float kEpsIq2S = 1e-8f;
constexpr float kEpsIq1M = 1e-7f;
constexpr float kEpsIq1S = 1e-12f;

constexpr float kIq1Delta = 0.125f;

inline float Max(float a, float b) { return a > b ? a : b; }  // ggml's MAX
inline int ClampInt(int v, int lo, int hi) { return v < lo ? lo : (v > hi ? hi : v); }
inline float ToF(int v) { return static_cast<float>(v); }

// Level (0..nmax-1) of |x| at inverse scale id: the nearest odd position
// 2l+1 to id * x.
inline int LevelOf(float id, float x, int nmax) {
  return ClampInt(NearestInt(0.5f * (id * x - 1)), 0, nmax - 1);
}

// Best grid neighbour of an off-grid group for the IQ2 / IQ3 searches:
// minimizes sum w_i (scale * pos_i - x_i)^2 over the key's neighbour list
// (first minimum wins). Writes the levels of the chosen point to L.
int FindBestNeighbour(const IqSearchTable& t, uint32_t key, const float* xval, const float* weight,
                      float scale, int8_t* L) {
  const uint16_t* nb = t.Neighbours(key);
  const int count = nb[0];
  float best_d2 = FLT_MAX;
  int grid_index = -1;
  for (int j = 1; j <= count; ++j) {
    const int8_t* pg = t.Position(nb[j]);
    float d2 = 0;
    for (int i = 0; i < t.dims; ++i) {
      const float q = pg[i];
      const float diff = scale * q - xval[i];
      d2 += weight[i] * diff * diff;
    }
    if (d2 < best_d2) {
      best_d2 = d2;
      grid_index = nb[j];
    }
  }
  if (grid_index < 0) grid_index = count > 0 ? nb[1] : 0;  // ggml aborts here
  const int8_t* pg = t.Position(grid_index);
  for (int i = 0; i < t.dims; ++i) L[i] = static_cast<int8_t>((pg[i] - 1) / 2);
  return grid_index;
}

// Packs levels L[0..dims) into a key.
inline uint32_t KeyOf(const IqSearchTable& t, const int8_t* L) {
  uint32_t u = 0;
  for (int i = 0; i < t.dims; ++i) u |= static_cast<uint32_t>(L[i]) << (t.bits * i);
  return u;
}

// Grid index of levels L; an off-grid group (only possible where ggml would
// have aborted) snaps to its nearest neighbour. Levels are clamped to the
// table's range first: IQ2_XXS can reach here with MakeQpQuants' levels
// (0..4, or garbage for NaN) when every fit failed, where ggml indexes its
// map out of bounds.
inline int GridIndexOf(const IqSearchTable& t, int8_t* L, const float* xval, const float* weight,
                       float scale) {
  const int max_level = t.bits == 2 ? 2 : 7;
  for (int i = 0; i < t.dims; ++i) L[i] = static_cast<int8_t>(ClampInt(L[i], 0, max_level));
  const uint32_t u = KeyOf(t, L);
  const int g = t.GridIndex(u);
  return g >= 0 ? g : FindBestNeighbour(t, u, xval, weight, scale, L);
}

// Element weights of one sub-block: imatrix * sqrt(sigma2 + x^2).
inline void ImatrixWeights(const float* qw, const float* xb, float sigma2, int n, float* weight) {
  for (int i = 0; i < n; ++i) weight[i] = qw[i] * std::sqrt(sigma2 + xb[i] * xb[i]);
}

// IQ2_XXS, IQ2_XS and IQ1_S need an importance matrix (ggml aborts without
// one; Quantize() refuses). Called directly without one, they use unit
// importance rather than crash.
const float* OrOnes(const float* qw_block) {
  static const std::array<float, kIqSuperBlockSize> kOnes = [] {
    std::array<float, kIqSuperBlockSize> ones;
    ones.fill(1.0f);
    return ones;
  }();
  return qw_block != nullptr ? qw_block : kOnes.data();
}

inline float SumSquares(const float* x) {
  float s = 0;
  for (int i = 0; i < kQK; ++i) s += x[i] * x[i];
  return s;
}

// |x| of 8 elements into xval with their sign bits; when the number of
// negatives is odd, the element of least weight * x^2 keeps its sign (its
// value is negated in xval), so the 7 stored bits plus parity describe it.
uint8_t FoldSignsEven(const float* xb, const float* weight, float* xval) {
  int nflip = 0;
  uint8_t s = 0;
  for (int i = 0; i < 8; ++i) {
    if (xb[i] >= 0) {
      xval[i] = xb[i];
    } else {
      xval[i] = -xb[i];
      ++nflip;
      s = static_cast<uint8_t>(s | (1 << i));
    }
  }
  if (nflip % 2) {
    int imin = 0;
    float min = weight[0] * xb[0] * xb[0];
    for (int i = 1; i < 8; ++i) {
      const float ax = weight[i] * xb[i] * xb[i];
      if (ax < min) {
        min = ax;
        imin = i;
      }
    }
    xval[imin] = -xval[imin];
    s = static_cast<uint8_t>(s ^ (1 << imin));
  }
  return static_cast<uint8_t>(s & 127);
}

// |x| of 8 elements with all 8 sign bits (IQ2_S, IQ3_S).
uint8_t FoldSignsAll(const float* xb, float* xval) {
  uint8_t s = 0;
  for (int i = 0; i < 8; ++i) {
    if (xb[i] >= 0) {
      xval[i] = xb[i];
    } else {
      xval[i] = -xb[i];
      s = static_cast<uint8_t>(s | (1 << i));
    }
  }
  return s;
}

// Weighted least-squares sums of xval against positions 2L+1.
inline void FitSums(int n, const float* weight, const float* xval, const int8_t* L, float* sumqx,
                    float* sumq2) {
  float sx = 0;
  float s2 = 0;
  for (int i = 0; i < n; ++i) {
    const float w = weight[i];
    const float q = ToF(2 * L[i] + 1);
    sx += w * xval[i] * q;
    s2 += w * q * q;
  }
  *sumqx = sx;
  *sumq2 = s2;
}

// The trial-scale sweep of every IQ2 / IQ3 quantizer: for is in
// [-n_steps, n_steps], inverse scale id = (2 nmax - 1 + is * step) / max,
// levels snapped to the grid, best weighted fit kept (the first trial with a
// positive fit always counts). `scale`, L and on_grid (when non-null) are
// updated in place when a trial improves.
void ScaleSweep(const IqSearchTable& t, int n, int nmax, int n_steps, float step, float max,
                const float* xval, const float* weight, const float* waux, float* scale, int8_t* L,
                bool* on_grid) {
  const int groups = n / t.dims;
  int8_t Laux[32];
  bool on_grid_aux[8];
  float best = 0;
  for (int is = -n_steps; is <= n_steps; ++is) {
    const float id = (ToF(2 * nmax - 1) + ToF(is) * step) / max;
    const float this_scale = 1 / id;
    for (int k = 0; k < groups; ++k) {
      int8_t* lk = Laux + t.dims * k;
      for (int i = 0; i < t.dims; ++i) {
        lk[i] = static_cast<int8_t>(LevelOf(id, xval[t.dims * k + i], nmax));
      }
      const uint32_t u = KeyOf(t, lk);
      on_grid_aux[k] = t.GridIndex(u) >= 0;
      if (!on_grid_aux[k]) {
        FindBestNeighbour(t, u, xval + t.dims * k, waux + t.dims * k, this_scale, lk);
      }
    }
    float sumqx, sumq2;
    FitSums(n, weight, xval, Laux, &sumqx, &sumq2);
    if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
      *scale = sumqx / sumq2;
      best = *scale * sumqx;
      std::memcpy(L, Laux, n);
      if (on_grid != nullptr) std::memcpy(on_grid, on_grid_aux, groups * sizeof(bool));
    }
  }
}

// Re-rounds the groups flagged off-grid (all groups when only_off_grid is
// false) at `scale`, snaps them, and returns the refitted scale (unchanged
// when the fit is degenerate).
float Refit(const IqSearchTable& t, int n, int nmax, const float* xval, const float* weight,
            const float* waux, float scale, int8_t* L, const bool* on_grid) {
  const float id = 1 / scale;
  for (int k = 0; k < n / t.dims; ++k) {
    if (on_grid != nullptr && on_grid[k]) continue;
    int8_t* lk = L + t.dims * k;
    for (int i = 0; i < t.dims; ++i) {
      lk[i] = static_cast<int8_t>(LevelOf(id, xval[t.dims * k + i], nmax));
    }
    const uint32_t u = KeyOf(t, lk);
    if (t.GridIndex(u) < 0) {
      FindBestNeighbour(t, u, xval + t.dims * k, waux + t.dims * k, scale, lk);
    }
  }
  float sumqx, sumq2;
  FitSums(n, weight, xval, L, &sumqx, &sumq2);
  return sumq2 > 0 ? sumqx / sumq2 : scale;
}

// 4-bit sub-block scale code: nearest l with d * (2l + 1) ~ 2 * scale.
inline int ScaleCode(float id, float scale, int max_code) {
  return ClampInt(NearestInt(0.5f * (id * scale - 1)), 0, max_code);
}

// ------------------------------------------------------------------ IQ2_XXS

void QuantizeIq2XxsBlock(const float* xbl, const float* qw_or_null, BlockIq2Xxs* y) {
  const float* qw_block = OrOnes(qw_or_null);
  const IqSearchTable& t = Iq2XxsSearchTable();
  constexpr int kMaxQ = 3;
  float scales[kQK / 32];
  float weight[32], waux[32], xval[32];
  int8_t L[32];
  uint8_t block_signs[4];
  uint32_t q2[2 * (kQK / 32)];
  std::memset(q2, 0, sizeof q2);
  y->d = F32ToF16(0.f);
  float max_scale = 0;
  const float sigma2 = SumSquares(xbl) / kQK;
  for (int ib = 0; ib < kQK / 32; ++ib) {
    const float* xb = xbl + 32 * ib;
    ImatrixWeights(qw_block + 32 * ib, xb, sigma2, 32, weight);
    for (int i = 0; i < 32; ++i) waux[i] = std::sqrt(weight[i]);
    for (int k = 0; k < 4; ++k)
      block_signs[k] = FoldSignsEven(xb + 8 * k, weight + 8 * k, xval + 8 * k);
    float max = xval[0];
    for (int i = 1; i < 32; ++i) max = Max(max, xval[i]);
    if (max < kEpsDefault) {
      scales[ib] = 0;
      continue;
    }
    // The first guess comes from MakeQpQuants over levels 0..kMaxQ.
    float scale = MakeQpQuants(32, kMaxQ + 1, xval, reinterpret_cast<uint8_t*>(L), weight);
    const float eff_max = scale * kMaxQ;
    if (eff_max <= 0) {
      scales[ib] = 0;
      continue;
    }
    // Sweep 13 scales around 5 / eff_max, then re-round every group.
    ScaleSweep(t, 32, kMaxQ, 6, 0.1f, eff_max, xval, weight, waux, &scale, L, nullptr);
    if (scale > 0) scale = Refit(t, 32, kMaxQ, xval, weight, waux, scale, L, nullptr);
    if (scale < 0) {
      // Cannot happen with |x| input, but ggml guards it: flip everything.
      scale = -scale;
      for (int k = 0; k < 4; ++k) block_signs[k] = static_cast<uint8_t>(~block_signs[k] & 127);
    }
    for (int k = 0; k < 4; ++k) {
      const int g = GridIndexOf(t, L + 8 * k, xval + 8 * k, waux + 8 * k, scale);
      q2[2 * ib] |= static_cast<uint32_t>(g) << (8 * k);
      q2[2 * ib + 1] |= static_cast<uint32_t>(block_signs[k]) << (7 * k);
    }
    scales[ib] = scale;
    max_scale = Max(max_scale, scale);
  }
  if (!max_scale) {
    std::memset(y->qs, 0, sizeof y->qs);
    return;
  }
  const float d = max_scale / 31;
  y->d = F32ToF16(d);
  const float id = 1 / d;
  for (int ib = 0; ib < kQK / 32; ++ib) {
    q2[2 * ib + 1] |= static_cast<uint32_t>(ScaleCode(id, scales[ib], 15)) << 28;
  }
  std::memcpy(y->qs, q2, sizeof y->qs);
}

// ------------------------------------------------------------ IQ2_XS / IQ2_S

// Both use 16-weight sub-blocks of 2 groups. IQ2_XS folds signs to an even
// count over a 512-point grid; IQ2_S keeps 8 sign bits over a 1024-point grid.
struct Iq2Sub {
  float scale = 0;
  int grid[2] = {0, 0};
  uint8_t signs[2] = {0, 0};
};

// Returns false for a zero sub-block.
bool QuantizeIq2Sub16(const IqSearchTable& t, bool even_signs, float eps, const float* xb,
                      const float* weight, Iq2Sub* out) {
  constexpr int kMaxQ = 3;
  float waux[16], xval[16];
  int8_t L[16];
  bool on_grid[2];
  for (int i = 0; i < 16; ++i) waux[i] = std::sqrt(weight[i]);
  for (int k = 0; k < 2; ++k) {
    out->signs[k] = even_signs ? FoldSignsEven(xb + 8 * k, weight + 8 * k, xval + 8 * k)
                               : FoldSignsAll(xb + 8 * k, xval + 8 * k);
  }
  float max = xval[0];
  for (int i = 1; i < 16; ++i) max = Max(max, xval[i]);
  std::memset(L, 0, sizeof L);
  if (max < eps) return false;
  float scale = max / (2 * kMaxQ - 1);
  on_grid[0] = on_grid[1] = true;
  ScaleSweep(t, 16, kMaxQ, 9, 0.1f, max, xval, weight, waux, &scale, L, on_grid);
  if ((!on_grid[0] || !on_grid[1]) && scale > 0) {
    scale = Refit(t, 16, kMaxQ, xval, weight, waux, scale, L, on_grid);
  }
  if (scale < 0) {
    scale = -scale;
    for (int k = 0; k < 2; ++k) {
      out->signs[k] = static_cast<uint8_t>(even_signs ? ~out->signs[k] & 127 : ~out->signs[k]);
    }
  }
  for (int k = 0; k < 2; ++k) {
    out->grid[k] = GridIndexOf(t, L + 8 * k, xval + 8 * k, waux + 8 * k, scale);
  }
  out->scale = scale;
  return true;
}

void QuantizeIq2XsBlock(const float* xbl, const float* qw_or_null, BlockIq2Xs* y) {
  const float* qw_block = OrOnes(qw_or_null);
  const IqSearchTable& t = Iq2XsSearchTable();
  float scales[kQK / 16];
  float weight[16];
  uint16_t q2[2 * (kQK / 16)];
  std::memset(q2, 0, sizeof q2);
  y->d = F32ToF16(0.f);
  std::memset(y->scales, 0, sizeof y->scales);
  float max_scale = 0;
  const float sigma2 = SumSquares(xbl) / kQK;
  for (int ib = 0; ib < kQK / 16; ++ib) {
    const float* xb = xbl + 16 * ib;
    ImatrixWeights(qw_block + 16 * ib, xb, sigma2, 16, weight);
    Iq2Sub sub;
    if (!QuantizeIq2Sub16(t, /*even_signs=*/true, kEpsDefault, xb, weight, &sub)) {
      scales[ib] = 0;
      continue;
    }
    for (int k = 0; k < 2; ++k) {
      q2[2 * ib + k] = static_cast<uint16_t>(sub.grid[k] | (sub.signs[k] << 9));
    }
    scales[ib] = sub.scale;
    max_scale = Max(max_scale, sub.scale);
  }
  if (!max_scale) {
    std::memset(y->qs, 0, sizeof y->qs);
    return;
  }
  const float d = max_scale / 31;
  y->d = F32ToF16(d);
  const float id = 1 / d;
  for (int ib = 0; ib < kQK / 16; ++ib) {
    const int l = ScaleCode(id, scales[ib], 15);
    y->scales[ib / 2] = static_cast<uint8_t>(ib % 2 == 0 ? l : y->scales[ib / 2] | (l << 4));
  }
  std::memcpy(y->qs, q2, sizeof y->qs);
}

void QuantizeIq2SBlock(const float* xbl, const float* qw_block, BlockIq2S* y) {
  const IqSearchTable& t = Iq2SSearchTable();
  float scales[kQK / 16];
  float weight[16];
  std::memset(y, 0, sizeof *y);
  y->d = F32ToF16(0.f);
  float max_scale = 0;
  const float sigma2 = 2 * SumSquares(xbl) / kQK;
  for (int ib = 0; ib < kQK / 16; ++ib) {
    const float* xb = xbl + 16 * ib;
    if (qw_block != nullptr) {
      ImatrixWeights(qw_block + 16 * ib, xb, sigma2, 16, weight);
    } else {
      for (int i = 0; i < 16; ++i) weight[i] = 0.25f * sigma2 + xb[i] * xb[i];
    }
    Iq2Sub sub;
    if (!QuantizeIq2Sub16(t, /*even_signs=*/false, kEpsIq2S, xb, weight, &sub)) {
      scales[ib] = 0;
      continue;
    }
    for (int k = 0; k < 2; ++k) {
      const int i8 = 2 * ib + k;
      y->qs[i8] = static_cast<uint8_t>(sub.grid[k] & 255);
      y->qh[i8 / 4] = static_cast<uint8_t>(y->qh[i8 / 4] | ((sub.grid[k] >> 8) << (2 * (i8 % 4))));
      y->qs[kQK / 8 + i8] = sub.signs[k];
    }
    scales[ib] = sub.scale;
    max_scale = Max(max_scale, sub.scale);
  }
  if (!max_scale) return;
  const float d = max_scale / 31;
  y->d = F32ToF16(d * 0.9875f);
  const float id = 1 / d;
  for (int ib = 0; ib < kQK / 16; ++ib) {
    const int l = ScaleCode(id, scales[ib], 15);
    y->scales[ib / 2] = static_cast<uint8_t>(ib % 2 == 0 ? l : y->scales[ib / 2] | (l << 4));
  }
}

// ------------------------------------------------------------ IQ3_XXS / IQ3_S

// 32-weight sub-blocks of 8 groups of 4 (the signs still go by 8).
struct Iq3Sub {
  float scale = 0;
  int grid[8] = {};
  uint8_t signs[4] = {};
};

bool QuantizeIq3Sub32(const IqSearchTable& t, bool is_s, const float* xb, const float* weight,
                      Iq3Sub* out) {
  constexpr int kMaxQ = 8;
  float waux[32], xval[32];
  int8_t L[32];
  bool on_grid[8];
  for (int i = 0; i < 32; ++i) waux[i] = std::sqrt(weight[i]);
  for (int k = 0; k < 4; ++k) {
    out->signs[k] = is_s ? FoldSignsAll(xb + 8 * k, xval + 8 * k)
                         : FoldSignsEven(xb + 8 * k, weight + 8 * k, xval + 8 * k);
  }
  float max = xval[0];
  for (int i = 1; i < 32; ++i) max = Max(max, xval[i]);
  std::memset(L, 0, sizeof L);
  if (is_s ? !max : max < kEpsIq3Xxs) return false;
  float scale = max / (2 * kMaxQ - 1);
  // IQ3_S starts with every group flagged off-grid, so that the refit runs
  // even when no trial improves; IQ3_XXS starts on-grid.
  for (int k = 0; k < 8; ++k) on_grid[k] = !is_s;
  ScaleSweep(t, 32, kMaxQ, is_s ? 9 : 15, 0.2f, max, xval, weight, waux, &scale, L, on_grid);
  int n_off = 0;
  for (int k = 0; k < 8; ++k) n_off += on_grid[k] ? 0 : 1;
  if (n_off > 0 && scale > 0) {
    // IQ3_S re-rounds every group, IQ3_XXS only the off-grid ones.
    scale = Refit(t, 32, kMaxQ, xval, weight, waux, scale, L, is_s ? nullptr : on_grid);
  }
  if (scale < 0) {
    scale = -scale;
    for (int k = 0; k < 4; ++k) {
      out->signs[k] = static_cast<uint8_t>(is_s ? ~out->signs[k] : ~out->signs[k] & 127);
    }
  }
  for (int k = 0; k < 8; ++k) {
    out->grid[k] = GridIndexOf(t, L + 4 * k, xval + 4 * k, waux + 4 * k, scale);
  }
  out->scale = scale;
  return true;
}

void QuantizeIq3XxsBlock(const float* xbl, const float* qw_block, BlockIq3Xxs* y) {
  const IqSearchTable& t = Iq3XxsSearchTable();
  float scales[kQK / 32];
  float weight[32];
  uint8_t q3[3 * (kQK / 8)];  // 64 grid bytes, then 8 u32 scales-and-signs
  uint32_t scales_and_signs[kQK / 32];
  std::memset(q3, 0, sizeof q3);
  std::memset(scales_and_signs, 0, sizeof scales_and_signs);
  y->d = F32ToF16(0.f);
  float max_scale = 0;
  const float sigma2 = 2 * SumSquares(xbl) / kQK;
  for (int ib = 0; ib < kQK / 32; ++ib) {
    const float* xb = xbl + 32 * ib;
    if (qw_block != nullptr) {
      ImatrixWeights(qw_block + 32 * ib, xb, sigma2, 32, weight);
    } else {
      for (int i = 0; i < 32; ++i) weight[i] = xb[i] * xb[i];
    }
    Iq3Sub sub;
    if (!QuantizeIq3Sub32(t, /*is_s=*/false, xb, weight, &sub)) {
      scales[ib] = 0;
      continue;
    }
    for (int k = 0; k < 8; ++k) q3[8 * ib + k] = static_cast<uint8_t>(sub.grid[k]);
    scales_and_signs[ib] = static_cast<uint32_t>(sub.signs[0]) | (sub.signs[1] << 7) |
                           (sub.signs[2] << 14) | (sub.signs[3] << 21);
    scales[ib] = sub.scale;
    max_scale = Max(max_scale, sub.scale);
  }
  if (!max_scale) {
    std::memset(y->qs, 0, sizeof y->qs);
    return;
  }
  const float d = max_scale / 31;
  y->d = F32ToF16(d * 1.0125f);
  const float id = 1 / d;
  for (int ib = 0; ib < kQK / 32; ++ib) {
    scales_and_signs[ib] |= static_cast<uint32_t>(ScaleCode(id, scales[ib], 15)) << 28;
  }
  std::memcpy(y->qs, q3, kQK / 4);
  std::memcpy(y->qs + kQK / 4, scales_and_signs, sizeof scales_and_signs);
}

void QuantizeIq3SBlock(const float* xbl, const float* qw_block, BlockIq3S* y) {
  const IqSearchTable& t = Iq3SSearchTable();
  float scales[kQK / 32];
  float weight[32];
  std::memset(y, 0, sizeof *y);
  int written = 0;  // sub-blocks stored so far
  y->d = F32ToF16(0.f);
  float max_scale = 0;
  const float sigma2 = 2 * SumSquares(xbl) / kQK;
  for (int ib = 0; ib < kQK / 32; ++ib) {
    const float* xb = xbl + 32 * ib;
    if (qw_block != nullptr) {
      ImatrixWeights(qw_block + 32 * ib, xb, sigma2, 32, weight);
    } else {
      for (int i = 0; i < 32; ++i) weight[i] = xb[i] * xb[i];
    }
    Iq3Sub sub;
    if (!QuantizeIq3Sub32(t, /*is_s=*/true, xb, weight, &sub)) {
      scales[ib] = 0;
      continue;
    }
    // ggml advances its grid-index and sign write positions only past
    // sub-blocks it quantized: after an all-zero sub-block, the following
    // ones land one slot early (and decode as such). The high bits go by ib.
    for (int k = 0; k < 8; ++k) {
      y->qs[8 * written + k] = static_cast<uint8_t>(sub.grid[k] & 255);
      y->qh[ib] = static_cast<uint8_t>(y->qh[ib] | ((sub.grid[k] >> 8) << k));
    }
    for (int k = 0; k < 4; ++k) y->signs[4 * written + k] = sub.signs[k];
    ++written;
    scales[ib] = sub.scale;
    max_scale = Max(max_scale, sub.scale);
  }
  if (!max_scale) return;
  const float d = max_scale / 31;
  y->d = F32ToF16(d * 1.033f);
  const float id = 1 / d;
  for (int ib = 0; ib < kQK / 32; ib += 2) {
    const int l1 = ScaleCode(id, scales[ib], 15);
    const int l2 = ScaleCode(id, scales[ib + 1], 15);
    y->scales[ib / 2] = static_cast<uint8_t>(l1 | (l2 << 4));
  }
}

// ------------------------------------------------------------ IQ1_S / IQ1_M

// (value, original index) pairs sorted by value like glibc's qsort does for
// small arrays: a top-down merge sort, halves n/2 and n - n/2, ties (and
// incomparable NaN) taken from the left half first.
struct Pair {
  float v;
  int i;
};
void SortPairs(Pair* p, Pair* tmp, int n) {
  if (n <= 1) return;
  const int n1 = n / 2;
  const int n2 = n - n1;
  Pair* b1 = p;
  Pair* b2 = p + n1;
  SortPairs(b1, tmp, n1);
  SortPairs(b2, tmp, n2);
  int i1 = 0, i2 = 0, o = 0;
  while (i1 < n1 && i2 < n2) {
    // glibc's cmp(b1, b2) <= 0, with cmp = a < b ? -1 : a > b ? 1 : 0.
    if (!(b1[i1].v > b2[i2].v)) {
      tmp[o++] = b1[i1++];
    } else {
      tmp[o++] = b2[i2++];
    }
  }
  while (i1 < n1) tmp[o++] = b1[i1++];
  // Whatever is left of the right half is already in place.
  std::memcpy(p, tmp, static_cast<size_t>(o) * sizeof(Pair));
}

// Best grid neighbour of an off-grid IQ1 group: minimizes
// sum w_i (scale * xg[level_i] - x_i)^2. Writes the chosen levels to L.
int FindBestNeighbourIq1(const IqSearchTable& t, uint32_t key, const float* xval,
                         const float* weight, float scale, const float* xg, int8_t* L) {
  const uint16_t* nb = t.Neighbours(key);
  const int count = nb[0];
  float best = FLT_MAX;
  int grid_index = -1;
  for (int j = 1; j <= count; ++j) {
    const int8_t* pg = t.Position(nb[j]);
    float d2 = 0;
    for (int i = 0; i < 8; ++i) {
      const float q = xg[(pg[i] - 1) / 2];
      const float w = weight[i];
      const float diff = scale * q - xval[i];
      d2 += w * diff * diff;
    }
    if (d2 < best) {
      best = d2;
      grid_index = nb[j];
    }
  }
  // ggml then scans the whole grid (reading past its input) and aborts when
  // that finds nothing either: every distance here is NaN or infinite, so
  // take the first neighbour.
  if (grid_index < 0) grid_index = count > 0 ? nb[1] : 0;
  const int8_t* pg = t.Position(grid_index);
  for (int i = 0; i < 8; ++i) L[i] = static_cast<int8_t>((pg[i] - 1) / 2);
  return grid_index;
}

constexpr float kXp[3] = {-1 + kIq1Delta, kIq1Delta, 1 + kIq1Delta};
constexpr float kXm[3] = {-1 - kIq1Delta, -kIq1Delta, 1 - kIq1Delta};

void QuantizeIq1SBlock(const float* xbl, const float* qw_or_null, BlockIq1S* y) {
  const float* qw_block = OrOnes(qw_or_null);
  const IqSearchTable& t = Iq1SearchTable();
  constexpr int kBs = 32;
  float scales[kQK / kBs];
  int8_t shifts[kQK / kBs];
  float weight[kBs];
  float sumx[kBs + 1], sumw[kBs + 1];
  Pair pairs[kBs], tmp[kBs];
  int8_t L[kBs];
  uint16_t index[kBs / 8];
  y->d = F32ToF16(0.f);
  std::memset(y->qs, 0, sizeof y->qs);
  std::memset(y->qh, 0, sizeof y->qh);
  float max_scale = 0;
  const float sigma2 = 2 * SumSquares(xbl) / kQK;
  for (int ib = 0; ib < kQK / kBs; ++ib) {
    const float* xb = xbl + kBs * ib;
    ImatrixWeights(qw_block + kBs * ib, xb, sigma2, kBs, weight);
    float max = std::fabs(xb[0]);
    for (int i = 1; i < kBs; ++i) max = Max(max, std::fabs(xb[i]));
    if (max < kEpsIq1S) {
      scales[ib] = 0;
      shifts[ib] = 1;
      continue;
    }
    // Exact search over the two split points of the sorted values.
    for (int j = 0; j < kBs; ++j) pairs[j] = Pair{xb[j], j};
    SortPairs(pairs, tmp, kBs);
    sumx[0] = sumw[0] = 0;
    for (int j = 0; j < kBs; ++j) {
      const int i = pairs[j].i;
      sumx[j + 1] = sumx[j] + weight[i] * xb[i];
      sumw[j + 1] = sumw[j] + weight[i];
    }
    float best_score = -FLT_MAX;
    float scale = max;
    int besti1 = -1, besti2 = -1, best_shift = 0;
    for (int i1 = 0; i1 <= kBs; ++i1) {
      for (int i2 = i1; i2 <= kBs; ++i2) {
        const float a = sumx[i1] - sumx[0], b = sumx[i2] - sumx[i1], c = sumx[kBs] - sumx[i2];
        const float wa = sumw[i1] - sumw[0], wb = sumw[i2] - sumw[i1], wc = sumw[kBs] - sumw[i2];
        float sumqx = a * kXp[0] + b * kXp[1] + c * kXp[2];
        float sumq2 = wa * kXp[0] * kXp[0] + wb * kXp[1] * kXp[1] + wc * kXp[2] * kXp[2];
        if (sumq2 > 0 && sumqx * sumqx > best_score * sumq2) {
          scale = sumqx / sumq2;
          best_score = scale * sumqx;
          besti1 = i1;
          besti2 = i2;
          best_shift = 1;
        }
        sumqx = a * kXm[0] + b * kXm[1] + c * kXm[2];
        sumq2 = wa * kXm[0] * kXm[0] + wb * kXm[1] * kXm[1] + wc * kXm[2] * kXm[2];
        if (sumq2 > 0 && sumqx * sumqx > best_score * sumq2) {
          scale = sumqx / sumq2;
          best_score = scale * sumqx;
          besti1 = i1;
          besti2 = i2;
          best_shift = -1;
        }
      }
    }
    if (besti1 < 0 || besti2 < 0 || best_shift == 0) {
      scales[ib] = 0;
      shifts[ib] = 1;
      continue;
    }
    for (int j = 0; j < besti1; ++j) L[pairs[j].i] = 0;
    for (int j = besti1; j < besti2; ++j) L[pairs[j].i] = 1;
    for (int j = besti2; j < kBs; ++j) L[pairs[j].i] = 2;
    if (scale < 0) {
      for (int j = 0; j < kBs; ++j) L[j] = static_cast<int8_t>(2 - L[j]);
      scale = -scale;
      best_shift = -best_shift;
    }
    bool all_on_grid = true;
    const float* xx = best_shift == 1 ? kXp : kXm;
    for (int k = 0; k < kBs / 8; ++k) {
      const uint32_t u = KeyOf(t, L + 8 * k);
      int g = t.GridIndex(u);
      if (g < 0) {
        all_on_grid = false;
        g = FindBestNeighbourIq1(t, u, xb + 8 * k, weight + 8 * k, scale, xx, L + 8 * k);
      }
      index[k] = static_cast<uint16_t>(g);
    }
    if (!all_on_grid) {
      float sumqx = 0, sumq2 = 0;
      for (int k = 0; k < kBs / 8; ++k) {
        const int8_t* pg = t.Position(index[k]);
        for (int j = 0; j < 8; ++j) {
          const float w = weight[8 * k + j];
          const float q = xx[(pg[j] - 1) / 2];
          sumqx += w * q * xb[8 * k + j];
          sumq2 += w * q * q;
        }
      }
      if (sumqx > 0 && sumq2 > 0) scale = sumqx / sumq2;
    }
    uint16_t h = 0;
    for (int k = 0; k < kBs / 8; ++k) {
      y->qs[(kBs / 8) * ib + k] = static_cast<uint8_t>(index[k] & 255);
      h = static_cast<uint16_t>(h | ((index[k] >> 8) << (3 * k)));
    }
    y->qh[ib] = h;
    scales[ib] = scale;
    shifts[ib] = static_cast<int8_t>(best_shift);
    max_scale = Max(max_scale, scale);
  }
  if (!max_scale) return;
  const float d = max_scale / 15;
  y->d = F32ToF16(d * 1.125f);
  const float id = 1 / d;
  for (int ib = 0; ib < kQK / kBs; ++ib) {
    int l = ScaleCode(id, scales[ib], 7);
    if (shifts[ib] == -1) l |= 8;
    y->qh[ib] = static_cast<uint16_t>(y->qh[ib] | (l << 12));
  }
}

void Iq1MWeights(const float* qw, const float* xb, float sigma2, float* weight) {
  if (qw != nullptr) {
    ImatrixWeights(qw, xb, sigma2, 16, weight);
  } else {
    for (int i = 0; i < 16; ++i) weight[i] = xb[i] * xb[i];
  }
}

void QuantizeIq1MBlock(const float* xbl, const float* qw_block, BlockIq1M* y) {
  const IqSearchTable& t = Iq1SearchTable();
  constexpr int kBs = 16;
  constexpr uint8_t kMasks[4] = {0x00, 0x80, 0x08, 0x88};
  float scales[kQK / kBs];
  int8_t shifts[kQK / kBs];
  float weight[kBs];
  Pair pairs[kBs], tmp[kBs];
  int8_t L[kBs];
  uint16_t index[kBs / 8];
  std::memset(y, 0, sizeof *y);
  float max_scale = 0;
  const float sigma2 = 2 * SumSquares(xbl) / kQK;
  // Sign pattern k: bit 1 = first group uses x_m, bit 0 = second group does.
  auto first_xx = [](int k) { return k < 2 ? kXp : kXm; };
  auto second_xx = [](int k) { return k % 2 == 0 ? kXp : kXm; };
  for (int ib = 0; ib < kQK / kBs; ++ib) {
    const float* xb = xbl + kBs * ib;
    Iq1MWeights(qw_block != nullptr ? qw_block + kBs * ib : nullptr, xb, sigma2, weight);
    float max = std::fabs(xb[0]);
    for (int i = 1; i < kBs; ++i) max = Max(max, std::fabs(xb[i]));
    if (max < kEpsIq1M) {
      scales[ib] = 0;
      shifts[ib] = 0;
      continue;
    }
    for (int j = 0; j < kBs; ++j) pairs[j] = Pair{xb[j], j};
    SortPairs(pairs, tmp, kBs);
    float best_score = -FLT_MAX;
    float scale = max;
    int besti1 = -1, besti2 = -1, best_k = -1;
    for (int i1 = 0; i1 <= kBs; ++i1) {
      for (int i2 = i1; i2 <= kBs; ++i2) {
        float sumqx[4] = {0, 0, 0, 0};
        float sumq2[4] = {0, 0, 0, 0};
        for (int j = 0; j < kBs; ++j) {
          const int level = j < i1 ? 0 : (j < i2 ? 1 : 2);
          const int i = pairs[j].i;
          for (int k = 0; k < 4; ++k) {
            const float* xx = i < kBs / 2 ? first_xx(k) : second_xx(k);
            const float q = xx[level];
            sumqx[k] += weight[i] * q * xb[i];
            sumq2[k] += weight[i] * q * q;
          }
        }
        for (int k = 0; k < 4; ++k) {
          if (sumq2[k] > 0 && sumqx[k] * sumqx[k] > best_score * sumq2[k]) {
            scale = sumqx[k] / sumq2[k];
            best_score = scale * sumqx[k];
            besti1 = i1;
            besti2 = i2;
            best_k = k;
          }
        }
      }
    }
    if (besti1 < 0 || besti2 < 0 || best_k < 0) {
      scales[ib] = 0;
      shifts[ib] = 0;
      continue;
    }
    for (int j = 0; j < besti1; ++j) L[pairs[j].i] = 0;
    for (int j = besti1; j < besti2; ++j) L[pairs[j].i] = 1;
    for (int j = besti2; j < kBs; ++j) L[pairs[j].i] = 2;
    if (scale < 0) {
      for (int j = 0; j < kBs; ++j) L[j] = static_cast<int8_t>(2 - L[j]);
      scale = -scale;
      best_k = 3 - best_k;  // both groups' shifts flip
    }
    bool all_on_grid = true;
    for (int k = 0; k < kBs / 8; ++k) {
      const float* xx = k == 0 ? first_xx(best_k) : second_xx(best_k);
      const uint32_t u = KeyOf(t, L + 8 * k);
      int g = t.GridIndex(u);
      if (g < 0) {
        all_on_grid = false;
        g = FindBestNeighbourIq1(t, u, xb + 8 * k, weight + 8 * k, scale, xx, L + 8 * k);
      }
      index[k] = static_cast<uint16_t>(g);
    }
    if (!all_on_grid) {
      float sumqx = 0, sumq2 = 0;
      for (int k = 0; k < kBs / 8; ++k) {
        const float* xx = k == 0 ? first_xx(best_k) : second_xx(best_k);
        const int8_t* pg = t.Position(index[k]);
        for (int j = 0; j < 8; ++j) {
          const float w = weight[8 * k + j];
          const float q = xx[(pg[j] - 1) / 2];
          sumqx += w * q * xb[8 * k + j];
          sumq2 += w * q * q;
        }
      }
      if (sumqx > 0 && sumq2 > 0) scale = sumqx / sumq2;
    }
    y->qs[2 * ib] = static_cast<uint8_t>(index[0] & 255);
    y->qs[2 * ib + 1] = static_cast<uint8_t>(index[1] & 255);
    y->qh[ib] = static_cast<uint8_t>((index[0] >> 8) | ((index[1] >> 8) << 4));
    scales[ib] = scale;
    shifts[ib] = static_cast<int8_t>(best_k);
    max_scale = Max(max_scale, scale);
  }
  if (!max_scale) return;
  // 3-bit sub-block scales, then the super-block scale refitted to them.
  uint16_t sc[4] = {0, 0, 0, 0};
  float d = max_scale / 15;
  const float id = 1 / d;
  float sumqx = 0, sumq2 = 0;
  for (int ib = 0; ib < kQK / kBs; ++ib) {
    const int l = ScaleCode(id, scales[ib], 7);
    sc[ib / 4] = static_cast<uint16_t>(sc[ib / 4] | (l << (3 * (ib % 4))));
    y->qh[ib] = static_cast<uint8_t>(y->qh[ib] | kMasks[shifts[ib]]);
    const float* xb = xbl + kBs * ib;
    Iq1MWeights(qw_block != nullptr ? qw_block + kBs * ib : nullptr, xb, sigma2, weight);
    for (int k = 0; k < kBs / 8; ++k) {
      const float* xx = k == 0 ? first_xx(shifts[ib]) : second_xx(shifts[ib]);
      const int g = y->qs[2 * ib + k] | ((y->qh[ib] << (8 - 4 * k)) & 0x700);
      const int8_t* pg = t.Position(g);
      for (int j = 0; j < 8; ++j) {
        const float w = weight[8 * k + j];
        const float q = xx[(pg[j] - 1) / 2] * ToF(2 * l + 1);
        sumqx += w * q * xb[8 * k + j];
        sumq2 += w * q * q;
      }
    }
  }
  if (sumq2 > 0) d = sumqx / sumq2;
  const uint16_t dh = F32ToF16(d * 1.1125f);
  sc[0] = static_cast<uint16_t>(sc[0] | ((dh & 0x000f) << 12));
  sc[1] = static_cast<uint16_t>(sc[1] | ((dh & 0x00f0) << 8));
  sc[2] = static_cast<uint16_t>(sc[2] | ((dh & 0x0f00) << 4));
  sc[3] = static_cast<uint16_t>(sc[3] | (dh & 0xf000));
  std::memcpy(y->scales, sc, sizeof sc);
}

// Runs a block quantizer over n / 256 super-blocks.
template <typename Block, void (*kQuantizeBlock)(const float*, const float*, Block*)>
void QuantizeRows(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  for (int64_t i = 0; i < n / kQK; ++i) {
    Block b;
    kQuantizeBlock(x + i * kQK, imatrix != nullptr ? imatrix + i * kQK : nullptr, &b);
    StoreBlock(b, blocks, i);
  }
}

}  // namespace

void QuantizeRowIq2Xxs(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  QuantizeRows<BlockIq2Xxs, &QuantizeIq2XxsBlock>(x, blocks, n, imatrix);
}
void QuantizeRowIq2Xs(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  QuantizeRows<BlockIq2Xs, &QuantizeIq2XsBlock>(x, blocks, n, imatrix);
}
void QuantizeRowIq2S(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  QuantizeRows<BlockIq2S, &QuantizeIq2SBlock>(x, blocks, n, imatrix);
}
void QuantizeRowIq3Xxs(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  QuantizeRows<BlockIq3Xxs, &QuantizeIq3XxsBlock>(x, blocks, n, imatrix);
}
void QuantizeRowIq3S(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  QuantizeRows<BlockIq3S, &QuantizeIq3SBlock>(x, blocks, n, imatrix);
}
void QuantizeRowIq1S(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  QuantizeRows<BlockIq1S, &QuantizeIq1SBlock>(x, blocks, n, imatrix);
}
void QuantizeRowIq1M(const float* x, uint8_t* blocks, int64_t n, const float* imatrix) {
  QuantizeRows<BlockIq1M, &QuantizeIq1MBlock>(x, blocks, n, imatrix);
}

}  // namespace ggufkit::internal
