// gguf-verify end to end: the built tool against the malformed corpus, the
// golden and real files, generated split sets (missing / extra shard), files
// with a NaN scale, an infinite value or a missing final padding, and its
// hashes against Python's hashlib (tests/verify/crosscheck.py).
#include <dirent.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/writer.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/stream/model_gen.h"
#include "tests/stream/tool_test_util.h"

namespace ggufkit::testing {
namespace {

struct ToolRun {
  int rc = -1;
  std::string out;
};

std::string Quote(const std::string& s) { return "'" + s + "'"; }

ToolRun Verify(const std::string& args) {
  ToolRun r;
  r.rc = RunCommand(ToolsDir() + "/gguf-verify --quiet " + args + " 2>&1", &r.out);
  return r;
}

bool ContainsIgnoreCase(absl::string_view text, absl::string_view phrase) {
  return absl::StrContains(absl::AsciiStrToLower(text), absl::AsciiStrToLower(phrase));
}

std::string CorpusDir() { return TestDataDir() + "/malformed"; }

// Every corpus file is a problem for gguf-verify too: exit 1, the problem
// named (MANIFEST.tsv's phrase), no crash.
TEST(GgufVerifyTest, ReportsEveryMalformedCorpusFile) {
  std::ifstream in(CorpusDir() + "/MANIFEST.tsv");
  std::string line;
  int files = 0;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> f = absl::StrSplit(line, '\t');
    ASSERT_EQ(f.size(), 3u) << line;
    SCOPED_TRACE(f[0]);
    const ToolRun r = Verify("--threads 2 " + Quote(CorpusDir() + "/" + f[0]));
    EXPECT_EQ(r.rc, 1) << r.out;
    const std::vector<std::string> phrases = absl::StrSplit(f[2], '|');
    EXPECT_TRUE(std::any_of(phrases.begin(), phrases.end(),
                            [&](const std::string& p) { return ContainsIgnoreCase(r.out, p); }))
        << "expected '" << f[2] << "' in: " << r.out;
    // The problem line names the file.
    EXPECT_TRUE(absl::StrContains(r.out, f[0].substr(0, f[0].find('-')))) << r.out;
    ++files;
  }
  EXPECT_GE(files, 60);
}

TEST(GgufVerifyTest, GoldenAndRealFilesAreClean) {
  std::vector<std::string> files = {CorpusDir() + "/valid/baseline.gguf",
                                    TestDataDir() + "/sample/tiny-q4_K.gguf"};
  for (const char* dir : {"ggml", "real"}) {
    const std::string d = GoldenPath(dir);
    for (const std::string& name : stream::testing::ListDir(d)) {
      if (absl::EndsWith(name, ".gguf")) files.push_back(d + "/" + name);
    }
  }
  ASSERT_GE(files.size(), 25u);
  std::string all;
  for (const std::string& f : files) absl::StrAppend(&all, " ", Quote(f));
  const ToolRun r = Verify(all);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "problem")) << r.out;
  // One OK line per file.
  size_t ok_lines = 0;
  for (size_t at = r.out.find(": OK ("); at != std::string::npos;
       at = r.out.find(": OK (", at + 1)) {
    ++ok_lines;
  }
  EXPECT_EQ(ok_lines, files.size()) << r.out;
}

// Hashes equal what Python's hashlib computes over the tensor bytes gguf-py
// finds, in gguf-hash's line format and order.
TEST(GgufVerifyTest, HashesMatchPythonHashlib) {
  GGUFKIT_REQUIRE_PYTHON_MODULES("gguf, numpy");
  for (const char* type : {"q4_K", "q8_0", "bf16", "iq4_xs"}) {
    const std::string file = GoldenPath(absl::StrCat("ggml/", type, ".gguf"));
    std::string py;
    ASSERT_EQ(RunCommand(PythonPath() + " " + SourceDir() + "/tests/verify/crosscheck.py hashes " +
                             Quote(file) + " 2>&1",
                         &py),
              0)
        << py;
    const ToolRun r = Verify("--sha1 --sha256 " + Quote(file));
    ASSERT_EQ(r.rc, 0) << r.out;
    std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
    lines.erase(
        std::remove_if(lines.begin(), lines.end(),
                       [](const std::string& l) { return absl::StartsWith(l, "gguf-verify:"); }),
        lines.end());
    EXPECT_EQ(absl::StrJoin(lines, "\n") + "\n", py) << type;
  }
}

// Byte for byte what llama.cpp's own gguf-hash printed for the same files
// (tests/data/verify/gguf-hash-*.txt, names relative to the golden folder).
TEST(GgufVerifyTest, OutputEqualsLlamaCppGgufHash) {
  for (const char* type : {"q4_K", "q6_K", "iq4_xs", "bf16"}) {
    std::vector<uint8_t> want = ReadFileBytes(TestDataDir() + "/verify/gguf-hash-" + type + ".txt");
    ASSERT_FALSE(want.empty());
    std::string got;
    ASSERT_EQ(RunCommand("cd " + Quote(GoldenPath("ggml")) + " && " + ToolsDir() +
                             "/gguf-verify --quiet --xxh64 --sha1 --sha256 --uuid " + type +
                             ".gguf | grep -v '^gguf-verify:'",
                         &got),
              0);
    EXPECT_EQ(got, std::string(want.begin(), want.end())) << type;
  }
}

TEST(GgufVerifyTest, CheckAgainstAListing) {
  TempDir dir;
  const std::string file = GoldenPath("ggml/q6_K.gguf");
  std::string listing;
  ASSERT_EQ(RunCommand(ToolsDir() + "/gguf-verify --quiet --sha256 --xxh64 " + Quote(file) +
                       " | grep -v '^gguf-verify' > " + Quote(dir.File("list.txt"))),
            0);
  ToolRun r = Verify("--check " + Quote(dir.File("list.txt")) + " " + Quote(file));
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "  -  Ok")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "Mismatch")) << r.out;
  // gguf-hash's default with a listing: its most secure type (sha256).
  EXPECT_TRUE(absl::StartsWith(r.out, "sha256  ")) << r.out;
  // One changed digit: that tensor is reported.
  std::vector<uint8_t> text = ReadFileBytes(dir.File("list.txt"));
  std::string s(text.begin(), text.end());
  const size_t at = s.find(":blk.0.weight\n");
  ASSERT_NE(at, std::string::npos);
  const size_t line_start = s.rfind('\n', at) + 1;
  const size_t hex = s.find_first_not_of(' ', s.find(' ', line_start));
  s[hex] = s[hex] == '0' ? '1' : '0';
  ASSERT_TRUE(WriteFileBytes(dir.File("bad.txt"), s.data(), s.size()));
  r = Verify("--check " + Quote(dir.File("bad.txt")) + " --xxh64 " + Quote(file));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "Mismatch")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "tensor 'blk.0.weight'")) << r.out;
}

class SplitSetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    const auto tensors = stream::testing::SmallMixedModel();
    if (!stream::testing::HaveCodecsFor(tensors, &missing)) {
      GTEST_SKIP() << "no reference codec for " << missing;
    }
    ASSERT_TRUE(stream::testing::WriteRandomModel(dir_.File("model.gguf"), tensors, 7).ok());
    auto shards = stream::testing::WriteSplitCopy(dir_.File("model.gguf"), dir_.File("set"), 2);
    ASSERT_TRUE(shards.ok()) << shards.status();
    shards_ = *shards;
    ASSERT_GE(shards_.size(), 3u);
  }
  TempDir dir_;
  std::vector<std::string> shards_;
};

TEST_F(SplitSetTest, CompleteSetIsCleanFromAnyShard) {
  for (const std::string& s : shards_) {
    const ToolRun r = Verify(Quote(s));
    EXPECT_EQ(r.rc, 0) << r.out;
    EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat("split set of ", shards_.size()))) << r.out;
  }
  // Naming every shard verifies the set once.
  std::string all;
  for (const std::string& s : shards_) absl::StrAppend(&all, " ", Quote(s));
  const ToolRun r = Verify(all);
  EXPECT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
}

TEST_F(SplitSetTest, MissingShard) {
  ASSERT_EQ(std::remove(shards_[1].c_str()), 0);
  const ToolRun r = Verify(Quote(shards_[0]));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, absl::StrCat(shards_[1], ": shard 2 of ", shards_.size())))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "is missing")) << r.out;
}

TEST_F(SplitSetTest, ExtraShard) {
  const std::string extra =
      dir_.File(absl::StrFormat("set-%05zu-of-%05zu.gguf", shards_.size() + 1, shards_.size() + 1));
  std::vector<uint8_t> bytes = ReadFileBytes(shards_.back());
  ASSERT_TRUE(WriteFileBytes(extra, bytes.data(), bytes.size()));
  const ToolRun r = Verify(Quote(shards_[0]));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, extra + ": extra shard")) << r.out;
}

// Copies a golden file and patches bytes at `offset_in_tensor` of `tensor`.
std::string PatchedCopy(const TempDir& dir, const std::string& golden, const std::string& tensor,
                        uint64_t offset_in_tensor, const std::vector<uint8_t>& patch) {
  const std::string src = GoldenPath(golden);
  auto reader = GgufReader::Open(src);
  EXPECT_TRUE(reader.ok()) << reader.status();
  const TensorInfo* t = (*reader)->FindTensor(tensor);
  EXPECT_NE(t, nullptr);
  std::vector<uint8_t> bytes = ReadFileBytes(src);
  std::memcpy(bytes.data() + t->absolute_offset + offset_in_tensor, patch.data(), patch.size());
  const std::string out = dir.File("patched.gguf");
  EXPECT_TRUE(WriteFileBytes(out, bytes.data(), bytes.size()));
  return out;
}

TEST(GgufVerifyTest, NanScale) {
  TempDir dir;
  // Q8_0 block 3 of blk.0.weight: its fp16 d (first 2 bytes) = NaN (0x7E00).
  const std::string f = PatchedCopy(dir, "ggml/q8_0.gguf", "blk.0.weight", 3 * 34, {0x00, 0x7E});
  const ToolRun r = Verify(Quote(f));
  EXPECT_EQ(r.rc, 1) << r.out;
  // The offset named is block 3's.
  auto reader = GgufReader::Open(f);
  ASSERT_TRUE(reader.ok());
  const uint64_t block3 = (*reader)->FindTensor("blk.0.weight")->absolute_offset + 3 * 34;
  EXPECT_TRUE(
      absl::StrContains(r.out, absl::StrCat("tensor 'blk.0.weight': offset ", block3, ": ")))
      << r.out;
  EXPECT_TRUE(absl::StrContains(
      r.out, "non-finite (inf or NaN) scale fields: 1, the first in the block at this offset"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "NaN values: 32, infinite values: 0")) << r.out;
}

TEST(GgufVerifyTest, InfiniteValueAndJson) {
  TempDir dir;
  const std::string f = PatchedCopy(dir, "ggml/f16.gguf", "blk.0.weight", 2, {0x00, 0x7C});
  const ToolRun r = Verify("--json " + Quote(f));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(absl::StartsWith(r.out, "{\"ok\":false,")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "\"tensor\":\"blk.0.weight\"")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "\"inf\":1")) << r.out;
}

TEST(GgufVerifyTest, MissingFinalPaddingIsWhatGgmlRefuses) {
  TempDir dir;
  // One 8-float tensor, alignment 64: ggml reads 64 bytes of data section.
  GgufWriter w;
  ASSERT_TRUE(w.metadata().Set("general.architecture", MetadataValue::String("llama")).ok());
  ASSERT_TRUE(w.SetAlignment(64).ok());
  const int64_t ne[1] = {8};
  ASSERT_TRUE(w.AddTensor("t", GgmlType::kF32, ne).ok());
  const std::string path = dir.File("full.gguf");
  ASSERT_TRUE(w.Begin(path).ok());
  const float data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_TRUE(w.WriteTensorData(data, sizeof(data)).ok());
  ASSERT_TRUE(w.Finish().ok());
  ToolRun r = Verify(Quote(path));
  ASSERT_EQ(r.rc, 0) << r.out;
  std::vector<uint8_t> bytes = ReadFileBytes(path);
  ASSERT_EQ(bytes.size() % 64, 0u);
  bytes.resize(bytes.size() - 16);  // the tensor is intact, its padding is not
  ASSERT_TRUE(WriteFileBytes(dir.File("cut.gguf"), bytes.data(), bytes.size()));
  r = Verify(Quote(dir.File("cut.gguf")));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "ggml reads the data section up to")) << r.out;
}

// The format allows any aligned offsets; ggml wants them packed in info order.
TEST(GgufVerifyTest, OffsetsNotPackedAreWhatGgmlRefuses) {
  TempDir dir;
  GgufWriter w;
  ASSERT_TRUE(w.metadata().Set("general.architecture", MetadataValue::String("llama")).ok());
  const int64_t ne[1] = {8};
  ASSERT_TRUE(w.AddTensorAt("a", GgmlType::kF32, ne, 64).ok());  // a gap of 64 bytes first
  ASSERT_TRUE(w.AddTensorAt("b", GgmlType::kF32, ne, 128).ok());
  const std::string path = dir.File("gap.gguf");
  ASSERT_TRUE(w.Begin(path).ok());
  const float data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_TRUE(w.WriteTensorData(data, sizeof(data)).ok());
  ASSERT_TRUE(w.WriteTensorData(data, sizeof(data)).ok());
  ASSERT_TRUE(w.Finish().ok());
  const ToolRun r = Verify(Quote(path));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "tensor 'a'")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "data offset 64 in the data section, ggml expects 0"))
      << r.out;
}

TEST(GgufVerifyTest, MetadataLlamaCppReliesOn) {
  TempDir dir;
  GgufWriter w;
  const std::vector<std::string> tokens = {"a", "b", "c"};
  ASSERT_TRUE(w.metadata().Set("tokenizer.ggml.tokens", MetadataValue::ArrayString(tokens)).ok());
  const float scores[2] = {0, 1};
  ASSERT_TRUE(w.metadata().Set("tokenizer.ggml.scores", MetadataValue::ArrayF32(scores)).ok());
  const uint32_t types[3] = {1, 1, 1};
  ASSERT_TRUE(w.metadata().Set("tokenizer.ggml.token_type", MetadataValue::ArrayU32(types)).ok());
  const std::string path = dir.File("vocab.gguf");
  ASSERT_TRUE(w.Begin(path).ok());
  ASSERT_TRUE(w.Finish().ok());
  const ToolRun r = Verify(Quote(path));
  EXPECT_EQ(r.rc, 1) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "general.architecture is missing")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "tokenizer.ggml.scores has 2 entries for 3 tokens"))
      << r.out;
  EXPECT_TRUE(absl::StrContains(
      r.out, "tokenizer.ggml.token_type is an array of u32, llama.cpp reads it as an array of i32"))
      << r.out;
}

TEST(GgufVerifyTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Verify("").rc, 2);
  EXPECT_EQ(Verify("--hash md5 x.gguf").rc, 2);
  EXPECT_EQ(Verify("--bogus x.gguf").rc, 2);
}

}  // namespace
}  // namespace ggufkit::testing
