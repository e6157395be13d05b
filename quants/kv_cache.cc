#include "ggufkit/quants/kv_cache.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit {
namespace {

constexpr int64_t kLegacyBlock = 32;  // q8_0 / q4_0 block size
constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

TurboFormat TurboFormatOf(KvType type) {
  switch (type) {
    case KvType::kTurbo2:
      return TurboFormat::kTurbo2;
    case KvType::kTurbo3:
      return TurboFormat::kTurbo3;
    default:
      return TurboFormat::kTurbo4;
  }
}

absl::StatusOr<int64_t> CheckedMul(int64_t a, int64_t b, absl::string_view what) {
  if (a != 0 && b > kInt64Max / a) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", a, " x ", b, " overflows int64"));
  }
  return a * b;
}

absl::Status CheckShape(int64_t n_rows, int64_t n_kv_heads, int64_t head_dim) {
  GGUFKIT_RETURN_ERROR_IF(n_rows < 0, "n_rows must be >= 0, got ", n_rows);
  GGUFKIT_RETURN_ERROR_IF(n_kv_heads < 1, "n_kv_heads must be >= 1, got ", n_kv_heads);
  GGUFKIT_RETURN_ERROR_IF(head_dim < 1, "head_dim must be >= 1, got ", head_dim);
  return absl::OkStatus();
}

// Sizes of one call: bytes per quantized row and floats per row on each side.
struct RowGeometry {
  int64_t padded_head_dim;
  int64_t row_bytes;
  int64_t row_floats_in;   // n_kv_heads * head_dim
  int64_t row_floats_out;  // n_kv_heads * padded_head_dim
};

absl::StatusOr<RowGeometry> Geometry(KvType type, int64_t n_rows, int64_t n_kv_heads,
                                     int64_t head_dim, TurboVariant variant) {
  GGUFKIT_RETURN_IF_ERROR(CheckShape(n_rows, n_kv_heads, head_dim));
  RowGeometry g;
  GGUFKIT_ASSIGN_OR_RETURN(g.padded_head_dim, KvPaddedHeadDim(type, head_dim));
  GGUFKIT_ASSIGN_OR_RETURN(g.row_bytes, KvRowBytes(type, n_kv_heads, head_dim, variant));
  GGUFKIT_ASSIGN_OR_RETURN(g.row_floats_in, CheckedMul(n_kv_heads, head_dim, "row floats"));
  GGUFKIT_ASSIGN_OR_RETURN(g.row_floats_out,
                           CheckedMul(n_kv_heads, g.padded_head_dim, "row floats"));
  // Whole-call sizes must be addressable too.
  GGUFKIT_RETURN_IF_ERROR(CheckedMul(n_rows, g.row_bytes, "n_rows x row bytes").status());
  GGUFKIT_RETURN_IF_ERROR(CheckedMul(n_rows, g.row_floats_out, "n_rows x row floats").status());
  return g;
}

absl::StatusOr<const ReferenceCodec*> LegacyCodec(KvType type) {
  const GgmlType ggml = type == KvType::kQ8_0 ? GgmlType::kQ8_0 : GgmlType::kQ4_0;
  const ReferenceCodec& codec = GetReferenceCodec(ggml);
  if (codec.quantize == nullptr || codec.dequantize == nullptr) {
    return absl::UnimplementedError(
        absl::StrCat("no reference codec registered for ", KvTypeName(type)));
  }
  return &codec;
}

// Copies head h of a row into a zero-padded group buffer.
void GatherPadded(const float* row, int64_t head_dim, int64_t padded, int64_t h, float* dst) {
  std::memcpy(dst, row + h * head_dim, sizeof(float) * static_cast<size_t>(head_dim));
  std::memset(dst + head_dim, 0, sizeof(float) * static_cast<size_t>(padded - head_dim));
}

}  // namespace

absl::string_view KvTypeName(KvType type) {
  switch (type) {
    case KvType::kF16:
      return "f16";
    case KvType::kBF16:
      return "bf16";
    case KvType::kQ8_0:
      return "q8_0";
    case KvType::kQ4_0:
      return "q4_0";
    case KvType::kTurbo2:
      return "turbo2";
    case KvType::kTurbo3:
      return "turbo3";
    case KvType::kTurbo4:
      return "turbo4";
  }
  return "?";
}

absl::StatusOr<KvType> ParseKvType(absl::string_view name) {
  std::string lower(name);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower == "fp16") return KvType::kF16;
  if (lower == "turbo2_0") return KvType::kTurbo2;
  if (lower == "turbo3_0") return KvType::kTurbo3;
  if (lower == "turbo4_0") return KvType::kTurbo4;
  for (KvType t : kAllKvTypes) {
    if (lower == KvTypeName(t)) return t;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown KV-cache type '", name,
                   "' (expected f16, bf16, q8_0, q4_0, turbo2, turbo3, turbo4)"));
}

bool IsTurbo(KvType type) {
  return type == KvType::kTurbo2 || type == KvType::kTurbo3 || type == KvType::kTurbo4;
}

absl::StatusOr<int64_t> KvPaddedHeadDim(KvType type, int64_t head_dim) {
  GGUFKIT_RETURN_ERROR_IF(head_dim < 1, "head_dim must be >= 1, got ", head_dim);
  GGUFKIT_RETURN_ERROR_IF(head_dim > (int64_t{1} << 40), "head_dim ", head_dim, " is too large");
  if (IsTurbo(type)) {
    return (head_dim + kTurboGroupSize - 1) / kTurboGroupSize * kTurboGroupSize;
  }
  if (type == KvType::kQ8_0 || type == KvType::kQ4_0) {
    GGUFKIT_RETURN_ERROR_IF(head_dim % kLegacyBlock != 0, KvTypeName(type),
                            " needs head_dim to be a multiple of 32, got ", head_dim);
  }
  return head_dim;
}

absl::StatusOr<int64_t> KvRowBytes(KvType type, int64_t n_kv_heads, int64_t head_dim,
                                   TurboVariant variant) {
  GGUFKIT_RETURN_ERROR_IF(n_kv_heads < 1, "n_kv_heads must be >= 1, got ", n_kv_heads);
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t padded, KvPaddedHeadDim(type, head_dim));
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t n, CheckedMul(n_kv_heads, padded, "row elements"));
  switch (type) {
    case KvType::kF16:
    case KvType::kBF16:
      return CheckedMul(n, 2, "row bytes");
    case KvType::kQ8_0:
      return CheckedMul(n / kLegacyBlock, 34, "row bytes");
    case KvType::kQ4_0:
      return CheckedMul(n / kLegacyBlock, 18, "row bytes");
    case KvType::kTurbo2:
    case KvType::kTurbo3:
    case KvType::kTurbo4:
      return CheckedMul(n / kTurboGroupSize, TurboBlockBytes(TurboFormatOf(type), variant),
                        "row bytes");
  }
  return absl::InvalidArgumentError("unknown KV type");
}

absl::StatusOr<int64_t> KvRowFloats(KvType type, int64_t n_kv_heads, int64_t head_dim) {
  GGUFKIT_RETURN_ERROR_IF(n_kv_heads < 1, "n_kv_heads must be >= 1, got ", n_kv_heads);
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t padded, KvPaddedHeadDim(type, head_dim));
  return CheckedMul(n_kv_heads, padded, "row floats");
}

namespace reference {

absl::Status QuantizeKvRows(KvType type, int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                            const float* x, uint8_t* out, TurboVariant variant) {
  GGUFKIT_ASSIGN_OR_RETURN(const RowGeometry g,
                           Geometry(type, n_rows, n_kv_heads, head_dim, variant));
  if (n_rows == 0) return absl::OkStatus();
  GGUFKIT_RETURN_ERROR_IF(x == nullptr || out == nullptr, "QuantizeKvRows: null buffer");
  switch (type) {
    case KvType::kF16:
    case KvType::kBF16: {
      const int64_t n = n_rows * g.row_floats_in;
      const bool f16 = type == KvType::kF16;
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = f16 ? F32ToF16(x[i]) : F32ToBF16(x[i]);
        out[2 * i] = static_cast<uint8_t>(h & 0xFF);
        out[2 * i + 1] = static_cast<uint8_t>(h >> 8);
      }
      return absl::OkStatus();
    }
    case KvType::kQ8_0:
    case KvType::kQ4_0: {
      GGUFKIT_ASSIGN_OR_RETURN(const ReferenceCodec* codec, LegacyCodec(type));
      // Blocks of 32 never cross a head (head_dim % 32 == 0), so whole rows
      // quantize exactly like per-head slices.
      for (int64_t r = 0; r < n_rows; ++r) {
        codec->quantize(x + r * g.row_floats_in, out + r * g.row_bytes, g.row_floats_in, nullptr);
      }
      return absl::OkStatus();
    }
    case KvType::kTurbo2:
    case KvType::kTurbo3:
    case KvType::kTurbo4: {
      const TurboFormat format = TurboFormatOf(type);
      const int64_t block_bytes = TurboBlockBytes(format, variant);
      const int64_t groups_per_head = g.padded_head_dim / kTurboGroupSize;
      float group[kTurboGroupSize];
      for (int64_t r = 0; r < n_rows; ++r) {
        const float* row = x + r * g.row_floats_in;
        uint8_t* dst = out + r * g.row_bytes;
        for (int64_t h = 0; h < n_kv_heads; ++h) {
          const float* head = row + h * head_dim;
          for (int64_t k = 0; k < groups_per_head; ++k) {
            const int64_t begin = k * kTurboGroupSize;
            const int64_t valid = std::min<int64_t>(kTurboGroupSize, head_dim - begin);
            const float* src = head + begin;
            if (valid < kTurboGroupSize) {
              std::memcpy(group, src, sizeof(float) * static_cast<size_t>(valid));
              std::memset(group + valid, 0,
                          sizeof(float) * static_cast<size_t>(kTurboGroupSize - valid));
              src = group;
            }
            QuantizeTurboGroup(format, variant, src, dst);
            dst += block_bytes;
          }
        }
      }
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError("unknown KV type");
}

absl::Status DequantizeKvRows(KvType type, int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                              const uint8_t* in, float* out, TurboVariant variant) {
  GGUFKIT_ASSIGN_OR_RETURN(const RowGeometry g,
                           Geometry(type, n_rows, n_kv_heads, head_dim, variant));
  if (n_rows == 0) return absl::OkStatus();
  GGUFKIT_RETURN_ERROR_IF(in == nullptr || out == nullptr, "DequantizeKvRows: null buffer");
  switch (type) {
    case KvType::kF16:
    case KvType::kBF16: {
      const int64_t n = n_rows * g.row_floats_out;
      const bool f16 = type == KvType::kF16;
      for (int64_t i = 0; i < n; ++i) {
        const uint16_t h = static_cast<uint16_t>(in[2 * i] | (in[2 * i + 1] << 8));
        out[i] = f16 ? F16ToF32(h) : BF16ToF32(h);
      }
      return absl::OkStatus();
    }
    case KvType::kQ8_0:
    case KvType::kQ4_0: {
      GGUFKIT_ASSIGN_OR_RETURN(const ReferenceCodec* codec, LegacyCodec(type));
      for (int64_t r = 0; r < n_rows; ++r) {
        codec->dequantize(in + r * g.row_bytes, out + r * g.row_floats_out, g.row_floats_out);
      }
      return absl::OkStatus();
    }
    case KvType::kTurbo2:
    case KvType::kTurbo3:
    case KvType::kTurbo4: {
      const TurboFormat format = TurboFormatOf(type);
      const int64_t block_bytes = TurboBlockBytes(format, variant);
      const int64_t n_groups = n_rows * (g.row_floats_out / kTurboGroupSize);
      for (int64_t b = 0; b < n_groups; ++b) {
        DequantizeTurboGroup(format, variant, in + b * block_bytes, out + b * kTurboGroupSize);
      }
      return absl::OkStatus();
    }
  }
  return absl::InvalidArgumentError("unknown KV type");
}

absl::Status RotateKvRows(int64_t n_rows, int64_t n_kv_heads, int64_t head_dim, const float* in,
                          float* out) {
  GGUFKIT_ASSIGN_OR_RETURN(const RowGeometry g, Geometry(KvType::kTurbo4, n_rows, n_kv_heads,
                                                         head_dim, TurboVariant::kCurrent));
  if (n_rows == 0) return absl::OkStatus();
  GGUFKIT_RETURN_ERROR_IF(in == nullptr || out == nullptr, "RotateKvRows: null buffer");
  const int64_t n_heads = n_rows * n_kv_heads;
  for (int64_t h = 0; h < n_heads; ++h) {
    float* dst = out + h * g.padded_head_dim;
    GatherPadded(in, head_dim, g.padded_head_dim, h, dst);
    for (int64_t k = 0; k < g.padded_head_dim; k += kTurboGroupSize) WhtForward128(dst + k);
  }
  return absl::OkStatus();
}

absl::Status UnrotateKvRows(int64_t n_rows, int64_t n_kv_heads, int64_t head_dim, const float* in,
                            float* out) {
  GGUFKIT_ASSIGN_OR_RETURN(const RowGeometry g, Geometry(KvType::kTurbo4, n_rows, n_kv_heads,
                                                         head_dim, TurboVariant::kCurrent));
  if (n_rows == 0) return absl::OkStatus();
  GGUFKIT_RETURN_ERROR_IF(in == nullptr || out == nullptr, "UnrotateKvRows: null buffer");
  const int64_t n_heads = n_rows * n_kv_heads;
  float group[kTurboGroupSize];
  for (int64_t h = 0; h < n_heads; ++h) {
    const float* src = in + h * g.padded_head_dim;
    float* dst = out + h * head_dim;
    for (int64_t begin = 0; begin < g.padded_head_dim; begin += kTurboGroupSize) {
      std::memcpy(group, src + begin, sizeof group);
      WhtInverse128(group);
      const int64_t valid = std::min<int64_t>(kTurboGroupSize, head_dim - begin);
      std::memcpy(dst + begin, group, sizeof(float) * static_cast<size_t>(valid));
    }
  }
  return absl::OkStatus();
}

}  // namespace reference
}  // namespace ggufkit
