// The one-element-per-"block" types: floats and integers stored as numbers.
//
//   F32  (id 0)  4 bytes  IEEE binary32            y = x
//   F16  (id 1)  2 bytes  IEEE binary16            y = exact widening
//   BF16 (id 30) 2 bytes  upper half of binary32   y = bits << 16
//   F64  (id 28) 8 bytes  IEEE binary64            y = float(x), round to nearest even
//   I8   (id 24) 1 byte   two's complement         y = float(x) (exact)
//   I16  (id 25) 2 bytes  two's complement         y = float(x) (exact)
//   I32  (id 26) 4 bytes  two's complement         y = float(x), RNE above 2^24
//   I64  (id 27) 8 bytes  two's complement         y = float(x), RNE above 2^24
//
// All little-endian. Quantizers: F32 copies, F16 and BF16 round to nearest
// even (quants/half.h, ggml's reference conversions: NaN stays NaN), F64
// widens exactly. The integer types are never produced from floats (no
// quantizer): they hold indices and counts, not weights. No importance matrix.
#ifndef GGUFKIT_QUANTS_FLOAT_FORMATS_H_
#define GGUFKIT_QUANTS_FLOAT_FORMATS_H_

#include <cstdint>

namespace ggufkit::internal {

void DequantizeRowF32(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowF16(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowBF16(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowF64(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowI8(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowI16(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowI32(const uint8_t* blocks, float* out, int64_t n);
void DequantizeRowI64(const uint8_t* blocks, float* out, int64_t n);

void QuantizeRowF32(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void QuantizeRowF16(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void QuantizeRowBF16(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);
void QuantizeRowF64(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);

}  // namespace ggufkit::internal

#endif  // GGUFKIT_QUANTS_FLOAT_FORMATS_H_
