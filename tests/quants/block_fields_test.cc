// The block field table (quants/block_fields.h): complete for every type,
// equal to ggml's layouts, and the source of the fp16 fields that random test
// blocks get finite values in.
#include "ggufkit/quants/block_fields.h"

#include <cmath>
#include <cstring>
#include <map>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/half_fields.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/quants/test_blocks.h"

namespace ggufkit {
namespace {

// (offset, element bytes, count) of each multi-byte field.
using FieldRun = std::tuple<int, int, int>;

std::vector<FieldRun> MultiByteRuns(GgmlType type) {
  std::vector<FieldRun> runs;
  for (const BlockField& f : BlockFields(type)) {
    if (FieldKindBytes(f.kind) > 1) runs.emplace_back(f.offset, FieldKindBytes(f.kind), f.count);
  }
  return runs;
}

// Every type of the type table has fields, in order, covering its block
// exactly (also a static_assert in quants/type_traits.cc: a kTypeTable row
// without its field table does not compile).
TEST(BlockFieldsTest, EveryTypeIsDescribedByteForByte) {
  for (const TypeTraits& t : AllTypeTraits()) {
    SCOPED_TRACE(t.name);
    const absl::Span<const BlockField> fields = BlockFields(t.type);
    ASSERT_FALSE(fields.empty()) << "no field table in its kTypeTable row";
    int64_t at = 0;
    for (const BlockField& f : fields) {
      EXPECT_EQ(f.offset, at);
      EXPECT_GT(f.count, 0);
      at += int64_t{f.count} * FieldKindBytes(f.kind);
    }
    EXPECT_EQ(at, t.type_size);
  }
}

// The multi-byte fields spelled out from ggml's block structs (ggml-common.h)
// and the way ggml-quants.c reads and writes them, so that a change to the
// table cannot move them silently. Types absent here have none.
TEST(BlockFieldsTest, MultiByteFieldsMatchGgml) {
  const std::map<GgmlType, std::vector<FieldRun>> expected = {
      {GgmlType::kF32, {{0, 4, 1}}},
      {GgmlType::kF16, {{0, 2, 1}}},
      {GgmlType::kBF16, {{0, 2, 1}}},
      {GgmlType::kF64, {{0, 8, 1}}},
      {GgmlType::kI16, {{0, 2, 1}}},
      {GgmlType::kI32, {{0, 4, 1}}},
      {GgmlType::kI64, {{0, 8, 1}}},
      {GgmlType::kQ4_0, {{0, 2, 1}}},
      {GgmlType::kQ4_1, {{0, 2, 1}, {2, 2, 1}}},
      {GgmlType::kQ5_0, {{0, 2, 1}, {2, 4, 1}}},
      {GgmlType::kQ5_1, {{0, 2, 1}, {2, 2, 1}, {4, 4, 1}}},
      {GgmlType::kQ8_0, {{0, 2, 1}}},
      {GgmlType::kQ8_1, {{0, 2, 1}, {2, 2, 1}}},
      {GgmlType::kQ2_K, {{80, 2, 1}, {82, 2, 1}}},
      {GgmlType::kQ3_K, {{108, 2, 1}}},
      {GgmlType::kQ4_K, {{0, 2, 1}, {2, 2, 1}}},
      {GgmlType::kQ5_K, {{0, 2, 1}, {2, 2, 1}}},
      {GgmlType::kQ6_K, {{208, 2, 1}}},
      {GgmlType::kQ8_K, {{0, 4, 1}, {260, 2, 16}}},
      {GgmlType::kIQ2_XXS, {{0, 2, 1}, {2, 4, 16}}},
      {GgmlType::kIQ2_XS, {{0, 2, 1}, {2, 2, 32}}},
      {GgmlType::kIQ2_S, {{0, 2, 1}}},
      {GgmlType::kIQ3_XXS, {{0, 2, 1}, {66, 4, 8}}},
      {GgmlType::kIQ3_S, {{0, 2, 1}}},
      {GgmlType::kIQ1_S, {{0, 2, 1}, {34, 2, 8}}},
      {GgmlType::kIQ1_M, {{48, 2, 4}}},
      {GgmlType::kIQ4_NL, {{0, 2, 1}}},
      {GgmlType::kIQ4_XS, {{0, 2, 1}, {2, 2, 1}}},
      {GgmlType::kTQ1_0, {{52, 2, 1}}},
      {GgmlType::kTQ2_0, {{64, 2, 1}}},
      {GgmlType::kQ1_0, {{0, 2, 1}}},
      {GgmlType::kQ2_0, {{0, 2, 1}}},
  };
  for (const TypeTraits& t : AllTypeTraits()) {
    auto it = expected.find(t.type);
    EXPECT_EQ(MultiByteRuns(t.type), it == expected.end() ? std::vector<FieldRun>() : it->second)
        << t.name;
    EXPECT_EQ(HasMultiByteFields(t.type), it != expected.end()) << t.name;
  }
}

// What gguf-py's gguf_convert_endian.py does to one Q4_K block: swap the two
// fp16 fields, leave the 140 code bytes.
TEST(BlockFieldsTest, ByteSwapQ4KSwapsOnlyTheScales) {
  std::vector<uint8_t> block(144);
  for (size_t i = 0; i < block.size(); ++i) block[i] = static_cast<uint8_t>(i);
  std::vector<uint8_t> swapped = block;
  ByteSwapBlocks(GgmlType::kQ4_K, swapped.data(), 1);
  std::vector<uint8_t> expected = block;
  std::swap(expected[0], expected[1]);
  std::swap(expected[2], expected[3]);
  EXPECT_EQ(swapped, expected);
}

// Swapping is its own inverse, block after block, for every type.
TEST(BlockFieldsTest, ByteSwapIsAnInvolution) {
  for (const TypeTraits& t : AllTypeTraits()) {
    const std::vector<uint8_t> blocks = testing::RandomBlocks(t.type, 7, 5u);
    std::vector<uint8_t> twice = blocks;
    ByteSwapBlocks(t.type, twice.data(), 7);
    EXPECT_EQ(twice != blocks, HasMultiByteFields(t.type)) << t.name;
    ByteSwapBlocks(t.type, twice.data(), 7);
    EXPECT_EQ(twice, blocks) << t.name;
  }
}

// HalfFieldOffsets is the table's fp16 fields of the block formats.
TEST(BlockFieldsTest, HalfFieldsComeFromTheTable) {
  for (const TypeTraits& t : AllTypeTraits()) {
    std::vector<uint16_t> expected;
    if (t.kind == TypeKind::kQuantized) {
      for (const BlockField& f : BlockFields(t.type)) {
        if (f.kind != FieldKind::kFp16) continue;
        for (int i = 0; i < f.count; ++i)
          expected.push_back(static_cast<uint16_t>(f.offset + 2 * i));
      }
    }
    const absl::Span<const uint16_t> got = HalfFieldOffsets(t.type);
    EXPECT_EQ(std::vector<uint16_t>(got.begin(), got.end()), expected) << t.name;
  }
}

// The trap the table closes: an fp16 scale the table does not know about
// keeps random bits in testing::RandomBlocks, and about one block in 32 then
// decodes to Inf / NaN. Every block format decodes random blocks to finite
// values, so a scale left out of the table fails here.
TEST(BlockFieldsTest, RandomBlocksOfEveryFormatDecodeToFiniteValues) {
  for (const TypeTraits& t : AllTypeTraits()) {
    if (t.kind != TypeKind::kQuantized) continue;
    // MXFP4's e8m0 byte scale spans the whole float range: its largest
    // exponents overflow by design (ggml too).
    if (t.type == GgmlType::kMXFP4) continue;
    const ReferenceCodec& codec = GetReferenceCodec(t.type);
    if (codec.dequantize == nullptr) continue;
    constexpr int64_t kBlocks = 512;
    const std::vector<uint8_t> blocks = testing::RandomBlocks(t.type, kBlocks, 31u);
    std::vector<float> out(static_cast<size_t>(kBlocks * t.block_size));
    codec.dequantize(blocks.data(), out.data(), kBlocks * t.block_size);
    for (size_t i = 0; i < out.size(); ++i) {
      ASSERT_TRUE(std::isfinite(out[i]))
          << t.name << " block " << i / static_cast<size_t>(t.block_size) << " decodes to "
          << out[i] << ": an fp16 scale missing from its field table (kBlock<X>Fields beside the block struct)?";
    }
  }
}

}  // namespace
}  // namespace ggufkit
