// Speed of the scalar reference codecs of the IQ / ternary / FP4 / Q1_0 /
// Q2_0 family (quants/codecs_extra.cc). These are the correctness baselines
// the SIMD (dequant/) and CUDA unpackers are compared with; report ratios
// from one run, e.g. `bench_quants_extra --benchmark_filter=q1_0`.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit {
namespace {

constexpr int64_t kElements = 1 << 20;  // 1 Mi weights: 4 MiB of f32 output

constexpr GgmlType kTypes[] = {
    GgmlType::kQ1_0,  GgmlType::kQ2_0,    GgmlType::kIQ4_NL, GgmlType::kIQ4_XS,  GgmlType::kTQ1_0,
    GgmlType::kTQ2_0, GgmlType::kMXFP4,   GgmlType::kNVFP4,  GgmlType::kIQ2_XXS, GgmlType::kIQ2_XS,
    GgmlType::kIQ2_S, GgmlType::kIQ3_XXS, GgmlType::kIQ3_S,  GgmlType::kIQ1_S,   GgmlType::kIQ1_M,
};

std::vector<float> NormalInput() {
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(kElements);
  for (float& v : x) v = normal(rng);
  return x;
}

// Blocks to decode: quantized N(0,1) where a quantizer exists, else random
// bytes with a small finite fp16 scale at every 2-byte position (only the
// decode speed matters here; the value pattern does not change the work).
std::vector<uint8_t> BlocksFor(GgmlType type) {
  const TypeTraits& traits = GetTypeTraits(type);
  std::vector<uint8_t> blocks(
      static_cast<size_t>(kElements / traits.block_size * traits.type_size));
  const ReferenceCodec& codec = GetReferenceCodec(type);
  if (codec.quantize != nullptr) {
    const std::vector<float> x = NormalInput();
    codec.quantize(x.data(), blocks.data(), kElements, nullptr);
  } else {
    std::mt19937 rng(2);
    for (auto& b : blocks) b = static_cast<uint8_t>(rng() & 0x3F);  // exponents stay finite
  }
  return blocks;
}

void BM_Dequantize(benchmark::State& state, GgmlType type) {
  const std::vector<uint8_t> blocks = BlocksFor(type);
  std::vector<float> out(kElements);
  const DequantizeRowFn dequantize = GetReferenceCodec(type).dequantize;
  for (auto _ : state) {
    dequantize(blocks.data(), out.data(), kElements);
    benchmark::DoNotOptimize(out.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kElements);  // items = weights
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(blocks.size()));
}

void BM_Quantize(benchmark::State& state, GgmlType type) {
  const std::vector<float> x = NormalInput();
  const TypeTraits& traits = GetTypeTraits(type);
  std::vector<uint8_t> blocks(
      static_cast<size_t>(kElements / traits.block_size * traits.type_size));
  const QuantizeRowFn quantize = GetReferenceCodec(type).quantize;
  for (auto _ : state) {
    quantize(x.data(), blocks.data(), kElements, nullptr);
    benchmark::DoNotOptimize(blocks.data());
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * kElements);
}

int RegisterAll() {
  for (GgmlType type : kTypes) {
    const std::string name(GgmlTypeName(type));
    benchmark::RegisterBenchmark(("ReferenceDequantize/" + name).c_str(), BM_Dequantize, type)
        ->Unit(benchmark::kMicrosecond);
    if (GetReferenceCodec(type).quantize != nullptr) {
      benchmark::RegisterBenchmark(("ReferenceQuantize/" + name).c_str(), BM_Quantize, type)
          ->Unit(benchmark::kMicrosecond);
    }
  }
  return 0;
}
const int kRegistered = RegisterAll();

}  // namespace
}  // namespace ggufkit

BENCHMARK_MAIN();
