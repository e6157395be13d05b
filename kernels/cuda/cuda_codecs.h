// ggufkit::cuda: dequantize GGUF blocks and quantize KV-cache rows on an
// NVIDIA GPU, bit-exact with the CPU reference codecs (quants/).
//
// Every function takes device pointers (memory from cudaMalloc, managed
// memory, or mapped pinned host memory) and an optional stream, enqueues its
// work and returns without waiting: synchronize the stream before reading the
// result. Nothing here throws or aborts:
//   - InvalidArgument: a count that is negative or not a whole number of
//     blocks, a null pointer, an output not aligned to its element size, a
//     float input not 4-byte aligned, a host pointer unknown to CUDA, a
//     pointer of another device, or an unsupported type. These are checked
//     before the kernel is enqueued (most before any CUDA call at all).
//   - Unavailable: no usable CUDA device or driver (the reason is in the text).
//   - Internal: the launch failed (e.g. no kernel image for this GPU).
// Block inputs have no alignment requirement: rows of 18-, 34- or 210-byte
// blocks start anywhere. The buffers' sizes cannot be checked: the caller
// passes device buffers that hold n_elements.
//
// This header does not include cuda_runtime.h: a stream is passed as the
// opaque `Stream` (a cudaStream_t cast to void*; nullptr is the legacy
// default stream).
#ifndef GGUFKIT_KERNELS_CUDA_CUDA_CODECS_H_
#define GGUFKIT_KERNELS_CUDA_CUDA_CODECS_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ggufkit/quants/kv_cache.h"
#include "ggufkit/quants/output_type.h"
#include "ggufkit/quants/turbo.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit::cuda {

// A cudaStream_t as void*; nullptr = the default stream.
using Stream = void*;

// The element type written by the dequantizers is ggufkit::OutputType
// (quants/output_type.h), the same enum the CPU kernels take.

// Ok when a CUDA device can be used; otherwise Unavailable with the reason
// (no driver, no device, driver too old for this runtime, ...).
absl::Status DeviceAvailable();

// Name and compute capability of the current device, e.g.
// "NVIDIA H100 80GB HBM3 (sm_90, 132 SMs)"; an error when there is none.
absl::StatusOr<std::string> DeviceDescription();

// ---------------------------------------------------------------------------
// GGUF block formats -> f32 / f16 / bf16.
// ---------------------------------------------------------------------------

// True for the ggml types DequantizeOnDevice handles: q8_0, q4_0, q1_0, q4_K,
// q5_K, q6_K, iq4_nl, mxfp4.
bool CanDequantizeOnDevice(GgmlType type);

// Dequantizes n_elements (a whole number of blocks) of `type` from
// device_blocks into device_out (n_elements values of out_type).
absl::Status DequantizeOnDevice(GgmlType type, const void* device_blocks, int64_t n_elements,
                                OutputType out_type, void* device_out, Stream stream = nullptr);

// ---------------------------------------------------------------------------
// KV cache: q8_0, q4_0 (ggml) and TurboQuant turbo2 / turbo3 / turbo4.
// ---------------------------------------------------------------------------
// The KV type and TurboQuant layout are the CPU's enums (quants/kv_cache.h,
// quants/turbo.h): KvType::kQ8_0, kQ4_0, kTurbo2, kTurbo3, kTurbo4 (f16 and
// bf16 caches need no codec: InvalidArgument here), TurboVariant::kCurrent or
// kV1 (q8_0 / q4_0 and turbo2 are the same in both).
struct KvFormat {
  KvType type = KvType::kQ8_0;
  TurboVariant variant = TurboVariant::kCurrent;
};

// Elements per block (32 for q8_0 / q4_0, 128 for turbo) and bytes per block.
int64_t KvBlockElements(KvFormat format);
int64_t KvBlockBytes(KvFormat format);

// Quantizes n_elements floats (a whole number of blocks; rows are simply
// consecutive blocks) into blocks, byte-identical to the CPU reference
// (ggml's quantize_row_q8_0_ref / q4_0_ref; the fork's quantize_row_turboN_0_ref
// with turbo2/3 group size 128). device_x must be 4-byte aligned.
absl::Status QuantizeKvOnDevice(KvFormat format, const float* device_x, int64_t n_elements,
                                void* device_blocks, Stream stream = nullptr);

// Dequantizes KV blocks. Turbo output stays in the rotated domain, like the
// fork's dequantize_row_turboN_0; RotateOnDevice(kInverse) maps it back.
absl::Status DequantizeKvOnDevice(KvFormat format, const void* device_blocks, int64_t n_elements,
                                  OutputType out_type, void* device_out, Stream stream = nullptr);

// The TurboQuant rotation of every 128-group: forward
// y = diag(s2) H diag(s1) x / sqrt(128) (what the quantizer applies after
// normalising), inverse with s1 and s2 swapped (the fork's
// turbo_cpu_fwht_inverse). n_elements must be a multiple of 128. In place
// (device_in == device_out) is allowed; partial overlap is not.
// (RotationDirection: quants/turbo.h.)
absl::Status RotateOnDevice(RotationDirection direction, const float* device_in, float* device_out,
                            int64_t n_elements, Stream stream = nullptr);

}  // namespace ggufkit::cuda

#endif  // GGUFKIT_KERNELS_CUDA_CUDA_CODECS_H_
