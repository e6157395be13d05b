// gguf-compare as a library: how far apart are two models, tensor by tensor?
//
//   verify::CompareOptions options;
//   absl::StatusOr<verify::CompareReport> r =
//       verify::CompareModels("model-f16.gguf", "model-Q4_K_M.gguf", options);
//
// A and B are GGUF files (any tensor types, single or split; not big-endian
// or compressed: pairs are read at random) or safetensors files (as
// gguf-dequant writes them, or as Hugging Face does, also sharded). Tensors are paired by
// name (after the --map renames of A's names), shapes must agree (GGUF's ne
// is safetensors' shape reversed; trailing 1s are ignored), and each pair is
// dequantized to f32 in chunks of 64 Ki elements and reduced in double
// precision:
//   max|a-b|, RMSE = sqrt(mean (a-b)^2), NMSE = sum (a-b)^2 / sum a^2,
//   cosine = sum ab / sqrt(sum a^2 sum b^2), SNR dB = 10 log10(sum a^2 /
//   sum (a-b)^2), identical = share of elements whose f32 bit patterns are
//   equal. Elements where a or b is NaN or infinite are counted apart and
//   left out of the sums.
// Totals per type pair ("f16 -> q4_K") and for the model add the sums over
// their tensors (element-weighted). Metadata: keys in only one file and values
// that differ (GGUF values compared typed; against safetensors as the strings
// gguf-dequant stores in __metadata__).
// Memory: per thread two chunk buffers (512 KiB) plus dequantization scratch;
// pairs run on `threads` threads, each pair on one, so results do not depend
// on the thread count.
#ifndef GGUFKIT_VERIFY_COMPARE_H_
#define GGUFKIT_VERIFY_COMPARE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ggufkit::verify {

// Sums over the elements of one tensor pair (or several).
struct PairSums {
  uint64_t elements = 0;   // compared (both finite)
  uint64_t nonfinite = 0;  // a or b NaN / infinite: left out
  uint64_t identical = 0;  // same f32 bits (non-finite ones included)
  double max_abs = 0;
  double sse = 0;  // sum (a-b)^2
  double saa = 0;  // sum a^2
  double sbb = 0;  // sum b^2
  double sab = 0;  // sum a*b

  void Add(const PairSums& o);
  double rmse() const;
  // sse / saa; 0 when both are 0, infinity when only saa is.
  double nmse() const;
  // 1 when both vectors are zero, 0 when exactly one is.
  double cosine() const;
  // 10 log10(saa / sse); +infinity when sse is 0.
  double snr_db() const;
  // identical / (elements + nonfinite).
  double identical_share() const;
};

// Sums of one chunk: a[i], b[i] for i < n.
PairSums ComparePair(const float* a, const float* b, int64_t n);

struct TensorComparison {
  std::string name_a, name_b;
  std::string type_a, type_b;  // ggml type names or safetensors dtypes
  std::string shape_a, shape_b;
  bool shape_match = false;
  std::string error;  // a read error, or the shape mismatch
  PairSums sums;
};

struct MetadataDifference {
  std::string key;
  std::string value_a, value_b;  // rendered (long values shortened)
};

struct TypeTotals {
  std::string types;  // "f16 -> q4_K"
  size_t tensors = 0;
  PairSums sums;
};

struct CompareReport {
  std::string file_a, file_b;
  std::string format_a, format_b;       // "gguf" / "safetensors"
  std::vector<TensorComparison> pairs;  // A's order
  std::vector<std::string> only_in_a, only_in_b;
  std::vector<std::string> keys_only_in_a, keys_only_in_b;
  std::vector<MetadataDifference> metadata_differences;
  std::vector<TypeTotals> per_type;  // first appearance order
  TypeTotals model;
  // Pairs with a shape mismatch or a read error.
  size_t failed_pairs() const;
};

struct CompareProgress {
  std::string tensor;  // A's name of the pair just compared
  size_t pairs_done = 0;
  size_t pairs_total = 0;
  uint64_t elements_done = 0;
  uint64_t elements_total = 0;
};

struct CompareOptions {
  // ECMAScript regex searched in tensor names (A's, and B's for only_in_b).
  std::string tensor_regex;
  // Renames: lines "NAME_IN_A NAME_IN_B" ('#' starts a comment).
  std::string map_file;
  int threads = 0;  // 0: all cores
  std::function<void(const CompareProgress&)> progress;
};

// Errors: a file that cannot be opened or parsed, a bad regex or map file.
// Per-pair problems are in the report.
absl::StatusOr<CompareReport> CompareModels(const std::string& a, const std::string& b,
                                            const CompareOptions& options);

// Human-readable report (a line per tensor, totals, the metadata view).
std::string CompareText(const CompareReport& report);
std::string CompareJson(const CompareReport& report);

}  // namespace ggufkit::verify

#endif  // GGUFKIT_VERIFY_COMPARE_H_
