// The scalar reference codecs, under their explicit name: whole rows of
// blocks <-> float, writing straight into caller memory. Nothing here
// allocates.
//
//   float row[4096];
//   GGUFKIT_RETURN_IF_ERROR(reference::Dequantize(GgmlType::kQ4_K, bytes, 4096, row));
//
// These are plain C++, bit-exact with ggml's reference code; the SIMD
// (dequant/) and CUDA (kernels/cuda/) codecs are tested against them. Users
// call the front door instead, ggufkit::Dequantize / ggufkit::Quantize
// (dequant/dequant.h), which runs the fastest bit-exact path.
#ifndef GGUFKIT_QUANTS_QUANTS_H_
#define GGUFKIT_QUANTS_QUANTS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit::reference {

// Decodes the first n_elements of `blocks` into out[0, n_elements).
// Errors (InvalidArgument) when n_elements is negative or not a whole number
// of blocks of `type`, when `blocks` holds fewer than RowSizeBytes(type,
// n_elements) bytes, or when out is null with n_elements > 0; Unimplemented
// ("no dequantizer for type X") when the type has no registered codec.
// Extra bytes in `blocks` are ignored. No alignment is required of either.
absl::Status Dequantize(GgmlType type, absl::Span<const uint8_t> blocks, int64_t n_elements,
                        float* out);

// As Dequantize, then each float rounded to binary16 (round to nearest even,
// subnormals kept, NaN stays NaN). F16 input is copied bit for bit.
// Works through a fixed 4 KiB stack buffer: no heap.
absl::Status DequantizeToF16(GgmlType type, absl::Span<const uint8_t> blocks, int64_t n_elements,
                             uint16_t* out);

// As Dequantize, then each float rounded to bfloat16 (round to nearest even,
// like ggml's reference). BF16 input is copied bit for bit.
absl::Status DequantizeToBF16(GgmlType type, absl::Span<const uint8_t> blocks, int64_t n_elements,
                              uint16_t* out);

// Encodes x (x.size() elements, a whole number of blocks) into the first
// RowSizeBytes(type, x.size()) bytes of `out`.
// `imatrix`: empty, or per-column importance weights for rows of
// imatrix.size() elements (x is then imatrix.size() x k, row-major; the size
// must be a whole number of blocks and divide x.size()). Types whose ggml
// quantizer uses an importance matrix (Q4_0, Q4_1, Q5_0, Q5_1, Q2_K..Q6_K,
// and those of codecs_extra) use it; others ignore it, as ggml does.
// Errors: bad sizes (InvalidArgument), no quantizer for the type
// (Unimplemented, "no quantizer for type X").
absl::Status Quantize(GgmlType type, absl::Span<const float> x, absl::Span<uint8_t> out,
                      absl::Span<const float> imatrix = {});

}  // namespace ggufkit::reference

#endif  // GGUFKIT_QUANTS_QUANTS_H_
