// Dequantization throughput, single thread: GB/s of output for every format
// with a SIMD kernel, on every compiled Highway target, at an in-cache size
// (256 KiB of output) and an out-of-cache size (64 MiB), next to the
// baselines measured in the same run:
//   memset/<size>   writing the output buffer (the write-bandwidth wall)
//   memcpy/<size>   copying a buffer of the output size
//   dequant/<type>/scalar/<size>  the scalar reference (quants/' registered
//                   codec, which the tests check against ggml)
// Each SIMD row reports counters GB/s, x_memset (its speed over memset's at
// the same size; out of cache, over a memset timed in the same iterations)
// and x_scalar (over the scalar reference of its type and size). Targets (docs/performance.md): out
// of cache, Q1_0, Q4_K, Q6_K and Q8_0 >= 0.8 x_memset; in cache, every kernel >= 4 x_scalar (Q1_0
// and Q6_K
// >= 8). Baselines are registered first so that ratios come from one run.
//
// Alignment rows: dequant_align/<type>/<best target, AVX2>/<size>/+{0,4,16},
// f32 output at 0, 4 and 16 bytes past a 64-byte boundary, and
// dequant_align_f16/<type>/<best target>/<size>/+{0,2}, f16 output. A
// misaligned row reports x_aligned: the same call into the aligned buffer,
// timed in the same iterations, over this row's (goal >= 0.9).
//
// KV rows: kv/turbo{2,3,4}_{dequant,quant}/{scalar,<best target>}/256KiB and
// kv/wht128_rotate_inverse/...: turbo codecs (dequant/turbo.h) in cache.
//
// Full suite: build/dev/benchmarks/bench_dequant   (about 40 s of CPU time)
// CI smoke:   build/dev/benchmarks/bench_dequant
//   --benchmark_filter='^(memset|memcpy|dequant/(q8_0|q4_K|q6_K|q1_0)/(scalar|AVX3))/'
//   --benchmark_min_time=0.02
#include <time.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "benchmarks/bench_main.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/dequant/turbo.h"
#include "ggufkit/quants/half_fields.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit {
namespace {

using bench::Baselines;
using bench::SizeName;
using bench::ThreadSeconds;

constexpr int64_t kInCacheBytes = 256 << 10;
constexpr int64_t kOutOfCacheBytes = 64 << 20;

const GgmlType kTypes[] = {
    GgmlType::kQ8_0, GgmlType::kQ4_K,   GgmlType::kQ6_K,   GgmlType::kQ1_0,  GgmlType::kQ4_0,
    GgmlType::kQ4_1, GgmlType::kQ5_0,   GgmlType::kQ5_1,   GgmlType::kQ5_K,  GgmlType::kQ2_K,
    GgmlType::kQ3_K, GgmlType::kIQ4_NL, GgmlType::kIQ4_XS, GgmlType::kMXFP4, GgmlType::kTQ2_0,
    GgmlType::kF16,  GgmlType::kBF16,
};

// 64-byte aligned (as the streaming layer's buffers are: an unaligned
// 64-byte store splits across two cache lines).
uint8_t* Aligned64(std::vector<uint8_t>* buffer) {
  const uintptr_t p = reinterpret_cast<uintptr_t>(buffer->data());
  return buffer->data() + ((64 - p % 64) % 64);
}
// One output buffer for everything (touched once, so no row pays for page
// faults), plus a source buffer for memcpy.
uint8_t* OutputBuffer() {
  static std::vector<uint8_t>* buffer = new std::vector<uint8_t>(kOutOfCacheBytes + 64, 1);
  return Aligned64(buffer);
}
uint8_t* CopySource() {
  static std::vector<uint8_t>* buffer = new std::vector<uint8_t>(kOutOfCacheBytes + 64, 2);
  return Aligned64(buffer);
}

// Random blocks of `type` covering `n_elements`, with finite fp16 fields in
// the usual range so every row does the same arithmetic as real weights.
const std::vector<uint8_t>& InputBlocks(GgmlType type, int64_t n_elements) {
  static std::map<std::pair<GgmlType, int64_t>, std::vector<uint8_t>>* cache =
      new std::map<std::pair<GgmlType, int64_t>, std::vector<uint8_t>>();
  auto it = cache->find({type, n_elements});
  if (it != cache->end()) return it->second;
  const TypeTraits& t = GetTypeTraits(type);
  std::vector<uint8_t> bytes(static_cast<size_t>(n_elements / t.block_size * t.type_size));
  std::mt19937 rng(static_cast<uint32_t>(n_elements) ^ static_cast<uint32_t>(type));
  for (auto& b : bytes) b = static_cast<uint8_t>(rng());
  // Make every fp16 in the data a normal number near 0.01: random bytes
  // would give NaNs and infinities (and slow subnormals on some paths).
  for (size_t i = 1; i < bytes.size(); i += 2) {
    if (type == GgmlType::kF16) bytes[i] = static_cast<uint8_t>(0x20 | (bytes[i] & 0x83));
  }
  if (t.block_size > 1) {
    for (size_t b = 0; b + t.type_size <= bytes.size(); b += static_cast<size_t>(t.type_size)) {
      for (uint16_t off : HalfFieldOffsets(type)) {
        bytes[b + off + 1] = static_cast<uint8_t>(0x20 | (bytes[b + off + 1] & 0x83));
      }
    }
  }
  if (type == GgmlType::kMXFP4) {
    for (size_t b = 0; b < bytes.size(); b += 17)
      bytes[b] = static_cast<uint8_t>(120 + bytes[b] % 8);
  }
  return cache->emplace(std::make_pair(type, n_elements), std::move(bytes)).first->second;
}

// TimeLoop reporting GB/s.
template <class Body>
double TimeLoop(benchmark::State& state, int64_t bytes, Body body) {
  return bench::TimeLoop(state, bytes, "GB/s", 1e9, body);
}

void BM_Memset(benchmark::State& state, int64_t out_bytes) {
  uint8_t* out = OutputBuffer();
  int value = 0;
  // memset is the first row of its size: warm up (page faults, clock ramp)
  // for 50 ms first, or the baseline of every ratio comes out low. Google
  // Benchmark 1.7.1 has no warm-up option.
  for (const double until = ThreadSeconds() + 0.05; ThreadSeconds() < until;) {
    std::memset(out, ++value & 0xFF, static_cast<size_t>(out_bytes));
    benchmark::ClobberMemory();
  }
  const double gbps =
      TimeLoop(state, out_bytes, [&] { std::memset(out, ++value & 0xFF, out_bytes); });
  Baselines()["memset/" + SizeName(out_bytes)] = gbps;
}

void BM_Memcpy(benchmark::State& state, int64_t out_bytes) {
  uint8_t* out = OutputBuffer();
  const uint8_t* in = CopySource();
  const double gbps = TimeLoop(state, out_bytes, [&] { std::memcpy(out, in, out_bytes); });
  const double memset_gbps = Baselines()["memset/" + SizeName(out_bytes)];
  if (memset_gbps > 0) state.counters["x_memset"] = gbps / memset_gbps;
}

void BM_Scalar(benchmark::State& state, GgmlType type, int64_t out_bytes) {
  const int64_t n = out_bytes / 4;
  const std::vector<uint8_t>& in = InputBlocks(type, n);
  float* out = reinterpret_cast<float*>(OutputBuffer());
  DequantOptions scalar;
  scalar.force_scalar = true;
  const double gbps = TimeLoop(state, out_bytes, [&] {
    benchmark::DoNotOptimize(DequantizeBlocks(type, in.data(), n, out, OutputType::kF32, scalar));
  });
  state.SetLabel("quants/ reference");
  Baselines()[std::string(GgmlTypeName(type)) + "/" + SizeName(out_bytes)] = gbps;
  const double memset_gbps = Baselines()["memset/" + SizeName(out_bytes)];
  if (memset_gbps > 0) state.counters["x_memset"] = gbps / memset_gbps;
}

void BM_Simd(benchmark::State& state, GgmlType type, int64_t target, OutputType out_type,
             int64_t out_elements, int out_offset) {
  ScopedDequantTarget scope(target);
  const std::vector<uint8_t>& in = InputBlocks(type, out_elements);
  // out_offset >= 0: an alignment row (bytes past a 64-byte boundary).
  void* out = OutputBuffer() + (out_offset > 0 ? out_offset : 0);
  const int64_t out_bytes = out_elements * static_cast<int64_t>(OutputElementBytes(out_type));
  if (!HasSimdKernel(type, out_type)) {
    state.SkipWithError("no SIMD kernel on this target");
    return;
  }
  if (out_offset > 0) {
    // A misaligned row: each iteration times this row's call and the same
    // call into the 64-byte-aligned buffer, in alternating order, and
    // x_aligned is the ratio of the two totals. A paired measurement: the
    // speed of a VM drifts by more than the 10 % this ratio is judged by
    // between two rows run seconds apart.
    void* aligned = OutputBuffer();
    auto into = [&](void* buffer) {
      return [&, buffer](int64_t) {
        benchmark::DoNotOptimize(DequantizeBlocks(type, in.data(), out_elements, buffer, out_type));
      };
    };
    const bench::PairedSeconds t = bench::TimePaired(state, into(out), into(aligned));
    state.SetBytesProcessed(t.iterations * out_bytes * 2);
    if (t.a > 0) {
      state.counters["GB/s"] = static_cast<double>(t.iterations * out_bytes) / t.a / 1e9;
      state.counters["x_aligned"] = t.b / t.a;
    }
    return;
  }
  double gbps = 0;
  if (out_bytes >= kOutOfCacheBytes) {
    // Out of cache the wall is memory bandwidth, which the other processes
    // on the VM share and which drifts during a run: each iteration also
    // times a memset of the same buffer, and x_memset is the ratio of the
    // two totals (a paired measurement).
    double kernel_seconds = 0, memset_seconds = 0;
    int64_t iterations = 0;
    int value = 0;
    for (auto _ : state) {
      const double t0 = ThreadSeconds();
      benchmark::DoNotOptimize(DequantizeBlocks(type, in.data(), out_elements, out, out_type));
      benchmark::ClobberMemory();
      const double t1 = ThreadSeconds();
      std::memset(out, ++value & 0xFF, static_cast<size_t>(out_bytes));
      benchmark::ClobberMemory();
      memset_seconds += ThreadSeconds() - t1;
      kernel_seconds += t1 - t0;
      ++iterations;
    }
    state.SetBytesProcessed(iterations * out_bytes * 2);
    gbps =
        kernel_seconds > 0 ? static_cast<double>(iterations * out_bytes) / kernel_seconds / 1e9 : 0;
    state.counters["GB/s"] = gbps;
    if (kernel_seconds > 0) state.counters["x_memset"] = memset_seconds / kernel_seconds;
  } else {
    gbps = TimeLoop(state, out_bytes, [&] {
      benchmark::DoNotOptimize(DequantizeBlocks(type, in.data(), out_elements, out, out_type));
    });
    // Ratios compare equal output sizes in bytes (f16 rows: half the elements).
    const double memset_gbps = Baselines()["memset/" + SizeName(out_bytes)];
    if (memset_gbps > 0) state.counters["x_memset"] = gbps / memset_gbps;
  }
  if (out_offset == 0) return;  // the aligned row of an alignment set
  if (out_type == OutputType::kF32) {
    const double scalar_gbps =
        Baselines()[std::string(GgmlTypeName(type)) + "/" + SizeName(out_bytes)];
    if (scalar_gbps > 0) state.counters["x_scalar"] = gbps / scalar_gbps;
  }
}

// The kernels that use AVX512-FP16 for f16 output (AVX3 on a CPU that has
// it), with and without it: a paired measurement (TimePaired), the target
// switched between the timed calls, and x_without_fp16 the ratio of the
// totals (above 1: faster with it).
void BM_Fp16(benchmark::State& state, GgmlType type, int64_t target, int64_t out_elements,
             int out_offset) {
  const std::vector<uint8_t>& in = InputBlocks(type, out_elements);
  void* out = OutputBuffer() + out_offset;
  std::optional<ScopedDequantTarget> scope;
  const auto call = [&](int64_t) {
    benchmark::DoNotOptimize(
        DequantizeBlocks(type, in.data(), out_elements, out, OutputType::kF16));
  };
  // a: with AVX512-FP16, b: without.
  const bench::PairedSeconds t = bench::TimePaired(state, call, call, [&](bool with_fp16) {
    scope.reset();
    scope.emplace(target, with_fp16);
  });
  const int64_t out_bytes = out_elements * 2;
  state.SetBytesProcessed(t.iterations * out_bytes * 2);
  if (t.a > 0) {
    state.counters["GB/s"] = static_cast<double>(t.iterations * out_bytes) / t.a / 1e9;
    state.counters["x_without_fp16"] = t.b / t.a;
  }
}

void RegisterFp16() {
  const DequantTarget best = SupportedDequantTargets().front();
  if (!best.avx512fp16) return;  // nothing to compare on this CPU
  for (int64_t bytes : {kInCacheBytes, kOutOfCacheBytes}) {
    for (GgmlType type : {GgmlType::kQ4_0, GgmlType::kQ4_1, GgmlType::kQ5_0, GgmlType::kQ5_1,
                          GgmlType::kQ8_0, GgmlType::kIQ4_NL, GgmlType::kQ3_K}) {
      for (int offset : {0, 2}) {
        const std::string name = "dequant_fp16/" + std::string(GgmlTypeName(type)) + "/" +
                                 best.name + "/" + SizeName(bytes) + "/+" + std::to_string(offset);
        benchmark::RegisterBenchmark(name.c_str(), BM_Fp16, type, best.id, bytes / 2, offset);
      }
    }
  }
}

// KV cache, turbo2/3/4 (current tables), in cache: dequantize (GB/s of f32
// output), quantize (GB/s of f32 input) and the rotation (GB/s rotated), for
// the scalar reference (quants/turbo.h) and the best target.
enum class TurboOp { kDequantize, kQuantize, kRotate };

void BM_Turbo(benchmark::State& state, TurboOp op, TurboFormat format, bool scalar,
              int64_t target) {
  ScopedDequantTarget scope(target);
  constexpr int64_t kGroups = kInCacheBytes / 4 / kTurboGroupSize;
  DequantOptions options;
  options.force_scalar = scalar;
  static std::vector<float>* x = [] {
    auto* v = new std::vector<float>(static_cast<size_t>(kGroups * kTurboGroupSize));
    std::mt19937 rng(11);
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& f : *v) f = normal(rng);
    return v;
  }();
  std::vector<uint8_t> blocks(
      static_cast<size_t>(kGroups * TurboBlockBytes(format, TurboVariant::kCurrent)));
  if (!QuantizeTurboGroups(format, TurboVariant::kCurrent, x->data(), kGroups, blocks.data())
           .ok()) {
    state.SkipWithError("quantize failed");
    return;
  }
  std::vector<float> y(x->size());
  const double gbps = TimeLoop(state, kInCacheBytes, [&] {
    switch (op) {
      case TurboOp::kDequantize:
        benchmark::DoNotOptimize(DequantizeTurboGroups(format, TurboVariant::kCurrent,
                                                       blocks.data(), kGroups, y.data(), options));
        break;
      case TurboOp::kQuantize:
        benchmark::DoNotOptimize(QuantizeTurboGroups(format, TurboVariant::kCurrent, x->data(),
                                                     kGroups, blocks.data(), options));
        break;
      case TurboOp::kRotate:
        benchmark::DoNotOptimize(
            RotateTurboGroups(y.data(), kGroups, RotationDirection::kInverse, options));
        break;
    }
  });
  const std::string key = "turbo" + std::to_string(static_cast<int>(format)) + "/" +
                          std::to_string(static_cast<int>(op));
  if (scalar) {
    Baselines()[key] = gbps;
  } else if (Baselines()[key] > 0) {
    state.counters["x_scalar"] = gbps / Baselines()[key];
  }
}

void RegisterAll() {
  for (int64_t bytes : {kInCacheBytes, kOutOfCacheBytes}) {
    const std::string size = SizeName(bytes);
    benchmark::RegisterBenchmark(("memset/" + size).c_str(), BM_Memset, bytes);
    benchmark::RegisterBenchmark(("memcpy/" + size).c_str(), BM_Memcpy, bytes);
    for (GgmlType type : kTypes) {
      const std::string name(GgmlTypeName(type));
      benchmark::RegisterBenchmark(("dequant/" + name + "/scalar/" + size).c_str(), BM_Scalar, type,
                                   bytes);
    }
    for (GgmlType type : kTypes) {
      const std::string name(GgmlTypeName(type));
      for (const DequantTarget& target : SupportedDequantTargets()) {
        if (target.name == "SCALAR") continue;  // runs the reference codecs
        benchmark::RegisterBenchmark(("dequant/" + name + "/" + target.name + "/" + size).c_str(),
                                     BM_Simd, type, target.id, OutputType::kF32, bytes / 4, -1);
      }
    }
    // f16 / bf16 output of the mission formats on the best target, same
    // output bytes as the f32 rows.
    const DequantTarget best = SupportedDequantTargets().front();
    for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_K, GgmlType::kQ6_K, GgmlType::kQ1_0}) {
      for (OutputType out_type : {OutputType::kF16, OutputType::kBF16}) {
        const std::string name = std::string("dequant_") + OutputTypeName(out_type) + "/" +
                                 std::string(GgmlTypeName(type)) + "/" + best.name + "/" + size;
        benchmark::RegisterBenchmark(name.c_str(), BM_Simd, type, best.id, out_type, bytes / 2, -1);
      }
    }
    // Output alignment, f32 on the best target and on AVX2: 64-byte
    // aligned, +4 bytes (a float-aligned but otherwise misaligned buffer)
    // and +16 bytes (what std::vector<float> usually gets from malloc),
    // measured back to back; f16 output on the best target: aligned and +2.
    std::vector<DequantTarget> align_targets = {best};
    for (const DequantTarget& target : SupportedDequantTargets()) {
      if (target.name == "AVX2" && target.id != best.id) align_targets.push_back(target);
    }
    for (const DequantTarget& target : align_targets) {
      for (GgmlType type : kTypes) {
        for (int offset : {0, 4, 16}) {
          const std::string name = "dequant_align/" + std::string(GgmlTypeName(type)) + "/" +
                                   target.name + "/" + size + "/+" + std::to_string(offset);
          benchmark::RegisterBenchmark(name.c_str(), BM_Simd, type, target.id, OutputType::kF32,
                                       bytes / 4, offset);
        }
      }
    }
    for (GgmlType type : kTypes) {
      if (type == GgmlType::kF16) continue;  // a copy
      for (int offset : {0, 2}) {
        const std::string name = "dequant_align_f16/" + std::string(GgmlTypeName(type)) + "/" +
                                 best.name + "/" + size + "/+" + std::to_string(offset);
        benchmark::RegisterBenchmark(name.c_str(), BM_Simd, type, best.id, OutputType::kF16,
                                     bytes / 2, offset);
      }
    }
  }
}

void RegisterTurbo() {
  const DequantTarget best = SupportedDequantTargets().front();
  const char* op_names[] = {"dequant", "quant", "rotate_inverse"};
  for (TurboOp op : {TurboOp::kDequantize, TurboOp::kQuantize, TurboOp::kRotate}) {
    for (TurboFormat format : {TurboFormat::kTurbo2, TurboFormat::kTurbo3, TurboFormat::kTurbo4}) {
      if (op == TurboOp::kRotate && format != TurboFormat::kTurbo3) continue;
      for (bool scalar : {true, false}) {
        const std::string name =
            std::string("kv/") +
            (op == TurboOp::kRotate ? std::string("wht128")
                                    : "turbo" + std::to_string(static_cast<int>(format))) +
            "_" + op_names[static_cast<int>(op)] + "/" +
            (scalar ? std::string("scalar") : best.name) + "/256KiB";
        benchmark::RegisterBenchmark(name.c_str(), BM_Turbo, op, format, scalar, best.id);
      }
    }
  }
}

}  // namespace
}  // namespace ggufkit

// Default 0.1 s per row (the full suite then takes about 40 s of CPU).
int main(int argc, char** argv) {
  return ggufkit::bench::RunBenchmarks(argc, argv, "0.1", [] {
    ggufkit::RegisterAll();
    ggufkit::RegisterFp16();
    ggufkit::RegisterTurbo();
  });
}
