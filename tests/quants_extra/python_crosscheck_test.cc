// Cross-check against an independent implementation: the numpy dequantizers
// of the `gguf` PyPI package (gguf.quants.dequantize), on random blocks we
// build. This is the conformance test of the IQ1/IQ2/IQ3 codebook types,
// which have no golden vectors (ggml cannot quantize them without an
// importance matrix); the other types are checked too, for free.
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/common/test_data.h"
#include "tests/quants_extra/extra_test_util.h"

namespace ggufkit::testing {
namespace {

// Reads raw blocks, dequantizes them with gguf's numpy code, writes f32.
constexpr char kScript[] =
    "import sys\n"
    "import numpy as np\n"
    "import gguf\n"
    "data = np.fromfile(sys.argv[1], dtype=np.uint8)\n"
    "qtype = gguf.GGMLQuantizationType[sys.argv[2]]\n"
    "out = gguf.quants.dequantize(data, qtype)\n"
    "np.ascontiguousarray(out, dtype=np.float32).tofile(sys.argv[3])\n";

class PythonCrossCheckTest : public ::testing::TestWithParam<ExtraType> {};

TEST_P(PythonCrossCheckTest, RandomBlocksMatchGgufNumpyBitForBit) {
  const ExtraType& t = GetParam();
  GGUFKIT_REQUIRE_PYTHON_MODULES("gguf, numpy");

  // 256 blocks: enough for the grid-index walk to cover every codebook entry
  // (2048 entries / 32 groups per IQ1 block = 64 blocks) several times.
  constexpr int64_t kBlocks = 256;
  const TypeTraits& traits = GetTypeTraits(t.type);
  const int64_t n = kBlocks * traits.block_size;
  const std::vector<uint8_t> blocks = RandomBlocks(t.type, kBlocks, /*seed=*/1234u);

  TempDir dir;
  ASSERT_TRUE(WriteFileBytes(dir.File("blocks.bin"), blocks.data(), blocks.size()));
  ASSERT_TRUE(WriteFileBytes(dir.File("script.py"), kScript, sizeof(kScript) - 1));
  std::string output;
  const std::string command = "'" + PythonPath() + "' '" + dir.File("script.py") + "' '" +
                              dir.File("blocks.bin") + "' " + t.gguf_py_name + " '" +
                              dir.File("out.f32") + "' 2>&1";
  ASSERT_EQ(RunCommand(command, &output), 0) << output;
  const std::vector<float> want = ReadFloats(dir.File("out.f32"));
  ASSERT_EQ(static_cast<int64_t>(want.size()), n);

  const std::vector<float> got = DequantizeWithReference(t.type, blocks.data(), n);
  const int64_t bad = FirstBitMismatch(got.data(), want.data(), n);
  EXPECT_EQ(bad, -1) << GgmlTypeName(t.type) << " block " << bad / traits.block_size << ", "
                     << (bad >= 0 ? DescribeMismatch(got.data(), want.data(), bad) : "");
}

std::vector<ExtraType> CrossCheckedTypes() {
  std::vector<ExtraType> types;
  for (const ExtraType& t : ExtraTypes()) {
    if (t.gguf_py_name[0] != '\0') types.push_back(t);  // gguf 0.19 lacks Q1_0, Q2_0
  }
  return types;
}

std::string ExtraTypeParamName(const ::testing::TestParamInfo<ExtraType>& param_info) {
  return std::string(GgmlTypeName(param_info.param.type));
}

INSTANTIATE_TEST_SUITE_P(ExtraTypes, PythonCrossCheckTest, ::testing::ValuesIn(CrossCheckedTypes()),
                         ExtraTypeParamName);

}  // namespace
}  // namespace ggufkit::testing
