// Reference codecs of the float and integer element types (float_formats.h).
// Values are read with memcpy: tensors in a file have no alignment guarantee.
#include <cstdint>
#include <cstring>
#include <limits>

#include "ggufkit/quants/float_formats.h"
#include "ggufkit/quants/half.h"

namespace ggufkit::internal {
namespace {

template <typename T>
void WidenToFloat(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    T v;
    std::memcpy(&v, blocks + i * static_cast<int64_t>(sizeof(T)), sizeof(T));
    out[i] = static_cast<float>(v);
  }
}

uint16_t LoadU16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

void StoreU16(uint16_t v, uint8_t* p) { std::memcpy(p, &v, sizeof v); }

}  // namespace

void DequantizeRowF32(const uint8_t* blocks, float* out, int64_t n) {
  std::memcpy(out, blocks, static_cast<size_t>(n) * sizeof(float));
}
void DequantizeRowF16(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = F16ToF32(LoadU16(blocks + 2 * i));
}
void DequantizeRowBF16(const uint8_t* blocks, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = BF16ToF32(LoadU16(blocks + 2 * i));
}
void DequantizeRowF64(const uint8_t* blocks, float* out, int64_t n) {
  // Values at or beyond the midpoint between FLT_MAX and 2^128 round to
  // infinity; say so explicitly (the plain cast is undefined out of range).
  constexpr double kOverflow = 340282356779733661637539395458142568448.0;  // 2^128 - 2^103
  for (int64_t i = 0; i < n; ++i) {
    double v;
    std::memcpy(&v, blocks + 8 * i, sizeof v);
    if (v >= kOverflow) {
      out[i] = std::numeric_limits<float>::infinity();
    } else if (v <= -kOverflow) {
      out[i] = -std::numeric_limits<float>::infinity();
    } else {
      out[i] = static_cast<float>(v);  // NaN stays NaN
    }
  }
}
void DequantizeRowI8(const uint8_t* blocks, float* out, int64_t n) {
  WidenToFloat<int8_t>(blocks, out, n);
}
void DequantizeRowI16(const uint8_t* blocks, float* out, int64_t n) {
  WidenToFloat<int16_t>(blocks, out, n);
}
void DequantizeRowI32(const uint8_t* blocks, float* out, int64_t n) {
  WidenToFloat<int32_t>(blocks, out, n);
}
void DequantizeRowI64(const uint8_t* blocks, float* out, int64_t n) {
  WidenToFloat<int64_t>(blocks, out, n);
}

void QuantizeRowF32(const float* x, uint8_t* blocks, int64_t n, const float* /*imatrix*/) {
  std::memcpy(blocks, x, static_cast<size_t>(n) * sizeof(float));
}
void QuantizeRowF16(const float* x, uint8_t* blocks, int64_t n, const float* /*imatrix*/) {
  for (int64_t i = 0; i < n; ++i) StoreU16(F32ToF16(x[i]), blocks + 2 * i);
}
void QuantizeRowBF16(const float* x, uint8_t* blocks, int64_t n, const float* /*imatrix*/) {
  for (int64_t i = 0; i < n; ++i) StoreU16(F32ToBF16(x[i]), blocks + 2 * i);
}
void QuantizeRowF64(const float* x, uint8_t* blocks, int64_t n, const float* /*imatrix*/) {
  for (int64_t i = 0; i < n; ++i) {
    const double v = x[i];
    std::memcpy(blocks + 8 * i, &v, sizeof v);
  }
}

}  // namespace ggufkit::internal
