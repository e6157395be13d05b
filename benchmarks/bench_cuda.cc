// GB/s of the CUDA kernels on a 256 MiB output, next to a device-to-device
// cudaMemcpy of the same 256 MiB in the same run (the reference wall: it reads
// and writes 256 MiB, a dequantizer writes 256 MiB and reads 13-53 % of that).
// Each row reports `GB/s` (output bytes per second) and `x_memcpy`, its ratio
// to the memcpy row. Timed with CUDA events (manual time). Exits 0 with a
// message when there is no GPU.
//
//   build/.../benchmarks/bench_cuda [--benchmark_filter=q4_K]
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "ggufkit/kernels/cuda/cuda_codecs.h"
#include "ggufkit/kernels/cuda/host_dequantizer.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit::cuda {
namespace {

constexpr int64_t kOutputBytes = int64_t{256} << 20;

double g_memcpy_gbps = 0.0;

// Device buffers shared by all rows (allocated once in main).
void* g_in = nullptr;
void* g_out = nullptr;
size_t g_in_bytes = 0;

// Times `body` (which enqueues work on the default stream) with CUDA events.
template <class Body>
void TimeWithEvents(benchmark::State& state, int64_t bytes, Body body) {
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  body();  // warm-up
  cudaDeviceSynchronize();
  double total_seconds = 0.0;
  for (auto _ : state) {
    cudaEventRecord(start);
    body();
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0.0f;
    cudaEventElapsedTime(&ms, start, stop);
    state.SetIterationTime(ms / 1e3);
    total_seconds += ms / 1e3;
  }
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  state.SetBytesProcessed(state.iterations() * bytes);
  const double gbps = total_seconds > 0 ? state.iterations() * bytes / total_seconds / 1e9 : 0.0;
  state.counters["GB/s"] = gbps;
  if (g_memcpy_gbps > 0) state.counters["x_memcpy"] = gbps / g_memcpy_gbps;
}

void BM_Memcpy(benchmark::State& state) {
  TimeWithEvents(state, kOutputBytes, [] {
    cudaMemcpyAsync(g_out, g_in, static_cast<size_t>(kOutputBytes), cudaMemcpyDeviceToDevice);
  });
}

void BM_Dequantize(benchmark::State& state, GgmlType type, OutputType out_type) {
  const int64_t n = kOutputBytes / OutputElementBytes(out_type);
  absl::Status status;
  TimeWithEvents(state, kOutputBytes, [&] {
    if (status.ok()) status = DequantizeOnDevice(type, g_in, n, out_type, g_out);
  });
  if (!status.ok()) state.SkipWithError(std::string(status.message()).c_str());
}

void BM_DequantizeKv(benchmark::State& state, KvFormat format, OutputType out_type) {
  const int64_t n = kOutputBytes / OutputElementBytes(out_type);
  absl::Status status;
  TimeWithEvents(state, kOutputBytes, [&] {
    if (status.ok()) status = DequantizeKvOnDevice(format, g_in, n, out_type, g_out);
  });
  if (!status.ok()) state.SkipWithError(std::string(status.message()).c_str());
}

// KV quantizers: GB/s of f32 input consumed (64 Mi floats from g_out).
void BM_QuantizeKv(benchmark::State& state, KvFormat format) {
  const int64_t n = kOutputBytes / 4;
  absl::Status status;
  TimeWithEvents(state, kOutputBytes, [&] {
    if (status.ok()) status = QuantizeKvOnDevice(format, static_cast<const float*>(g_out), n, g_in);
  });
  if (!status.ok()) state.SkipWithError(std::string(status.message()).c_str());
}

void BM_Rotate(benchmark::State& state) {
  const int64_t n = kOutputBytes / 4 / 2;  // in and out halves of g_out
  float* base = static_cast<float*>(g_out);
  absl::Status status;
  TimeWithEvents(state, n * 4, [&] {
    if (status.ok()) status = RotateOnDevice(RotationDirection::kInverse, base, base + n, n);
  });
  if (!status.ok()) state.SkipWithError(std::string(status.message()).c_str());
}

// Host memory to host memory through HostDequantizer (pageable buffers on
// both sides, as gguf-dequant has them): bounded by PCIe and host memcpy.
void BM_HostStream(benchmark::State& state, GgmlType type) {
  const int64_t n = kOutputBytes / 4;
  const absl::StatusOr<int64_t> in_bytes = RowSizeBytes(type, n);
  absl::StatusOr<std::unique_ptr<HostDequantizer>> dequantizer = HostDequantizer::Create();
  if (!in_bytes.ok() || !dequantizer.ok()) {
    state.SkipWithError("cannot set up HostDequantizer");
    return;
  }
  std::vector<uint8_t> in(static_cast<size_t>(*in_bytes));
  std::mt19937 rng(1);
  for (uint8_t& b : in) b = static_cast<uint8_t>(rng());
  std::vector<float> out(static_cast<size_t>(n));
  absl::Status status;
  for (auto _ : state) {
    status = (*dequantizer)->Dequantize(type, in.data(), n, OutputType::kF32, out.data());
    if (!status.ok()) break;
    benchmark::DoNotOptimize(out.data());
  }
  if (!status.ok()) state.SkipWithError(std::string(status.message()).c_str());
  state.SetBytesProcessed(state.iterations() * kOutputBytes);
}

struct TypeRow {
  GgmlType type;
  const char* name;
};

}  // namespace
}  // namespace ggufkit::cuda

int main(int argc, char** argv) {
  using namespace ggufkit;        // NOLINT
  using namespace ggufkit::cuda;  // NOLINT
  const absl::Status available = DeviceAvailable();
  if (!available.ok()) {
    std::printf("bench_cuda: skipped, %s\n", std::string(available.message()).c_str());
    return 0;
  }
  const absl::StatusOr<std::string> device = DeviceDescription();
  std::printf("bench_cuda on %s\n", device.ok() ? device->c_str() : "?");

  // Input: the memcpy source and the largest quantized input (q8_0 at f16
  // output: 128 Mi elements * 34/32 bytes = 136 MiB) share one 256 MiB buffer
  // of random bytes. Quantized scales are random halves: a few are inf/NaN,
  // which costs the kernels nothing extra.
  g_in_bytes = static_cast<size_t>(kOutputBytes);
  if (cudaMalloc(&g_in, g_in_bytes) != cudaSuccess ||
      cudaMalloc(&g_out, g_in_bytes) != cudaSuccess) {
    std::printf("bench_cuda: cannot allocate 2 x 256 MiB of device memory\n");
    return 1;
  }
  {
    std::vector<uint32_t> host(g_in_bytes / 4);
    std::mt19937 rng(42);
    for (uint32_t& v : host) v = rng();
    cudaMemcpy(g_in, host.data(), g_in_bytes, cudaMemcpyHostToDevice);
    // g_out starts as normal-ish floats for the quantizer rows.
    std::normal_distribution<float> normal;
    std::vector<float> floats(g_in_bytes / 4);
    for (float& f : floats) f = normal(rng);
    cudaMemcpy(g_out, floats.data(), g_in_bytes, cudaMemcpyHostToDevice);
  }

  // The memcpy rate first, so every row can report its ratio to it.
  {
    cudaEvent_t start, stop;
    cudaEventCreate(&start);
    cudaEventCreate(&stop);
    cudaMemcpy(g_out, g_in, g_in_bytes, cudaMemcpyDeviceToDevice);
    cudaEventRecord(start);
    constexpr int kReps = 20;
    for (int i = 0; i < kReps; ++i)
      cudaMemcpyAsync(g_out, g_in, g_in_bytes, cudaMemcpyDeviceToDevice);
    cudaEventRecord(stop);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    g_memcpy_gbps = kReps * static_cast<double>(kOutputBytes) / (ms / 1e3) / 1e9;
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
  }

  benchmark::RegisterBenchmark("memcpy_d2d/256MiB", BM_Memcpy)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
  const TypeRow types[] = {{GgmlType::kQ8_0, "q8_0"},     {GgmlType::kQ4_0, "q4_0"},
                           {GgmlType::kQ1_0, "q1_0"},     {GgmlType::kQ4_K, "q4_K"},
                           {GgmlType::kQ5_K, "q5_K"},     {GgmlType::kQ6_K, "q6_K"},
                           {GgmlType::kIQ4_NL, "iq4_nl"}, {GgmlType::kMXFP4, "mxfp4"}};
  const std::pair<OutputType, const char*> outputs[] = {
      {OutputType::kF32, "f32"}, {OutputType::kF16, "f16"}, {OutputType::kBF16, "bf16"}};
  for (const TypeRow& t : types) {
    for (const auto& [out_type, out_name] : outputs) {
      benchmark::RegisterBenchmark((std::string("dequantize/") + t.name + "/" + out_name).c_str(),
                                   BM_Dequantize, t.type, out_type)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
    }
  }
  const std::pair<KvFormat, const char*> kv[] = {{{KvType::kQ8_0}, "q8_0"},
                                                 {{KvType::kQ4_0}, "q4_0"},
                                                 {{KvType::kTurbo2}, "turbo2"},
                                                 {{KvType::kTurbo3}, "turbo3"},
                                                 {{KvType::kTurbo4}, "turbo4"}};
  for (const auto& [format, name] : kv) {
    benchmark::RegisterBenchmark((std::string("kv_dequantize/") + name + "/f16").c_str(),
                                 BM_DequantizeKv, format, OutputType::kF16)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((std::string("kv_quantize/") + name + "/f32_in").c_str(),
                                 BM_QuantizeKv, format)
        ->UseManualTime()
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("host_stream/q4_K/f32", BM_HostStream, GgmlType::kQ4_K)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("rotate_inverse/128MiB", BM_Rotate)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);

  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  cudaFree(g_in);
  cudaFree(g_out);
  return 0;
}
