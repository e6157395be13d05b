// Split models: llama.cpp's gguf-split layout, read as one logical model and
// written with a maximum tensor count / byte size per shard.
//
// Shards are named "<prefix>-00001-of-00003.gguf" (5-digit, 1-based in the
// name) and each is a valid GGUF holding split.no (u16, 0-based),
// split.count (u16) and split.tensors.count (i32, tensors in ALL shards).
// The model's metadata is the first shard's; the tensors are those of every
// shard in shard order, each TensorInfo knowing its shard.
#ifndef GGUFKIT_GGUF_SPLIT_H_
#define GGUFKIT_GGUF_SPLIT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ggufkit/gguf/output_sink.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/writer.h"

namespace ggufkit {

inline constexpr absl::string_view kSplitNoKey = "split.no";
inline constexpr absl::string_view kSplitCountKey = "split.count";
inline constexpr absl::string_view kSplitTensorsCountKey = "split.tensors.count";

// "<prefix>-0000<index+1>-of-0000<count>.gguf" (index 0-based).
std::string SplitShardPath(absl::string_view prefix, uint32_t index, uint32_t count);
// Parses a shard path; false when `path` does not follow the pattern.
bool ParseSplitShardPath(absl::string_view path, std::string* prefix, uint32_t* index,
                         uint32_t* count);

// One logical model over a single file or all shards of a split model.
class GgufModel {
 public:
  // `path` is a plain GGUF file or any shard of a split model (the others
  // are found by name beside it). Validation: every shard present and
  // parseable, split.no matching the file name, identical split.count,
  // total tensors equal to split.tensors.count, no tensor name in two
  // shards. Errors name the shard file.
  static absl::StatusOr<std::unique_ptr<GgufModel>> Open(const std::string& path,
                                                         const ReaderOptions& options = {});
  // From already-opened shard readers (shard order); used for sources that
  // are not plain files.
  static absl::StatusOr<std::unique_ptr<GgufModel>> FromShards(
      std::vector<std::unique_ptr<GgufReader>> shards);

  GgufModel(const GgufModel&) = delete;
  GgufModel& operator=(const GgufModel&) = delete;
  ~GgufModel();

  // The first shard's name (the path for a single file).
  const std::string& name() const;
  bool is_split() const { return shards_.size() > 1 || split_keys_present_; }
  size_t shard_count() const { return shards_.size(); }
  GgufReader& shard(size_t i) { return *shards_[i]; }
  const GgufReader& shard(size_t i) const { return *shards_[i]; }

  // First shard's metadata, version, alignment, endianness.
  const Metadata& metadata() const { return shards_[0]->metadata(); }
  uint32_t version() const { return shards_[0]->version(); }
  Endianness endianness() const { return shards_[0]->endianness(); }
  uint32_t alignment() const { return shards_[0]->alignment(); }

  // All tensors, shard by shard, each in its shard's info order; `shard`
  // and `absolute_offset` refer to that shard's file.
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* FindTensor(absl::string_view name) const;

  // Reads from the tensor's shard (see GgufReader::ReadTensorBytes).
  absl::Status ReadTensorBytes(const TensorInfo& tensor, uint64_t offset_in_tensor, void* dst,
                               size_t n);
  void ReleaseTensorBytes(const TensorInfo& tensor, uint64_t offset_in_tensor, uint64_t n);

 private:
  GgufModel() = default;
  std::vector<std::unique_ptr<GgufReader>> shards_;
  bool split_keys_present_ = false;
  std::vector<TensorInfo> tensors_;
  absl::flat_hash_map<std::string, size_t> tensor_index_;
};

struct SplitOptions {
  // 0 = unlimited. A shard always holds at least one tensor.
  uint64_t max_tensors_per_shard = 0;
  // Tensor data bytes per shard (padding included); 0 = unlimited.
  uint64_t max_bytes_per_shard = 0;
  WriterOptions writer;
  // Opens each shard's sink; default OpenAtomicFileSink.
  std::function<absl::StatusOr<std::unique_ptr<OutputSink>>(const std::string& path)> open_sink;
};

// Writes a model as shards with the same declare / Begin / WriteTensorData /
// Finish protocol as GgufWriter. Shard 1 gets all metadata; every shard gets
// split.no / split.count / split.tensors.count. No shard is committed until
// the last one is complete, and a failure aborts them all.
class GgufSplitWriter {
 public:
  explicit GgufSplitWriter(const SplitOptions& options = {});
  ~GgufSplitWriter();
  GgufSplitWriter(const GgufSplitWriter&) = delete;
  GgufSplitWriter& operator=(const GgufSplitWriter&) = delete;

  Metadata& metadata() { return metadata_; }
  absl::Status SetAlignment(uint32_t alignment);
  absl::Status AddTensor(absl::string_view name, GgmlType type, absl::Span<const int64_t> ne);

  // Plans the shards, opens "<prefix>-0000i-of-0000n.gguf" sinks and writes
  // the first header. A single shard is still named -00001-of-00001.
  absl::Status Begin(const std::string& prefix);
  const std::vector<std::string>& shard_paths() const { return shard_paths_; }
  // Tensor index -> shard index (after Begin).
  const std::vector<uint32_t>& tensor_shards() const { return tensor_shard_; }

  absl::Status WriteTensorData(const void* data, size_t n);
  absl::Status Finish();
  void Abort();

 private:
  struct PendingTensor {
    std::string name;
    GgmlType type;
    std::vector<int64_t> ne;
    uint64_t size_bytes;
  };
  void AbortAll();

  SplitOptions options_;
  Metadata metadata_;
  std::vector<PendingTensor> pending_;
  std::vector<std::string> shard_paths_;
  std::vector<uint32_t> tensor_shard_;
  // The real sinks, committed together at Finish(); declared before
  // writers_ so the writers (whose sinks forward to these) go first.
  std::vector<std::unique_ptr<OutputSink>> sinks_;
  std::vector<std::unique_ptr<GgufWriter>> writers_;  // one per shard
  size_t current_shard_ = 0;
  bool begun_ = false;
  bool finished_ = false;
  bool failed_ = false;
};

}  // namespace ggufkit

#endif  // GGUFKIT_GGUF_SPLIT_H_
