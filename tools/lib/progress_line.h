// A one-line progress display on stderr for the CLI tools, redrawn at most
// every 100 ms ("\r\033[K" + text), the way gguf-dequant shows its progress.
// Only meant for terminals: callers check isatty(STDERR_FILENO) first.
#ifndef GGUFKIT_TOOLS_LIB_PROGRESS_LINE_H_
#define GGUFKIT_TOOLS_LIB_PROGRESS_LINE_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ggufkit::cli {

class ProgressLine {
 public:
  // `done` of `total` units (bytes when `bytes` is true), with a label.
  void Update(uint64_t done, uint64_t total, const std::string& label, bool bytes = true) {
    const auto now = std::chrono::steady_clock::now();
    const bool last = done >= total;
    if (!last && now - last_print_ < std::chrono::milliseconds(100)) return;
    last_print_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    const double eta = rate > 0 && total > done ? static_cast<double>(total - done) / rate : 0;
    if (bytes) {
      std::fprintf(stderr, "\r\033[K%.2f/%.2f GB  %.0f MB/s  ETA %.0fs  %s",
                   static_cast<double>(done) / 1e9, static_cast<double>(total) / 1e9, rate / 1e6,
                   eta, label.c_str());
    } else {
      std::fprintf(stderr, "\r\033[K%llu/%llu  ETA %.0fs  %s",
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                   eta, label.c_str());
    }
    drawn_ = true;
    std::fflush(stderr);
  }
  // Clears the line (call before printing results).
  void Finish() {
    if (!drawn_) return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_print_;
  bool drawn_ = false;
};

}  // namespace ggufkit::cli

#endif  // GGUFKIT_TOOLS_LIB_PROGRESS_LINE_H_
