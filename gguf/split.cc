#include "ggufkit/gguf/split.h"

#include <unistd.h>

#include <cstdio>
#include <limits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ggufkit/gguf/zstd_source.h"
#include "ggufkit/base/status_macros.h"

namespace ggufkit {
namespace {

constexpr absl::string_view kShardSuffix = ".gguf";
// "-00001-of-00003" before ".gguf".
constexpr size_t kShardTagLength = 15;

// Reads split.* keys as integers (llama.cpp writes u16/u16/i32; tolerate
// other integer types, reject anything else).
absl::StatusOr<int64_t> SplitKey(const Metadata& md, absl::string_view key) {
  return md.GetInteger(key);
}

// Forwards to a sink owned elsewhere; Finish() only marks the shard as
// complete so that the split writer can commit all shards together.
class DeferredSink final : public OutputSink {
 public:
  explicit DeferredSink(OutputSink* target) : target_(target) {}
  const std::string& name() const override { return target_->name(); }
  absl::Status Write(const void* data, size_t n) override { return target_->Write(data, n); }
  absl::Status Finish() override { return absl::OkStatus(); }
  void Abort() override { target_->Abort(); }
  uint64_t bytes_written() const override { return target_->bytes_written(); }

 private:
  OutputSink* target_;
};

}  // namespace

std::string SplitShardPath(absl::string_view prefix, uint32_t index, uint32_t count) {
  return absl::StrFormat("%s-%05u-of-%05u.gguf", prefix, index + 1, count);
}

bool ParseSplitShardPath(absl::string_view path, std::string* prefix, uint32_t* index,
                         uint32_t* count) {
  if (!absl::EndsWith(path, kShardSuffix)) return false;
  absl::string_view stem = path.substr(0, path.size() - kShardSuffix.size());
  if (stem.size() <= kShardTagLength) return false;
  absl::string_view tag = stem.substr(stem.size() - kShardTagLength);
  // tag = "-NNNNN-of-NNNNN"
  if (tag[0] != '-' || tag.substr(6, 4) != "-of-") return false;
  uint32_t no = 0, n = 0;
  for (char c : tag.substr(1, 5)) {
    if (c < '0' || c > '9') return false;
  }
  for (char c : tag.substr(10, 5)) {
    if (c < '0' || c > '9') return false;
  }
  if (!absl::SimpleAtoi(tag.substr(1, 5), &no) || !absl::SimpleAtoi(tag.substr(10, 5), &n)) {
    return false;
  }
  if (no == 0 || n == 0 || no > n) return false;
  if (prefix) *prefix = std::string(stem.substr(0, stem.size() - kShardTagLength));
  if (index) *index = no - 1;
  if (count) *count = n;
  return true;
}

// ---------------------------------------------------------------------------
// GgufModel
// ---------------------------------------------------------------------------

GgufModel::~GgufModel() = default;

const std::string& GgufModel::name() const { return shards_[0]->name(); }

absl::StatusOr<std::unique_ptr<GgufModel>> GgufModel::Open(const std::string& path,
                                                           const ReaderOptions& options) {
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<GgufReader> first, GgufReader::Open(path, options));
  const Metadata& md = first->metadata();
  if (!md.Contains(kSplitCountKey)) {
    std::vector<std::unique_ptr<GgufReader>> shards;
    shards.push_back(std::move(first));
    return FromShards(std::move(shards));
  }
  GGUFKIT_ASSIGN_OR_RETURN(int64_t count, SplitKey(md, kSplitCountKey));
  GGUFKIT_ASSIGN_OR_RETURN(int64_t no, SplitKey(md, kSplitNoKey));
  if (count < 1 || count > std::numeric_limits<uint16_t>::max()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": split.count ", count, " is outside 1..65535"));
  }
  if (no < 0 || no >= count) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": split.no ", no, " is outside 0..", count - 1));
  }
  std::vector<std::unique_ptr<GgufReader>> shards(static_cast<size_t>(count));
  if (count == 1) {
    shards[0] = std::move(first);
    return FromShards(std::move(shards));
  }
  std::string prefix;
  uint32_t name_index = 0, name_count = 0;
  // Compressed shards (<name>-NNNNN-of-NNNNN.gguf.zst): the siblings are
  // looked for with the same suffix.
  const absl::string_view zst_suffix = HasZstdSuffix(path) ? ".zst" : "";
  const absl::string_view shard_name =
      absl::string_view(path).substr(0, path.size() - zst_suffix.size());
  if (!ParseSplitShardPath(shard_name, &prefix, &name_index, &name_count)) {
    return absl::InvalidArgumentError(absl::StrCat(
        path, ": split.count is ", count,
        " but the file name does not follow <name>-NNNNN-of-NNNNN.gguf, so the other shards "
        "cannot be found"));
  }
  if (name_count != count || name_index != no) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": file name says shard ", name_index + 1, " of ", name_count,
                     " but split.no/split.count say ", no + 1, " of ", count));
  }
  shards[static_cast<size_t>(no)] = std::move(first);
  for (uint32_t i = 0; i < count; ++i) {
    if (shards[i]) continue;
    const std::string shard_path =
        absl::StrCat(SplitShardPath(prefix, i, static_cast<uint32_t>(count)), zst_suffix);
    if (::access(shard_path.c_str(), F_OK) != 0) {
      return absl::NotFoundError(absl::StrCat("split model ", path, ": shard ", i + 1, " of ",
                                              count, " ('", shard_path, "') is missing"));
    }
    GGUFKIT_ASSIGN_OR_RETURN(shards[i], GgufReader::Open(shard_path, options));
  }
  return FromShards(std::move(shards));
}

absl::StatusOr<std::unique_ptr<GgufModel>> GgufModel::FromShards(
    std::vector<std::unique_ptr<GgufReader>> shards) {
  if (shards.empty()) return absl::InvalidArgumentError("GgufModel: no shards");
  std::unique_ptr<GgufModel> model(new GgufModel());
  const size_t n = shards.size();
  const Metadata& first = shards[0]->metadata();
  int64_t expected_tensors = -1;
  if (first.Contains(kSplitCountKey) || n > 1) {
    model->split_keys_present_ = first.Contains(kSplitCountKey);
    for (size_t i = 0; i < n; ++i) {
      const GgufReader& s = *shards[i];
      const Metadata& md = s.metadata();
      absl::StatusOr<int64_t> count = SplitKey(md, kSplitCountKey);
      absl::StatusOr<int64_t> no = SplitKey(md, kSplitNoKey);
      if (!count.ok()) return count.status();
      if (!no.ok()) return no.status();
      if (*count != static_cast<int64_t>(n)) {
        return absl::InvalidArgumentError(absl::StrCat(s.name(), ": split.count is ", *count,
                                                       ", but the model has ", n, " shards"));
      }
      if (*no != static_cast<int64_t>(i)) {
        return absl::InvalidArgumentError(
            absl::StrCat(s.name(), ": split.no is ", *no, ", expected ", i));
      }
      if (i == 0) {
        absl::StatusOr<int64_t> total = SplitKey(md, kSplitTensorsCountKey);
        if (!total.ok()) return total.status();
        expected_tensors = *total;
      }
    }
  }
  size_t total = 0;
  for (const auto& s : shards) total += s->tensors().size();
  model->tensors_.reserve(total);
  for (size_t i = 0; i < n; ++i) {
    for (const TensorInfo& t : shards[i]->tensors()) {
      if (model->tensor_index_.contains(t.name)) {
        const TensorInfo& other = model->tensors_[model->tensor_index_[t.name]];
        return absl::InvalidArgumentError(
            absl::StrCat("split model ", shards[0]->name(), ": tensor '", t.name,
                         "' appears in shard ", other.shard + 1, " ('", shards[other.shard]->name(),
                         "') and shard ", i + 1, " ('", shards[i]->name(), "')"));
      }
      TensorInfo copy = t;
      copy.shard = static_cast<uint32_t>(i);
      model->tensor_index_.emplace(copy.name, model->tensors_.size());
      model->tensors_.push_back(std::move(copy));
    }
  }
  if (expected_tensors >= 0 && static_cast<uint64_t>(expected_tensors) != total) {
    return absl::InvalidArgumentError(
        absl::StrCat("split model ", shards[0]->name(), ": split.tensors.count is ",
                     expected_tensors, " but the ", n, " shards hold ", total, " tensors"));
  }
  model->shards_ = std::move(shards);
  return model;
}

const TensorInfo* GgufModel::FindTensor(absl::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

absl::Status GgufModel::ReadTensorBytes(const TensorInfo& tensor, uint64_t offset_in_tensor,
                                        void* dst, size_t n) {
  if (tensor.shard >= shards_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(name(), ": tensor '", tensor.name,
                                                   "' names shard ", tensor.shard + 1,
                                                   " of a model with ", shards_.size()));
  }
  return shards_[tensor.shard]->ReadTensorBytes(tensor, offset_in_tensor, dst, n);
}

void GgufModel::ReleaseTensorBytes(const TensorInfo& tensor, uint64_t offset_in_tensor,
                                   uint64_t n) {
  if (tensor.shard < shards_.size()) {
    shards_[tensor.shard]->ReleaseTensorBytes(tensor, offset_in_tensor, n);
  }
}

// ---------------------------------------------------------------------------
// GgufSplitWriter
// ---------------------------------------------------------------------------

GgufSplitWriter::GgufSplitWriter(const SplitOptions& options) : options_(options) {}

GgufSplitWriter::~GgufSplitWriter() {
  if (!finished_) AbortAll();
}

absl::Status GgufSplitWriter::SetAlignment(uint32_t alignment) {
  GGUFKIT_RETURN_ERROR_IF(begun_, "GgufSplitWriter: SetAlignment after Begin");
  GgufWriter probe;
  GGUFKIT_RETURN_IF_ERROR(probe.SetAlignment(alignment));  // validates
  return metadata_.Set(kGgufAlignmentKey, MetadataValue::U32(alignment));
}

absl::Status GgufSplitWriter::AddTensor(absl::string_view name, GgmlType type,
                                        absl::Span<const int64_t> ne) {
  GGUFKIT_RETURN_ERROR_IF(begun_, "GgufSplitWriter: AddTensor after Begin");
  // Validate through a throw-away writer so both writers accept the same.
  GgufWriter probe;
  GGUFKIT_RETURN_IF_ERROR(probe.AddTensor(name, type, ne));
  for (const PendingTensor& p : pending_) {
    GGUFKIT_RETURN_ERROR_IF(p.name == name, "GgufSplitWriter: duplicate tensor name '", name, "'");
  }
  GGUFKIT_RETURN_IF_ERROR(probe.Plan());
  pending_.push_back(PendingTensor{std::string(name), type,
                                   std::vector<int64_t>(ne.begin(), ne.end()),
                                   probe.planned_tensors()[0].size_bytes});
  return absl::OkStatus();
}

absl::Status GgufSplitWriter::Begin(const std::string& prefix) {
  GGUFKIT_RETURN_ERROR_IF(begun_, "GgufSplitWriter: Begin called twice");
  begun_ = true;
  uint32_t alignment = kGgufDefaultAlignment;
  if (const MetadataValue* a = metadata_.Find(kGgufAlignmentKey)) {
    GGUFKIT_RETURN_ERROR_IF(a->type() != GgufValueType::kU32,
                            "GgufSplitWriter: general.alignment must be u32");
    alignment = a->u32();
    GGUFKIT_RETURN_ERROR_IF(alignment == 0 || (alignment & (alignment - 1)) != 0,
                            "GgufSplitWriter: general.alignment ", alignment,
                            " is not a power of two");
  }
  // Greedy plan: a new shard starts when the current one is full.
  tensor_shard_.assign(pending_.size(), 0);
  uint32_t shard = 0;
  uint64_t shard_tensors = 0, shard_bytes = 0;
  for (size_t i = 0; i < pending_.size(); ++i) {
    const uint64_t padded = (pending_[i].size_bytes + alignment - 1) / alignment * alignment;
    const bool full_count =
        options_.max_tensors_per_shard != 0 && shard_tensors >= options_.max_tensors_per_shard;
    const bool full_bytes =
        options_.max_bytes_per_shard != 0 && shard_bytes + padded > options_.max_bytes_per_shard;
    if (shard_tensors > 0 && (full_count || full_bytes)) {
      ++shard;
      shard_tensors = 0;
      shard_bytes = 0;
    }
    tensor_shard_[i] = shard;
    ++shard_tensors;
    shard_bytes += padded;
  }
  const uint32_t count = shard + 1;
  GGUFKIT_RETURN_ERROR_IF(count > std::numeric_limits<uint16_t>::max(), "GgufSplitWriter: ", count,
                          " shards exceed the 65535 that split.count can hold");
  GGUFKIT_RETURN_ERROR_IF(
      pending_.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()),
      "GgufSplitWriter: too many tensors for split.tensors.count (i32)");
  for (uint32_t s = 0; s < count; ++s) {
    shard_paths_.push_back(SplitShardPath(prefix, s, count));
  }
  for (uint32_t s = 0; s < count; ++s) {
    auto writer = std::make_unique<GgufWriter>(options_.writer);
    Metadata& md = writer->metadata();
    if (s == 0) {
      md = metadata_;
    } else if (const MetadataValue* a = metadata_.Find(kGgufAlignmentKey)) {
      // Later shards need the alignment too, or their data would be read at
      // the default alignment.
      GGUFKIT_RETURN_IF_ERROR(md.Set(kGgufAlignmentKey, *a));
    }
    GGUFKIT_RETURN_IF_ERROR(md.Set(kSplitNoKey, MetadataValue::U16(static_cast<uint16_t>(s))));
    GGUFKIT_RETURN_IF_ERROR(
        md.Set(kSplitCountKey, MetadataValue::U16(static_cast<uint16_t>(count))));
    GGUFKIT_RETURN_IF_ERROR(
        md.Set(kSplitTensorsCountKey, MetadataValue::I32(static_cast<int32_t>(pending_.size()))));
    for (size_t i = 0; i < pending_.size(); ++i) {
      if (tensor_shard_[i] != s) continue;
      const PendingTensor& p = pending_[i];
      GGUFKIT_RETURN_IF_ERROR(writer->AddTensor(p.name, p.type, p.ne));
    }
    absl::StatusOr<std::unique_ptr<OutputSink>> sink = options_.open_sink
                                                           ? options_.open_sink(shard_paths_[s])
                                                           : OpenAtomicFileSink(shard_paths_[s]);
    if (!sink.ok()) {
      AbortAll();
      return sink.status();
    }
    sinks_.push_back(std::move(*sink));
    absl::Status st = writer->Begin(std::make_unique<DeferredSink>(sinks_.back().get()));
    writers_.push_back(std::move(writer));
    if (!st.ok()) {
      AbortAll();
      return st;
    }
  }
  current_shard_ = 0;
  return absl::OkStatus();
}

absl::Status GgufSplitWriter::WriteTensorData(const void* data, size_t n) {
  if (failed_) return absl::FailedPreconditionError("GgufSplitWriter: an earlier write failed");
  GGUFKIT_RETURN_ERROR_IF(!begun_ || writers_.empty(), "GgufSplitWriter: write before Begin");
  if (n == 0) return absl::OkStatus();
  // Skip shards whose tensors are complete.
  while (current_shard_ + 1 < writers_.size() &&
         writers_[current_shard_]->current_tensor() ==
             writers_[current_shard_]->planned_tensors().size()) {
    ++current_shard_;
  }
  absl::Status s = writers_[current_shard_]->WriteTensorData(data, n);
  if (!s.ok()) {
    AbortAll();
    return s;
  }
  return absl::OkStatus();
}

absl::Status GgufSplitWriter::Finish() {
  if (failed_) return absl::FailedPreconditionError("GgufSplitWriter: an earlier write failed");
  GGUFKIT_RETURN_ERROR_IF(!begun_ || finished_, "GgufSplitWriter: Finish without Begin");
  for (auto& w : writers_) {
    absl::Status s = w->Finish();  // checks counts, writes padding
    if (!s.ok()) {
      AbortAll();
      return s;
    }
  }
  for (size_t i = 0; i < sinks_.size(); ++i) {
    absl::Status s = sinks_[i]->Finish();
    if (!s.ok()) {
      // Remove the shards already committed: a partial set must not look
      // like a model.
      for (size_t j = 0; j < i; ++j) ::unlink(shard_paths_[j].c_str());
      AbortAll();
      return s;
    }
  }
  finished_ = true;
  return absl::OkStatus();
}

void GgufSplitWriter::Abort() {
  if (!finished_) AbortAll();
}

void GgufSplitWriter::AbortAll() {
  failed_ = true;
  for (auto& w : writers_) w->Abort();
  for (auto& s : sinks_) s->Abort();
}

}  // namespace ggufkit
