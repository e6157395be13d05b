// Per-target turbo2/3/4 codecs and rotation, and their checked entry points
// (dequant/turbo.h). HWY_SCALAR and force_scalar use quants/turbo.h directly.
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/dequant/turbo.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/quants/turbo.h"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "ggufkit/dequant/kernels_turbo.cc"
#include "hwy/foreach_target.h"  // IWYU pragma: keep
// clang-format off: the per-target headers must follow foreach_target.h.
#include "ggufkit/dequant/turbo-inl.h"
#include "hwy/highway.h"
// clang-format on

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {

// Each returns false where the target has no kernel (HWY_SCALAR), and the
// caller runs the reference instead.
bool TryDequantizeTurbo(TurboFormat format, TurboVariant variant, const uint8_t* blocks,
                        int64_t n_groups, float* y) {
#if HWY_TARGET == HWY_SCALAR
  (void)format, (void)variant, (void)blocks, (void)n_groups, (void)y;
  return false;
#else
  DequantizeTurboGroupsT(format, variant, blocks, n_groups, y);
  return true;
#endif
}

bool TryQuantizeTurbo(TurboFormat format, TurboVariant variant, const float* x, int64_t n_groups,
                      uint8_t* blocks) {
#if HWY_TARGET == HWY_SCALAR
  (void)format, (void)variant, (void)x, (void)n_groups, (void)blocks;
  return false;
#else
  QuantizeTurboGroupsT(format, variant, x, n_groups, blocks);
  return true;
#endif
}

bool TryRotateTurbo(float* x, int64_t n_groups, bool inverse) {
#if HWY_TARGET == HWY_SCALAR
  (void)x, (void)n_groups, (void)inverse;
  return false;
#else
  RotateTurboGroupsT(x, n_groups, inverse);
  return true;
#endif
}

}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace ggufkit {
HWY_EXPORT(TryDequantizeTurbo);
HWY_EXPORT(TryQuantizeTurbo);
HWY_EXPORT(TryRotateTurbo);

namespace {

absl::Status CheckTurboRequest(const char* what, TurboFormat format, TurboVariant variant,
                               const void* in, int64_t n_groups, const void* out) {
  const int bits = static_cast<int>(format);
  GGUFKIT_RETURN_ERROR_IF(bits < 2 || bits > 4, what, ": unknown turbo format ", bits);
  GGUFKIT_RETURN_ERROR_IF(variant != TurboVariant::kCurrent && variant != TurboVariant::kV1, what,
                          ": unknown turbo variant ", static_cast<int>(variant));
  GGUFKIT_RETURN_ERROR_IF(n_groups < 0, what, ": negative group count ", n_groups);
  GGUFKIT_RETURN_ERROR_IF(n_groups > (int64_t{1} << 50), what, ": ", n_groups,
                          " groups overflow the buffer sizes");
  GGUFKIT_RETURN_ERROR_IF(n_groups > 0 && (in == nullptr || out == nullptr), what, ": null ",
                          in == nullptr ? "input" : "output", " pointer for ", n_groups, " groups");
  return absl::OkStatus();
}

bool UseScalar(const DequantOptions& options) {
  return options.force_scalar || ScalarForcedByEnvironment();
}

}  // namespace

absl::Status DequantizeTurboGroups(TurboFormat format, TurboVariant variant, const uint8_t* blocks,
                                   int64_t n_groups, float* y, const DequantOptions& options) {
  GGUFKIT_RETURN_IF_ERROR(
      CheckTurboRequest("dequantize turbo", format, variant, blocks, n_groups, y));
  if (n_groups == 0) return absl::OkStatus();
  if (UseScalar(options) ||
      !HWY_DYNAMIC_DISPATCH(TryDequantizeTurbo)(format, variant, blocks, n_groups, y)) {
    const int64_t block_bytes = TurboBlockBytes(format, variant);
    for (int64_t g = 0; g < n_groups; ++g) {
      DequantizeTurboGroup(format, variant, blocks + g * block_bytes, y + g * kTurboGroupSize);
    }
  }
  return absl::OkStatus();
}

absl::Status QuantizeTurboGroups(TurboFormat format, TurboVariant variant, const float* x,
                                 int64_t n_groups, uint8_t* blocks, const DequantOptions& options) {
  GGUFKIT_RETURN_IF_ERROR(
      CheckTurboRequest("quantize turbo", format, variant, x, n_groups, blocks));
  if (n_groups == 0) return absl::OkStatus();
  if (UseScalar(options) ||
      !HWY_DYNAMIC_DISPATCH(TryQuantizeTurbo)(format, variant, x, n_groups, blocks)) {
    const int64_t block_bytes = TurboBlockBytes(format, variant);
    for (int64_t g = 0; g < n_groups; ++g) {
      QuantizeTurboGroup(format, variant, x + g * kTurboGroupSize, blocks + g * block_bytes);
    }
  }
  return absl::OkStatus();
}

absl::Status RotateTurboGroups(float* x, int64_t n_groups, RotationDirection direction,
                               const DequantOptions& options) {
  GGUFKIT_RETURN_ERROR_IF(n_groups < 0, "rotate turbo groups: negative group count ", n_groups);
  GGUFKIT_RETURN_ERROR_IF(n_groups > 0 && x == nullptr, "rotate turbo groups: null pointer for ",
                          n_groups, " groups");
  GGUFKIT_RETURN_ERROR_IF(
      direction != RotationDirection::kForward && direction != RotationDirection::kInverse,
      "rotate turbo groups: unknown direction ", static_cast<int>(direction));
  if (n_groups == 0) return absl::OkStatus();
  const bool inverse = direction == RotationDirection::kInverse;
  if (UseScalar(options) || !HWY_DYNAMIC_DISPATCH(TryRotateTurbo)(x, n_groups, inverse)) {
    for (int64_t g = 0; g < n_groups; ++g) {
      if (inverse) {
        WhtInverse128(x + g * kTurboGroupSize);
      } else {
        WhtForward128(x + g * kTurboGroupSize);
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace ggufkit
#endif  // HWY_ONCE
