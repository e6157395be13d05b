// Importance matrices for quantization: llama-imatrix's GGUF format and the
// legacy binary ".dat" format, read into per-tensor column weights exactly as
// llama-quantize does (sums / counts, per expert for 3-D MoE tensors).
#ifndef GGUFKIT_QUANTIZE_IMATRIX_H_
#define GGUFKIT_QUANTIZE_IMATRIX_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace ggufkit::quantize {

struct Imatrix {
  // Tensor name -> weights: ne0 values per expert, experts one after another
  // (a 2-D tensor has one "expert").
  std::map<std::string, std::vector<float>> entries;
  std::vector<std::string> datasets;  // imatrix.datasets / the .dat trailer
  int chunk_count = 0;                // imatrix.chunk_count / .dat last call; 0 unknown
  bool legacy_format = false;
};

// Reads `path` (GGUF when it starts with "GGUF", else legacy). Errors name the
// file and the entry: truncated data, missing in_sum2/counts partners,
// missing imatrix.* keys, no entries.
absl::StatusOr<Imatrix> LoadImatrix(const std::string& path);

// Refuses non-finite values (llama-quantize's "imatrix contains non-finite
// value", checked after filtering as it does) and negative values
// (llama-quantize does not look; sums of squares cannot be negative, so
// ggufkit refuses them), naming the entry.
absl::Status CheckImatrixValues(const Imatrix& imatrix, const std::string& path);

// llama-quantize's --exclude-weights / --include-weights: entries whose name
// contains any excluded string are dropped; with includes, only entries whose
// name contains an included string are kept.
void FilterImatrix(Imatrix& imatrix, const std::vector<std::string>& include,
                   const std::vector<std::string>& exclude);

}  // namespace ggufkit::quantize

#endif  // GGUFKIT_QUANTIZE_IMATRIX_H_
