// Whole-model quantization: what gguf-quantize (llama-quantize's job) runs,
// as a library call.
//
//   QuantizeOptions o;
//   o.ftype = *ParseFtype("Q4_K_M");
//   auto stats = QuantizeModelFile("model-f16.gguf", "model-Q4_K_M.gguf", o);
//
// The output is byte-identical with llama-quantize's (TurboQuant fork
// 69d8e4be): same per-tensor types, tensor order, metadata and layout; see
// docs/quantize.md for the rules and the few deliberate differences.
//
// Streaming: the input is read with pread in work items of a few rows,
// dequantized to f32 (exactly), quantized by worker threads and handed to
// one writer in order; output goes to a temp file renamed on success. Peak
// memory is a fixed ring of work items plus per-thread scratch, whatever the
// model size. Output bytes do not depend on `threads` or `chunk_bytes`.
#ifndef GGUFKIT_QUANTIZE_QUANTIZE_MODEL_H_
#define GGUFKIT_QUANTIZE_QUANTIZE_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ggufkit/gguf/metadata.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/quantize/ftype.h"
#include "ggufkit/quantize/imatrix.h"
#include "ggufkit/quantize/type_selection.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit::quantize {

// --override-kv KEY=TYPE:VALUE (TYPE int, float, bool, str), stored as
// llama-quantize stores it: int -> u32 of |value|, float -> f32, bool, str
// (at most 127 characters).
struct KvOverride {
  std::string key;
  MetadataValue value;
};
absl::StatusOr<KvOverride> ParseKvOverride(absl::string_view text);

struct QuantizeOptions {
  FtypeInfo ftype = {"Q4_K_M", Ftype::kQ4_K_M, false};
  bool allow_requantize = false;             // --allow-requantize
  bool leave_output_tensor = false;          // --leave-output-tensor
  bool pure = false;                         // --pure
  std::string imatrix_path;                  // --imatrix (stored as typed in quantize.imatrix.file)
  std::vector<std::string> include_weights;  // --include-weights
  std::vector<std::string> exclude_weights;  // --exclude-weights
  std::optional<GgmlType> output_tensor_type;    // --output-tensor-type
  std::optional<GgmlType> token_embedding_type;  // --token-embedding-type
  std::vector<TensorTypeOverride> tensor_types;  // --tensor-type
  std::vector<KvOverride> kv_overrides;          // --override-kv
  // --keep-split: one output shard per input shard, tensors in each shard's
  // file order; OUT (".gguf" suffix dropped) becomes OUT-0000i-of-0000n.gguf.
  bool keep_split = false;
  int threads = 0;                       // 0: all cores
  size_t chunk_bytes = size_t{4} << 20;  // f32 bytes of input rows per work item
};

struct PlannedTensor {
  std::string name;
  int n_dims = 1;
  std::array<int64_t, 4> ne = {1, 1, 1, 1};
  GgmlType from = GgmlType::kF32;
  GgmlType to = GgmlType::kF32;
  uint64_t in_bytes = 0;
  uint64_t out_bytes = 0;
  bool convert = false;  // from != to: converted; else copied
  bool requires_imatrix = false;
  bool manual_override = false;
  std::optional<GgmlType> fallback_from;
  const std::vector<float>* imatrix = nullptr;  // weights used (null: none)
  size_t input_index = 0;                       // index in the model's tensors()
  uint32_t shard = 0;                           // output shard (--keep-split)
};

struct QuantizePlan {
  Ftype ftype = Ftype::kQ4_K_M;        // written to general.file_type
  std::vector<PlannedTensor> tensors;  // output order
  Metadata metadata;                   // output metadata, in order (first shard)
  uint32_t n_split = 1;                // output shards (--keep-split)
  uint64_t in_bytes = 0;
  uint64_t out_bytes = 0;  // tensor data bytes (no padding)
  int64_t n_elements = 0;
  int n_fallback = 0;
  bool imatrix_needed = false;        // some tensor requires an imatrix that is absent
  std::vector<std::string> warnings;  // what llama-quantize logs as warnings
  Imatrix imatrix;                    // the filtered imatrix in use
};

// Plans the run from the model's metadata and tensor infos only (the dry
// run): types, sizes, output metadata. `for_dry_run`: a missing required
// imatrix sets imatrix_needed instead of failing, and types without a
// quantizer here are allowed.
absl::StatusOr<QuantizePlan> PlanQuantization(GgufModel& model, const QuantizeOptions& options,
                                              bool for_dry_run);

// The output files of a run: OUT, or with keep_split the shard names
// llama-quantize uses (OUT with a ".gguf" suffix dropped, then
// -0000i-of-0000n.gguf).
std::vector<std::string> OutputPaths(const std::string& out_path, bool keep_split,
                                     uint32_t n_split);

// Opens `in_path` and plans (gguf-quantize --dry-run).
absl::StatusOr<QuantizePlan> PlanModelFile(const std::string& in_path,
                                           const QuantizeOptions& options);

struct QuantizeProgress {
  size_t tensor_index = 0;
  size_t tensor_count = 0;
  std::string tensor_name;
  uint64_t bytes_done = 0;  // output tensor bytes written
  uint64_t bytes_total = 0;
};

struct QuantizeStats {
  size_t tensors_written = 0;
  size_t tensors_converted = 0;
  size_t tensors_copied = 0;
  uint64_t input_data_bytes = 0;
  uint64_t output_bytes = 0;  // the whole file
  int threads = 0;
  std::vector<std::string> warnings;
};

// Quantizes `in_path` into `out_path`. Errors (then no file at out_path):
// unreadable input or imatrix, OUT being the input, a tensor type without a
// quantizer ("not supported yet"), llama-quantize's refusals (imatrix
// required, requantizing disabled, no fallback type, imatrix size
// mismatch), write failures; each one line naming the file or tensor.
absl::StatusOr<QuantizeStats> QuantizeModelFile(
    const std::string& in_path, const std::string& out_path, const QuantizeOptions& options,
    const std::function<void(const QuantizeProgress&)>& progress = {});

}  // namespace ggufkit::quantize

#endif  // GGUFKIT_QUANTIZE_QUANTIZE_MODEL_H_
