// base/byte_size: one meaning of every unit, on every command line.
#include "ggufkit/base/byte_size.h"

#include <cstdint>

#include "gtest/gtest.h"

namespace ggufkit {
namespace {

TEST(ByteSizeTest, BinaryUnits) {
  EXPECT_EQ(*ParseByteSize("4096"), 4096u);
  EXPECT_EQ(*ParseByteSize("123B"), 123u);
  EXPECT_EQ(*ParseByteSize("64k"), 65536u);
  EXPECT_EQ(*ParseByteSize("64KiB"), 65536u);
  EXPECT_EQ(*ParseByteSize("1M"), uint64_t{1} << 20);
  EXPECT_EQ(*ParseByteSize("512MiB"), uint64_t{512} << 20);
  EXPECT_EQ(*ParseByteSize("2GiB"), uint64_t{2} << 30);
  EXPECT_EQ(*ParseByteSize("4 GiB"), uint64_t{4} << 30);
  EXPECT_EQ(*ParseByteSize("4G"), uint64_t{4} << 30);
  EXPECT_EQ(*ParseByteSize("1t"), uint64_t{1} << 40);
  EXPECT_EQ(*ParseByteSize("1.5GiB"), uint64_t{3} << 29);
}

TEST(ByteSizeTest, DecimalUnitsMeanPowersOfTen) {
  // The one meaning of "GB" everywhere (it used to be 2^30 for --chunk-size
  // and 10^9 for --budget).
  EXPECT_EQ(*ParseByteSize("4GB"), uint64_t{4000000000});
  EXPECT_EQ(*ParseByteSize("4gb"), uint64_t{4000000000});
  EXPECT_EQ(*ParseByteSize("64KB"), 64000u);
  EXPECT_EQ(*ParseByteSize("3MB"), 3000000u);
  EXPECT_EQ(*ParseByteSize("2TB"), uint64_t{2000000000000});
  EXPECT_EQ(*ParseByteSize("4.5GB"), uint64_t{4500000000});
}

TEST(ByteSizeTest, Errors) {
  for (const char* bad : {"", " ", "M", "GiB", ".", "-1GiB", "4 parsecs", "1e30", "1.5.5M", "4GiBs",
                          "99999999999999999999", "16777216T", "8EiB", "9223372036854775808"}) {
    EXPECT_FALSE(ParseByteSize(bad).ok()) << "'" << bad << "'";
  }
  EXPECT_EQ(*ParseByteSize("9223372036854775807"), uint64_t{9223372036854775807});
}

}  // namespace
}  // namespace ggufkit
