// Per-tensor type choice, as llama-quantize makes it (llama.cpp's
// llama_tensor_get_type at the TurboQuant fork 69d8e4be), written as rule
// tables: docs/quantize.md lists every rule.
//
//   auto params = ModelParamsFromMetadata(model.metadata());
//   TypeSelector sel(*params, options);
//   auto order = LlamaQuantizeOrder(names);      // the order llama-quantize walks
//   for (i : order) choice = sel.Choose(tensor_i);  // counters advance in this order
//
// The selector is stateful like llama-quantize's (attn_v / ffn_* counters), so
// tensors must be presented once each, in LlamaQuantizeOrder.
#ifndef GGUFKIT_QUANTIZE_TYPE_SELECTION_H_
#define GGUFKIT_QUANTIZE_TYPE_SELECTION_H_

#include <array>
#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ggufkit/gguf/metadata.h"
#include "ggufkit/quantize/ftype.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit::quantize {

// The hyper-parameters the rules read.
struct ModelParams {
  std::string arch;        // general.architecture
  int n_layer = 0;         // <arch>.block_count
  int n_expert = 0;        // <arch>.expert_count (0 when absent)
  uint32_t n_head = 0;     // <arch>.attention.head_count (layer 0 of an array)
  uint32_t n_head_kv = 0;  // <arch>.attention.head_count_kv (default n_head)
  bool is_70b = false;     // llama.cpp's LLM_TYPE_70B (see ModelParamsFromMetadata)
  uint32_t n_gqa() const { return n_head_kv == 0 ? 0 : n_head / n_head_kv; }
};

// Reads ModelParams. InvalidArgument naming the key when general.architecture
// or <arch>.block_count is missing or of the wrong type.
absl::StatusOr<ModelParams> ModelParamsFromMetadata(const Metadata& metadata);

// One --tensor-type NAME=TYPE: NAME is an ECMAScript regex searched in the
// tensor name (llama-quantize lower-cases it).
struct TensorTypeOverride {
  std::string pattern;
  GgmlType type;
};

// Parses one "NAME=TYPE" (llama-quantize's --tensor-type): NAME lower-cased,
// TYPE a ggml type name in any case. InvalidArgument naming the problem.
absl::StatusOr<TensorTypeOverride> ParseTensorTypeOverride(absl::string_view text);
// --tensor-type-file: NAME=TYPE entries separated by spaces or newlines.
absl::StatusOr<std::vector<TensorTypeOverride>> ReadTensorTypeFile(const std::string& path);

struct SelectionOptions {
  Ftype ftype = Ftype::kQ4_K_M;
  bool copy_only = false;                        // COPY
  bool pure = false;                             // --pure
  bool quantize_output_tensor = true;            // false: --leave-output-tensor
  std::optional<GgmlType> output_tensor_type;    // --output-tensor-type
  std::optional<GgmlType> token_embedding_type;  // --token-embedding-type
  std::vector<TensorTypeOverride> tensor_types;  // --tensor-type, in order
  bool has_imatrix = false;                      // an importance matrix is in use
};

struct TensorShape {
  std::string name;
  GgmlType type = GgmlType::kF32;  // current type
  int n_dims = 1;
  std::array<int64_t, 4> ne = {1, 1, 1, 1};
};

struct TensorChoice {
  GgmlType type = GgmlType::kF32;  // the output type
  bool quantizable = false;        // llama-quantize may change its type
  bool requires_imatrix = false;   // llama-quantize's tensor_requires_imatrix
  bool manual_override = false;    // a --tensor-type pattern decided
  // Set when the mix's type did not fit the row size: what was wanted.
  std::optional<GgmlType> fallback_from;
};

// Whether llama-quantize would quantize a tensor of this name and rank
// (2-D/3-D weights, not norms, gates, positional embeddings, ...).
bool TensorAllowsQuantization(const TensorShape& t, bool quantize_output_tensor, bool copy_only);

// llama-quantize's processing (= output) order: tensors not named blk.N.
// first, then by layer number N, each group in byte order. Returns indices.
std::vector<size_t> LlamaQuantizeOrder(const std::vector<std::string>& names);

class TypeSelector {
 public:
  // `all_names`: every tensor of the model (the counters' totals and the
  // tied-embeddings check read them). InvalidArgument for a bad regex or an
  // ftype without a default type.
  static absl::StatusOr<TypeSelector> Create(const ModelParams& params,
                                             const SelectionOptions& options,
                                             const std::vector<std::string>& all_names);

  // The choice for the next tensor (llama-quantize order). Errors as
  // llama-quantize's: "no tensor type fallback is defined for type q1_0",
  // "tensor X: no layer number in its name ...", "tensor X: layer N is outside
  // the model's M layers" (llama-quantize refuses the same tensors).
  absl::StatusOr<TensorChoice> Choose(const TensorShape& t);

  GgmlType default_type() const { return default_type_; }
  int fallback_count() const { return n_fallback_; }

 private:
  TypeSelector() = default;
  absl::StatusOr<GgmlType> MixType(const TensorShape& t, GgmlType new_type, int category);
  absl::StatusOr<GgmlType> Fallback(const TensorShape& t, GgmlType type,
                                    std::optional<GgmlType>* from);

  ModelParams params_;
  SelectionOptions options_;
  GgmlType default_type_ = GgmlType::kF32;
  std::vector<std::pair<std::regex, GgmlType>> patterns_;
  int n_attention_wv_ = 0;
  int i_attention_wv_ = 0;
  int i_ffn_down_ = 0;
  int i_ffn_gate_ = 0;
  int i_ffn_up_ = 0;
  int n_fallback_ = 0;
  bool has_tied_embeddings_ = true;
};

}  // namespace ggufkit::quantize

#endif  // GGUFKIT_QUANTIZE_TYPE_SELECTION_H_
