// QuantizeBlocks: the one checked entry point of the SIMD quantizers. It
// validates the request once, then hands whole rows to the SIMD quantizer of
// the dispatched Highway target, or to the scalar reference of quants/.
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/dequant/quantize.h"
#include "ggufkit/dequant/quantize_kernels.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit {
namespace {

using quantize_internal::QuantizeFn;

QuantizeFn FindQuantizer(GgmlType type, bool with_imatrix) {
  QuantizeFn (*const families[])(GgmlType, bool) = {
      quantize_internal::FindSimpleQuantizer,
      quantize_internal::FindKQuantQuantizer,
      quantize_internal::FindCodebookQuantizer,
  };
  for (auto* family : families) {
    if (QuantizeFn fn = family(type, with_imatrix)) return fn;
  }
  return nullptr;
}

}  // namespace

absl::Status QuantizeBlocks(GgmlType type, const float* x, int64_t n_rows, int64_t n_per_row,
                            void* out, const float* imatrix, const QuantizeOptions& options) {
  const TypeTraits* traits = FindTypeTraits(static_cast<uint32_t>(type));
  GGUFKIT_RETURN_ERROR_IF(traits == nullptr, "quantize: unknown ggml type id ",
                          static_cast<uint32_t>(type));
  GGUFKIT_RETURN_ERROR_IF(n_rows < 0 || n_per_row < 0, "quantize ", traits->name,
                          ": negative shape ", n_rows, " x ", n_per_row);
  GGUFKIT_RETURN_ERROR_IF(n_per_row % traits->block_size != 0, "quantize ", traits->name, ": row of ",
                          n_per_row, " elements is not a whole number of ", traits->block_size,
                          "-element blocks");
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t row_bytes, RowSizeBytes(type, n_per_row));
  GGUFKIT_RETURN_ERROR_IF(n_rows > 0 && (n_per_row > INT64_MAX / 4 / n_rows ||
                                         (row_bytes > 0 && n_rows > INT64_MAX / row_bytes)),
                          "quantize ", traits->name, ": ", n_rows, " x ", n_per_row,
                          " overflows the byte count");
  const ReferenceCodec& codec = GetReferenceCodec(type);
  GGUFKIT_RETURN_ERROR_IF(imatrix == nullptr && codec.requires_imatrix, "quantize ", traits->name,
                          ": needs an importance matrix (ggml refuses to quantize ", traits->name,
                          " without one)");
  const bool with_imatrix = imatrix != nullptr && codec.uses_imatrix;
  const bool forced = options.force_scalar || ScalarForcedByEnvironment();
  QuantizeFn fn = forced ? nullptr : FindQuantizer(type, with_imatrix);
  if (fn == nullptr) fn = codec.quantize;
  if (fn == nullptr) {
    return absl::UnimplementedError(
        absl::StrCat("quantize ", traits->name, ": no quantizer for this type"));
  }
  if (n_rows == 0 || n_per_row == 0) return absl::OkStatus();
  GGUFKIT_RETURN_ERROR_IF(x == nullptr || out == nullptr, "quantize ", traits->name, ": null ",
                          x == nullptr ? "input" : "output", " pointer");
  uint8_t* out_bytes = static_cast<uint8_t*>(out);
  if (!with_imatrix) {
    // Without importance weights every quantizer works block by block.
    fn(x, out_bytes, n_rows * n_per_row, nullptr);
    return absl::OkStatus();
  }
  for (int64_t r = 0; r < n_rows; ++r) {
    fn(x + r * n_per_row, out_bytes + r * row_bytes, n_per_row, imatrix);
  }
  return absl::OkStatus();
}

bool HasSimdQuantizer(GgmlType type, bool with_imatrix) {
  if (ScalarForcedByEnvironment()) return false;
  if (FindTypeTraits(static_cast<uint32_t>(type)) == nullptr) return false;
  return FindQuantizer(type, with_imatrix && GetReferenceCodec(type).uses_imatrix) != nullptr;
}

}  // namespace ggufkit
