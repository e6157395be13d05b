#include "ggufkit/quants/type_traits.h"

#include "gtest/gtest.h"

namespace ggufkit {
namespace {

TEST(TypeTraitsTest, KnownIdsHaveGgmlSizes) {
  ASSERT_NE(FindTypeTraits(12), nullptr);
  EXPECT_EQ(FindTypeTraits(12)->name, "q4_K");
  EXPECT_EQ(FindTypeTraits(12)->block_size, 256);
  EXPECT_EQ(FindTypeTraits(12)->type_size, 144);
  EXPECT_EQ(GetTypeTraits(GgmlType::kQ6_K).type_size, 210);
  EXPECT_EQ(GetTypeTraits(GgmlType::kQ1_0).type_size, 18);
  EXPECT_EQ(GetTypeTraits(GgmlType::kQ1_0).block_size, 128);
}

TEST(TypeTraitsTest, RemovedAndUnknownIdsAreRejected) {
  for (uint32_t id : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 43u, 44u, 1000u, 0xFFFFFFFFu}) {
    EXPECT_EQ(FindTypeTraits(id), nullptr) << id;
  }
}

TEST(TypeTraitsTest, EveryEntryIsConsistent) {
  int count = 0;
  for (const TypeTraits& t : AllTypeTraits()) {
    ++count;
    EXPECT_EQ(FindTypeTraits(static_cast<uint32_t>(t.type)), &t);
    EXPECT_GT(t.block_size, 0);
    EXPECT_GT(t.type_size, 0);
    auto parsed = ParseGgmlType(t.name);
    ASSERT_TRUE(parsed.ok()) << t.name;
    EXPECT_EQ(*parsed, t.type);
  }
  EXPECT_EQ(count, 35);
}

TEST(TypeTraitsTest, RowSizeChecksBlocksAndOverflow) {
  EXPECT_EQ(*RowSizeBytes(GgmlType::kQ4_K, 4096), 16 * 144);
  EXPECT_FALSE(RowSizeBytes(GgmlType::kQ4_K, 100).ok());
  EXPECT_FALSE(RowSizeBytes(GgmlType::kF32, -1).ok());
  EXPECT_FALSE(RowSizeBytes(GgmlType::kF32, int64_t{1} << 62).ok());
  EXPECT_EQ(*ParseGgmlType("FP32"), GgmlType::kF32);
  EXPECT_FALSE(ParseGgmlType("q9_9").ok());
}

}  // namespace
}  // namespace ggufkit
