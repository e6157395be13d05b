// The CUDA kernels: thin SIMT drivers around the per-group math of
// group_codecs.h (which the host tests check against the golden vectors).
//
// Device features used: global/shared memory, __syncthreads, __syncwarp
// (CUDA 9+, any architecture) and cvt.rn.f16.f32 (sm_53+ through cuda_fp16.h).
// No tensor cores, no async copies, no sm_80+ intrinsics, so the code itself
// runs on SM 5.3 (Jetson Nano) when built with a toolkit that still targets it.
#include <cuda_runtime.h>

#include <cstdint>

#include "ggufkit/kernels/cuda/group_codecs.h"
#include "ggufkit/kernels/cuda/kernel_launch.h"

namespace ggufkit::cuda::internal {
namespace {

constexpr int kThreadsPerBlock = 256;
constexpr int kWarpsPerBlock = kThreadsPerBlock / 32;
// Grid-stride loops keep the grid within every architecture's limits.
constexpr int64_t kMaxGridBlocks = int64_t{1} << 20;

unsigned GridFor(int64_t work_items, int64_t items_per_block) {
  int64_t blocks = (work_items + items_per_block - 1) / items_per_block;
  if (blocks > kMaxGridBlocks) blocks = kMaxGridBlocks;
  if (blocks < 1) blocks = 1;
  return static_cast<unsigned>(blocks);
}

// cudaGetLastError after a launch also returns any earlier, unrelated
// non-sticky error of this thread; clear those first so a launch is judged
// on its own. (Sticky errors cannot be cleared and are rightly reported.)
void ClearStaleError() { (void)cudaGetLastError(); }

struct WarpBarrier {
  __host__ __device__ void operator()() const {
#if defined(__CUDA_ARCH__)
    __syncwarp();
#endif
  }
};

// Writes the 8 values of group `gi`. With a 16-byte aligned output every group
// starts 16-byte aligned, so the whole group goes out in one (f16/bf16) or two
// (f32) 16-byte stores; otherwise element by element.
template <OutputType kOut, bool kVector>
__device__ __forceinline__ void StoreGroup(void* out, int64_t gi, const float* v) {
  if constexpr (kOut == OutputType::kF32) {
    if constexpr (kVector) {
      float4* p = reinterpret_cast<float4*>(out) + 2 * gi;
      p[0] = make_float4(v[0], v[1], v[2], v[3]);
      p[1] = make_float4(v[4], v[5], v[6], v[7]);
    } else {
      float* p = reinterpret_cast<float*>(out) + kGroupElems * gi;
      GGUFKIT_UNROLL
      for (int k = 0; k < kGroupElems; ++k) p[k] = v[k];
    }
  } else {
    uint16_t h[kGroupElems];
    GGUFKIT_UNROLL
    for (int k = 0; k < kGroupElems; ++k) {
      h[k] = kOut == OutputType::kF16 ? FloatToHalf(v[k]) : FloatToBfloat16(v[k]);
    }
    if constexpr (kVector) {
      uint4* p = reinterpret_cast<uint4*>(out) + gi;
      *p = make_uint4(h[0] | (uint32_t{h[1]} << 16), h[2] | (uint32_t{h[3]} << 16),
                      h[4] | (uint32_t{h[5]} << 16), h[6] | (uint32_t{h[7]} << 16));
    } else {
      uint16_t* p = reinterpret_cast<uint16_t*>(out) + kGroupElems * gi;
      GGUFKIT_UNROLL
      for (int k = 0; k < kGroupElems; ++k) p[k] = h[k];
    }
  }
}

// One thread per group of 8 outputs; consecutive threads write consecutive
// groups (coalesced stores), and the few threads sharing a block re-read its
// header from L1.
template <class Decoder, OutputType kOut, bool kVector>
__global__ void __launch_bounds__(kThreadsPerBlock)
    DequantizeKernel(const uint8_t* __restrict__ blocks, void* __restrict__ out, int64_t n_groups,
                     DecodeTable table) {
  __shared__ float s_table[16];
  if (threadIdx.x < 16) s_table[threadIdx.x] = table.values[threadIdx.x];
  __syncthreads();
  constexpr int kGroupsPerBlock = Decoder::kBlockElems / kGroupElems;
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t gi = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; gi < n_groups;
       gi += stride) {
    const int64_t block = gi / kGroupsPerBlock;
    const int group = static_cast<int>(gi - block * kGroupsPerBlock);
    float v[kGroupElems];
    Decoder::Decode(blocks + block * Decoder::kBlockBytes, group, s_table, v);
    StoreGroup<kOut, kVector>(out, gi, v);
  }
}

template <class Decoder, OutputType kOut>
cudaError_t LaunchDecoderOut(const DecodeTable& table, const void* blocks, void* out,
                             int64_t n_blocks, cudaStream_t stream) {
  const int64_t n_groups = n_blocks * (Decoder::kBlockElems / kGroupElems);
  const unsigned grid = GridFor(n_groups, kThreadsPerBlock);
  const auto* in = static_cast<const uint8_t*>(blocks);
  ClearStaleError();
  if (reinterpret_cast<uintptr_t>(out) % 16 == 0) {
    DequantizeKernel<Decoder, kOut, true>
        <<<grid, kThreadsPerBlock, 0, stream>>>(in, out, n_groups, table);
  } else {
    DequantizeKernel<Decoder, kOut, false>
        <<<grid, kThreadsPerBlock, 0, stream>>>(in, out, n_groups, table);
  }
  return cudaGetLastError();
}

template <class Decoder>
cudaError_t LaunchDecoder(const DecodeTable& table, OutputType out_kind, const void* blocks, void* out,
                          int64_t n_blocks, cudaStream_t stream) {
  switch (out_kind) {
    case OutputType::kF32:
      return LaunchDecoderOut<Decoder, OutputType::kF32>(table, blocks, out, n_blocks, stream);
    case OutputType::kF16:
      return LaunchDecoderOut<Decoder, OutputType::kF16>(table, blocks, out, n_blocks, stream);
    case OutputType::kBF16:
      return LaunchDecoderOut<Decoder, OutputType::kBF16>(table, blocks, out, n_blocks, stream);
  }
  return cudaErrorInvalidValue;
}

// ggml's q8_0 / q4_0 reference quantizers are sequential per 32-block (the
// running max and its NaN handling depend on the order): one thread a block.
struct Q8_0Quantizer {
  static constexpr int kBlockBytes = 34;
  __device__ static void Quantize(const float* x, uint8_t* block) { QuantizeBlockQ8_0(x, block); }
};
struct Q4_0Quantizer {
  static constexpr int kBlockBytes = 18;
  __device__ static void Quantize(const float* x, uint8_t* block) { QuantizeBlockQ4_0(x, block); }
};

template <class Quantizer>
__global__ void __launch_bounds__(kThreadsPerBlock)
    QuantizeBlocksKernel(const float* __restrict__ x, uint8_t* __restrict__ blocks,
                         int64_t n_blocks) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t b = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; b < n_blocks;
       b += stride) {
    Quantizer::Quantize(x + 32 * b, blocks + b * Quantizer::kBlockBytes);
  }
}

template <class Quantizer>
cudaError_t LaunchQuantizeBlocks(const float* x, void* blocks, int64_t n_blocks,
                                 cudaStream_t stream) {
  const unsigned grid = GridFor(n_blocks, kThreadsPerBlock);
  ClearStaleError();
  QuantizeBlocksKernel<Quantizer>
      <<<grid, kThreadsPerBlock, 0, stream>>>(x, static_cast<uint8_t*>(blocks), n_blocks);
  return cudaGetLastError();
}

// One warp per 128-group; the tables and signs come in as kernel parameters
// and are copied to shared memory (device code cannot address host constexpr
// data, and lookups by 32 lanes at once are cheapest there).
__global__ void __launch_bounds__(kThreadsPerBlock)
    QuantizeTurboKernel(const float* __restrict__ x, uint8_t* __restrict__ blocks, int64_t n_groups,
                        TurboTables tables, TurboSigns signs) {
  __shared__ TurboTables s_tables;
  __shared__ TurboSigns s_signs;
  __shared__ float s_u[kWarpsPerBlock][kTurboGroup];
  __shared__ uint8_t s_idx[kWarpsPerBlock][kTurboGroup];
  if (threadIdx.x == 0) {
    s_tables = tables;
    s_signs = signs;
  }
  __syncthreads();
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int64_t warps_total = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  // The loop condition is the same for the 32 lanes of a warp, so every
  // __syncwarp inside is reached by the full warp.
  for (int64_t g = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + warp; g < n_groups;
       g += warps_total) {
    TurboQuantizeGroup(s_tables, s_signs, x + g * kTurboGroup, blocks + g * s_tables.block_bytes,
                       s_u[warp], s_idx[warp], lane, 32, WarpBarrier());
  }
}

__global__ void __launch_bounds__(kThreadsPerBlock)
    RotateKernel(const float* in, float* out, int64_t n_groups, TurboSigns signs, int inverse) {
  __shared__ TurboSigns s_signs;
  __shared__ float s_u[kWarpsPerBlock][kTurboGroup];
  if (threadIdx.x == 0) s_signs = signs;
  __syncthreads();
  const int warp = threadIdx.x / 32;
  const int lane = threadIdx.x % 32;
  const int64_t warps_total = static_cast<int64_t>(gridDim.x) * kWarpsPerBlock;
  const uint32_t* first = inverse ? s_signs.s2 : s_signs.s1;
  const uint32_t* second = inverse ? s_signs.s1 : s_signs.s2;
  for (int64_t g = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + warp; g < n_groups;
       g += warps_total) {
    float* u = s_u[warp];
    for (int i = lane; i < kTurboGroup; i += 32) u[i] = in[g * kTurboGroup + i];
    __syncwarp();
    Rotate128(u, first, second, lane, 32, WarpBarrier());
    for (int i = lane; i < kTurboGroup; i += 32) out[g * kTurboGroup + i] = u[i];
    __syncwarp();
  }
}

}  // namespace

int DeviceFormatBlockElements(DeviceFormat format) {
  switch (format) {
    case DeviceFormat::kQ8_0:
    case DeviceFormat::kQ4_0:
    case DeviceFormat::kIq4Nl:
    case DeviceFormat::kMxfp4:
      return 32;
    case DeviceFormat::kQ1_0:
    case DeviceFormat::kTurbo2:
    case DeviceFormat::kTurbo3:
    case DeviceFormat::kTurbo4:
    case DeviceFormat::kTurbo4V1:
      return 128;
    case DeviceFormat::kQ4_K:
    case DeviceFormat::kQ5_K:
    case DeviceFormat::kQ6_K:
      return 256;
  }
  return 0;
}

int DeviceFormatBlockBytes(DeviceFormat format) {
  switch (format) {
    case DeviceFormat::kQ8_0:
      return Q8_0Decoder::kBlockBytes;
    case DeviceFormat::kQ4_0:
      return Q4_0Decoder::kBlockBytes;
    case DeviceFormat::kQ1_0:
      return Q1_0Decoder::kBlockBytes;
    case DeviceFormat::kQ4_K:
      return Q4_KDecoder::kBlockBytes;
    case DeviceFormat::kQ5_K:
      return Q5_KDecoder::kBlockBytes;
    case DeviceFormat::kQ6_K:
      return Q6_KDecoder::kBlockBytes;
    case DeviceFormat::kIq4Nl:
      return Iq4NlDecoder::kBlockBytes;
    case DeviceFormat::kMxfp4:
      return Mxfp4Decoder::kBlockBytes;
    case DeviceFormat::kTurbo2:
      return Turbo2Decoder::kBlockBytes;
    case DeviceFormat::kTurbo3:
      return Turbo3Decoder::kBlockBytes;
    case DeviceFormat::kTurbo4:
      return Turbo4Decoder::kBlockBytes;
    case DeviceFormat::kTurbo4V1:
      return Turbo4V1Decoder::kBlockBytes;
  }
  return 0;
}

cudaError_t LaunchDequantize(DeviceFormat format, const DecodeTable& table, OutputType out_kind,
                             const void* blocks, void* out, int64_t n_blocks, cudaStream_t stream) {
  switch (format) {
    case DeviceFormat::kQ8_0:
      return LaunchDecoder<Q8_0Decoder>(table, out_kind, blocks, out, n_blocks, stream);
    case DeviceFormat::kQ4_0:
      return LaunchDecoder<Q4_0Decoder>(table, out_kind, blocks, out, n_blocks, stream);
    case DeviceFormat::kQ1_0:
      return LaunchDecoder<Q1_0Decoder>(table, out_kind, blocks, out, n_blocks, stream);
    case DeviceFormat::kQ4_K:
      return LaunchDecoder<Q4_KDecoder>(table, out_kind, blocks, out, n_blocks, stream);
    case DeviceFormat::kQ5_K:
      return LaunchDecoder<Q5_KDecoder>(table, out_kind, blocks, out, n_blocks, stream);
    case DeviceFormat::kQ6_K:
      return LaunchDecoder<Q6_KDecoder>(table, out_kind, blocks, out, n_blocks, stream);
    case DeviceFormat::kIq4Nl:
      return LaunchDecoder<Iq4NlDecoder>(table, out_kind, blocks, out, n_blocks, stream);
    case DeviceFormat::kMxfp4:
      return LaunchDecoder<Mxfp4Decoder>(table, out_kind, blocks, out, n_blocks, stream);
    case DeviceFormat::kTurbo2:
      return LaunchDecoder<Turbo2Decoder>(table, out_kind, blocks, out, n_blocks, stream);
    case DeviceFormat::kTurbo3:
      return LaunchDecoder<Turbo3Decoder>(table, out_kind, blocks, out, n_blocks, stream);
    case DeviceFormat::kTurbo4:
      return LaunchDecoder<Turbo4Decoder>(table, out_kind, blocks, out, n_blocks, stream);
    case DeviceFormat::kTurbo4V1:
      return LaunchDecoder<Turbo4V1Decoder>(table, out_kind, blocks, out, n_blocks, stream);
  }
  return cudaErrorInvalidValue;
}

cudaError_t LaunchQuantizeQ8_0(const float* x, void* blocks, int64_t n_blocks,
                               cudaStream_t stream) {
  return LaunchQuantizeBlocks<Q8_0Quantizer>(x, blocks, n_blocks, stream);
}

cudaError_t LaunchQuantizeQ4_0(const float* x, void* blocks, int64_t n_blocks,
                               cudaStream_t stream) {
  return LaunchQuantizeBlocks<Q4_0Quantizer>(x, blocks, n_blocks, stream);
}

cudaError_t LaunchQuantizeTurbo(const TurboTables& tables, const float* x, void* blocks,
                                int64_t n_groups, cudaStream_t stream) {
  const unsigned grid = GridFor(n_groups, kWarpsPerBlock);
  ClearStaleError();
  QuantizeTurboKernel<<<grid, kThreadsPerBlock, 0, stream>>>(x, static_cast<uint8_t*>(blocks),
                                                             n_groups, tables, kTurboSigns);
  return cudaGetLastError();
}

cudaError_t LaunchRotate(bool inverse, const float* in, float* out, int64_t n_groups,
                         cudaStream_t stream) {
  const unsigned grid = GridFor(n_groups, kWarpsPerBlock);
  ClearStaleError();
  RotateKernel<<<grid, kThreadsPerBlock, 0, stream>>>(in, out, n_groups, kTurboSigns,
                                                      inverse ? 1 : 0);
  return cudaGetLastError();
}

}  // namespace ggufkit::cuda::internal
