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

}  // namespace
}  // namespace ggufkit::stream
