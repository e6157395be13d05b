// Split models: write with max tensors / max bytes per shard, read back as
// one model from any shard, and clear errors for inconsistent shard sets.
#include "ggufkit/gguf/split.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/writer.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"

namespace ggufkit {
namespace {

using ::ggufkit::testing::TempDir;
using ::testing::HasSubstr;

size_t CountFiles(const std::string& dir) {
  size_t n = 0;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") ++n;
  }
  closedir(d);
  return n;
}

// Tensor i: f32 [8 * (i + 1)] filled with byte i + 1.
std::vector<uint8_t> TensorData(size_t i) {
  return std::vector<uint8_t>(32 * (i + 1), uint8_t(i + 1));
}

absl::Status WriteSplit(const std::string& prefix, size_t n_tensors, const SplitOptions& options,
                        std::vector<std::string>* paths, size_t stop_after = SIZE_MAX) {
  GgufSplitWriter w(options);
  absl::Status s = w.metadata().Set("general.architecture", MetadataValue::String("split-test"));
  if (!s.ok()) return s;
  s = w.metadata().Set("split.test.value", MetadataValue::U32(42));
  if (!s.ok()) return s;
  for (size_t i = 0; i < n_tensors; ++i) {
    const int64_t ne[] = {static_cast<int64_t>(8 * (i + 1))};
    s = w.AddTensor("t" + std::to_string(i), GgmlType::kF32, ne);
    if (!s.ok()) return s;
  }
  s = w.Begin(prefix);
  if (!s.ok()) return s;
  if (paths) *paths = w.shard_paths();
  for (size_t i = 0; i < n_tensors; ++i) {
    if (i == stop_after) return absl::CancelledError("stopped");
    std::vector<uint8_t> data = TensorData(i);
    for (size_t done = 0; done < data.size(); done += 12) {
      s = w.WriteTensorData(data.data() + done, std::min<size_t>(12, data.size() - done));
      if (!s.ok()) return s;
    }
  }
  return w.Finish();
}

void ExpectModelContents(GgufModel& m, size_t n_tensors) {
  EXPECT_EQ(*m.metadata().GetString("general.architecture"), "split-test");
  EXPECT_EQ(*m.metadata().GetU32("split.test.value"), 42u);
  ASSERT_EQ(m.tensors().size(), n_tensors);
  for (size_t i = 0; i < n_tensors; ++i) {
    const TensorInfo* t = m.FindTensor("t" + std::to_string(i));
    ASSERT_NE(t, nullptr);
    std::vector<uint8_t> data(t->size_bytes);
    ASSERT_TRUE(m.ReadTensorBytes(*t, 0, data.data(), data.size()).ok());
    EXPECT_EQ(data, TensorData(i)) << t->name;
  }
}

TEST(SplitTest, ShardPathNames) {
  EXPECT_EQ(SplitShardPath("/a/model", 0, 3), "/a/model-00001-of-00003.gguf");
  std::string prefix;
  uint32_t index = 0, count = 0;
  ASSERT_TRUE(ParseSplitShardPath("/a/model-00002-of-00003.gguf", &prefix, &index, &count));
  EXPECT_EQ(prefix, "/a/model");
  EXPECT_EQ(index, 1u);
  EXPECT_EQ(count, 3u);
  EXPECT_FALSE(ParseSplitShardPath("/a/model.gguf", nullptr, nullptr, nullptr));
  EXPECT_FALSE(ParseSplitShardPath("m-00004-of-00003.gguf", nullptr, nullptr, nullptr));
  EXPECT_FALSE(ParseSplitShardPath("m-0000x-of-00003.gguf", nullptr, nullptr, nullptr));
  EXPECT_FALSE(ParseSplitShardPath("-00001-of-00003.gguf", nullptr, nullptr, nullptr));
}

TEST(SplitTest, MaxTensorsPerShard) {
  TempDir dir;
  SplitOptions options;
  options.max_tensors_per_shard = 2;
  std::vector<std::string> paths;
  ASSERT_TRUE(WriteSplit(dir.File("m"), 5, options, &paths).ok());
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_EQ(paths[2], dir.File("m-00003-of-00003.gguf"));
  EXPECT_EQ(CountFiles(dir.path()), 3u);
  // Each shard is a valid GGUF with the split keys; metadata in shard 1 only.
  for (uint32_t s = 0; s < 3; ++s) {
    auto r = GgufReader::Open(paths[s]);
    ASSERT_TRUE(r.ok()) << r.status();
    const Metadata& md = (*r)->metadata();
    EXPECT_EQ(*md.GetU16("split.no"), s);
    EXPECT_EQ(*md.GetU16("split.count"), 3);
    EXPECT_EQ(*md.GetI32("split.tensors.count"), 5);
    EXPECT_EQ(md.Contains("general.architecture"), s == 0);
    EXPECT_EQ((*r)->tensors().size(), s < 2 ? 2u : 1u);
  }
  // Open from the first shard and from a later one.
  for (const std::string& p : {paths[0], paths[1]}) {
    auto m = GgufModel::Open(p);
    ASSERT_TRUE(m.ok()) << m.status();
    EXPECT_TRUE((*m)->is_split());
    EXPECT_EQ((*m)->shard_count(), 3u);
    EXPECT_EQ((*m)->name(), paths[0]);
    ExpectModelContents(**m, 5);
    EXPECT_EQ((*m)->FindTensor("t4")->shard, 2u);
    EXPECT_EQ((*m)->FindTensor("t1")->shard, 0u);
  }
}

TEST(SplitTest, MaxBytesPerShard) {
  TempDir dir;
  SplitOptions options;
  options.max_bytes_per_shard = 100;  // tensors are 32, 64, 96, 128 bytes
  options.writer.pad_after_last_tensor = true;
  std::vector<std::string> paths;
  ASSERT_TRUE(WriteSplit(dir.File("b"), 4, options, &paths).ok());
  // 32+64 = 96 fits; 96 alone; 128 alone (a shard always takes one tensor).
  ASSERT_EQ(paths.size(), 3u);
  auto m = GgufModel::Open(paths[0]);
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ((*m)->FindTensor("t1")->shard, 0u);
  EXPECT_EQ((*m)->FindTensor("t2")->shard, 1u);
  EXPECT_EQ((*m)->FindTensor("t3")->shard, 2u);
  ExpectModelContents(**m, 4);
}

TEST(SplitTest, SingleShardAndAlignmentInEveryShard) {
  TempDir dir;
  {
    std::vector<std::string> paths;
    ASSERT_TRUE(WriteSplit(dir.File("one"), 3, SplitOptions{}, &paths).ok());
    ASSERT_EQ(paths.size(), 1u);
    EXPECT_EQ(paths[0], dir.File("one-00001-of-00001.gguf"));
    auto m = GgufModel::Open(paths[0]);
    ASSERT_TRUE(m.ok()) << m.status();
    ExpectModelContents(**m, 3);
  }
  GgufSplitWriter w([] {
    SplitOptions o;
    o.max_tensors_per_shard = 1;
    return o;
  }());
  ASSERT_TRUE(w.SetAlignment(256).ok());
  const int64_t ne[] = {8};
  ASSERT_TRUE(w.AddTensor("a", GgmlType::kF32, ne).ok());
  ASSERT_TRUE(w.AddTensor("b", GgmlType::kF32, ne).ok());
  ASSERT_TRUE(w.Begin(dir.File("al")).ok());
  std::vector<uint8_t> data(32, 7);
  ASSERT_TRUE(w.WriteTensorData(data.data(), 32).ok());
  ASSERT_TRUE(w.WriteTensorData(data.data(), 32).ok());
  ASSERT_TRUE(w.Finish().ok());
  auto second = GgufReader::Open(dir.File("al-00002-of-00002.gguf"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ((*second)->alignment(), 256u);
}

TEST(SplitTest, MissingShard) {
  TempDir dir;
  SplitOptions options;
  options.max_tensors_per_shard = 1;
  std::vector<std::string> paths;
  ASSERT_TRUE(WriteSplit(dir.File("m"), 3, options, &paths).ok());
  ASSERT_EQ(::unlink(paths[1].c_str()), 0);
  auto m = GgufModel::Open(paths[0]);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("shard 2 of 3"));
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("m-00002-of-00003.gguf"));
}

// Writes one hand-made shard: split keys as given, tensors named `names`.
void WriteShard(const std::string& path, int no, int count, int total,
                const std::vector<std::string>& names) {
  GgufWriter w;
  ASSERT_TRUE(w.metadata().Set("split.no", MetadataValue::U16(static_cast<uint16_t>(no))).ok());
  ASSERT_TRUE(
      w.metadata().Set("split.count", MetadataValue::U16(static_cast<uint16_t>(count))).ok());
  ASSERT_TRUE(w.metadata().Set("split.tensors.count", MetadataValue::I32(total)).ok());
  const int64_t ne[] = {8};
  for (const std::string& n : names) ASSERT_TRUE(w.AddTensor(n, GgmlType::kF32, ne).ok());
  ASSERT_TRUE(w.Begin(path).ok());
  std::vector<uint8_t> data(32, 1);
  for (size_t i = 0; i < names.size(); ++i) ASSERT_TRUE(w.WriteTensorData(data.data(), 32).ok());
  ASSERT_TRUE(w.Finish().ok());
}

TEST(SplitTest, DuplicateTensorAcrossShards) {
  TempDir dir;
  WriteShard(dir.File("d-00001-of-00002.gguf"), 0, 2, 2, {"x"});
  WriteShard(dir.File("d-00002-of-00002.gguf"), 1, 2, 2, {"x"});
  auto m = GgufModel::Open(dir.File("d-00001-of-00002.gguf"));
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("tensor 'x' appears in shard 1"));
}

TEST(SplitTest, InconsistentCounts) {
  TempDir dir;
  // Shard 2 claims a different count.
  WriteShard(dir.File("c-00001-of-00002.gguf"), 0, 2, 2, {"a"});
  WriteShard(dir.File("c-00002-of-00002.gguf"), 1, 3, 2, {"b"});
  auto m = GgufModel::Open(dir.File("c-00001-of-00002.gguf"));
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("c-00002-of-00002.gguf"));
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("split.count is 3"));
  // Tensor total disagrees with split.tensors.count.
  WriteShard(dir.File("t-00001-of-00002.gguf"), 0, 2, 5, {"a"});
  WriteShard(dir.File("t-00002-of-00002.gguf"), 1, 2, 5, {"b"});
  m = GgufModel::Open(dir.File("t-00001-of-00002.gguf"));
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("split.tensors.count is 5"));
  // split.no does not match the file name.
  WriteShard(dir.File("n-00001-of-00002.gguf"), 1, 2, 2, {"a"});
  m = GgufModel::Open(dir.File("n-00001-of-00002.gguf"));
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("file name says shard 1 of 2"));
  // split.count > 1 but the name does not follow the pattern.
  WriteShard(dir.File("plain.gguf"), 0, 2, 2, {"a"});
  m = GgufModel::Open(dir.File("plain.gguf"));
  ASSERT_FALSE(m.ok());
  EXPECT_THAT(std::string(m.status().message()), HasSubstr("does not follow"));
}

TEST(SplitTest, InterruptedSplitWriteLeavesNoShards) {
  TempDir dir;
  SplitOptions options;
  options.max_tensors_per_shard = 1;
  std::vector<std::string> paths;
  absl::Status s = WriteSplit(dir.File("i"), 4, options, &paths, /*stop_after=*/3);
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(paths.size(), 4u);
  EXPECT_EQ(CountFiles(dir.path()), 0u);  // the writer's destructor aborted all shards
}

}  // namespace
}  // namespace ggufkit
