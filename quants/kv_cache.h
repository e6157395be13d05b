// KV-cache rows: quantize / dequantize the K or V rows a runtime writes into
// its cache, one row = one token of one layer = n_kv_heads * head_dim floats
// (heads back to back, llama.cpp's n_embd_k_gqa layout).
//
// Types: f16, bf16 (round to nearest even), q8_0, q4_0 (ggml's reference
// codecs, blocks of 32 along the row) and turbo2 / turbo3 / turbo4 (quants/
// turbo.h, one 128-element group per block, per head).
//
// Nothing here allocates: the caller sizes every buffer with KvRowBytes (the
// quantized row) and KvRowFloats (the dequantized row). Every function checks
// its sizes and returns InvalidArgumentError instead of touching memory when
// they do not fit the type.
//
// Head sizes for turbo: each head is split into groups of 128. A head_dim that
// is not a multiple of 128 is zero-padded up to the next multiple of 128 per
// head (head_dim 64 -> one group whose last 64 inputs are 0, as the fork does;
// 80 / 96 -> 128; 192 -> 256; 256 -> two groups, no padding). The padding is
// stored: a turbo row of head_dim 64 costs as much as one of 128. Dequantized
// turbo rows are in the ROTATED domain and have the PADDED width
// (KvRowFloats: n_kv_heads * KvPaddedHeadDim): after the rotation the padding
// is no longer zero, and an exact un-rotation needs all 128 values.
// UnrotateKvRows maps them back to n_kv_heads * head_dim original-domain floats;
// RotateKvRows does the forward direction (for Q, so that q . k can be taken
// directly against dequantized turbo K: the rotation is orthogonal).
//
// q8_0 / q4_0 need head_dim % 32 == 0 (each 32-block then lies inside one
// head); f16 / bf16 take any head_dim >= 1.
//
// NaN / Inf: f16 / bf16 / q8_0 / q4_0 do what ggml's reference does; turbo
// follows the fork: a group holding a NaN stores a NaN norm (fp16 0x7E00) and
// dequantizes to 128 NaNs; a group holding +-Inf (or whose sum of squares
// overflows float) stores an infinite norm and dequantizes to +-Inf in every
// element. Other groups of the same row are unaffected. A zero group stores
// norm 0 and dequantizes to +0.0. Inputs are not rejected: a runtime must not
// fail mid-generation, and the bad values stay visible in the output.
#ifndef GGUFKIT_QUANTS_KV_CACHE_H_
#define GGUFKIT_QUANTS_KV_CACHE_H_

#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ggufkit/quants/turbo.h"

namespace ggufkit {

enum class KvType : uint8_t { kF16, kBF16, kQ8_0, kQ4_0, kTurbo2, kTurbo3, kTurbo4 };

inline constexpr KvType kAllKvTypes[] = {KvType::kF16,   KvType::kBF16,   KvType::kQ8_0,
                                         KvType::kQ4_0,  KvType::kTurbo2, KvType::kTurbo3,
                                         KvType::kTurbo4};

// "f16", "bf16", "q8_0", "q4_0", "turbo2", "turbo3", "turbo4".
absl::string_view KvTypeName(KvType type);
// Case-insensitive; also accepts "fp16", "turbo2_0"... Error names the input.
absl::StatusOr<KvType> ParseKvType(absl::string_view name);
bool IsTurbo(KvType type);

// Elements per head after padding: head_dim rounded up to a multiple of 128
// for turbo types, head_dim itself otherwise. Error when head_dim < 1 or the
// type needs a multiple of 32 (q8_0, q4_0).
absl::StatusOr<int64_t> KvPaddedHeadDim(KvType type, int64_t head_dim);

// Bytes of one quantized row of n_kv_heads heads of head_dim elements.
// Example: q8_0, 8 heads x 128 -> 1024 / 32 * 34 = 1088; turbo4 v1, 8 x 128
// -> 8 * 68 = 544; turbo4 current, 8 x 64 -> 8 * 66 (padded). Error for
// non-positive counts, a head_dim the type cannot take, or int64 overflow.
absl::StatusOr<int64_t> KvRowBytes(KvType type, int64_t n_kv_heads, int64_t head_dim,
                                   TurboVariant variant = TurboVariant::kCurrent);
// Floats of one dequantized row: n_kv_heads * KvPaddedHeadDim(type, head_dim).
absl::StatusOr<int64_t> KvRowFloats(KvType type, int64_t n_kv_heads, int64_t head_dim);

// The row codecs below are the scalar references, under their explicit name.
// Users call the front door of the same name in dequant/kv_rows.h, which
// runs the SIMD turbo codecs and WHT (bit-exact with these) when the CPU has
// them.
namespace reference {

// Quantizes n_rows rows of n_kv_heads * head_dim floats (x, contiguous) into
// n_rows * KvRowBytes bytes at out. n_rows may be 0.
absl::Status QuantizeKvRows(KvType type, int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                            const float* x, uint8_t* out,
                            TurboVariant variant = TurboVariant::kCurrent);
// Dequantizes n_rows * KvRowBytes bytes into n_rows * KvRowFloats floats
// (turbo: rotated domain, padded heads).
absl::Status DequantizeKvRows(KvType type, int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                              const uint8_t* in, float* out,
                              TurboVariant variant = TurboVariant::kCurrent);

// Turbo rotation of whole rows. RotateKvRows reads n_rows * n_kv_heads *
// head_dim floats, zero-pads each head to a multiple of 128 and writes the
// forward rotation (n_rows * n_kv_heads * padded floats). UnrotateKvRows is
// its inverse: reads padded rotated rows (what DequantizeKvRows gives for a
// turbo type) and writes n_rows * n_kv_heads * head_dim original-domain floats
// (the padding lanes are dropped). in and out must not overlap.
absl::Status RotateKvRows(int64_t n_rows, int64_t n_kv_heads, int64_t head_dim, const float* in,
                          float* out);
absl::Status UnrotateKvRows(int64_t n_rows, int64_t n_kv_heads, int64_t head_dim, const float* in,
                            float* out);

}  // namespace reference

}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_KV_CACHE_H_
