// The streaming API over GGUF files: dequantize a tensor of an open
// GgufModel (a single file or all shards of a split model) or GgufReader
// straight into caller memory, or visit it row range by row range.
//
//   auto model = GgufModel::Open("model-Q4_K_M.gguf");
//   const TensorInfo* t = (*model)->FindTensor("blk.0.ffn_down.weight");
//   std::vector<float> w(t->n_elements);
//   GGUFKIT_RETURN_IF_ERROR(stream::DequantizeTensor(**model, *t, w.data(), w.size()));
//
// Heap: at most kMaxScratchBytes (1 MiB) per call on top of the caller's
// buffer; the quantized bytes are read chunk by chunk with pread (no mapping
// is held). Big-endian files decode to the same values as their little-endian
// twins (each chunk is byte-swapped in scratch before decoding). Errors name the tensor and the file. Calls on one model may run
// concurrently from several threads: in parallel on plain files; on a
// .gguf.zst model (a forward-only stream) the reads are serialized and must
// move forward through the file, so a call whose reads fall behind another's
// fails with FailedPrecondition ("needs random access"), never with a race or
// wrong values.
#ifndef GGUFKIT_TOOLS_STREAM_GGUF_TENSORS_H_
#define GGUFKIT_TOOLS_STREAM_GGUF_TENSORS_H_

#include <cstddef>
#include <cstdint>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/stream/tensor_stream.h"

namespace ggufkit::stream {

// Layout of a GGUF tensor (`file` names it in errors; `endianness` is its
// file's: big-endian blocks are byte-swapped as they are read).
TensorLayout LayoutOf(const TensorInfo& tensor, const std::string& file,
                      Endianness endianness = Endianness::kLittle);

// Reads a tensor's bytes through GgufModel / GgufReader::ReadTensorBytes.
class GgufTensorSource : public TensorByteSource {
 public:
  GgufTensorSource(GgufModel& model, const TensorInfo& tensor) : model_(&model), tensor_(tensor) {}
  GgufTensorSource(GgufReader& reader, const TensorInfo& tensor)
      : reader_(&reader), tensor_(tensor) {}
  absl::Status ReadTensorBytes(uint64_t offset, void* dst, size_t n) const override;
  // The file holding the tensor (its shard for split models).
  const std::string& file() const;
  // That file's byte order.
  Endianness endianness() const;
  // LayoutOf(tensor, file(), endianness()).
  TensorLayout layout() const;

 private:
  GgufModel* model_ = nullptr;
  GgufReader* reader_ = nullptr;
  const TensorInfo& tensor_;
};

// Whole tensor into out[0..out_count) (out_count must equal n_elements).
absl::Status DequantizeTensor(GgufModel& model, const TensorInfo& tensor, float* out,
                              size_t out_count);
absl::Status DequantizeTensorToF16(GgufModel& model, const TensorInfo& tensor, uint16_t* out,
                                   size_t out_count);
absl::Status DequantizeTensorToBF16(GgufModel& model, const TensorInfo& tensor, uint16_t* out,
                                    size_t out_count);
absl::Status DequantizeTensor(GgufReader& reader, const TensorInfo& tensor, float* out,
                              size_t out_count);

// Rows [row_begin, row_end) as `to` into `out` (out_bytes must match).
absl::Status DequantizeRows(GgufModel& model, const TensorInfo& tensor, int64_t row_begin,
                            int64_t row_end, OutputType to, void* out, size_t out_bytes);
absl::Status DequantizeRows(GgufReader& reader, const TensorInfo& tensor, int64_t row_begin,
                            int64_t row_end, OutputType to, void* out, size_t out_bytes);

// Visitor form (see RowChunk in tensor_stream.h): f32 values of rows
// [row_begin, row_end) (row_end = -1: to the end) in pieces of at most
// kVisitMaxElements.
absl::Status VisitTensorRows(GgufModel& model, const TensorInfo& tensor,
                             absl::FunctionRef<absl::Status(const RowChunk&)> visit,
                             int64_t row_begin = 0, int64_t row_end = -1);
absl::Status VisitTensorRows(GgufReader& reader, const TensorInfo& tensor,
                             absl::FunctionRef<absl::Status(const RowChunk&)> visit,
                             int64_t row_begin = 0, int64_t row_end = -1);

}  // namespace ggufkit::stream

#endif  // GGUFKIT_TOOLS_STREAM_GGUF_TENSORS_H_
