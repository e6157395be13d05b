// gguf/zstd_sink: an OutputSink compressing into a zstd stream through the
// atomic file sink.
#include "ggufkit/gguf/zstd_sink.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ggufkit/gguf/zstd_source.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/zstd/zstd_test_util.h"

namespace ggufkit {
namespace {

using ::ggufkit::testing::CompressibleBytes;
using ::ggufkit::testing::ReadFileBytes;
using ::ggufkit::testing::RunCommand;
using ::ggufkit::testing::TempDir;
using ::ggufkit::testing::ZstdDecompress;
using ::testing::HasSubstr;

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

size_t FilesIn(const std::string& dir) {
  return static_cast<size_t>(std::distance(std::filesystem::directory_iterator(dir),
                                           std::filesystem::directory_iterator()));
}

// Writes `data` in uneven pieces (1 byte, a few KiB, > 1 MiB) to `sink`.
void WriteInPieces(OutputSink& sink, const std::vector<uint8_t>& data) {
  const size_t pieces[] = {1, 3, 4093, 65536, 1500000, 77};
  size_t at = 0;
  for (size_t i = 0; at < data.size(); ++i) {
    const size_t n = std::min(pieces[i % 6], data.size() - at);
    ASSERT_TRUE(sink.Write(data.data() + at, n).ok());
    at += n;
  }
}

// `zstd -d` on `path` must give exactly `data`.
void ExpectZstdCliGives(const std::string& path, const std::vector<uint8_t>& data) {
  const std::string out = path + ".out";
  std::string log;
  ASSERT_EQ(RunCommand(absl::StrCat("zstd -q -d -f ", path, " -o ", out), &log), 0) << log;
  EXPECT_EQ(ReadFileBytes(out), data);
  std::filesystem::remove(out);
}

TEST(ZstdSink, OutputDecompressesWithTheZstdCliToTheBytesWritten) {
  const std::vector<uint8_t> data = CompressibleBytes(5 * 1024 * 1024 + 3, 21);
  TempDir dir;
  for (int level : {1, 3, 9}) {
    const std::string path = dir.File(absl::StrCat("out", level, ".gguf.zst"));
    ZstdSinkOptions options;
    options.level = level;
    auto sink = OpenZstdFileSink(path, options);
    ASSERT_TRUE(sink.ok()) << sink.status();
    EXPECT_EQ((*sink)->name(), path);
    WriteInPieces(**sink, data);
    EXPECT_EQ((*sink)->bytes_written(), data.size());
    EXPECT_FALSE(Exists(path)) << "visible before Finish";
    ASSERT_TRUE((*sink)->Finish().ok());
    ASSERT_TRUE(Exists(path));
    const std::optional<uint64_t> compressed = ZstdSinkCompressedBytes(**sink);
    ASSERT_TRUE(compressed.has_value());
    EXPECT_EQ(*compressed, std::filesystem::file_size(path));
    EXPECT_LT(*compressed, data.size() / 2) << "level " << level;
    ExpectZstdCliGives(path, data);
    // Our own source reads it back too (no content size: nothing pledged).
    auto src = OpenZstdSource(path);
    ASSERT_TRUE(src.ok()) << src.status();
    EXPECT_FALSE((*src)->size().has_value());
    std::vector<uint8_t> back(data.size());
    ASSERT_TRUE((*src)->ReadAt(0, back.data(), back.size()).ok());
    EXPECT_EQ(back, data);
  }
  EXPECT_EQ(FilesIn(dir.path()), 3u) << "temp files left behind";
}

TEST(ZstdSink, WorkerThreadsGiveAValidStream) {
  // 20 MiB with 4 MiB jobs: several jobs in flight over 2 workers.
  const std::vector<uint8_t> data = CompressibleBytes(20 * 1024 * 1024, 22);
  TempDir dir;
  ZstdSinkOptions options;
  options.threads = 2;
  const std::string path = dir.File("mt.zst");
  auto sink = OpenZstdFileSink(path, options);
  ASSERT_TRUE(sink.ok()) << sink.status();
  WriteInPieces(**sink, data);
  ASSERT_TRUE((*sink)->Finish().ok());
  ExpectZstdCliGives(path, data);
  EXPECT_EQ(ZstdDecompress(ReadFileBytes(path)), data);
}

TEST(ZstdSink, PledgedSizeIsRecordedAndChecked) {
  const std::vector<uint8_t> data = CompressibleBytes(300000, 23);
  TempDir dir;
  ZstdSinkOptions options;
  options.pledged_size = data.size();
  const std::string path = dir.File("p.zst");
  auto sink = OpenZstdFileSink(path, options);
  ASSERT_TRUE(sink.ok()) << sink.status();
  WriteInPieces(**sink, data);
  ASSERT_TRUE((*sink)->Finish().ok());
  auto src = OpenZstdSource(path);
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ((*src)->size(), std::optional<uint64_t>(data.size()));
  ExpectZstdCliGives(path, data);

  // Writing fewer bytes than pledged fails at Finish and leaves nothing.
  options.pledged_size = data.size() + 1;
  const std::string short_path = dir.File("short.zst");
  auto short_sink = OpenZstdFileSink(short_path, options);
  ASSERT_TRUE(short_sink.ok());
  WriteInPieces(**short_sink, data);
  absl::Status s = (*short_sink)->Finish();
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(short_path));
  EXPECT_FALSE(Exists(short_path));
  EXPECT_EQ(FilesIn(dir.path()), 1u);
}

TEST(ZstdSink, AbortAndDestructionLeaveNoFile) {
  TempDir dir;
  const std::vector<uint8_t> data = CompressibleBytes(200000, 24);
  {
    auto sink = OpenZstdFileSink(dir.File("a.zst"));
    ASSERT_TRUE(sink.ok());
    WriteInPieces(**sink, data);
    (*sink)->Abort();
    (*sink)->Abort();  // idempotent
    EXPECT_FALSE((*sink)->Write(data.data(), 1).ok());
    EXPECT_FALSE((*sink)->Finish().ok());
  }
  {
    auto sink = OpenZstdFileSink(dir.File("b.zst"));
    ASSERT_TRUE(sink.ok());
    WriteInPieces(**sink, data);
  }  // destroyed without Finish
  EXPECT_EQ(FilesIn(dir.path()), 0u);
}

TEST(ZstdSink, WrapsAnySinkAndRejectsBadLevels) {
  std::vector<uint8_t> bytes;
  auto sink = MakeZstdSink(MakeMemorySink("mem", &bytes));
  ASSERT_TRUE(sink.ok());
  const std::vector<uint8_t> data = CompressibleBytes(10000, 25);
  ASSERT_TRUE((*sink)->Write(data.data(), data.size()).ok());
  ASSERT_TRUE((*sink)->Finish().ok());
  EXPECT_FALSE((*sink)->Finish().ok());
  EXPECT_EQ(ZstdDecompress(bytes), data);
  // Empty output is a valid (empty) zstd frame.
  std::vector<uint8_t> empty;
  auto empty_sink = MakeZstdSink(MakeMemorySink("empty", &empty));
  ASSERT_TRUE(empty_sink.ok());
  ASSERT_TRUE((*empty_sink)->Finish().ok());
  EXPECT_TRUE(HasZstdMagic(empty));
  EXPECT_TRUE(ZstdDecompress(empty).empty());

  ZstdSinkOptions bad;
  bad.level = 99;
  TempDir dir;
  auto rejected = OpenZstdFileSink(dir.File("x.zst"), bad);
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(rejected.status().message(), HasSubstr("level 99"));
  EXPECT_EQ(FilesIn(dir.path()), 0u);
  std::vector<uint8_t> other;
  EXPECT_FALSE(ZstdSinkCompressedBytes(*MakeMemorySink("plain", &other)).has_value());
}

TEST(ZstdSink, WorkerCountFollowsThreadsWithinTheMemoryBudget) {
  ZstdSinkOptions options;
  EXPECT_EQ(ZstdSinkWorkers(options), 0);  // one thread: no workers
  options.threads = 2;
  EXPECT_EQ(ZstdSinkWorkers(options), 2);
  options.threads = 64;
  EXPECT_EQ(ZstdSinkWorkers(options), 4);  // level 3: 32 MiB / (3.5 + 2 x 2) MiB
  options.level = 19;                      // ~90 MiB alone: one worker
  EXPECT_EQ(ZstdSinkWorkers(options), 1);
  options.level = 1;
  options.memory_budget_bytes = size_t{1} << 30;
  EXPECT_EQ(ZstdSinkWorkers(options), 64);
}

TEST(ZstdSink, ParseCompressSpec) {
  EXPECT_EQ(*ParseCompressSpec("none"), std::nullopt);
  EXPECT_EQ(*ParseCompressSpec("zstd"), std::optional<int>(3));
  EXPECT_EQ(*ParseCompressSpec("zstd:19"), std::optional<int>(19));
  EXPECT_EQ(*ParseCompressSpec("zstd:1"), std::optional<int>(1));
  EXPECT_EQ(*ParseCompressSpec("zstd:-5"), std::optional<int>(-5));
  for (const char* bad : {"zstd:", "zstd:0", "zstd:23", "zstd:x", "gzip", "zstd:3:4", ""}) {
    auto r = ParseCompressSpec(bad);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace ggufkit
