// The element types a dequantizer writes: one enum for the SIMD kernels
// (dequant/), the CUDA kernels (kernels/cuda/), the streaming layer and the
// tools. f16 and bf16 are produced from the f32 value by round to nearest
// even (quants/half.h), as ggml converts.
#ifndef GGUFKIT_QUANTS_OUTPUT_TYPE_H_
#define GGUFKIT_QUANTS_OUTPUT_TYPE_H_

#include <cstddef>
#include <cstdint>

namespace ggufkit {

enum class OutputType : uint8_t {
  kF32,   // IEEE binary32
  kF16,   // IEEE binary16 bits (uint16_t), round to nearest even
  kBF16,  // bfloat16 bits (uint16_t), round to nearest even, NaN kept quiet
};

inline constexpr OutputType kAllOutputTypes[] = {OutputType::kF32, OutputType::kF16,
                                                 OutputType::kBF16};

// Bytes of one output element: 4 for kF32, 2 for kF16 and kBF16.
constexpr size_t OutputElementBytes(OutputType type) { return type == OutputType::kF32 ? 4 : 2; }

// "f32", "f16", "bf16".
constexpr const char* OutputTypeName(OutputType type) {
  return type == OutputType::kF32 ? "f32" : type == OutputType::kF16 ? "f16" : "bf16";
}

}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_OUTPUT_TYPE_H_
