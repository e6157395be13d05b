// Metadata: ordered typed storage, typed access errors, rendering.
#include "ggufkit/gguf/metadata.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ggufkit {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(MetadataTest, KeepsInsertionOrderAndReplacesInPlace) {
  Metadata md("m.gguf");
  ASSERT_TRUE(md.Set("a", MetadataValue::U32(1)).ok());
  ASSERT_TRUE(md.Set("b", MetadataValue::String("x")).ok());
  ASSERT_TRUE(md.Set("c", MetadataValue::Bool(true)).ok());
  ASSERT_TRUE(md.Set("a", MetadataValue::I64(-5)).ok());  // same position, new type
  EXPECT_EQ(md.entries()[0].key, "a");
  EXPECT_EQ(*md.GetI64("a"), -5);
  EXPECT_EQ(md.Add("b", MetadataValue::U8(1)).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_FALSE(md.Set("", MetadataValue::U8(1)).ok());
  EXPECT_TRUE(md.Remove("b"));
  EXPECT_FALSE(md.Remove("b"));
  ASSERT_EQ(md.size(), 2u);
  EXPECT_EQ(md.entries()[1].key, "c");
  EXPECT_EQ(*md.GetBool("c"), true);  // index still right after removal
}

TEST(MetadataTest, TypedAccessErrors) {
  Metadata md("file.gguf");
  ASSERT_TRUE(md.Set("n", MetadataValue::U16(7)).ok());
  ASSERT_TRUE(md.Set("big", MetadataValue::U64(~0ull)).ok());
  const float f[] = {1.5f};
  ASSERT_TRUE(md.Set("arr", MetadataValue::ArrayF32(f)).ok());
  auto missing = md.GetU32("nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()),
              HasSubstr("file.gguf: metadata key 'nope' not found"));
  auto wrong = md.GetU32("n");
  EXPECT_THAT(std::string(wrong.status().message()),
              HasSubstr("file.gguf: metadata key 'n' is u16, expected u32"));
  EXPECT_EQ(*md.GetInteger("n"), 7);
  EXPECT_EQ(md.GetInteger("big").status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_THAT(std::string(md.GetArrayI32("arr").status().message()),
              HasSubstr("is arr[f32], expected arr[i32]"));
  EXPECT_THAT(std::string(md.GetArray("n").status().message()), HasSubstr("expected an array"));
  EXPECT_THAT(*md.GetArrayF32("arr"), ElementsAre(1.5f));
}

TEST(MetadataTest, ValuesAndRendering) {
  const std::string strs[] = {"a\"b", "", "line\nbreak"};
  MetadataValue s = MetadataValue::ArrayString(strs);
  EXPECT_EQ(s.size(), 3u);
  EXPECT_EQ(s.string_at(1), "");
  EXPECT_EQ(s.string_at(2), "line\nbreak");
  EXPECT_EQ(s.EncodedSize(), 4u + 8 + 3 * 8 + 3 + 0 + 10);
  EXPECT_EQ(s.DebugString(), "[\"a\\\"b\", \"\", \"line\\nbreak\"]");
  std::vector<int32_t> many(20);
  for (int i = 0; i < 20; ++i) many[i] = i - 3;
  MetadataValue m = MetadataValue::ArrayI32(many);
  EXPECT_EQ(m.DebugString(3), "[-3, -2, -1, ... (17 more)]");
  EXPECT_EQ(m.int_at(19), 16);
  EXPECT_EQ(MetadataValue::I8(-1).DebugString(), "-1");
  EXPECT_EQ(MetadataValue::I8(-1).raw_bits(), 0xFFu);  // zero-extended storage
  EXPECT_EQ(MetadataValue::F32(0.1f).DebugString(), "0.100000001");
  EXPECT_EQ(MetadataValue::Bool(false).DebugString(), "false");
  EXPECT_TRUE(MetadataValue::U32(3) == MetadataValue::U32(3));
  EXPECT_FALSE(MetadataValue::U32(3) == MetadataValue::I32(3));
  const uint8_t bad_bools[] = {0, 2};
  EXPECT_FALSE(MetadataValue::Array(GgufValueType::kBool, bad_bools).ok());
  const uint8_t three[] = {1, 2, 3};
  EXPECT_FALSE(MetadataValue::Array(GgufValueType::kU16, three).ok());
  EXPECT_FALSE(MetadataValue::Array(GgufValueType::kArray, three).ok());
  EXPECT_EQ(GgufValueTypeName(static_cast<GgufValueType>(99)), "?");
}

}  // namespace
}  // namespace ggufkit
