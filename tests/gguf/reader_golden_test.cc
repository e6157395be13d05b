// The reader against the golden files: every file parses, the golden keys
// read back exactly, the real/ files match their manifest, tensor bytes equal
// the raw .q blocks, and reading + re-writing reproduces every file.
#include <dirent.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "ggufkit/gguf/byte_source.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/gguf/writer.h"
#include "gguf_test_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"

namespace ggufkit {
namespace {

using ::ggufkit::testing::GoldenPath;
using ::ggufkit::testing::ReadFileBytes;

const char* const kGoldenTypes[] = {"f16",   "bf16",  "q4_0",  "q4_1",  "q5_0", "q5_1",   "q8_0",
                                    "q2_K",  "q3_K",  "q4_K",  "q5_K",  "q6_K", "iq4_nl", "iq4_xs",
                                    "tq1_0", "tq2_0", "mxfp4", "nvfp4", "q1_0", "q2_0"};

std::vector<std::string> GgufFilesIn(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name.size() > 5 && name.substr(name.size() - 5) == ".gguf") out.push_back(dir + "/" + name);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> AllGoldenGgufFiles() {
  std::vector<std::string> all = GgufFilesIn(GoldenPath("ggml"));
  std::vector<std::string> real = GgufFilesIn(GoldenPath("real"));
  all.insert(all.end(), real.begin(), real.end());
  return all;
}

TEST(GoldenTest, FindsAllGoldenFiles) {
  // 20 per-type files + all_types_align64 + 6 vocab files.
  EXPECT_EQ(GgufFilesIn(GoldenPath("ggml")).size(), 21u);
  EXPECT_EQ(GgufFilesIn(GoldenPath("real")).size(), 6u);
}

TEST(GoldenTest, EveryFileParsesWithPreadMmapAndForwardOnly) {
  for (const std::string& path : AllGoldenGgufFiles()) {
    SCOPED_TRACE(path);
    auto pread = GgufReader::Open(path);
    ASSERT_TRUE(pread.ok()) << pread.status();
    ReaderOptions mmap_options;
    mmap_options.source_kind = SourceKind::kMmap;
    auto mmap = GgufReader::Open(path, mmap_options);
    ASSERT_TRUE(mmap.ok()) << mmap.status();
    auto source = OpenPreadSource(path);
    ASSERT_TRUE(source.ok());
    auto forward = GgufReader::Open(MakeForwardOnlySource(std::move(*source), /*hide_size=*/true));
    ASSERT_TRUE(forward.ok()) << forward.status();
    for (const GgufReader* r : {mmap->get(), forward->get()}) {
      EXPECT_EQ(r->version(), (*pread)->version());
      // Without tensors the data offset depends on the file size, which the
      // hidden-size source does not know.
      if (!r->tensors().empty()) {
        EXPECT_EQ(r->data_offset(), (*pread)->data_offset());
      }
      EXPECT_EQ(r->header_size(), (*pread)->header_size());
      EXPECT_EQ(r->metadata().size(), (*pread)->metadata().size());
      ASSERT_EQ(r->tensors().size(), (*pread)->tensors().size());
      for (size_t i = 0; i < r->tensors().size(); ++i) {
        EXPECT_EQ(r->tensors()[i].name, (*pread)->tensors()[i].name);
        EXPECT_EQ(r->tensors()[i].absolute_offset, (*pread)->tensors()[i].absolute_offset);
      }
      for (size_t i = 0; i < r->metadata().size(); ++i) {
        EXPECT_EQ(r->metadata().entries()[i].key, (*pread)->metadata().entries()[i].key);
        EXPECT_TRUE(r->metadata().entries()[i].value == (*pread)->metadata().entries()[i].value);
      }
    }
    EXPECT_EQ((*pread)->version(), 3u);
    EXPECT_EQ((*pread)->endianness(), Endianness::kLittle);
  }
}

TEST(GoldenTest, PerTypeKeysReadBackExactly) {
  for (const char* type : kGoldenTypes) {
    SCOPED_TRACE(type);
    auto r = GgufReader::Open(GoldenPath(std::string("ggml/") + type + ".gguf"));
    ASSERT_TRUE(r.ok()) << r.status();
    const Metadata& md = (*r)->metadata();
    ASSERT_EQ(md.size(), 14u);
    // Values from golden/ggml/manifest.json "gguf_per_type".
    EXPECT_EQ(*md.GetString("general.architecture"), "golden");
    EXPECT_EQ(*md.GetString("general.name"), "ggml golden vectors");
    EXPECT_EQ(*md.GetU8("golden.u8"), 200);
    EXPECT_EQ(*md.GetI32("golden.i32"), -123456789);
    EXPECT_EQ(*md.GetU64("golden.u64"), 0x0123456789ABCDEFull);
    const float f = *md.GetF32("golden.f32");
    const float pi = 3.14159274f;
    EXPECT_EQ(std::memcmp(&f, &pi, 4), 0);
    EXPECT_EQ(*md.GetBool("golden.bool"), true);
    EXPECT_EQ(*md.GetString("golden.string"), "h\xc3\xa9llo ggml");
    EXPECT_THAT(*md.GetArrayI32("golden.arr_i32"),
                ::testing::ElementsAre(1, -2, 3, -4, 2147483647, -2147483647 - 1));
    EXPECT_THAT(*md.GetArrayString("golden.arr_str"),
                ::testing::ElementsAre("alpha", "", "gamma \xce\xb4 (utf-8)",
                                       "a string with spaces and \"quotes\""));
    EXPECT_EQ(*md.GetString("golden.type_name"), type);
    auto parsed = ParseGgmlType(type);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*md.GetI32("golden.ggml_type"), static_cast<int32_t>(*parsed));
    EXPECT_EQ(*md.GetI32("golden.rows"), 25);
    EXPECT_EQ(*md.GetI32("golden.cols"), 4096);
    // Key order is file order.
    EXPECT_EQ(md.entries()[0].key, "general.architecture");
    EXPECT_EQ(md.entries()[13].key, "golden.cols");
    // Typed access errors name the key and the file.
    auto wrong = md.GetU32("golden.i32");
    EXPECT_EQ(wrong.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(wrong.status().message()),
                ::testing::AllOf(::testing::HasSubstr("golden.i32"), ::testing::HasSubstr("i32"),
                                 ::testing::HasSubstr(".gguf")));
    EXPECT_EQ(md.GetU32("no.such.key").status().code(), absl::StatusCode::kNotFound);
    EXPECT_EQ(*md.GetInteger("golden.u8"), 200);
    EXPECT_EQ((*r)->alignment(), 32u);
  }
}

TEST(GoldenTest, PerTypeTensorsMatchRawBlocks) {
  for (const char* type : kGoldenTypes) {
    SCOPED_TRACE(type);
    auto r = GgufReader::Open(GoldenPath(std::string("ggml/") + type + ".gguf"));
    ASSERT_TRUE(r.ok()) << r.status();
    const std::vector<uint8_t> q = ReadFileBytes(GoldenPath(std::string("ggml/") + type + ".q"));
    auto t = ParseGgmlType(type);
    ASSERT_TRUE(t.ok());
    const TypeTraits& traits = GetTypeTraits(*t);
    ASSERT_EQ((*r)->tensors().size(), 3u);
    const TensorInfo& tiny = (*r)->tensors()[0];
    const TensorInfo& w = (*r)->tensors()[1];
    const TensorInfo& w3 = (*r)->tensors()[2];
    EXPECT_EQ(tiny.name, "tiny");
    EXPECT_EQ(tiny.n_dims, 1u);
    EXPECT_EQ(tiny.ne[0], traits.block_size);
    EXPECT_EQ(tiny.size_bytes, static_cast<uint64_t>(traits.type_size));
    EXPECT_EQ(w.name, "blk.0.weight");
    EXPECT_EQ(w.type, *t);
    EXPECT_EQ(w.n_dims, 2u);
    EXPECT_EQ(ShapeString(w), "[4096, 25]");
    EXPECT_EQ(w.size_bytes, q.size());
    EXPECT_EQ(w3.name, "blk.0.weight_3d");
    EXPECT_EQ(ShapeString(w3), "[4096, 5, 5]");
    EXPECT_EQ(w3.n_rows(), 25);
    for (const TensorInfo* info : {&w, &w3}) {
      EXPECT_EQ(info->absolute_offset % 32, 0u);
      // Read in odd-sized chunks.
      std::vector<uint8_t> data(info->size_bytes);
      for (uint64_t done = 0; done < data.size();) {
        size_t n = std::min<uint64_t>(1000, data.size() - done);
        ASSERT_TRUE((*r)->ReadTensorBytes(*info, done, data.data() + done, n).ok());
        done += n;
      }
      EXPECT_EQ(data, q);
    }
    std::vector<uint8_t> first(tiny.size_bytes);
    ASSERT_TRUE((*r)->ReadTensorBytes(tiny, 0, first.data(), first.size()).ok());
    EXPECT_TRUE(std::equal(first.begin(), first.end(), q.begin()));
    // Past the tensor's end: a clean error naming the tensor.
    uint8_t byte;
    absl::Status past = (*r)->ReadTensorBytes(tiny, tiny.size_bytes, &byte, 1);
    EXPECT_EQ(past.code(), absl::StatusCode::kOutOfRange);
    EXPECT_THAT(std::string(past.message()), ::testing::HasSubstr("tiny"));
  }
}

TEST(GoldenTest, AllTypesAlign64) {
  auto r = GgufReader::Open(GoldenPath("ggml/all_types_align64.gguf"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->alignment(), 64u);
  EXPECT_EQ((*r)->metadata().entries()[0].key, "general.alignment");
  EXPECT_EQ(*(*r)->metadata().GetU32("general.alignment"), 64u);
  EXPECT_EQ((*r)->data_offset() % 64, 0u);
  ASSERT_EQ((*r)->tensors().size(), 1u + std::size(kGoldenTypes));
  const TensorInfo& input = (*r)->tensors()[0];
  EXPECT_EQ(input.name, "input");
  EXPECT_EQ(input.type, GgmlType::kF32);
  std::vector<uint8_t> in(input.size_bytes);
  ASSERT_TRUE((*r)->ReadTensorBytes(input, 0, in.data(), in.size()).ok());
  EXPECT_EQ(in, ReadFileBytes(GoldenPath("ggml/input.f32")));
  for (const TensorInfo& t : (*r)->tensors()) {
    EXPECT_EQ(t.offset % 64, 0u) << t.name;
    if (&t == &input) continue;
    const std::string type = t.name.substr(0, t.name.find(".weight"));
    EXPECT_EQ(std::string(GgmlTypeName(t.type)), type);
    std::vector<uint8_t> data(t.size_bytes);
    ASSERT_TRUE((*r)->ReadTensorBytes(t, 0, data.data(), data.size()).ok());
    EXPECT_EQ(data, ReadFileBytes(GoldenPath("ggml/" + type + ".q"))) << t.name;
  }
}

TEST(GoldenTest, RealFilesMatchManifest) {
  std::ifstream manifest(GoldenPath("real/manifest.jsonl"));
  ASSERT_TRUE(manifest.good());
  std::string line;
  int files = 0;
  while (std::getline(manifest, line)) {
    if (line.empty()) continue;
    ++files;
    const std::string path = GoldenPath("real/" + testing::JsonField(line, "path"));
    SCOPED_TRACE(path);
    auto r = GgufReader::Open(path);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(std::to_string((*r)->version()), testing::JsonField(line, "version"));
    EXPECT_EQ(std::to_string((*r)->metadata().size()), testing::JsonField(line, "n_kv"));
    EXPECT_EQ(std::to_string((*r)->tensors().size()), testing::JsonField(line, "n_tensors"));
    EXPECT_EQ(std::to_string((*r)->alignment()), testing::JsonField(line, "alignment"));
    EXPECT_EQ(std::to_string((*r)->data_offset()), testing::JsonField(line, "data_offset"));
    EXPECT_EQ(*(*r)->metadata().GetString("general.architecture"),
              testing::JsonField(line, "architecture"));
    auto kv_types = testing::JsonFlatObject(line, "kv_types");
    ASSERT_EQ(kv_types.size(), (*r)->metadata().size());
    for (size_t i = 0; i < kv_types.size(); ++i) {
      const MetadataEntry& e = (*r)->metadata().entries()[i];
      EXPECT_EQ(e.key, kv_types[i].first);  // same order
      std::string type(GgufValueTypeName(e.value.type()));
      if (e.value.is_array()) {
        type = "arr[" + std::string(GgufValueTypeName(e.value.element_type())) +
               "] n=" + std::to_string(e.value.size());
      }
      EXPECT_EQ(type, kv_types[i].second) << e.key;
    }
  }
  EXPECT_EQ(files, 6);
}

TEST(GoldenTest, RoundTripReproducesEveryFileByteForByte) {
  for (const std::string& path : AllGoldenGgufFiles()) {
    SCOPED_TRACE(path);
    auto r = GgufReader::Open(path);
    ASSERT_TRUE(r.ok()) << r.status();
    std::vector<uint8_t> out;
    absl::Status s = CopyGguf(**r, MakeMemorySink("copy", &out), /*chunk_bytes=*/4093);
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_TRUE(out == ReadFileBytes(path)) << "copy differs, sizes " << out.size();
  }
}

TEST(GoldenTest, RoundTripThroughDeclaredWriterApi) {
  // The same copy written with the plain AddTensor API (planned offsets):
  // ggml's layout is exactly what the planner produces.
  const std::string path = GoldenPath("ggml/all_types_align64.gguf");
  auto r = GgufReader::Open(path);
  ASSERT_TRUE(r.ok());
  GgufWriter w;
  w.metadata() = (*r)->metadata();
  for (const TensorInfo& t : (*r)->tensors()) {
    ASSERT_TRUE(w.AddTensor(t.name, t.type, absl::MakeConstSpan(t.ne.data(), t.n_dims)).ok());
  }
  std::vector<uint8_t> out;
  ASSERT_TRUE(w.Begin(MakeMemorySink("mem", &out)).ok());
  std::vector<uint8_t> buf;
  for (const TensorInfo& t : (*r)->tensors()) {
    buf.resize(t.size_bytes);
    ASSERT_TRUE((*r)->ReadTensorBytes(t, 0, buf.data(), buf.size()).ok());
    ASSERT_TRUE(w.WriteTensorData(buf.data(), buf.size()).ok());
  }
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_TRUE(out == ReadFileBytes(path));
}

TEST(GoldenTest, ModelOpensSingleFile) {
  auto m = GgufModel::Open(GoldenPath("ggml/q8_0.gguf"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_FALSE((*m)->is_split());
  EXPECT_EQ((*m)->shard_count(), 1u);
  EXPECT_EQ((*m)->tensors().size(), 3u);
  const TensorInfo* t = (*m)->FindTensor("blk.0.weight");
  ASSERT_NE(t, nullptr);
  std::vector<uint8_t> data(t->size_bytes);
  ASSERT_TRUE((*m)->ReadTensorBytes(*t, 0, data.data(), data.size()).ok());
  EXPECT_EQ(data, ReadFileBytes(GoldenPath("ggml/q8_0.q")));
}

TEST(GoldenTest, MmapReleaseKeepsDataReadable) {
  ReaderOptions options;
  options.source_kind = SourceKind::kMmap;
  auto r = GgufReader::Open(GoldenPath("ggml/f16.gguf"), options);
  ASSERT_TRUE(r.ok());
  ASSERT_NE((*r)->source().data(), nullptr);
  const TensorInfo& t = (*r)->tensors()[1];
  std::vector<uint8_t> a(t.size_bytes), b(t.size_bytes);
  ASSERT_TRUE((*r)->ReadTensorBytes(t, 0, a.data(), a.size()).ok());
  (*r)->ReleaseTensorBytes(t, 0, t.size_bytes);
  ASSERT_TRUE((*r)->ReadTensorBytes(t, 0, b.data(), b.size()).ok());
  EXPECT_EQ(a, b);
}

TEST(GoldenTest, ForwardOnlySourceRejectsGoingBack) {
  auto source = OpenPreadSource(GoldenPath("ggml/q4_0.gguf"));
  ASSERT_TRUE(source.ok());
  auto r = GgufReader::Open(MakeForwardOnlySource(std::move(*source), true));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE((*r)->file_size().has_value());
  EXPECT_TRUE((*r)->source().forward_only());
  const auto order = (*r)->TensorsInFileOrder();
  ASSERT_EQ(order.size(), 3u);
  const TensorInfo& second = (*r)->tensors()[order[1]];
  std::vector<uint8_t> buf(second.size_bytes);
  ASSERT_TRUE((*r)->ReadTensorBytes(second, 0, buf.data(), buf.size()).ok());
  const TensorInfo& first = (*r)->tensors()[order[0]];
  absl::Status back = (*r)->ReadTensorBytes(first, 0, buf.data(), first.size_bytes);
  EXPECT_EQ(back.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(back.message()), ::testing::HasSubstr("forward-only"));
  EXPECT_THAT(std::string(back.message()), ::testing::HasSubstr("q4_0.gguf"));
}

}  // namespace
}  // namespace ggufkit
