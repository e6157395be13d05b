// A file whose last tensor's data ends before ggml's padded end of the data
// section (the final alignment padding is missing) reads fine here, but ggml
// and llama.cpp refuse it: the reader reports it (missing_final_padding) so
// that gguf-inspect can warn.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "ggufkit/gguf/byte_source.h"
#include "ggufkit/gguf/output_sink.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/writer.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"

namespace ggufkit {
namespace {

// A file with tensors of `last_elements` f32 last; padded or not at the end.
std::vector<uint8_t> Model(int64_t last_elements, bool pad_end, uint32_t alignment = 32) {
  WriterOptions options;
  options.pad_after_last_tensor = pad_end;
  GgufWriter writer(options);
  EXPECT_TRUE(writer.SetAlignment(alignment).ok());
  const std::vector<int64_t> first = {8}, last = {last_elements};
  EXPECT_TRUE(writer.AddTensor("first", GgmlType::kF32, first).ok());
  EXPECT_TRUE(writer.AddTensor("last", GgmlType::kF32, last).ok());
  std::vector<uint8_t> bytes;
  EXPECT_TRUE(writer.Begin(MakeMemorySink("m.gguf", &bytes)).ok());
  const std::vector<float> data(static_cast<size_t>(8 + last_elements), 1.0f);
  EXPECT_TRUE(writer.WriteTensorData(data.data(), 8 * 4).ok());
  EXPECT_TRUE(writer.WriteTensorData(data.data() + 8, static_cast<size_t>(last_elements) * 4).ok());
  EXPECT_TRUE(writer.Finish().ok());
  return bytes;
}

std::unique_ptr<GgufReader> Open(std::vector<uint8_t> bytes) {
  auto reader = GgufReader::Open(MakeMemorySource("m.gguf", std::move(bytes)));
  EXPECT_TRUE(reader.ok()) << reader.status();
  return reader.ok() ? std::move(*reader) : nullptr;
}

TEST(FinalPaddingTest, MissingPaddingIsReported) {
  // The last tensor is 12 bytes: its padded end is 20 bytes further.
  std::unique_ptr<GgufReader> r = Open(Model(3, /*pad_end=*/false));
  ASSERT_NE(r, nullptr);
  const TensorInfo& last = *r->FindTensor("last");
  EXPECT_EQ(*r->file_size(), last.absolute_offset + 12);
  EXPECT_EQ(r->padded_data_end(), last.absolute_offset + 32);
  EXPECT_EQ(r->missing_final_padding(), 20u);
}

TEST(FinalPaddingTest, PaddedFilesAndExactEndsAreComplete) {
  std::unique_ptr<GgufReader> padded = Open(Model(3, /*pad_end=*/true));
  ASSERT_NE(padded, nullptr);
  EXPECT_EQ(padded->missing_final_padding(), 0u);
  EXPECT_EQ(padded->padded_data_end(), *padded->file_size());
  // 8 floats = 32 bytes: the data ends on the alignment, nothing to pad.
  std::unique_ptr<GgufReader> exact = Open(Model(8, /*pad_end=*/false));
  ASSERT_NE(exact, nullptr);
  EXPECT_EQ(exact->missing_final_padding(), 0u);
  // Alignment 1: never any padding.
  std::unique_ptr<GgufReader> byte_aligned = Open(Model(3, /*pad_end=*/false, 1));
  ASSERT_NE(byte_aligned, nullptr);
  EXPECT_EQ(byte_aligned->missing_final_padding(), 0u);
}

TEST(FinalPaddingTest, UnknownSizeIsNotReported) {
  auto reader = GgufReader::Open(
      MakeForwardOnlySource(MakeMemorySource("m.gguf", Model(3, false)), /*hide_size=*/true));
  ASSERT_TRUE(reader.ok()) << reader.status();
  EXPECT_EQ((*reader)->missing_final_padding(), 0u);
}

TEST(FinalPaddingTest, GoldenFilesFromGgmlAreComplete) {
  for (const char* name : {"ggml/q4_K.gguf", "ggml/all_types_align64.gguf"}) {
    auto reader = GgufReader::Open(testing::GoldenPath(name));
    ASSERT_TRUE(reader.ok()) << reader.status();
    EXPECT_EQ((*reader)->missing_final_padding(), 0u) << name;
    EXPECT_EQ((*reader)->padded_data_end(), *(*reader)->file_size()) << name;
  }
}

}  // namespace
}  // namespace ggufkit
