// Internal: the scale searches shared by the legacy and K-quant reference
// quantizers, and the float -> int conversions they rely on.
//
// These reproduce the numeric behaviour of ggml's reference quantizer
// (ggml-quants.c: nearest_int, make_qx_quants, make_q3_quants,
// make_qkx2_quants, make_qkx3_quants, make_qp_quants) operation by operation,
// because golden bytes are only reproduced when every float is rounded in the
// same order. Written from the algorithm descriptions, not copied.
#ifndef GGUFKIT_QUANTS_QUANT_SEARCH_INTERNAL_H_
#define GGUFKIT_QUANTS_QUANT_SEARCH_INTERNAL_H_

#include <cstdint>
#include <cstring>

namespace ggufkit::internal {

// Below this group maximum, a group counts as all zero.
inline constexpr float kGroupMaxEps = 1e-15f;

// Round to nearest, ties to even, for |f| <= 4194303: adding 1.5 * 2^23 puts
// the integer part in the low mantissa bits (the float add does the
// rounding). Outside that range (and for NaN) the result is garbage, but
// defined, as in ggml.
inline int NearestInt(float f) {
  const float shifted = f + 12582912.f;
  int32_t bits;
  std::memcpy(&bits, &shifted, sizeof bits);
  return (bits & 0x007FFFFF) - 0x00400000;
}

// C's float -> int32 conversion as x86 performs it (cvttss2si): truncation
// toward zero, and INT32_MIN for NaN and out-of-range values. ggml converts
// with plain casts ((int8_t)(x + 8.5f)); this gives the same result for every
// input without undefined behaviour.
inline int32_t TruncToInt32(float f) {
  if (!(f > -2147483904.0f && f < 2147483648.0f)) return INT32_MIN;
  return static_cast<int32_t>(f);
}
// (int8_t) / (uint8_t) of a float: the int32 conversion, then the low byte.
inline int8_t TruncToInt8(float f) {
  return static_cast<int8_t>(static_cast<uint8_t>(static_cast<uint32_t>(TruncToInt32(f)) & 0xFFu));
}
inline uint8_t TruncToUint8(float f) {
  return static_cast<uint8_t>(static_cast<uint32_t>(TruncToInt32(f)) & 0xFFu);
}
// roundf() then the cast, as in `int8_t q = roundf(x)`.
int8_t RoundToInt8(float f);

// Symmetric quantization of n values to L[i] in 0..2*nmax-1 (code - nmax is
// the signed level). Returns the scale. rmse_type 0: plain scale -max/nmax;
// 1..4: least-squares with weights x^2, 1, |x|, sqrt|x| (or qw when non-null)
// and a search over 18 nearby scales; negative: one least-squares step,
// averaged with the plain scale.
float MakeQxQuants(int n, int nmax, const float* x, int8_t* L, int rmse_type, const float* qw);
// Q3_K's symmetric search: L in 0..2*nmax-1, optional coordinate-descent
// refinement of the least-squares fit with weights x^2.
float MakeQ3Quants(int n, int nmax, const float* x, int8_t* L, bool do_rmse);
// Asymmetric (scale, min) fit: L in 0..nmax, y = scale * L - the_min.
// Weighted by `weights` (required); error measure |diff| if use_mad, else
// diff^2. Tries nstep + 1 scales (rmin + rdelta * is + nmax) / (max - min).
float MakeQkx2Quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                     float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep,
                     bool use_mad);
// Like MakeQkx2Quants, but weights may be null (then x^2) and a group with
// max <= min (not only max == min) counts as constant.
float MakeQkx3Quants(int n, int nmax, const float* x, const float* weights, uint8_t* L,
                     float* the_min, uint8_t* Laux, float rmin, float rdelta, int nstep,
                     bool use_mad);
// Non-negative values (sub-block scales) to L in 0..nmax with a weighted
// least-squares scale; used for the super-block scales under an imatrix.
float MakeQpQuants(int n, int nmax, const float* x, uint8_t* L, const float* quant_weights);

// Block image access: blocks are unaligned byte runs.
template <typename Block>
inline Block LoadBlock(const uint8_t* blocks, int64_t index) {
  Block b;
  std::memcpy(&b, blocks + index * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
  return b;
}
template <typename Block>
inline void StoreBlock(const Block& b, uint8_t* blocks, int64_t index) {
  std::memcpy(blocks + index * static_cast<int64_t>(sizeof(Block)), &b, sizeof(Block));
}

}  // namespace ggufkit::internal

#endif  // GGUFKIT_QUANTS_QUANT_SEARCH_INTERNAL_H_
