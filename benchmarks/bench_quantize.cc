// Quantization throughput, single thread: MB/s of f32 input for every type
// with a SIMD quantizer (dequant/quantize.h), on every compiled Highway
// target, at an in-cache size (256 KiB of input) and an out-of-cache size
// (64 MiB), next to baselines measured in the same run:
//   memcpy/<size>                  copying a buffer of the input size
//   quant/<type>/scalar/<size>     the scalar reference (quants/' registered
//                                  quantizer, byte-identical to ggml's)
//   quant/<type>/<target>/<size>   the SIMD quantizer on that target
//   quant_imatrix/<type>/{scalar,<best target>}/256KiB  with an imatrix
//   quant_fresh/<search type>/<best target, AVX2>/1MiB  fresh data, paired
//                                  with the scalar reference (BM_QuantizeFresh)
//   quant_memcpy/<simple type>/<best target>/256KiB  in cache, paired with
//                                  memcpy (BM_QuantizeVsMemcpy)
// Each SIMD row reports MB/s, x_scalar (over the scalar reference of its type
// and size) and x_memcpy (over memcpy of the same size). Goals
// (docs/performance.md): the searches (Q2_K..Q6_K, IQ4_NL, IQ4_XS) >= 8
// x_scalar on AVX3 and >= 4 on AVX2, in cache and on fresh data; the simple
// types >= 0.5 x_memcpy in cache (judged by the paired quant_memcpy row).
//
// Time is the thread's CPU time (the VM's cores are shared).
// Short run (docs tables): bench_quantize --benchmark_min_time=0.05
// CI smoke: bench_quantize --benchmark_filter='^(memcpy|quant/(q8_0|q4_K)/(scalar|AVX3))/256KiB'
//   --benchmark_min_time=0.01
#include <time.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/bench_main.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/dequant/quantize.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit {
namespace {

using bench::Baselines;
using bench::SizeName;
using bench::ThreadSeconds;

constexpr int64_t kInCacheBytes = 256 << 10;
constexpr int64_t kOutOfCacheBytes = 64 << 20;
constexpr int64_t kRowLength = 4096;

const GgmlType kTypes[] = {
    GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1,
    GgmlType::kQ2_K, GgmlType::kQ3_K, GgmlType::kQ4_K, GgmlType::kQ5_K, GgmlType::kQ6_K,
    GgmlType::kIQ4_NL, GgmlType::kIQ4_XS, GgmlType::kTQ1_0, GgmlType::kTQ2_0, GgmlType::kQ1_0,
    GgmlType::kMXFP4,
};

// Weight-like input: N(0, 1) with a few outliers, made once.
const std::vector<float>& Input() {
  static std::vector<float>* x = [] {
    auto* v = new std::vector<float>(static_cast<size_t>(kOutOfCacheBytes / 4));
    std::mt19937 rng(42);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (size_t i = 0; i < v->size(); ++i) v->at(i) = normal(rng) * (i % 997 == 0 ? 20.f : 1.f);
    return v;
  }();
  return *x;
}
const std::vector<float>& Imatrix() {
  static std::vector<float>* w = [] {
    auto* v = new std::vector<float>(kRowLength);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(0.01f, 4.0f);
    for (float& f : *v) f = u(rng);
    return v;
  }();
  return *w;
}
std::vector<uint8_t>& Output() {
  static std::vector<uint8_t>* out = new std::vector<uint8_t>(kOutOfCacheBytes + 64, 1);
  return *out;
}
std::vector<uint8_t>& CopyDestination() {
  static std::vector<uint8_t>* out = new std::vector<uint8_t>(kOutOfCacheBytes, 2);
  return *out;
}

// TimeLoop reporting MB/s.
template <class Body>
double TimeLoop(benchmark::State& state, int64_t bytes, Body body) {
  return bench::TimeLoop(state, bytes, "MB/s", 1e6, body);
}

void BM_Memcpy(benchmark::State& state, int64_t bytes) {
  const uint8_t* in = reinterpret_cast<const uint8_t*>(Input().data());
  uint8_t* out = CopyDestination().data();
  for (const double until = ThreadSeconds() + 0.05; ThreadSeconds() < until;) {
    std::memcpy(out, in, static_cast<size_t>(bytes));  // warm-up: page faults, clock
    benchmark::ClobberMemory();
  }
  Baselines()["memcpy/" + SizeName(bytes)] =
      TimeLoop(state, bytes, [&] { std::memcpy(out, in, static_cast<size_t>(bytes)); });
}

// target < 0: the scalar reference.
void BM_Quantize(benchmark::State& state, GgmlType type, int64_t target, bool imatrix,
                 int64_t bytes) {
  std::unique_ptr<ScopedDequantTarget> scope;
  QuantizeOptions options;
  if (target < 0) {
    options.force_scalar = true;
  } else {
    scope = std::make_unique<ScopedDequantTarget>(target);
    if (!HasSimdQuantizer(type, imatrix)) {
      state.SkipWithError("no SIMD quantizer on this target");
      return;
    }
  }
  const int64_t n_rows = bytes / 4 / kRowLength;
  const float* w = imatrix ? Imatrix().data() : nullptr;
  const double mbps = TimeLoop(state, bytes, [&] {
    benchmark::DoNotOptimize(QuantizeBlocks(type, Input().data(), n_rows, kRowLength,
                                            Output().data(), w, options));
  });
  const std::string key =
      std::string(GgmlTypeName(type)) + (imatrix ? "+imatrix/" : "/") + SizeName(bytes);
  if (target < 0) {
    Baselines()[key] = mbps;
    state.SetLabel("quants/ reference");
  } else if (Baselines()[key] > 0) {
    state.counters["x_scalar"] = mbps / Baselines()[key];
  }
  const double memcpy_mbps = Baselines()["memcpy/" + SizeName(bytes)];
  if (memcpy_mbps > 0) state.counters["x_memcpy"] = mbps / memcpy_mbps;
}

// Fresh data, paired: each iteration takes the next 1 MiB of the 64 MiB
// input and times the scalar reference and the SIMD quantizer on it, in
// alternating order (each comes first, reading the slice from memory, in
// every other iteration); x_scalar is the ratio of the two totals. The
// 256 KiB rows quantize the same input again and again, so the branch
// predictor learns the outcomes of data-dependent branches (Q3_K's descent),
// which the weights of a real model never allow; the 64 MiB rows see fresh
// data, but their ratio divides two rows timed seconds apart, on a VM whose
// speed drifts between them.
constexpr int64_t kFreshSliceBytes = 1 << 20;

void BM_QuantizeFresh(benchmark::State& state, GgmlType type, int64_t target) {
  ScopedDequantTarget scope(target);
  if (!HasSimdQuantizer(type, false)) {
    state.SkipWithError("no SIMD quantizer on this target");
    return;
  }
  QuantizeOptions scalar;
  scalar.force_scalar = true;
  const int64_t slice_floats = kFreshSliceBytes / 4;
  const int64_t slices = kOutOfCacheBytes / kFreshSliceBytes;
  const int64_t n_rows = slice_floats / kRowLength;
  auto with = [&](const QuantizeOptions& options) {
    return [&, options](int64_t iteration) {
      const float* x = Input().data() + (iteration % slices) * slice_floats;
      benchmark::DoNotOptimize(
          QuantizeBlocks(type, x, n_rows, kRowLength, Output().data(), nullptr, options));
    };
  };
  const QuantizeOptions simd;
  const bench::PairedSeconds t = bench::TimePaired(state, with(simd), with(scalar));
  if (t.a > 0) {
    state.counters["MB/s"] = static_cast<double>(t.iterations * kFreshSliceBytes) / t.a / 1e6;
    state.counters["x_scalar"] = t.b / t.a;
  }
}

// In cache, paired with memcpy: each iteration times kBatch quantizer calls
// on the 256 KiB input and kBatch copies of it, in alternating order;
// x_memcpy is the ratio of the two totals. The quant rows' x_memcpy divides
// by the memcpy row, timed seconds earlier: on the shared VM one kernel's
// time moved by 1.5x within a minute (fifteenth pass in
// docs/performance.md). Batches of 64 calls (0.5-1 ms): with batches of 8
// the quantizer ran about 17 % slower than in its own row while memcpy did
// not change (the switches between the two cost the quantizer).
void BM_QuantizeVsMemcpy(benchmark::State& state, GgmlType type, int64_t target) {
  ScopedDequantTarget scope(target);
  if (!HasSimdQuantizer(type, false)) {
    state.SkipWithError("no SIMD quantizer on this target");
    return;
  }
  constexpr int kBatch = 64;
  const int64_t n_rows = kInCacheBytes / 4 / kRowLength;
  const uint8_t* in = reinterpret_cast<const uint8_t*>(Input().data());
  uint8_t* copy = CopyDestination().data();
  const bench::PairedSeconds t = bench::TimePaired(
      state,
      [&](int64_t) {
        for (int i = 0; i < kBatch; ++i) {
          benchmark::DoNotOptimize(
              QuantizeBlocks(type, Input().data(), n_rows, kRowLength, Output().data()));
          benchmark::ClobberMemory();
        }
      },
      [&](int64_t) {
        for (int i = 0; i < kBatch; ++i) {
          std::memcpy(copy, in, static_cast<size_t>(kInCacheBytes));
          benchmark::ClobberMemory();
        }
      });
  if (t.a > 0) {
    state.counters["MB/s"] = static_cast<double>(t.iterations * kBatch * kInCacheBytes) / t.a / 1e6;
    state.counters["x_memcpy"] = t.b / t.a;
  }
}

void RegisterAll() {
  Input();  // made before any timed row
  Imatrix();
  std::vector<DequantTarget> targets;
  for (const DequantTarget& t : SupportedDequantTargets()) {
    if (t.name != "SCALAR") targets.push_back(t);  // HWY_SCALAR runs the reference
  }
  for (int64_t bytes : {kInCacheBytes, kOutOfCacheBytes}) {
    const std::string size = SizeName(bytes);
    benchmark::RegisterBenchmark(("memcpy/" + size).c_str(), BM_Memcpy, bytes);
    for (GgmlType type : kTypes) {
      const std::string name(GgmlTypeName(type));
      benchmark::RegisterBenchmark(("quant/" + name + "/scalar/" + size).c_str(), BM_Quantize,
                                   type, int64_t{-1}, false, bytes);
      for (const DequantTarget& t : targets) {
        benchmark::RegisterBenchmark(("quant/" + name + "/" + t.name + "/" + size).c_str(),
                                     BM_Quantize, type, t.id, false, bytes);
      }
    }
  }
  if (targets.empty()) return;
  for (GgmlType type : {GgmlType::kQ2_K, GgmlType::kQ3_K, GgmlType::kQ4_K, GgmlType::kQ5_K,
                        GgmlType::kQ6_K, GgmlType::kIQ4_NL, GgmlType::kIQ4_XS}) {
    for (const DequantTarget& t : targets) {
      if (t.id != targets.front().id && t.name != "AVX2") continue;
      // At least 0.5 s: the searches' references take 5-80 ms per slice.
      benchmark::RegisterBenchmark(
          ("quant_fresh/" + std::string(GgmlTypeName(type)) + "/" + t.name + "/1MiB").c_str(),
          BM_QuantizeFresh, type, t.id)
          ->MinTime(0.5);
    }
  }
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0,
                        GgmlType::kQ5_1, GgmlType::kMXFP4, GgmlType::kQ1_0}) {
    benchmark::RegisterBenchmark(
        ("quant_memcpy/" + std::string(GgmlTypeName(type)) + "/" + targets.front().name + "/256KiB")
            .c_str(),
        BM_QuantizeVsMemcpy, type, targets.front().id)
        ->MinTime(0.2);
  }
  for (GgmlType type : kTypes) {
    if (!GetReferenceCodec(type).uses_imatrix) continue;
    const std::string name(GgmlTypeName(type));
    benchmark::RegisterBenchmark(("quant_imatrix/" + name + "/scalar/256KiB").c_str(), BM_Quantize,
                                 type, int64_t{-1}, true, kInCacheBytes);
    benchmark::RegisterBenchmark(
        ("quant_imatrix/" + name + "/" + targets.front().name + "/256KiB").c_str(), BM_Quantize,
        type, targets.front().id, true, kInCacheBytes);
  }
}

}  // namespace
}  // namespace ggufkit

// Default 0.05 s per row.
int main(int argc, char** argv) {
  return ggufkit::bench::RunBenchmarks(argc, argv, "0.05", [] {
    ggufkit::RegisterAll();
  });
}
