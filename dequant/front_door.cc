// The front door of the codecs (dequant/dequant.h): span checks, then the
// pointer-level dispatch (SIMD kernel or reference codec).
#include <cstdint>

#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/quants/quants.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit {
namespace {

// Checks that `type` is a valid id and that `bytes` is exactly the size of
// n_elements of it (a whole number of blocks).
absl::Status CheckEncodedSize(const char* function, GgmlType type, int64_t n_elements,
                              size_t bytes, const char* what) {
  GGUFKIT_RETURN_ERROR_IF(FindTypeTraits(static_cast<uint32_t>(type)) == nullptr, function,
                          ": invalid type id ",
                          static_cast<uint32_t>(type));
  const TypeTraits& t = GetTypeTraits(type);
  GGUFKIT_RETURN_ERROR_IF(n_elements % t.block_size != 0, function, ": ", n_elements,
                          " elements are not a whole number of ", t.name, " blocks of ",
                          t.block_size);
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t want, RowSizeBytes(type, n_elements));
  GGUFKIT_RETURN_ERROR_IF(static_cast<int64_t>(bytes) != want, function, ": ", n_elements,
                          " elements of ", t.name, " are ", want, " bytes, but ", what, " holds ",
                          bytes);
  return absl::OkStatus();
}

}  // namespace

absl::Status Dequantize(GgmlType type, absl::Span<const uint8_t> in, absl::Span<uint8_t> out,
                        OutputType out_type, const DequantOptions& options) {
  const size_t elem = OutputElementBytes(out_type);
  GGUFKIT_RETURN_ERROR_IF(out.size() % elem != 0, "Dequantize: output of ", out.size(),
                          " bytes is not a whole number of ", OutputTypeName(out_type),
                          " elements");
  const int64_t n = static_cast<int64_t>(out.size() / elem);
  GGUFKIT_RETURN_IF_ERROR(CheckEncodedSize("Dequantize", type, n, in.size(), "the input"));
  if (n == 0) return absl::OkStatus();
  return DequantizeBlocks(type, in.data(), n, out.data(), out_type, options);
}

absl::Status Dequantize(GgmlType type, absl::Span<const uint8_t> in, absl::Span<float> out,
                        const DequantOptions& options) {
  return Dequantize(type, in,
                    absl::MakeSpan(reinterpret_cast<uint8_t*>(out.data()), out.size() * sizeof(float)),
                    OutputType::kF32, options);
}

absl::Status Dequantize(GgmlType type, absl::Span<const uint8_t> in, absl::Span<uint16_t> out,
                        OutputType out_type, const DequantOptions& options) {
  GGUFKIT_RETURN_ERROR_IF(out_type == OutputType::kF32,
                          "Dequantize: a uint16_t output takes f16 or bf16, not f32");
  return Dequantize(type, in,
                    absl::MakeSpan(reinterpret_cast<uint8_t*>(out.data()), out.size() * sizeof(uint16_t)),
                    out_type, options);
}

absl::Status Quantize(GgmlType type, absl::Span<const float> x, absl::Span<uint8_t> out,
                      absl::Span<const float> imatrix) {
  GGUFKIT_RETURN_IF_ERROR(
      CheckEncodedSize("Quantize", type, static_cast<int64_t>(x.size()), out.size(), "the output"));
  return reference::Quantize(type, x, out, imatrix);
}

}  // namespace ggufkit
