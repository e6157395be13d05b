// Converts a list of tensors chunk by chunk on several threads and hands the
// converted chunks to one consumer strictly in order (tensor by tensor, chunk
// by chunk), so that the output bytes do not depend on the thread count.
//
// Memory is bounded by the ring of output slots: (threads + 2) slots of
// chunk_bytes each (chunk_bytes is reduced so the ring stays within
// kMaxRingBytes), plus a fixed input scratch per worker. Nothing is
// proportional to a tensor or to the model.
//
//   workers:  item i -> wait for slot i % S to be free -> read + convert into it
//   consumer: item j -> wait for slot j % S to hold item j -> consume -> free it
#ifndef GGUFKIT_TOOLS_STREAM_ORDERED_PIPELINE_H_
#define GGUFKIT_TOOLS_STREAM_ORDERED_PIPELINE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/status.h"
#include "ggufkit/stream/dense_convert.h"
#include "ggufkit/stream/tensor_stream.h"

namespace ggufkit::stream {

inline constexpr size_t kMaxRingBytes = size_t{64} << 20;
inline constexpr size_t kWorkerScratchBytes = size_t{256} << 10;

struct PipelineTensor {
  TensorLayout layout;
  const TensorByteSource* source = nullptr;
  // true: the stored bytes are copied (integer tensors, or float tensors
  // already of the target type; byte-swapped when layout.big_endian);
  // false: converted to `to`.
  bool copy_raw = false;
  OutputType to = OutputType::kF32;
  uint64_t output_bytes = 0;  // bytes this tensor produces
};

struct PipelineOptions {
  int threads = 1;                        // worker threads (>= 1)
  size_t chunk_bytes = size_t{4} << 20;   // output bytes per work item
  // Input bytes each worker reads per conversion call.
  size_t worker_scratch_bytes = kWorkerScratchBytes;
  // Replaces ConvertBlocks when set (e.g. the CUDA host dequantizer; it is
  // called from the worker threads, so use threads = 1 if it is not
  // thread-safe).
  internal::BlockConverter convert;
};

struct PipelineProgress {
  size_t tensor_index = 0;       // tensor of the chunk just consumed
  uint64_t bytes_done = 0;       // output bytes consumed so far, all tensors
  uint64_t bytes_total = 0;
};

// Bytes a tensor converts to (copy_raw: its stored size).
absl::StatusOr<uint64_t> PipelineOutputBytes(const TensorLayout& layout, bool copy_raw,
                                             OutputType to);

// Runs the conversion. `consume(tensor_index, data, n)` receives every byte of
// every tensor in order; `progress` (may be empty) is called after each chunk.
// The first error (in output order) stops everything and is returned.
absl::Status RunOrderedPipeline(
    const std::vector<PipelineTensor>& tensors, const PipelineOptions& options,
    const std::function<absl::Status(size_t tensor_index, const uint8_t* data, size_t n)>& consume,
    const std::function<void(const PipelineProgress&)>& progress = {});

}  // namespace ggufkit::stream

#endif  // GGUFKIT_TOOLS_STREAM_ORDERED_PIPELINE_H_
