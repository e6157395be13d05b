// The progress line every tool shows on a terminal:
//   [12/201] blk.3.ffn_down.weight  1.23/4.40 GB  1946 MB/s  ETA 2s
// rewritten in place on stderr at most every 100 ms (and once at the end).
#ifndef GGUFKIT_CLI_PROGRESS_H_
#define GGUFKIT_CLI_PROGRESS_H_

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

namespace ggufkit::cli {

class ProgressLine {
 public:
  // True when a progress line should be shown: stderr is a terminal and the
  // user did not ask for --quiet.
  static bool Wanted(bool quiet);

  // item_index is 0-based; the line ends with a newline once bytes_done ==
  // bytes_total.
  void Update(size_t item_index, size_t item_count, const std::string& item_name,
              uint64_t bytes_done, uint64_t bytes_total);

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_print_;
};

}  // namespace ggufkit::cli

#endif  // GGUFKIT_CLI_PROGRESS_H_
