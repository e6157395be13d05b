#include "ggufkit/gguf/reader.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ggufkit/gguf/zstd_source.h"
#include "ggufkit/base/status_macros.h"

// Metadata values are stored and compared in host order, and the parser
// swaps only for big-endian files: a little-endian host is assumed.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "ggufkit assumes a little-endian host");

namespace ggufkit {

absl::string_view EndiannessName(Endianness e) { return e == Endianness::kBig ? "big" : "little"; }

std::string ShapeString(const TensorInfo& info) {
  std::vector<int64_t> dims(info.ne.begin(), info.ne.begin() + info.n_dims);
  return absl::StrCat("[", absl::StrJoin(dims, ", "), "]");
}

// Parses a GGUF header front to back. Everything read from the file is
// checked before it is used to size anything: a count is compared with the
// bytes that remain (when the size is known) and memory for strings and
// arrays of unknown-size sources grows only as bytes actually arrive.
class GgufParser {
 public:
  GgufParser(GgufReader* reader, const ReaderOptions& options)
      : r_(reader),
        options_(options),
        src_(*reader->source_),
        name_(src_.name()),
        size_(src_.size()),
        // Read-ahead would consume tensor data a forward-only source cannot
        // give back, so such sources get exact reads only.
        read_ahead_(size_.has_value() && !src_.forward_only()) {
    if (read_ahead_) buffer_.resize(kBufferBytes);
  }

  absl::Status Parse();

 private:
  static constexpr size_t kBufferBytes = 64 * 1024;
  // Strings/arrays of a source without a known size are read in pieces of
  // this size, so a huge length costs memory only as bytes really arrive.
  static constexpr uint64_t kGrowStep = 1 << 20;

  template <typename... Args>
  absl::Status Error(uint64_t offset, const Args&... args) const {
    return absl::InvalidArgumentError(absl::StrCat(name_, ": offset ", offset, ": ", args...));
  }

  // Bytes left after `pos_`, or max when the size is unknown.
  uint64_t Remaining() const {
    if (!size_) return std::numeric_limits<uint64_t>::max();
    return *size_ > pos_ ? *size_ - pos_ : 0;
  }

  absl::Status Read(void* dst, size_t n, const char* what);
  template <typename T>
  absl::Status ReadScalar(T* out, const char* what) {
    GGUFKIT_RETURN_IF_ERROR(Read(out, sizeof(T), what));
    if (big_endian_) SwapBytes(out, sizeof(T));
    return absl::OkStatus();
  }
  // Reads a u64 length + bytes; `what` names the field in errors.
  absl::Status ReadString(std::string* out, uint64_t max_length, const char* what);
  absl::Status ReadValue(GgufValueType type, uint64_t value_offset, absl::string_view key,
                         MetadataValue* out);
  absl::Status ReadArray(uint64_t value_offset, absl::string_view key, MetadataValue* out);
  absl::Status ReadHeader();
  absl::Status ReadMetadata();
  absl::Status ReadTensorInfos();
  absl::Status CheckLayout();

  static void SwapBytes(void* p, size_t n) {
    auto* b = static_cast<uint8_t*>(p);
    std::reverse(b, b + n);
  }
  static bool IsValueType(uint32_t t) { return t < kGgufValueTypeLimit; }

  GgufReader* r_;
  ReaderOptions options_;
  ByteSource& src_;
  const std::string& name_;
  std::optional<uint64_t> size_;
  bool read_ahead_;
  bool big_endian_ = false;
  uint64_t pos_ = 0;  // absolute offset of the next byte to parse
  std::vector<uint8_t> buffer_;
  uint64_t buffer_start_ = 0;  // absolute offset of buffer_[0]
  size_t buffer_len_ = 0;
  uint64_t n_tensors_ = 0;
  uint64_t n_kv_ = 0;
};

absl::Status GgufParser::Read(void* dst, size_t n, const char* what) {
  if (n == 0) return absl::OkStatus();
  if (size_ && n > Remaining()) {
    return absl::OutOfRangeError(
        absl::StrCat(name_, ": offset ", pos_, ": file ends while reading ", what, " (", n,
                     " bytes needed, ", Remaining(), " remain; truncated file?)"));
  }
  auto* out = static_cast<uint8_t*>(dst);
  if (read_ahead_) {
    size_t copied = 0;
    while (copied < n) {
      if (pos_ >= buffer_start_ && pos_ < buffer_start_ + buffer_len_) {
        size_t avail = static_cast<size_t>(buffer_start_ + buffer_len_ - pos_);
        size_t take = std::min(avail, n - copied);
        std::memcpy(out + copied, buffer_.data() + (pos_ - buffer_start_), take);
        copied += take;
        pos_ += take;
        continue;
      }
      size_t want = n - copied;
      if (want >= buffer_.size()) {
        // Big items go straight to the destination.
        absl::Status s = src_.ReadAt(pos_, out + copied, want);
        if (!s.ok()) return s;
        pos_ += want;
        copied += want;
        continue;
      }
      size_t fill = static_cast<size_t>(std::min<uint64_t>(buffer_.size(), Remaining()));
      absl::Status s = src_.ReadAt(pos_, buffer_.data(), fill);
      if (!s.ok()) return s;
      buffer_start_ = pos_;
      buffer_len_ = fill;
    }
    return absl::OkStatus();
  }
  absl::Status s = src_.ReadAt(pos_, out, n);
  if (!s.ok()) {
    if (absl::IsOutOfRange(s)) {
      return absl::OutOfRangeError(absl::StrCat(
          name_, ": offset ", pos_, ": file ends while reading ", what, " (", s.message(), ")"));
    }
    return s;
  }
  pos_ += n;
  return absl::OkStatus();
}

absl::Status GgufParser::ReadString(std::string* out, uint64_t max_length, const char* what) {
  const uint64_t at = pos_;
  uint64_t length = 0;
  GGUFKIT_RETURN_IF_ERROR(ReadScalar(&length, what));
  if (length > max_length) {
    return Error(at, what, " length ", length, " exceeds the limit of ", max_length);
  }
  if (length > Remaining()) {
    return Error(at, what, " length ", length, " exceeds the ", Remaining(),
                 " bytes remaining in the file");
  }
  out->clear();
  if (size_) {
    out->resize(static_cast<size_t>(length));
    return Read(out->data(), static_cast<size_t>(length), what);
  }
  // Unknown size: grow as bytes arrive.
  uint64_t done = 0;
  while (done < length) {
    size_t step = static_cast<size_t>(std::min<uint64_t>(kGrowStep, length - done));
    out->resize(static_cast<size_t>(done) + step);
    GGUFKIT_RETURN_IF_ERROR(Read(out->data() + done, step, what));
    done += step;
  }
  return absl::OkStatus();
}

absl::Status GgufParser::ReadValue(GgufValueType type, uint64_t value_offset, absl::string_view key,
                                   MetadataValue* out) {
  out->type_ = out->element_type_ = type;
  out->count_ = 1;
  switch (type) {
    case GgufValueType::kString: {
      std::string s;
      GGUFKIT_RETURN_IF_ERROR(
          ReadString(&s, std::numeric_limits<uint64_t>::max(), "a string value"));
      out->bytes_ = std::move(s);
      return absl::OkStatus();
    }
    case GgufValueType::kArray:
      return ReadArray(value_offset, key, out);
    case GgufValueType::kBool: {
      uint8_t b = 0;
      GGUFKIT_RETURN_IF_ERROR(Read(&b, 1, "a bool value"));
      if (b > 1) {
        return Error(value_offset, "metadata key '", key, "': bool byte is ", int{b},
                     ", expected 0 or 1");
      }
      out->scalar_bits_ = b;
      return absl::OkStatus();
    }
    default: {
      const size_t n = GgufValueTypeSize(type);
      uint64_t bits = 0;
      uint8_t raw[8];
      GGUFKIT_RETURN_IF_ERROR(Read(raw, n, "a metadata value"));
      if (big_endian_) SwapBytes(raw, n);
      std::memcpy(&bits, raw, n);  // little-endian host: zero-extends
      out->scalar_bits_ = bits;
      return absl::OkStatus();
    }
  }
}

absl::Status GgufParser::ReadArray(uint64_t value_offset, absl::string_view key,
                                   MetadataValue* out) {
  uint32_t elem_raw = 0;
  GGUFKIT_RETURN_IF_ERROR(ReadScalar(&elem_raw, "an array element type"));
  if (!IsValueType(elem_raw)) {
    return Error(value_offset, "metadata key '", key, "': unknown array element type ", elem_raw);
  }
  const auto elem = static_cast<GgufValueType>(elem_raw);
  if (elem == GgufValueType::kArray) {
    return Error(value_offset, "metadata key '", key,
                 "': arrays of arrays are not supported (ggml rejects them too)");
  }
  const uint64_t count_offset = pos_;
  uint64_t count = 0;
  GGUFKIT_RETURN_IF_ERROR(ReadScalar(&count, "an array length"));
  out->type_ = GgufValueType::kArray;
  out->element_type_ = elem;
  out->count_ = count;
  if (elem == GgufValueType::kString) {
    // Each element takes at least its 8-byte length.
    if (count > Remaining() / 8) {
      return Error(count_offset, "metadata key '", key, "': array of ", count,
                   " strings cannot fit in the ", Remaining(), " bytes remaining");
    }
    if (size_) out->string_ends_.reserve(static_cast<size_t>(count));
    std::string s;
    for (uint64_t i = 0; i < count; ++i) {
      GGUFKIT_RETURN_IF_ERROR(
          ReadString(&s, std::numeric_limits<uint64_t>::max(), "a string array element"));
      out->bytes_ += s;
      out->string_ends_.push_back(out->bytes_.size());
    }
    return absl::OkStatus();
  }
  const size_t elem_size = GgufValueTypeSize(elem);
  // count * elem_size must neither overflow nor pass the end of the file.
  if (count > Remaining() / elem_size) {
    return Error(count_offset, "metadata key '", key, "': array of ", count, " ",
                 GgufValueTypeName(elem), " elements (", elem_size,
                 " bytes each) does not fit in the ", Remaining(), " bytes remaining");
  }
  const uint64_t total = count * elem_size;
  if (total > std::numeric_limits<size_t>::max() / 2) {
    return Error(count_offset, "metadata key '", key, "': array too large");
  }
  uint64_t done = 0;
  while (done < total) {
    size_t step = static_cast<size_t>(size_ ? total - done : std::min(kGrowStep, total - done));
    out->bytes_.resize(static_cast<size_t>(done) + step);
    GGUFKIT_RETURN_IF_ERROR(Read(out->bytes_.data() + done, step, "array elements"));
    done += step;
  }
  auto* bytes = reinterpret_cast<uint8_t*>(out->bytes_.data());
  if (big_endian_ && elem_size > 1) {
    for (uint64_t i = 0; i < count; ++i) SwapBytes(bytes + i * elem_size, elem_size);
  }
  if (elem == GgufValueType::kBool) {
    for (uint64_t i = 0; i < count; ++i) {
      if (bytes[i] > 1) {
        return Error(count_offset + 8 + i, "metadata key '", key, "': bool element ", i, " is ",
                     int{bytes[i]}, ", expected 0 or 1");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status GgufParser::ReadHeader() {
  uint32_t magic = 0;
  GGUFKIT_RETURN_IF_ERROR(Read(&magic, 4, "the magic"));
  if (magic != kGgufMagic) {
    uint8_t b[4];
    std::memcpy(b, &magic, 4);
    return Error(0, "not a GGUF file: magic bytes are ",
                 absl::StrFormat("%02x %02x %02x %02x", b[0], b[1], b[2], b[3]),
                 ", expected 47 47 55 46 (\"GGUF\")");
  }
  uint32_t version = 0;
  GGUFKIT_RETURN_IF_ERROR(Read(&version, 4, "the version"));
  uint32_t swapped = version;
  SwapBytes(&swapped, 4);
  if (version == 2 || version == 3) {
    big_endian_ = false;
  } else if (swapped == 2 || swapped == 3) {
    // The low 16 bits are zero and the high bytes hold a small version:
    // a big-endian file.
    big_endian_ = true;
    version = swapped;
  } else if (version == 1 || swapped == 1) {
    return Error(4, "GGUF version 1 is not supported (only versions 2 and 3)");
  } else {
    return Error(4, "unsupported GGUF version ", version, " (0x", absl::StrFormat("%08x", version),
                 "); only versions 2 and 3 are supported");
  }
  r_->version_ = version;
  r_->endianness_ = big_endian_ ? Endianness::kBig : Endianness::kLittle;
  GGUFKIT_RETURN_IF_ERROR(ReadScalar(&n_tensors_, "the tensor count"));
  GGUFKIT_RETURN_IF_ERROR(ReadScalar(&n_kv_, "the metadata count"));
  // Smallest possible records: a kv is a 1-byte key (8 + 1), a type (4) and
  // a 1-byte value; a tensor info is a 1-char name (8 + 1), n_dims (4), one
  // dim (8), a type (4) and an offset (8).
  constexpr uint64_t kMinKvBytes = 8 + 1 + 4 + 1;
  constexpr uint64_t kMinTensorInfoBytes = 8 + 1 + 4 + 8 + 4 + 8;
  if (n_kv_ > Remaining() / kMinKvBytes) {
    return Error(16, "metadata count ", n_kv_, " cannot fit in the ", Remaining(),
                 " bytes remaining");
  }
  if (n_tensors_ > Remaining() / kMinTensorInfoBytes) {
    return Error(8, "tensor count ", n_tensors_, " cannot fit in the ", Remaining(),
                 " bytes remaining");
  }
  if (n_kv_ * kMinKvBytes + n_tensors_ * kMinTensorInfoBytes > Remaining()) {
    return Error(8, n_tensors_, " tensors and ", n_kv_, " metadata pairs cannot fit in the ",
                 Remaining(), " bytes remaining");
  }
  return absl::OkStatus();
}

absl::Status GgufParser::ReadMetadata() {
  Metadata& md = r_->metadata_;
  md.set_source_name(name_);
  for (uint64_t i = 0; i < n_kv_; ++i) {
    const uint64_t key_offset = pos_;
    std::string key;
    GGUFKIT_RETURN_IF_ERROR(
        ReadString(&key, std::numeric_limits<uint64_t>::max(), "a metadata key"));
    if (key.empty()) return Error(key_offset, "metadata pair ", i, " has an empty key");
    if (md.Contains(key)) return Error(key_offset, "duplicate metadata key '", key, "'");
    const uint64_t type_offset = pos_;
    uint32_t type_raw = 0;
    GGUFKIT_RETURN_IF_ERROR(ReadScalar(&type_raw, "a metadata value type"));
    if (!IsValueType(type_raw)) {
      return Error(type_offset, "metadata key '", key, "' has unknown value type ", type_raw);
    }
    MetadataValue value;
    GGUFKIT_RETURN_IF_ERROR(ReadValue(static_cast<GgufValueType>(type_raw), pos_, key, &value));
    if (key == kGgufAlignmentKey) {
      if (value.type() != GgufValueType::kU32) {
        return Error(type_offset, "general.alignment must be u32, found ",
                     GgufValueTypeName(value.type()));
      }
      const uint32_t a = value.u32();
      if (a == 0 || (a & (a - 1)) != 0) {
        return Error(type_offset + 4, "general.alignment ", a, " is not a power of two");
      }
      if (a > kGgufMaxAlignment) {
        return Error(type_offset + 4, "general.alignment ", a, " is absurdly large (limit ",
                     kGgufMaxAlignment, ")");
      }
      r_->alignment_ = a;
    }
    GGUFKIT_RETURN_IF_ERROR(md.Add(key, std::move(value)));
  }
  return absl::OkStatus();
}

absl::Status GgufParser::ReadTensorInfos() {
  // Reserve only a little: a TensorInfo is several times larger than the
  // smallest record it comes from, so memory must follow the records that
  // really parse, not the count the header claims.
  r_->tensors_.reserve(static_cast<size_t>(std::min<uint64_t>(n_tensors_, 1024)));
  for (uint64_t i = 0; i < n_tensors_; ++i) {
    TensorInfo t;
    t.info_offset = pos_;
    GGUFKIT_RETURN_IF_ERROR(ReadString(&t.name, kGgufMaxTensorNameLength, "a tensor name"));
    if (t.name.empty()) return Error(t.info_offset, "tensor ", i, " has an empty name");
    if (r_->tensor_index_.contains(t.name)) {
      return Error(t.info_offset, "duplicate tensor name '", t.name, "'");
    }
    const uint64_t dims_offset = pos_;
    GGUFKIT_RETURN_IF_ERROR(ReadScalar(&t.n_dims, "a tensor's n_dims"));
    if (t.n_dims == 0 || t.n_dims > static_cast<uint32_t>(kGgufMaxDims)) {
      return Error(dims_offset, "tensor '", t.name, "': n_dims ", t.n_dims, " is outside 1..",
                   kGgufMaxDims);
    }
    int64_t elements = 1;
    for (uint32_t d = 0; d < t.n_dims; ++d) {
      const uint64_t ne_offset = pos_;
      uint64_t ne = 0;
      GGUFKIT_RETURN_IF_ERROR(ReadScalar(&ne, "a tensor dimension"));
      if (ne == 0 || ne > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Error(ne_offset, "tensor '", t.name, "': dimension ", d, " is ",
                     static_cast<int64_t>(ne), ", expected a positive size");
      }
      t.ne[d] = static_cast<int64_t>(ne);
      if (elements > std::numeric_limits<int64_t>::max() / t.ne[d]) {
        return Error(ne_offset, "tensor '", t.name, "': element count ",
                     "overflows 64 bits at dimension ", d);
      }
      elements *= t.ne[d];
    }
    t.n_elements = elements;
    const uint64_t type_offset = pos_;
    uint32_t type_id = 0;
    GGUFKIT_RETURN_IF_ERROR(ReadScalar(&type_id, "a tensor type"));
    const TypeTraits* traits = FindTypeTraits(type_id);
    if (traits == nullptr) {
      return Error(type_offset, "tensor '", t.name, "': unknown or removed ggml type id ", type_id);
    }
    t.type = traits->type;
    if (t.ne[0] % traits->block_size != 0) {
      return Error(dims_offset, "tensor '", t.name, "': ne[0] = ", t.ne[0],
                   " is not a multiple of the ", traits->name, " block size ", traits->block_size);
    }
    const uint64_t row_bytes = static_cast<uint64_t>(t.ne[0] / traits->block_size) *
                               static_cast<uint64_t>(traits->type_size);
    const uint64_t rows = static_cast<uint64_t>(elements / t.ne[0]);
    if (row_bytes != 0 &&
        rows > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / row_bytes) {
      return Error(dims_offset, "tensor '", t.name, "': byte size overflows 64 bits");
    }
    t.row_bytes = row_bytes;
    t.size_bytes = row_bytes * rows;
    const uint64_t offset_offset = pos_;
    GGUFKIT_RETURN_IF_ERROR(ReadScalar(&t.offset, "a tensor offset"));
    if (t.offset % r_->alignment_ != 0) {
      return Error(offset_offset, "tensor '", t.name, "': data offset ", t.offset,
                   " is not a multiple of the alignment ", r_->alignment_);
    }
    if (t.offset > std::numeric_limits<uint64_t>::max() - t.size_bytes) {
      return Error(offset_offset, "tensor '", t.name, "': offset + size overflows 64 bits");
    }
    r_->tensor_index_.emplace(t.name, r_->tensors_.size());
    r_->tensors_.push_back(std::move(t));
  }
  return absl::OkStatus();
}

absl::Status GgufParser::CheckLayout() {
  r_->header_size_ = pos_;
  const uint64_t a = r_->alignment_;
  if (pos_ > std::numeric_limits<uint64_t>::max() - (a - 1)) {
    return Error(pos_, "data section offset overflows");
  }
  r_->data_offset_ = (pos_ + a - 1) / a * a;
  // Files without tensors are written without the padding (gguf-py's vocab
  // files end right after the metadata); ggml then reports the unpadded end.
  if (r_->tensors_.empty() && size_ && r_->data_offset_ > *size_) r_->data_offset_ = pos_;
  r_->padded_data_end_ = r_->data_offset_;
  for (TensorInfo& t : r_->tensors_) {
    if (t.offset > std::numeric_limits<uint64_t>::max() - r_->data_offset_ - t.size_bytes) {
      return Error(t.info_offset, "tensor '", t.name, "': absolute offset overflows 64 bits");
    }
    t.absolute_offset = r_->data_offset_ + t.offset;
    // The "data fits in the file" check ggml skips when it does not load
    // the data. Sources of unknown size check it when the data is read.
    if (size_ && t.absolute_offset + t.size_bytes > *size_) {
      return Error(t.info_offset, "tensor '", t.name, "': data [", t.absolute_offset, ", ",
                   t.absolute_offset + t.size_bytes, ") extends past the end of the file (", *size_,
                   " bytes)");
    }
    const uint64_t end = t.absolute_offset + t.size_bytes;
    const uint64_t pad = (a - end % a) % a;
    const uint64_t padded = end > std::numeric_limits<uint64_t>::max() - pad
                                ? std::numeric_limits<uint64_t>::max()
                                : end + pad;
    r_->padded_data_end_ = std::max(r_->padded_data_end_, padded);
  }
  if (options_.reject_overlaps && r_->tensors_.size() > 1) {
    std::vector<size_t> order = r_->TensorsInFileOrder();
    for (size_t i = 1; i < order.size(); ++i) {
      const TensorInfo& prev = r_->tensors_[order[i - 1]];
      const TensorInfo& cur = r_->tensors_[order[i]];
      if (cur.offset < prev.offset + prev.size_bytes) {
        return Error(cur.info_offset, "tensor '", cur.name, "' data [", cur.offset, ", ",
                     cur.offset + cur.size_bytes, ") overlaps tensor '", prev.name, "' [",
                     prev.offset, ", ", prev.offset + prev.size_bytes, ")");
      }
    }
  }
  return absl::OkStatus();
}

absl::Status GgufParser::Parse() {
  GGUFKIT_RETURN_IF_ERROR(ReadHeader());
  GGUFKIT_RETURN_IF_ERROR(ReadMetadata());
  GGUFKIT_RETURN_IF_ERROR(ReadTensorInfos());
  return CheckLayout();
}

// ---------------------------------------------------------------------------
// GgufReader
// ---------------------------------------------------------------------------

GgufReader::GgufReader(std::unique_ptr<ByteSource> source) : source_(std::move(source)) {}
GgufReader::~GgufReader() = default;

absl::StatusOr<std::unique_ptr<GgufReader>> GgufReader::Open(const std::string& path,
                                                             const ReaderOptions& options) {
  // zstd streams (magic 28 B5 2F FD, or a too-short *.zst) decompress on the
  // fly through a forward-only source; see gguf/zstd_source.h.
  GGUFKIT_ASSIGN_OR_RETURN(const bool zstd, IsZstdFile(path));
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> source,
                           zstd ? OpenZstdSource(path) : OpenByteSource(path, options.source_kind));
  return Open(std::move(source), options);
}

absl::StatusOr<std::unique_ptr<GgufReader>> GgufReader::Open(std::unique_ptr<ByteSource> source,
                                                             const ReaderOptions& options) {
  if (source == nullptr) return absl::InvalidArgumentError("GgufReader::Open: null source");
  std::unique_ptr<GgufReader> reader(new GgufReader(std::move(source)));
  GgufParser parser(reader.get(), options);
  GGUFKIT_RETURN_IF_ERROR(parser.Parse());
  return reader;
}

const TensorInfo* GgufReader::FindTensor(absl::string_view name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::vector<size_t> GgufReader::TensorsInFileOrder() const {
  std::vector<size_t> order(tensors_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [this](size_t x, size_t y) { return tensors_[x].offset < tensors_[y].offset; });
  return order;
}

absl::Status GgufReader::ReadTensorBytes(const TensorInfo& tensor, uint64_t offset_in_tensor,
                                         void* dst, size_t n) {
  const TensorInfo* own = FindTensor(tensor.name);
  if (own == nullptr || own->absolute_offset != tensor.absolute_offset ||
      own->size_bytes != tensor.size_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(name(), ": tensor '", tensor.name, "' does not belong to this file"));
  }
  if (offset_in_tensor > own->size_bytes || n > own->size_bytes - offset_in_tensor) {
    return absl::OutOfRangeError(absl::StrCat(name(), ": tensor '", own->name, "': read of ", n,
                                              " bytes at byte ", offset_in_tensor,
                                              " passes its end (", own->size_bytes, " bytes)"));
  }
  absl::Status s;
  if (source_->forward_only()) {
    std::lock_guard<std::mutex> lock(forward_only_mu_);
    s = source_->ReadAt(own->absolute_offset + offset_in_tensor, dst, n);
  } else {
    s = source_->ReadAt(own->absolute_offset + offset_in_tensor, dst, n);
  }
  if (!s.ok()) {
    return absl::Status(
        s.code(), absl::StrCat("tensor '", own->name, "' (", own->size_bytes, " bytes at offset ",
                               own->absolute_offset, "): ", s.message()));
  }
  return absl::OkStatus();
}

void GgufReader::ReleaseTensorBytes(const TensorInfo& tensor, uint64_t offset_in_tensor,
                                    uint64_t n) {
  if (offset_in_tensor > tensor.size_bytes) return;
  n = std::min(n, tensor.size_bytes - offset_in_tensor);
  source_->Release(tensor.absolute_offset + offset_in_tensor, n);
}

}  // namespace ggufkit
