#include "ggufkit/stream/gguf_tensors.h"

#include "absl/strings/str_cat.h"

namespace ggufkit::stream {

TensorLayout LayoutOf(const TensorInfo& tensor, const std::string& file, Endianness endianness) {
  TensorLayout layout;
  layout.name = tensor.name;
  layout.file = file;
  layout.big_endian = endianness == Endianness::kBig;
  layout.type = tensor.type;
  layout.n_dims = static_cast<int>(tensor.n_dims);
  for (int d = 0; d < 4; ++d) layout.ne[d] = tensor.ne[d];
  return layout;
}

absl::Status GgufTensorSource::ReadTensorBytes(uint64_t offset, void* dst, size_t n) const {
  if (model_ != nullptr) return model_->ReadTensorBytes(tensor_, offset, dst, n);
  return reader_->ReadTensorBytes(tensor_, offset, dst, n);
}

const std::string& GgufTensorSource::file() const {
  if (model_ != nullptr) return model_->shard(tensor_.shard).name();
  return reader_->name();
}

Endianness GgufTensorSource::endianness() const {
  if (model_ != nullptr) return model_->shard(tensor_.shard).endianness();
  return reader_->endianness();
}

TensorLayout GgufTensorSource::layout() const { return LayoutOf(tensor_, file(), endianness()); }

namespace {

template <typename Container>
absl::Status Rows(Container& container, const TensorInfo& tensor, int64_t row_begin,
                  int64_t row_end, OutputType to, void* out, size_t out_bytes) {
  GgufTensorSource source(container, tensor);
  return DequantizeRows(source.layout(), source, row_begin, row_end, to, out, out_bytes);
}

template <typename Container>
absl::Status Visit(Container& container, const TensorInfo& tensor,
                   absl::FunctionRef<absl::Status(const RowChunk&)> visit, int64_t row_begin,
                   int64_t row_end) {
  GgufTensorSource source(container, tensor);
  return VisitTensorRows(source.layout(), source, visit, row_begin, row_end);
}

}  // namespace

absl::Status DequantizeTensor(GgufModel& model, const TensorInfo& tensor, float* out,
                              size_t out_count) {
  return Rows(model, tensor, 0, tensor.n_rows(), OutputType::kF32, out, out_count * 4);
}
absl::Status DequantizeTensorToF16(GgufModel& model, const TensorInfo& tensor, uint16_t* out,
                                   size_t out_count) {
  return Rows(model, tensor, 0, tensor.n_rows(), OutputType::kF16, out, out_count * 2);
}
absl::Status DequantizeTensorToBF16(GgufModel& model, const TensorInfo& tensor, uint16_t* out,
                                    size_t out_count) {
  return Rows(model, tensor, 0, tensor.n_rows(), OutputType::kBF16, out, out_count * 2);
}
absl::Status DequantizeTensor(GgufReader& reader, const TensorInfo& tensor, float* out,
                              size_t out_count) {
  return Rows(reader, tensor, 0, tensor.n_rows(), OutputType::kF32, out, out_count * 4);
}
absl::Status DequantizeRows(GgufModel& model, const TensorInfo& tensor, int64_t row_begin,
                            int64_t row_end, OutputType to, void* out, size_t out_bytes) {
  return Rows(model, tensor, row_begin, row_end, to, out, out_bytes);
}
absl::Status DequantizeRows(GgufReader& reader, const TensorInfo& tensor, int64_t row_begin,
                            int64_t row_end, OutputType to, void* out, size_t out_bytes) {
  return Rows(reader, tensor, row_begin, row_end, to, out, out_bytes);
}
absl::Status VisitTensorRows(GgufModel& model, const TensorInfo& tensor,
                             absl::FunctionRef<absl::Status(const RowChunk&)> visit,
                             int64_t row_begin, int64_t row_end) {
  return Visit(model, tensor, visit, row_begin, row_end);
}
absl::Status VisitTensorRows(GgufReader& reader, const TensorInfo& tensor,
                             absl::FunctionRef<absl::Status(const RowChunk&)> visit,
                             int64_t row_begin, int64_t row_end) {
  return Visit(reader, tensor, visit, row_begin, row_end);
}

}  // namespace ggufkit::stream
