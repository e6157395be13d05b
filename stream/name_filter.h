// Tensor selection by regular expression (gguf-dequant --tensors).
#ifndef GGUFKIT_TOOLS_STREAM_NAME_FILTER_H_
#define GGUFKIT_TOOLS_STREAM_NAME_FILTER_H_

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace ggufkit::stream {

// Sets (*matches)[i] to whether the ECMAScript regular expression `pattern`
// is found anywhere in names[i] (std::regex_search; anchor with ^...$). An
// invalid pattern is InvalidArgument quoting it.
absl::Status MatchNames(const std::string& pattern, const std::vector<std::string>& names,
                        std::vector<bool>* matches);

}  // namespace ggufkit::stream

#endif  // GGUFKIT_TOOLS_STREAM_NAME_FILTER_H_
