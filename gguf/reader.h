// Streaming GGUF reader (versions 2 and 3, little- and big-endian).
//
// Open() parses the header, the metadata and the tensor infos, reading the
// source strictly front to back, and validates everything against the bad-
// input checklist of docs/security.md: every error is an absl::Status
// naming the file, the byte offset and the problem. Nothing is allocated from
// a count read from the file before the count is checked against the bytes
// that remain, so parsing memory is bounded by the file size plus a constant.
// Tensor data is NOT loaded: callers read each tensor's bytes chunk by chunk
// with ReadTensorBytes().
//
// Layout:
//   "GGUF" u32 version u64 n_tensors u64 n_kv
//   n_kv x (string key, u32 value_type, value)
//   n_tensors x (string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset)
//   zero padding to general.alignment (default 32)
//   data section: tensor i at data_offset + offset_i (offset_i aligned)
//
// Big-endian files (the version field reads 0x03000000 when parsed as
// little-endian) have their header, metadata and tensor infos byte-swapped
// while parsing; tensor DATA is returned raw, exactly as stored: callers that
// decode a big-endian file must swap the multi-byte fields of each block
// (ByteSwapBlocks in quants/block_fields.h; the streaming layer does).
//
// Forward-only sources: parsing works unchanged; the "tensor fits in the
// file" check happens at Open when the size is known, otherwise when the
// data is read (an early end is a clean OutOfRange naming the tensor). Read
// tensors in file order (TensorsInFileOrder()) on such sources.
//
// Threads: ReadTensorBytes may be called from several threads at once. On a
// random-access source (pread, mmap, memory) the reads run in parallel; on a
// forward-only source (a .gguf.zst stream) they are serialized by the reader,
// and a read that starts before the end of the previous one (whichever thread
// made it) fails with FailedPrecondition naming the file: an error, never a
// data race or wrong bytes.
#ifndef GGUFKIT_GGUF_READER_H_
#define GGUFKIT_GGUF_READER_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ggufkit/gguf/byte_source.h"
#include "ggufkit/gguf/metadata.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit {

inline constexpr uint32_t kGgufMagic = 0x46554747;  // "GGUF" read as little-endian u32
inline constexpr uint32_t kGgufDefaultAlignment = 32;
inline constexpr int kGgufMaxDims = 4;
inline constexpr absl::string_view kGgufAlignmentKey = "general.alignment";

// Limits applied while parsing (beyond "fits in the remaining bytes").
// general.alignment above this is rejected as absurd.
inline constexpr uint32_t kGgufMaxAlignment = 1u << 30;
// Tensor names longer than this are rejected (ggml: GGML_MAX_NAME = 64, but
// llama.cpp files use up to 63 chars; we allow more and still bound it).
inline constexpr uint64_t kGgufMaxTensorNameLength = 1024;

enum class Endianness { kLittle, kBig };
absl::string_view EndiannessName(Endianness e);  // "little" / "big"

struct TensorInfo {
  std::string name;
  GgmlType type = GgmlType::kF32;
  uint32_t n_dims = 1;
  // ne[0] is the innermost (contiguous) dimension; entries >= n_dims are 1.
  std::array<int64_t, kGgufMaxDims> ne = {1, 1, 1, 1};
  int64_t n_elements = 0;
  uint64_t size_bytes = 0;       // ggml byte size (rows * row bytes)
  uint64_t offset = 0;           // relative to the data section start
  uint64_t absolute_offset = 0;  // data_offset + offset, in its shard file
  uint32_t shard = 0;            // shard index (0 for a single file)
  uint64_t info_offset = 0;      // where its tensor-info record starts
  // Bytes of one row (ne[0] elements).
  uint64_t row_bytes = 0;
  int64_t n_rows() const { return ne[0] == 0 ? 0 : n_elements / ne[0]; }
};

// Shape as "[4096, 32000]" (n_dims entries).
std::string ShapeString(const TensorInfo& info);

struct ReaderOptions {
  SourceKind source_kind = SourceKind::kPread;
  // Reject tensors whose byte ranges overlap (checklist item). Tensors
  // sharing the exact same range are overlaps too.
  bool reject_overlaps = true;
};

class GgufReader {
 public:
  // Opens and parses `path` (pread or mmap per options).
  static absl::StatusOr<std::unique_ptr<GgufReader>> Open(const std::string& path,
                                                          const ReaderOptions& options = {});
  // Parses from any byte source; the reader owns it.
  static absl::StatusOr<std::unique_ptr<GgufReader>> Open(std::unique_ptr<ByteSource> source,
                                                          const ReaderOptions& options = {});

  GgufReader(const GgufReader&) = delete;
  GgufReader& operator=(const GgufReader&) = delete;
  ~GgufReader();

  const std::string& name() const { return source_->name(); }
  uint32_t version() const { return version_; }
  Endianness endianness() const { return endianness_; }
  uint32_t alignment() const { return alignment_; }
  // Absolute offset of the data section (end of tensor infos, padded).
  uint64_t data_offset() const { return data_offset_; }
  // Bytes of header + metadata + tensor infos, before padding.
  uint64_t header_size() const { return header_size_; }
  // Source size if known (std::nullopt for some forward-only sources).
  std::optional<uint64_t> file_size() const { return source_->size(); }
  // Where ggml expects the data section to end: the end of the last tensor's
  // data rounded up to the alignment (ggml reads the data section as the sum
  // of the padded tensor sizes). data_offset() when there are no tensors.
  uint64_t padded_data_end() const { return padded_data_end_; }
  // Bytes of that final alignment padding missing at the end of the file: the
  // file ends after the last tensor's data but before padded_data_end().
  // Such files read fine here, but ggml's gguf reader and llama.cpp refuse
  // them ("failed to read tensor data"); gguf-inspect warns. 0 when the file
  // is complete, has no tensors, or its size is unknown.
  uint64_t missing_final_padding() const {
    const std::optional<uint64_t> size = file_size();
    return size && !tensors_.empty() && *size < padded_data_end_ ? padded_data_end_ - *size : 0;
  }

  const Metadata& metadata() const { return metadata_; }
  // In tensor-info order (the order of the file's info records).
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  // nullptr when absent.
  const TensorInfo* FindTensor(absl::string_view name) const;
  // Indices into tensors() sorted by offset: the order a forward-only source
  // must be read in.
  std::vector<size_t> TensorsInFileOrder() const;

  // Reads bytes [offset_in_tensor, offset_in_tensor + n) of `tensor`'s data
  // into dst (raw bytes as stored; see the big-endian note above). `tensor`
  // must come from this reader. Errors name the file and tensor:
  // OutOfRange when the range passes the tensor's end or the file ends early.
  // Thread-safe (see "Threads" above).
  absl::Status ReadTensorBytes(const TensorInfo& tensor, uint64_t offset_in_tensor, void* dst,
                               size_t n);
  // Drops a consumed range of a tensor from memory (mmap sources); no-op
  // otherwise.
  void ReleaseTensorBytes(const TensorInfo& tensor, uint64_t offset_in_tensor, uint64_t n);

  ByteSource& source() { return *source_; }
  const ByteSource& source() const { return *source_; }

 private:
  friend class GgufParser;
  explicit GgufReader(std::unique_ptr<ByteSource> source);

  std::unique_ptr<ByteSource> source_;
  // Serializes ReadTensorBytes on forward-only sources (whose ReadAt keeps a
  // position and is not thread-safe).
  std::mutex forward_only_mu_;
  uint32_t version_ = 3;
  Endianness endianness_ = Endianness::kLittle;
  uint32_t alignment_ = kGgufDefaultAlignment;
  uint64_t header_size_ = 0;
  uint64_t data_offset_ = 0;
  uint64_t padded_data_end_ = 0;
  Metadata metadata_;
  std::vector<TensorInfo> tensors_;
  absl::flat_hash_map<std::string, size_t> tensor_index_;
};

}  // namespace ggufkit

#endif  // GGUFKIT_GGUF_READER_H_
