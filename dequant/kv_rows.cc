// KV row front door: checks and geometry as the reference (quants/kv_cache),
// then the SIMD group codecs of dequant/turbo.h over whole runs of groups.
#include "ggufkit/dequant/kv_rows.h"

#include <algorithm>
#include <cstring>

#include "ggufkit/base/status_macros.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/dequant/turbo.h"

namespace ggufkit {
namespace {

bool IsTurboType(KvType type) {
  return type == KvType::kTurbo2 || type == KvType::kTurbo3 || type == KvType::kTurbo4;
}

TurboFormat TurboFormatOfKv(KvType type) {
  return type == KvType::kTurbo2   ? TurboFormat::kTurbo2
         : type == KvType::kTurbo3 ? TurboFormat::kTurbo3
                                   : TurboFormat::kTurbo4;
}

// Heads gathered per SIMD call when heads need zero padding (64 KiB of stack).
constexpr int64_t kScratchGroups = 128;

// Runs `fn(padded, n_groups)` over every head of n_rows x n_kv_heads heads of
// head_dim floats at `in`, each zero-padded to `padded` floats, in batches of
// whole heads gathered into a stack buffer.
template <typename Fn>
absl::Status ForEachPaddedHeadBatch(const float* in, int64_t n_heads, int64_t head_dim,
                                    int64_t padded, Fn fn) {
  alignas(64) float scratch[kScratchGroups * kTurboGroupSize];
  const int64_t heads_per_batch = std::max<int64_t>(1, kScratchGroups * kTurboGroupSize / padded);
  if (padded > kScratchGroups * kTurboGroupSize) {
    return absl::InvalidArgumentError("head_dim too large for the KV row scratch buffer");
  }
  for (int64_t h0 = 0; h0 < n_heads; h0 += heads_per_batch) {
    const int64_t n = std::min(heads_per_batch, n_heads - h0);
    for (int64_t h = 0; h < n; ++h) {
      float* dst = scratch + h * padded;
      std::memcpy(dst, in + (h0 + h) * head_dim, sizeof(float) * static_cast<size_t>(head_dim));
      std::fill(dst + head_dim, dst + padded, 0.0f);
    }
    GGUFKIT_RETURN_IF_ERROR(fn(h0, scratch, n * padded / kTurboGroupSize));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status QuantizeKvRows(KvType type, int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                            const float* x, uint8_t* out, TurboVariant variant) {
  if (!IsTurboType(type) || n_rows <= 0) {
    return reference::QuantizeKvRows(type, n_rows, n_kv_heads, head_dim, x, out, variant);
  }
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t row_bytes, KvRowBytes(type, n_kv_heads, head_dim, variant));
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t padded, KvPaddedHeadDim(type, head_dim));
  GGUFKIT_RETURN_ERROR_IF(x == nullptr || out == nullptr, "QuantizeKvRows: null buffer");
  const TurboFormat format = TurboFormatOfKv(type);
  const int64_t n_heads = n_rows * n_kv_heads;
  const int64_t groups_per_head = padded / kTurboGroupSize;
  const int64_t block_bytes = row_bytes / (n_kv_heads * groups_per_head);
  if (padded == head_dim) {
    return QuantizeTurboGroups(format, variant, x, n_heads * groups_per_head, out);
  }
  return ForEachPaddedHeadBatch(
      x, n_heads, head_dim, padded, [&](int64_t h0, const float* groups, int64_t n_groups) {
        return QuantizeTurboGroups(format, variant, groups, n_groups,
                                   out + h0 * groups_per_head * block_bytes);
      });
}

absl::Status DequantizeKvRows(KvType type, int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                              const uint8_t* in, float* out, TurboVariant variant) {
  if (n_rows <= 0 || (type != KvType::kQ8_0 && type != KvType::kQ4_0 && !IsTurboType(type))) {
    return reference::DequantizeKvRows(type, n_rows, n_kv_heads, head_dim, in, out, variant);
  }
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t row_floats, KvRowFloats(type, n_kv_heads, head_dim));
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t row_bytes, KvRowBytes(type, n_kv_heads, head_dim, variant));
  (void)row_bytes;
  GGUFKIT_RETURN_ERROR_IF(in == nullptr || out == nullptr, "DequantizeKvRows: null buffer");
  if (IsTurboType(type)) {
    return DequantizeTurboGroups(TurboFormatOfKv(type), variant, in,
                                 n_rows * row_floats / kTurboGroupSize, out);
  }
  const GgmlType weight_type = type == KvType::kQ8_0 ? GgmlType::kQ8_0 : GgmlType::kQ4_0;
  return DequantizeBlocks(weight_type, in, n_rows * row_floats, out, OutputType::kF32);
}

absl::Status RotateKvRows(int64_t n_rows, int64_t n_kv_heads, int64_t head_dim, const float* in,
                          float* out) {
  if (n_rows <= 0) return reference::RotateKvRows(n_rows, n_kv_heads, head_dim, in, out);
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t padded, KvPaddedHeadDim(KvType::kTurbo4, head_dim));
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t row_floats, KvRowFloats(KvType::kTurbo4, n_kv_heads, head_dim));
  (void)row_floats;
  GGUFKIT_RETURN_ERROR_IF(in == nullptr || out == nullptr, "RotateKvRows: null buffer");
  const int64_t n_heads = n_rows * n_kv_heads;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* dst = out + h * padded;
    std::memcpy(dst, in + h * head_dim, sizeof(float) * static_cast<size_t>(head_dim));
    std::fill(dst + head_dim, dst + padded, 0.0f);
  }
  return RotateTurboGroups(out, n_heads * padded / kTurboGroupSize, RotationDirection::kForward);
}

absl::Status UnrotateKvRows(int64_t n_rows, int64_t n_kv_heads, int64_t head_dim, const float* in,
                            float* out) {
  if (n_rows <= 0) return reference::UnrotateKvRows(n_rows, n_kv_heads, head_dim, in, out);
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t padded, KvPaddedHeadDim(KvType::kTurbo4, head_dim));
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t row_floats, KvRowFloats(KvType::kTurbo4, n_kv_heads, head_dim));
  (void)row_floats;
  GGUFKIT_RETURN_ERROR_IF(in == nullptr || out == nullptr, "UnrotateKvRows: null buffer");
  const int64_t n_heads = n_rows * n_kv_heads;
  if (padded == head_dim) {
    std::memcpy(out, in, sizeof(float) * static_cast<size_t>(n_heads * head_dim));
    return RotateTurboGroups(out, n_heads * padded / kTurboGroupSize, RotationDirection::kInverse);
  }
  alignas(64) float scratch[kScratchGroups * kTurboGroupSize];
  const int64_t heads_per_batch = std::max<int64_t>(1, kScratchGroups * kTurboGroupSize / padded);
  GGUFKIT_RETURN_ERROR_IF(padded > kScratchGroups * kTurboGroupSize,
                          "UnrotateKvRows: head_dim too large for the scratch buffer");
  for (int64_t h0 = 0; h0 < n_heads; h0 += heads_per_batch) {
    const int64_t n = std::min(heads_per_batch, n_heads - h0);
    std::memcpy(scratch, in + h0 * padded, sizeof(float) * static_cast<size_t>(n * padded));
    GGUFKIT_RETURN_IF_ERROR(
        RotateTurboGroups(scratch, n * padded / kTurboGroupSize, RotationDirection::kInverse));
    for (int64_t h = 0; h < n; ++h) {
      std::memcpy(out + (h0 + h) * head_dim, scratch + h * padded,
                  sizeof(float) * static_cast<size_t>(head_dim));
    }
  }
  return absl::OkStatus();
}

}  // namespace ggufkit
