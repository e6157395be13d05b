// docs/types.md lists every type: its rows must agree with the type table
// and, for the rows that do not defer to another part of the library, with
// the registered codecs.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/common/test_data.h"

namespace ggufkit {
namespace {

TEST(TypesDoc, TableMatchesTypeTraitsAndCodecs) {
  std::ifstream in(testing::SourceDir() + "/docs/types.md");
  ASSERT_TRUE(in) << "docs/types.md missing";
  std::string line;
  int rows = 0;
  bool in_table = false;
  while (std::getline(in, line)) {
    if (line.rfind("| id | name |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table) continue;
    if (line.empty() || line[0] != '|') break;
    if (line.rfind("|---", 0) == 0) continue;
    std::vector<std::string> cells = absl::StrSplit(line, '|');
    ASSERT_GE(cells.size(), 9u) << line;
    for (auto& c : cells) c = std::string(absl::StripAsciiWhitespace(c));
    uint32_t id = 0;
    int64_t block = 0, bytes = 0;
    ASSERT_TRUE(absl::SimpleAtoi(cells[1], &id)) << line;
    ASSERT_TRUE(absl::SimpleAtoi(cells[3], &block)) << line;
    ASSERT_TRUE(absl::SimpleAtoi(cells[4], &bytes)) << line;
    const TypeTraits* t = FindTypeTraits(id);
    ASSERT_NE(t, nullptr) << line;
    EXPECT_EQ(t->name, cells[2]) << line;
    EXPECT_EQ(t->block_size, block) << line;
    EXPECT_EQ(t->type_size, bytes) << line;
    if (cells[6] != "see qextra") {
      const ReferenceCodec& codec = GetReferenceCodec(t->type);
      EXPECT_EQ(codec.dequantize != nullptr, cells[6] == "yes") << line;
      EXPECT_EQ(codec.quantize != nullptr, cells[7] == "yes") << line;
      EXPECT_EQ(codec.uses_imatrix, cells[8] == "yes") << line;
    }
    ++rows;
  }
  int types = 0;
  for (const TypeTraits& t : AllTypeTraits()) {
    (void)t;
    ++types;
  }
  EXPECT_EQ(rows, types);
}

}  // namespace
}  // namespace ggufkit
