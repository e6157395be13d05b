#include "ggufkit/quants/half_fields.h"

#include <cstddef>

#include "ggufkit/quants/block_iq.h"
#include "ggufkit/quants/block_k.h"
#include "ggufkit/quants/block_legacy.h"
#include "ggufkit/quants/block_q1_q2.h"
#include "ggufkit/quants/block_ternary.h"

namespace ggufkit {
namespace {

template <typename Block>
constexpr uint16_t Off(size_t offset) {
  static_assert(sizeof(Block) > 0, "complete block type");
  return static_cast<uint16_t>(offset);
}

#define GGUFKIT_HALF_AT(Block, field) Off<Block>(offsetof(Block, field))

constexpr uint16_t kQ4_0[] = {GGUFKIT_HALF_AT(BlockQ4_0, d)};
constexpr uint16_t kQ4_1[] = {GGUFKIT_HALF_AT(BlockQ4_1, d), GGUFKIT_HALF_AT(BlockQ4_1, m)};
constexpr uint16_t kQ5_0[] = {GGUFKIT_HALF_AT(BlockQ5_0, d)};
constexpr uint16_t kQ5_1[] = {GGUFKIT_HALF_AT(BlockQ5_1, d), GGUFKIT_HALF_AT(BlockQ5_1, m)};
constexpr uint16_t kQ8_0[] = {GGUFKIT_HALF_AT(BlockQ8_0, d)};
constexpr uint16_t kQ8_1[] = {GGUFKIT_HALF_AT(BlockQ8_1, d), GGUFKIT_HALF_AT(BlockQ8_1, s)};
constexpr uint16_t kQ2_K[] = {GGUFKIT_HALF_AT(BlockQ2_K, d), GGUFKIT_HALF_AT(BlockQ2_K, dmin)};
constexpr uint16_t kQ3_K[] = {GGUFKIT_HALF_AT(BlockQ3_K, d)};
constexpr uint16_t kQ4_K[] = {GGUFKIT_HALF_AT(BlockQ4_K, d), GGUFKIT_HALF_AT(BlockQ4_K, dmin)};
constexpr uint16_t kQ5_K[] = {GGUFKIT_HALF_AT(BlockQ5_K, d), GGUFKIT_HALF_AT(BlockQ5_K, dmin)};
constexpr uint16_t kQ6_K[] = {GGUFKIT_HALF_AT(BlockQ6_K, d)};
constexpr uint16_t kIq2Xxs[] = {GGUFKIT_HALF_AT(BlockIq2Xxs, d)};
constexpr uint16_t kIq2Xs[] = {GGUFKIT_HALF_AT(BlockIq2Xs, d)};
constexpr uint16_t kIq2S[] = {GGUFKIT_HALF_AT(BlockIq2S, d)};
constexpr uint16_t kIq3Xxs[] = {GGUFKIT_HALF_AT(BlockIq3Xxs, d)};
constexpr uint16_t kIq3S[] = {GGUFKIT_HALF_AT(BlockIq3S, d)};
constexpr uint16_t kIq1S[] = {GGUFKIT_HALF_AT(BlockIq1S, d)};
constexpr uint16_t kIq4Nl[] = {GGUFKIT_HALF_AT(BlockIq4Nl, d)};
constexpr uint16_t kIq4Xs[] = {GGUFKIT_HALF_AT(BlockIq4Xs, d)};
constexpr uint16_t kTq1_0[] = {GGUFKIT_HALF_AT(BlockTq1_0, d)};
constexpr uint16_t kTq2_0[] = {GGUFKIT_HALF_AT(BlockTq2_0, d)};
constexpr uint16_t kQ1_0[] = {GGUFKIT_HALF_AT(BlockQ1_0, d)};
constexpr uint16_t kQ2_0[] = {GGUFKIT_HALF_AT(BlockQ2_0, d)};

#undef GGUFKIT_HALF_AT

}  // namespace

absl::Span<const uint16_t> HalfFieldOffsets(GgmlType type) {
  switch (type) {
    case GgmlType::kQ4_0:
      return kQ4_0;
    case GgmlType::kQ4_1:
      return kQ4_1;
    case GgmlType::kQ5_0:
      return kQ5_0;
    case GgmlType::kQ5_1:
      return kQ5_1;
    case GgmlType::kQ8_0:
      return kQ8_0;
    case GgmlType::kQ8_1:
      return kQ8_1;
    case GgmlType::kQ2_K:
      return kQ2_K;
    case GgmlType::kQ3_K:
      return kQ3_K;
    case GgmlType::kQ4_K:
      return kQ4_K;
    case GgmlType::kQ5_K:
      return kQ5_K;
    case GgmlType::kQ6_K:
      return kQ6_K;
    case GgmlType::kIQ2_XXS:
      return kIq2Xxs;
    case GgmlType::kIQ2_XS:
      return kIq2Xs;
    case GgmlType::kIQ2_S:
      return kIq2S;
    case GgmlType::kIQ3_XXS:
      return kIq3Xxs;
    case GgmlType::kIQ3_S:
      return kIq3S;
    case GgmlType::kIQ1_S:
      return kIq1S;
    case GgmlType::kIQ4_NL:
      return kIq4Nl;
    case GgmlType::kIQ4_XS:
      return kIq4Xs;
    case GgmlType::kTQ1_0:
      return kTq1_0;
    case GgmlType::kTQ2_0:
      return kTq2_0;
    case GgmlType::kQ1_0:
      return kQ1_0;
    case GgmlType::kQ2_0:
      return kQ2_0;
    default:
      return {};
  }
}

}  // namespace ggufkit
