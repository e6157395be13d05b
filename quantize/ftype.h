// llama.cpp's "file types" (llama_ftype): the names gguf-quantize accepts as
// TYPE, their numeric ids (as stored in general.file_type) and the default
// tensor type of each mix.
#ifndef GGUFKIT_QUANTIZE_FTYPE_H_
#define GGUFKIT_QUANTIZE_FTYPE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit::quantize {

// llama_ftype ids (llama.h of the TurboQuant fork at 69d8e4be).
enum class Ftype : uint32_t {
  kAllF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ8_0 = 7,
  kQ5_0 = 8,
  kQ5_1 = 9,
  kQ2_K = 10,
  kQ3_K_S = 11,
  kQ3_K_M = 12,
  kQ3_K_L = 13,
  kQ4_K_S = 14,
  kQ4_K_M = 15,
  kQ5_K_S = 16,
  kQ5_K_M = 17,
  kQ6_K = 18,
  kIQ2_XXS = 19,
  kIQ2_XS = 20,
  kQ2_K_S = 21,
  kIQ3_XS = 22,
  kIQ3_XXS = 23,
  kIQ1_S = 24,
  kIQ4_NL = 25,
  kIQ3_S = 26,
  kIQ3_M = 27,
  kIQ2_S = 28,
  kIQ2_M = 29,
  kIQ4_XS = 30,
  kIQ1_M = 31,
  kBF16 = 32,
  kTQ1_0 = 36,
  kTQ2_0 = 37,
  kMXFP4_MOE = 38,
  kQ1_0 = 40,
  kTQ3_1S = 43,  // fork-only types: accepted as names, refused (no ggml type here)
  kTQ4_1S = 44,
};

struct FtypeInfo {
  absl::string_view name;  // llama-quantize's spelling ("Q4_K_M", "COPY")
  Ftype ftype;
  bool copy_only;  // COPY: no tensor is quantized
};

// The accepted names in llama-quantize's order (aliases Q3_K, Q4_K, Q5_K and
// COPY included).
const std::vector<FtypeInfo>& AllFtypes();

// llama-quantize's rule: a case-insensitive name, else a decimal id (leading
// digits, as std::stoi reads them) of a listed ftype. NotFound otherwise.
absl::StatusOr<FtypeInfo> ParseFtype(absl::string_view text);

// The name of an ftype id (first listed name; "" when unknown).
absl::string_view FtypeName(Ftype ftype);

// The default tensor type of a mix (llama_ftype_get_default_type); nullopt
// for ftypes without one here (the fork-only TQ3_1S / TQ4_1S).
std::optional<GgmlType> FtypeDefaultType(Ftype ftype);

// The ftype llama.cpp's loader would report for a file whose tensors are
// mostly `type` (F32 -> ALL_F32, Q4_K -> Q4_K_M, ...); nullopt when none.
std::optional<Ftype> FtypeOfMostlyType(GgmlType type);

}  // namespace ggufkit::quantize

#endif  // GGUFKIT_QUANTIZE_FTYPE_H_
