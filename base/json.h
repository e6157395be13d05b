// The one JSON text writer of the project: every --json output and every JSON
// header (safetensors) quotes its strings here, so all of them escape the same
// way and always parse, whatever bytes a hostile file puts in a name.
#ifndef GGUFKIT_BASE_JSON_H_
#define GGUFKIT_BASE_JSON_H_

#include <string>

#include "absl/strings/string_view.h"

namespace ggufkit {

// Appends `s` as a JSON string literal (with the quotes). '"' and '\\' are
// escaped, control characters become \n, \r, \t or \u00XX, well-formed UTF-8
// is copied, and every byte that is not part of a well-formed UTF-8 sequence
// (overlong forms, surrogates, truncated sequences, > U+10FFFF) becomes
// U+FFFD, so the output is valid JSON for any input.
void AppendJsonString(std::string* out, absl::string_view s);
std::string JsonString(absl::string_view s);

// A JSON number for `v`, shortest round-trip form (%.17g); JSON has no NaN or
// infinity, so those become the strings "nan", "inf", "-inf".
std::string JsonNumber(double v);

// Length of the well-formed UTF-8 sequence starting at s[i], 0 if invalid.
size_t Utf8SequenceLength(absl::string_view s, size_t i);

}  // namespace ggufkit

#endif  // GGUFKIT_BASE_JSON_H_
