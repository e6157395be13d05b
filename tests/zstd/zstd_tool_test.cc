// gguf-inspect and gguf-dequant on zstd streams: .gguf.zst input gives the
// same results as the plain file, --compress output round-trips through the
// stock `zstd` CLI, errors are clean, and the 400 MB peak-RSS promise holds
// for compressed input and compressed output.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/stream/model_gen.h"
#include "tests/stream/tool_test_util.h"

namespace ggufkit::stream {
namespace {

using ::ggufkit::testing::ReadFileBytes;
using ::ggufkit::testing::RunCommand;
using ::ggufkit::testing::TempDir;
using ::ggufkit::testing::ToolsDir;
using ::ggufkit::testing::WriteFileBytes;
using ::testing::HasSubstr;
using testing::FileExists;
using testing::FilesEqual;
using testing::ListDir;
using testing::RunDequantTool;
using testing::WriteSplitCopy;
using testing::ToolRun;

constexpr int64_t kRssBudgetKb = 128 * 1024;

// `zstd` CLI: compresses `in` to `out` (kept), with extra flags.
void ZstdCli(const std::string& flags, const std::string& in, const std::string& out) {
  std::string log;
  ASSERT_EQ(RunCommand(absl::StrCat("zstd -q -f ", flags, " ", in, " -o ", out), &log), 0) << log;
}

// True when `zstd -dc compressed` gives exactly the bytes of `plain`.
bool ZstdDecompressesTo(const std::string& compressed, const std::string& plain) {
  std::string log;
  const int rc = RunCommand(absl::StrCat("zstd -q -dc ", compressed, " | cmp - ", plain), &log);
  if (rc != 0) ADD_FAILURE() << "zstd -dc " << compressed << " | cmp " << plain << ": " << log;
  return rc == 0;
}

std::string Inspect(const std::string& args, int* rc) {
  std::string out;
  *rc = RunCommand(absl::StrCat(ToolsDir(), "/gguf-inspect ", args, " 2>&1"), &out);
  return out;
}

class ZstdToolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string missing;
    if (!testing::HaveCodecsFor(testing::SmallMixedModel(), &missing)) {
      GTEST_SKIP() << "no reference dequantizer registered for " << missing;
    }
    in_ = dir_.File("in.gguf");
    absl::Status s = testing::WriteRandomModel(in_, testing::SmallMixedModel(), 42);
    ASSERT_TRUE(s.ok()) << s;
    in_zst_ = in_ + ".zst";
    ZstdCli("-3", in_, in_zst_);
  }
  TempDir dir_;
  std::string in_;
  std::string in_zst_;
};

TEST_F(ZstdToolTest, InspectOfZstMatchesThePlainFile) {
  const std::string sample = ::ggufkit::testing::TestDataDir() + "/sample/tiny-q4_K.gguf";
  const std::string sample_zst = dir_.File("tiny-q4_K.gguf.zst");
  ZstdCli("-19", sample, sample_zst);
  for (const auto& [plain, zst] : {std::pair{in_, in_zst_}, std::pair{sample, sample_zst}}) {
    for (const char* flags : {"", "--json", "--full"}) {
      int rc_plain = -1, rc_zst = -1;
      const std::string a = Inspect(absl::StrCat(flags, " ", plain), &rc_plain);
      std::string b = Inspect(absl::StrCat(flags, " ", zst), &rc_zst);
      ASSERT_EQ(rc_plain, 0) << a;
      ASSERT_EQ(rc_zst, 0) << b;
      // The only difference allowed: the file name shown.
      b = absl::StrReplaceAll(b, {{zst, plain}});
      EXPECT_EQ(a, b) << flags << " " << zst;
      EXPECT_THAT(a, HasSubstr("file")) << "file size shown for both";
    }
  }
}

TEST_F(ZstdToolTest, DequantOfZstInputIsByteIdentical) {
  for (const std::vector<std::string>& flags :
       std::vector<std::vector<std::string>>{{}, {"--to", "f16"}, {"--format", "safetensors"},
                                             {"--threads", "3", "--tensors", "blk"}}) {
    const std::string a = dir_.File("a.out"), b = dir_.File("b.out");
    std::vector<std::string> args = flags;
    args.push_back(in_);
    args.push_back(a);
    ToolRun plain = RunDequantTool(args);
    ASSERT_EQ(plain.exit_code, 0) << plain.output;
    args[args.size() - 2] = in_zst_;
    args.back() = b;
    ToolRun zst = RunDequantTool(args);
    ASSERT_EQ(zst.exit_code, 0) << zst.output;
    EXPECT_TRUE(FilesEqual(a, b)) << absl::StrJoin(flags, " ");
  }
  // The stream is also accepted without the .zst suffix (the magic decides).
  const std::string renamed = dir_.File("renamed.gguf");
  ASSERT_EQ(RunCommand(absl::StrCat("cp ", in_zst_, " ", renamed)), 0);
  const std::string a = dir_.File("a2.gguf"), b = dir_.File("b2.gguf");
  ASSERT_EQ(RunDequantTool({in_, a}).exit_code, 0);
  ASSERT_EQ(RunDequantTool({renamed, b}).exit_code, 0);
  EXPECT_TRUE(FilesEqual(a, b));
}

TEST_F(ZstdToolTest, CompressedOutputRoundTripsThroughTheZstdCli) {
  const std::string plain = dir_.File("plain.gguf");
  ASSERT_EQ(RunDequantTool({in_, plain}).exit_code, 0);
  // OUT ending in .zst: zstd level 3 by default.
  const std::string by_suffix = dir_.File("out.gguf.zst");
  ToolRun run = RunDequantTool({"--threads", "2", in_, by_suffix});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(ZstdDecompressesTo(by_suffix, plain));
  EXPECT_LT(ReadFileBytes(by_suffix).size(), ReadFileBytes(plain).size());
  // Explicit levels, any output name, compressed input too.
  const std::string l1 = dir_.File("l1.bin"), l19 = dir_.File("l19.gguf.zst");
  ASSERT_EQ(RunDequantTool({"--compress", "zstd:1", in_zst_, l1}).exit_code, 0);
  ASSERT_EQ(RunDequantTool({"--compress=zstd:19", "--threads", "1", in_, l19}).exit_code, 0);
  EXPECT_TRUE(ZstdDecompressesTo(l1, plain));
  EXPECT_TRUE(ZstdDecompressesTo(l19, plain));
  // --compress none with a .zst name writes it plain.
  const std::string none = dir_.File("none.gguf.zst");
  ASSERT_EQ(RunDequantTool({"--compress", "none", in_, none}).exit_code, 0);
  EXPECT_TRUE(FilesEqual(none, plain));
  // safetensors output compressed.
  const std::string st = dir_.File("st.safetensors"), st_zst = dir_.File("st.safetensors.zst");
  ASSERT_EQ(RunDequantTool({"--format", "safetensors", in_, st}).exit_code, 0);
  ASSERT_EQ(RunDequantTool({"--format", "safetensors", in_, st_zst}).exit_code, 0);
  EXPECT_TRUE(ZstdDecompressesTo(st_zst, st));
  // Our own reader reads the compressed GGUF back, with its size recorded.
  auto reader = GgufReader::Open(by_suffix);
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->file_size(), std::optional<uint64_t>(ReadFileBytes(plain).size()));
  // Bad levels are usage errors and leave nothing.
  const std::string bad = dir_.File("bad.gguf.zst");
  ToolRun bad_run = RunDequantTool({"--compress", "zstd:42", in_, bad});
  EXPECT_EQ(bad_run.exit_code, 2) << bad_run.output;
  EXPECT_THAT(bad_run.output, HasSubstr("--compress"));
  EXPECT_FALSE(FileExists(bad));
}

TEST_F(ZstdToolTest, TruncatedAndCorruptInputAreCleanErrorsNamingTheFile) {
  const std::vector<uint8_t> z = ReadFileBytes(in_zst_);
  const std::string cut = dir_.File("cut.gguf.zst");
  ASSERT_TRUE(WriteFileBytes(cut, z.data(), z.size() * 2 / 3));
  const std::string out = dir_.File("out.gguf");
  ToolRun run = RunDequantTool({cut, out});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr(cut));
  EXPECT_THAT(run.output, HasSubstr("truncated zstd stream"));
  EXPECT_FALSE(FileExists(out));
  int rc = 0;
  const std::string text = Inspect(cut, &rc);
  EXPECT_NE(rc, 0);
  EXPECT_THAT(text, HasSubstr(cut));

  // A flipped byte deep in the data: found while decompressing (checksum or
  // block decoding), after the header was parsed; the output never appears.
  std::vector<uint8_t> bad = z;
  bad[bad.size() * 3 / 4] ^= 0x40;
  const std::string corrupt = dir_.File("corrupt.gguf.zst");
  ASSERT_TRUE(WriteFileBytes(corrupt, bad.data(), bad.size()));
  run = RunDequantTool({"--threads", "2", corrupt, out});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr(corrupt));
  EXPECT_FALSE(FileExists(out));
  for (const std::string& name : ListDir(dir_.path())) {
    EXPECT_EQ(name.find(".tmp"), std::string::npos) << "temp file left: " << name;
  }
}

TEST_F(ZstdToolTest, TensorsOutOfFileOrderNeedRandomAccess) {
  // Swap the data offsets of two same-shaped tensors: infos then list them
  // out of file order, which a forward-only stream cannot serve.
  const std::string model = dir_.File("pair.gguf");
  ASSERT_TRUE(testing::WriteRandomModel(model,
                                        {{"first", GgmlType::kQ8_0, {256, 4}},
                                         {"second", GgmlType::kQ8_0, {256, 4}},
                                         {"norm", GgmlType::kF32, {64}}},
                                        5)
                  .ok());
  auto reader = GgufReader::Open(model);
  ASSERT_TRUE(reader.ok()) << reader.status();
  const std::vector<TensorInfo>& ts = (*reader)->tensors();
  ASSERT_EQ(ts.size(), 3u);
  const int first = 0, second = 1;
  // The u64 offset ends each info record: name (u64 len + bytes), u32 n_dims,
  // n_dims x u64, u32 type, u64 offset.
  auto offset_field = [&](const TensorInfo& t) {
    return t.info_offset + 8 + t.name.size() + 4 + 8 * t.n_dims + 4;
  };
  std::vector<uint8_t> bytes = ReadFileBytes(model);
  const uint64_t fa = offset_field(ts[first]), fb = offset_field(ts[second]);
  for (int k = 0; k < 8; ++k) std::swap(bytes[fa + k], bytes[fb + k]);
  const std::string swapped = dir_.File("swapped.gguf");
  ASSERT_TRUE(WriteFileBytes(swapped, bytes.data(), bytes.size()));
  ZstdCli("-1", swapped, swapped + ".zst");
  // Plain file: fine (random access). Stream: a clear error.
  ASSERT_EQ(RunDequantTool({swapped, dir_.File("ok.gguf")}).exit_code, 0);
  const std::string out = dir_.File("no.gguf");
  ToolRun run = RunDequantTool({swapped + ".zst", out});
  EXPECT_EQ(run.exit_code, 1) << run.output;
  EXPECT_THAT(run.output, HasSubstr(absl::StrCat(swapped, ".zst is a zstd stream")));
  EXPECT_THAT(run.output, HasSubstr("gguf-dequant needs random access"));
  EXPECT_FALSE(FileExists(out));
  // gguf-inspect reads only the header: it works on the same stream.
  int rc = 0;
  const std::string text = Inspect(swapped + ".zst", &rc);
  EXPECT_EQ(rc, 0) << text;
}

TEST_F(ZstdToolTest, SplitShardsCompressedAreReadAsOneModel) {
  auto shards = WriteSplitCopy(in_, dir_.File("split"), 3);
  ASSERT_TRUE(shards.ok()) << shards.status();
  ASSERT_GT(shards->size(), 1u);
  for (const std::string& shard : *shards) {
    ZstdCli("--rm", shard, shard + ".zst");
  }
  const std::string whole = dir_.File("whole.gguf"), from_split = dir_.File("from_split.gguf");
  ASSERT_EQ(RunDequantTool({in_, whole}).exit_code, 0);
  // Any shard names the model; the others are found with the same suffix.
  ToolRun run = RunDequantTool({(*shards)[1] + ".zst", from_split});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(FilesEqual(whole, from_split));
  int rc = 0;
  const std::string text = Inspect((*shards)[0] + ".zst", &rc);
  EXPECT_EQ(rc, 0) << text;
}

// The peak-RSS promise (stream's large_model_rss_test) with a compressed
// input and with compressed output.
TEST(ZstdLargeModelRssTest, ZstInputAndCompressedOutputStayUnder128MiB) {
#if defined(GGUFKIT_TESTING_UNDER_ASAN)
  GTEST_SKIP() << "AddressSanitizer build: its shadow memory and quarantine make RSS "
                  "meaningless; this budget is checked in the Release build";
#endif
  TempDir dir;
  const std::string in = dir.File("large.gguf");
  std::string skip;
  absl::Status s = testing::WriteLargeModelForRssTest(in, uint64_t{8} << 30, &skip);
  if (!skip.empty()) GTEST_SKIP() << skip;
  ASSERT_TRUE(s.ok()) << s;
  const std::string in_zst = in + ".zst";
  ZstdCli("-1 -T2", in, in_zst);

  // 1. Compressed input: bounded memory, output equal to the reference.
  const std::string out = dir.File("large-f32.gguf");
  ToolRun run = RunDequantTool({"--quiet", in_zst, out});
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_LT(run.max_rss_kb, kRssBudgetKb) << "zst input: peak RSS " << run.max_rss_kb / 1024
                                          << " MiB";
  RecordProperty("zst_input_peak_rss_kib", static_cast<int>(run.max_rss_kb));
  s = testing::CompareWithReference(in, out, OutputType::kF32);
  EXPECT_TRUE(s.ok()) << s;

  // 2. Compressed output, default threads (all cores) and 16 threads (the
  // most workers the memory budget lets zstd use, whatever the core count).
  for (const char* threads : {"0", "16"}) {
    const std::string out_zst = dir.File("large-f32.gguf.zst");
    std::vector<std::string> args = {"--quiet", in, out_zst};
    if (std::string(threads) != "0") args.insert(args.begin(), {"--threads", threads});
    run = RunDequantTool(args);
    ASSERT_EQ(run.exit_code, 0) << run.output;
    EXPECT_LT(run.max_rss_kb, kRssBudgetKb)
        << "--compress zstd, threads " << threads << ": peak RSS " << run.max_rss_kb / 1024
        << " MiB";
    RecordProperty(absl::StrCat("zst_output_threads_", threads, "_peak_rss_kib"),
                   static_cast<int>(run.max_rss_kb));
    EXPECT_TRUE(ZstdDecompressesTo(out_zst, out));
    std::remove(out_zst.c_str());
  }
}

}  // namespace
}  // namespace ggufkit::stream
