// Throughput of the scalar reference codecs (quants/): the baseline that the
// SIMD and CUDA unpackers are measured against. Not a speed target itself.
//
//   build/dev/benchmarks/bench_quants_reference --benchmark_filter=Dequantize
#include <cstdint>
#include <random>
#include <vector>

#include "benchmark/benchmark.h"
#include "ggufkit/quants/quants.h"

namespace ggufkit {
namespace {

constexpr int64_t kElements = 64 * 4096;  // 64 rows of 4096: 1 MiB of f32

std::vector<float> Gaussian(int64_t n) {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = dist(rng);
  return x;
}

void BM_Dequantize(benchmark::State& state, GgmlType type) {
  const std::vector<float> x = Gaussian(kElements);
  std::vector<uint8_t> q(static_cast<size_t>(*RowSizeBytes(type, kElements)));
  if (!reference::Quantize(type, x, absl::MakeSpan(q)).ok()) {
    state.SkipWithError("quantize failed");
    return;
  }
  std::vector<float> y(static_cast<size_t>(kElements));
  for (auto _ : state) {
    benchmark::DoNotOptimize(reference::Dequantize(type, q, kElements, y.data()));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kElements);
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(q.size()));
}

void BM_Quantize(benchmark::State& state, GgmlType type) {
  const std::vector<float> x = Gaussian(kElements);
  std::vector<uint8_t> q(static_cast<size_t>(*RowSizeBytes(type, kElements)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(reference::Quantize(type, x, absl::MakeSpan(q)));
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kElements);
}

#define GGUFKIT_BENCH_TYPE(T)                                         \
  BENCHMARK_CAPTURE(BM_Dequantize, T, GgmlType::k##T)->UseRealTime(); \
  BENCHMARK_CAPTURE(BM_Quantize, T, GgmlType::k##T)->UseRealTime();

GGUFKIT_BENCH_TYPE(F16)
GGUFKIT_BENCH_TYPE(BF16)
GGUFKIT_BENCH_TYPE(Q4_0)
GGUFKIT_BENCH_TYPE(Q4_1)
GGUFKIT_BENCH_TYPE(Q5_0)
GGUFKIT_BENCH_TYPE(Q5_1)
GGUFKIT_BENCH_TYPE(Q8_0)
GGUFKIT_BENCH_TYPE(Q2_K)
GGUFKIT_BENCH_TYPE(Q3_K)
GGUFKIT_BENCH_TYPE(Q4_K)
GGUFKIT_BENCH_TYPE(Q5_K)
GGUFKIT_BENCH_TYPE(Q6_K)
GGUFKIT_BENCH_TYPE(Q8_K)

}  // namespace
}  // namespace ggufkit

BENCHMARK_MAIN();
