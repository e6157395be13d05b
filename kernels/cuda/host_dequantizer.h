// Host-to-host dequantization through the GPU, for tools such as
// `gguf-dequant --device cuda`: quantized blocks in host memory in, f32 / f16 /
// bf16 in host memory out, streamed in chunks so device memory stays bounded.
//
// Pipeline (two slots, each with a stream, pinned input/output staging
// buffers and device buffers; chunk i uses slot i % 2):
//   CPU: copy chunk i's blocks into pinned in[s]
//   GPU (stream s): H2D in[s] -> dev_in[s]; dequantize -> dev_out[s]; D2H -> out[s]
//   CPU: when chunk i - 1's event fires, copy pinned out[s'] to the caller.
// So the copies and kernel of one chunk overlap the host-side copies of its
// neighbours. Output is bit-identical to DequantizeOnDevice on the whole
// tensor (chunks are whole blocks and blocks are independent).
#ifndef GGUFKIT_KERNELS_CUDA_HOST_DEQUANTIZER_H_
#define GGUFKIT_KERNELS_CUDA_HOST_DEQUANTIZER_H_

#include <cstdint>
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ggufkit/kernels/cuda/cuda_codecs.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit::cuda {

// Not thread-safe: one Dequantize call at a time per object (it owns the
// staging buffers). Types it cannot handle (!CanDequantizeOnDevice) are an
// InvalidArgument error, so a caller can fall back to the CPU path.
class HostDequantizer {
 public:
  // Default output bytes per chunk (per slot): 32 MiB keeps the four pinned and
  // four device buffers near 200 MiB in all.
  static constexpr int64_t kDefaultChunkOutputBytes = int64_t{32} << 20;

  // Allocates the buffers on the current device. Unavailable without a GPU;
  // InvalidArgument for a chunk size below 64 KiB; ResourceExhausted when
  // pinned or device memory cannot be had.
  static absl::StatusOr<std::unique_ptr<HostDequantizer>> Create(
      int64_t chunk_output_bytes = kDefaultChunkOutputBytes);

  ~HostDequantizer();
  HostDequantizer(const HostDequantizer&) = delete;
  HostDequantizer& operator=(const HostDequantizer&) = delete;

  // Dequantizes n_elements (whole blocks) of `type` from host_blocks
  // (RowSizeBytes(type, n_elements) bytes, any alignment) into host_out
  // (n_elements values of out_type, any alignment). Returns when host_out
  // is complete. Types: CanDequantizeOnDevice(type).
  absl::Status Dequantize(GgmlType type, const void* host_blocks, int64_t n_elements,
                          OutputType out_type, void* host_out);

  int64_t chunk_output_bytes() const { return chunk_output_bytes_; }

 private:
  struct Slot;
  explicit HostDequantizer(int64_t chunk_output_bytes);
  absl::Status Allocate();

  int64_t chunk_output_bytes_;
  int64_t chunk_input_bytes_;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace ggufkit::cuda

#endif  // GGUFKIT_KERNELS_CUDA_HOST_DEQUANTIZER_H_
