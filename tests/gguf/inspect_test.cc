// gguf-inspect on golden files: text, --json (parsed by Python), --full,
// split models, and one-line errors with non-zero exits.
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/gguf/writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"

namespace ggufkit {
namespace {

using ::ggufkit::testing::GoldenPath;
using ::ggufkit::testing::PythonPath;
using ::ggufkit::testing::RunCommand;
using ::ggufkit::testing::TempDir;
using ::ggufkit::testing::ToolsDir;
using ::testing::HasSubstr;

std::string Inspect() { return ToolsDir() + "/gguf-inspect"; }

// Runs the tool with stdout and stderr captured separately.
int RunInspect(const std::string& args, std::string* out, std::string* err, const TempDir& dir) {
  const std::string err_file = dir.File("stderr.txt");
  out->clear();  // RunCommand appends
  // RunCommand appends 2>&1: the subshell keeps the tool's stderr apart.
  const int rc = RunCommand("(" + Inspect() + " " + args + " 2>" + err_file + ")", out);
  std::vector<uint8_t> e = testing::ReadFileBytes(err_file);
  err->assign(e.begin(), e.end());
  return rc;
}

TEST(InspectTest, TextOutput) {
  TempDir dir;
  std::string out, err;
  ASSERT_EQ(RunInspect(GoldenPath("ggml/q4_K.gguf"), &out, &err, dir), 0) << err;
  EXPECT_TRUE(err.empty()) << err;
  EXPECT_THAT(out, HasSubstr("version:     3"));
  EXPECT_THAT(out, HasSubstr("endianness:  little"));
  EXPECT_THAT(out, HasSubstr("alignment:   32"));
  EXPECT_THAT(out, HasSubstr("data offset: 768"));
  EXPECT_THAT(out, HasSubstr("metadata (14 keys)"));
  EXPECT_THAT(
      out,
      HasSubstr("golden.arr_i32       arr[i32] n=6     [1, -2, 3, -4, 2147483647, -2147483648]"));
  EXPECT_THAT(out, HasSubstr("tensors (3)"));
  EXPECT_THAT(
      out,
      HasSubstr("blk.0.weight_3d q4_K     [4096, 5, 5]                      58528          57600"));
  EXPECT_THAT(out, HasSubstr("q4_K            3              205,056              115,344"));
}

// The final alignment padding missing (ggml and llama.cpp refuse such a
// file): a warning line, and a field in --json; nothing for complete files.
TEST(InspectTest, WarnsAboutMissingFinalPadding) {
  TempDir dir;
  const std::string path = dir.File("unpadded.gguf");
  WriterOptions options;
  options.pad_after_last_tensor = false;
  GgufWriter writer(options);
  const std::vector<int64_t> ne = {3};
  ASSERT_TRUE(writer.AddTensor("t", GgmlType::kF32, ne).ok());
  ASSERT_TRUE(writer.Begin(path).ok());
  const float data[3] = {1, 2, 3};
  ASSERT_TRUE(writer.WriteTensorData(data, sizeof(data)).ok());
  ASSERT_TRUE(writer.Finish().ok());

  std::string out, err;
  ASSERT_EQ(RunInspect(path, &out, &err, dir), 0) << err;
  EXPECT_THAT(out, HasSubstr("warning:     " + path + " ends 20 bytes before the padded end"));
  EXPECT_THAT(out, HasSubstr("final alignment padding is missing"));
  ASSERT_EQ(RunInspect("--json " + path, &out, &err, dir), 0) << err;
  EXPECT_THAT(out, HasSubstr("\"missing_final_padding\": 20,"));
  EXPECT_THAT(out, HasSubstr("\"warnings\": [\"" + path + " ends 20 bytes"));

  ASSERT_EQ(RunInspect(GoldenPath("ggml/q4_K.gguf"), &out, &err, dir), 0) << err;
  EXPECT_EQ(out.find("warning"), std::string::npos);
  ASSERT_EQ(RunInspect("--json " + GoldenPath("ggml/q4_K.gguf"), &out, &err, dir), 0) << err;
  EXPECT_THAT(out, HasSubstr("\"missing_final_padding\": 0,\n  \"warnings\": [],"));
}

TEST(InspectTest, LongArraysSummarizedUnlessFull) {
  TempDir dir;
  std::string out, err;
  const std::string vocab = GoldenPath("real/ggml-vocab-llama-spm.gguf");
  ASSERT_EQ(RunInspect(vocab, &out, &err, dir), 0) << err;
  EXPECT_THAT(out, HasSubstr("tokenizer.ggml.tokens"));
  EXPECT_THAT(out, HasSubstr("... (31992 more)]"));
  EXPECT_LT(out.size(), 20000u);
  ASSERT_EQ(RunInspect("--full " + vocab, &out, &err, dir), 0) << err;
  EXPECT_EQ(out.find("more)]"), std::string::npos);  // (no matcher: the text is huge)
  EXPECT_GT(out.size(), 200000u);
}

TEST(InspectTest, JsonParsesInPython) {
  GGUFKIT_REQUIRE_PYTHON_MODULES("gguf");
  TempDir dir;
  for (const std::string& file :
       {GoldenPath("ggml/q4_K.gguf"), GoldenPath("ggml/all_types_align64.gguf"),
        GoldenPath("real/ggml-vocab-phi-3.gguf")}) {
    SCOPED_TRACE(file);
    std::string out, err;
    const std::string json_path = dir.File("out.json");
    ASSERT_EQ(RunInspect("--json " + file + " >" + json_path, &out, &err, dir), 0) << err;
    const std::string script = dir.File("check.py");
    const std::string code = R"PY(
import json, sys
d = json.load(open(sys.argv[1], encoding='utf-8'))
import gguf
r = gguf.GGUFReader(sys.argv[2]) if 'all_types' not in sys.argv[2] else None
assert d['version'] == 3 and d['endianness'] == 'little', d
assert d['shards'] == 1
keys = [m['key'] for m in d['metadata']]
if r is not None:
    assert keys == [k for k in r.fields if not k.startswith('GGUF.')], keys
    assert [t['name'] for t in d['tensors']] == [t.name for t in r.tensors]
    for a, b in zip(d['tensors'], r.tensors):
        assert a['shape'] == [int(x) for x in b.shape] and a['bytes'] == int(b.n_bytes), a
        assert a['absolute_offset'] == int(b.data_offset), a
    for m in d['metadata']:
        f = r.fields[m['key']]
        if m['type'] == 'arr':
            assert m['count'] == len(f.data), m['key']
            if not m['truncated'] and m['element_type'] in ('str', 'i32', 'u32'):
                assert m['value'] == f.contents(), m['key']
        elif m['type'] in ('str', 'u32', 'i32', 'u8', 'u64', 'bool'):
            assert m['value'] == f.contents(), (m, f.contents())
else:
    assert d['alignment'] == 64 and len(d['tensors']) == 21
    assert d['total']['tensors'] == 21
print('OK')
)PY";
    ASSERT_TRUE(testing::WriteFileBytes(script, code.data(), code.size()));
    std::string py;
    EXPECT_EQ(RunCommand(PythonPath() + " " + script + " " + json_path + " " + file + " 2>&1", &py),
              0)
        << py;
    EXPECT_THAT(py, HasSubstr("OK"));
  }
}

TEST(InspectTest, SplitModelShownAsOne) {
  TempDir dir;
  SplitOptions options;
  options.max_tensors_per_shard = 1;
  GgufSplitWriter w(options);
  ASSERT_TRUE(w.metadata().Set("general.architecture", MetadataValue::String("x")).ok());
  const int64_t ne[] = {8};
  ASSERT_TRUE(w.AddTensor("a", GgmlType::kF32, ne).ok());
  ASSERT_TRUE(w.AddTensor("b", GgmlType::kF32, ne).ok());
  ASSERT_TRUE(w.Begin(dir.File("s")).ok());
  std::vector<uint8_t> data(32);
  ASSERT_TRUE(w.WriteTensorData(data.data(), 32).ok());
  ASSERT_TRUE(w.WriteTensorData(data.data(), 32).ok());
  ASSERT_TRUE(w.Finish().ok());
  std::string out, err;
  ASSERT_EQ(RunInspect(dir.File("s-00002-of-00002.gguf"), &out, &err, dir), 0) << err;
  EXPECT_THAT(out, HasSubstr("shards:      2"));
  EXPECT_THAT(out, HasSubstr("tensors (2)"));
  EXPECT_THAT(out, HasSubstr("shard"));
}

TEST(InspectTest, BadFlagsAreOneLineErrors) {
  TempDir dir;
  std::string out, err;
  EXPECT_EQ(RunInspect("--bogus " + GoldenPath("ggml/q4_K.gguf"), &out, &err, dir), 2);
  EXPECT_THAT(err, HasSubstr("unknown flag '--bogus'"));
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(RunInspect("", &out, &err, dir), 2);
  EXPECT_THAT(err, HasSubstr("missing argument FILE"));
  EXPECT_EQ(RunInspect("--json=maybe x.gguf", &out, &err, dir), 2);
  EXPECT_THAT(err, HasSubstr("--json"));
  EXPECT_EQ(RunInspect("a.gguf b.gguf", &out, &err, dir), 2);
  EXPECT_THAT(err, HasSubstr("unexpected argument 'b.gguf'"));
  EXPECT_EQ(RunInspect("--help", &out, &err, dir), 0);
  EXPECT_THAT(out, HasSubstr("usage: gguf-inspect"));
}

TEST(InspectTest, BadInputIsOneLineError) {
  TempDir dir;
  std::string out, err;
  const std::string junk = dir.File("junk.gguf");
  ASSERT_TRUE(testing::WriteFileBytes(junk, "GGUF\x03\0\0\0junk", 12));
  EXPECT_EQ(RunInspect(junk, &out, &err, dir), 1);
  EXPECT_THAT(err, HasSubstr("junk.gguf"));
  EXPECT_THAT(err, HasSubstr("offset 8"));
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1);
  EXPECT_EQ(RunInspect(dir.File("missing.gguf"), &out, &err, dir), 1);
  EXPECT_THAT(err, HasSubstr("missing.gguf"));
  EXPECT_EQ(RunInspect(dir.path(), &out, &err, dir), 1);
  EXPECT_THAT(err, HasSubstr("directory"));
}

}  // namespace
}  // namespace ggufkit
