#include "ggufkit/cli/progress.h"

#include <unistd.h>

#include <cstdio>

namespace ggufkit::cli {

bool ProgressLine::Wanted(bool quiet) { return !quiet && isatty(STDERR_FILENO) != 0; }

void ProgressLine::Update(size_t item_index, size_t item_count, const std::string& item_name,
                          uint64_t bytes_done, uint64_t bytes_total) {
  const auto now = std::chrono::steady_clock::now();
  const bool last = bytes_done == bytes_total;
  if (!last && now - last_print_ < std::chrono::milliseconds(100)) return;
  last_print_ = now;
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(bytes_done) / seconds : 0;
  const double eta = rate > 0 ? static_cast<double>(bytes_total - bytes_done) / rate : 0;
  std::fprintf(stderr, "\r\033[K[%zu/%zu] %s  %.2f/%.2f GB  %.0f MB/s  ETA %.0fs", item_index + 1,
               item_count, item_name.c_str(), static_cast<double>(bytes_done) / 1e9,
               static_cast<double>(bytes_total) / 1e9, rate / 1e6, eta);
  if (last) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace ggufkit::cli
