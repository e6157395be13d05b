// The one parser for byte sizes on every command line and in every option
// struct (--chunk-size, --budget, --weights-bytes, ...), with one meaning of
// each unit, as GNU coreutils reads them:
//   K, KiB = 1024        KB = 1000         (case-insensitive; "B" optional)
//   M, MiB = 1024^2      MB = 1000^2
//   G, GiB = 1024^3      GB = 1000^3
//   T, TiB = 1024^4      TB = 1000^4
// A plain number is bytes. A decimal fraction is allowed ("4.5GB", "1.5GiB")
// and the result is rounded down to whole bytes.
#ifndef GGUFKIT_BASE_BYTE_SIZE_H_
#define GGUFKIT_BASE_BYTE_SIZE_H_

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ggufkit {

// The text for --help of any option that takes a size.
inline constexpr const char kByteSizeHelp[] =
    "bytes, or a number with a unit: K/KiB=1024, M/MiB=1024^2, G/GiB=1024^3, "
    "T/TiB=1024^4; KB=1000, MB=10^6, GB=10^9, TB=10^12";

// Errors: empty or malformed text, an unknown unit, a negative value, or a
// size of 2^63 bytes or more.
absl::StatusOr<uint64_t> ParseByteSize(absl::string_view text);

}  // namespace ggufkit

#endif  // GGUFKIT_BASE_BYTE_SIZE_H_
