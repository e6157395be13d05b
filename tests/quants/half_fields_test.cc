#include "ggufkit/quants/half_fields.h"

#include <vector>

#include "gtest/gtest.h"

namespace ggufkit {
namespace {

std::vector<uint16_t> Offsets(GgmlType t) {
  absl::Span<const uint16_t> s = HalfFieldOffsets(t);
  return std::vector<uint16_t>(s.begin(), s.end());
}

// The offsets ggml's block structs give (ggml-common.h), spelled out so a
// change to one of our block structs cannot move them silently.
TEST(HalfFieldsTest, MatchGgmlLayouts) {
  using V = std::vector<uint16_t>;
  EXPECT_EQ(Offsets(GgmlType::kQ8_0), V({0}));
  EXPECT_EQ(Offsets(GgmlType::kQ4_1), V({0, 2}));
  EXPECT_EQ(Offsets(GgmlType::kQ8_1), V({0, 2}));
  EXPECT_EQ(Offsets(GgmlType::kQ2_K), V({80, 82}));
  EXPECT_EQ(Offsets(GgmlType::kQ3_K), V({108}));
  EXPECT_EQ(Offsets(GgmlType::kQ4_K), V({0, 2}));
  EXPECT_EQ(Offsets(GgmlType::kQ6_K), V({208}));
  EXPECT_EQ(Offsets(GgmlType::kTQ1_0), V({52}));
  EXPECT_EQ(Offsets(GgmlType::kTQ2_0), V({64}));
  EXPECT_EQ(Offsets(GgmlType::kQ1_0), V({0}));
  EXPECT_TRUE(Offsets(GgmlType::kQ8_K).empty());
  EXPECT_TRUE(Offsets(GgmlType::kMXFP4).empty());
  EXPECT_TRUE(Offsets(GgmlType::kIQ1_M).empty());
  EXPECT_TRUE(Offsets(GgmlType::kF16).empty());
}

// Every offset leaves room for the 2-byte field inside the block, ascending.
TEST(HalfFieldsTest, InsideTheBlockAndAscending) {
  for (const TypeTraits& t : AllTypeTraits()) {
    absl::Span<const uint16_t> s = HalfFieldOffsets(t.type);
    for (size_t i = 0; i < s.size(); ++i) {
      EXPECT_LE(s[i] + 2, t.type_size) << t.name;
      if (i > 0) {
        EXPECT_GE(s[i], s[i - 1] + 2) << t.name;
      }
    }
  }
}

}  // namespace
}  // namespace ggufkit
