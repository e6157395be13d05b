// The streaming writer: alignments, chunked data, byte-count checks, atomic
// output (an interrupted or failed write leaves no file), disk-full errors,
// big-endian output, and output read back by the reference Python reader.
#include "ggufkit/gguf/writer.h"

#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ggufkit/gguf/output_sink.h"
#include "ggufkit/gguf/reader.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"

namespace ggufkit {
namespace {

using ::ggufkit::testing::PythonPath;
using ::ggufkit::testing::ReadFileBytes;
using ::ggufkit::testing::RunCommand;
using ::ggufkit::testing::TempDir;
using ::testing::HasSubstr;

bool Exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") out.push_back(n);
  }
  closedir(d);
  return out;
}

struct TestTensor {
  std::string name;
  GgmlType type;
  std::vector<int64_t> ne;
  std::vector<uint8_t> data;
};

// Tensors of awkward sizes (not multiples of any alignment) with random
// bytes; quantized blocks get finite fp16 scales so Python can decode them.
std::vector<TestTensor> MakeTensors(uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<TestTensor> ts = {
      {"f32.vec", GgmlType::kF32, {5}, {}},     {"f16.mat", GgmlType::kF16, {7, 3}, {}},
      {"q8_0.w", GgmlType::kQ8_0, {64, 3}, {}}, {"q4_0.w", GgmlType::kQ4_0, {32, 3, 1, 2}, {}},
      {"i32.ids", GgmlType::kI32, {3}, {}},
  };
  for (TestTensor& t : ts) {
    int64_t n = 1;
    for (int64_t d : t.ne) n *= d;
    const TypeTraits& tr = GetTypeTraits(t.type);
    t.data.resize(static_cast<size_t>(n / tr.block_size * tr.type_size));
    for (uint8_t& b : t.data) b = static_cast<uint8_t>(rng());
    if (t.type == GgmlType::kF32) {
      for (size_t i = 0; i < t.data.size() / 4; ++i) {
        float f = static_cast<float>(i) * 0.5f - 1.0f;
        std::memcpy(&t.data[i * 4], &f, 4);
      }
    }
    if (t.type == GgmlType::kF16) {
      for (size_t i = 0; i < t.data.size(); i += 2) t.data[i + 1] &= 0x3B;  // finite halves
    }
    if (t.type == GgmlType::kQ8_0 || t.type == GgmlType::kQ4_0) {
      for (size_t i = 0; i < t.data.size(); i += static_cast<size_t>(tr.type_size)) {
        t.data[i + 1] = 0x3C;  // scale = 1.0 + small
      }
    }
  }
  return ts;
}

void FillMetadata(Metadata& md) {
  ASSERT_TRUE(md.Set("general.architecture", MetadataValue::String("test")).ok());
  ASSERT_TRUE(md.Set("t.u8", MetadataValue::U8(250)).ok());
  ASSERT_TRUE(md.Set("t.i8", MetadataValue::I8(-100)).ok());
  ASSERT_TRUE(md.Set("t.u16", MetadataValue::U16(65000)).ok());
  ASSERT_TRUE(md.Set("t.i16", MetadataValue::I16(-32000)).ok());
  ASSERT_TRUE(md.Set("t.u32", MetadataValue::U32(4000000000u)).ok());
  ASSERT_TRUE(md.Set("t.i32", MetadataValue::I32(-2000000000)).ok());
  ASSERT_TRUE(md.Set("t.u64", MetadataValue::U64(0xFEDCBA9876543210ull)).ok());
  ASSERT_TRUE(md.Set("t.i64", MetadataValue::I64(-1234567890123ll)).ok());
  ASSERT_TRUE(md.Set("t.f32", MetadataValue::F32(0.1f)).ok());
  ASSERT_TRUE(md.Set("t.f64", MetadataValue::F64(-2.5e-300)).ok());
  ASSERT_TRUE(md.Set("t.bool", MetadataValue::Bool(false)).ok());
  ASSERT_TRUE(md.Set("t.str", MetadataValue::String("h\xc3\xa9llo \"w\"")).ok());
  const int32_t ints[] = {1, -2, 2147483647};
  ASSERT_TRUE(md.Set("t.arr_i32", MetadataValue::ArrayI32(ints)).ok());
  const float floats[] = {0.5f, -1.25f};
  ASSERT_TRUE(md.Set("t.arr_f32", MetadataValue::ArrayF32(floats)).ok());
  const std::string strs[] = {"a", "", "ccc"};
  ASSERT_TRUE(md.Set("t.arr_str", MetadataValue::ArrayString(strs)).ok());
  const uint8_t bools[] = {1, 0, 1};
  auto arr_bool = MetadataValue::Array(GgufValueType::kBool, bools);
  ASSERT_TRUE(arr_bool.ok());
  ASSERT_TRUE(md.Set("t.arr_bool", *arr_bool).ok());
}

// Writes `tensors` with `alignment` (0 = default) in chunks of `chunk`
// bytes to `path`.
absl::Status WriteModel(const std::string& path, const std::vector<TestTensor>& tensors,
                        uint32_t alignment, size_t chunk, const WriterOptions& options = {}) {
  GgufWriter w(options);
  FillMetadata(w.metadata());
  if (alignment != 0) {
    absl::Status s = w.SetAlignment(alignment);
    if (!s.ok()) return s;
  }
  for (const TestTensor& t : tensors) {
    absl::Status s = w.AddTensor(t.name, t.type, t.ne);
    if (!s.ok()) return s;
  }
  absl::Status s = w.Begin(path);
  if (!s.ok()) return s;
  for (const TestTensor& t : tensors) {
    for (size_t done = 0; done < t.data.size();) {
      size_t n = std::min(chunk, t.data.size() - done);
      s = w.WriteTensorData(t.data.data() + done, n);
      if (!s.ok()) return s;
      done += n;
    }
  }
  return w.Finish();
}

class WriterAlignmentTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(WriterAlignmentTest, WritesAlignedFileThatReadsBack) {
  const uint32_t alignment = GetParam();
  TempDir dir;
  const std::string path = dir.File("model.gguf");
  const auto tensors = MakeTensors(alignment);
  ASSERT_TRUE(WriteModel(path, tensors, alignment, 7).ok());
  EXPECT_EQ(ListDir(dir.path()).size(), 1u);  // no temp file left
  auto r = GgufReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->alignment(), alignment);
  EXPECT_EQ((*r)->data_offset() % alignment, 0u);
  ASSERT_EQ((*r)->tensors().size(), tensors.size());
  uint64_t expected_offset = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& info = (*r)->tensors()[i];
    EXPECT_EQ(info.name, tensors[i].name);
    EXPECT_EQ(info.type, tensors[i].type);
    EXPECT_EQ(info.offset, expected_offset);  // running sum of padded sizes
    EXPECT_EQ(info.offset % alignment, 0u);
    expected_offset = (info.offset + info.size_bytes + alignment - 1) / alignment * alignment;
    std::vector<uint8_t> data(info.size_bytes);
    ASSERT_TRUE((*r)->ReadTensorBytes(info, 0, data.data(), data.size()).ok());
    EXPECT_EQ(data, tensors[i].data) << info.name;
  }
  EXPECT_EQ(*(*r)->file_size(), (*r)->data_offset() + expected_offset);
  // Padding bytes are zero.
  const std::vector<uint8_t> bytes = ReadFileBytes(path);
  for (uint64_t i = (*r)->header_size(); i < (*r)->data_offset(); ++i) ASSERT_EQ(bytes[i], 0);
  // Metadata came back with exact types, in order.
  const Metadata& md = (*r)->metadata();
  EXPECT_EQ(md.entries()[0].key, "general.architecture");
  EXPECT_EQ(*md.GetI8("t.i8"), -100);
  EXPECT_EQ(*md.GetU16("t.u16"), 65000);
  EXPECT_EQ(*md.GetI64("t.i64"), -1234567890123ll);
  EXPECT_EQ(*md.GetF64("t.f64"), -2.5e-300);
  EXPECT_THAT(*md.GetArrayString("t.arr_str"), ::testing::ElementsAre("a", "", "ccc"));
  // The header is what SerializeHeader promised.
  GgufWriter again;
  again.metadata() = md;
  for (const TestTensor& t : tensors) ASSERT_TRUE(again.AddTensor(t.name, t.type, t.ne).ok());
  auto header = again.SerializeHeader();
  ASSERT_TRUE(header.ok());
  EXPECT_TRUE(std::equal(header->begin(), header->end(), bytes.begin()));
  EXPECT_EQ(again.total_size(), bytes.size());
}

TEST_P(WriterAlignmentTest, PythonGgufReaderReadsOutput) {
  GGUFKIT_REQUIRE_PYTHON_MODULES("gguf, numpy");
  const uint32_t alignment = GetParam();
  TempDir dir;
  const std::string path = dir.File("py.gguf");
  const auto tensors = MakeTensors(alignment + 1);
  ASSERT_TRUE(WriteModel(path, tensors, alignment, 1000).ok());
  std::string expect_tensors;
  for (const TestTensor& t : tensors) {
    std::string ne;
    for (int64_t d : t.ne) absl::StrAppend(&ne, d, ",");
    std::string hex;
    for (uint8_t b : t.data) absl::StrAppend(&hex, absl::Hex(b, absl::kZeroPad2));
    absl::StrAppend(&expect_tensors, "  ('", t.name, "', '", GgmlTypeName(t.type), "', [", ne,
                    "], '", hex, "'),\n");
  }
  const std::string script =
      absl::StrCat(R"PY(
import sys, gguf, numpy as np
r = gguf.GGUFReader(sys.argv[1])
def val(k):
    f = r.fields[k]
    return f.contents()
def typ(k):
    return [gguf.GGUFValueType(t).name for t in r.fields[k].types]
checks = [
  (val('general.architecture'), 'test'), (typ('t.u8'), ['UINT8']), (val('t.u8'), 250),
  (typ('t.i8'), ['INT8']), (val('t.i8'), -100), (typ('t.u16'), ['UINT16']), (val('t.u16'), 65000),
  (typ('t.i16'), ['INT16']), (val('t.i16'), -32000), (typ('t.u32'), ['UINT32']),
  (val('t.u32'), 4000000000), (val('t.i32'), -2000000000), (typ('t.u64'), ['UINT64']),
  (val('t.u64'), 0xFEDCBA9876543210), (val('t.i64'), -1234567890123), (typ('t.i64'), ['INT64']),
  (val('t.f32'), float(np.float32(0.1))), (typ('t.f64'), ['FLOAT64']), (val('t.f64'), -2.5e-300),
  (typ('t.bool'), ['BOOL']), (val('t.bool'), False), (val('t.str'), 'h\u00e9llo "w"'),
  (typ('t.arr_i32'), ['ARRAY', 'INT32']), (val('t.arr_i32'), [1, -2, 2147483647]),
  (val('t.arr_f32'), [0.5, -1.25]), (val('t.arr_str'), ['a', '', 'ccc']),
  (val('t.arr_bool'), [True, False, True]),
  (r.alignment, )PY",
                   alignment, R"PY(),
]
if 'general.alignment' in r.fields:
  checks.append((typ('general.alignment'), ['UINT32']))
for i, (got, want) in enumerate(checks):
  if got != want:
    print('mismatch', i, repr(got), repr(want)); sys.exit(1)
expected = [
)PY",
                   expect_tensors, R"PY(]
if len(r.tensors) != len(expected):
  print('tensor count', len(r.tensors)); sys.exit(1)
for t, (name, typename, ne, hexdata) in zip(r.tensors, expected):
  if t.name != name: print('name', t.name, name); sys.exit(1)
  if t.tensor_type.name.lower() != typename.lower(): print('type', t.name, t.tensor_type.name); sys.exit(1)
  if [int(x) for x in t.shape] != ne: print('shape', t.name, list(t.shape), ne); sys.exit(1)
  if t.data_offset % )PY",
                   alignment, R"PY( != 0: print('offset', t.name); sys.exit(1)
  if np.asarray(t.data).tobytes().hex() != hexdata: print('data', t.name); sys.exit(1)
print('OK')
)PY");
  const std::string script_path = dir.File("check.py");
  ASSERT_TRUE(testing::WriteFileBytes(script_path, script.data(), script.size()));
  std::string output;
  const int rc = RunCommand(PythonPath() + " " + script_path + " " + path, &output);
  EXPECT_EQ(rc, 0) << output;
  EXPECT_THAT(output, HasSubstr("OK"));
}

INSTANTIATE_TEST_SUITE_P(Alignments, WriterAlignmentTest,
                         ::testing::Values(1u, 8u, 32u, 64u, 4096u));

TEST(WriterTest, DefaultAlignmentIs32WithoutKey) {
  TempDir dir;
  ASSERT_TRUE(WriteModel(dir.File("a.gguf"), MakeTensors(1), 0, 3).ok());
  auto r = GgufReader::Open(dir.File("a.gguf"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)->alignment(), 32u);
  EXPECT_FALSE((*r)->metadata().Contains("general.alignment"));
}

TEST(WriterTest, RejectsBadAlignments) {
  for (uint32_t a : {0u, 3u, 48u, 1u << 31}) {
    GgufWriter w;
    EXPECT_EQ(w.SetAlignment(a).code(), absl::StatusCode::kInvalidArgument) << a;
  }
  // Set directly as metadata: checked when planning.
  GgufWriter wrong_type;
  ASSERT_TRUE(wrong_type.metadata().Set("general.alignment", MetadataValue::I32(32)).ok());
  EXPECT_THAT(std::string(wrong_type.Plan().message()), HasSubstr("must be u32"));
  GgufWriter zero;
  ASSERT_TRUE(zero.metadata().Set("general.alignment", MetadataValue::U32(0)).ok());
  EXPECT_FALSE(zero.Plan().ok());
}

TEST(WriterTest, RejectsBadTensorDeclarations) {
  GgufWriter w;
  const int64_t ok_shape[] = {32};
  ASSERT_TRUE(w.AddTensor("a", GgmlType::kQ4_0, ok_shape).ok());
  EXPECT_THAT(std::string(w.AddTensor("a", GgmlType::kF32, ok_shape).message()),
              HasSubstr("duplicate"));
  EXPECT_FALSE(w.AddTensor("", GgmlType::kF32, ok_shape).ok());
  const int64_t not_blocks[] = {33};
  EXPECT_FALSE(w.AddTensor("b", GgmlType::kQ4_0, not_blocks).ok());
  const int64_t zero[] = {32, 0};
  EXPECT_FALSE(w.AddTensor("c", GgmlType::kF32, zero).ok());
  const int64_t five[] = {1, 1, 1, 1, 1};
  EXPECT_FALSE(w.AddTensor("d", GgmlType::kF32, five).ok());
  const int64_t huge[] = {int64_t{1} << 40, int64_t{1} << 40};
  EXPECT_FALSE(w.AddTensor("e", GgmlType::kF32, huge).ok());
  EXPECT_FALSE(w.AddTensor(std::string(5000, 'n'), GgmlType::kF32, ok_shape).ok());
  ASSERT_TRUE(w.Plan().ok());
  EXPECT_EQ(w.AddTensor("late", GgmlType::kF32, ok_shape).code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST(WriterTest, ChecksByteCounts) {
  std::vector<uint8_t> out;
  GgufWriter w;
  const int64_t shape[] = {4};
  ASSERT_TRUE(w.AddTensor("x", GgmlType::kF32, shape).ok());
  ASSERT_TRUE(w.AddTensor("y", GgmlType::kF32, shape).ok());
  ASSERT_TRUE(w.Begin(MakeMemorySink("mem.gguf", &out)).ok());
  uint8_t buf[32] = {};
  ASSERT_TRUE(w.WriteTensorData(buf, 10).ok());
  EXPECT_EQ(w.current_tensor(), 0u);
  EXPECT_EQ(w.current_tensor_remaining(), 6u);
  // A chunk may not cross the tensor's end.
  absl::Status over = w.WriteTensorData(buf, 7);
  EXPECT_EQ(over.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(over.message()), HasSubstr("overruns tensor 'x'"));
  EXPECT_THAT(std::string(over.message()), HasSubstr("mem.gguf"));
  // The writer is failed and the output discarded.
  EXPECT_FALSE(w.WriteTensorData(buf, 6).ok());
  EXPECT_TRUE(out.empty());
}

TEST(WriterTest, FinishWithMissingBytesFailsAndLeavesNoFile) {
  TempDir dir;
  const std::string path = dir.File("short.gguf");
  GgufWriter w;
  const int64_t shape[] = {8};
  ASSERT_TRUE(w.AddTensor("x", GgmlType::kF32, shape).ok());
  ASSERT_TRUE(w.Begin(path).ok());
  uint8_t buf[16] = {};
  ASSERT_TRUE(w.WriteTensorData(buf, 16).ok());
  absl::Status s = w.Finish();
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("tensor 'x' got 16 of its 32 bytes"));
  EXPECT_FALSE(Exists(path));
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

TEST(WriterTest, InterruptedWriteLeavesNoFile) {
  TempDir dir;
  const std::string path = dir.File("partial.gguf");
  const auto tensors = MakeTensors(5);
  {
    GgufWriter w;
    for (const TestTensor& t : tensors) ASSERT_TRUE(w.AddTensor(t.name, t.type, t.ne).ok());
    ASSERT_TRUE(w.Begin(path).ok());
    ASSERT_TRUE(w.WriteTensorData(tensors[0].data.data(), tensors[0].data.size()).ok());
    ASSERT_TRUE(w.WriteTensorData(tensors[1].data.data(), 3).ok());  // mid-tensor
    EXPECT_FALSE(ListDir(dir.path()).empty());  // the temp file exists meanwhile
    EXPECT_FALSE(Exists(path));
    // The writer goes away without Finish(): the run was interrupted.
  }
  EXPECT_FALSE(Exists(path));
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

// A sink that fails after `budget` bytes, like a device filling up.
class FailingSink final : public OutputSink {
 public:
  FailingSink(std::unique_ptr<OutputSink> inner, uint64_t budget)
      : inner_(std::move(inner)), budget_(budget) {}
  const std::string& name() const override { return inner_->name(); }
  absl::Status Write(const void* data, size_t n) override {
    if (n > budget_) return absl::ResourceExhaustedError(name() + ": simulated disk full");
    budget_ -= n;
    return inner_->Write(data, n);
  }
  absl::Status Finish() override { return inner_->Finish(); }
  void Abort() override { inner_->Abort(); }
  uint64_t bytes_written() const override { return inner_->bytes_written(); }

 private:
  std::unique_ptr<OutputSink> inner_;
  uint64_t budget_;
};

TEST(WriterTest, SimulatedFailureMidTensorLeavesNoFile) {
  TempDir dir;
  const std::string path = dir.File("fail.gguf");
  const auto tensors = MakeTensors(9);
  auto file_sink = OpenAtomicFileSink(path);
  ASSERT_TRUE(file_sink.ok());
  GgufWriter w;
  FillMetadata(w.metadata());
  for (const TestTensor& t : tensors) ASSERT_TRUE(w.AddTensor(t.name, t.type, t.ne).ok());
  ASSERT_TRUE(w.Plan().ok());
  ASSERT_TRUE(
      w.Begin(std::make_unique<FailingSink>(std::move(*file_sink), w.data_offset() + 40)).ok());
  absl::Status s;
  for (const TestTensor& t : tensors) {
    for (size_t done = 0; done < t.data.size() && s.ok(); done += 8) {
      s = w.WriteTensorData(t.data.data() + done, std::min<size_t>(8, t.data.size() - done));
    }
    if (!s.ok()) break;
  }
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(std::string(s.message()), HasSubstr("fail.gguf"));
  EXPECT_FALSE(w.Finish().ok());
  EXPECT_FALSE(Exists(path));
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

TEST(WriterTest, RealShortWriteIsAnErrorNamingTheFile) {
  // RLIMIT_FSIZE makes write() fail with EFBIG once the file reaches the
  // limit: a real short write through the file sink.
  TempDir dir;
  const std::string path = dir.File("limited.gguf");
  struct rlimit old_limit;
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
  auto old_handler = signal(SIGXFSZ, SIG_IGN);
  struct rlimit limit = old_limit;
  limit.rlim_cur = 4096;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &limit), 0);
  absl::Status s;
  {
    GgufWriter w;
    const int64_t shape[] = {1 << 20};
    ASSERT_TRUE(w.AddTensor("big", GgmlType::kF32, shape).ok());
    s = w.Begin(path);
    std::vector<uint8_t> chunk(1 << 16, 1);
    for (int i = 0; i < 64 && s.ok(); ++i) s = w.WriteTensorData(chunk.data(), chunk.size());
    if (s.ok()) s = w.Finish();
  }
  setrlimit(RLIMIT_FSIZE, &old_limit);
  signal(SIGXFSZ, old_handler);
  EXPECT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("limited.gguf"));
  EXPECT_FALSE(Exists(path));
  EXPECT_TRUE(ListDir(dir.path()).empty());
}

TEST(WriterTest, OverwritesExistingFileOnlyOnSuccess) {
  TempDir dir;
  const std::string path = dir.File("x.gguf");
  const char old_content[] = "old";
  ASSERT_TRUE(testing::WriteFileBytes(path, old_content, 3));
  {
    GgufWriter w;
    const int64_t shape[] = {8};
    ASSERT_TRUE(w.AddTensor("x", GgmlType::kF32, shape).ok());
    ASSERT_TRUE(w.Begin(path).ok());
  }  // abandoned: the old file stays
  EXPECT_EQ(ReadFileBytes(path).size(), 3u);
  ASSERT_TRUE(WriteModel(path, MakeTensors(2), 0, 64).ok());
  EXPECT_TRUE(GgufReader::Open(path).ok());
}

TEST(WriterTest, NoTensorsMeansNoPadding) {
  std::vector<uint8_t> out;
  GgufWriter w;
  ASSERT_TRUE(w.metadata().Set("general.name", MetadataValue::String("x")).ok());
  ASSERT_TRUE(w.Begin(MakeMemorySink("m", &out)).ok());
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(out.size(), 24u + 8 + 12 + 4 + 8 + 1);
  auto r = GgufReader::Open(MakeMemorySource("m", out));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*(*r)->metadata().GetString("general.name"), "x");
}

TEST(WriterTest, BigEndianOutputReadsBack) {
  std::vector<uint8_t> out;
  WriterOptions options;
  options.endianness = Endianness::kBig;
  options.version = 2;
  GgufWriter w(options);
  FillMetadata(w.metadata());
  const auto tensors = MakeTensors(3);
  for (const TestTensor& t : tensors) ASSERT_TRUE(w.AddTensor(t.name, t.type, t.ne).ok());
  ASSERT_TRUE(w.Begin(MakeMemorySink("be.gguf", &out)).ok());
  for (const TestTensor& t : tensors)
    ASSERT_TRUE(w.WriteTensorData(t.data.data(), t.data.size()).ok());
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(out[4], 0);  // version 2, big-endian: 00 00 00 02
  EXPECT_EQ(out[7], 2);
  auto r = GgufReader::Open(MakeMemorySource("be.gguf", out));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->endianness(), Endianness::kBig);
  EXPECT_EQ((*r)->version(), 2u);
  EXPECT_EQ(*(*r)->metadata().GetU64("t.u64"), 0xFEDCBA9876543210ull);
  EXPECT_EQ(*(*r)->metadata().GetF32("t.f32"), 0.1f);
  EXPECT_THAT(*(*r)->metadata().GetArrayI32("t.arr_i32"),
              ::testing::ElementsAre(1, -2, 2147483647));
  EXPECT_TRUE((*r)->metadata().entries().size() == w.metadata().size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const TensorInfo& t = (*r)->tensors()[i];
    EXPECT_EQ(t.ne[0], tensors[i].ne[0]);
    std::vector<uint8_t> data(t.size_bytes);
    ASSERT_TRUE((*r)->ReadTensorBytes(t, 0, data.data(), data.size()).ok());
    EXPECT_EQ(data, tensors[i].data);  // data is raw, not swapped
  }
  // And the copy of a big-endian file is byte-identical.
  std::vector<uint8_t> copy;
  ASSERT_TRUE(CopyGguf(**r, MakeMemorySink("copy", &copy)).ok());
  EXPECT_EQ(copy, out);
}

TEST(WriterTest, ExplicitOffsetsKeepGaps) {
  std::vector<uint8_t> out;
  GgufWriter w;
  const int64_t shape[] = {8};
  ASSERT_TRUE(w.AddTensorAt("a", GgmlType::kF32, shape, 64).ok());
  ASSERT_TRUE(w.AddTensorAt("b", GgmlType::kF32, shape, 128).ok());
  ASSERT_TRUE(w.Begin(MakeMemorySink("gap", &out)).ok());
  std::vector<uint8_t> a(32, 0xAA), b(32, 0xBB);
  ASSERT_TRUE(w.WriteTensorData(a.data(), 32).ok());
  ASSERT_TRUE(w.WriteTensorData(b.data(), 32).ok());
  ASSERT_TRUE(w.Finish().ok());
  auto r = GgufReader::Open(MakeMemorySource("gap", out));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ((*r)->tensors()[1].offset, 128u);
  std::vector<uint8_t> got(32);
  ASSERT_TRUE((*r)->ReadTensorBytes((*r)->tensors()[1], 0, got.data(), 32).ok());
  EXPECT_EQ(got, b);
  GgufWriter bad;
  ASSERT_TRUE(bad.AddTensorAt("a", GgmlType::kF32, shape, 64).ok());
  ASSERT_TRUE(bad.AddTensorAt("b", GgmlType::kF32, shape, 80).ok());  // overlaps a
  EXPECT_FALSE(bad.Plan().ok());
}

}  // namespace
}  // namespace ggufkit
