// The header of a safetensors file, built from a list of tensors and string
// metadata.
//
// Layout (safetensors format, huggingface/safetensors):
//   u64 LE  N            length of the JSON header in bytes
//   N bytes JSON         {"__metadata__": {"k": "v", ...},
//                         "name": {"dtype": "F32", "shape": [rows, cols],
//                                  "data_offsets": [begin, end]}, ...}
//                        padded with spaces so that 8 + N is a multiple of 8
//   data                 tensors back to back; offsets are relative to the
//                        first byte after the header and cover it exactly
// Shapes are row-major (outermost first): GGUF's ne[] reversed.
#ifndef GGUFKIT_TOOLS_STREAM_SAFETENSORS_HEADER_H_
#define GGUFKIT_TOOLS_STREAM_SAFETENSORS_HEADER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit::stream {

struct SafetensorsTensor {
  std::string name;
  std::string dtype;           // "F32", "F16", "BF16", "I8", ...
  std::vector<int64_t> shape;  // row-major
  uint64_t byte_size = 0;
};

// The safetensors dtype of a dense or integer GGUF type; an error for
// quantized types (they are dequantized first).
absl::StatusOr<std::string> SafetensorsDtype(GgmlType type);

// The 8-byte length + padded JSON, tensors in the given order with
// consecutive data offsets. Errors: a tensor named "__metadata__" or a
// duplicate name.
absl::StatusOr<std::string> BuildSafetensorsHeader(
    const std::vector<std::pair<std::string, std::string>>& metadata,
    const std::vector<SafetensorsTensor>& tensors);

}  // namespace ggufkit::stream

#endif  // GGUFKIT_TOOLS_STREAM_SAFETENSORS_HEADER_H_
