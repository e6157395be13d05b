#include "ggufkit/kernels/cuda/host_dequantizer.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstring>
#include <new>

#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"

namespace ggufkit::cuda {
namespace {

constexpr int64_t kMinChunkOutputBytes = int64_t{64} << 10;

absl::Status CudaStatus(cudaError_t error, absl::string_view what) {
  if (error == cudaSuccess) return absl::OkStatus();
  cudaGetLastError();
  const std::string text = absl::StrCat("HostDequantizer: ", what, ": ", cudaGetErrorName(error),
                                        ": ", cudaGetErrorString(error));
  if (error == cudaErrorMemoryAllocation) return absl::ResourceExhaustedError(text);
  return absl::InternalError(text);
}

}  // namespace

struct HostDequantizer::Slot {
  cudaStream_t stream = nullptr;
  cudaEvent_t done = nullptr;
  void* pinned_in = nullptr;
  void* pinned_out = nullptr;
  void* device_in = nullptr;
  void* device_out = nullptr;
  // The chunk in flight in this slot, copied out once `done` fires.
  bool pending = false;
  uint8_t* destination = nullptr;
  int64_t destination_bytes = 0;

  // Waits for the chunk in flight (if any) and hands its output over.
  absl::Status Drain() {
    if (!pending) return absl::OkStatus();
    pending = false;
    GGUFKIT_RETURN_IF_ERROR(CudaStatus(cudaEventSynchronize(done), "waiting for a chunk"));
    std::memcpy(destination, pinned_out, static_cast<size_t>(destination_bytes));
    return absl::OkStatus();
  }

  ~Slot() {
    if (stream != nullptr) cudaStreamSynchronize(stream);
    if (done != nullptr) cudaEventDestroy(done);
    if (stream != nullptr) cudaStreamDestroy(stream);
    if (pinned_in != nullptr) cudaFreeHost(pinned_in);
    if (pinned_out != nullptr) cudaFreeHost(pinned_out);
    if (device_in != nullptr) cudaFree(device_in);
    if (device_out != nullptr) cudaFree(device_out);
  }
};

HostDequantizer::HostDequantizer(int64_t chunk_output_bytes)
    : chunk_output_bytes_(chunk_output_bytes),
      // Every supported type takes at most 34 bytes per 32 elements (q8_0),
      // and every output at least 2 bytes per element: input <= 0.54 x output.
      chunk_input_bytes_(chunk_output_bytes / 32 * 17 + 4096),
      slots_(new Slot[2]) {}

HostDequantizer::~HostDequantizer() = default;

absl::Status HostDequantizer::Allocate() {
  for (int s = 0; s < 2; ++s) {
    Slot& slot = slots_[s];
    GGUFKIT_RETURN_IF_ERROR(CudaStatus(
        cudaStreamCreateWithFlags(&slot.stream, cudaStreamNonBlocking), "creating a stream"));
    GGUFKIT_RETURN_IF_ERROR(CudaStatus(cudaEventCreateWithFlags(&slot.done, cudaEventDisableTiming),
                                       "creating an event"));
    GGUFKIT_RETURN_IF_ERROR(
        CudaStatus(cudaMallocHost(&slot.pinned_in, static_cast<size_t>(chunk_input_bytes_)),
                   absl::StrCat("allocating ", chunk_input_bytes_, " bytes of pinned memory")));
    GGUFKIT_RETURN_IF_ERROR(
        CudaStatus(cudaMallocHost(&slot.pinned_out, static_cast<size_t>(chunk_output_bytes_)),
                   absl::StrCat("allocating ", chunk_output_bytes_, " bytes of pinned memory")));
    GGUFKIT_RETURN_IF_ERROR(
        CudaStatus(cudaMalloc(&slot.device_in, static_cast<size_t>(chunk_input_bytes_)),
                   absl::StrCat("allocating ", chunk_input_bytes_, " bytes of device memory")));
    GGUFKIT_RETURN_IF_ERROR(
        CudaStatus(cudaMalloc(&slot.device_out, static_cast<size_t>(chunk_output_bytes_)),
                   absl::StrCat("allocating ", chunk_output_bytes_, " bytes of device memory")));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<HostDequantizer>> HostDequantizer::Create(
    int64_t chunk_output_bytes) {
  GGUFKIT_RETURN_ERROR_IF(
      chunk_output_bytes < kMinChunkOutputBytes || chunk_output_bytes > (int64_t{1} << 40),
      "HostDequantizer: chunk_output_bytes = ", chunk_output_bytes, " is outside [64 KiB, 1 TiB]");
  GGUFKIT_RETURN_IF_ERROR(DeviceAvailable());
  std::unique_ptr<HostDequantizer> dequantizer(new HostDequantizer(chunk_output_bytes));
  GGUFKIT_RETURN_IF_ERROR(dequantizer->Allocate());
  return dequantizer;
}

absl::Status HostDequantizer::Dequantize(GgmlType type, const void* host_blocks, int64_t n_elements,
                                         OutputType out_type, void* host_out) {
  constexpr const char* kFunction = "HostDequantizer::Dequantize";
  GGUFKIT_RETURN_ERROR_IF(!CanDequantizeOnDevice(type), kFunction,
                          ": no CUDA dequantizer for type ", GgmlTypeName(type));
  GGUFKIT_RETURN_ERROR_IF(
      out_type != OutputType::kF32 && out_type != OutputType::kF16 && out_type != OutputType::kBF16,
      kFunction, ": invalid output type ", static_cast<int>(out_type));
  const absl::StatusOr<int64_t> total_in_bytes = RowSizeBytes(type, n_elements);
  if (!total_in_bytes.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(kFunction, ": ", total_in_bytes.status().message()));
  }
  if (n_elements == 0) return absl::OkStatus();
  GGUFKIT_RETURN_ERROR_IF(host_blocks == nullptr || host_out == nullptr, kFunction,
                          ": null buffer");
  const TypeTraits& traits = GetTypeTraits(type);
  const int64_t out_bytes_per_element = OutputElementBytes(out_type);
  GGUFKIT_RETURN_ERROR_IF(n_elements > (int64_t{1} << 60) / out_bytes_per_element, kFunction,
                          ": n_elements = ", n_elements, " is too large");
  const int64_t blocks_per_chunk =
      std::min(chunk_output_bytes_ / (out_bytes_per_element * traits.block_size),
               chunk_input_bytes_ / traits.type_size);
  const int64_t elements_per_chunk = blocks_per_chunk * traits.block_size;

  const auto* in = static_cast<const uint8_t*>(host_blocks);
  auto* out = static_cast<uint8_t*>(host_out);
  absl::Status status;
  int64_t chunk = 0;
  for (int64_t done = 0; done < n_elements && status.ok(); done += elements_per_chunk, ++chunk) {
    Slot& slot = slots_[chunk % 2];
    status = slot.Drain();  // the chunk this slot carried two steps ago
    if (!status.ok()) break;
    const int64_t elements = std::min(elements_per_chunk, n_elements - done);
    const int64_t in_bytes = elements / traits.block_size * traits.type_size;
    const int64_t in_offset = done / traits.block_size * traits.type_size;
    const int64_t out_bytes = elements * out_bytes_per_element;
    std::memcpy(slot.pinned_in, in + in_offset, static_cast<size_t>(in_bytes));
    status =
        CudaStatus(cudaMemcpyAsync(slot.device_in, slot.pinned_in, static_cast<size_t>(in_bytes),
                                   cudaMemcpyHostToDevice, slot.stream),
                   "copying blocks to the device");
    if (status.ok()) {
      status = DequantizeOnDevice(type, slot.device_in, elements, out_type, slot.device_out,
                                  slot.stream);
    }
    if (status.ok()) {
      status = CudaStatus(
          cudaMemcpyAsync(slot.pinned_out, slot.device_out, static_cast<size_t>(out_bytes),
                          cudaMemcpyDeviceToHost, slot.stream),
          "copying the output to the host");
    }
    if (status.ok())
      status = CudaStatus(cudaEventRecord(slot.done, slot.stream), "recording an event");
    if (status.ok()) {
      slot.pending = true;
      slot.destination = out + done * out_bytes_per_element;
      slot.destination_bytes = out_bytes;
    }
  }
  // Drain in chunk order (the older chunk sits in the slot used next). On an
  // error, still wait for both streams so no copy lands after we return.
  for (int64_t k = 0; k < 2; ++k) {
    Slot& slot = slots_[(chunk + k) % 2];
    absl::Status drained = slot.Drain();
    if (status.ok()) status = drained;
  }
  if (!status.ok()) {
    cudaStreamSynchronize(slots_[0].stream);
    cudaStreamSynchronize(slots_[1].stream);
    slots_[0].pending = slots_[1].pending = false;
  }
  return status;
}

}  // namespace ggufkit::cuda
