// Host side of ggufkit::cuda: argument checks, device checks, and the launch
// of the kernels in kernels.cu. Compiled by the host C++ compiler (Abseil is
// never parsed by nvcc).
#include "ggufkit/kernels/cuda/cuda_codecs.h"

#include <cuda_runtime_api.h>

#include <cstdint>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "ggufkit/kernels/cuda/group_codecs.h"
#include "ggufkit/kernels/cuda/kernel_launch.h"
#include "ggufkit/base/status_macros.h"

namespace ggufkit::cuda {
namespace {

using internal::DecodeTable;
using internal::DeviceFormat;
using internal::TurboTables;

std::string CudaErrorText(cudaError_t error) {
  return absl::StrCat(cudaGetErrorName(error), ": ", cudaGetErrorString(error));
}

std::string PointerText(const void* p) {
  return absl::StrCat("0x", absl::Hex(reinterpret_cast<uintptr_t>(p)));
}

// n_elements must be >= 0, a whole number of blocks, and small enough that
// n_elements * 8 bytes cannot overflow.
absl::Status CheckCount(const char* function, int64_t n_elements, int64_t block_elements,
                        absl::string_view what) {
  GGUFKIT_RETURN_ERROR_IF(n_elements < 0, function, ": n_elements = ", n_elements, " is negative");
  GGUFKIT_RETURN_ERROR_IF(n_elements % block_elements != 0, function, ": n_elements = ", n_elements,
                          " is not a whole number of ", what, " blocks of ", block_elements,
                          " elements");
  GGUFKIT_RETURN_ERROR_IF(n_elements > std::numeric_limits<int64_t>::max() / 8, function,
                          ": n_elements = ", n_elements, " is too large");
  return absl::OkStatus();
}

absl::Status CheckPointer(const char* function, const char* name, const void* p,
                          int64_t alignment) {
  GGUFKIT_RETURN_ERROR_IF(p == nullptr, function, ": ", name, " is null");
  GGUFKIT_RETURN_ERROR_IF(reinterpret_cast<uintptr_t>(p) % static_cast<uintptr_t>(alignment) != 0,
                          function, ": ", name, " (", PointerText(p), ") is not aligned to ",
                          alignment, " bytes");
  return absl::OkStatus();
}

// The pointer must be usable by kernels on the current device: device or
// managed memory of this device, or pinned host memory mapped at the same
// address. A kernel touching anything else would fault and poison the
// context, so this is checked before every launch.
absl::Status CheckDeviceAccessible(const char* function, const char* name, const void* p) {
  cudaPointerAttributes attributes{};
  const cudaError_t error = cudaPointerGetAttributes(&attributes, p);
  if (error != cudaSuccess) {
    cudaGetLastError();  // not sticky; clear it so later calls do not report it
    return absl::InvalidArgumentError(
        absl::StrCat(function, ": ", name, " (", PointerText(p),
                     ") is not memory CUDA knows: ", CudaErrorText(error)));
  }
  switch (attributes.type) {
    case cudaMemoryTypeUnregistered:
      return absl::InvalidArgumentError(
          absl::StrCat(function, ": ", name, " (", PointerText(p),
                       ") is host memory that CUDA does not know; pass device memory"));
    case cudaMemoryTypeHost:
      if (attributes.devicePointer != p) {
        return absl::InvalidArgumentError(
            absl::StrCat(function, ": ", name, " (", PointerText(p),
                         ") is pinned host memory not mapped at the same device address"));
      }
      return absl::OkStatus();
    case cudaMemoryTypeDevice: {
      int current = -1;
      if (cudaGetDevice(&current) == cudaSuccess && attributes.device != current) {
        return absl::InvalidArgumentError(absl::StrCat(function, ": ", name, " (", PointerText(p),
                                                       ") belongs to device ", attributes.device,
                                                       " but the current device is ", current));
      }
      return absl::OkStatus();
    }
    case cudaMemoryTypeManaged:
      return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status Launched(const char* function, cudaError_t error) {
  if (error == cudaSuccess) return absl::OkStatus();
  return absl::InternalError(
      absl::StrCat(function, ": kernel launch failed: ", CudaErrorText(error)));
}

bool ValidOutputType(OutputType type) {
  return type == OutputType::kF32 || type == OutputType::kF16 || type == OutputType::kBF16;
}

struct FormatChoice {
  DeviceFormat format;
  DecodeTable table;
};

bool FormatForGgmlType(GgmlType type, FormatChoice* choice) {
  choice->table = internal::kNoTable;
  switch (type) {
    case GgmlType::kQ8_0:
      choice->format = DeviceFormat::kQ8_0;
      return true;
    case GgmlType::kQ4_0:
      choice->format = DeviceFormat::kQ4_0;
      return true;
    case GgmlType::kQ1_0:
      choice->format = DeviceFormat::kQ1_0;
      return true;
    case GgmlType::kQ4_K:
      choice->format = DeviceFormat::kQ4_K;
      return true;
    case GgmlType::kQ5_K:
      choice->format = DeviceFormat::kQ5_K;
      return true;
    case GgmlType::kQ6_K:
      choice->format = DeviceFormat::kQ6_K;
      return true;
    case GgmlType::kIQ4_NL:
      choice->format = DeviceFormat::kIq4Nl;
      choice->table = internal::kIq4NlTable;
      return true;
    case GgmlType::kMXFP4:
      choice->format = DeviceFormat::kMxfp4;
      choice->table = internal::kMxfp4Table;
      return true;
    default:
      return false;
  }
}

bool ValidKvFormat(KvFormat format) {
  const bool type_ok = format.type == KvType::kQ8_0 || format.type == KvType::kQ4_0 ||
                       format.type == KvType::kTurbo2 || format.type == KvType::kTurbo3 ||
                       format.type == KvType::kTurbo4;
  const bool version_ok =
      format.variant == TurboVariant::kCurrent || format.variant == TurboVariant::kV1;
  return type_ok && version_ok;
}

const TurboTables& TurboTablesOf(KvFormat format) {
  const bool v1 = format.variant == TurboVariant::kV1;
  switch (format.type) {
    case KvType::kTurbo3:
      return v1 ? internal::kTurbo3V1Tables : internal::kTurbo3Tables;
    case KvType::kTurbo4:
      return v1 ? internal::kTurbo4V1Tables : internal::kTurbo4Tables;
    default:
      return internal::kTurbo2Tables;
  }
}

FormatChoice FormatForKv(KvFormat format) {
  FormatChoice choice{DeviceFormat::kQ8_0, internal::kNoTable};
  switch (format.type) {
    case KvType::kF16:
    case KvType::kBF16:
    case KvType::kQ8_0:
      return choice;  // f16 / bf16 are refused by ValidKvFormat before this
    case KvType::kQ4_0:
      choice.format = DeviceFormat::kQ4_0;
      return choice;
    case KvType::kTurbo2:
      choice.format = DeviceFormat::kTurbo2;
      break;
    case KvType::kTurbo3:
      choice.format = DeviceFormat::kTurbo3;
      break;
    case KvType::kTurbo4:
      choice.format =
          format.variant == TurboVariant::kV1 ? DeviceFormat::kTurbo4V1 : DeviceFormat::kTurbo4;
      break;
  }
  const TurboTables& tables = TurboTablesOf(format);
  for (int i = 0; i < 16; ++i) choice.table.values[i] = tables.centroids[i];
  return choice;
}

// Checks shared by every dequantize entry point, then the launch.
absl::Status Dequantize(const char* function, const FormatChoice& choice, const void* device_blocks,
                        int64_t n_elements, OutputType out_type, void* device_out, Stream stream) {
  GGUFKIT_RETURN_ERROR_IF(!ValidOutputType(out_type), function, ": invalid output type ",
                          static_cast<int>(out_type));
  const int64_t block_elements = internal::DeviceFormatBlockElements(choice.format);
  GGUFKIT_RETURN_IF_ERROR(CheckCount(function, n_elements, block_elements, "quantized"));
  if (n_elements == 0) return absl::OkStatus();
  GGUFKIT_RETURN_IF_ERROR(CheckPointer(function, "blocks", device_blocks, 1));
  GGUFKIT_RETURN_IF_ERROR(CheckPointer(function, "output", device_out, OutputElementBytes(out_type)));
  GGUFKIT_RETURN_IF_ERROR(DeviceAvailable());
  GGUFKIT_RETURN_IF_ERROR(CheckDeviceAccessible(function, "blocks", device_blocks));
  GGUFKIT_RETURN_IF_ERROR(CheckDeviceAccessible(function, "output", device_out));
  return Launched(function,
                  internal::LaunchDequantize(choice.format, choice.table, out_type,
                                             device_blocks, device_out, n_elements / block_elements,
                                             static_cast<cudaStream_t>(stream)));
}

}  // namespace


absl::Status DeviceAvailable() {
  int count = 0;
  const cudaError_t error = cudaGetDeviceCount(&count);
  if (error != cudaSuccess) {
    cudaGetLastError();
    return absl::UnavailableError(absl::StrCat("no usable CUDA device: ", CudaErrorText(error)));
  }
  if (count == 0) return absl::UnavailableError("no CUDA device found");
  return absl::OkStatus();
}

absl::StatusOr<std::string> DeviceDescription() {
  GGUFKIT_RETURN_IF_ERROR(DeviceAvailable());
  int device = 0;
  cudaError_t error = cudaGetDevice(&device);
  cudaDeviceProp properties{};
  if (error == cudaSuccess) error = cudaGetDeviceProperties(&properties, device);
  if (error != cudaSuccess) {
    cudaGetLastError();
    return absl::UnavailableError(
        absl::StrCat("cannot query the CUDA device: ", CudaErrorText(error)));
  }
  return absl::StrCat(properties.name, " (sm_", properties.major, properties.minor, ", ",
                      properties.multiProcessorCount, " SMs)");
}

bool CanDequantizeOnDevice(GgmlType type) {
  FormatChoice choice;
  return FormatForGgmlType(type, &choice);
}

absl::Status DequantizeOnDevice(GgmlType type, const void* device_blocks, int64_t n_elements,
                                OutputType out_type, void* device_out, Stream stream) {
  constexpr const char* kFunction = "DequantizeOnDevice";
  FormatChoice choice;
  if (!FormatForGgmlType(type, &choice)) {
    return absl::InvalidArgumentError(
        absl::StrCat(kFunction, ": no CUDA dequantizer for type ", static_cast<uint32_t>(type)));
  }
  return Dequantize(kFunction, choice, device_blocks, n_elements, out_type, device_out, stream);
}

int64_t KvBlockElements(KvFormat format) {
  return format.type == KvType::kQ8_0 || format.type == KvType::kQ4_0
             ? 32
             : internal::kTurboGroup;
}

int64_t KvBlockBytes(KvFormat format) {
  switch (format.type) {
    case KvType::kQ8_0:
      return 34;
    case KvType::kQ4_0:
      return 18;
    default:
      return TurboTablesOf(format).block_bytes;
  }
}

absl::Status QuantizeKvOnDevice(KvFormat format, const float* device_x, int64_t n_elements,
                                void* device_blocks, Stream stream) {
  constexpr const char* kFunction = "QuantizeKvOnDevice";
  GGUFKIT_RETURN_ERROR_IF(!ValidKvFormat(format), kFunction, ": invalid KV format (type ",
                          static_cast<int>(format.type), ", version ",
                          static_cast<int>(format.variant), ")");
  const int64_t block_elements = KvBlockElements(format);
  GGUFKIT_RETURN_IF_ERROR(CheckCount(kFunction, n_elements, block_elements, "KV"));
  if (n_elements == 0) return absl::OkStatus();
  GGUFKIT_RETURN_IF_ERROR(CheckPointer(kFunction, "input", device_x, 4));
  GGUFKIT_RETURN_IF_ERROR(CheckPointer(kFunction, "blocks", device_blocks, 1));
  GGUFKIT_RETURN_IF_ERROR(DeviceAvailable());
  GGUFKIT_RETURN_IF_ERROR(CheckDeviceAccessible(kFunction, "input", device_x));
  GGUFKIT_RETURN_IF_ERROR(CheckDeviceAccessible(kFunction, "blocks", device_blocks));
  const int64_t n_blocks = n_elements / block_elements;
  const auto cuda_stream = static_cast<cudaStream_t>(stream);
  switch (format.type) {
    case KvType::kQ8_0:
      return Launched(kFunction,
                      internal::LaunchQuantizeQ8_0(device_x, device_blocks, n_blocks, cuda_stream));
    case KvType::kQ4_0:
      return Launched(kFunction,
                      internal::LaunchQuantizeQ4_0(device_x, device_blocks, n_blocks, cuda_stream));
    default:
      return Launched(kFunction,
                      internal::LaunchQuantizeTurbo(TurboTablesOf(format), device_x, device_blocks,
                                                    n_blocks, cuda_stream));
  }
}

absl::Status DequantizeKvOnDevice(KvFormat format, const void* device_blocks, int64_t n_elements,
                                  OutputType out_type, void* device_out, Stream stream) {
  constexpr const char* kFunction = "DequantizeKvOnDevice";
  GGUFKIT_RETURN_ERROR_IF(!ValidKvFormat(format), kFunction, ": invalid KV format (type ",
                          static_cast<int>(format.type), ", version ",
                          static_cast<int>(format.variant), ")");
  return Dequantize(kFunction, FormatForKv(format), device_blocks, n_elements, out_type, device_out,
                    stream);
}

absl::Status RotateOnDevice(RotationDirection direction, const float* device_in, float* device_out,
                            int64_t n_elements, Stream stream) {
  constexpr const char* kFunction = "RotateOnDevice";
  GGUFKIT_RETURN_ERROR_IF(
      direction != RotationDirection::kForward && direction != RotationDirection::kInverse,
      kFunction, ": invalid direction ", static_cast<int>(direction));
  GGUFKIT_RETURN_IF_ERROR(CheckCount(kFunction, n_elements, internal::kTurboGroup, "rotation"));
  if (n_elements == 0) return absl::OkStatus();
  GGUFKIT_RETURN_IF_ERROR(CheckPointer(kFunction, "input", device_in, 4));
  GGUFKIT_RETURN_IF_ERROR(CheckPointer(kFunction, "output", device_out, 4));
  const auto in_begin = reinterpret_cast<uintptr_t>(device_in);
  const auto out_begin = reinterpret_cast<uintptr_t>(device_out);
  const auto bytes = static_cast<uintptr_t>(n_elements) * sizeof(float);
  GGUFKIT_RETURN_ERROR_IF(
      in_begin != out_begin && in_begin < out_begin + bytes && out_begin < in_begin + bytes,
      kFunction, ": input and output overlap without being the same buffer");
  GGUFKIT_RETURN_IF_ERROR(DeviceAvailable());
  GGUFKIT_RETURN_IF_ERROR(CheckDeviceAccessible(kFunction, "input", device_in));
  GGUFKIT_RETURN_IF_ERROR(CheckDeviceAccessible(kFunction, "output", device_out));
  return Launched(kFunction,
                  internal::LaunchRotate(direction == RotationDirection::kInverse, device_in,
                                         device_out, n_elements / internal::kTurboGroup,
                                         static_cast<cudaStream_t>(stream)));
}

}  // namespace ggufkit::cuda
