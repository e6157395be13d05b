// The one-line progress display of the CLI tools on stderr, redrawn at most
// every 100 ms ("\r\033[K" + "LABEL  done/total GB  rate MB/s  ETA s"). Used by
// gguf-dequant, gguf-verify and gguf-compare; callers show it only when
// stderr is a terminal (isatty(STDERR_FILENO)).
#ifndef GGUFKIT_TOOLS_LIB_PROGRESS_LINE_H_
#define GGUFKIT_TOOLS_LIB_PROGRESS_LINE_H_

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ggufkit::cli {

class ProgressLine {
 public:
  enum class Units { kBytes, kCount };
  // `keep_final_line`: the last update (done == total) ends with a newline
  // and stays on screen; otherwise Finish() erases the line.
  explicit ProgressLine(Units units = Units::kBytes, bool keep_final_line = false)
      : units_(units), keep_final_line_(keep_final_line) {}

  void Update(uint64_t done, uint64_t total, const std::string& label) {
    const auto now = std::chrono::steady_clock::now();
    const bool last = done >= total;
    if (!last && now - last_print_ < std::chrono::milliseconds(100)) return;
    last_print_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
    const double eta = rate > 0 && total > done ? static_cast<double>(total - done) / rate : 0;
    if (units_ == Units::kBytes) {
      std::fprintf(stderr, "\r\033[K%s  %.2f/%.2f GB  %.0f MB/s  ETA %.0fs", label.c_str(),
                   static_cast<double>(done) / 1e9, static_cast<double>(total) / 1e9, rate / 1e6,
                   eta);
    } else {
      std::fprintf(stderr, "\r\033[K%s  %llu/%llu  ETA %.0fs", label.c_str(),
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                   eta);
    }
    drawn_ = true;
    if (last && keep_final_line_) {
      std::fprintf(stderr, "\n");
      drawn_ = false;
    }
    std::fflush(stderr);
  }

  // Erases a line still on screen (call before printing results).
  void Finish() {
    if (!drawn_) return;
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }

 private:
  Units units_;
  bool keep_final_line_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_print_;
  bool drawn_ = false;
};

}  // namespace ggufkit::cli

#endif  // GGUFKIT_TOOLS_LIB_PROGRESS_LINE_H_
