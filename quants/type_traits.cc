#include "ggufkit/quants/type_traits.h"

#include <array>
#include <cctype>
#include <limits>
#include <string>

#include "absl/strings/str_cat.h"
#include "ggufkit/quants/block_fields.h"
#include "ggufkit/quants/block_fp4.h"
#include "ggufkit/quants/block_iq.h"
#include "ggufkit/quants/block_k.h"
#include "ggufkit/quants/block_legacy.h"
#include "ggufkit/quants/block_q1_q2.h"
#include "ggufkit/quants/block_ternary.h"
#include "ggufkit/quants/codec_registry.h"

namespace ggufkit {
namespace {

constexpr TypeKind kF = TypeKind::kFloat;
constexpr TypeKind kI = TypeKind::kInteger;
constexpr TypeKind kQ = TypeKind::kQuantized;

// Sizes from ggml's type table (ggml-common.h block structs, ggml 0.21.0);
// fields from the tables beside our block structs (quants/block_*.h).
constexpr TypeTraits kTypeTable[] = {
    {GgmlType::kF32, "f32", 1, 4, kF, kF32Fields},
    {GgmlType::kF16, "f16", 1, 2, kF, kF16Fields},
    {GgmlType::kQ4_0, "q4_0", 32, 18, kQ, kBlockQ4_0Fields},
    {GgmlType::kQ4_1, "q4_1", 32, 20, kQ, kBlockQ4_1Fields},
    {GgmlType::kQ5_0, "q5_0", 32, 22, kQ, kBlockQ5_0Fields},
    {GgmlType::kQ5_1, "q5_1", 32, 24, kQ, kBlockQ5_1Fields},
    {GgmlType::kQ8_0, "q8_0", 32, 34, kQ, kBlockQ8_0Fields},
    {GgmlType::kQ8_1, "q8_1", 32, 36, kQ, kBlockQ8_1Fields},
    {GgmlType::kQ2_K, "q2_K", 256, 84, kQ, kBlockQ2_KFields},
    {GgmlType::kQ3_K, "q3_K", 256, 110, kQ, kBlockQ3_KFields},
    {GgmlType::kQ4_K, "q4_K", 256, 144, kQ, kBlockQ4_KFields},
    {GgmlType::kQ5_K, "q5_K", 256, 176, kQ, kBlockQ5_KFields},
    {GgmlType::kQ6_K, "q6_K", 256, 210, kQ, kBlockQ6_KFields},
    {GgmlType::kQ8_K, "q8_K", 256, 292, kQ, kBlockQ8_KFields},
    {GgmlType::kIQ2_XXS, "iq2_xxs", 256, 66, kQ, kBlockIq2XxsFields},
    {GgmlType::kIQ2_XS, "iq2_xs", 256, 74, kQ, kBlockIq2XsFields},
    {GgmlType::kIQ3_XXS, "iq3_xxs", 256, 98, kQ, kBlockIq3XxsFields},
    {GgmlType::kIQ1_S, "iq1_s", 256, 50, kQ, kBlockIq1SFields},
    {GgmlType::kIQ4_NL, "iq4_nl", 32, 18, kQ, kBlockIq4NlFields},
    {GgmlType::kIQ3_S, "iq3_s", 256, 110, kQ, kBlockIq3SFields},
    {GgmlType::kIQ2_S, "iq2_s", 256, 82, kQ, kBlockIq2SFields},
    {GgmlType::kIQ4_XS, "iq4_xs", 256, 136, kQ, kBlockIq4XsFields},
    {GgmlType::kI8, "i8", 1, 1, kI, kI8Fields},
    {GgmlType::kI16, "i16", 1, 2, kI, kI16Fields},
    {GgmlType::kI32, "i32", 1, 4, kI, kI32Fields},
    {GgmlType::kI64, "i64", 1, 8, kI, kI64Fields},
    {GgmlType::kF64, "f64", 1, 8, kF, kF64Fields},
    {GgmlType::kIQ1_M, "iq1_m", 256, 56, kQ, kBlockIq1MFields},
    {GgmlType::kBF16, "bf16", 1, 2, kF, kBF16Fields},
    {GgmlType::kTQ1_0, "tq1_0", 256, 54, kQ, kBlockTq1_0Fields},
    {GgmlType::kTQ2_0, "tq2_0", 256, 66, kQ, kBlockTq2_0Fields},
    {GgmlType::kMXFP4, "mxfp4", 32, 17, kQ, kBlockMxfp4Fields},
    {GgmlType::kNVFP4, "nvfp4", 64, 36, kQ, kBlockNvfp4Fields},
    {GgmlType::kQ1_0, "q1_0", 128, 18, kQ, kBlockQ1_0Fields},
    {GgmlType::kQ2_0, "q2_0", 64, 18, kQ, kBlockQ2_0Fields},
};

// Every row's fields cover its block exactly (a new type cannot be added
// without its field table).
constexpr bool AllFieldsTileTheirBlocks() {
  for (const TypeTraits& t : kTypeTable) {
    if (!FieldsTileBlock(t.fields, static_cast<size_t>(t.type_size))) return false;
  }
  return true;
}
static_assert(AllFieldsTileTheirBlocks(), "a kTypeTable row's fields do not cover its block");

// id -> index into kTypeTable, -1 for unknown/removed ids.
constexpr std::array<int8_t, kGgmlTypeIdLimit> BuildIndex() {
  std::array<int8_t, kGgmlTypeIdLimit> index{};
  for (auto& i : index) i = -1;
  for (size_t i = 0; i < sizeof(kTypeTable) / sizeof(kTypeTable[0]); ++i) {
    index[static_cast<uint32_t>(kTypeTable[i].type)] = static_cast<int8_t>(i);
  }
  return index;
}
constexpr std::array<int8_t, kGgmlTypeIdLimit> kIndex = BuildIndex();

const internal::CodecTable& Codecs() {
  static const internal::CodecTable* table = [] {
    auto* t = new internal::CodecTable();
    internal::RegisterBasicCodecs(*t);
    internal::RegisterExtraCodecs(*t);
    return t;
  }();
  return *table;
}

}  // namespace

const TypeTraits* FindTypeTraits(uint32_t id) {
  if (id >= kGgmlTypeIdLimit || kIndex[id] < 0) return nullptr;
  return &kTypeTable[kIndex[id]];
}

const TypeTraits& GetTypeTraits(GgmlType type) {
  return kTypeTable[kIndex[static_cast<uint32_t>(type)]];
}

TypeTraitsRange AllTypeTraits() {
  return {kTypeTable, kTypeTable + sizeof(kTypeTable) / sizeof(kTypeTable[0])};
}

absl::StatusOr<GgmlType> ParseGgmlType(absl::string_view name) {
  std::string lower(name);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "fp32") lower = "f32";
  if (lower == "fp16") lower = "f16";
  for (const TypeTraits& t : AllTypeTraits()) {
    std::string tn(t.name);
    for (char& c : tn) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (tn == lower) return t.type;
  }
  return absl::InvalidArgumentError(absl::StrCat("unknown ggml type name '", name, "'"));
}

absl::StatusOr<int64_t> RowSizeBytes(GgmlType type, int64_t n_elements) {
  const TypeTraits& t = GetTypeTraits(type);
  if (n_elements < 0) {
    return absl::InvalidArgumentError(absl::StrCat("negative element count ", n_elements));
  }
  if (n_elements % t.block_size != 0) {
    return absl::InvalidArgumentError(absl::StrCat(n_elements, " elements of ", t.name,
                                                   " are not a whole number of ", t.block_size,
                                                   "-element blocks"));
  }
  const int64_t blocks = n_elements / t.block_size;
  if (blocks > std::numeric_limits<int64_t>::max() / t.type_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(n_elements, " elements of ", t.name, " overflow a 64-bit byte count"));
  }
  return blocks * t.type_size;
}

const ReferenceCodec& GetReferenceCodec(GgmlType type) {
  return Codecs()[static_cast<uint32_t>(type)];
}

}  // namespace ggufkit
