// The planner over a GGUF model: GGUF metadata seen through KvMetadataLookup,
// and the KV shape of a model file (gguf-kvplan MODEL.gguf, the Python
// package's kv_plan).
#ifndef GGUFKIT_KVPLAN_MODEL_SHAPE_H_
#define GGUFKIT_KVPLAN_MODEL_SHAPE_H_

#include <string>

#include "absl/status/statusor.h"
#include "ggufkit/gguf/metadata.h"
#include "ggufkit/kvplan/kvplan.h"

namespace ggufkit::kvplan {

// GGUF metadata through the planner's lookup interface: strings, integer /
// bool scalars and integer / bool arrays (up to 100000 elements); errors name
// the file and the key.
class GgufMetadataLookup : public KvMetadataLookup {
 public:
  explicit GgufMetadataLookup(const Metadata& md) : md_(md) {}
  absl::StatusOr<absl::optional<std::string>> String(absl::string_view key) const override;
  absl::StatusOr<absl::optional<std::vector<int64_t>>> Integers(
      absl::string_view key) const override;

 private:
  const Metadata& md_;
};

// The KV shape of a model file: a GGUF, any shard of a split model (opened as
// one model, weights summed over every shard) or a .gguf.zst.
absl::StatusOr<ModelKvShape> ShapeFromModelFile(const std::string& path);

}  // namespace ggufkit::kvplan

#endif  // GGUFKIT_KVPLAN_MODEL_SHAPE_H_
