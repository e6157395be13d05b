// Helpers for the gguf-dequant tests: run the tool, measure the child's peak
// RSS, and compare an output file against per-tensor reference
// dequantization, chunk by chunk (small buffers).
#ifndef GGUFKIT_TESTS_STREAM_TOOL_TEST_UTIL_H_
#define GGUFKIT_TESTS_STREAM_TOOL_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ggufkit/stream/dense_convert.h"

namespace ggufkit::stream::testing {

struct ToolRun {
  int exit_code = -1;       // -1: did not exit normally
  int64_t max_rss_kb = 0;   // ru_maxrss of the child (VmHWM)
  std::string output;       // stdout + stderr
};

// Runs ToolsDir()/gguf-dequant with `args` (no shell), capturing output.
ToolRun RunDequantTool(const std::vector<std::string>& args);

// Checks that the GGUF `out_path` holds exactly `in_path`'s tensors (or the
// `names` subset, in order), each dequantized to `to` by the quants/
// reference codecs (integer tensors and tensors already of type `to`
// unchanged), shapes kept. Reads both files in small chunks.
absl::Status CompareWithReference(const std::string& in_path, const std::string& out_path,
                                  OutputType to, const std::vector<std::string>& names = {});

bool FilesEqual(const std::string& a, const std::string& b);
bool FileExists(const std::string& path);
// Names in `dir` (no . / ..).
std::vector<std::string> ListDir(const std::string& dir);

// Rewrites the model at `in` as a split model `<prefix>-0000i-of-0000n.gguf`
// with at most `max_tensors_per_shard` tensors per shard (our GgufSplitWriter);
// returns the shard paths in order.
absl::StatusOr<std::vector<std::string>> WriteSplitCopy(const std::string& in,
                                                        const std::string& prefix,
                                                        int64_t max_tensors_per_shard);

}  // namespace ggufkit::stream::testing

#endif  // GGUFKIT_TESTS_STREAM_TOOL_TEST_UTIL_H_
