// Regressions for fuzzer findings (tests/fuzz, scripts/fuzz.sh). Each finding
// is kept as a file in tests/data/malformed/fuzz_regressions/ (scripts/fuzz.sh
// seeds every fuzzer with them, so each fuzz run replays them) and gets a test
// here that fails without its fix, in every build (not only under UBSan).
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "ggufkit/gguf/byte_source.h"
#include "ggufkit/gguf/metadata.h"
#include "ggufkit/gguf/reader.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"

namespace ggufkit::testing {
namespace {

std::string Regression(const std::string& name) {
  return TestDataDir() + "/malformed/fuzz_regressions/" + name;
}

// fuzz_reader: MetadataValue::int_at on an f32 array element of 7.0e22 cast
// the float to int64 directly, which is undefined behaviour (UBSan:
// "outside the range of representable values of type 'long'"); x86 gave
// INT64_MIN for a huge positive value. Out-of-range values now saturate and
// NaN reads as 0.
TEST(FuzzRegressionTest, IntAtOfAFloatArraySaturates) {
  auto reader = GgufReader::Open(Regression("reader_int_at_of_float_array_7e22.bin"));
  ASSERT_TRUE(reader.ok()) << reader.status();
  const MetadataValue* v = (*reader)->metadata().Find("k");
  ASSERT_NE(v, nullptr);
  ASSERT_TRUE(v->is_array());
  for (uint64_t i = 0; i < v->size(); ++i) (void)v->int_at(i);  // no UB

  const float values[] = {7.03621e22f,
                          -7.03621e22f,
                          std::numeric_limits<float>::infinity(),
                          -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN(),
                          -3.75f,
                          9223372036854775808.0f};  // 2^63, one past INT64_MAX
  const MetadataValue a = MetadataValue::ArrayF32(values);
  EXPECT_EQ(a.int_at(0), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(a.int_at(1), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(a.int_at(2), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(a.int_at(3), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(a.int_at(4), 0);
  EXPECT_EQ(a.int_at(5), -3);  // truncation toward zero, like a cast
  EXPECT_EQ(a.int_at(6), std::numeric_limits<int64_t>::max());

  const double doubles[] = {1e300, -1e300, std::nan(""), 12345.9};
  const MetadataValue d = MetadataValue::ArrayF64(doubles);
  EXPECT_EQ(d.int_at(0), std::numeric_limits<int64_t>::max());
  EXPECT_EQ(d.int_at(1), std::numeric_limits<int64_t>::min());
  EXPECT_EQ(d.int_at(2), 0);
  EXPECT_EQ(d.int_at(3), 12345);
}

}  // namespace
}  // namespace ggufkit::testing
