#include "ggufkit/quantize/quantizing_writer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/dequant/dequant.h"

namespace ggufkit::quantize {

QuantizingWriter::QuantizingWriter(QuantizingWriterOptions options)
    : options_(std::move(options)) {}
QuantizingWriter::~QuantizingWriter() = default;

absl::Status QuantizingWriter::Declare(absl::string_view name, absl::Span<const int64_t> ne,
                                       GgmlType type, bool automatic,
                                       absl::Span<const float> imatrix) {
  if (begun_) return absl::FailedPreconditionError("QuantizingWriter: AddTensor after Begin");
  if (ne.empty() || ne.size() > 4) {
    return absl::InvalidArgumentError(absl::StrCat("tensor ", name, ": 1 to 4 dimensions"));
  }
  int64_t n = 1;
  for (int64_t d : ne) {
    if (d < 1 || n > (int64_t{1} << 50) / d) {
      return absl::InvalidArgumentError(absl::StrCat("tensor ", name, ": bad shape"));
    }
    n *= d;
  }
  const int64_t experts = ne.size() > 2 ? ne[2] : 1;
  if (ne.size() > 3 && ne[3] > 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", name, ": 4-D tensors are not supported"));
  }
  if (!imatrix.empty() && static_cast<int64_t>(imatrix.size()) != ne[0] * experts) {
    return absl::InvalidArgumentError(absl::StrCat(
        "tensor ", name, ": imatrix has ", imatrix.size(), " values, expected ", ne[0] * experts));
  }
  if (automatic && type != GgmlType::kF32 && type != GgmlType::kF16 && type != GgmlType::kBF16) {
    return absl::InvalidArgumentError(
        absl::StrCat("tensor ", name, ": the source type must be f32, f16 or bf16"));
  }
  decls_.push_back(Decl{std::string(name), std::vector<int64_t>(ne.begin(), ne.end()), type,
                        automatic, std::vector<float>(imatrix.begin(), imatrix.end()), n});
  return absl::OkStatus();
}

absl::Status QuantizingWriter::AddTensor(absl::string_view name, absl::Span<const int64_t> ne,
                                         GgmlType type, absl::Span<const float> imatrix) {
  return Declare(name, ne, type, false, imatrix);
}

absl::Status QuantizingWriter::AddTensorAuto(absl::string_view name, absl::Span<const int64_t> ne,
                                             GgmlType source_type,
                                             absl::Span<const float> imatrix) {
  return Declare(name, ne, source_type, true, imatrix);
}

absl::Status QuantizingWriter::Begin(const std::string& path) {
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<OutputSink> sink, OpenAtomicFileSink(path));
  return Begin(std::move(sink));
}

absl::Status QuantizingWriter::Begin(std::unique_ptr<OutputSink> sink) {
  if (begun_) return absl::FailedPreconditionError("QuantizingWriter: Begin twice");
  begun_ = true;
  // Automatic types: llama-quantize's rules, walking its order. Every tensor
  // is presented (explicit ones too) so the counters advance as they would.
  bool any_auto = false;
  for (const Decl& d : decls_) any_auto = any_auto || d.automatic;
  if (any_auto) {
    GGUFKIT_ASSIGN_OR_RETURN(ModelParams params, ModelParamsFromMetadata(metadata_));
    SelectionOptions sel;
    sel.ftype = options_.ftype.ftype;
    sel.copy_only = options_.ftype.copy_only;
    sel.pure = options_.pure;
    sel.quantize_output_tensor = !options_.leave_output_tensor;
    sel.output_tensor_type = options_.output_tensor_type;
    sel.token_embedding_type = options_.token_embedding_type;
    sel.tensor_types = options_.tensor_types;
    for (const Decl& d : decls_) sel.has_imatrix = sel.has_imatrix || !d.imatrix.empty();
    std::vector<std::string> names;
    for (const Decl& d : decls_) names.push_back(d.name);
    const std::vector<size_t> order = LlamaQuantizeOrder(names);
    std::vector<std::string> ordered;
    for (size_t i : order) ordered.push_back(names[i]);
    GGUFKIT_ASSIGN_OR_RETURN(TypeSelector selector, TypeSelector::Create(params, sel, ordered));
    for (size_t i : order) {
      Decl& d = decls_[i];
      TensorShape shape;
      shape.name = d.name;
      shape.type = d.type;
      shape.n_dims = static_cast<int>(d.ne.size());
      for (size_t k = 0; k < d.ne.size(); ++k) shape.ne[k] = d.ne[k];
      GGUFKIT_ASSIGN_OR_RETURN(TensorChoice ch, selector.Choose(shape));
      if (!d.automatic) continue;
      if (ch.quantizable && ch.requires_imatrix && d.imatrix.empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat("this quantization requires an imatrix! (tensor ", d.name,
                         ", target type ", GgmlTypeName(ch.type), ")"));
      }
      d.type = ch.type;
    }
  }
  for (const Decl& d : decls_) {
    if (GetReferenceCodec(d.type).quantize == nullptr) {
      return absl::UnimplementedError(absl::StrCat("tensor ", d.name, ": quantizing to ",
                                                   GgmlTypeName(d.type),
                                                   " is not supported yet (no quantizer registered "
                                                   "for this type)"));
    }
    if (d.ne[0] % GetTypeTraits(d.type).block_size != 0) {
      return absl::InvalidArgumentError(absl::StrCat("tensor ", d.name, ": rows of ", d.ne[0],
                                                     " elements are not a whole number of ",
                                                     GgmlTypeName(d.type), " blocks"));
    }
  }
  if (options_.set_file_type_keys && !options_.ftype.copy_only) {
    metadata_.Remove("general.quantization_version");
    GGUFKIT_RETURN_IF_ERROR(metadata_.Add("general.quantization_version", MetadataValue::U32(2)));
    metadata_.Remove("general.file_type");
    GGUFKIT_RETURN_IF_ERROR(metadata_.Add(
        "general.file_type", MetadataValue::U32(static_cast<uint32_t>(options_.ftype.ftype))));
  }
  writer_.metadata() = metadata_;
  for (const Decl& d : decls_) {
    // GGUF stores ggml_n_dims: trailing 1s dropped.
    size_t n_dims = d.ne.size();
    while (n_dims > 1 && d.ne[n_dims - 1] == 1) --n_dims;
    GGUFKIT_RETURN_IF_ERROR(
        writer_.AddTensor(d.name, d.type, absl::MakeConstSpan(d.ne.data(), n_dims)));
  }
  GGUFKIT_RETURN_IF_ERROR(writer_.Begin(std::move(sink)));
  current_ = 0;
  row_ = 0;
  while (current_ < decls_.size() && decls_[current_].n_elements == 0) ++current_;
  return absl::OkStatus();
}

absl::Status QuantizingWriter::EmitRows(const float* rows, int64_t n_rows) {
  const Decl& d = decls_[current_];
  const int64_t ne0 = d.ne[0];
  const int64_t ne1 = d.ne.size() > 1 ? d.ne[1] : 1;
  GGUFKIT_ASSIGN_OR_RETURN(int64_t row_bytes, RowSizeBytes(d.type, ne0));
  // Quantize a few rows at a time (never past an expert boundary: each
  // expert has its own importance weights).
  while (n_rows > 0) {
    const int64_t expert = row_ / ne1;
    const int64_t rows_left_in_expert = ne1 - row_ % ne1;
    const int64_t take =
        std::min({n_rows, rows_left_in_expert,
                  std::max<int64_t>(1, (int64_t{1} << 20) / std::max<int64_t>(1, row_bytes))});
    for (int64_t k = 0; k < take * ne0; ++k) {
      if (!std::isfinite(rows[k])) {
        return absl::InvalidArgumentError(absl::StrCat("tensor ", d.name, ": non-finite value ",
                                                       rows[k], " at element ", row_ * ne0 + k));
      }
    }
    out_.resize(static_cast<size_t>(row_bytes * take));
    absl::Span<const float> w;
    if (!d.imatrix.empty())
      w = absl::MakeConstSpan(d.imatrix.data() + expert * ne0, static_cast<size_t>(ne0));
    absl::Status s = Quantize(d.type, absl::MakeConstSpan(rows, static_cast<size_t>(take * ne0)),
                              absl::MakeSpan(out_), w);
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat("tensor ", d.name, ": ", s.message()));
    GGUFKIT_RETURN_IF_ERROR(writer_.WriteTensorData(out_.data(), out_.size()));
    rows += take * ne0;
    n_rows -= take;
    row_ += take;
  }
  return absl::OkStatus();
}

absl::Status QuantizingWriter::WriteValues(absl::Span<const float> values) {
  if (!begun_) return absl::FailedPreconditionError("QuantizingWriter: WriteValues before Begin");
  const float* p = values.data();
  size_t left = values.size();
  while (left > 0) {
    if (current_ >= decls_.size()) {
      return absl::InvalidArgumentError("QuantizingWriter: more values than the tensors hold");
    }
    const Decl& d = decls_[current_];
    const int64_t ne0 = d.ne[0];
    const int64_t total_rows = d.n_elements / ne0;
    const size_t remaining = static_cast<size_t>((total_rows - row_) * ne0) - pending_.size();
    if (left > remaining) {
      return absl::InvalidArgumentError(
          absl::StrCat("QuantizingWriter: a chunk crosses the end of tensor ", d.name, " (",
                       remaining, " values remain)"));
    }
    // Complete a partial row first, then whole rows straight from the
    // caller's memory, then keep the tail.
    if (!pending_.empty()) {
      const size_t need = static_cast<size_t>(ne0) - pending_.size();
      const size_t take = std::min(need, left);
      pending_.insert(pending_.end(), p, p + take);
      p += take;
      left -= take;
      if (pending_.size() == static_cast<size_t>(ne0)) {
        GGUFKIT_RETURN_IF_ERROR(EmitRows(pending_.data(), 1));
        pending_.clear();
      }
    }
    const int64_t whole = static_cast<int64_t>(left / static_cast<size_t>(ne0));
    if (whole > 0) {
      GGUFKIT_RETURN_IF_ERROR(EmitRows(p, whole));
      p += whole * ne0;
      left -= static_cast<size_t>(whole * ne0);
    }
    if (left > 0 && left < static_cast<size_t>(ne0)) {
      pending_.assign(p, p + left);
      p += left;
      left = 0;
    }
    if (row_ == total_rows) {
      ++current_;
      row_ = 0;
      while (current_ < decls_.size() && decls_[current_].n_elements == 0) ++current_;
    }
  }
  return absl::OkStatus();
}

absl::Status QuantizingWriter::Finish() {
  if (current_ < decls_.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat("QuantizingWriter: tensor ", decls_[current_].name, " is incomplete"));
  }
  return writer_.Finish();
}

void QuantizingWriter::Abort() { writer_.Abort(); }

}  // namespace ggufkit::quantize
