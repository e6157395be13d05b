// Dequantizing one tensor (or a row range of it) straight into caller memory,
// reading its quantized bytes chunk by chunk: the in-memory API exporters link.
//
// Memory: besides the caller's output, one scratch allocation of at most
// kMaxScratchBytes (1 MiB) per call, whatever the tensor size. F32 -> f32
// reads straight into the output and needs no scratch.
//
// Rows: a tensor with ne = [ne0, ne1, ne2, ne3] has ne1*ne2*ne3 rows of ne0
// elements, stored row after row (row-major, GGUF's ne0 fastest). The output
// holds rows [row_begin, row_end) back to back as float (f32) or uint16_t
// bit patterns (f16, bf16).
#ifndef GGUFKIT_TOOLS_STREAM_TENSOR_STREAM_H_
#define GGUFKIT_TOOLS_STREAM_TENSOR_STREAM_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "ggufkit/quants/type_traits.h"
#include "ggufkit/stream/dense_convert.h"

namespace ggufkit::stream {

// Upper bound of the heap any call below uses on its own.
inline constexpr size_t kMaxScratchBytes = size_t{1} << 20;

// What a tensor is, for streaming: names for error messages, type, shape.
struct TensorLayout {
  std::string name;  // tensor name, used in every error message
  std::string file;  // file it lives in, used in every error message
  GgmlType type = GgmlType::kF32;
  int n_dims = 1;
  std::array<int64_t, 4> ne = {1, 1, 1, 1};
  // The stored blocks are big-endian (a big-endian GGUF file): every read
  // chunk is byte-swapped (ByteSwapBlocks, quants/block_fields.h) in scratch
  // before it is decoded, so the values are those of the little-endian file.
  bool big_endian = false;

  int64_t row_length() const { return ne[0]; }
  int64_t row_count() const { return ne[1] * ne[2] * ne[3]; }
  int64_t element_count() const { return ne[0] * ne[1] * ne[2] * ne[3]; }
};

// Checks a layout (positive dims, ne0 a whole number of blocks, no overflow).
absl::Status ValidateLayout(const TensorLayout& layout);
// Bytes of one row of the stored (quantized) tensor.
absl::StatusOr<int64_t> StoredRowBytes(const TensorLayout& layout);

// Where a tensor's stored bytes come from (a GGUF reader, a test buffer).
class TensorByteSource {
 public:
  virtual ~TensorByteSource() = default;
  // Reads n bytes starting `offset` bytes into the tensor's data; a short read
  // is an error naming the file.
  virtual absl::Status ReadTensorBytes(uint64_t offset, void* dst, size_t n) const = 0;
};

struct StreamOptions {
  // Bytes of quantized input read per step (clamped to [one block,
  // kMaxScratchBytes / 2]). Output is never staged for the Dequantize* forms.
  size_t read_chunk_bytes = size_t{512} << 10;
};

// Dequantizes rows [row_begin, row_end) into `out` (out_bytes must equal
// (row_end - row_begin) * ne0 * OutputElementBytes(to)). Float tensors are
// converted, integer tensors are an error. Errors name the tensor and file.
absl::Status DequantizeRows(const TensorLayout& layout, const TensorByteSource& source,
                            int64_t row_begin, int64_t row_end, OutputType to, void* out,
                            size_t out_bytes, const StreamOptions& options = {});

// The whole tensor; out_count is the number of elements the buffer holds and
// must equal the tensor's element count.
absl::Status DequantizeTensor(const TensorLayout& layout, const TensorByteSource& source,
                              float* out, size_t out_count, const StreamOptions& options = {});
absl::Status DequantizeTensorToF16(const TensorLayout& layout, const TensorByteSource& source,
                                   uint16_t* out, size_t out_count,
                                   const StreamOptions& options = {});
absl::Status DequantizeTensorToBF16(const TensorLayout& layout, const TensorByteSource& source,
                                    uint16_t* out, size_t out_count,
                                    const StreamOptions& options = {});

// One piece of a tensor handed to a visitor: `values` are the f32 values of
// elements [first_element, first_element + values.size()). Pieces hold whole
// rows (rows [row_begin, row_begin + n_rows)) unless one row is longer than
// kVisitMaxElements; then a row arrives in several pieces of whole blocks,
// each with n_rows == 1 and first_element telling where it starts.
struct RowChunk {
  int64_t row_begin = 0;
  int64_t n_rows = 0;
  int64_t first_element = 0;
  absl::Span<const float> values;
};
inline constexpr int64_t kVisitMaxElements = (kMaxScratchBytes / 2) / sizeof(float);

// Calls `visit` for consecutive pieces of rows [row_begin, row_end) in order
// (row_end = -1: to the last row). A non-OK status from `visit` stops the walk
// and is returned. The values are only valid during the call.
absl::Status VisitTensorRows(const TensorLayout& layout, const TensorByteSource& source,
                             absl::FunctionRef<absl::Status(const RowChunk&)> visit,
                             int64_t row_begin = 0, int64_t row_end = -1,
                             const StreamOptions& options = {});

namespace internal {
// Converts elements [first_element, first_element + n_elements) (whole
// blocks) into `out`, reading through `scratch` (scratch_bytes >= one block
// unless the tensor is F32 going to f32). The engine under all of the above,
// shared with the whole-model converter.
// `convert` (may be empty) replaces ConvertBlocks, e.g. with a GPU path.
using BlockConverter = std::function<absl::Status(GgmlType type, const uint8_t* blocks,
                                                  int64_t n_elements, OutputType to, void* out)>;
absl::Status StreamElements(const TensorLayout& layout, const TensorByteSource& source,
                            int64_t first_element, int64_t n_elements, OutputType to, void* out,
                            uint8_t* scratch, size_t scratch_bytes,
                            const BlockConverter* convert = nullptr);
}  // namespace internal

}  // namespace ggufkit::stream

#endif  // GGUFKIT_TOOLS_STREAM_TENSOR_STREAM_H_
