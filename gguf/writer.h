// Streaming GGUF writer.
//
// Use:
//   GgufWriter w;
//   w.metadata().Set("general.architecture", MetadataValue::String("llama"));
//   GGUFKIT_RETURN_IF_ERROR(w.SetAlignment(64));          // optional, default 32
//   GGUFKIT_RETURN_IF_ERROR(w.AddTensor("tok_embd", GgmlType::kQ4_K, {4096, 32000}));
//   GGUFKIT_RETURN_IF_ERROR(w.Begin("out.gguf"));         // plans, writes header
//   while (...) GGUFKIT_RETURN_IF_ERROR(w.WriteTensorData(chunk, n));  // any chunking
//   GGUFKIT_RETURN_IF_ERROR(w.Finish());                  // checks counts, commits
//
// The writer plans every offset before writing a byte (tensors in declared
// order, each offset aligned to general.alignment, zero padding between), so
// tensor data streams through without seeking. It honours general.alignment
// (u32 key; must be a power of two, 1 .. kGgufMaxAlignment) whatever the
// metadata came from. Metadata is emitted in Metadata order with exact types:
// reading a file and writing its metadata and tensors back unchanged
// reproduces it byte for byte (see CopyGguf in tests/gguf).
//
// Output goes to an OutputSink (default: temp file in the destination
// folder, renamed on successful Finish()). Destroying a writer that did not
// finish aborts the sink, which removes the temp file.
#ifndef GGUFKIT_GGUF_WRITER_H_
#define GGUFKIT_GGUF_WRITER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ggufkit/gguf/metadata.h"
#include "ggufkit/gguf/output_sink.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit {

struct WriterOptions {
  uint32_t version = 3;  // 2 or 3 (identical layout)
  // kBig writes header, metadata and tensor infos byte-swapped; tensor data
  // is written as given (the caller supplies big-endian blocks).
  Endianness endianness = Endianness::kLittle;
  // Pad the data after the last tensor up to the alignment, as ggml and
  // gguf-py do. A file without tensors never gets padding after its infos
  // (what gguf-py writes for vocab-only files).
  bool pad_after_last_tensor = true;
};

class GgufWriter {
 public:
  explicit GgufWriter(const WriterOptions& options = {});
  ~GgufWriter();  // aborts the sink unless Finish() succeeded
  GgufWriter(const GgufWriter&) = delete;
  GgufWriter& operator=(const GgufWriter&) = delete;

  // Declaration phase (before Begin).
  Metadata& metadata() { return metadata_; }
  const Metadata& metadata() const { return metadata_; }
  // Sets general.alignment (u32). InvalidArgument for 0, a non-power of two
  // or more than kGgufMaxAlignment.
  absl::Status SetAlignment(uint32_t alignment);
  // Declares the next tensor. `ne` has n_dims = ne.size() entries (1..4),
  // innermost first; every entry >= 1 and ne[0] a multiple of the type's
  // block size. Duplicate or empty names, overflowing sizes and names longer
  // than kGgufMaxTensorNameLength are InvalidArgument.
  absl::Status AddTensor(absl::string_view name, GgmlType type, absl::Span<const int64_t> ne);
  // Same with an explicit data offset (relative to the data section): it must
  // be aligned and not before the end of the previous tensor. For re-emitting
  // files whose layout has gaps.
  absl::Status AddTensorAt(absl::string_view name, GgmlType type, absl::Span<const int64_t> ne,
                           uint64_t offset);

  // Computes the layout without writing (Begin calls it). After success,
  // planned_tensors() has every offset/size, and data_offset()/total_size()
  // are known; metadata and tensors can no longer change.
  absl::Status Plan();
  const std::vector<TensorInfo>& planned_tensors() const { return tensors_; }
  uint64_t data_offset() const { return data_offset_; }
  uint64_t total_size() const { return total_size_; }
  uint32_t alignment() const { return alignment_; }
  // Header + metadata + tensor infos + padding: the first data_offset()
  // bytes of the file (for writers that place tensor data themselves).
  absl::StatusOr<std::vector<uint8_t>> SerializeHeader();

  // Plans, then writes the header to `sink`.
  absl::Status Begin(std::unique_ptr<OutputSink> sink);
  // Begin(OpenAtomicFileSink(path)).
  absl::Status Begin(const std::string& path);

  // Appends the next n bytes of tensor data, in declared order. A chunk may
  // not cross the end of the current tensor (InvalidArgument naming the
  // tensor and the bytes remaining); padding is inserted between tensors.
  absl::Status WriteTensorData(const void* data, size_t n);
  // Index of the tensor the next WriteTensorData continues; equals
  // planned_tensors().size() when all data has been given.
  size_t current_tensor() const { return current_; }
  // Bytes still expected for the current tensor.
  uint64_t current_tensor_remaining() const;

  // Checks that every tensor got all its bytes, writes the final padding and
  // commits the sink. FailedPrecondition naming the first incomplete tensor.
  absl::Status Finish();
  // Discards the output (removes the temp file). Idempotent.
  void Abort();

 private:
  absl::Status CheckDeclaring() const;
  absl::Status WritePaddingTo(uint64_t absolute_offset);
  absl::Status Fail(absl::Status status);

  WriterOptions options_;
  Metadata metadata_;
  std::vector<TensorInfo> tensors_;
  std::vector<bool> explicit_offset_;
  bool planned_ = false;
  bool finished_ = false;
  bool failed_ = false;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t data_offset_ = 0;
  uint64_t total_size_ = 0;
  std::unique_ptr<OutputSink> sink_;
  uint64_t position_ = 0;  // absolute bytes written
  size_t current_ = 0;
  uint64_t current_done_ = 0;  // bytes written of tensors_[current_]
};

// Writes everything `reader` holds (metadata in order, tensors with their
// offsets and data) to `sink`: a byte-exact copy for files laid out as ggml /
// gguf-py write them. `chunk_bytes` bounds the copy buffer.
absl::Status CopyGguf(GgufReader& reader, std::unique_ptr<OutputSink> sink,
                      size_t chunk_bytes = 1 << 20);

}  // namespace ggufkit

#endif  // GGUFKIT_GGUF_WRITER_H_
