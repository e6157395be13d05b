// gguf-dequant end to end on small generated models: values, metadata,
// formats, thread-count independence, split input, and every error path
// leaving no file at OUT.
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "ggufkit/gguf/reader.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/stream/model_gen.h"
#include "tests/stream/tool_test_util.h"
#ifdef GGUFKIT_HAVE_CUDA
#include "ggufkit/kernels/cuda/cuda_codecs.h"
#endif

namespace ggufkit::stream {
namespace {

using ::ggufkit::testing::PythonPath;
using ::ggufkit::testing::RunCommand;
using ::ggufkit::testing::TempDir;
using testing::CompareWithReference;
using testing::FileExists;
using testing::FilesEqual;
using testing::ListDir;
using testing::RunDequantTool;
using testing::SmallMixedModel;
using testing::ToolRun;
using testing::WriteSplitCopy;
using testing::WriteRandomModel;

class GgufDequantToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    if (!testing::HaveCodecsFor(SmallMixedModel(), &missing)) {
      GTEST_SKIP() << "no reference dequantizer registered for " << missing;
    }
    in_ = dir_.File("in.gguf");
    absl::Status s = WriteRandomModel(in_, SmallMixedModel(), 42);
    ASSERT_TRUE(s.ok()) << s;
  }
  TempDir dir_;
  std::string in_;
};

TEST_F(GgufDequantToolTest, EveryTypeToEveryTargetMatchesReference) {
  for (const char* to : {"fp32", "f16", "bf16"}) {
    const std::string out = dir_.File(absl::StrCat("out-", to, ".gguf"));
    ToolRun run = RunDequantTool({"--to", to, "--threads", "2", in_, out});
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_EQ(run.output, "") << "not a terminal: must be silent";
    const OutputType dense = *ParseOutputType(to);
    absl::Status s = CompareWithReference(in_, out, dense);
    EXPECT_TRUE(s.ok()) << to << ": " << s;
    // Metadata kept, general.file_type set to match the target.
    auto reader = GgufReader::Open(out);
    ASSERT_TRUE(reader.ok()) << reader.status();
    const Metadata& m = (*reader)->metadata();
    EXPECT_EQ(*m.GetString("general.name"), "stream test \"model\"");
    EXPECT_EQ(*m.GetString("general.architecture"), "llama");
    EXPECT_EQ(m.GetArrayString("tokenizer.ggml.tokens")->size(), 4u);
    EXPECT_EQ(*m.GetU32("general.file_type"), DenseFileType(dense));
  }
}

TEST_F(GgufDequantToolTest, OutputBytesDoNotDependOnThreadsOrChunkSize) {
  const std::string one = dir_.File("t1.gguf"), many = dir_.File("t5.gguf");
  ASSERT_EQ(RunDequantTool({"--threads", "1", in_, one}).exit_code, 0);
  ToolRun run = RunDequantTool({"--threads=5", "--chunk-size=64K", in_, many});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(FilesEqual(one, many));
  const std::string buffered = dir_.File("buffered.gguf");
  ASSERT_EQ(RunDequantTool({"--no-direct-io", "--threads", "3", in_, buffered}).exit_code, 0);
  EXPECT_TRUE(FilesEqual(one, buffered));
}

TEST_F(GgufDequantToolTest, TensorsRegexWritesOnlyMatchingTensors) {
  const std::string out = dir_.File("subset.gguf");
  ToolRun run = RunDequantTool({"--tensors", "^blk\\.0\\.(attn|ffn_up)", in_, out});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  std::vector<std::string> names = {"blk.0.attn_norm.weight", "blk.0.attn_q.weight",
                                    "blk.0.attn_v.weight", "blk.0.ffn_up.weight"};
  absl::Status s = CompareWithReference(in_, out, OutputType::kF32, names);
  EXPECT_TRUE(s.ok()) << s;
  run = RunDequantTool({"--tensors", "^nothing$", in_, dir_.File("none.gguf")});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_FALSE(FileExists(dir_.File("none.gguf")));
  run = RunDequantTool({"--tensors", "(unclosed", in_, dir_.File("bad.gguf")});
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.output.find("(unclosed"), std::string::npos) << run.output;
}

TEST_F(GgufDequantToolTest, SplitInputIsReadAsOneModel) {
  auto shards = WriteSplitCopy(in_, dir_.File("split"), 3);
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_GT(shards->size(), 1u);

  const std::string whole = dir_.File("whole.gguf"), from_split = dir_.File("from_split.gguf");
  ASSERT_EQ(RunDequantTool({in_, whole}).exit_code, 0);
  ToolRun run = RunDequantTool({(*shards)[0], from_split});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  // split.* keys are dropped (the output is one file), so the bytes match.
  EXPECT_TRUE(FilesEqual(whole, from_split));
}

TEST_F(GgufDequantToolTest, SafetensorsLoadInPythonWithExactValues) {
  GGUFKIT_REQUIRE_PYTHON_MODULES("gguf, numpy, safetensors");
  const std::string ref = dir_.File("ref.gguf");
  ASSERT_EQ(RunDequantTool({in_, ref}).exit_code, 0);
  for (const char* to : {"fp32", "f16"}) {
    const std::string st = dir_.File(absl::StrCat("out-", to, ".safetensors"));
    ToolRun run = RunDequantTool({"--format", "safetensors", "--to", to, in_, st});
    ASSERT_EQ(run.exit_code, 0) << run.output;
    // Python: load with the safetensors package, compare each tensor's bits
    // with the f32 GGUF output (itself checked against the reference above),
    // converted with numpy for f16 (RNE, like ours).
    const std::string script = dir_.File("check.py");
    std::ofstream(script) << R"PY(
import sys, json
import numpy as np
import gguf
from safetensors import safe_open
from safetensors.numpy import load_file
st_path, ref_path, to = sys.argv[1], sys.argv[2], sys.argv[3]
tensors = load_file(st_path)
ref = gguf.GGUFReader(ref_path)
assert len(tensors) == len(ref.tensors), (len(tensors), len(ref.tensors))
for t in ref.tensors:
    got = tensors[t.name]
    shape = tuple(int(x) for x in reversed(t.shape.tolist()))
    assert got.shape == shape, (t.name, got.shape, shape)
    want = np.asarray(t.data).reshape(shape)
    if want.dtype == np.float32 and to == "f16":
        want = want.astype(np.float16)
    assert got.dtype == want.dtype, (t.name, got.dtype, want.dtype)
    assert got.tobytes() == want.tobytes(), t.name
with safe_open(st_path, "np") as f:
    meta = f.metadata()
assert meta["general.name"] == 'stream test "model"', meta
assert meta["general.file_type"] == ("0" if to == "fp32" else "1"), meta
assert json.loads(meta["tokenizer.ggml.tokens"])[2] == "h\u00e9llo", meta
assert meta["format"] == "pt"
print("ok")
)PY";
    std::string output;
    const int rc =
        RunCommand(absl::StrCat(PythonPath(), " ", script, " ", st, " ", ref, " ", to), &output);
    EXPECT_EQ(rc, 0) << output;
  }
}

TEST_F(GgufDequantToolTest, RefusesToOverwriteInputEvenUnderAnotherName) {
  const std::vector<uint8_t> before = ::ggufkit::testing::ReadFileBytes(in_);
  ASSERT_EQ(symlink(in_.c_str(), dir_.File("link.gguf").c_str()), 0);
  ASSERT_EQ(link(in_.c_str(), dir_.File("hard.gguf").c_str()), 0);
  const std::string dotted = dir_.path() + "/./in.gguf";
  for (const std::string& out : {in_, dotted, dir_.File("link.gguf"), dir_.File("hard.gguf")}) {
    ToolRun run = RunDequantTool({in_, out});
    EXPECT_EQ(run.exit_code, 1) << out;
    EXPECT_NE(run.output.find("refusing to overwrite"), std::string::npos) << run.output;
  }
  EXPECT_EQ(::ggufkit::testing::ReadFileBytes(in_), before);
}

TEST_F(GgufDequantToolTest, BadInputLeavesNoOutput) {
  // Truncated in the middle of the tensor data.
  const std::vector<uint8_t> bytes = ::ggufkit::testing::ReadFileBytes(in_);
  const std::string cut = dir_.File("cut.gguf");
  ASSERT_TRUE(::ggufkit::testing::WriteFileBytes(cut, bytes.data(), bytes.size() - 5000));
  const std::string out_dir = dir_.File("outdir");
  ASSERT_EQ(mkdir(out_dir.c_str(), 0755), 0);
  ToolRun run = RunDequantTool({cut, out_dir + "/out.gguf"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("cut.gguf"), std::string::npos) << run.output;
  EXPECT_TRUE(ListDir(out_dir).empty()) << "left: " << ListDir(out_dir).front();

  run = RunDequantTool({dir_.File("missing.gguf"), out_dir + "/out.gguf"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("missing.gguf"), std::string::npos) << run.output;
  EXPECT_TRUE(ListDir(out_dir).empty());
}

TEST_F(GgufDequantToolTest, FileSizeLimitIsAnErrorAndLeavesNoOutput) {
  // A full disk, simulated: RLIMIT_FSIZE makes writes past 1 MiB fail (EFBIG)
  // the way ENOSPC would; SIGXFSZ is ignored so the tool sees the error.
  const std::string out_dir = dir_.File("limited");
  ASSERT_EQ(mkdir(out_dir.c_str(), 0755), 0);
  const std::string tool = ::ggufkit::testing::ToolsDir() + "/gguf-dequant";
  for (const char* extra : {"", "--no-direct-io"}) {
    std::string output;
    const int rc = RunCommand(absl::StrCat("trap '' XFSZ; ulimit -f 1024; exec ", tool, " ",
                                           extra, " ", in_, " ", out_dir, "/out.gguf"),
                              &output);
    EXPECT_EQ(rc, 1) << output;
    EXPECT_NE(output.find("out.gguf"), std::string::npos) << output;
    EXPECT_TRUE(ListDir(out_dir).empty()) << "left: " << ListDir(out_dir).front();
  }
}

TEST_F(GgufDequantToolTest, CudaDeviceWritesTheSameBytesAsCpu) {
#ifndef GGUFKIT_HAVE_CUDA
  GTEST_SKIP() << "built without CUDA (GGUFKIT_HAVE_CUDA unset)";
#else
  absl::Status available = cuda::DeviceAvailable();
  if (!available.ok()) GTEST_SKIP() << "no usable CUDA device: " << available;
  for (const char* to : {"fp32", "f16", "bf16"}) {
    const std::string cpu = dir_.File(absl::StrCat("cpu-", to, ".gguf"));
    const std::string gpu = dir_.File(absl::StrCat("gpu-", to, ".gguf"));
    ASSERT_EQ(RunDequantTool({"--to", to, in_, cpu}).exit_code, 0);
    ToolRun run = RunDequantTool({"--device", "cuda", "--to", to, in_, gpu});
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_TRUE(FilesEqual(cpu, gpu)) << to;
  }
#endif
}

TEST(GgufDequantFlagsTest, BadFlagsAreUsageErrors) {
  TempDir dir;
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"--to", "q4_K", "a", "b"},
           {"--format", "onnx", "a", "b"},
           {"--threads", "0", "a", "b"},
           {"--chunk-size", "lots", "a", "b"},
           {"--frobnicate", "a", "b"},
           {"only-one"},
           {"--to"}}) {
    ToolRun run = RunDequantTool(args);
    EXPECT_EQ(run.exit_code, 2) << args[0] << ": " << run.output;
    EXPECT_NE(run.output.find("gguf-dequant: "), std::string::npos) << run.output;
  }
#ifndef GGUFKIT_HAVE_CUDA
  ToolRun run = RunDequantTool({"--device", "cuda", "a", "b"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_NE(run.output.find("no CUDA support"), std::string::npos) << run.output;
#endif
}

}  // namespace
}  // namespace ggufkit::stream
