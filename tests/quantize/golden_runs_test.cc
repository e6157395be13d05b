// gguf-quantize against every llama-quantize run of the golden set
// (tests/data/llama-quantize/runs.tsv): the same command line, run in a
// folder holding the same inputs under the same relative names, must write
// the same bytes (whole-file sha256) or refuse the same way (exit 1, one line
// naming the problem, no output file).
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/malformed/child_process.h"
#include "tests/quantize/quantize_test_util.h"

namespace ggufkit::quantize::testing {
namespace {

using ::ggufkit::testing::ChildResult;
using ::ggufkit::testing::RunChild;

std::string Tool() { return ::ggufkit::testing::ToolsDir() + "/gguf-quantize"; }

bool Exists(const std::string& p) { return access(p.c_str(), F_OK) == 0; }

ChildResult RunTool(const std::string& dir, std::vector<std::string> args) {
  args.insert(args.begin(), Tool());
  return RunChild(args, dir, 120);
}

// Runs the plain Q8_0 quantization of llama-8l (the requantize runs' input).
void EnsureQ8Input(const std::string& dir) {
  if (Exists(dir + "/llama-8l.Q8_0.gguf")) return;
  ChildResult r = RunTool(dir, {"--quiet", "llama-8l.f16.gguf", "llama-8l.Q8_0.gguf", "Q8_0", "2"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

// A quantizer that is not registered (none today) or the fork's TQ3_1S/TQ4_1S
// types, which are not ggml types this project implements.
std::string PendingReason(const ReferenceRun& run, const std::string& err) {
  if (absl::StrContains(err, "is not supported yet")) {
    return "needs a quantizer that is not registered yet: " + err;
  }
  if (absl::StrContains(err, "does not implement")) return err;
  (void)run;
  return "";
}

class GoldenRunTest : public ::testing::TestWithParam<ReferenceRun> {};

TEST_P(GoldenRunTest, SameBytesOrSameRefusal) {
  const ReferenceRun& run = GetParam();
  std::string skip;
  const std::string dir = GoldenWorkDir(&skip);
  if (dir.empty()) GTEST_SKIP() << skip;
  if (run.input() == "llama-8l.Q8_0.gguf") EnsureQ8Input(dir);
  const std::string out = dir + "/" + run.output();
  if (run.output() != "llama-8l.Q8_0.gguf") unlink(out.c_str());
  std::vector<std::string> args = {"--quiet"};
  args.insert(args.end(), run.args.begin(), run.args.end());
  ChildResult r = RunTool(dir, args);
  ASSERT_TRUE(r.exited) << "signal " << r.signal << ": " << r.err;
  if (run.exit_status != 0) {
    EXPECT_EQ(r.exit_code, 1) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_TRUE(absl::StrContains(r.err, run.error_phrase))
        << "expected '" << run.error_phrase << "' in: " << r.err;
    EXPECT_FALSE(Exists(out)) << "left " << out;
    return;
  }
  if (r.exit_code != 0) {
    const std::string reason = PendingReason(run, r.err);
    EXPECT_FALSE(Exists(out));
    if (!reason.empty()) GTEST_SKIP() << reason;
  }
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sha256File(out), run.file_sha256)
      << run.label << ": bytes differ from llama-quantize's";
  if (run.output() != "llama-8l.Q8_0.gguf") unlink(out.c_str());
}

// The dry run's per-tensor types equal llama-quantize's for every successful
// run, including those whose quantizers are still missing.
TEST_P(GoldenRunTest, DryRunTypesMatch) {
  const ReferenceRun& run = GetParam();
  if (run.exit_status != 0) GTEST_SKIP() << "a refused run has no types";
  static const auto* types = new auto(LoadReferenceTypes());
  auto it = types->find(run.label);
  ASSERT_NE(it, types->end());
  std::string skip;
  const std::string dir = GoldenWorkDir(&skip);
  if (dir.empty()) GTEST_SKIP() << skip;
  if (run.input() == "llama-8l.Q8_0.gguf") EnsureQ8Input(dir);
  std::vector<std::string> args = {"--dry-run"};
  args.insert(args.end(), run.args.begin(), run.args.end());
  ChildResult r = RunTool(dir, args);
  if (r.exit_code != 0 && absl::StrContains(r.err, "does not implement")) GTEST_SKIP() << r.err;
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // Lines: "[   i/   n] name shape from -> to ..."
  std::vector<std::pair<std::string, std::string>> got;
  for (absl::string_view line : absl::StrSplit(r.out, '\n')) {
    if (!absl::StartsWith(line, "[")) continue;
    std::vector<std::string> w =
        absl::StrSplit(line.substr(line.find(']') + 1), ' ', absl::SkipEmpty());
    auto arrow = std::find(w.begin(), w.end(), "->");
    ASSERT_TRUE(arrow != w.end() && arrow + 1 != w.end()) << line;
    got.emplace_back(w[0], *(arrow + 1));
  }
  EXPECT_EQ(got, it->second);
}

std::string RunName(const ::testing::TestParamInfo<ReferenceRun>& info) {
  std::string n = info.param.label;
  for (char& c : n) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return n;
}

INSTANTIATE_TEST_SUITE_P(LlamaQuantize, GoldenRunTest, ::testing::ValuesIn(LoadReferenceRuns()),
                         RunName);

// llama-quantize's command-line conventions.
TEST(ToolCliTest, CommandLineAsLlamaQuantize) {
  std::string skip;
  const std::string dir = GoldenWorkDir(&skip);
  if (dir.empty()) GTEST_SKIP() << skip;
  std::string want;
  for (const ReferenceRun& r : LoadReferenceRuns()) {
    if (r.label == "deepseek2.Q8_0") want = r.file_sha256;
  }
  // IN TYPE [THREADS]: the output is ggml-model-TYPE.gguf beside IN.
  const std::string auto_out = dir + "/ggml-model-Q8_0.gguf";
  unlink(auto_out.c_str());
  ChildResult r = RunTool(dir, {"--quiet", "deepseek2.f16.gguf", "q8_0", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sha256File(auto_out), want);
  unlink(auto_out.c_str());
  // Numeric TYPE, --threads overriding THREADS.
  r = RunTool(dir, {"--quiet", "--threads", "3", "deepseek2.f16.gguf", "num.gguf", "7", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Sha256File(dir + "/num.gguf"), want);
  unlink((dir + "/num.gguf").c_str());
  // --dry-run --json: one JSON object on stdout, nothing written.
  r = RunTool(dir, {"--dry-run", "--json", "deepseek2.f16.gguf", "dry.gguf", "Q4_K_M"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StartsWith(r.out, "{\"input\":")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "\"fallback_from\":\"q4_K\"")) << r.out;
  EXPECT_FALSE(Exists(dir + "/dry.gguf"));
  // --tensor-type-file gives what the golden --tensor-type run gives.
  {
    std::string want_tt;
    for (const ReferenceRun& x : LoadReferenceRuns()) {
      if (x.label == "llama-8l.Q4_K_M.tt_attn_v_q8_0.ffn_down_q5_K") want_tt = x.file_sha256;
    }
    ASSERT_TRUE(
        ::ggufkit::testing::WriteFileBytes(dir + "/tt.txt", "attn_v=q8_0\n ffn_down=Q5_K\n", 27));
    r = RunTool(
        dir, {"--quiet", "--tensor-type-file", "tt.txt", "llama-8l.f16.gguf", "tt.gguf", "Q4_K_M"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Sha256File(dir + "/tt.gguf"), want_tt);
    unlink((dir + "/tt.gguf").c_str());
  }
  // Errors: unknown option (usage, 2), bad TYPE (1), IN == OUT (1).
  EXPECT_EQ(RunTool(dir, {"--frobnicate", "deepseek2.f16.gguf", "x.gguf", "Q4_K_M"}).exit_code, 2);
  r = RunTool(dir, {"deepseek2.f16.gguf", "x.gguf", "Q9_Z"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "invalid ftype")) << r.err;
  r = RunTool(dir, {"deepseek2.f16.gguf", "deepseek2.f16.gguf", "Q4_K_M"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(absl::StrContains(r.err, "same")) << r.err;
}

// A full disk, simulated as gguf-dequant's test does: RLIMIT_FSIZE makes
// writes past 1 MiB fail (EFBIG, like ENOSPC); exit 1, no file left.
TEST(ToolCliTest, DiskFullIsAnErrorAndLeavesNoOutput) {
  std::string skip;
  const std::string dir = GoldenWorkDir(&skip);
  if (dir.empty()) GTEST_SKIP() << skip;
  ::ggufkit::testing::TempDir out;
  std::string output;
  const int rc = ::ggufkit::testing::RunCommand(
      absl::StrCat("cd '", dir, "' && trap '' XFSZ; ulimit -f 1024; exec ", Tool(),
                   " --quiet llama-8l.f16.gguf '", out.File("out.gguf"), "' Q8_0 2"),
      &output);
  EXPECT_EQ(rc, 1) << output;
  EXPECT_EQ(std::count(output.begin(), output.end(), '\n'), 1) << output;
  std::string listing;
  ::ggufkit::testing::RunCommand("ls -A '" + out.path() + "'", &listing);
  EXPECT_TRUE(listing.empty()) << "left: " << listing;
}

}  // namespace
}  // namespace ggufkit::quantize::testing
