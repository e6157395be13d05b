#include "ggufkit/quantize/ftype.h"

#include <cctype>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace ggufkit::quantize {

const std::vector<FtypeInfo>& AllFtypes() {
  static const std::vector<FtypeInfo>* const kList = new std::vector<FtypeInfo>{
      {"Q1_0", Ftype::kQ1_0, false},       {"Q4_0", Ftype::kQ4_0, false},
      {"Q4_1", Ftype::kQ4_1, false},       {"MXFP4_MOE", Ftype::kMXFP4_MOE, false},
      {"Q5_0", Ftype::kQ5_0, false},       {"Q5_1", Ftype::kQ5_1, false},
      {"IQ2_XXS", Ftype::kIQ2_XXS, false}, {"IQ2_XS", Ftype::kIQ2_XS, false},
      {"IQ2_S", Ftype::kIQ2_S, false},     {"IQ2_M", Ftype::kIQ2_M, false},
      {"IQ1_S", Ftype::kIQ1_S, false},     {"IQ1_M", Ftype::kIQ1_M, false},
      {"TQ1_0", Ftype::kTQ1_0, false},     {"TQ2_0", Ftype::kTQ2_0, false},
      {"TQ3_1S", Ftype::kTQ3_1S, false},   {"TQ4_1S", Ftype::kTQ4_1S, false},
      {"Q2_K", Ftype::kQ2_K, false},       {"Q2_K_S", Ftype::kQ2_K_S, false},
      {"IQ3_XXS", Ftype::kIQ3_XXS, false}, {"IQ3_S", Ftype::kIQ3_S, false},
      {"IQ3_M", Ftype::kIQ3_M, false},     {"Q3_K", Ftype::kQ3_K_M, false},
      {"IQ3_XS", Ftype::kIQ3_XS, false},   {"Q3_K_S", Ftype::kQ3_K_S, false},
      {"Q3_K_M", Ftype::kQ3_K_M, false},   {"Q3_K_L", Ftype::kQ3_K_L, false},
      {"IQ4_NL", Ftype::kIQ4_NL, false},   {"IQ4_XS", Ftype::kIQ4_XS, false},
      {"Q4_K", Ftype::kQ4_K_M, false},     {"Q4_K_S", Ftype::kQ4_K_S, false},
      {"Q4_K_M", Ftype::kQ4_K_M, false},   {"Q5_K", Ftype::kQ5_K_M, false},
      {"Q5_K_S", Ftype::kQ5_K_S, false},   {"Q5_K_M", Ftype::kQ5_K_M, false},
      {"Q6_K", Ftype::kQ6_K, false},       {"Q8_0", Ftype::kQ8_0, false},
      {"F16", Ftype::kF16, false},         {"BF16", Ftype::kBF16, false},
      {"F32", Ftype::kAllF32, false},      {"COPY", Ftype::kAllF32, true},
  };
  return *kList;
}

absl::StatusOr<FtypeInfo> ParseFtype(absl::string_view text) {
  for (const FtypeInfo& f : AllFtypes()) {
    if (absl::EqualsIgnoreCase(f.name, text)) return f;
  }
  // std::stoi: optional whitespace and sign, then at least one digit.
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  bool negative = false;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) negative = text[i++] == '-';
  int64_t value = 0;
  size_t digits = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && digits < 10) {
    value = value * 10 + (text[i++] - '0');
    ++digits;
  }
  if (digits > 0 && !negative) {
    for (const FtypeInfo& f : AllFtypes()) {
      if (!f.copy_only && static_cast<int64_t>(f.ftype) == value) return f;
    }
  }
  return absl::NotFoundError(absl::StrCat("invalid ftype '", text, "'"));
}

absl::string_view FtypeName(Ftype ftype) {
  for (const FtypeInfo& f : AllFtypes()) {
    if (f.ftype == ftype && !f.copy_only) return f.name;
  }
  return "";
}

std::optional<GgmlType> FtypeDefaultType(Ftype ftype) {
  switch (ftype) {
    case Ftype::kAllF32:
      return GgmlType::kF32;
    case Ftype::kF16:
      return GgmlType::kF16;
    case Ftype::kBF16:
      return GgmlType::kBF16;
    case Ftype::kQ4_0:
      return GgmlType::kQ4_0;
    case Ftype::kQ4_1:
      return GgmlType::kQ4_1;
    case Ftype::kQ5_0:
      return GgmlType::kQ5_0;
    case Ftype::kQ5_1:
      return GgmlType::kQ5_1;
    case Ftype::kQ8_0:
      return GgmlType::kQ8_0;
    case Ftype::kQ1_0:
      return GgmlType::kQ1_0;
    case Ftype::kMXFP4_MOE:
      return GgmlType::kMXFP4;
    case Ftype::kQ2_K:
    case Ftype::kQ2_K_S:
      return GgmlType::kQ2_K;
    case Ftype::kIQ3_XS:
      return GgmlType::kIQ3_S;
    case Ftype::kQ3_K_S:
    case Ftype::kQ3_K_M:
    case Ftype::kQ3_K_L:
      return GgmlType::kQ3_K;
    case Ftype::kQ4_K_S:
    case Ftype::kQ4_K_M:
      return GgmlType::kQ4_K;
    case Ftype::kQ5_K_S:
    case Ftype::kQ5_K_M:
      return GgmlType::kQ5_K;
    case Ftype::kQ6_K:
      return GgmlType::kQ6_K;
    case Ftype::kTQ1_0:
      return GgmlType::kTQ1_0;
    case Ftype::kTQ2_0:
      return GgmlType::kTQ2_0;
    case Ftype::kIQ2_XXS:
      return GgmlType::kIQ2_XXS;
    case Ftype::kIQ2_XS:
    case Ftype::kIQ2_S:
      return GgmlType::kIQ2_XS;
    case Ftype::kIQ2_M:
      return GgmlType::kIQ2_S;
    case Ftype::kIQ3_XXS:
      return GgmlType::kIQ3_XXS;
    case Ftype::kIQ1_S:
      return GgmlType::kIQ1_S;
    case Ftype::kIQ1_M:
      return GgmlType::kIQ1_M;
    case Ftype::kIQ4_NL:
      return GgmlType::kIQ4_NL;
    case Ftype::kIQ4_XS:
      return GgmlType::kIQ4_XS;
    case Ftype::kIQ3_S:
    case Ftype::kIQ3_M:
      return GgmlType::kIQ3_S;
    case Ftype::kTQ3_1S:
    case Ftype::kTQ4_1S:
      return std::nullopt;
  }
  return std::nullopt;
}

std::optional<Ftype> FtypeOfMostlyType(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
      return Ftype::kAllF32;
    case GgmlType::kF16:
      return Ftype::kF16;
    case GgmlType::kBF16:
      return Ftype::kBF16;
    case GgmlType::kQ4_0:
      return Ftype::kQ4_0;
    case GgmlType::kQ4_1:
      return Ftype::kQ4_1;
    case GgmlType::kQ5_0:
      return Ftype::kQ5_0;
    case GgmlType::kQ5_1:
      return Ftype::kQ5_1;
    case GgmlType::kQ8_0:
      return Ftype::kQ8_0;
    case GgmlType::kQ2_K:
      return Ftype::kQ2_K;
    case GgmlType::kQ3_K:
      return Ftype::kQ3_K_M;
    case GgmlType::kQ4_K:
      return Ftype::kQ4_K_M;
    case GgmlType::kQ5_K:
      return Ftype::kQ5_K_M;
    case GgmlType::kQ6_K:
      return Ftype::kQ6_K;
    case GgmlType::kTQ1_0:
      return Ftype::kTQ1_0;
    case GgmlType::kTQ2_0:
      return Ftype::kTQ2_0;
    case GgmlType::kIQ2_XXS:
      return Ftype::kIQ2_XXS;
    case GgmlType::kIQ2_XS:
      return Ftype::kIQ2_XS;
    case GgmlType::kIQ2_S:
      return Ftype::kIQ2_S;
    case GgmlType::kIQ3_XXS:
      return Ftype::kIQ3_XXS;
    case GgmlType::kIQ1_S:
      return Ftype::kIQ1_S;
    case GgmlType::kIQ1_M:
      return Ftype::kIQ1_M;
    case GgmlType::kIQ4_NL:
      return Ftype::kIQ4_NL;
    case GgmlType::kIQ4_XS:
      return Ftype::kIQ4_XS;
    case GgmlType::kIQ3_S:
      return Ftype::kIQ3_S;
    case GgmlType::kMXFP4:
      return Ftype::kMXFP4_MOE;
    case GgmlType::kQ1_0:
      return Ftype::kQ1_0;
    default:
      return std::nullopt;
  }
}

}  // namespace ggufkit::quantize
