// TurboQuant KV-cache formats turbo2 / turbo3 / turbo4 (TheTom/llama-cpp-turboquant
// fork, not in upstream ggml): block structs, tables, the 128-point rotation and
// the scalar reference codec of one 128-element group.
//
// This is the reference the SIMD (dequant/) and CUDA (kernels/cuda/) codecs
// mirror and are tested against; it is bit-exact with the fork's
// quantize_row_turboN_0_ref / dequantize_row_turboN_0 (golden/turbo/{v1,current}).
//
// One group = one block = 128 consecutive elements of one attention head.
//
// Quantize one group x[0..128) (every step a separate fp32 rounding, in this
// order; -ffp-contract=off):
//   1. n = sqrtf(x[0]^2 + x[1]^2 + ... + x[127]^2), summed left to right.
//   2. Normalise. turbo2/turbo3: inv = n > 1e-10f ? 1.0f / n : 0.0f; u[i] = x[i] * inv
//      (so a tiny group keeps the signs of its zeros, and a NaN element stays NaN).
//      turbo4: u[i] = n > 1e-10f ? x[i] * (1.0f / n) : +0.0f (a NaN norm fails
//      the test, so a group holding a NaN becomes all +0 before the rotation).
//      The two give the same blocks for finite and infinite inputs (at most
//      the sign of a zero differs, which step 4 ignores); they differ only in
//      which index bytes a NaN group gets (its norm is NaN either way).
//   3. Rotate: WhtForward128(u) (below).
//   4. idx[i] = the first k with u[i] < thresholds[k] (ascending), else the
//      last index. Strict '<': a value equal to a
//      threshold (+0.0 and -0.0 at threshold 0) takes the HIGHER index; NaN
//      takes the last index. Index 0 is the most negative centroid.
//   5. r = sqrtf(sum of c[idx[i]]^2), i ascending; norm = fp16(r > 1e-10f ? n / r : n)
//      (round to nearest even; overflow -> inf; NaN -> 0x7E00).
// Dequantize (to the ROTATED domain): y[i] = c[idx[i]] * F16ToF32(norm), one
// fp32 multiply. The L2 norm of y is therefore float(norm) * r ~= n: the norm
// correction in step 5 makes the rotated reconstruction keep the input's norm.
// The fork never un-rotates K (it rotates Q instead: q.k is rotation-invariant)
// and un-rotates the attention output when V is turbo; WhtInverse128 recovers
// the original-domain vector.
//
// Rotation (orthogonal, its own structure: y = D2 * H/sqrt(128) * D1 * x with
// H the unnormalised Sylvester Hadamard matrix, D1 = diag(kTurboSigns1),
// D2 = diag(kTurboSigns2)):
//   WhtForward128: x[i] *= s1[i]; butterflies h = 1, 2, 4, ..., 64 (for each
//     block of 2h, for j in the first half: a = x[j], b = x[j+h];
//     x[j] = a + b; x[j+h] = a - b); then x[i] *= (kTurboWhtScale * s2[i])
//     (the product of the two constants is formed first, then one multiply).
//   WhtInverse128: the same with s1 and s2 swapped.
//
// Variants. kCurrent (default) is the fork after its June 2026 fix (PR #197):
// re-fitted 3-bit table, 66-byte turbo4 with a corrected 4-bit table. kV1 is the
// May 2026 snapshot: old 3-bit table, 68-byte turbo4 (an unused fp16 "rnorm",
// written as 0) and a 4-bit table that is too narrow for N(0, 1/128) (not
// Lloyd-Max optimal; tests/kv/ shows it). turbo2 is identical in both.
//
// Fork type ids collide with upstream ggml (May 2026: turbo2 = 42, which is
// upstream Q2_0), so turbo types are not in the GgmlType table.
#ifndef GGUFKIT_QUANTS_TURBO_H_
#define GGUFKIT_QUANTS_TURBO_H_

#include <cstdint>

namespace ggufkit {

enum class TurboVariant : uint8_t {
  kCurrent,  // post-June-2026 (PR #197) tables and the 66-byte turbo4 block
  kV1,       // May 2026 snapshot: old tables, 68-byte turbo4
};

// The two directions of the 128-point rotation, for the CPU and CUDA codecs.
enum class RotationDirection : uint8_t {
  kForward,  // WhtForward128: what the quantizer applies (and a runtime to Q)
  kInverse,  // WhtInverse128: dequantized turbo values back to the original domain
};

// Bits per index: turbo2 = 2, turbo3 = 3, turbo4 = 4.
enum class TurboFormat : uint8_t { kTurbo2 = 2, kTurbo3 = 3, kTurbo4 = 4 };

inline constexpr int kTurboGroupSize = 128;
// 1 / sqrt(128) as the fork writes it (a float literal: 0x3DB504F3).
inline constexpr float kTurboWhtScale = 0.08838834764831845f;
// Norms at or below this count as zero (steps 2 and 5 above).
inline constexpr float kTurboNormEpsilon = 1e-10f;

#pragma pack(push, 1)

// turbo2: 128 x 2-bit indices, 34 bytes (2.125 bits per element).
//
//   byte  0      1      2        3        ...   33
//        +------+------+--------+--------+-----+--------+
//        | norm (f16)  | qs[0]  | qs[1]  | ... | qs[31] |
//        +------+------+--------+--------+-----+--------+
//   qs[b] bits: 7..6 = idx[4b+3], 5..4 = idx[4b+2], 3..2 = idx[4b+1], 1..0 = idx[4b]
//   idx(j) = (qs[j / 4] >> 2 * (j % 4)) & 3
//   y[j]   = kTurbo2BitCentroids[idx(j)] * F16ToF32(norm)
struct BlockTurbo2 {
  uint16_t norm;   // fp16, corrected group norm n / r
  uint8_t qs[32];  // 2-bit indices, 4 per byte, first element in the low bits
};
static_assert(sizeof(BlockTurbo2) == 34, "turbo2 block is 34 bytes");

// turbo3: 128 x 3-bit indices, 50 bytes (3.125 bits per element).
//
//   byte  0   1    2 .. 33              34 .. 49
//        +-------+-------------------+------------------+
//        | norm  | qs[32]: low 2 bits| hi[16]: bit 2 of |
//        | (f16) | of idx, as turbo2 | idx, 8 per byte  |
//        +-------+-------------------+------------------+
//   hi[b] bit k = bit 2 of idx[8b + k] (the fork calls this array "signs"; it
//   is not a sign)
//   idx(j) = ((qs[j / 4] >> 2 * (j % 4)) & 3) | (((hi[j / 8] >> (j % 8)) & 1) << 2)
//   y[j]   = centroids3[idx(j)] * F16ToF32(norm)
struct BlockTurbo3 {
  uint16_t norm;
  uint8_t qs[32];
  uint8_t hi[16];
};
static_assert(sizeof(BlockTurbo3) == 50, "turbo3 block is 50 bytes");

// turbo4 (current): 128 x 4-bit indices, 66 bytes (4.125 bits per element).
//
//   byte  0   1    2        3        ...  65
//        +-------+--------+--------+-----+--------+
//        | norm  | qs[0]  | qs[1]  | ... | qs[63] |
//        +-------+--------+--------+-----+--------+
//   qs[b] bits: 7..4 = idx[2b + 1], 3..0 = idx[2b] (even element in the low nibble)
//   idx(j) = (qs[j / 2] >> 4 * (j % 2)) & 15
//   y[j]   = kTurbo4BitCentroids[idx(j)] * F16ToF32(norm)
struct BlockTurbo4 {
  uint16_t norm;
  uint8_t qs[64];
};
static_assert(sizeof(BlockTurbo4) == 66, "turbo4 block is 66 bytes");

// turbo4 (v1): 68 bytes, as BlockTurbo4 with an unused fp16 field after norm.
//
//   byte  0   1    2   3    4        ...  67
//        +-------+--------+--------+-----+--------+
//        | norm  | rnorm  | qs[0]  | ... | qs[63] |
//        +-------+--------+--------+-----+--------+
//   rnorm: always written 0x0000, never read. qs and idx(j) as BlockTurbo4;
//   y[j] = kTurbo4BitCentroidsV1[idx(j)] * F16ToF32(norm)
struct BlockTurbo4V1 {
  uint16_t norm;
  uint16_t rnorm;
  uint8_t qs[64];
};
static_assert(sizeof(BlockTurbo4V1) == 68, "v1 turbo4 block is 68 bytes");

#pragma pack(pop)

// ---------------------------------------------------------------------------
// Tables (format constants; scripts/gen_turbo_tables.py prints them from the
// golden manifests). Sign tables: seed 42 in the fork, identical on CPU, CUDA
// and Metal. Centroids ascending (index 0 = most negative), symmetric.
// Thresholds are the midpoints the fork hard-codes, compared as float.
// ---------------------------------------------------------------------------

inline constexpr float kTurboSigns1[kTurboGroupSize] = {
    -1.f, +1.f, +1.f, -1.f, -1.f, +1.f, -1.f, +1.f, -1.f, -1.f, +1.f, +1.f, +1.f, +1.f, +1.f, +1.f,
    +1.f, -1.f, +1.f, -1.f, +1.f, -1.f, -1.f, +1.f, +1.f, +1.f, -1.f, +1.f, +1.f, -1.f, -1.f, -1.f,
    -1.f, +1.f, +1.f, -1.f, +1.f, +1.f, -1.f, +1.f, -1.f, +1.f, +1.f, -1.f, -1.f, +1.f, -1.f, +1.f,
    +1.f, +1.f, +1.f, -1.f, -1.f, -1.f, -1.f, -1.f, +1.f, -1.f, +1.f, +1.f, +1.f, +1.f, -1.f, +1.f,
    -1.f, -1.f, +1.f, -1.f, -1.f, -1.f, +1.f, -1.f, -1.f, -1.f, +1.f, -1.f, -1.f, -1.f, +1.f, +1.f,
    +1.f, -1.f, -1.f, +1.f, +1.f, +1.f, -1.f, -1.f, +1.f, +1.f, -1.f, +1.f, +1.f, -1.f, +1.f, -1.f,
    -1.f, +1.f, +1.f, -1.f, +1.f, -1.f, +1.f, -1.f, +1.f, +1.f, +1.f, +1.f, -1.f, +1.f, -1.f, +1.f,
    +1.f, -1.f, +1.f, +1.f, -1.f, -1.f, -1.f, -1.f, -1.f, +1.f, +1.f, -1.f, +1.f, +1.f, -1.f, +1.f,
};
inline constexpr float kTurboSigns2[kTurboGroupSize] = {
    +1.f, +1.f, +1.f, +1.f, -1.f, +1.f, +1.f, -1.f, +1.f, -1.f, -1.f, -1.f, +1.f, -1.f, -1.f, -1.f,
    +1.f, +1.f, -1.f, -1.f, +1.f, -1.f, +1.f, -1.f, +1.f, -1.f, -1.f, +1.f, -1.f, +1.f, +1.f, +1.f,
    +1.f, +1.f, -1.f, -1.f, -1.f, +1.f, -1.f, -1.f, -1.f, -1.f, -1.f, -1.f, +1.f, +1.f, +1.f, -1.f,
    +1.f, -1.f, +1.f, +1.f, +1.f, -1.f, -1.f, +1.f, -1.f, -1.f, -1.f, -1.f, -1.f, -1.f, +1.f, +1.f,
    +1.f, -1.f, +1.f, -1.f, -1.f, -1.f, -1.f, +1.f, -1.f, +1.f, -1.f, +1.f, -1.f, -1.f, +1.f, +1.f,
    -1.f, +1.f, -1.f, +1.f, +1.f, -1.f, +1.f, -1.f, -1.f, -1.f, -1.f, +1.f, -1.f, -1.f, +1.f, -1.f,
    +1.f, -1.f, +1.f, +1.f, +1.f, -1.f, -1.f, +1.f, -1.f, +1.f, -1.f, +1.f, +1.f, -1.f, -1.f, +1.f,
    -1.f, +1.f, -1.f, +1.f, +1.f, -1.f, +1.f, -1.f, +1.f, -1.f, -1.f, -1.f, -1.f, -1.f, +1.f, -1.f,
};
inline constexpr float kTurbo2BitCentroids[4] = {
    -0.133462f, -0.039994f, 0.039994f, 0.133462f,
};
inline constexpr float kTurbo2BitThresholds[3] = {
    -0.086728f, 0.000000f, 0.086728f,
};
inline constexpr float kTurbo3BitCentroidsV1[8] = {
    -0.190685f, -0.117832f, -0.065717f, -0.021460f, 0.021460f, 0.065717f, 0.117832f, 0.190685f,
};
inline constexpr float kTurbo3BitThresholdsV1[7] = {
    -0.154259f, -0.091775f, -0.043589f, 0.000000f, 0.043589f, 0.091775f, 0.154259f,
};
inline constexpr float kTurbo4BitCentroidsV1[16] = {
    -0.173926f, -0.117195f, -0.089527f, -0.068756f, -0.051262f, -0.035597f, -0.020989f, -0.006938f,
    0.006938f, 0.020989f, 0.035597f, 0.051262f, 0.068756f, 0.089527f, 0.117195f, 0.173926f,
};
inline constexpr float kTurbo4BitThresholdsV1[15] = {
    -0.145560f, -0.103361f, -0.079142f, -0.060009f, -0.043430f, -0.028293f, -0.013963f, 0.000000f,
    0.013963f, 0.028293f, 0.043430f, 0.060009f, 0.079142f, 0.103361f, 0.145560f,
};
inline constexpr float kTurbo3BitCentroids[8] = {
    -0.190207f, -0.118786f, -0.066822f, -0.021663f, 0.021663f, 0.066822f, 0.118786f, 0.190207f,
};
inline constexpr float kTurbo3BitThresholds[7] = {
    -0.154496f, -0.092804f, -0.044243f, 0.000000f, 0.044243f, 0.092804f, 0.154496f,
};
inline constexpr float kTurbo4BitCentroids[16] = {
    -0.241529f, -0.182877f, -0.143016f, -0.111036f, -0.083292f, -0.058050f, -0.034299f, -0.011349f,
    0.011349f, 0.034299f, 0.058050f, 0.083292f, 0.111036f, 0.143016f, 0.182877f, 0.241529f,
};
inline constexpr float kTurbo4BitThresholds[15] = {
    -0.212203f, -0.162947f, -0.127026f, -0.097164f, -0.070671f, -0.046174f, -0.022824f, 0.000000f,
    0.022824f, 0.046174f, 0.070671f, 0.097164f, 0.127026f, 0.162947f, 0.212203f,
};

// The centroid and threshold tables of one format and variant.
struct TurboCodebook {
  const float* centroids;   // n_levels entries, ascending
  const float* thresholds;  // n_levels - 1 entries, ascending
  int n_levels;             // 4, 8 or 16
};

// Codebook of `format` in `variant` (turbo2 is the same in both).
const TurboCodebook& GetTurboCodebook(TurboFormat format, TurboVariant variant);

// Bytes of one 128-element block: 34, 50, 66 (current turbo4) or 68 (v1 turbo4).
int TurboBlockBytes(TurboFormat format, TurboVariant variant);

// Index of `value` in a codebook: the first k with value < thresholds[k]
// (thresholds ascending), else the last index. So a value equal to a threshold
// takes the higher index, and NaN (every comparison false) the last one.
inline int TurboNearestIndex(float value, const TurboCodebook& codebook) {
  const int n_thresholds = codebook.n_levels - 1;
  for (int k = 0; k < n_thresholds; ++k) {
    if (value < codebook.thresholds[k]) return k;
  }
  return n_thresholds;
}

// In-place forward rotation of 128 floats (what the quantizer applies after
// normalising, and what a runtime applies to Q for fused attention on turbo K).
void WhtForward128(float* x);
// In-place inverse rotation of 128 floats: recovers the original domain from
// a dequantized (rotated) group. WhtInverse128(WhtForward128(x)) == x within
// a few float ulps (not bit-exact).
void WhtInverse128(float* x);

// Quantizes one group x[0..128) into one block of TurboBlockBytes(format,
// variant) bytes at `block` (no alignment needed). Never fails: NaN / Inf
// inputs follow the fork (see above and docs/kv-cache.md).
void QuantizeTurboGroup(TurboFormat format, TurboVariant variant, const float* x,
                        uint8_t* block);
// Dequantizes one block into y[0..128), in the rotated domain.
void DequantizeTurboGroup(TurboFormat format, TurboVariant variant, const uint8_t* block,
                          float* y);
// The 128 indices stored in a block (for SIMD/CUDA tests and diagnostics).
void UnpackTurboIndices(TurboFormat format, TurboVariant variant, const uint8_t* block,
                        uint8_t* indices);
// The fp16 bits of a block's norm.
uint16_t TurboBlockNormBits(const uint8_t* block);

}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_TURBO_H_
