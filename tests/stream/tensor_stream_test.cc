#include "ggufkit/stream/tensor_stream.h"

#include <cstring>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/half.h"
#include "tests/stream/memory_source.h"
#include "ggufkit/stream/ordered_pipeline.h"

namespace ggufkit::stream {
namespace {

using testing::MemoryTensorSource;

// F16 tensor: every element's reference value is F16ToF32 of its bits, so
// the streaming logic is checked independently of any quantized codec.
struct F16Tensor {
  TensorLayout layout;
  std::vector<uint16_t> halves;
};

F16Tensor MakeF16(int64_t ne0, int64_t ne1, int64_t ne2, uint32_t seed) {
  F16Tensor t;
  t.layout.name = "blk.0.test";
  t.layout.file = "memory.gguf";
  t.layout.type = GgmlType::kF16;
  t.layout.n_dims = ne2 > 1 ? 3 : 2;
  t.layout.ne = {ne0, ne1, ne2, 1};
  std::mt19937 rng(seed);
  t.halves.resize(static_cast<size_t>(ne0 * ne1 * ne2));
  for (auto& h : t.halves) {
    h = static_cast<uint16_t>(rng());
    if ((h & 0x7C00) == 0x7C00) h &= 0x3FFF;  // keep values finite
  }
  return t;
}

MemoryTensorSource SourceOf(const std::vector<uint16_t>& h) {
  std::vector<uint8_t> bytes(h.size() * 2);
  std::memcpy(bytes.data(), h.data(), bytes.size());
  return MemoryTensorSource(std::move(bytes));
}

TEST(TensorStreamTest, WholeTensorAndRowRangesMatchElementwiseConversion) {
  F16Tensor t = MakeF16(96, 70, 3, 1);
  MemoryTensorSource src = SourceOf(t.halves);
  StreamOptions small;
  small.read_chunk_bytes = 100;  // odd, smaller than a row: many steps
  std::vector<float> out(t.halves.size());
  ASSERT_TRUE(DequantizeTensor(t.layout, src, out.data(), out.size(), small).ok());
  for (size_t i = 0; i < out.size(); ++i) {
    ASSERT_EQ(FloatBits(out[i]), FloatBits(F16ToF32(t.halves[i]))) << i;
  }
  // Rows [17, 150) as bf16.
  std::vector<uint16_t> part(static_cast<size_t>((150 - 17) * 96));
  ASSERT_TRUE(DequantizeRows(t.layout, src, 17, 150, OutputType::kBF16, part.data(),
                             part.size() * 2, small)
                  .ok());
  for (size_t i = 0; i < part.size(); ++i) {
    ASSERT_EQ(part[i], F32ToBF16(F16ToF32(t.halves[17 * 96 + i]))) << i;
  }
  std::vector<uint16_t> same(t.halves.size());
  ASSERT_TRUE(DequantizeTensorToF16(t.layout, src, same.data(), same.size()).ok());
  EXPECT_EQ(same, t.halves);
}

TEST(TensorStreamTest, ErrorsNameTensorAndFile) {
  F16Tensor t = MakeF16(32, 4, 1, 2);
  MemoryTensorSource src = SourceOf(t.halves);
  std::vector<float> out(t.halves.size());
  absl::Status s = DequantizeTensor(t.layout, src, out.data(), out.size() - 1);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'blk.0.test' in 'memory.gguf'"), absl::string_view::npos) << s;
  s = DequantizeRows(t.layout, src, 3, 5, OutputType::kF32, out.data(), 2 * 32 * 4);
  EXPECT_EQ(s.code(), absl::StatusCode::kOutOfRange) << s;
  // A source that is too short (a truncated file) reports the tensor too.
  MemoryTensorSource short_src(std::vector<uint8_t>(100));
  s = DequantizeTensor(t.layout, short_src, out.data(), out.size());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("blk.0.test"), absl::string_view::npos) << s;
  TensorLayout bad = t.layout;
  bad.type = GgmlType::kQ8_0;
  bad.ne = {33, 1, 1, 1};
  EXPECT_FALSE(ValidateLayout(bad).ok());
}

TEST(TensorStreamTest, VisitorSeesEveryRowOnceInOrder) {
  F16Tensor t = MakeF16(4096, 100, 1, 3);  // 32 rows per piece
  MemoryTensorSource src = SourceOf(t.halves);
  int64_t next_row = 5;
  int calls = 0;
  ASSERT_TRUE(VisitTensorRows(
                  t.layout, src,
                  [&](const RowChunk& c) {
                    EXPECT_EQ(c.row_begin, next_row);
                    EXPECT_EQ(c.first_element, c.row_begin * 4096);
                    EXPECT_EQ(static_cast<int64_t>(c.values.size()), c.n_rows * 4096);
                    EXPECT_LE(c.values.size(), static_cast<size_t>(kVisitMaxElements));
                    for (size_t i = 0; i < c.values.size(); ++i) {
                      const size_t k = static_cast<size_t>(c.first_element) + i;
                      if (FloatBits(c.values[i]) != FloatBits(F16ToF32(t.halves[k]))) {
                        return absl::InternalError("mismatch");
                      }
                    }
                    next_row += c.n_rows;
                    ++calls;
                    return absl::OkStatus();
                  },
                  5, 99)
                  .ok());
  EXPECT_EQ(next_row, 99);
  EXPECT_GE(calls, 3);
  // A visitor error stops the walk and comes back.
  absl::Status s = VisitTensorRows(t.layout, src, [](const RowChunk&) {
    return absl::CancelledError("stop");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kCancelled);
}

TEST(TensorStreamTest, VisitorSplitsRowsLongerThanItsScratch) {
  F16Tensor t = MakeF16(kVisitMaxElements * 2 + 64, 2, 1, 4);
  MemoryTensorSource src = SourceOf(t.halves);
  int64_t next = 0;
  ASSERT_TRUE(VisitTensorRows(t.layout, src, [&](const RowChunk& c) {
                EXPECT_EQ(c.first_element, next);
                EXPECT_EQ(c.n_rows, 1);
                EXPECT_EQ(c.row_begin, c.first_element / t.layout.ne[0]);
                // Never crosses a row end.
                EXPECT_LE(c.first_element % t.layout.ne[0] + static_cast<int64_t>(c.values.size()),
                          t.layout.ne[0]);
                next += static_cast<int64_t>(c.values.size());
                return absl::OkStatus();
              }).ok());
  EXPECT_EQ(next, t.layout.element_count());
}

// The whole-model pipeline: bytes identical for every thread count and chunk
// size, tensors in order, raw copies unchanged.
std::vector<uint8_t> RunPipelineOnce(const std::vector<PipelineTensor>& tensors, int threads,
                                     size_t chunk) {
  std::vector<uint8_t> out;
  size_t last_tensor = 0;
  PipelineOptions options;
  options.threads = threads;
  options.chunk_bytes = chunk;
  absl::Status s = RunOrderedPipeline(
      tensors, options, [&](size_t t, const uint8_t* data, size_t n) {
        EXPECT_GE(t, last_tensor);
        last_tensor = t;
        out.insert(out.end(), data, data + n);
        return absl::OkStatus();
      });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

TEST(OrderedPipelineTest, OutputIndependentOfThreadsAndChunks) {
  F16Tensor a = MakeF16(256, 300, 1, 5);
  F16Tensor b = MakeF16(64, 7, 1, 6);
  MemoryTensorSource sa = SourceOf(a.halves), sb = SourceOf(b.halves);
  std::vector<PipelineTensor> tensors(3);
  tensors[0].layout = a.layout;
  tensors[0].source = &sa;
  tensors[0].to = OutputType::kF32;
  tensors[0].output_bytes = a.halves.size() * 4;
  tensors[1].layout = b.layout;
  tensors[1].source = &sb;
  tensors[1].copy_raw = true;
  tensors[1].output_bytes = b.halves.size() * 2;
  tensors[2] = tensors[0];
  tensors[2].to = OutputType::kBF16;
  tensors[2].output_bytes = a.halves.size() * 2;

  std::vector<uint8_t> want;
  for (uint16_t h : a.halves) {
    float f = F16ToF32(h);
    const uint8_t* p = reinterpret_cast<const uint8_t*>(&f);
    want.insert(want.end(), p, p + 4);
  }
  const uint8_t* raw = reinterpret_cast<const uint8_t*>(b.halves.data());
  want.insert(want.end(), raw, raw + b.halves.size() * 2);
  for (uint16_t h : a.halves) {
    uint16_t v = F32ToBF16(F16ToF32(h));
    const uint8_t* p = reinterpret_cast<const uint8_t*>(&v);
    want.insert(want.end(), p, p + 2);
  }
  for (int threads : {1, 2, 3, 8}) {
    for (size_t chunk : {size_t{4096}, size_t{70000}, size_t{4} << 20}) {
      EXPECT_EQ(RunPipelineOnce(tensors, threads, chunk), want)
          << threads << " threads, chunk " << chunk;
    }
  }
}

TEST(OrderedPipelineTest, FirstErrorInOutputOrderIsReturned) {
  F16Tensor a = MakeF16(256, 64, 1, 7);
  MemoryTensorSource good = SourceOf(a.halves);
  MemoryTensorSource truncated(std::vector<uint8_t>(1000));
  std::vector<PipelineTensor> tensors(2);
  tensors[0].layout = a.layout;
  tensors[0].source = &good;
  tensors[0].output_bytes = a.halves.size() * 4;
  tensors[1] = tensors[0];
  tensors[1].layout.name = "broken";
  tensors[1].source = &truncated;
  PipelineOptions options;
  options.threads = 4;
  options.chunk_bytes = 8192;
  size_t consumed = 0;
  absl::Status s = RunOrderedPipeline(tensors, options, [&](size_t, const uint8_t*, size_t n) {
    consumed += n;
    return absl::OkStatus();
  });
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("'broken'"), absl::string_view::npos) << s;
  EXPECT_GE(consumed, tensors[0].output_bytes);
  // A consumer error (disk full) stops the run.
  s = RunOrderedPipeline(tensors, options, [&](size_t, const uint8_t*, size_t) {
    return absl::ResourceExhaustedError("disk full");
  });
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace ggufkit::stream
