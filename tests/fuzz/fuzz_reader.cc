// Fuzz target: the GGUF reader on arbitrary bytes.
//
// Each input is parsed three ways: from memory (random access, size known),
// through a forward-only source that knows its size, and through one that
// hides it (the paths a streaming decompressor takes, where counts cannot be
// checked against the remaining bytes up front). When a parse succeeds the
// target walks what it got: every metadata value is rendered and read through
// the typed getters, every tensor's data is read chunk by chunk (in file
// order, as forward-only sources need), out-of-range reads must be refused,
// and the file is copied with CopyGguf: a copy that succeeds must parse again
// to the same metadata and tensors.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "ggufkit/gguf/byte_source.h"
#include "ggufkit/gguf/output_sink.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/writer.h"
#include "tests/fuzz/fuzz_common.h"

namespace ggufkit {
namespace {

constexpr size_t kChunk = 4096;

void TouchMetadata(const Metadata& md) {
  for (const MetadataEntry& e : md.entries()) {
    (void)e.value.DebugString(4);
    (void)e.value.EncodedSize();
    FUZZ_CHECK(md.Find(e.key) == &e.value, "key '%s' not found by Find", e.key.c_str());
    (void)md.GetInteger(e.key);
    (void)md.GetString(e.key);
    (void)md.GetF32(e.key);
    (void)md.GetBool(e.key);
    if (e.value.is_array()) {
      const uint64_t n = e.value.size();
      for (uint64_t i = 0; i < n && i < 4; ++i) {
        if (e.value.element_type() == GgufValueType::kString) {
          (void)e.value.string_at(i);
        } else {
          (void)e.value.int_at(i);
          (void)e.value.float_at(i);
        }
      }
      (void)md.GetArrayString(e.key);
      (void)md.GetArrayI32(e.key);
      (void)md.GetArrayF32(e.key);
    }
  }
}

// Reads every tensor in file order; stops at the first error (allowed only
// when the source cannot know its size). Returns whether all reads worked.
bool ReadAllTensors(GgufReader& reader, bool size_known) {
  std::vector<uint8_t> buffer(kChunk);
  for (size_t index : reader.TensorsInFileOrder()) {
    const TensorInfo& t = reader.tensors()[index];
    FUZZ_CHECK(reader.FindTensor(t.name) == &t, "tensor '%s' not found by name", t.name.c_str());
    for (uint64_t done = 0; done < t.size_bytes;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(kChunk, t.size_bytes - done));
      absl::Status s = reader.ReadTensorBytes(t, done, buffer.data(), n);
      if (!s.ok()) {
        // Open() checked that every tensor lies inside a file of known size.
        FUZZ_CHECK(!size_known, "read of tensor '%s' failed: %s", t.name.c_str(),
                   std::string(s.message()).c_str());
        return false;
      }
      reader.ReleaseTensorBytes(t, done, n);
      done += n;
    }
    if (size_known) {
      // One byte past the end, and an offset past the end, must be refused.
      uint8_t byte = 0;
      FUZZ_CHECK(!reader.ReadTensorBytes(t, t.size_bytes, &byte, 1).ok(), "read past end");
      FUZZ_CHECK(!reader.ReadTensorBytes(t, ~uint64_t{0}, &byte, 1).ok(), "read at 2^64-1");
    }
  }
  return true;
}

void CheckCopyReadsBack(GgufReader& reader) {
  std::vector<uint8_t> copy;
  if (!CopyGguf(reader, MakeMemorySink("copy", &copy), kChunk).ok()) return;
  auto again = GgufReader::Open(MakeMemoryViewSource("copy", copy));
  FUZZ_CHECK(again.ok(), "CopyGguf output does not parse: %s",
             std::string(again.status().message()).c_str());
  const GgufReader& r2 = **again;
  FUZZ_CHECK(r2.metadata().size() == reader.metadata().size(), "metadata count changed");
  for (size_t i = 0; i < r2.metadata().size(); ++i) {
    const MetadataEntry& a = reader.metadata().entries()[i];
    const MetadataEntry& b = r2.metadata().entries()[i];
    FUZZ_CHECK(a.key == b.key && a.value == b.value, "metadata entry %zu changed", i);
  }
  FUZZ_CHECK(r2.tensors().size() == reader.tensors().size(), "tensor count changed");
  for (size_t i = 0; i < r2.tensors().size(); ++i) {
    const TensorInfo& a = reader.tensors()[i];
    const TensorInfo& b = r2.tensors()[i];
    FUZZ_CHECK(a.name == b.name && a.type == b.type && a.ne == b.ne && a.offset == b.offset &&
                   a.size_bytes == b.size_bytes,
               "tensor %zu changed", i);
  }
}

void ParseOne(const uint8_t* data, size_t size, int mode) {
  std::unique_ptr<ByteSource> source =
      MakeMemoryViewSource("fuzz.gguf", absl::Span<const uint8_t>(data, size));
  if (mode > 0) source = MakeForwardOnlySource(std::move(source), /*hide_size=*/mode == 2);
  auto reader = GgufReader::Open(std::move(source));
  if (!reader.ok()) {
    FUZZ_CHECK(!reader.status().message().empty(), "error without a message");
    return;
  }
  GgufReader& r = **reader;
  FUZZ_CHECK(r.data_offset() <= size || r.tensors().empty() || mode == 2,
             "data offset %llu past the end", static_cast<unsigned long long>(r.data_offset()));
  for (const TensorInfo& t : r.tensors()) {
    FUZZ_CHECK(t.absolute_offset + t.size_bytes <= size || mode == 2,
               "tensor '%s' accepted past the end of the file", t.name.c_str());
    FUZZ_CHECK(t.offset % r.alignment() == 0, "misaligned tensor accepted");
    (void)ShapeString(t);
  }
  TouchMetadata(r.metadata());
  const bool all_read = ReadAllTensors(r, mode != 2);
  if (mode == 0 && all_read) CheckCopyReadsBack(r);
}

}  // namespace
}  // namespace ggufkit

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (int mode = 0; mode < 3; ++mode) ggufkit::ParseOne(data, size, mode);
  return 0;
}
