#include "ggufkit/quants/quants.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/base/status_macros.h"

namespace ggufkit {
namespace {

// Floats per pass of the ToF16 / ToBF16 forms: 4 KiB of stack, a multiple of
// every block size in the table (1, 32, 128, 256).
constexpr int64_t kStackFloats = 1024;

// Checks n_elements against the type's block size and the span length.
absl::Status CheckBlocks(GgmlType type, absl::Span<const uint8_t> blocks, int64_t n_elements,
                         const void* out) {
  const TypeTraits& t = GetTypeTraits(type);
  GGUFKIT_RETURN_ERROR_IF(n_elements < 0, "n_elements ", n_elements, " is negative (type ", t.name,
                          ")");
  GGUFKIT_RETURN_ERROR_IF(n_elements % t.block_size != 0, "n_elements ", n_elements,
                          " is not a whole number of ", t.name, " blocks of ", t.block_size,
                          " elements");
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t bytes, RowSizeBytes(type, n_elements));
  GGUFKIT_RETURN_ERROR_IF(static_cast<int64_t>(blocks.size()) < bytes, "need ", bytes,
                          " bytes for ", n_elements, " elements of ", t.name, ", got ",
                          blocks.size());
  GGUFKIT_RETURN_ERROR_IF(out == nullptr && n_elements > 0, "output pointer is null");
  return absl::OkStatus();
}

absl::StatusOr<DequantizeRowFn> DequantizerOf(GgmlType type) {
  const DequantizeRowFn fn = GetReferenceCodec(type).dequantize;
  if (fn == nullptr) {
    return absl::UnimplementedError(absl::StrCat("no dequantizer for type ", GgmlTypeName(type),
                                                 " (id ", static_cast<uint32_t>(type), ")"));
  }
  return fn;
}

// Shared body of the ToF16 / ToBF16 forms.
template <uint16_t (*kRound)(float)>
absl::Status DequantizeToHalf(GgmlType type, GgmlType identity_type,
                              absl::Span<const uint8_t> blocks, int64_t n_elements, uint16_t* out) {
  GGUFKIT_RETURN_IF_ERROR(CheckBlocks(type, blocks, n_elements, out));
  if (type == identity_type) {
    // Same encoding: copy the bits, so NaN payloads survive.
    std::memcpy(out, blocks.data(), static_cast<size_t>(n_elements) * sizeof(uint16_t));
    return absl::OkStatus();
  }
  GGUFKIT_ASSIGN_OR_RETURN(const DequantizeRowFn fn, DequantizerOf(type));
  const TypeTraits& t = GetTypeTraits(type);
  const int64_t chunk = kStackFloats / t.block_size * t.block_size;
  if (chunk == 0) {
    return absl::InternalError(absl::StrCat("block of ", t.name, " larger than the stack buffer"));
  }
  float buffer[kStackFloats];
  const uint8_t* src = blocks.data();
  for (int64_t done = 0; done < n_elements; done += chunk) {
    const int64_t n = std::min(chunk, n_elements - done);
    fn(src, buffer, n);
    src += n / t.block_size * t.type_size;
    for (int64_t i = 0; i < n; ++i) out[done + i] = kRound(buffer[i]);
  }
  return absl::OkStatus();
}

}  // namespace

namespace reference {

absl::Status Dequantize(GgmlType type, absl::Span<const uint8_t> blocks, int64_t n_elements,
                        float* out) {
  GGUFKIT_RETURN_IF_ERROR(CheckBlocks(type, blocks, n_elements, out));
  GGUFKIT_ASSIGN_OR_RETURN(const DequantizeRowFn fn, DequantizerOf(type));
  if (n_elements > 0) fn(blocks.data(), out, n_elements);
  return absl::OkStatus();
}

absl::Status DequantizeToF16(GgmlType type, absl::Span<const uint8_t> blocks, int64_t n_elements,
                             uint16_t* out) {
  return DequantizeToHalf<&F32ToF16>(type, GgmlType::kF16, blocks, n_elements, out);
}

absl::Status DequantizeToBF16(GgmlType type, absl::Span<const uint8_t> blocks, int64_t n_elements,
                              uint16_t* out) {
  return DequantizeToHalf<&F32ToBF16>(type, GgmlType::kBF16, blocks, n_elements, out);
}

absl::Status Quantize(GgmlType type, absl::Span<const float> x, absl::Span<uint8_t> out,
                      absl::Span<const float> imatrix) {
  const TypeTraits& t = GetTypeTraits(type);
  const int64_t n = static_cast<int64_t>(x.size());
  GGUFKIT_RETURN_ERROR_IF(n % t.block_size != 0, "x has ", n, " elements, not a whole number of ",
                          t.name, " blocks of ", t.block_size);
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t bytes, RowSizeBytes(type, n));
  GGUFKIT_RETURN_ERROR_IF(static_cast<int64_t>(out.size()) < bytes, "need ", bytes,
                          " output bytes for ", n, " elements of ", t.name, ", got ", out.size());
  const ReferenceCodec& codec = GetReferenceCodec(type);
  if (codec.quantize == nullptr) {
    return absl::UnimplementedError(
        absl::StrCat("no quantizer for type ", t.name, " (id ", static_cast<uint32_t>(type), ")"));
  }
  if (n == 0) return absl::OkStatus();
  if (imatrix.empty() || !codec.uses_imatrix) {
    // Without importance weights every quantizer works block by block, so
    // the whole span is one call (rows do not matter).
    codec.quantize(x.data(), out.data(), n, nullptr);
    return absl::OkStatus();
  }
  const int64_t row = static_cast<int64_t>(imatrix.size());
  GGUFKIT_RETURN_ERROR_IF(row % t.block_size != 0, "imatrix has ", row,
                          " weights, not a whole number of ", t.name, " blocks of ", t.block_size);
  GGUFKIT_RETURN_ERROR_IF(n % row != 0, "x has ", n, " elements, not a whole number of rows of ",
                          row, " (the imatrix length)");
  const int64_t row_bytes = row / t.block_size * t.type_size;
  for (int64_t r = 0; r < n / row; ++r) {
    codec.quantize(x.data() + r * row, out.data() + r * row_bytes, row, imatrix.data());
  }
  return absl::OkStatus();
}

}  // namespace reference
}  // namespace ggufkit
