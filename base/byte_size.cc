#include "ggufkit/base/byte_size.h"

#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ggufkit {

absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text) {
  const absl::string_view s = absl::StripAsciiWhitespace(text);
  size_t split = 0;
  bool dot = false;
  while (split < s.size()) {
    const char c = s[split];
    if (c == '.' && !dot) {
      dot = true;
    } else if (!std::isdigit(static_cast<unsigned char>(c))) {
      break;
    }
    ++split;
  }
  const absl::string_view number = s.substr(0, split);
  const std::string unit = absl::AsciiStrToLower(absl::StripAsciiWhitespace(s.substr(split)));
  if (number.empty() || number == ".") {
    return absl::InvalidArgumentError(
        absl::StrCat("'", text, "' is not a size (examples: 4096, 64K, 512MiB, 4GB)"));
  }
  uint64_t scale = 0;
  if (unit.empty() || unit == "b") {
    scale = 1;
  } else {
    static constexpr char kUnits[] = "kmgt";
    const char* u = unit.size() <= 3 ? std::strchr(kUnits, unit[0]) : nullptr;
    const std::string rest = unit.substr(1);
    if (u != nullptr && *u != '\0') {
      const int power = static_cast<int>(u - kUnits) + 1;
      const bool binary = rest.empty() || rest == "i" || rest == "ib";
      const bool decimal = rest == "b";
      if (binary || decimal) {
        scale = 1;
        for (int p = 0; p < power; ++p) scale *= binary ? 1024 : 1000;
      }
    }
  }
  if (scale == 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "size '", text, "' has an unknown unit (B, K/KiB, M/MiB, G/GiB, T/TiB, KB, MB, GB, TB)"));
  }
  const auto too_large = [&] {
    return absl::InvalidArgumentError(absl::StrCat("size '", text, "' is too large"));
  };
  constexpr uint64_t kLimit = uint64_t{1} << 63;
  if (!dot) {
    uint64_t value = 0;
    if (!absl::SimpleAtoi(number, &value)) return too_large();
    if (value != 0 && scale > (kLimit - 1) / value) return too_large();
    return value * scale;
  }
  double value = 0;
  if (!absl::SimpleAtod(number, &value) || !(value >= 0)) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not a size"));
  }
  const long double bytes = std::floor(static_cast<long double>(value) * scale);
  if (!(bytes < static_cast<long double>(kLimit))) return too_large();
  return static_cast<uint64_t>(bytes);
}

}  // namespace ggufkit
