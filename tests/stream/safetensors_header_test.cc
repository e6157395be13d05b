#include "ggufkit/base/json.h"
#include "ggufkit/stream/safetensors_header.h"

#include <cstring>

#include "gtest/gtest.h"

namespace ggufkit::stream {
namespace {

uint64_t HeaderLength(const std::string& h) {
  uint64_t n = 0;
  for (int b = 7; b >= 0; --b) n = (n << 8) | static_cast<uint8_t>(h[b]);
  return n;
}

TEST(SafetensorsHeaderTest, LayoutIsPaddedAndOffsetsAreConsecutive) {
  std::vector<SafetensorsTensor> tensors = {{"a.weight", "F32", {3, 4}, 48},
                                            {"b", "BF16", {5}, 10}};
  absl::StatusOr<std::string> h =
      BuildSafetensorsHeader({{"general.name", "tiny \"model\""}}, tensors);
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->size() % 8, 0u);
  EXPECT_EQ(HeaderLength(*h), h->size() - 8);
  const std::string json = h->substr(8);
  EXPECT_EQ(json.front(), '{');
  EXPECT_NE(json.find(R"("__metadata__":{"general.name":"tiny \"model\""})"), std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("a.weight":{"dtype":"F32","shape":[3,4],"data_offsets":[0,48]})"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("b":{"dtype":"BF16","shape":[5],"data_offsets":[48,58]})"),
            std::string::npos)
      << json;
}

// Names are quoted by base/json (safetensors readers reject a header that is
// not UTF-8).
TEST(SafetensorsHeaderTest, JsonStringEscapesControlAndInvalidUtf8) {
  EXPECT_EQ(JsonString("a\nb\x01"), "\"a\\nb\\u0001\"");
  EXPECT_EQ(JsonString("\xC3\xA9"), "\"\xC3\xA9\"");        // é kept
  EXPECT_EQ(JsonString("\xC3"), "\"\\ufffd\"");             // truncated sequence
  EXPECT_EQ(JsonString("\xED\xA0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");  // surrogate
  EXPECT_EQ(JsonString("\xF0\x9F\x98\x80"), "\"\xF0\x9F\x98\x80\"");  // emoji kept
}

TEST(SafetensorsHeaderTest, RejectsReservedAndDuplicateNames) {
  EXPECT_FALSE(BuildSafetensorsHeader({}, {{"__metadata__", "F32", {1}, 4}}).ok());
  EXPECT_FALSE(BuildSafetensorsHeader({}, {{"x", "F32", {1}, 4}, {"x", "F32", {1}, 4}}).ok());
}

TEST(SafetensorsHeaderTest, DtypesOfDenseAndIntegerTypes) {
  EXPECT_EQ(*SafetensorsDtype(GgmlType::kF32), "F32");
  EXPECT_EQ(*SafetensorsDtype(GgmlType::kBF16), "BF16");
  EXPECT_EQ(*SafetensorsDtype(GgmlType::kI8), "I8");
  EXPECT_EQ(*SafetensorsDtype(GgmlType::kI64), "I64");
  EXPECT_FALSE(SafetensorsDtype(GgmlType::kQ4_K).ok());
}

}  // namespace
}  // namespace ggufkit::stream
