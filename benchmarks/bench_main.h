// The main() of the Google Benchmark programs: a default --benchmark_min_time
// (an explicit one on the command line wins), then `register_all` adds the
// rows, then the run.
#ifndef GGUFKIT_BENCHMARKS_BENCH_MAIN_H_
#define GGUFKIT_BENCHMARKS_BENCH_MAIN_H_

#include <cstring>
#include <string>
#include <vector>

#include "benchmark/benchmark.h"

namespace ggufkit::bench {

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
