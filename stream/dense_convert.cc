#include "ggufkit/stream/dense_convert.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ggufkit/dequant/dequant.h"

namespace ggufkit::stream {

GgmlType DenseGgmlType(OutputType type) {
  switch (type) {
    case OutputType::kF32:
      return GgmlType::kF32;
    case OutputType::kF16:
      return GgmlType::kF16;
    case OutputType::kBF16:
      return GgmlType::kBF16;
  }
  return GgmlType::kF32;
}

uint32_t DenseFileType(OutputType type) {
  switch (type) {
    case OutputType::kF32:
      return 0;
    case OutputType::kF16:
      return 1;
    case OutputType::kBF16:
      return 32;
  }
  return 0;
}

absl::StatusOr<OutputType> ParseOutputType(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "f32" || lower == "fp32" || lower == "float32") return OutputType::kF32;
  if (lower == "f16" || lower == "fp16" || lower == "float16") return OutputType::kF16;
  if (lower == "bf16") return OutputType::kBF16;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown output type '", name, "' (expected fp32, f16 or bf16)"));
}

bool CanConvert(GgmlType type, OutputType to) {
  if (type == GgmlType::kF32 || type == GgmlType::kF16 || type == GgmlType::kBF16) return true;
  if (GetTypeTraits(type).kind == TypeKind::kInteger) return false;
  return HasSimdKernel(type, to) || GetReferenceCodec(type).dequantize != nullptr;
}

absl::Status ConvertBlocks(GgmlType type, const uint8_t* blocks, int64_t n_elements, OutputType to,
                           void* out) {
  const TypeTraits& traits = GetTypeTraits(type);
  if (traits.kind == TypeKind::kInteger) {
    return absl::InvalidArgumentError(
        absl::StrCat("integer type ", traits.name, " is copied, not dequantized"));
  }
  // dequant/ picks the SIMD kernel of the CPU or the quants/ reference codec;
  // both are bit-exact with ggml, so the output does not depend on the CPU.
  return DequantizeBlocks(type, blocks, n_elements, out, to);
}

}  // namespace ggufkit::stream
