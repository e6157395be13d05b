// Resource limits of the reader on hostile files (issue 7):
//  - a tiny file that claims a 2^60-element tensor, 2^40 metadata pairs, or
//    arrays of 2^60 elements costs no more heap than its own size plus the
//    reader's fixed read-ahead buffer, whether the file size is known (pread,
//    mmap) or not (a forward-only source that hides its size, where counts
//    cannot be checked up front and memory may only grow as bytes arrive);
//  - huge or deeply nested arrays are refused FAST, measured in bytes read,
//    not in time: the refusal comes before the reader touches the bytes the
//    claim would cover;
//  - the same files cost the tools no more resident memory than a valid file.
//
// This executable links tests/stream/counting_allocator.cc, which replaces
// malloc / operator new for the whole process to measure the heap; under
// AddressSanitizer (which owns malloc) the heap tests skip, the rest run.
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ggufkit/gguf/byte_source.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/split.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/gguf/gguf_test_util.h"
#include "tests/malformed/child_process.h"
#include "tests/stream/counting_allocator.h"

namespace ggufkit::testing {
namespace {

using ggufkit::stream::testing::HeapBytesInUse;
using ggufkit::stream::testing::HeapCountingActive;
using ggufkit::stream::testing::HeapPeakBytes;
using ggufkit::stream::testing::ResetHeapPeak;

// The reader's own fixed costs, whatever the file: its 64 KiB read-ahead
// buffer plus the reader object, hash maps and the error message.
constexpr int64_t kReaderFixedBytes = 96 << 10;
// Sources of unknown size read strings and arrays in 1 MiB steps (nothing
// says up front that a length is a lie), so they may hold one step more.
constexpr int64_t kUnknownSizeStepBytes = 1 << 20;

std::string Corpus(const std::string& name) { return TestDataDir() + "/malformed/" + name; }

// The hostile claims, as tiny corpus files.
const char* const kClaimFiles[] = {"tensor_2p60_elements_past_eof.gguf",
                                   "n_kv_2p40.gguf",
                                   "n_kv_2p64_minus_1.gguf",
                                   "n_tensors_2p60.gguf",
                                   "array_u32_count_2p60.gguf",
                                   "array_string_count_2p60.gguf",
                                   "array_u8_count_2p64_minus_1.gguf",
                                   "string_value_length_2p63.gguf",
                                   "key_length_2p63.gguf",
                                   "tensor_name_length_2p62.gguf",
                                   "array_of_arrays_deeply_nested.gguf",
                                   "tensor_byte_size_overflows_64_bits.gguf",
                                   "big_endian_n_kv_2p40.gguf"};

// Heap high-water mark of Open on `source`, relative to the heap before.
int64_t PeakHeapOfOpen(std::unique_ptr<ByteSource> source, bool* refused) {
  const int64_t before = HeapBytesInUse();
  ResetHeapPeak();
  auto reader = GgufReader::Open(std::move(source));
  *refused = !reader.ok();
  return HeapPeakBytes() - before;
}

TEST(ResourceLimitsTest, TinyFilesWithHugeClaimsCostNoMoreThanTheirSize) {
  if (!HeapCountingActive()) GTEST_SKIP() << "heap counting is off under AddressSanitizer";
  for (const char* name : kClaimFiles) {
    SCOPED_TRACE(name);
    const std::vector<uint8_t> bytes = ReadFileBytes(Corpus(name));
    ASSERT_FALSE(bytes.empty());
    const int64_t size = static_cast<int64_t>(bytes.size());
    for (SourceKind kind : {SourceKind::kPread, SourceKind::kMmap}) {
      auto source = OpenByteSource(Corpus(name), kind);
      ASSERT_TRUE(source.ok());
      bool refused = false;
      const int64_t peak = PeakHeapOfOpen(std::move(*source), &refused);
      EXPECT_TRUE(refused);
      EXPECT_LE(peak, size + kReaderFixedBytes) << "file of " << size << " bytes";
    }
    // Size unknown: nothing can be checked against the remaining bytes, the
    // reader must still grow only as bytes arrive. (A tensor past the end is
    // then accepted by Open and refused when its data is read.)
    bool refused = false;
    const int64_t peak = PeakHeapOfOpen(
        MakeForwardOnlySource(MakeMemorySource("claim", bytes), /*hide_size=*/true), &refused);
    EXPECT_LE(peak, 2 * size + kReaderFixedBytes + kUnknownSizeStepBytes);
  }
}

// Regression: the reader used to reserve one TensorInfo (~130 bytes) per
// CLAIMED tensor before parsing any record; the smallest record is 33 bytes,
// so a file could make it allocate about 4x its own size up front. Here a
// 1 MiB file claims as many tensors as could fit, and the first record is
// already invalid.
TEST(ResourceLimitsTest, ClaimedTensorCountIsNotReservedUpFront) {
  if (!HeapCountingActive()) GTEST_SKIP() << "heap counting is off under AddressSanitizer";
  constexpr uint64_t kPayload = 1 << 20;
  RawGguf g;
  g.Header(kPayload / 33, 0).Zeros(kPayload);  // first name length 0: refused
  const int64_t size = static_cast<int64_t>(g.size());
  bool refused = false;
  const int64_t peak = PeakHeapOfOpen(MakeMemoryViewSource("claims", g.bytes()), &refused);
  EXPECT_TRUE(refused);
  EXPECT_LE(peak, size + kReaderFixedBytes)
      << "sizeof(TensorInfo) = " << sizeof(TensorInfo) << ", claimed " << kPayload / 33;
  std::printf("1 MiB file claiming %llu tensors: peak heap %lld bytes\n",
              static_cast<unsigned long long>(kPayload / 33), static_cast<long long>(peak));
}

TEST(ResourceLimitsTest, StringArrayThatFitsCostsAboutItsSize) {
  if (!HeapCountingActive()) GTEST_SKIP() << "heap counting is off under AddressSanitizer";
  // One million empty strings: 8 MB of lengths in the file, one u64 end
  // offset per element in memory.
  constexpr uint64_t kCount = 1000000;
  RawGguf g;
  g.Header(0, 1).Str("tokenizer.ggml.tokens").U32(9).U32(8).U64(kCount);
  for (uint64_t i = 0; i < kCount; ++i) g.U64(0);
  const int64_t size = static_cast<int64_t>(g.size());
  bool refused = true;
  const int64_t peak = PeakHeapOfOpen(MakeMemoryViewSource("tokens", g.bytes()), &refused);
  EXPECT_FALSE(refused);
  EXPECT_LE(peak, size + kReaderFixedBytes);
  std::printf("1M empty strings: file %lld bytes, peak heap %lld bytes\n",
              static_cast<long long>(size), static_cast<long long>(peak));
}

// Counts the bytes a reader asks for.
class CountingSource final : public ByteSource {
 public:
  explicit CountingSource(std::unique_ptr<ByteSource> inner) : inner_(std::move(inner)) {}
  const std::string& name() const override { return inner_->name(); }
  std::optional<uint64_t> size() const override { return inner_->size(); }
  absl::Status ReadAt(uint64_t offset, void* dst, size_t n) override {
    *bytes_read_ += n;
    return inner_->ReadAt(offset, dst, n);
  }
  std::shared_ptr<uint64_t> bytes_read() const { return bytes_read_; }

 private:
  std::unique_ptr<ByteSource> inner_;
  std::shared_ptr<uint64_t> bytes_read_ = std::make_shared<uint64_t>(0);
};

// Bytes read by Open before it gives up, and its error.
uint64_t BytesReadToRefuse(const std::vector<uint8_t>& bytes, std::string* error) {
  auto source = std::make_unique<CountingSource>(MakeMemoryViewSource("hostile", bytes));
  std::shared_ptr<uint64_t> counter = source->bytes_read();
  auto reader = GgufReader::Open(std::move(source));
  EXPECT_FALSE(reader.ok());
  if (!reader.ok()) *error = std::string(reader.status().message());
  return *counter;
}

constexpr size_t kBigPayload = 32 << 20;  // 32 MiB of bytes after the claim
constexpr uint64_t kReadAhead = 64 << 10;

TEST(ResourceLimitsTest, HugeArrayIsRefusedBeforeItsBytesAreRead) {
  // A 32 MiB file whose array claims 2^40 u8 elements: refused from the
  // count alone, after one read-ahead buffer at most.
  RawGguf g;
  g.Header(0, 1).Str("k").U32(9).U32(0).U64(uint64_t{1} << 40).Zeros(kBigPayload);
  std::string error;
  EXPECT_LE(BytesReadToRefuse(g.bytes(), &error), kReadAhead);
  EXPECT_NE(error.find("does not fit"), std::string::npos) << error;
}

TEST(ResourceLimitsTest, DeeplyNestedArrayIsRefusedAtTheFirstLevel) {
  // 1 million levels of array-of-array headers (16 MB): ggml refuses nested
  // arrays, so the reader stops at the first nested element type, without
  // recursion and without reading the rest.
  RawGguf g;
  g.Header(0, 1).Str("k");
  for (int i = 0; i < 1000000; ++i) g.U32(9).U32(9).U64(1);
  std::string error;
  EXPECT_LE(BytesReadToRefuse(g.bytes(), &error), kReadAhead);
  EXPECT_NE(error.find("arrays of arrays"), std::string::npos) << error;
}

TEST(ResourceLimitsTest, HugeStringIsRefusedBeforeItsBytesAreRead) {
  RawGguf g;
  g.Header(0, 1).Str("k").U32(8).U64(uint64_t{1} << 50).Zeros(kBigPayload);
  std::string error;
  EXPECT_LE(BytesReadToRefuse(g.bytes(), &error), kReadAhead);
  EXPECT_NE(error.find("length"), std::string::npos) << error;
}

TEST(ResourceLimitsTest, ManyTensorInfosClaimedAreRefusedFromTheCount) {
  RawGguf g;
  g.Header(uint64_t{1} << 40, 0).Zeros(kBigPayload);
  std::string error;
  EXPECT_LE(BytesReadToRefuse(g.bytes(), &error), kReadAhead);
  EXPECT_NE(error.find("tensor count"), std::string::npos) << error;
}

// The tools, as processes: the hostile tiny files cost no more resident
// memory than the valid baseline does (plus noise).
TEST(ResourceLimitsTest, ToolsSpendNoMoreMemoryOnClaimsThanOnAValidFile) {
  constexpr int64_t kRssNoiseBytes = 4 << 20;
  for (const char* tool : {"gguf-inspect", "gguf-dequant", "gguf-kvplan"}) {
    TempDir out;
    auto args = [&](const std::string& input) {
      std::vector<std::string> a = {ToolsDir() + "/" + tool};
      if (std::string(tool) == "gguf-dequant") {
        a.insert(a.end(), {"--quiet", "--threads", "1", input, out.File("o.gguf")});
      } else {
        a.push_back(input);
      }
      return a;
    };
    ChildResult base = RunChild(args(Corpus("valid/baseline.gguf")), out.path(), 20);
    ASSERT_TRUE(base.exited && base.exit_code == 0) << tool << ": " << base.err;
    for (const char* name : kClaimFiles) {
      ChildResult r = RunChild(args(Corpus(name)), out.path(), 20);
      EXPECT_TRUE(r.exited && r.exit_code == 1) << tool << " " << name << ": " << r.err;
      EXPECT_LE(r.max_rss_bytes, base.max_rss_bytes + kRssNoiseBytes)
          << tool << " " << name << ": " << r.max_rss_bytes / 1024 << " KiB vs "
          << base.max_rss_bytes / 1024 << " KiB for the valid file";
    }
  }
}

}  // namespace
}  // namespace ggufkit::testing
