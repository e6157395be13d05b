#include "quants/block_fields.h"

#include <array>
#include <cstddef>
#include <cstring>
#include <vector>

#include "quants/block_fp4.h"
#include "quants/block_iq.h"
#include "quants/block_k.h"
#include "quants/block_legacy.h"
#include "quants/block_q1_q2.h"
#include "quants/block_ternary.h"
#include "quants/half_fields.h"

namespace ggufkit {
namespace {

constexpr int KindBytes(FieldKind kind) {
  switch (kind) {
    case FieldKind::kBytes:
      return 1;
    case FieldKind::kFp16:
    case FieldKind::kBf16:
    case FieldKind::kU16:
    case FieldKind::kI16:
      return 2;
    case FieldKind::kF32:
    case FieldKind::kU32:
    case FieldKind::kI32:
      return 4;
    case FieldKind::kF64:
    case FieldKind::kI64:
      return 8;
  }
  return 0;
}

// Whether `fields` tile [0, block_bytes) in order, without gaps or overlaps.
template <size_t N>
constexpr bool Tiles(const BlockField (&fields)[N], size_t block_bytes) {
  size_t at = 0;
  for (size_t i = 0; i < N; ++i) {
    if (fields[i].offset != at || fields[i].count == 0) return false;
    at += static_cast<size_t>(fields[i].count) * static_cast<size_t>(KindBytes(fields[i].kind));
  }
  return at == block_bytes;
}

// A struct member as `count` elements of `kind`.
#define GGUFKIT_FIELD(Block, member, count, kind) \
  BlockField { static_cast<uint16_t>(offsetof(Block, member)), count, FieldKind::kind }
// The same at a byte offset inside a member.
#define GGUFKIT_FIELD_AT(Block, member, skip, count, kind) \
  BlockField { static_cast<uint16_t>(offsetof(Block, member) + (skip)), count, FieldKind::kind }
#define GGUFKIT_CHECK_TILES(table, Block) \
  static_assert(Tiles(table, sizeof(Block)), #Block ": fields must cover the block exactly")

// Element types: one element per "block".
constexpr BlockField kF32[] = {{0, 1, FieldKind::kF32}};
constexpr BlockField kF16[] = {{0, 1, FieldKind::kFp16}};
constexpr BlockField kBF16[] = {{0, 1, FieldKind::kBf16}};
constexpr BlockField kF64[] = {{0, 1, FieldKind::kF64}};
constexpr BlockField kI8[] = {{0, 1, FieldKind::kBytes}};
constexpr BlockField kI16[] = {{0, 1, FieldKind::kI16}};
constexpr BlockField kI32[] = {{0, 1, FieldKind::kI32}};
constexpr BlockField kI64[] = {{0, 1, FieldKind::kI64}};

// Legacy 32-element blocks. Q5 `qh` is one uint32 in ggml (memcpy to/from
// a uint32_t), though declared uint8_t[4].
constexpr BlockField kQ4_0[] = {GGUFKIT_FIELD(BlockQ4_0, d, 1, kFp16),
                                GGUFKIT_FIELD(BlockQ4_0, qs, 16, kBytes)};
GGUFKIT_CHECK_TILES(kQ4_0, BlockQ4_0);
constexpr BlockField kQ4_1[] = {GGUFKIT_FIELD(BlockQ4_1, d, 1, kFp16),
                                GGUFKIT_FIELD(BlockQ4_1, m, 1, kFp16),
                                GGUFKIT_FIELD(BlockQ4_1, qs, 16, kBytes)};
GGUFKIT_CHECK_TILES(kQ4_1, BlockQ4_1);
constexpr BlockField kQ5_0[] = {GGUFKIT_FIELD(BlockQ5_0, d, 1, kFp16),
                                GGUFKIT_FIELD(BlockQ5_0, qh, 1, kU32),
                                GGUFKIT_FIELD(BlockQ5_0, qs, 16, kBytes)};
GGUFKIT_CHECK_TILES(kQ5_0, BlockQ5_0);
constexpr BlockField kQ5_1[] = {
    GGUFKIT_FIELD(BlockQ5_1, d, 1, kFp16), GGUFKIT_FIELD(BlockQ5_1, m, 1, kFp16),
    GGUFKIT_FIELD(BlockQ5_1, qh, 1, kU32), GGUFKIT_FIELD(BlockQ5_1, qs, 16, kBytes)};
GGUFKIT_CHECK_TILES(kQ5_1, BlockQ5_1);
constexpr BlockField kQ8_0[] = {GGUFKIT_FIELD(BlockQ8_0, d, 1, kFp16),
                                GGUFKIT_FIELD(BlockQ8_0, qs, 32, kBytes)};
GGUFKIT_CHECK_TILES(kQ8_0, BlockQ8_0);
constexpr BlockField kQ8_1[] = {GGUFKIT_FIELD(BlockQ8_1, d, 1, kFp16),
                                GGUFKIT_FIELD(BlockQ8_1, s, 1, kFp16),
                                GGUFKIT_FIELD(BlockQ8_1, qs, 32, kBytes)};
GGUFKIT_CHECK_TILES(kQ8_1, BlockQ8_1);

// K-quants (256-element super-blocks).
constexpr BlockField kQ2_K[] = {
    GGUFKIT_FIELD(BlockQ2_K, scales, 16, kBytes), GGUFKIT_FIELD(BlockQ2_K, qs, 64, kBytes),
    GGUFKIT_FIELD(BlockQ2_K, d, 1, kFp16), GGUFKIT_FIELD(BlockQ2_K, dmin, 1, kFp16)};
GGUFKIT_CHECK_TILES(kQ2_K, BlockQ2_K);
constexpr BlockField kQ3_K[] = {
    GGUFKIT_FIELD(BlockQ3_K, hmask, 32, kBytes), GGUFKIT_FIELD(BlockQ3_K, qs, 64, kBytes),
    GGUFKIT_FIELD(BlockQ3_K, scales, 12, kBytes), GGUFKIT_FIELD(BlockQ3_K, d, 1, kFp16)};
GGUFKIT_CHECK_TILES(kQ3_K, BlockQ3_K);
constexpr BlockField kQ4_K[] = {
    GGUFKIT_FIELD(BlockQ4_K, d, 1, kFp16), GGUFKIT_FIELD(BlockQ4_K, dmin, 1, kFp16),
    GGUFKIT_FIELD(BlockQ4_K, scales, 12, kBytes), GGUFKIT_FIELD(BlockQ4_K, qs, 128, kBytes)};
GGUFKIT_CHECK_TILES(kQ4_K, BlockQ4_K);
constexpr BlockField kQ5_K[] = {
    GGUFKIT_FIELD(BlockQ5_K, d, 1, kFp16), GGUFKIT_FIELD(BlockQ5_K, dmin, 1, kFp16),
    GGUFKIT_FIELD(BlockQ5_K, scales, 12, kBytes), GGUFKIT_FIELD(BlockQ5_K, qh, 32, kBytes),
    GGUFKIT_FIELD(BlockQ5_K, qs, 128, kBytes)};
GGUFKIT_CHECK_TILES(kQ5_K, BlockQ5_K);
constexpr BlockField kQ6_K[] = {
    GGUFKIT_FIELD(BlockQ6_K, ql, 128, kBytes), GGUFKIT_FIELD(BlockQ6_K, qh, 64, kBytes),
    GGUFKIT_FIELD(BlockQ6_K, scales, 16, kBytes), GGUFKIT_FIELD(BlockQ6_K, d, 1, kFp16)};
GGUFKIT_CHECK_TILES(kQ6_K, BlockQ6_K);
constexpr BlockField kQ8_K[] = {GGUFKIT_FIELD(BlockQ8_K, d, 1, kF32),
                                GGUFKIT_FIELD(BlockQ8_K, qs, 256, kBytes),
                                GGUFKIT_FIELD(BlockQ8_K, bsums, 16, kI16)};
GGUFKIT_CHECK_TILES(kQ8_K, BlockQ8_K);

// IQ family. IQ2_XXS `qs` holds uint32 words (grid indices, then signs and
// scale); the last 32 bytes of IQ3_XXS `qs` are uint32 scale-and-sign words;
// IQ1_M `scales` is accessed as 4 uint16 (its fp16 scale is spread over their
// top nibbles).
constexpr BlockField kIq2Xxs[] = {GGUFKIT_FIELD(BlockIq2Xxs, d, 1, kFp16),
                                  GGUFKIT_FIELD(BlockIq2Xxs, qs, 16, kU32)};
GGUFKIT_CHECK_TILES(kIq2Xxs, BlockIq2Xxs);
constexpr BlockField kIq2Xs[] = {GGUFKIT_FIELD(BlockIq2Xs, d, 1, kFp16),
                                 GGUFKIT_FIELD(BlockIq2Xs, qs, 32, kU16),
                                 GGUFKIT_FIELD(BlockIq2Xs, scales, 8, kBytes)};
GGUFKIT_CHECK_TILES(kIq2Xs, BlockIq2Xs);
constexpr BlockField kIq2S[] = {
    GGUFKIT_FIELD(BlockIq2S, d, 1, kFp16), GGUFKIT_FIELD(BlockIq2S, qs, 64, kBytes),
    GGUFKIT_FIELD(BlockIq2S, qh, 8, kBytes), GGUFKIT_FIELD(BlockIq2S, scales, 8, kBytes)};
GGUFKIT_CHECK_TILES(kIq2S, BlockIq2S);
constexpr BlockField kIq3Xxs[] = {GGUFKIT_FIELD(BlockIq3Xxs, d, 1, kFp16),
                                  GGUFKIT_FIELD(BlockIq3Xxs, qs, 64, kBytes),
                                  GGUFKIT_FIELD_AT(BlockIq3Xxs, qs, 64, 8, kU32)};
GGUFKIT_CHECK_TILES(kIq3Xxs, BlockIq3Xxs);
constexpr BlockField kIq3S[] = {
    GGUFKIT_FIELD(BlockIq3S, d, 1, kFp16), GGUFKIT_FIELD(BlockIq3S, qs, 64, kBytes),
    GGUFKIT_FIELD(BlockIq3S, qh, 8, kBytes), GGUFKIT_FIELD(BlockIq3S, signs, 32, kBytes),
    GGUFKIT_FIELD(BlockIq3S, scales, 4, kBytes)};
GGUFKIT_CHECK_TILES(kIq3S, BlockIq3S);
constexpr BlockField kIq1S[] = {GGUFKIT_FIELD(BlockIq1S, d, 1, kFp16),
                                GGUFKIT_FIELD(BlockIq1S, qs, 32, kBytes),
                                GGUFKIT_FIELD(BlockIq1S, qh, 8, kU16)};
GGUFKIT_CHECK_TILES(kIq1S, BlockIq1S);
constexpr BlockField kIq1M[] = {GGUFKIT_FIELD(BlockIq1M, qs, 32, kBytes),
                                GGUFKIT_FIELD(BlockIq1M, qh, 16, kBytes),
                                GGUFKIT_FIELD(BlockIq1M, scales, 4, kU16)};
GGUFKIT_CHECK_TILES(kIq1M, BlockIq1M);
constexpr BlockField kIq4Nl[] = {GGUFKIT_FIELD(BlockIq4Nl, d, 1, kFp16),
                                 GGUFKIT_FIELD(BlockIq4Nl, qs, 16, kBytes)};
GGUFKIT_CHECK_TILES(kIq4Nl, BlockIq4Nl);
constexpr BlockField kIq4Xs[] = {
    GGUFKIT_FIELD(BlockIq4Xs, d, 1, kFp16), GGUFKIT_FIELD(BlockIq4Xs, scales_h, 1, kU16),
    GGUFKIT_FIELD(BlockIq4Xs, scales_l, 4, kBytes), GGUFKIT_FIELD(BlockIq4Xs, qs, 128, kBytes)};
GGUFKIT_CHECK_TILES(kIq4Xs, BlockIq4Xs);

// Ternary, FP4, Q1_0 / Q2_0.
constexpr BlockField kTq1_0[] = {GGUFKIT_FIELD(BlockTq1_0, qs, 48, kBytes),
                                 GGUFKIT_FIELD(BlockTq1_0, qh, 4, kBytes),
                                 GGUFKIT_FIELD(BlockTq1_0, d, 1, kFp16)};
GGUFKIT_CHECK_TILES(kTq1_0, BlockTq1_0);
constexpr BlockField kTq2_0[] = {GGUFKIT_FIELD(BlockTq2_0, qs, 64, kBytes),
                                 GGUFKIT_FIELD(BlockTq2_0, d, 1, kFp16)};
GGUFKIT_CHECK_TILES(kTq2_0, BlockTq2_0);
constexpr BlockField kMxfp4[] = {GGUFKIT_FIELD(BlockMxfp4, e, 1, kBytes),
                                 GGUFKIT_FIELD(BlockMxfp4, qs, 16, kBytes)};
GGUFKIT_CHECK_TILES(kMxfp4, BlockMxfp4);
constexpr BlockField kNvfp4[] = {GGUFKIT_FIELD(BlockNvfp4, d, 4, kBytes),
                                 GGUFKIT_FIELD(BlockNvfp4, qs, 32, kBytes)};
GGUFKIT_CHECK_TILES(kNvfp4, BlockNvfp4);
constexpr BlockField kQ1_0[] = {GGUFKIT_FIELD(BlockQ1_0, d, 1, kFp16),
                                GGUFKIT_FIELD(BlockQ1_0, qs, 16, kBytes)};
GGUFKIT_CHECK_TILES(kQ1_0, BlockQ1_0);
constexpr BlockField kQ2_0[] = {GGUFKIT_FIELD(BlockQ2_0, d, 1, kFp16),
                                GGUFKIT_FIELD(BlockQ2_0, qs, 16, kBytes)};
GGUFKIT_CHECK_TILES(kQ2_0, BlockQ2_0);

#undef GGUFKIT_CHECK_TILES
#undef GGUFKIT_FIELD_AT
#undef GGUFKIT_FIELD

template <int kWidth>
void SwapRun(uint8_t* p, size_t count) {
  for (size_t i = 0; i < count; ++i, p += kWidth) {
    for (int b = 0; b < kWidth / 2; ++b) {
      const uint8_t t = p[b];
      p[b] = p[kWidth - 1 - b];
      p[kWidth - 1 - b] = t;
    }
  }
}

void SwapElements(uint8_t* p, size_t count, int width) {
  switch (width) {
    case 2:
      SwapRun<2>(p, count);
      break;
    case 4:
      SwapRun<4>(p, count);
      break;
    case 8:
      SwapRun<8>(p, count);
      break;
    default:
      break;
  }
}

}  // namespace

int FieldKindBytes(FieldKind kind) { return KindBytes(kind); }

absl::Span<const BlockField> BlockFields(GgmlType type) {
  switch (type) {
    case GgmlType::kF32:
      return kF32;
    case GgmlType::kF16:
      return kF16;
    case GgmlType::kBF16:
      return kBF16;
    case GgmlType::kF64:
      return kF64;
    case GgmlType::kI8:
      return kI8;
    case GgmlType::kI16:
      return kI16;
    case GgmlType::kI32:
      return kI32;
    case GgmlType::kI64:
      return kI64;
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
    case GgmlType::kQ8_K:
      return kQ8_K;
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
    case GgmlType::kIQ1_M:
      return kIq1M;
    case GgmlType::kIQ4_NL:
      return kIq4Nl;
    case GgmlType::kIQ4_XS:
      return kIq4Xs;
    case GgmlType::kTQ1_0:
      return kTq1_0;
    case GgmlType::kTQ2_0:
      return kTq2_0;
    case GgmlType::kMXFP4:
      return kMxfp4;
    case GgmlType::kNVFP4:
      return kNvfp4;
    case GgmlType::kQ1_0:
      return kQ1_0;
    case GgmlType::kQ2_0:
      return kQ2_0;
  }
  return {};
}

bool HasMultiByteFields(GgmlType type) {
  for (const BlockField& f : BlockFields(type)) {
    if (KindBytes(f.kind) > 1) return true;
  }
  return false;
}

void ByteSwapBlocks(GgmlType type, uint8_t* blocks, size_t n_blocks) {
  const absl::Span<const BlockField> fields = BlockFields(type);
  if (fields.size() == 1) {
    // An element type (or a block of one kind): one run over the whole buffer.
    SwapElements(blocks, n_blocks * fields[0].count, KindBytes(fields[0].kind));
    return;
  }
  const size_t block_bytes = static_cast<size_t>(GetTypeTraits(type).type_size);
  for (const BlockField& f : fields) {
    const int width = KindBytes(f.kind);
    if (width == 1) continue;
    uint8_t* p = blocks + f.offset;
    for (size_t b = 0; b < n_blocks; ++b, p += block_bytes) SwapElements(p, f.count, width);
  }
}

absl::Span<const uint16_t> HalfFieldOffsets(GgmlType type) {
  // Derived once from BlockFields: the fp16 fields of the block formats.
  static const auto* offsets = [] {
    auto* table = new std::array<std::vector<uint16_t>, kGgmlTypeIdLimit>();
    for (const TypeTraits& t : AllTypeTraits()) {
      if (t.kind != TypeKind::kQuantized) continue;
      std::vector<uint16_t>& out = (*table)[static_cast<uint32_t>(t.type)];
      for (const BlockField& f : BlockFields(t.type)) {
        if (f.kind != FieldKind::kFp16) continue;
        for (uint16_t i = 0; i < f.count; ++i)
          out.push_back(static_cast<uint16_t>(f.offset + 2 * i));
      }
    }
    return table;
  }();
  return (*offsets)[static_cast<uint32_t>(type)];
}

}  // namespace ggufkit
