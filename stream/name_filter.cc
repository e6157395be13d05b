// GCC 12 reports false -Wmaybe-uninitialized inside libstdc++'s <regex>
// (std::function members of _State) at -O2 with sanitizers; std::regex is
// kept alone in this file so the suppression covers nothing of ours but it.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include "ggufkit/stream/name_filter.h"

#include <regex>

#include "absl/strings/str_cat.h"

namespace ggufkit::stream {

absl::Status MatchNames(const std::string& pattern, const std::vector<std::string>& names,
                        std::vector<bool>* matches) {
  std::regex re;
  try {
    re = std::regex(pattern, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return absl::InvalidArgumentError(
        absl::StrCat("bad tensor-name regular expression '", pattern, "': ", e.what()));
  }
  matches->assign(names.size(), false);
  for (size_t i = 0; i < names.size(); ++i) (*matches)[i] = std::regex_search(names[i], re);
  return absl::OkStatus();
}

}  // namespace ggufkit::stream
