// Fuzz target: the KV-cache codecs (quants/kv_cache.h) over random floats.
//
// The first 3 bytes pick the cache type, turbo variant, head count, head size
// and row count; the rest fills the rows' floats (any bit pattern: NaN, Inf,
// denormals, huge values). Each input is quantized and dequantized through
// exactly-sized buffers (ASan catches any overrun), the raw bytes are also
// dequantized directly as if they were a stored cache row, and turbo rows are
// rotated and unrotated. Properties: sizes come from KvRowBytes/KvRowFloats
// and every call with those sizes succeeds; finite f16 inputs inside the f16
// range dequantize to finite values.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ggufkit/quants/kv_cache.h"
#include "tests/fuzz/fuzz_common.h"

namespace ggufkit {
namespace {

constexpr int64_t kHeadDims[] = {1, 7, 32, 64, 80, 96, 128, 192, 256};

}  // namespace
}  // namespace ggufkit

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ggufkit;
  if (size < 3) return 0;
  const KvType type = kAllKvTypes[data[0] % (sizeof(kAllKvTypes) / sizeof(kAllKvTypes[0]))];
  const TurboVariant variant = (data[1] & 1) ? TurboVariant::kV1 : TurboVariant::kCurrent;
  const int64_t heads = 1 + ((data[1] >> 1) & 3);
  const int64_t head_dim = kHeadDims[(data[1] >> 3) % (sizeof(kHeadDims) / sizeof(kHeadDims[0]))];
  const int64_t rows = 1 + (data[2] & 3);
  data += 3;
  size -= 3;

  auto row_bytes = KvRowBytes(type, heads, head_dim, variant);
  auto row_floats = KvRowFloats(type, heads, head_dim);
  if (!row_bytes.ok() || !row_floats.ok()) {
    // A head size the type cannot take: every entry point must refuse it.
    std::vector<float> x(static_cast<size_t>(heads * head_dim), 0.0f);
    std::vector<uint8_t> q(1 << 16);
    FUZZ_CHECK(!reference::QuantizeKvRows(type, 1, heads, head_dim, x.data(), q.data(), variant).ok(),
               "quantize accepted a head size KvRowBytes refused");
    return 0;
  }
  const size_t n_in = static_cast<size_t>(rows * heads * head_dim);
  std::vector<float> x(n_in);
  for (size_t i = 0; i < n_in; ++i) {
    uint32_t bits = 0;
    for (size_t k = 0; k < 4 && size > 0; ++k) {
      bits |= static_cast<uint32_t>(data[(i * 4 + k) % size]) << (8 * k);
    }
    std::memcpy(&x[i], &bits, 4);
  }
  std::vector<uint8_t> q(static_cast<size_t>(rows * *row_bytes));
  std::vector<float> y(static_cast<size_t>(rows * *row_floats));
  absl::Status s = reference::QuantizeKvRows(type, rows, heads, head_dim, x.data(), q.data(), variant);
  FUZZ_CHECK(s.ok(), "quantize failed: %s", std::string(s.message()).c_str());
  s = reference::DequantizeKvRows(type, rows, heads, head_dim, q.data(), y.data(), variant);
  FUZZ_CHECK(s.ok(), "dequantize failed: %s", std::string(s.message()).c_str());
  if (type == KvType::kF16) {
    for (size_t i = 0; i < n_in; ++i) {
      if (std::isfinite(x[i]) && std::fabs(x[i]) < 65504.0f) {
        FUZZ_CHECK(std::isfinite(y[i]), "finite f16-range input %zu became %g", i, y[i]);
      }
    }
  }
  // Raw bytes as a stored cache row (what a corrupted cache file would give).
  std::vector<uint8_t> raw(q.size());
  for (size_t i = 0; i < raw.size() && size > 0; ++i) raw[i] = data[i % size];
  s = reference::DequantizeKvRows(type, rows, heads, head_dim, raw.data(), y.data(), variant);
  FUZZ_CHECK(s.ok(), "dequantize of raw bytes failed: %s", std::string(s.message()).c_str());
  if (IsTurbo(type)) {
    std::vector<float> rotated(y.size()), back(n_in);
    FUZZ_CHECK(reference::RotateKvRows(rows, heads, head_dim, x.data(), rotated.data()).ok(), "rotate");
    FUZZ_CHECK(reference::UnrotateKvRows(rows, heads, head_dim, rotated.data(), back.data()).ok(), "unrotate");
  }
  // Wrong sizes are refused, never acted on.
  FUZZ_CHECK(!reference::QuantizeKvRows(type, -1, heads, head_dim, x.data(), q.data(), variant).ok(),
             "negative row count accepted");
  return 0;
}
