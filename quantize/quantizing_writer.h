// A GGUF writer that quantizes: declare tensors (name, shape, and either a
// target type or "choose as llama-quantize's TYPE would"), then feed each
// tensor's values as floats, in any chunking. The header is written first and
// the data streams out; at most one row per tensor is buffered (a K-quant
// block row needs the whole row), never a whole tensor.
//
//   QuantizingWriter w({.ftype = *ParseFtype("Q4_K_M")});
//   w.metadata() = ...;                               // general.architecture, <arch>.block_count,
//   ... w.AddTensorAuto("token_embd.weight", {2048, 32000}); w.AddTensor("blk.0.attn_norm.weight",
//   {2048}, GgmlType::kF32);
//   ...
//   w.Begin("model-Q4_K_M.gguf");                      // types chosen, header written
//   w.WriteValues(chunk);                              // any sizes, tensor after tensor
//   w.Finish();
//
// Tensors are written in declaration order; "auto" types are chosen with
// llama-quantize's rules, walking the tensors in its order
// (LlamaQuantizeOrder), so declaring the tensors in that order with the
// golden metadata reproduces llama-quantize's file byte for byte.
#ifndef GGUFKIT_QUANTIZE_QUANTIZING_WRITER_H_
#define GGUFKIT_QUANTIZE_QUANTIZING_WRITER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "ggufkit/gguf/metadata.h"
#include "ggufkit/gguf/output_sink.h"
#include "ggufkit/gguf/writer.h"
#include "ggufkit/quantize/ftype.h"
#include "ggufkit/quantize/type_selection.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit::quantize {

struct QuantizingWriterOptions {
  // The mix used for AddTensorAuto tensors, and written to general.file_type.
  FtypeInfo ftype = {"Q4_K_M", Ftype::kQ4_K_M, false};
  bool pure = false;
  bool leave_output_tensor = false;
  std::optional<GgmlType> output_tensor_type;
  std::optional<GgmlType> token_embedding_type;
  std::vector<TensorTypeOverride> tensor_types;
  // Set general.quantization_version (2) and general.file_type as
  // llama-quantize does (moved to the end of the metadata).
  bool set_file_type_keys = true;
};

class QuantizingWriter {
 public:
  explicit QuantizingWriter(QuantizingWriterOptions options = {});
  ~QuantizingWriter();
  QuantizingWriter(const QuantizingWriter&) = delete;
  QuantizingWriter& operator=(const QuantizingWriter&) = delete;

  Metadata& metadata() { return metadata_; }

  // A tensor stored as `type` (any float or quantized type with a
  // quantizer); `imatrix`: empty or ne[0] x (ne[2] experts) weights, copied.
  absl::Status AddTensor(absl::string_view name, absl::Span<const int64_t> ne, GgmlType type,
                         absl::Span<const float> imatrix = {});
  // A tensor whose type llama-quantize's rules choose. `source_type` is the
  // type the values come from (F32, F16 or BF16): what a tensor the rules do
  // not quantize (norms, biases, 1-D tensors) is stored as.
  absl::Status AddTensorAuto(absl::string_view name, absl::Span<const int64_t> ne,
                             GgmlType source_type = GgmlType::kF32,
                             absl::Span<const float> imatrix = {});

  // Chooses the automatic types (errors as llama-quantize's: no fallback
  // type, an imatrix required), plans the layout and writes the header.
  absl::Status Begin(const std::string& path);
  absl::Status Begin(std::unique_ptr<OutputSink> sink);
  // The chosen types, after Begin (declaration order).
  const std::vector<TensorInfo>& planned_tensors() const { return writer_.planned_tensors(); }

  // The next values of the current tensor (row-major, ne[0] innermost); a
  // chunk may end anywhere but not past the current tensor's end.
  absl::Status WriteValues(absl::Span<const float> values);
  // Index of the tensor WriteValues continues.
  size_t current_tensor() const { return current_; }

  // Checks every tensor got all its values and commits the file.
  absl::Status Finish();
  void Abort();

 private:
  struct Decl {
    std::string name;
    std::vector<int64_t> ne;
    GgmlType type;
    bool automatic;
    std::vector<float> imatrix;
    int64_t n_elements;
  };
  absl::Status Declare(absl::string_view name, absl::Span<const int64_t> ne, GgmlType type,
                       bool automatic, absl::Span<const float> imatrix);
  absl::Status EmitRows(const float* rows, int64_t n_rows);

  QuantizingWriterOptions options_;
  Metadata metadata_;
  std::vector<Decl> decls_;
  GgufWriter writer_;
  bool begun_ = false;
  size_t current_ = 0;
  int64_t row_ = 0;             // rows of the current tensor done
  std::vector<float> pending_;  // a partial row
  std::vector<uint8_t> out_;    // one row's bytes
};

}  // namespace ggufkit::quantize

#endif  // GGUFKIT_QUANTIZE_QUANTIZING_WRITER_H_
