// Big-endian GGUF files decode to the values of their little-endian twins on
// every path of the streaming layer: DequantizeTensor (model and reader, f32
// / f16 / bf16), DequantizeRows, VisitTensorRows and the whole-model
// converter (GGUF and safetensors output, integer and same-type tensors
// copied). Twins: a sample converted by gguf-py's own gguf_convert_endian.py
// (tests/data/sample/endian-{le,be}.gguf, scripts/make_endian_samples.py),
// and every type written big-endian by our writer.
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/gguf/writer.h"
#include "gtest/gtest.h"
#include "ggufkit/quants/block_fields.h"
#include "tests/common/test_data.h"
#include "tests/quants/test_blocks.h"
#include "ggufkit/stream/dequant_model.h"
#include "ggufkit/stream/gguf_tensors.h"

namespace ggufkit::stream {
namespace {

using ::ggufkit::testing::ReadFileBytes;
using ::ggufkit::testing::TempDir;
using ::ggufkit::testing::TestDataDir;

template <typename T>
void Append(std::string* out, const std::vector<T>& v) {
  out->append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// Every value the per-tensor API gives for every non-integer tensor of
// `path`, as bytes, each path after the other.
std::string PerTensorValues(const std::string& path) {
  std::string out;
  auto model = GgufModel::Open(path);
  EXPECT_TRUE(model.ok()) << model.status();
  if (!model.ok()) return out;
  for (const TensorInfo& t : (*model)->tensors()) {
    SCOPED_TRACE(t.name);
    if (GetTypeTraits(t.type).kind == TypeKind::kInteger) continue;
    const size_t n = static_cast<size_t>(t.n_elements);
    std::vector<float> f32(n);
    std::vector<uint16_t> f16(n), bf16(n);
    EXPECT_TRUE(DequantizeTensor(**model, t, f32.data(), n).ok());
    EXPECT_TRUE(DequantizeTensorToF16(**model, t, f16.data(), n).ok());
    EXPECT_TRUE(DequantizeTensorToBF16(**model, t, bf16.data(), n).ok());
    Append(&out, f32);
    Append(&out, f16);
    Append(&out, bf16);
    // Rows [1, n_rows) as f32.
    const int64_t rows = t.n_rows();
    std::vector<float> tail(static_cast<size_t>((rows - 1) * t.ne[0]));
    EXPECT_TRUE(DequantizeRows(**model, t, 1, rows, OutputType::kF32, tail.data(),
                               tail.size() * sizeof(float))
                    .ok());
    Append(&out, tail);
    std::vector<float> visited;
    EXPECT_TRUE(VisitTensorRows(**model, t, [&](const RowChunk& c) {
                  visited.insert(visited.end(), c.values.begin(), c.values.end());
                  return absl::OkStatus();
                }).ok());
    Append(&out, visited);
  }
  // The GgufReader overloads.
  auto reader = GgufReader::Open(path);
  EXPECT_TRUE(reader.ok()) << reader.status();
  if (!reader.ok()) return out;
  for (const TensorInfo& t : (*reader)->tensors()) {
    if (GetTypeTraits(t.type).kind == TypeKind::kInteger) continue;
    std::vector<float> f32(static_cast<size_t>(t.n_elements));
    EXPECT_TRUE(DequantizeTensor(**reader, t, f32.data(), f32.size()).ok()) << t.name;
    Append(&out, f32);
  }
  return out;
}

// The whole-model converter's output files, concatenated.
std::string WholeModelOutputs(const std::string& path, const TempDir& dir) {
  std::string out;
  int k = 0;
  for (OutputType to : {OutputType::kF32, OutputType::kF16, OutputType::kBF16}) {
    for (OutputFormat format : {OutputFormat::kGguf, OutputFormat::kSafetensors}) {
      DequantModelOptions options;
      options.to = to;
      options.format = format;
      options.threads = 2;
      options.chunk_bytes = 4096;  // many chunks, raw copies split too
      const std::string file = dir.File(absl::StrCat("out", k++));
      auto stats = DequantizeModelFile(path, file, options);
      EXPECT_TRUE(stats.ok()) << stats.status();
      const std::vector<uint8_t> bytes = ReadFileBytes(file);
      out.append(bytes.begin(), bytes.end());
    }
  }
  return out;
}

void ExpectTwinsDecodeAlike(const std::string& le, const std::string& be) {
  // The twins really differ in byte order.
  auto le_model = GgufModel::Open(le), be_model = GgufModel::Open(be);
  ASSERT_TRUE(le_model.ok()) << le_model.status();
  ASSERT_TRUE(be_model.ok()) << be_model.status();
  ASSERT_EQ((*le_model)->endianness(), Endianness::kLittle);
  ASSERT_EQ((*be_model)->endianness(), Endianness::kBig);

  const std::string le_values = PerTensorValues(le);
  const std::string be_values = PerTensorValues(be);
  ASSERT_FALSE(le_values.empty());
  EXPECT_EQ(le_values.size(), be_values.size());
  EXPECT_TRUE(le_values == be_values) << "big-endian tensors decode to other values";

  TempDir le_dir, be_dir;
  const std::string le_out = WholeModelOutputs(le, le_dir);
  const std::string be_out = WholeModelOutputs(be, be_dir);
  ASSERT_FALSE(le_out.empty());
  EXPECT_TRUE(le_out == be_out) << "whole-model outputs differ";
}

TEST(BigEndianTest, GgufPyConvertedSampleDecodesLikeTheOriginal) {
  const std::string dir = TestDataDir() + "/sample/";
  ExpectTwinsDecodeAlike(dir + "endian-le.gguf", dir + "endian-be.gguf");
}

// Every type, written little-endian and big-endian by GgufWriter (blocks
// swapped with ByteSwapBlocks, whose fields tests/quants checks against
// ggml's layouts).
TEST(BigEndianTest, EveryTypeDecodesLikeItsLittleEndianTwin) {
  TempDir dir;
  const std::string le = dir.File("le.gguf"), be = dir.File("be.gguf");
  for (const bool big : {false, true}) {
    WriterOptions options;
    options.endianness = big ? Endianness::kBig : Endianness::kLittle;
    GgufWriter writer(options);
    ASSERT_TRUE(writer.metadata().Set("general.architecture", MetadataValue::String("llama")).ok());
    ASSERT_TRUE(writer.metadata().Set("sample.u32", MetadataValue::U32(0x01020304)).ok());
    std::vector<std::vector<uint8_t>> data;
    for (const TypeTraits& t : AllTypeTraits()) {
      if (t.kind == TypeKind::kQuantized && GetReferenceCodec(t.type).dequantize == nullptr) {
        continue;
      }
      const int64_t blocks_per_row = t.block_size == 1 ? 48 : 2;
      const std::vector<int64_t> ne = {blocks_per_row * t.block_size, 3};
      ASSERT_TRUE(writer.AddTensor(absl::StrCat("t.", t.name), t.type, ne).ok());
      data.push_back(testing::RandomBlocks(t.type, blocks_per_row * 3, 11u + t.type_size));
      if (big) ByteSwapBlocks(t.type, data.back().data(), static_cast<size_t>(blocks_per_row * 3));
    }
    ASSERT_TRUE(writer.Begin(big ? be : le).ok());
    for (const std::vector<uint8_t>& d : data) {
      ASSERT_TRUE(writer.WriteTensorData(d.data(), d.size()).ok());
    }
    ASSERT_TRUE(writer.Finish().ok());
  }
  ExpectTwinsDecodeAlike(le, be);
}

}  // namespace
}  // namespace ggufkit::stream
