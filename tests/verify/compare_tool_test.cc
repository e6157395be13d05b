// gguf-compare end to end: a file against itself, quantized golden files
// against their input (metrics checked by numpy in tests/verify/crosscheck.py),
// gguf-dequant's safetensors and an HF-style safetensors file against the GGUF
// they came from, a big-endian file against its little-endian twin, and
// compressed (.gguf.zst) inputs.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/writer.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/zstd/zstd_test_util.h"

namespace ggufkit::testing {
namespace {

struct ToolRun {
  int rc = -1;
  std::string out;
};

std::string Quote(const std::string& s) { return "'" + s + "'"; }

ToolRun Tool(const std::string& tool, const std::string& args) {
  ToolRun r;
  r.rc = RunCommand(ToolsDir() + "/" + tool + " " + args, &r.out);
  return r;
}

ToolRun Py(const std::string& args) {
  ToolRun r;
  r.rc = RunCommand(
      PythonPath() + " " + SourceDir() + "/tests/verify/crosscheck.py " + args + " 2>&1", &r.out);
  return r;
}

TEST(GgufCompareTest, FileAgainstItselfIsIdentical) {
  GGUFKIT_REQUIRE_PYTHON_MODULES("gguf, numpy, safetensors");
  TempDir dir;
  for (const char* f : {"ggml/q4_K.gguf", "ggml/all_types_align64.gguf"}) {
    const std::string file = GoldenPath(f);
    ToolRun r = Tool("gguf-compare", "--quiet --json " + Quote(file) + " " + Quote(file) + " > " +
                                         Quote(dir.File("self.json")));
    ASSERT_EQ(r.rc, 0) << r.out;
    r = Py("identical " + Quote(dir.File("self.json")));
    EXPECT_EQ(r.rc, 0) << f << ": " << r.out;
    r = Tool("gguf-compare", "--quiet " + Quote(file) + " " + Quote(file));
    EXPECT_EQ(r.rc, 0) << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, "100.00%")) << r.out;
    EXPECT_FALSE(absl::StrContains(r.out, "only in")) << r.out;
    EXPECT_FALSE(absl::StrContains(r.out, "differ")) << r.out;
  }
}

// The input as a GGUF (written by gguf-py) against each quantized golden file:
// the metrics equal numpy's over input.f32 and ggml's own <type>.deq.f32.
TEST(GgufCompareTest, QuantizedGoldenAgainstItsInputMatchesNumpy) {
  GGUFKIT_REQUIRE_PYTHON_MODULES("gguf, numpy, safetensors");
  TempDir dir;
  const std::string input = dir.File("input.gguf");
  ToolRun r = Py("make-input-gguf " + Quote(GoldenPath("ggml/input.f32")) + " " + Quote(input));
  ASSERT_EQ(r.rc, 0) << r.out;
  for (const char* type :
       {"q4_0", "q8_0", "q2_K", "q4_K", "q6_K", "iq4_xs", "bf16", "tq1_0", "mxfp4"}) {
    SCOPED_TRACE(type);
    const std::string json = dir.File(absl::StrCat(type, ".json"));
    r = Tool("gguf-compare",
             "--quiet --json --threads 2 --tensors '^blk\\.0\\.weight$' " + Quote(input) + " " +
                 Quote(GoldenPath(absl::StrCat("ggml/", type, ".gguf"))) + " > " + Quote(json));
    ASSERT_EQ(r.rc, 0) << r.out;
    r = Py("metrics " + Quote(json) + " " + Quote(GoldenPath("ggml/input.f32")) + " " +
           Quote(GoldenPath(absl::StrCat("ggml/", type, ".deq.f32"))) + " blk.0.weight");
    EXPECT_EQ(r.rc, 0) << r.out;
  }
  // The text view: the other golden tensors and keys are listed as one-sided,
  // general.architecture as a differing value.
  r = Tool("gguf-compare", "--quiet " + Quote(input) + " " + Quote(GoldenPath("ggml/q4_K.gguf")));
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "tensors only in B (2)")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "general.architecture\n    A: \"llama\"")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "f32 -> q4_K")) << r.out;
}

TEST(GgufCompareTest, SafetensorsFromGgufIsIdentical) {
  GGUFKIT_REQUIRE_PYTHON_MODULES("gguf, numpy, safetensors");
  TempDir dir;
  const std::string gguf = GoldenPath("ggml/q4_K.gguf");
  const std::string st = dir.File("q4_K.safetensors");
  ToolRun r = Tool("gguf-dequant", "--quiet --format safetensors " + Quote(gguf) + " " + Quote(st));
  ASSERT_EQ(r.rc, 0) << r.out;
  r = Tool("gguf-compare",
           "--quiet --json " + Quote(gguf) + " " + Quote(st) + " > " + Quote(dir.File("st.json")));
  ASSERT_EQ(r.rc, 0) << r.out;
  r = Py("identical " + Quote(dir.File("st.json")));
  EXPECT_EQ(r.rc, 0) << r.out;
  // An HF-style file of the input, paired by --map, against the f32 GGUF.
  const std::string hf = dir.File("hf.safetensors");
  const std::string input = dir.File("input.gguf");
  ASSERT_EQ(Py("make-hf-safetensors " + Quote(GoldenPath("ggml/input.f32")) + " " + Quote(hf)).rc,
            0);
  ASSERT_EQ(Py("make-input-gguf " + Quote(GoldenPath("ggml/input.f32")) + " " + Quote(input)).rc,
            0);
  const std::string map = dir.File("map.txt");
  const std::string map_text = "# GGUF name -> HF name\nblk.0.weight model.layers.0.weight\n";
  ASSERT_TRUE(WriteFileBytes(map, map_text.data(), map_text.size()));
  r = Tool("gguf-compare", "--quiet --json --map " + Quote(map) + " " + Quote(input) + " " +
                               Quote(hf) + " > " + Quote(dir.File("hf.json")));
  ASSERT_EQ(r.rc, 0) << r.out;
  r = Py("identical " + Quote(dir.File("hf.json")));
  EXPECT_EQ(r.rc, 0) << r.out;
  // A sharded HF checkpoint: naming shard 1 reads both.
  ASSERT_EQ(
      Py("make-hf-sharded " + Quote(GoldenPath("ggml/input.f32")) + " " + Quote(dir.File("model")))
          .rc,
      0);
  r = Tool("gguf-compare", "--quiet --json --map " + Quote(map) + " " + Quote(input) + " " +
                               Quote(dir.File("model-00001-of-00002.safetensors")) + " > " +
                               Quote(dir.File("sharded.json")));
  ASSERT_EQ(r.rc, 0) << r.out;
  r = Py("identical " + Quote(dir.File("sharded.json")));
  EXPECT_EQ(r.rc, 0) << r.out;
  std::vector<uint8_t> json = ReadFileBytes(dir.File("sharded.json"));
  EXPECT_TRUE(absl::StrContains(std::string(json.begin(), json.end()),
                                "\"only_in_b\":[\"model.norm.weight\"]"));
}

// gguf-py's byte-swapped twin of a sample (tests/data/sample/endian-*.gguf):
// the same values and metadata.
TEST(GgufCompareTest, BigEndianTwinIsIdentical) {
  const std::string le = TestDataDir() + "/sample/endian-le.gguf";
  const std::string be = TestDataDir() + "/sample/endian-be.gguf";
  ToolRun r = Tool("gguf-compare", "--quiet " + Quote(le) + " " + Quote(be) + " 2>&1");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "100.00%")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "ERROR")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "only in")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "differ")) << r.out;
}

// .gguf.zst against its plain file, and against itself compressed (each read
// once, front to back); two compressed files whose tensors are stored in
// different orders are refused with the way out.
TEST(GgufCompareTest, CompressedInputs) {
  TempDir dir;
  const std::string plain = GoldenPath("ggml/all_types_align64.gguf");
  const std::vector<uint8_t> bytes = ReadFileBytes(plain);
  const std::vector<uint8_t> packed = ZstdCompress(bytes);
  const std::string zst = dir.File("model.gguf.zst");
  const std::string zst2 = dir.File("copy.gguf.zst");
  ASSERT_TRUE(WriteFileBytes(zst, packed.data(), packed.size()));
  ASSERT_TRUE(WriteFileBytes(zst2, packed.data(), packed.size()));
  const ToolRun want = Tool("gguf-compare", "--quiet " + Quote(plain) + " " + Quote(plain));
  ASSERT_EQ(want.rc, 0) << want.out;
  auto body = [](const std::string& out) { return out.substr(out.find("\n\n")); };
  for (const auto& [x, y] : {std::make_pair(zst, plain), std::make_pair(plain, zst),
                             std::make_pair(zst, zst2)}) {
    ToolRun r = Tool("gguf-compare", "--quiet --threads 2 " + Quote(x) + " " + Quote(y) + " 2>&1");
    EXPECT_EQ(r.rc, 0) << r.out;
    // The same table as the uncompressed comparison (only the A/B lines differ).
    EXPECT_EQ(body(r.out), body(want.out)) << x << " vs " << y;
  }
  // The same file with its tensors stored in reverse order.
  const std::string reordered = dir.File("reordered.gguf");
  {
    auto reader = GgufReader::Open(plain);
    ASSERT_TRUE(reader.ok()) << reader.status();
    GgufWriter w;
    w.metadata() = (*reader)->metadata();
    std::vector<TensorInfo> tensors = (*reader)->tensors();
    std::reverse(tensors.begin(), tensors.end());
    for (const TensorInfo& t : tensors) {
      ASSERT_TRUE(w.AddTensor(t.name, t.type,
                              absl::MakeConstSpan(t.ne.data(), static_cast<size_t>(t.n_dims)))
                      .ok());
    }
    ASSERT_TRUE(w.Begin(reordered).ok());
    for (const TensorInfo& t : tensors) {
      std::vector<uint8_t> data(static_cast<size_t>(t.size_bytes));
      ASSERT_TRUE((*reader)->ReadTensorBytes(t, 0, data.data(), data.size()).ok());
      ASSERT_TRUE(w.WriteTensorData(data.data(), data.size()).ok());
    }
    ASSERT_TRUE(w.Finish().ok());
  }
  const std::vector<uint8_t> rpacked = ZstdCompress(ReadFileBytes(reordered));
  const std::string rzst = dir.File("reordered.gguf.zst");
  ASSERT_TRUE(WriteFileBytes(rzst, rpacked.data(), rpacked.size()));
  // Plain A in another order than compressed B: the pairs go in B's order,
  // the report keeps A's; every pair identical.
  ToolRun r = Tool("gguf-compare", "--quiet " + Quote(reordered) + " " + Quote(zst) + " 2>&1");
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "ERROR")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "\nmodel          21 tensors")) << r.out;
  for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
    if (absl::EndsWith(line, "%")) {
      EXPECT_TRUE(absl::EndsWith(line, " 100.00%")) << line;
    }
  }
  r = Tool("gguf-compare", "--quiet " + Quote(rzst) + " " + Quote(zst) + " 2>&1");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "different orders")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "zstd -d")) << r.out;
}

TEST(GgufCompareTest, ShapeMismatchAndErrors) {
  TempDir dir;
  const std::string map = dir.File("map.txt");
  const std::string map_text = "tiny blk.0.weight\n";
  ASSERT_TRUE(WriteFileBytes(map, map_text.data(), map_text.size()));
  const std::string f = GoldenPath("ggml/q4_K.gguf");
  ToolRun r = Tool("gguf-compare", "--quiet --map " + Quote(map) + " --tensors '^tiny$' " +
                                       Quote(f) + " " + Quote(f));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "shapes differ")) << r.out;
  r = Tool("gguf-compare", "--quiet " + Quote(f) + " " + Quote(dir.File("absent.gguf")) + " 2>&1");
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "absent.gguf")) << r.out;
  EXPECT_EQ(Tool("gguf-compare", Quote(f) + " 2>/dev/null").rc, 2);
}

}  // namespace
}  // namespace ggufkit::testing
