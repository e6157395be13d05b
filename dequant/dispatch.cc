// DequantizeBlocks: the one checked entry point. It validates the request
// once, then hands whole blocks to a SIMD kernel of the dispatched Highway
// target, or to the scalar reference codec of quants/ (plus a round-to-
// nearest-even conversion for f16/bf16 output) where no kernel exists.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/dequant/kernels.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/type_traits.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ggufkit/dequant/dispatch.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format off: the per-target headers must follow foreach_target.h.
#include "hwy/cache_control.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
const char* TargetNameForTarget() { return hwy::TargetName(HWY_TARGET); }

// Copies `bytes` from `src` (any alignment) to `dst` (64-byte aligned) with
// non-temporal stores; the caller fences them with hwy::FlushStream().
void StreamCopyForTarget(const uint8_t* src, uint8_t* dst, size_t bytes) {
  size_t i = 0;
#if HWY_TARGET != HWY_SCALAR
  namespace hn = hwy::HWY_NAMESPACE;
  const hn::ScalableTag<uint8_t> d;
  const size_t n = hn::Lanes(d);
  for (; i + 4 * n <= bytes; i += 4 * n) {
    const auto v0 = hn::LoadU(d, src + i);
    const auto v1 = hn::LoadU(d, src + i + n);
    const auto v2 = hn::LoadU(d, src + i + 2 * n);
    const auto v3 = hn::LoadU(d, src + i + 3 * n);
    hn::Stream(v0, d, dst + i);
    hn::Stream(v1, d, dst + i + n);
    hn::Stream(v2, d, dst + i + 2 * n);
    hn::Stream(v3, d, dst + i + 3 * n);
  }
  for (; i + n <= bytes; i += n) hn::Stream(hn::LoadU(d, src + i), d, dst + i);
#endif
  std::memcpy(dst + i, src + i, bytes - i);
}
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ggufkit {
HWY_EXPORT(TargetNameForTarget);
HWY_EXPORT(StreamCopyForTarget);

namespace dequant_internal {
const char* DispatchedTargetName() { return HWY_DYNAMIC_DISPATCH(TargetNameForTarget)(); }

namespace {
std::atomic<bool> avx512fp16_off{false};  // ScopedDequantTarget's
}  // namespace

bool CpuHasAvx512Fp16() {
#if HWY_ARCH_X86_64 && HWY_COMPILER_GCC_ACTUAL >= 1200  // as GGUFKIT_AVX512FP16
  static const bool has = __builtin_cpu_supports("avx512fp16");
  return has;
#else
  return false;
#endif
}

bool Avx512Fp16Enabled() {
  return CpuHasAvx512Fp16() && !avx512fp16_off.load(std::memory_order_relaxed);
}
}  // namespace dequant_internal

namespace {

using dequant_internal::KernelFn;
using dequant_internal::StoreKind;

KernelFn FindKernel(GgmlType type, OutputType out_type, StoreKind store) {
  KernelFn (*const families[])(GgmlType, OutputType, StoreKind) = {
      dequant_internal::FindMissionKernel, dequant_internal::FindLegacyKernel,
      dequant_internal::FindKQuantKernel,  dequant_internal::FindCodebookKernel,
      dequant_internal::FindFloatKernel,
  };
  for (auto* family : families) {
    if (KernelFn kernel = family(type, out_type, store)) return kernel;
  }
  return nullptr;
}

bool ValidOutputType(OutputType out_type) {
  return out_type == OutputType::kF32 || out_type == OutputType::kF16 ||
         out_type == OutputType::kBF16;
}

// The reference path: the registered scalar dequantizer writes fp32; f16 and
// bf16 outputs (and f32 to a misaligned address) go through a small stack
// buffer, with quants/half.h's rounding for f16 / bf16.
absl::Status DequantizeWithReference(const TypeTraits& traits, const uint8_t* blocks,
                                     int64_t n_elements, void* out, OutputType out_type) {
  const ReferenceCodec& codec = GetReferenceCodec(traits.type);
  if (codec.dequantize == nullptr) {
    return absl::UnimplementedError(absl::StrCat("dequantize ", traits.name, " to ",
                                                 OutputTypeName(out_type),
                                                 ": no SIMD kernel on this target and no "
                                                 "reference dequantizer registered"));
  }
  // The reference writes through float*: direct only when that is aligned.
  if (out_type == OutputType::kF32 && reinterpret_cast<uintptr_t>(out) % alignof(float) == 0) {
    codec.dequantize(blocks, static_cast<float*>(out), n_elements);
    return absl::OkStatus();
  }
  // 4096 floats = 16 KiB: a whole number of blocks for every block size
  // (1, 32, 64, 128, 256) and small enough for the stack.
  constexpr int64_t kChunkElements = 4096;
  float chunk[kChunkElements];
  uint8_t* out_bytes = static_cast<uint8_t*>(out);
  const size_t elem_bytes = OutputElementBytes(out_type);
  const int64_t chunk_blocks = kChunkElements / traits.block_size;
  for (int64_t done = 0; done < n_elements;) {
    const int64_t count = std::min(n_elements - done, chunk_blocks * traits.block_size);
    codec.dequantize(blocks + done / traits.block_size * traits.type_size, chunk, count);
    uint8_t* dst = out_bytes + static_cast<size_t>(done) * elem_bytes;
    if (out_type == OutputType::kF32) {
      std::memcpy(dst, chunk, static_cast<size_t>(count) * sizeof(float));
    } else {
      for (int64_t i = 0; i < count; ++i) {
        const uint16_t h = out_type == OutputType::kF16 ? F32ToF16(chunk[i]) : F32ToBF16(chunk[i]);
        std::memcpy(dst + 2 * i, &h, 2);
      }
    }
    done += count;
  }
  return absl::OkStatus();
}

// Streamed output that is not 64-byte aligned, where the target has no
// realigning streaming writer (below AVX2) or the output is not aligned to
// its element (see StreamMisaligned): non-temporal vector stores need
// alignment, and without them the output costs a read-for-ownership per
// line (Q4_K out of cache on AVX3: 0.63x the aligned speed). Instead the
// kernel writes chunks of whole blocks into an aligned scratch that stays in
// L1, and the output goes out with non-temporal stores of whole lines. The
// bytes written are the kernel's own. Only the output's first and last
// partial lines take cached stores: the few bytes of a chunk that end short
// of a line boundary are carried into the scratch in front of the next chunk
// and leave with its first line. (Cached stores at every chunk boundary cost
// a read-for-ownership per chunk, and stores commit in order, so each one
// held up the non-temporal stores behind it: Intel Xeon, AVX3, out of cache,
// 0.5-0.8x the aligned speed in a paired measurement.) Not for cached output:
// there the extra copy costs more than the line-straddling stores it avoids
// (Q4_K in cache: 0.41-0.50x aligned through the scratch, 0.66x with direct
// unaligned stores; cached misaligned output uses StoreKind::kRealign).
constexpr size_t kScratchBytes = 2 << 10;

void DequantizeThroughScratch(KernelFn kernel, const TypeTraits& traits, const uint8_t* blocks,
                              int64_t n_elements, uint8_t* out, size_t elem_bytes) {
  // The chunk at scratch + 64; the carried bytes (fewer than 64) just before.
  alignas(64) uint8_t scratch[64 + kScratchBytes];
  uint8_t* const chunk = scratch + 64;
  const int64_t block_out_bytes = traits.block_size * static_cast<int64_t>(elem_bytes);
  const int64_t chunk_blocks = static_cast<int64_t>(kScratchBytes) / block_out_bytes;
  const int64_t n_blocks = n_elements / traits.block_size;
  // Bytes before the first line boundary: cached stores.
  size_t head = (64 - reinterpret_cast<uintptr_t>(out) % 64) % 64;
  uint8_t* dst = out;
  size_t carried = 0;
  for (int64_t done = 0; done < n_blocks; done += chunk_blocks) {
    const int64_t count = std::min(chunk_blocks, n_blocks - done);
    kernel(blocks + done * traits.type_size, count, chunk);
    const uint8_t* src = chunk - carried;
    size_t bytes = carried + static_cast<size_t>(count * block_out_bytes);
    const size_t h = std::min(head, bytes);
    std::memcpy(dst, src, h);
    head -= h;
    src += h;
    dst += h;
    bytes -= h;
    const size_t body = bytes / 64 * 64;  // dst is on a line boundary here
    HWY_DYNAMIC_DISPATCH(StreamCopyForTarget)(src, dst, body);
    src += body;
    dst += body;
    carried = bytes - body;
    if (done + count >= n_blocks) {
      std::memcpy(dst, src, carried);  // the last partial line
    } else {
      std::memmove(chunk - carried, src, carried);
    }
  }
}

// Streamed output that is not 64-byte aligned (false: no way applies, and
// the caller writes it with cached stores): output aligned to its element,
// on AVX2 and AVX3, with the kernel's vectors realigned in registers and
// streamed (StreamRealign, dequant/output-inl.h); otherwise (other targets,
// odd addresses) DequantizeThroughScratch.
bool StreamMisaligned(GgmlType type, const TypeTraits& traits, const uint8_t* blocks,
                      int64_t n_elements, uint8_t* out, OutputType out_type) {
  const size_t elem_bytes = OutputElementBytes(out_type);
  if (reinterpret_cast<uintptr_t>(out) % elem_bytes == 0) {
    if (KernelFn kernel = FindKernel(type, out_type, StoreKind::kStreamingMisaligned)) {
      kernel(blocks, n_elements / traits.block_size, out);
      hwy::FlushStream();
      return true;
    }
  }
  if (static_cast<size_t>(traits.block_size) * elem_bytes <= kScratchBytes) {
    if (KernelFn kernel = FindKernel(type, out_type, StoreKind::kPlain)) {
      DequantizeThroughScratch(kernel, traits, blocks, n_elements, out, elem_bytes);
      hwy::FlushStream();
      return true;
    }
  }
  return false;
}

// Element-wise types (F32, F16, BF16 input; one element per block) into
// output aligned to its element but not to 64 bytes: the elements before
// the first line boundary through the plain kernel, the rest from that
// boundary on as aligned output (streamed when `streaming`), so that no
// vector store splits a line and streamed output needs no realignment
// (false: a kernel is missing). Cached and streamed alike.
bool SplitAtFirstLine(GgmlType type, const TypeTraits& traits, const uint8_t* blocks,
                      int64_t n_elements, uint8_t* out, OutputType out_type, bool streaming) {
  const size_t elem_bytes = OutputElementBytes(out_type);
  const KernelFn head_kernel = FindKernel(type, out_type, StoreKind::kPlain);
  const KernelFn rest_kernel =
      FindKernel(type, out_type, streaming ? StoreKind::kStreaming : StoreKind::kPlain);
  if (head_kernel == nullptr || rest_kernel == nullptr) return false;
  const int64_t head = std::min(
      n_elements, static_cast<int64_t>((64 - reinterpret_cast<uintptr_t>(out) % 64) / elem_bytes));
  head_kernel(blocks, head, out);
  rest_kernel(blocks + head * traits.type_size, n_elements - head, out + head * elem_bytes);
  if (streaming) hwy::FlushStream();
  return true;
}

bool ReadForceScalarEnvironment() {
  const char* value = std::getenv("GGUFKIT_FORCE_SCALAR");
  return value != nullptr && value[0] != '\0' && std::strcmp(value, "0") != 0;
}

}  // namespace

bool ScalarForcedByEnvironment() {
  static const bool forced = ReadForceScalarEnvironment();
  return forced;
}

absl::Status DequantizeBlocks(GgmlType type, const uint8_t* blocks, int64_t n_elements, void* out,
                              OutputType out_type, const DequantOptions& options) {
  const TypeTraits* traits = FindTypeTraits(static_cast<uint32_t>(type));
  GGUFKIT_RETURN_ERROR_IF(traits == nullptr, "dequantize: unknown ggml type id ",
                          static_cast<uint32_t>(type));
  GGUFKIT_RETURN_ERROR_IF(traits->kind == TypeKind::kInteger, "dequantize: ", traits->name,
                          " is an integer type; integer tensors are copied, not dequantized");
  GGUFKIT_RETURN_ERROR_IF(!ValidOutputType(out_type), "dequantize ", traits->name,
                          ": invalid output type ", static_cast<int>(out_type));
  GGUFKIT_RETURN_ERROR_IF(n_elements < 0, "dequantize ", traits->name, ": negative element count ",
                          n_elements);
  GGUFKIT_RETURN_ERROR_IF(n_elements % traits->block_size != 0, "dequantize ", traits->name, ": ",
                          n_elements, " elements is not a whole number of ", traits->block_size,
                          "-element blocks");
  if (n_elements == 0) return absl::OkStatus();
  GGUFKIT_RETURN_ERROR_IF(blocks == nullptr || out == nullptr, "dequantize ", traits->name,
                          ": null ", blocks == nullptr ? "input" : "output", " pointer for ",
                          n_elements, " elements");
  // Byte counts must fit in size_t/int64 before any kernel walks them.
  GGUFKIT_RETURN_IF_ERROR(RowSizeBytes(type, n_elements).status());
  GGUFKIT_RETURN_ERROR_IF(n_elements > INT64_MAX / 4, "dequantize ", traits->name, ": ", n_elements,
                          " elements overflow the output size");

  // Same type in and out: an exact copy on every path (a round trip through
  // fp32 would canonicalize NaN payloads).
  if ((type == GgmlType::kF32 && out_type == OutputType::kF32) ||
      (type == GgmlType::kF16 && out_type == OutputType::kF16) ||
      (type == GgmlType::kBF16 && out_type == OutputType::kBF16)) {
    std::memcpy(out, blocks, static_cast<size_t>(n_elements) * OutputElementBytes(out_type));
    return absl::OkStatus();
  }
  if (!options.force_scalar && !ScalarForcedByEnvironment()) {
    const bool aligned = reinterpret_cast<uintptr_t>(out) % 64 == 0;
    const int64_t out_bytes = n_elements * static_cast<int64_t>(OutputElementBytes(out_type));
    const bool want_streaming =
        options.store_mode == StoreMode::kStreaming ||
        (options.store_mode == StoreMode::kAuto && out_bytes >= kStreamingMinBytes);
    const size_t elem_bytes = OutputElementBytes(out_type);
    const bool element_aligned = reinterpret_cast<uintptr_t>(out) % elem_bytes == 0;
    if (!aligned && element_aligned && traits->block_size == 1 &&
        SplitAtFirstLine(type, *traits, blocks, n_elements, static_cast<uint8_t*>(out), out_type,
                         want_streaming)) {
      return absl::OkStatus();
    }
    if (!aligned && want_streaming &&
        StreamMisaligned(type, *traits, blocks, n_elements, static_cast<uint8_t*>(out), out_type)) {
      return absl::OkStatus();
    }
    const bool streaming = aligned && want_streaming;
    // Cached output off the vector alignment: aligned stores of realigned
    // vectors (where the target has them), if elements are aligned.
    const bool realign = !aligned && element_aligned;
    const StoreKind store = streaming ? StoreKind::kStreaming
                            : realign ? StoreKind::kRealign
                                      : StoreKind::kPlain;
    if (KernelFn kernel = FindKernel(type, out_type, store)) {
      kernel(blocks, n_elements / traits->block_size, out);
      // Non-temporal stores are weakly ordered: fence them before the caller
      // (or another thread it signals) reads the buffer.
      if (streaming) hwy::FlushStream();
      return absl::OkStatus();
    }
  }
  return DequantizeWithReference(*traits, blocks, n_elements, out, out_type);
}

bool HasSimdKernel(GgmlType type, OutputType out_type) {
  if (ScalarForcedByEnvironment()) return false;
  return FindKernel(type, out_type, StoreKind::kPlain) != nullptr;
}

std::string ActiveDequantTarget() {
  if (ScalarForcedByEnvironment()) return "scalar";
  const std::string name = dequant_internal::DispatchedTargetName();
  return name == "SCALAR" ? "scalar" : name;
}

std::vector<DequantTarget> SupportedDequantTargets() {
  std::vector<DequantTarget> targets;
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    // AVX3_DL and AVX3 (Highway 1.0.3 knows no target with AVX512-FP16).
    const bool avx3 = (target & (HWY_AVX3 | HWY_AVX3_DL)) != 0;
    targets.push_back(DequantTarget{target, hwy::TargetName(target),
                                    avx3 && dequant_internal::CpuHasAvx512Fp16()});
  }
  return targets;
}

ScopedDequantTarget::ScopedDequantTarget(int64_t target_id, bool avx512fp16) {
  hwy::SetSupportedTargetsForTest(target_id);
  dequant_internal::avx512fp16_off.store(!avx512fp16, std::memory_order_relaxed);
}

ScopedDequantTarget::~ScopedDequantTarget() {
  hwy::SetSupportedTargetsForTest(0);
  dequant_internal::avx512fp16_off.store(false, std::memory_order_relaxed);
}

}  // namespace ggufkit
#endif  // HWY_ONCE
