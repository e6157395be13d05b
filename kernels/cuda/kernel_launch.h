// Internal: the kernel launchers of kernels.cu. They trust their arguments
// (the public wrappers in cuda_codecs.cc check sizes, pointers, alignment and
// the device first) and return the CUDA error of the launch. Kept free of
// Abseil so nvcc never parses it.
#ifndef GGUFKIT_KERNELS_CUDA_KERNEL_LAUNCH_H_
#define GGUFKIT_KERNELS_CUDA_KERNEL_LAUNCH_H_

#include <cuda_runtime_api.h>

#include <cstdint>

#include "ggufkit/kernels/cuda/group_codecs.h"

namespace ggufkit::cuda::internal {

// Block formats the dequantize kernel is instantiated for.
enum class DeviceFormat : int {
  kQ8_0,
  kQ4_0,
  kQ1_0,
  kQ4_K,
  kQ5_K,
  kQ6_K,
  kIq4Nl,
  kMxfp4,
  kTurbo2,
  kTurbo3,
  kTurbo4,
  kTurbo4V1,  // 68-byte block of the May 2026 fork
};

// Elements / bytes per block of a DeviceFormat.
int DeviceFormatBlockElements(DeviceFormat format);
int DeviceFormatBlockBytes(DeviceFormat format);

// Dequantizes n_blocks blocks of `format` at `blocks` (any alignment) into
// `out` (aligned to its element size). `table`: the format's lookup table
// (turbo centroids, iq4_nl / mxfp4 values; ignored by the others).
cudaError_t LaunchDequantize(DeviceFormat format, const DecodeTable& table, OutputType out_kind,
                             const void* blocks, void* out, int64_t n_blocks, cudaStream_t stream);

// ggml's q8_0 / q4_0 reference quantizers, one 32-block per thread.
cudaError_t LaunchQuantizeQ8_0(const float* x, void* blocks, int64_t n_blocks, cudaStream_t stream);
cudaError_t LaunchQuantizeQ4_0(const float* x, void* blocks, int64_t n_blocks, cudaStream_t stream);

// Turbo quantizer, one 128-group per warp.
cudaError_t LaunchQuantizeTurbo(const TurboTables& tables, const float* x, void* blocks,
                                int64_t n_groups, cudaStream_t stream);

// 128-point rotation of each group (forward: the quantizer's; inverse: the
// fork's un-rotation). in == out is allowed.
cudaError_t LaunchRotate(bool inverse, const float* in, float* out, int64_t n_groups,
                         cudaStream_t stream);

}  // namespace ggufkit::cuda::internal

#endif  // GGUFKIT_KERNELS_CUDA_KERNEL_LAUNCH_H_
