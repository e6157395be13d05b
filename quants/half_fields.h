// Where each block format keeps its fp16 fields (scales, mins, sums): their
// byte offsets inside one block, derived from the one field table of
// quants/block_fields.h (a format cannot be listed there and missing here).
//
// Needed to build valid random blocks (finite scales) in tests and
// benchmarks; byte-swapping uses the full table (ByteSwapBlocks).
#ifndef GGUFKIT_QUANTS_HALF_FIELDS_H_
#define GGUFKIT_QUANTS_HALF_FIELDS_H_

#include <cstdint>

#include "absl/types/span.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit {

// Byte offsets of the fp16 fields in one block of `type`, ascending. Empty for
// types without an fp16 field: the float and integer types (an F16/BF16
// "block" is the element itself), Q8_K (f32 scale), MXFP4 (e8m0 byte scale),
// NVFP4 (fp8 scales) and IQ1_M (its fp16 scale is scattered over 4 nibbles).
absl::Span<const uint16_t> HalfFieldOffsets(GgmlType type);

}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_HALF_FIELDS_H_
