// Heap budget of the in-memory API, measured by the counting allocator this
// executable links (counting_allocator.cc): dequantizing a tensor of several
// hundred MB (as f32) needs the caller's output buffer plus at most 1 MiB.
#include <cstring>
#include <memory>
#include <vector>

#include "ggufkit/gguf/reader.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/stream/counting_allocator.h"
#include "tests/stream/model_gen.h"
#include "ggufkit/stream/gguf_tensors.h"
#include "ggufkit/stream/ordered_pipeline.h"

namespace ggufkit::stream {
namespace {

using ::ggufkit::testing::TempDir;
using testing::HeapBytesInUse;
using testing::HeapPeakBytes;
using testing::ResetHeapPeak;

constexpr int64_t kBudget = int64_t{1} << 20;

class HeapBudgetTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (GetReferenceCodec(GgmlType::kQ4_K).dequantize == nullptr) return;
    dir_ = new TempDir();
    // 2048 x 49152 Q4_K: 56.6 MB stored, 402.7 MB as f32.
    path_ = new std::string(dir_->File("big.gguf"));
    absl::Status s = testing::WriteRandomModel(
        *path_, {{"big.weight", GgmlType::kQ4_K, {2048, 49152}}, {"norm", GgmlType::kF32, {2048}}},
        11);
    ASSERT_TRUE(s.ok()) << s;
  }
  static void TearDownTestSuite() {
    delete path_;
    delete dir_;
    path_ = nullptr;
    dir_ = nullptr;
  }
  void SetUp() override {
    if (path_ == nullptr) GTEST_SKIP() << "no Q4_K reference dequantizer registered yet";
    auto reader = GgufReader::Open(*path_);
    ASSERT_TRUE(reader.ok()) << reader.status();
    reader_ = std::move(*reader);
    tensor_ = reader_->FindTensor("big.weight");
    ASSERT_NE(tensor_, nullptr);
  }
  // Under AddressSanitizer the counting allocator is compiled out (ASan owns
  // malloc): the calls still run (and ASan checks them), the budget checks
  // are then skipped with that reason.
  void SkipBudgetWithoutCounting() {
    if (!testing::HeapCountingActive()) {
      GTEST_SKIP() << "AddressSanitizer build: it owns malloc, so the counting allocator is off "
                      "(the calls ran and matched; heap budgets are checked in Release)";
    }
  }
  static TempDir* dir_;
  static std::string* path_;
  std::unique_ptr<GgufReader> reader_;
  const TensorInfo* tensor_ = nullptr;
};
TempDir* HeapBudgetTest::dir_ = nullptr;
std::string* HeapBudgetTest::path_ = nullptr;

TEST_F(HeapBudgetTest, WholeTensorToF32UsesOutputPlusOneMiB) {
  const size_t n = static_cast<size_t>(tensor_->n_elements);
  ASSERT_GT(n * sizeof(float), size_t{300} << 20) << "tensor must be several hundred MB";
  ResetHeapPeak();
  const int64_t base = HeapBytesInUse();
  std::unique_ptr<float[]> out(new float[n]);
  const int64_t with_output = HeapBytesInUse();
  ResetHeapPeak();
  absl::Status s = DequantizeTensor(*reader_, *tensor_, out.get(), n);
  ASSERT_TRUE(s.ok()) << s;
  const int64_t call_peak = HeapPeakBytes() - with_output;
  const int64_t total_peak = HeapPeakBytes() - base;
  // It really did the work: spot-check against the reference codec.
  std::vector<uint8_t> block(144);
  ASSERT_TRUE(reader_->ReadTensorBytes(*tensor_, 144 * 1000, block.data(), 144).ok());
  std::vector<float> want(256);
  GetReferenceCodec(GgmlType::kQ4_K).dequantize(block.data(), want.data(), 256);
  EXPECT_EQ(0, std::memcmp(want.data(), out.get() + 256 * 1000, 256 * sizeof(float)));
  SkipBudgetWithoutCounting();
  EXPECT_LE(call_peak, kBudget) << "scratch of the call";
  EXPECT_LE(total_peak, static_cast<int64_t>(n * sizeof(float)) + kBudget);
  RecordProperty("call_heap_peak_bytes", static_cast<int>(call_peak));
}

TEST_F(HeapBudgetTest, RowRangesAndHalfOutputsStayWithinBudget) {
  const int64_t rows = 20000;
  const size_t n = static_cast<size_t>(rows * tensor_->ne[0]);
  std::unique_ptr<uint16_t[]> out(new uint16_t[n]);
  for (OutputType to : {OutputType::kF16, OutputType::kBF16}) {
    const int64_t before = HeapBytesInUse();
    ResetHeapPeak();
    absl::Status s = DequantizeRows(*reader_, *tensor_, 1234, 1234 + rows, to, out.get(), n * 2);
    ASSERT_TRUE(s.ok()) << s;
    if (testing::HeapCountingActive()) {
      EXPECT_LE(HeapPeakBytes() - before, kBudget) << OutputTypeName(to);
    }
  }
  SkipBudgetWithoutCounting();
}

TEST_F(HeapBudgetTest, VisitorUsesAtMostOneMiB) {
  const int64_t before = HeapBytesInUse();
  ResetHeapPeak();
  int64_t elements = 0;
  absl::Status s = VisitTensorRows(*reader_, *tensor_, [&](const RowChunk& c) {
    elements += static_cast<int64_t>(c.values.size());
    return absl::OkStatus();
  });
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_EQ(elements, tensor_->n_elements);
  SkipBudgetWithoutCounting();
  EXPECT_LE(HeapPeakBytes() - before, kBudget);
}

// The whole-model pipeline makes its work items as it goes: its heap is the
// ring and the worker scratch, the same for 2,000 chunks as for 100,000 (one
// item per chunk planned up front took 32 bytes per chunk: about 1 GB for a
// 140 GB output at --chunk-size 4K).
class NullSource : public TensorByteSource {
 public:
  // Reads nothing: only the pipeline's own memory and bookkeeping are measured.
  absl::Status ReadTensorBytes(uint64_t, void*, size_t) const override { return absl::OkStatus(); }
};

int64_t PipelinePeakHeap(int64_t chunks, uint64_t* items_seen) {
  NullSource source;
  std::vector<PipelineTensor> tensors(2);
  for (PipelineTensor& pt : tensors) {
    pt.layout.name = "big";
    pt.layout.type = GgmlType::kF32;
    pt.layout.ne = {chunks / 2 * 1024, 1, 1, 1};
    pt.source = &source;
    pt.copy_raw = true;
    pt.output_bytes = static_cast<uint64_t>(chunks / 2) * 4096;
  }
  PipelineOptions options;
  options.threads = 2;
  options.chunk_bytes = 4096;
  *items_seen = 0;
  size_t last_tensor = 0;
  ResetHeapPeak();
  const int64_t base = HeapBytesInUse();
  const absl::Status s =
      RunOrderedPipeline(tensors, options, [&](size_t t, const uint8_t*, size_t n) {
        EXPECT_EQ(n, 4096u);
        EXPECT_GE(t, last_tensor);  // output order
        last_tensor = t;
        ++*items_seen;
        return absl::OkStatus();
      });
  EXPECT_TRUE(s.ok()) << s;
  return HeapPeakBytes() - base;
}

TEST(PipelineHeapTest, WorkItemsDoNotGrowWithTheChunkCount) {
  uint64_t few_items = 0, many_items = 0;
  const int64_t few = PipelinePeakHeap(2000, &few_items);
  const int64_t many = PipelinePeakHeap(100000, &many_items);
  EXPECT_EQ(few_items, 2000u);
  EXPECT_EQ(many_items, 100000u);
  if (!testing::HeapCountingActive()) {
    GTEST_SKIP() << "AddressSanitizer build: the counting allocator is off (the runs completed; "
                    "the heap is checked in Release)";
  }
  EXPECT_LT(many - few, 16 << 10) << "heap grows with the number of chunks: " << few << " vs "
                                  << many << " bytes";
  EXPECT_LT(many, int64_t{2} << 20);
}

}  // namespace
}  // namespace ggufkit::stream
