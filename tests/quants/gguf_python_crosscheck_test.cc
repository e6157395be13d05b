// Cross-check of the reference dequantizers against an independent
// implementation: the gguf PyPI package's numpy dequantizer
// (gguf.quants.dequantize), on random well-formed blocks built here.
#include <cstdint>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/quants.h"
#include "tests/common/test_data.h"
#include "tests/quants/test_blocks.h"

namespace ggufkit {
namespace {

using testing::PythonPath;
using testing::RandomBlocks;
using testing::ReadFloats;
using testing::RunCommand;
using testing::SourceDir;
using testing::TempDir;
using testing::WriteFileBytes;

// Decodes random blocks of `name` here and with gguf_dequant.py (extra_args
// passed on) and compares bit patterns. Sets *skipped when the package has no
// dequantizer for the type.
void CompareWithPython(const std::string& name, const std::string& extra_args, bool* skipped) {
  *skipped = false;
  const auto type = ParseGgmlType(name);
  ASSERT_TRUE(type.ok()) << type.status();
  const TypeTraits& t = GetTypeTraits(*type);
  const int64_t n_blocks = t.block_size == 1 ? 4096 : 64;
  const std::vector<uint8_t> blocks = RandomBlocks(*type, n_blocks, 1234u + t.type_size);
  const int64_t n = n_blocks * t.block_size;

  TempDir dir;
  ASSERT_TRUE(WriteFileBytes(dir.File("in.bin"), blocks.data(), blocks.size()));
  std::string output;
  const int rc =
      RunCommand(PythonPath() + " " + SourceDir() + "/tests/quants/gguf_dequant.py " + name + " " +
                     dir.File("in.bin") + " " + dir.File("out.f32") + extra_args,
                 &output);
  if (rc == 3) {
    *skipped = true;
    std::cerr << output;
    return;
  }
  ASSERT_EQ(rc, 0) << output;
  const std::vector<float> expected = ReadFloats(dir.File("out.f32"));
  ASSERT_EQ(expected.size(), static_cast<size_t>(n));

  std::vector<float> got(static_cast<size_t>(n));
  ASSERT_TRUE(reference::Dequantize(*type, blocks, n, got.data()).ok());
  for (int64_t i = 0; i < n; ++i) {
    uint32_t a, b;
    std::memcpy(&a, &got[i], 4);
    std::memcpy(&b, &expected[i], 4);
    ASSERT_EQ(a, b) << name << " element " << i << " (block " << i / t.block_size << "): ours "
                    << got[i] << ", gguf " << expected[i];
  }
}

class GgufPythonCrossCheck : public ::testing::TestWithParam<const char*> {};

TEST_P(GgufPythonCrossCheck, DequantizeMatchesNumpyReference) {
  GGUFKIT_REQUIRE_PYTHON_MODULES("gguf, numpy");
  bool skipped = false;
  CompareWithPython(GetParam(), "", &skipped);
  if (skipped) {
    GTEST_SKIP() << "the gguf package (0.19.0) has no numpy dequantizer for " << GetParam()
                 << "; see NumpyFormulaCrossCheck for a second implementation instead";
  }
}

// gguf 0.19.0 cannot decode Q8_1 and Q8_K: compare with a numpy
// transcription of the documented formula instead.
TEST(NumpyFormulaCrossCheck, Q8_1AndQ8_K) {
  GGUFKIT_REQUIRE_PYTHON_MODULES("gguf, numpy");
  for (const char* name : {"q8_1", "q8_K"}) {
    bool skipped = false;
    CompareWithPython(name, " --formula", &skipped);
    EXPECT_FALSE(skipped) << name;
  }
}

INSTANTIATE_TEST_SUITE_P(Basic, GgufPythonCrossCheck,
                         ::testing::Values("f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0",
                                           "q8_1", "q2_K", "q3_K", "q4_K", "q5_K", "q6_K", "q8_K"),
                         [](const ::testing::TestParamInfo<const char*>& param_info) {
                           return std::string(param_info.param);
                         });

}  // namespace
}  // namespace ggufkit
