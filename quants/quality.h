// How close a reconstructed (dequantized) row is to its source: the numbers
// every quantization report shows. Used by tests and by the tools.
#ifndef GGUFKIT_QUANTS_QUALITY_H_
#define GGUFKIT_QUANTS_QUALITY_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ggufkit {

struct QualityReport {
  int64_t n = 0;
  // sqrt(mean((y - x)^2))
  double rmse = 0;
  // max |y - x|
  double max_abs_error = 0;
  // <x, y> / (|x| |y|); 1 when both are all zero, 0 when only one is.
  double cosine_similarity = 0;
  // 10 log10(sum x^2 / sum (y - x)^2) in dB; +inf for an exact
  // reconstruction, -inf when x is all zero and y is not.
  double snr_db = 0;
};

// Compares `reconstructed` with `source` (same length, at least one
// element), accumulating in double. NaN anywhere makes the affected figures
// NaN. Errors: length mismatch or empty input (InvalidArgument).
absl::StatusOr<QualityReport> CompareRows(absl::Span<const float> source,
                                          absl::Span<const float> reconstructed);

}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_QUALITY_H_
