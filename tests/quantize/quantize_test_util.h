// Helpers for the gguf-quantize tests: the golden inputs regenerated from
// their headers (tests/data/llama-quantize, see
// scripts/make_quantize_test_data.py), the reference runs, SHA-256.
#ifndef GGUFKIT_TESTS_QUANTIZE_QUANTIZE_TEST_UTIL_H_
#define GGUFKIT_TESTS_QUANTIZE_QUANTIZE_TEST_UTIL_H_

#include <cstdint>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ggufkit::quantize::testing {

std::string Sha256Hex(const void* data, size_t n);
// SHA-256 of a file's bytes (streamed); "" if it cannot be read.
std::string Sha256File(const std::string& path);

// tests/data/llama-quantize
std::string QuantizeDataDir();
// Decompresses a .zst file of the data folder.
absl::StatusOr<std::vector<uint8_t>> ReadZstFile(const std::string& path);

// One reference run of llama-quantize.
struct ReferenceRun {
  std::string label;
  int exit_status = 0;
  std::string file_sha256;
  uint64_t file_size = 0;
  std::string error_phrase;
  std::vector<std::string> args;  // after "llama-quantize"
  std::string input() const;      // IN (the first positional)
  std::string output() const;     // OUT
};
// gtest prints a run as its label.
inline void PrintTo(const ReferenceRun& run, std::ostream* os) { *os << run.label; }
std::vector<ReferenceRun> LoadReferenceRuns();
// label -> [(tensor, type)] in output order, for every successful run.
std::map<std::string, std::vector<std::pair<std::string, std::string>>> LoadReferenceTypes();

// A folder holding the three golden inputs (regenerated, checked against
// their sha256) and the two imatrix files, made once per process. On a
// platform whose std::normal_distribution differs from libstdc++'s the inputs
// cannot be regenerated: returns "" and sets *skip.
std::string GoldenWorkDir(std::string* skip);

}  // namespace ggufkit::quantize::testing

#endif  // GGUFKIT_TESTS_QUANTIZE_QUANTIZE_TEST_UTIL_H_
