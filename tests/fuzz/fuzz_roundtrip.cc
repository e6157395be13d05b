// Fuzz target: write -> read round trip of random metadata and tensors.
//
// FuzzedDataProvider turns the input into a GgufWriter job: version 2 or 3,
// little- or big-endian, maybe an alignment, up to 24 metadata pairs of every
// value type (scalars, strings with any bytes, arrays of every element type
// including strings and empty arrays) and up to 4 small tensors of random
// types and shapes with random data. Whatever the writer accepts must read
// back with the same metadata (order, keys, types, bits), the same tensors
// (names, types, shapes, offsets, data), and copy back byte for byte.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ggufkit/gguf/byte_source.h"
#include "ggufkit/gguf/metadata.h"
#include "ggufkit/gguf/output_sink.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/writer.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/fuzz/fuzz_common.h"

namespace ggufkit {
namespace {

constexpr GgufValueType kFixedTypes[] = {
    GgufValueType::kU8,  GgufValueType::kI8,  GgufValueType::kU16, GgufValueType::kI16,
    GgufValueType::kU32, GgufValueType::kI32, GgufValueType::kF32, GgufValueType::kBool,
    GgufValueType::kU64, GgufValueType::kI64, GgufValueType::kF64};

MetadataValue RandomScalar(FuzzedDataProvider& in, GgufValueType type) {
  switch (type) {
    case GgufValueType::kU8:
      return MetadataValue::U8(in.ConsumeIntegral<uint8_t>());
    case GgufValueType::kI8:
      return MetadataValue::I8(in.ConsumeIntegral<int8_t>());
    case GgufValueType::kU16:
      return MetadataValue::U16(in.ConsumeIntegral<uint16_t>());
    case GgufValueType::kI16:
      return MetadataValue::I16(in.ConsumeIntegral<int16_t>());
    case GgufValueType::kU32:
      return MetadataValue::U32(in.ConsumeIntegral<uint32_t>());
    case GgufValueType::kI32:
      return MetadataValue::I32(in.ConsumeIntegral<int32_t>());
    case GgufValueType::kU64:
      return MetadataValue::U64(in.ConsumeIntegral<uint64_t>());
    case GgufValueType::kI64:
      return MetadataValue::I64(in.ConsumeIntegral<int64_t>());
    case GgufValueType::kF32: {
      // Raw bits: NaN payloads and signed zeros must survive too.
      const uint32_t bits = in.ConsumeIntegral<uint32_t>();
      float f;
      std::memcpy(&f, &bits, 4);
      return MetadataValue::F32(f);
    }
    case GgufValueType::kF64: {
      const uint64_t bits = in.ConsumeIntegral<uint64_t>();
      double d;
      std::memcpy(&d, &bits, 8);
      return MetadataValue::F64(d);
    }
    case GgufValueType::kBool:
      return MetadataValue::Bool(in.ConsumeBool());
    default:
      return MetadataValue::String(in.ConsumeRandomLengthString(64));
  }
}

MetadataValue RandomValue(FuzzedDataProvider& in) {
  const int pick = in.ConsumeIntegralInRange(0, 13);
  if (pick < 11) return RandomScalar(in, kFixedTypes[pick]);
  if (pick == 11) return MetadataValue::String(in.ConsumeRandomLengthString(256));
  if (pick == 12) {
    std::vector<std::string> v(in.ConsumeIntegralInRange<size_t>(0, 16));
    for (std::string& s : v) s = in.ConsumeRandomLengthString(32);
    return MetadataValue::ArrayString(v);
  }
  const GgufValueType elem = in.PickValueInArray(kFixedTypes);
  const size_t count = in.ConsumeIntegralInRange<size_t>(0, 64);
  std::vector<uint8_t> packed(count * GgufValueTypeSize(elem));
  for (uint8_t& b : packed) b = in.ConsumeIntegral<uint8_t>();
  if (elem == GgufValueType::kBool) {
    for (uint8_t& b : packed) b &= 1;
  }
  auto v = MetadataValue::Array(elem, packed);
  FUZZ_CHECK(v.ok(), "Array() refused a valid packed array");
  return *std::move(v);
}

void Run(FuzzedDataProvider& in) {
  WriterOptions options;
  options.version = in.ConsumeBool() ? 3 : 2;
  options.endianness = in.ConsumeBool() ? Endianness::kBig : Endianness::kLittle;
  options.pad_after_last_tensor = in.ConsumeBool();
  GgufWriter writer(options);
  if (in.ConsumeBool()) {
    (void)writer.SetAlignment(uint32_t{1} << in.ConsumeIntegralInRange(0, 12));
  }
  const int n_kv = in.ConsumeIntegralInRange(0, 24);
  for (int i = 0; i < n_kv; ++i) {
    std::string key = in.ConsumeRandomLengthString(48);
    MetadataValue value = RandomValue(in);
    if (key.empty() || key == kGgufAlignmentKey) continue;
    (void)writer.metadata().Set(key, std::move(value));
  }
  const TypeTraitsRange all = AllTypeTraits();
  const int n_tensors = in.ConsumeIntegralInRange(0, 4);
  for (int i = 0; i < n_tensors; ++i) {
    const TypeTraits& t = all.begin()[in.ConsumeIntegralInRange<size_t>(
        0, static_cast<size_t>(all.end() - all.begin()) - 1)];
    std::vector<int64_t> ne(static_cast<size_t>(in.ConsumeIntegralInRange(1, 4)));
    ne[0] = t.block_size * in.ConsumeIntegralInRange<int64_t>(1, 3);
    for (size_t d = 1; d < ne.size(); ++d) ne[d] = in.ConsumeIntegralInRange<int64_t>(1, 3);
    std::string name = in.ConsumeRandomLengthString(24);
    (void)writer.AddTensor(name.empty() ? "t" + std::to_string(i) : name, t.type, ne);
  }
  std::vector<uint8_t> file;
  if (!writer.Begin(MakeMemorySink("w.gguf", &file)).ok()) return;
  const std::vector<TensorInfo> planned = writer.planned_tensors();
  std::vector<std::vector<uint8_t>> data;
  for (const TensorInfo& t : planned) {
    std::vector<uint8_t> bytes(static_cast<size_t>(t.size_bytes));
    for (uint8_t& b : bytes) b = in.ConsumeIntegral<uint8_t>();
    FUZZ_CHECK(writer.WriteTensorData(bytes.data(), bytes.size()).ok(), "write tensor data");
    data.push_back(std::move(bytes));
  }
  absl::Status finished = writer.Finish();
  FUZZ_CHECK(finished.ok(), "Finish: %s", std::string(finished.message()).c_str());

  auto reader = GgufReader::Open(MakeMemoryViewSource("w.gguf", file));
  FUZZ_CHECK(reader.ok(), "the writer's output does not parse: %s",
             std::string(reader.status().message()).c_str());
  GgufReader& r = **reader;
  FUZZ_CHECK(r.version() == options.version && r.endianness() == options.endianness,
             "version or endianness changed");
  const Metadata& written = writer.metadata();
  FUZZ_CHECK(r.metadata().size() == written.size(), "metadata count %zu, wrote %zu",
             r.metadata().size(), written.size());
  for (size_t i = 0; i < written.size(); ++i) {
    const MetadataEntry& a = written.entries()[i];
    const MetadataEntry& b = r.metadata().entries()[i];
    FUZZ_CHECK(a.key == b.key && a.value == b.value, "metadata entry %zu ('%s') changed", i,
               a.key.c_str());
  }
  FUZZ_CHECK(r.tensors().size() == planned.size(), "tensor count changed");
  for (size_t i = 0; i < planned.size(); ++i) {
    const TensorInfo& a = planned[i];
    const TensorInfo& b = r.tensors()[i];
    FUZZ_CHECK(a.name == b.name && a.type == b.type && a.n_dims == b.n_dims && a.ne == b.ne &&
                   a.offset == b.offset && a.size_bytes == b.size_bytes,
               "tensor %zu ('%s') changed", i, a.name.c_str());
    std::vector<uint8_t> back(static_cast<size_t>(b.size_bytes));
    FUZZ_CHECK(r.ReadTensorBytes(b, 0, back.data(), back.size()).ok(), "read tensor %zu", i);
    FUZZ_CHECK(back == data[i], "tensor %zu data changed", i);
  }
  std::vector<uint8_t> copy;
  absl::Status copied = CopyGguf(r, MakeMemorySink("copy.gguf", &copy));
  FUZZ_CHECK(copied.ok(), "CopyGguf: %s", std::string(copied.message()).c_str());
  FUZZ_CHECK(copy == file, "CopyGguf is not byte for byte (%zu vs %zu bytes)", copy.size(),
             file.size());
}

}  // namespace
}  // namespace ggufkit

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  ggufkit::Run(in);
  return 0;
}
