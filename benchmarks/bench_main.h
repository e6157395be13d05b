// What bench_dequant and bench_quantize share: their main() (a default
// --benchmark_min_time, an explicit one on the command line wins; then
// `register_all` adds the rows, then the run), the rate of a timed loop in
// thread CPU time, size names, and the table of baselines (memset, memcpy,
// scalar references) that later rows of the same run divide by.
#ifndef GGUFKIT_BENCHMARKS_BENCH_MAIN_H_
#define GGUFKIT_BENCHMARKS_BENCH_MAIN_H_

#include <time.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

namespace ggufkit::bench {

// CPU time of this thread: the VM's two cores are shared, and wall time would
// count the time other processes run.
inline double ThreadSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// "256KiB", "64MiB".
inline std::string SizeName(int64_t bytes) {
  return bytes >= (1 << 20) ? std::to_string(bytes >> 20) + "MiB"
                            : std::to_string(bytes >> 10) + "KiB";
}

// Rates measured earlier in this run, by row key ("memset/<size>",
// "memcpy/<size>", "<type>/<size>" for a scalar reference, ...).
inline std::map<std::string, double>& Baselines() {
  static std::map<std::string, double>* baselines = new std::map<std::string, double>();
  return *baselines;
}

// Runs `body` in the benchmark loop over `bytes` per iteration; returns the
// rate in bytes per second / `unit` of thread CPU time (1e9: GB/s, 1e6:
// MB/s) and reports it as the counter `counter`.
template <class Body>
double TimeLoop(benchmark::State& state, int64_t bytes, const char* counter, double unit,
                Body body) {
  int64_t iterations = 0;
  const double start = ThreadSeconds();
  for (auto _ : state) {
    body();
    benchmark::ClobberMemory();
    ++iterations;
  }
  const double seconds = ThreadSeconds() - start;
  state.SetBytesProcessed(iterations * bytes);
  const double rate = seconds > 0 ? static_cast<double>(iterations * bytes) / seconds / unit : 0;
  state.counters[counter] = rate;
  return rate;
}

// A paired measurement: each iteration runs a(iteration) and b(iteration),
// each first in every other iteration, and adds the thread CPU time of each
// to its total. The ratio of the totals compares two things timed in the
// same moments: the VM's speed drifts between rows run seconds apart.
// before(run_a), untimed, precedes each of the two (a switch of state that
// a and b share, such as the dispatched target).
struct PairedSeconds {
  double a = 0, b = 0;
  int64_t iterations = 0;
};
template <class A, class B, class Before>
PairedSeconds TimePaired(benchmark::State& state, const A& a, const B& b, const Before& before) {
  PairedSeconds t;
  for (auto _ : state) {
    for (int pass = 0; pass < 2; ++pass) {
      const bool run_a = (pass == 0) == (t.iterations % 2 == 0);
      before(run_a);
      const double t0 = ThreadSeconds();
      if (run_a) {
        a(t.iterations);
      } else {
        b(t.iterations);
      }
      benchmark::ClobberMemory();
      (run_a ? t.a : t.b) += ThreadSeconds() - t0;
    }
    ++t.iterations;
  }
  return t;
}
template <class A, class B>
PairedSeconds TimePaired(benchmark::State& state, const A& a, const B& b) {
  return TimePaired(state, a, b, [](bool) {});
}

template <typename RegisterAll>
int RunBenchmarks(int argc, char** argv, const char* default_min_time, RegisterAll register_all) {
  std::vector<char*> args(argv, argv + argc);
  bool has_min_time = false;
  for (char* arg : args) has_min_time |= std::strncmp(arg, "--benchmark_min_time", 20) == 0;
  std::string min_time = std::string("--benchmark_min_time=") + default_min_time;
  if (!has_min_time) args.push_back(min_time.data());
  argc = static_cast<int>(args.size());
  args.push_back(nullptr);
  benchmark::Initialize(&argc, args.data());
  if (benchmark::ReportUnrecognizedArguments(argc, args.data())) return 1;
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace ggufkit::bench

#endif  // GGUFKIT_BENCHMARKS_BENCH_MAIN_H_
