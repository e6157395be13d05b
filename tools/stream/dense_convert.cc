#include "tools/stream/dense_convert.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "quants/half.h"

namespace ggufkit::stream {
namespace {

// Elements converted per step when a quantized type goes to f16/bf16 through
// f32: a stack buffer, so the conversion allocates nothing.
constexpr int64_t kStackFloats = 4096;

void StoreDense(const float* src, int64_t n, DenseType to, void* out) {
  switch (to) {
    case DenseType::kF32:
      std::memcpy(out, src, static_cast<size_t>(n) * sizeof(float));
      return;
    case DenseType::kF16: {
      uint16_t* o = static_cast<uint16_t*>(out);
      for (int64_t i = 0; i < n; ++i) o[i] = F32ToF16(src[i]);
      return;
    }
    case DenseType::kBF16: {
      uint16_t* o = static_cast<uint16_t*>(out);
      for (int64_t i = 0; i < n; ++i) o[i] = F32ToBF16(src[i]);
      return;
    }
  }
}

// Converts halves (f16 or bf16 bit patterns) to `to`; the bytes may be
// unaligned, so each one is read with memcpy.
template <float (*ToF32)(uint16_t)>
void ConvertHalves(const uint8_t* in, int64_t n, bool same_type, DenseType to, void* out) {
  if (same_type) {
    std::memcpy(out, in, static_cast<size_t>(n) * 2);
    return;
  }
  float tmp[kStackFloats];
  for (int64_t done = 0; done < n; done += kStackFloats) {
    const int64_t step = std::min<int64_t>(kStackFloats, n - done);
    for (int64_t i = 0; i < step; ++i) {
      uint16_t h;
      std::memcpy(&h, in + (done + i) * 2, 2);
      tmp[i] = ToF32(h);
    }
    StoreDense(tmp, step, to,
               static_cast<uint8_t*>(out) + done * static_cast<int64_t>(DenseElementBytes(to)));
  }
}

}  // namespace

size_t DenseElementBytes(DenseType type) { return type == DenseType::kF32 ? 4 : 2; }

absl::string_view DenseTypeName(DenseType type) {
  switch (type) {
    case DenseType::kF32:
      return "f32";
    case DenseType::kF16:
      return "f16";
    case DenseType::kBF16:
      return "bf16";
  }
  return "?";
}

GgmlType DenseGgmlType(DenseType type) {
  switch (type) {
    case DenseType::kF32:
      return GgmlType::kF32;
    case DenseType::kF16:
      return GgmlType::kF16;
    case DenseType::kBF16:
      return GgmlType::kBF16;
  }
  return GgmlType::kF32;
}

uint32_t DenseFileType(DenseType type) {
  switch (type) {
    case DenseType::kF32:
      return 0;
    case DenseType::kF16:
      return 1;
    case DenseType::kBF16:
      return 32;
  }
  return 0;
}

absl::StatusOr<DenseType> ParseDenseType(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "f32" || lower == "fp32" || lower == "float32") return DenseType::kF32;
  if (lower == "f16" || lower == "fp16" || lower == "float16") return DenseType::kF16;
  if (lower == "bf16") return DenseType::kBF16;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown output type '", name, "' (expected fp32, f16 or bf16)"));
}

absl::Status ConvertBlocks(GgmlType type, const uint8_t* blocks, int64_t n_elements, DenseType to,
                           void* out) {
  const TypeTraits& traits = GetTypeTraits(type);
  if (n_elements < 0 || n_elements % traits.block_size != 0) {
    return absl::InvalidArgumentError(absl::StrCat(n_elements, " elements of ", traits.name,
                                                   " are not a whole number of ",
                                                   traits.block_size, "-element blocks"));
  }
  if (n_elements == 0) return absl::OkStatus();
  switch (type) {
    case GgmlType::kF32: {
      if (to == DenseType::kF32) {
        std::memcpy(out, blocks, static_cast<size_t>(n_elements) * 4);
        return absl::OkStatus();
      }
      float tmp[kStackFloats];
      for (int64_t done = 0; done < n_elements; done += kStackFloats) {
        const int64_t step = std::min<int64_t>(kStackFloats, n_elements - done);
        std::memcpy(tmp, blocks + done * 4, static_cast<size_t>(step) * 4);
        StoreDense(tmp, step, to, static_cast<uint8_t*>(out) + done * 2);
      }
      return absl::OkStatus();
    }
    case GgmlType::kF16:
      ConvertHalves<F16ToF32>(blocks, n_elements, to == DenseType::kF16, to, out);
      return absl::OkStatus();
    case GgmlType::kBF16:
      ConvertHalves<BF16ToF32>(blocks, n_elements, to == DenseType::kBF16, to, out);
      return absl::OkStatus();
    default:
      break;
  }
  if (traits.kind == TypeKind::kInteger) {
    return absl::InvalidArgumentError(
        absl::StrCat("integer type ", traits.name, " is copied, not dequantized"));
  }
  const DequantizeRowFn dequantize = GetReferenceCodec(type).dequantize;
  if (dequantize == nullptr) {
    return absl::UnimplementedError(absl::StrCat("no dequantizer for type ", traits.name));
  }
  if (to == DenseType::kF32) {
    dequantize(blocks, static_cast<float*>(out), n_elements);
    return absl::OkStatus();
  }
  // Through f32 in a stack buffer holding a whole number of blocks.
  float tmp[kStackFloats];
  const int64_t step_elements = std::max<int64_t>(1, kStackFloats / traits.block_size) *
                                traits.block_size;
  if (step_elements > kStackFloats) {
    return absl::InternalError(absl::StrCat("block of ", traits.name, " larger than ",
                                            kStackFloats, " elements"));
  }
  const int64_t step_bytes = step_elements / traits.block_size * traits.type_size;
  uint8_t* o = static_cast<uint8_t*>(out);
  for (int64_t done = 0; done < n_elements; done += step_elements) {
    const int64_t step = std::min<int64_t>(step_elements, n_elements - done);
    dequantize(blocks, tmp, step);
    StoreDense(tmp, step, to, o);
    blocks += step_bytes;
    o += step * 2;
  }
  return absl::OkStatus();
}

}  // namespace ggufkit::stream
