// The KV-cache row codecs' front door: the same contract as the references
// in quants/kv_cache.h (ggufkit::reference::QuantizeKvRows ...), bit for bit,
// run through the fastest path this CPU has: the Highway turbo2/3/4 codecs and
// 128-point WHT, the q8_0 / q4_0 SIMD dequantizers. On the calling thread.
#ifndef GGUFKIT_DEQUANT_KV_ROWS_H_
#define GGUFKIT_DEQUANT_KV_ROWS_H_

#include <cstdint>

#include "absl/status/status.h"
#include "ggufkit/quants/kv_cache.h"
#include "ggufkit/quants/turbo.h"

namespace ggufkit {

// Quantizes n_rows rows of n_kv_heads * head_dim floats (x, contiguous) into
// n_rows * KvRowBytes bytes at out (turbo heads zero-padded to a multiple of
// 128). n_rows may be 0. Errors: as reference::QuantizeKvRows.
absl::Status QuantizeKvRows(KvType type, int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                            const float* x, uint8_t* out,
                            TurboVariant variant = TurboVariant::kCurrent);
// Dequantizes n_rows * KvRowBytes bytes into n_rows * KvRowFloats floats
// (turbo: rotated domain, padded heads).
absl::Status DequantizeKvRows(KvType type, int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                              const uint8_t* in, float* out,
                              TurboVariant variant = TurboVariant::kCurrent);
// Forward rotation of whole rows (zero-padding each head to a multiple of
// 128) and its inverse (dropping the padding lanes); see quants/kv_cache.h.
absl::Status RotateKvRows(int64_t n_rows, int64_t n_kv_heads, int64_t head_dim, const float* in,
                          float* out);
absl::Status UnrotateKvRows(int64_t n_rows, int64_t n_kv_heads, int64_t head_dim, const float* in,
                            float* out);

}  // namespace ggufkit

#endif  // GGUFKIT_DEQUANT_KV_ROWS_H_
