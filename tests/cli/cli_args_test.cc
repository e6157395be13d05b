// cli/cli_args: the argv parser every tool uses.
#include "ggufkit/cli/cli_args.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ggufkit::cli {
namespace {

using ::testing::HasSubstr;

struct Parsed {
  std::string to = "fp32";
  std::string name;
  int64_t threads = 0;
  uint64_t chunk = 0;
  bool quiet = false;
  std::string in, out;
};

absl::Status ParseInto(const std::vector<std::string>& argv, Parsed* p,
                       ArgParser** keep = nullptr) {
  static ArgParser* parser = nullptr;
  delete parser;
  parser = new ArgParser("tool", "does things");
  parser->AddChoice("to", "TYPE", "output type", {"fp32", "f16", "bf16"}, &p->to);
  parser->AddString("name", "NAME", "a name", &p->name);
  parser->AddInt("threads", "N", "threads", &p->threads, 1, 256);
  parser->AddSize("chunk-size", "SIZE", "chunk size", &p->chunk);
  parser->AddBool("quiet", "no progress", &p->quiet);
  parser->AddPositional("IN", "input", &p->in);
  parser->AddPositional("OUT", "output", &p->out, /*required=*/false);
  if (keep) *keep = parser;
  return parser->Parse(argv);
}

TEST(CliArgsTest, AcceptsBothValueFormsBooleansAndPositionals) {
  Parsed p;
  ArgParser* parser = nullptr;
  ASSERT_TRUE(ParseInto({"--to", "bf16", "in.gguf", "--threads=4", "--chunk-size", "64KiB",
                         "--quiet", "out.gguf", "--name="},
                        &p, &parser)
                  .ok());
  EXPECT_EQ(p.to, "bf16");
  EXPECT_EQ(p.threads, 4);
  EXPECT_EQ(p.chunk, 65536u);
  EXPECT_TRUE(p.quiet);
  EXPECT_EQ(p.in, "in.gguf");
  EXPECT_EQ(p.out, "out.gguf");
  EXPECT_TRUE(parser->WasSet("name"));
  EXPECT_FALSE(parser->WasSet("nope"));
  Parsed q;
  ASSERT_TRUE(ParseInto({"--quiet=false", "--", "--weird-name.gguf"}, &q).ok());
  EXPECT_FALSE(q.quiet);
  EXPECT_EQ(q.in, "--weird-name.gguf");
  Parsed r;
  ASSERT_TRUE(ParseInto({"--quiet", "--no-quiet", "x"}, &r).ok());
  EXPECT_FALSE(r.quiet);
}

TEST(CliArgsTest, ErrorsNameTheBadFlag) {
  Parsed p;
  EXPECT_THAT(std::string(ParseInto({"--frobnicate", "x"}, &p).message()),
              HasSubstr("unknown flag '--frobnicate'"));
  EXPECT_THAT(std::string(ParseInto({"x", "--to"}, &p).message()),
              HasSubstr("flag '--to' needs a value"));
  EXPECT_THAT(std::string(ParseInto({"--to", "int3", "x"}, &p).message()),
              HasSubstr("bad value for flag '--to': 'int3' is not one of fp32, f16, bf16"));
  EXPECT_THAT(std::string(ParseInto({"--threads", "0", "x"}, &p).message()),
              HasSubstr("'--threads'"));
  EXPECT_THAT(std::string(ParseInto({"--threads", "two", "x"}, &p).message()),
              HasSubstr("not an integer"));
  EXPECT_THAT(std::string(ParseInto({"--chunk-size", "12Q", "x"}, &p).message()),
              HasSubstr("'--chunk-size'"));
  EXPECT_THAT(std::string(ParseInto({"--quiet=maybe", "x"}, &p).message()), HasSubstr("'--quiet'"));
  EXPECT_THAT(std::string(ParseInto({}, &p).message()), HasSubstr("missing argument IN"));
  EXPECT_THAT(std::string(ParseInto({"a", "b", "c"}, &p).message()),
              HasSubstr("unexpected argument 'c'"));
  EXPECT_THAT(std::string(ParseInto({"-x", "a"}, &p).message()), HasSubstr("'-x'"));
}

TEST(CliArgsTest, HelpAndUsage) {
  Parsed p;
  ArgParser* parser = nullptr;
  ASSERT_TRUE(ParseInto({"--bogus-ignored-after-help", "--help"}, &p, &parser).ok() == false);
  ASSERT_TRUE(ParseInto({"-h", "--bogus"}, &p, &parser).ok());
  EXPECT_TRUE(parser->help_requested());
  const std::string usage = parser->Usage();
  EXPECT_THAT(usage, HasSubstr("usage: tool [options] IN [OUT]"));
  EXPECT_THAT(usage, HasSubstr("--chunk-size SIZE"));
  EXPECT_THAT(usage, HasSubstr("(fp32|f16|bf16)"));
}

}  // namespace
}  // namespace ggufkit::cli
