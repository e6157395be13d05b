// ShapeFromFile: a GGUF file's metadata through the planner's lookup
// interface (gguf/reader.h), and its tensors' bytes as the weights.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/kvplan/kvplan.h"

namespace ggufkit::kvplan {
namespace {

// GGUF metadata seen through the planner's lookup interface.
class GgufMetadataLookup : public KvMetadataLookup {
 public:
  explicit GgufMetadataLookup(const Metadata& md) : md_(md) {}

  absl::StatusOr<absl::optional<std::string>> String(absl::string_view key) const override {
    if (md_.Find(key) == nullptr) return absl::optional<std::string>();
    auto s = md_.GetString(key);
    if (!s.ok()) return s.status();
    return absl::optional<std::string>(*std::move(s));
  }

  bool IsArray(absl::string_view key) const override {
    const MetadataValue* v = md_.Find(key);
    return v != nullptr && v->is_array();
  }

  absl::StatusOr<absl::optional<std::vector<int64_t>>> Integers(
      absl::string_view key) const override {
    const MetadataValue* v = md_.Find(key);
    if (v == nullptr) return absl::optional<std::vector<int64_t>>();
    const GgufValueType t = v->element_type();
    const bool integer =
        t == GgufValueType::kU8 || t == GgufValueType::kI8 || t == GgufValueType::kU16 ||
        t == GgufValueType::kI16 || t == GgufValueType::kU32 || t == GgufValueType::kI32 ||
        t == GgufValueType::kU64 || t == GgufValueType::kI64 || t == GgufValueType::kBool;
    if (!integer) {
      return absl::InvalidArgumentError(absl::StrCat(md_.source_name(), ": metadata key '", key,
                                                     "' is ", GgufValueTypeName(v->type()),
                                                     ", expected an integer"));
    }
    if (!v->is_array()) {
      auto x = md_.GetInteger(key);
      if (!x.ok()) {
        if (t != GgufValueType::kBool) return x.status();
        return absl::optional<std::vector<int64_t>>(std::vector<int64_t>{v->boolean() ? 1 : 0});
      }
      return absl::optional<std::vector<int64_t>>(std::vector<int64_t>{*x});
    }
    // Arrays: the element count is bounded by the file size (the reader
    // checked it), and per-layer arrays are small.
    if (v->size() > 100000) {
      return absl::InvalidArgumentError(absl::StrCat(md_.source_name(), ": metadata key '", key,
                                                     "' has ", v->size(),
                                                     " elements, more than any layer count"));
    }
    std::vector<int64_t> out(static_cast<size_t>(v->size()));
    for (uint64_t i = 0; i < v->size(); ++i) out[i] = v->int_at(i);
    return absl::optional<std::vector<int64_t>>(std::move(out));
  }

 private:
  const Metadata& md_;
};

}  // namespace

// A split model is opened as one model (all shards validated, weights summed
// over every shard), like gguf-inspect and gguf-dequant do.
absl::StatusOr<ModelKvShape> ShapeFromFile(const std::string& path) {
  auto model = GgufModel::Open(path);
  if (!model.ok()) return model.status();
  int64_t weights = 0;
  for (const TensorInfo& t : (*model)->tensors()) {
    weights += static_cast<int64_t>(t.size_bytes);  // each bounded by its shard's size
  }
  GgufMetadataLookup lookup((*model)->metadata());
  return ShapeFromMetadata(lookup, path, weights);
}

}  // namespace ggufkit::kvplan
