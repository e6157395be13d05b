#include "ggufkit/gguf/writer.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"

namespace ggufkit {
namespace {

constexpr size_t kZeroBytes = 4096;
const uint8_t kZeros[kZeroBytes] = {};

uint64_t AlignUp(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

// Appends GGUF encodings to a byte vector, byte-swapping multi-byte fields
// for big-endian output.
class Encoder {
 public:
  Encoder(std::vector<uint8_t>* out, bool big_endian) : out_(out), big_endian_(big_endian) {}

  void Raw(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    out_->insert(out_->end(), b, b + n);
  }
  void Number(const void* p, size_t n) {
    const size_t at = out_->size();
    Raw(p, n);
    if (big_endian_) std::reverse(out_->begin() + static_cast<std::ptrdiff_t>(at), out_->end());
  }
  void U32(uint32_t v) { Number(&v, 4); }
  void U64(uint64_t v) { Number(&v, 8); }
  void String(absl::string_view s) {
    U64(s.size());
    Raw(s.data(), s.size());
  }
  void Value(const MetadataValue& v) {
    if (v.type() == GgufValueType::kString) {
      String(v.str());
      return;
    }
    if (!v.is_array()) {
      const uint64_t bits = v.raw_bits();
      Number(&bits, GgufValueTypeSize(v.type()));  // little-endian host: low bytes first
      return;
    }
    U32(static_cast<uint32_t>(v.element_type()));
    U64(v.size());
    if (v.element_type() == GgufValueType::kString) {
      for (uint64_t i = 0; i < v.size(); ++i) String(v.string_at(i));
      return;
    }
    absl::Span<const uint8_t> bytes = v.array_bytes();
    const size_t elem = GgufValueTypeSize(v.element_type());
    if (!big_endian_ || elem == 1) {
      Raw(bytes.data(), bytes.size());
      return;
    }
    for (size_t i = 0; i < bytes.size(); i += elem) Number(bytes.data() + i, elem);
  }

 private:
  std::vector<uint8_t>* out_;
  bool big_endian_;
};

absl::Status ValidateAlignment(uint32_t a) {
  if (a == 0 || (a & (a - 1)) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("general.alignment ", a, " is not a power of two"));
  }
  if (a > kGgufMaxAlignment) {
    return absl::InvalidArgumentError(
        absl::StrCat("general.alignment ", a, " exceeds the limit ", kGgufMaxAlignment));
  }
  return absl::OkStatus();
}

}  // namespace

GgufWriter::GgufWriter(const WriterOptions& options) : options_(options) {}

GgufWriter::~GgufWriter() {
  if (!finished_) Abort();
}

absl::Status GgufWriter::CheckDeclaring() const {
  if (planned_) {
    return absl::FailedPreconditionError(
        "GgufWriter: metadata and tensors cannot change after Plan()/Begin()");
  }
  return absl::OkStatus();
}

absl::Status GgufWriter::SetAlignment(uint32_t alignment) {
  GGUFKIT_RETURN_IF_ERROR(CheckDeclaring());
  GGUFKIT_RETURN_IF_ERROR(ValidateAlignment(alignment));
  return metadata_.Set(kGgufAlignmentKey, MetadataValue::U32(alignment));
}

absl::Status GgufWriter::AddTensor(absl::string_view name, GgmlType type,
                                   absl::Span<const int64_t> ne) {
  return AddTensorAt(name, type, ne, std::numeric_limits<uint64_t>::max());
}

absl::Status GgufWriter::AddTensorAt(absl::string_view name, GgmlType type,
                                     absl::Span<const int64_t> ne, uint64_t offset) {
  GGUFKIT_RETURN_IF_ERROR(CheckDeclaring());
  GGUFKIT_RETURN_ERROR_IF(name.empty(), "GgufWriter: tensor name is empty");
  GGUFKIT_RETURN_ERROR_IF(name.size() > kGgufMaxTensorNameLength, "GgufWriter: tensor name '",
                          name.substr(0, 64), "...' is longer than ", kGgufMaxTensorNameLength);
  for (const TensorInfo& t : tensors_) {
    GGUFKIT_RETURN_ERROR_IF(t.name == name, "GgufWriter: duplicate tensor name '", name, "'");
  }
  GGUFKIT_RETURN_ERROR_IF(ne.empty() || ne.size() > static_cast<size_t>(kGgufMaxDims),
                          "GgufWriter: tensor '", name, "' has ", ne.size(),
                          " dimensions, expected 1..", kGgufMaxDims);
  const TypeTraits* traits = FindTypeTraits(static_cast<uint32_t>(type));
  GGUFKIT_RETURN_ERROR_IF(traits == nullptr, "GgufWriter: tensor '", name, "' has unknown type ",
                          static_cast<uint32_t>(type));
  TensorInfo t;
  t.name = std::string(name);
  t.type = type;
  t.n_dims = static_cast<uint32_t>(ne.size());
  int64_t elements = 1;
  for (size_t d = 0; d < ne.size(); ++d) {
    GGUFKIT_RETURN_ERROR_IF(ne[d] <= 0, "GgufWriter: tensor '", name, "' dimension ", d, " is ",
                            ne[d], ", expected a positive size");
    GGUFKIT_RETURN_ERROR_IF(elements > std::numeric_limits<int64_t>::max() / ne[d],
                            "GgufWriter: tensor '", name, "' element count overflows");
    elements *= ne[d];
    t.ne[d] = ne[d];
  }
  t.n_elements = elements;
  absl::StatusOr<int64_t> row = RowSizeBytes(type, t.ne[0]);
  if (!row.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("GgufWriter: tensor '", name, "': ", row.status().message()));
  }
  const uint64_t rows = static_cast<uint64_t>(elements / t.ne[0]);
  t.row_bytes = static_cast<uint64_t>(*row);
  GGUFKIT_RETURN_ERROR_IF(
      t.row_bytes != 0 &&
          rows > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / t.row_bytes,
      "GgufWriter: tensor '", name, "' byte size overflows");
  t.size_bytes = rows * t.row_bytes;
  t.offset = offset;
  tensors_.push_back(std::move(t));
  explicit_offset_.push_back(offset != std::numeric_limits<uint64_t>::max());
  return absl::OkStatus();
}

absl::Status GgufWriter::Plan() {
  if (planned_) return absl::OkStatus();
  GGUFKIT_RETURN_ERROR_IF(options_.version != 2 && options_.version != 3, "GgufWriter: version ",
                          options_.version, " is not 2 or 3");
  alignment_ = kGgufDefaultAlignment;
  if (const MetadataValue* a = metadata_.Find(kGgufAlignmentKey)) {
    GGUFKIT_RETURN_ERROR_IF(a->type() != GgufValueType::kU32,
                            "GgufWriter: general.alignment must be u32, found ",
                            GgufValueTypeName(a->type()));
    GGUFKIT_RETURN_IF_ERROR(ValidateAlignment(a->u32()));
    alignment_ = a->u32();
  }
  uint64_t header = 4 + 4 + 8 + 8;
  for (const MetadataEntry& e : metadata_.entries()) {
    header += 8 + e.key.size() + 4 + e.value.EncodedSize();
  }
  for (const TensorInfo& t : tensors_) header += 8 + t.name.size() + 4 + 8 * t.n_dims + 4 + 8;
  data_offset_ = tensors_.empty() ? header : AlignUp(header, alignment_);
  uint64_t next = 0;  // first free byte of the data section
  uint64_t end = 0;   // end of the last tensor's data
  for (size_t i = 0; i < tensors_.size(); ++i) {
    TensorInfo& t = tensors_[i];
    if (explicit_offset_[i]) {
      GGUFKIT_RETURN_ERROR_IF(t.offset % alignment_ != 0, "GgufWriter: tensor '", t.name,
                              "' offset ", t.offset, " is not a multiple of the alignment ",
                              alignment_);
      GGUFKIT_RETURN_ERROR_IF(t.offset < next, "GgufWriter: tensor '", t.name, "' offset ",
                              t.offset, " overlaps the previous tensor (which ends at ", next, ")");
    } else {
      t.offset = next;
    }
    t.absolute_offset = data_offset_ + t.offset;
    end = t.offset + t.size_bytes;
    next = AlignUp(end, alignment_);
  }
  total_size_ = data_offset_ + (options_.pad_after_last_tensor ? next : end);
  planned_ = true;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<uint8_t>> GgufWriter::SerializeHeader() {
  GGUFKIT_RETURN_IF_ERROR(Plan());
  std::vector<uint8_t> out;
  out.reserve(static_cast<size_t>(data_offset_));
  Encoder enc(&out, options_.endianness == Endianness::kBig);
  // The magic is four bytes, not a number: never swapped.
  const char magic[4] = {'G', 'G', 'U', 'F'};
  enc.Raw(magic, 4);
  enc.U32(options_.version);
  enc.U64(tensors_.size());
  enc.U64(metadata_.size());
  for (const MetadataEntry& e : metadata_.entries()) {
    enc.String(e.key);
    enc.U32(static_cast<uint32_t>(e.value.type()));
    enc.Value(e.value);
  }
  for (const TensorInfo& t : tensors_) {
    enc.String(t.name);
    enc.U32(t.n_dims);
    for (uint32_t d = 0; d < t.n_dims; ++d) enc.U64(static_cast<uint64_t>(t.ne[d]));
    enc.U32(static_cast<uint32_t>(t.type));
    enc.U64(t.offset);
  }
  out.resize(static_cast<size_t>(data_offset_), 0);
  return out;
}

absl::Status GgufWriter::Fail(absl::Status status) {
  failed_ = true;
  if (sink_) sink_->Abort();
  return status;
}

absl::Status GgufWriter::Begin(std::unique_ptr<OutputSink> sink) {
  if (sink_ != nullptr || failed_ || finished_) {
    return absl::FailedPreconditionError("GgufWriter: Begin() called twice");
  }
  if (sink == nullptr) return absl::InvalidArgumentError("GgufWriter: null sink");
  sink_ = std::move(sink);
  absl::StatusOr<std::vector<uint8_t>> header = SerializeHeader();
  if (!header.ok()) return Fail(header.status());
  absl::Status s = sink_->Write(header->data(), header->size());
  if (!s.ok()) return Fail(s);
  position_ = header->size();
  current_ = 0;
  current_done_ = 0;
  return absl::OkStatus();
}

absl::Status GgufWriter::Begin(const std::string& path) {
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<OutputSink> sink, OpenAtomicFileSink(path));
  return Begin(std::move(sink));
}

uint64_t GgufWriter::current_tensor_remaining() const {
  if (current_ >= tensors_.size()) return 0;
  return tensors_[current_].size_bytes - current_done_;
}

absl::Status GgufWriter::WritePaddingTo(uint64_t absolute_offset) {
  while (position_ < absolute_offset) {
    const size_t n =
        static_cast<size_t>(std::min<uint64_t>(kZeroBytes, absolute_offset - position_));
    absl::Status s = sink_->Write(kZeros, n);
    if (!s.ok()) return Fail(s);
    position_ += n;
  }
  return absl::OkStatus();
}

absl::Status GgufWriter::WriteTensorData(const void* data, size_t n) {
  if (failed_) return absl::FailedPreconditionError("GgufWriter: an earlier write failed");
  if (sink_ == nullptr || finished_) {
    return absl::FailedPreconditionError("GgufWriter: WriteTensorData() outside Begin()/Finish()");
  }
  if (n == 0) return absl::OkStatus();
  if (current_ >= tensors_.size()) {
    return Fail(absl::InvalidArgumentError(absl::StrCat(
        sink_->name(), ": ", n, " bytes of tensor data given after the last tensor was complete")));
  }
  const TensorInfo& t = tensors_[current_];
  if (n > t.size_bytes - current_done_) {
    return Fail(absl::InvalidArgumentError(
        absl::StrCat(sink_->name(), ": chunk of ", n, " bytes overruns tensor '", t.name, "' (",
                     t.size_bytes - current_done_, " of its ", t.size_bytes, " bytes remaining)")));
  }
  if (current_done_ == 0) GGUFKIT_RETURN_IF_ERROR(WritePaddingTo(t.absolute_offset));
  absl::Status s = sink_->Write(data, n);
  if (!s.ok()) return Fail(s);
  position_ += n;
  current_done_ += n;
  if (current_done_ == t.size_bytes) {
    ++current_;
    current_done_ = 0;
  }
  return absl::OkStatus();
}

absl::Status GgufWriter::Finish() {
  if (failed_) return absl::FailedPreconditionError("GgufWriter: an earlier write failed");
  if (finished_) return absl::FailedPreconditionError("GgufWriter: Finish() called twice");
  if (sink_ == nullptr) return absl::FailedPreconditionError("GgufWriter: Finish() before Begin()");
  if (current_ < tensors_.size()) {
    const TensorInfo& t = tensors_[current_];
    return Fail(absl::FailedPreconditionError(absl::StrCat(
        sink_->name(), ": tensor '", t.name, "' got ", current_done_, " of its ", t.size_bytes,
        " bytes (", tensors_.size() - current_, " tensors incomplete); output discarded")));
  }
  GGUFKIT_RETURN_IF_ERROR(WritePaddingTo(total_size_));
  absl::Status s = sink_->Finish();
  if (!s.ok()) return Fail(s);
  finished_ = true;
  return absl::OkStatus();
}

void GgufWriter::Abort() {
  if (finished_) return;
  if (sink_) sink_->Abort();
  failed_ = true;
}

absl::Status CopyGguf(GgufReader& reader, std::unique_ptr<OutputSink> sink, size_t chunk_bytes) {
  WriterOptions options;
  options.version = reader.version();
  options.endianness = reader.endianness();
  const std::vector<TensorInfo>& tensors = reader.tensors();
  if (!tensors.empty() && reader.file_size()) {
    // Keep the source's choice about padding after the last tensor.
    uint64_t last_end = 0;
    for (const TensorInfo& t : tensors)
      last_end = std::max(last_end, t.absolute_offset + t.size_bytes);
    options.pad_after_last_tensor = *reader.file_size() > last_end;
  }
  GgufWriter writer(options);
  writer.metadata() = reader.metadata();
  for (const TensorInfo& t : tensors) {
    GGUFKIT_RETURN_IF_ERROR(writer.AddTensorAt(
        t.name, t.type, absl::Span<const int64_t>(t.ne.data(), t.n_dims), t.offset));
  }
  GGUFKIT_RETURN_IF_ERROR(writer.Begin(std::move(sink)));
  chunk_bytes = std::max<size_t>(chunk_bytes, 1);
  std::vector<uint8_t> buffer(chunk_bytes);
  for (const TensorInfo& t : tensors) {
    for (uint64_t done = 0; done < t.size_bytes;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_bytes, t.size_bytes - done));
      absl::Status s = reader.ReadTensorBytes(t, done, buffer.data(), n);
      if (!s.ok()) {
        writer.Abort();
        return s;
      }
      GGUFKIT_RETURN_IF_ERROR(writer.WriteTensorData(buffer.data(), n));
      done += n;
    }
  }
  return writer.Finish();
}

}  // namespace ggufkit
