// Scalar reference KV-row codecs (quants/kv_cache.h): quantize and dequantize
// 256 rows of 8 heads x 128 (one layer's K for 256 tokens of an 8-KV-head
// model). items/s = floats per second. These are the references the SIMD and
// CUDA codecs are measured against, not the fast path.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "ggufkit/dequant/kv_rows.h"
#include "ggufkit/quants/kv_cache.h"

namespace ggufkit {
namespace {

constexpr int64_t kRows = 256, kHeads = 8, kHeadDim = 128;

std::vector<float> Input() {
  std::vector<float> x(kRows * kHeads * kHeadDim);
  std::mt19937 rng(1);
  std::normal_distribution<float> normal;
  for (float& v : x) v = normal(rng);
  return x;
}

void BM_QuantizeKvRows(benchmark::State& state) {
  const KvType type = kAllKvTypes[state.range(0)];
  const std::vector<float> x = Input();
  std::vector<uint8_t> q(kRows * *KvRowBytes(type, kHeads, kHeadDim));
  for (auto _ : state) {
    if (!QuantizeKvRows(type, kRows, kHeads, kHeadDim, x.data(), q.data()).ok()) {
      state.SkipWithError("quantize failed");
      break;
    }
    benchmark::DoNotOptimize(q.data());
  }
  state.SetLabel(std::string(KvTypeName(type)));
  state.SetItemsProcessed(state.iterations() * int64_t(x.size()));
}

void BM_DequantizeKvRows(benchmark::State& state) {
  const KvType type = kAllKvTypes[state.range(0)];
  const std::vector<float> x = Input();
  std::vector<uint8_t> q(kRows * *KvRowBytes(type, kHeads, kHeadDim));
  std::vector<float> y(kRows * *KvRowFloats(type, kHeads, kHeadDim));
  if (!QuantizeKvRows(type, kRows, kHeads, kHeadDim, x.data(), q.data()).ok()) {
    state.SkipWithError("quantize failed");
    return;
  }
  for (auto _ : state) {
    if (!DequantizeKvRows(type, kRows, kHeads, kHeadDim, q.data(), y.data()).ok()) {
      state.SkipWithError("dequantize failed");
      break;
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetLabel(std::string(KvTypeName(type)));
  state.SetItemsProcessed(state.iterations() * int64_t(x.size()));
}

void BM_UnrotateKvRows(benchmark::State& state) {
  const std::vector<float> x = Input();
  std::vector<float> y(x.size());
  for (auto _ : state) {
    if (!UnrotateKvRows(kRows, kHeads, kHeadDim, x.data(), y.data()).ok()) {
      state.SkipWithError("unrotate failed");
      break;
    }
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * int64_t(x.size()));
}

BENCHMARK(BM_QuantizeKvRows)->DenseRange(0, 6);
BENCHMARK(BM_DequantizeKvRows)->DenseRange(0, 6);
BENCHMARK(BM_UnrotateKvRows);

}  // namespace
}  // namespace ggufkit

BENCHMARK_MAIN();
