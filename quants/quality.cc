#include "ggufkit/quants/quality.h"

#include <cmath>
#include <limits>

#include "Eigen/Core"
#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"

namespace ggufkit {

absl::StatusOr<QualityReport> CompareRows(absl::Span<const float> source,
                                          absl::Span<const float> reconstructed) {
  GGUFKIT_RETURN_ERROR_IF(source.size() != reconstructed.size(), "source has ", source.size(),
                          " elements but the reconstruction has ", reconstructed.size());
  GGUFKIT_RETURN_ERROR_IF(source.empty(), "cannot compare empty rows");
  const Eigen::Index n = static_cast<Eigen::Index>(source.size());
  // Double accumulation: a 4096-wide row of float errors near 1e-3 would lose
  // digits summed in float.
  const Eigen::VectorXd x = Eigen::Map<const Eigen::VectorXf>(source.data(), n).cast<double>();
  const Eigen::VectorXd y =
      Eigen::Map<const Eigen::VectorXf>(reconstructed.data(), n).cast<double>();
  const Eigen::VectorXd err = y - x;

  QualityReport r;
  r.n = n;
  const double err2 = err.squaredNorm();
  const double x2 = x.squaredNorm();
  const double y2 = y.squaredNorm();
  r.rmse = std::sqrt(err2 / static_cast<double>(n));
  r.max_abs_error = err.cwiseAbs().maxCoeff();
  if (std::isnan(err2)) r.max_abs_error = std::numeric_limits<double>::quiet_NaN();
  if (x2 == 0 && y2 == 0) {
    r.cosine_similarity = 1.0;
  } else if (x2 == 0 || y2 == 0) {
    r.cosine_similarity = 0.0;
  } else {
    r.cosine_similarity = x.dot(y) / (std::sqrt(x2) * std::sqrt(y2));
  }
  if (err2 == 0) {
    r.snr_db = std::numeric_limits<double>::infinity();
  } else if (x2 == 0) {
    r.snr_db = -std::numeric_limits<double>::infinity();
  } else {
    r.snr_db = 10.0 * std::log10(x2 / err2);
  }
  return r;
}

}  // namespace ggufkit
