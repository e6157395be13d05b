#include "ggufkit/gguf/metadata.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace ggufkit {
namespace {

template <typename T>
uint64_t ToBits(T v) {
  // Zero-extend the value's own bytes so accessors can narrow back exactly.
  using U = std::conditional_t<
      sizeof(T) == 1, uint8_t,
      std::conditional_t<sizeof(T) == 2, uint16_t,
                         std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>>;
  U u;
  std::memcpy(&u, &v, sizeof(T));
  return static_cast<uint64_t>(u);
}

template <typename T>
T LoadElement(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// A float element read as an integer truncates toward zero like a cast, but
// casting NaN or a value outside int64 is undefined behaviour (found by
// fuzz_reader): those saturate, NaN reads as 0.
int64_t SaturatingToInt64(double v) {
  constexpr double kTwo63 = 9223372036854775808.0;  // exactly 2^63
  if (std::isnan(v)) return 0;
  if (v >= kTwo63) return std::numeric_limits<int64_t>::max();
  if (v < -kTwo63) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(v);
}

std::string QuoteString(absl::string_view s, size_t max_chars) {
  std::string out = "\"";
  size_t shown = 0;
  for (char c : s) {
    if (max_chars != 0 && shown >= max_chars) {
      absl::StrAppend(&out, "...");
      break;
    }
    ++shown;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

std::string FormatDouble(double v) { return absl::StrFormat("%.9g", v); }

template <typename T>
MetadataValue MakeArray(GgufValueType type, absl::Span<const T> v) {
  absl::Span<const uint8_t> packed(reinterpret_cast<const uint8_t*>(v.data()),
                                   v.size() * sizeof(T));
  return *MetadataValue::Array(type, packed);
}

}  // namespace

absl::string_view GgufValueTypeName(GgufValueType type) {
  switch (type) {
    case GgufValueType::kU8:
      return "u8";
    case GgufValueType::kI8:
      return "i8";
    case GgufValueType::kU16:
      return "u16";
    case GgufValueType::kI16:
      return "i16";
    case GgufValueType::kU32:
      return "u32";
    case GgufValueType::kI32:
      return "i32";
    case GgufValueType::kF32:
      return "f32";
    case GgufValueType::kBool:
      return "bool";
    case GgufValueType::kString:
      return "str";
    case GgufValueType::kArray:
      return "arr";
    case GgufValueType::kU64:
      return "u64";
    case GgufValueType::kI64:
      return "i64";
    case GgufValueType::kF64:
      return "f64";
  }
  return "?";
}

size_t GgufValueTypeSize(GgufValueType type) {
  switch (type) {
    case GgufValueType::kU8:
    case GgufValueType::kI8:
    case GgufValueType::kBool:
      return 1;
    case GgufValueType::kU16:
    case GgufValueType::kI16:
      return 2;
    case GgufValueType::kU32:
    case GgufValueType::kI32:
    case GgufValueType::kF32:
      return 4;
    case GgufValueType::kU64:
    case GgufValueType::kI64:
    case GgufValueType::kF64:
      return 8;
    case GgufValueType::kString:
    case GgufValueType::kArray:
      return 0;
  }
  return 0;
}

#define GGUFKIT_SCALAR_FACTORY(Name, CType, Enum)    \
  MetadataValue MetadataValue::Name(CType v) {       \
    MetadataValue m;                                 \
    m.type_ = m.element_type_ = GgufValueType::Enum; \
    m.scalar_bits_ = ToBits(v);                      \
    return m;                                        \
  }
GGUFKIT_SCALAR_FACTORY(U8, uint8_t, kU8)
GGUFKIT_SCALAR_FACTORY(I8, int8_t, kI8)
GGUFKIT_SCALAR_FACTORY(U16, uint16_t, kU16)
GGUFKIT_SCALAR_FACTORY(I16, int16_t, kI16)
GGUFKIT_SCALAR_FACTORY(U32, uint32_t, kU32)
GGUFKIT_SCALAR_FACTORY(I32, int32_t, kI32)
GGUFKIT_SCALAR_FACTORY(U64, uint64_t, kU64)
GGUFKIT_SCALAR_FACTORY(I64, int64_t, kI64)
GGUFKIT_SCALAR_FACTORY(F32, float, kF32)
GGUFKIT_SCALAR_FACTORY(F64, double, kF64)
#undef GGUFKIT_SCALAR_FACTORY

MetadataValue MetadataValue::Bool(bool v) {
  MetadataValue m;
  m.type_ = m.element_type_ = GgufValueType::kBool;
  m.scalar_bits_ = v ? 1 : 0;
  return m;
}

MetadataValue MetadataValue::String(absl::string_view v) {
  MetadataValue m;
  m.type_ = m.element_type_ = GgufValueType::kString;
  m.bytes_ = std::string(v);
  return m;
}

absl::StatusOr<MetadataValue> MetadataValue::Array(GgufValueType element_type,
                                                   absl::Span<const uint8_t> packed) {
  const size_t elem = GgufValueTypeSize(element_type);
  if (elem == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("MetadataValue::Array: element type ", GgufValueTypeName(element_type),
                     " is not a fixed-size type (use ArrayString; arrays of arrays are not "
                     "supported)"));
  }
  if (packed.size() % elem != 0) {
    return absl::InvalidArgumentError(absl::StrCat("MetadataValue::Array: ", packed.size(),
                                                   " bytes is not a whole number of ",
                                                   GgufValueTypeName(element_type), " elements"));
  }
  if (element_type == GgufValueType::kBool) {
    for (uint8_t b : packed) {
      if (b > 1) return absl::InvalidArgumentError("MetadataValue::Array: bool element not 0/1");
    }
  }
  MetadataValue m;
  m.type_ = GgufValueType::kArray;
  m.element_type_ = element_type;
  m.count_ = packed.size() / elem;
  m.bytes_.assign(reinterpret_cast<const char*>(packed.data()), packed.size());
  return m;
}

MetadataValue MetadataValue::ArrayU8(absl::Span<const uint8_t> v) {
  return MakeArray(GgufValueType::kU8, v);
}
MetadataValue MetadataValue::ArrayI32(absl::Span<const int32_t> v) {
  return MakeArray(GgufValueType::kI32, v);
}
MetadataValue MetadataValue::ArrayU32(absl::Span<const uint32_t> v) {
  return MakeArray(GgufValueType::kU32, v);
}
MetadataValue MetadataValue::ArrayI64(absl::Span<const int64_t> v) {
  return MakeArray(GgufValueType::kI64, v);
}
MetadataValue MetadataValue::ArrayU64(absl::Span<const uint64_t> v) {
  return MakeArray(GgufValueType::kU64, v);
}
MetadataValue MetadataValue::ArrayF32(absl::Span<const float> v) {
  return MakeArray(GgufValueType::kF32, v);
}
MetadataValue MetadataValue::ArrayF64(absl::Span<const double> v) {
  return MakeArray(GgufValueType::kF64, v);
}

MetadataValue MetadataValue::ArrayString(absl::Span<const std::string> v) {
  MetadataValue m;
  m.type_ = GgufValueType::kArray;
  m.element_type_ = GgufValueType::kString;
  m.count_ = v.size();
  m.string_ends_.reserve(v.size());
  for (const std::string& s : v) {
    m.bytes_ += s;
    m.string_ends_.push_back(m.bytes_.size());
  }
  return m;
}

uint64_t MetadataValue::size() const { return is_array() ? count_ : 1; }

float MetadataValue::f32() const {
  uint32_t bits = static_cast<uint32_t>(scalar_bits_);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

double MetadataValue::f64() const {
  double d;
  std::memcpy(&d, &scalar_bits_, 8);
  return d;
}

absl::string_view MetadataValue::str() const {
  if (type_ != GgufValueType::kString) return {};
  return bytes_;
}

absl::Span<const uint8_t> MetadataValue::array_bytes() const {
  if (!is_array() || element_type_ == GgufValueType::kString) return {};
  return absl::Span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes_.data()), bytes_.size());
}

absl::string_view MetadataValue::string_at(uint64_t i) const {
  if (!is_array() || element_type_ != GgufValueType::kString || i >= count_) return {};
  uint64_t begin = i == 0 ? 0 : string_ends_[i - 1];
  return absl::string_view(bytes_).substr(begin, string_ends_[i] - begin);
}

int64_t MetadataValue::int_at(uint64_t i) const {
  if (!is_array() || i >= count_) return 0;
  const uint8_t* p =
      reinterpret_cast<const uint8_t*>(bytes_.data()) + i * GgufValueTypeSize(element_type_);
  switch (element_type_) {
    case GgufValueType::kU8:
    case GgufValueType::kBool:
      return LoadElement<uint8_t>(p);
    case GgufValueType::kI8:
      return LoadElement<int8_t>(p);
    case GgufValueType::kU16:
      return LoadElement<uint16_t>(p);
    case GgufValueType::kI16:
      return LoadElement<int16_t>(p);
    case GgufValueType::kU32:
      return LoadElement<uint32_t>(p);
    case GgufValueType::kI32:
      return LoadElement<int32_t>(p);
    case GgufValueType::kU64:
      return static_cast<int64_t>(LoadElement<uint64_t>(p));
    case GgufValueType::kI64:
      return LoadElement<int64_t>(p);
    case GgufValueType::kF32:
      return SaturatingToInt64(LoadElement<float>(p));
    case GgufValueType::kF64:
      return SaturatingToInt64(LoadElement<double>(p));
    default:
      return 0;
  }
}

double MetadataValue::float_at(uint64_t i) const {
  if (!is_array() || i >= count_) return 0;
  const uint8_t* p =
      reinterpret_cast<const uint8_t*>(bytes_.data()) + i * GgufValueTypeSize(element_type_);
  switch (element_type_) {
    case GgufValueType::kF32:
      return LoadElement<float>(p);
    case GgufValueType::kF64:
      return LoadElement<double>(p);
    case GgufValueType::kU64:
      return static_cast<double>(LoadElement<uint64_t>(p));
    default:
      return static_cast<double>(int_at(i));
  }
}

uint64_t MetadataValue::EncodedSize() const {
  if (type_ == GgufValueType::kString) return 8 + bytes_.size();
  if (!is_array()) return GgufValueTypeSize(type_);
  if (element_type_ == GgufValueType::kString) return 4 + 8 + 8 * count_ + bytes_.size();
  return 4 + 8 + bytes_.size();
}

std::string MetadataValue::DebugString(size_t max_elements) const {
  auto scalar = [](GgufValueType t, uint64_t bits) -> std::string {
    switch (t) {
      case GgufValueType::kU8:
      case GgufValueType::kU16:
      case GgufValueType::kU32:
      case GgufValueType::kU64:
        return absl::StrCat(bits);
      case GgufValueType::kI8:
        return absl::StrCat(static_cast<int8_t>(bits));
      case GgufValueType::kI16:
        return absl::StrCat(static_cast<int16_t>(bits));
      case GgufValueType::kI32:
        return absl::StrCat(static_cast<int32_t>(bits));
      case GgufValueType::kI64:
        return absl::StrCat(static_cast<int64_t>(bits));
      case GgufValueType::kBool:
        return bits ? "true" : "false";
      case GgufValueType::kF32: {
        uint32_t b = static_cast<uint32_t>(bits);
        float f;
        std::memcpy(&f, &b, 4);
        return FormatDouble(f);
      }
      case GgufValueType::kF64: {
        double d;
        std::memcpy(&d, &bits, 8);
        return FormatDouble(d);
      }
      default:
        return "?";
    }
  };
  if (type_ == GgufValueType::kString) return QuoteString(bytes_, max_elements == 0 ? 0 : 256);
  if (!is_array()) return scalar(type_, scalar_bits_);
  std::string out = "[";
  const uint64_t shown = max_elements == 0 ? count_ : std::min<uint64_t>(count_, max_elements);
  const size_t elem = GgufValueTypeSize(element_type_);
  for (uint64_t i = 0; i < shown; ++i) {
    if (i) out += ", ";
    if (element_type_ == GgufValueType::kString) {
      out += QuoteString(string_at(i), max_elements == 0 ? 0 : 64);
    } else {
      uint64_t bits = 0;
      std::memcpy(&bits, bytes_.data() + i * elem, elem);  // host little-endian
      out += scalar(element_type_, bits);
    }
  }
  if (shown < count_) absl::StrAppend(&out, ", ... (", count_ - shown, " more)");
  out += "]";
  return out;
}

bool MetadataValue::operator==(const MetadataValue& other) const {
  return type_ == other.type_ && element_type_ == other.element_type_ &&
         scalar_bits_ == other.scalar_bits_ && count_ == other.count_ && bytes_ == other.bytes_ &&
         string_ends_ == other.string_ends_;
}

// ---------------------------------------------------------------------------
// Metadata
// ---------------------------------------------------------------------------

const MetadataValue* Metadata::Find(absl::string_view key) const {
  auto it = index_.find(key);
  return it == index_.end() ? nullptr : &entries_[it->second].value;
}

absl::Status Metadata::Set(absl::string_view key, MetadataValue value) {
  if (key.empty()) return absl::InvalidArgumentError("metadata key must not be empty");
  auto it = index_.find(key);
  if (it != index_.end()) {
    entries_[it->second].value = std::move(value);
    return absl::OkStatus();
  }
  index_.emplace(std::string(key), entries_.size());
  entries_.push_back(MetadataEntry{std::string(key), std::move(value)});
  return absl::OkStatus();
}

absl::Status Metadata::Add(absl::string_view key, MetadataValue value) {
  if (key.empty()) return absl::InvalidArgumentError("metadata key must not be empty");
  if (index_.contains(key)) {
    return absl::AlreadyExistsError(
        absl::StrCat(source_name_, ": duplicate metadata key '", key, "'"));
  }
  index_.emplace(std::string(key), entries_.size());
  entries_.push_back(MetadataEntry{std::string(key), std::move(value)});
  return absl::OkStatus();
}

bool Metadata::Remove(absl::string_view key) {
  auto it = index_.find(key);
  if (it == index_.end()) return false;
  const size_t pos = it->second;
  index_.erase(it);
  entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(pos));
  for (auto& kv : index_) {
    if (kv.second > pos) --kv.second;
  }
  return true;
}

absl::StatusOr<const MetadataValue*> Metadata::GetTyped(absl::string_view key,
                                                        GgufValueType type) const {
  const MetadataValue* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(absl::StrCat(source_name_, ": metadata key '", key, "' not found"));
  }
  if (v->type() != type) {
    std::string actual(GgufValueTypeName(v->type()));
    if (v->is_array()) absl::StrAppend(&actual, "[", GgufValueTypeName(v->element_type()), "]");
    return absl::InvalidArgumentError(absl::StrCat(source_name_, ": metadata key '", key, "' is ",
                                                   actual, ", expected ", GgufValueTypeName(type)));
  }
  return v;
}

absl::StatusOr<const MetadataValue*> Metadata::GetArrayOf(absl::string_view key,
                                                          GgufValueType element_type) const {
  absl::StatusOr<const MetadataValue*> v = GetArray(key);
  if (!v.ok()) return v.status();
  if ((*v)->element_type() != element_type) {
    return absl::InvalidArgumentError(absl::StrCat(
        source_name_, ": metadata key '", key, "' is arr[", GgufValueTypeName((*v)->element_type()),
        "], expected arr[", GgufValueTypeName(element_type), "]"));
  }
  return v;
}

absl::StatusOr<const MetadataValue*> Metadata::GetArray(absl::string_view key) const {
  const MetadataValue* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(absl::StrCat(source_name_, ": metadata key '", key, "' not found"));
  }
  if (!v->is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(source_name_, ": metadata key '", key, "' is ",
                                                   GgufValueTypeName(v->type()),
                                                   ", expected an array"));
  }
  return v;
}

#define GGUFKIT_GETTER(Name, CType, Enum, Accessor)                              \
  absl::StatusOr<CType> Metadata::Name(absl::string_view key) const {            \
    absl::StatusOr<const MetadataValue*> v = GetTyped(key, GgufValueType::Enum); \
    if (!v.ok()) return v.status();                                              \
    return (*v)->Accessor();                                                     \
  }
GGUFKIT_GETTER(GetU8, uint8_t, kU8, u8)
GGUFKIT_GETTER(GetI8, int8_t, kI8, i8)
GGUFKIT_GETTER(GetU16, uint16_t, kU16, u16)
GGUFKIT_GETTER(GetI16, int16_t, kI16, i16)
GGUFKIT_GETTER(GetU32, uint32_t, kU32, u32)
GGUFKIT_GETTER(GetI32, int32_t, kI32, i32)
GGUFKIT_GETTER(GetU64, uint64_t, kU64, u64)
GGUFKIT_GETTER(GetI64, int64_t, kI64, i64)
GGUFKIT_GETTER(GetF32, float, kF32, f32)
GGUFKIT_GETTER(GetF64, double, kF64, f64)
GGUFKIT_GETTER(GetBool, bool, kBool, boolean)
#undef GGUFKIT_GETTER

absl::StatusOr<std::string> Metadata::GetString(absl::string_view key) const {
  absl::StatusOr<const MetadataValue*> v = GetTyped(key, GgufValueType::kString);
  if (!v.ok()) return v.status();
  return std::string((*v)->str());
}

absl::StatusOr<int64_t> Metadata::GetInteger(absl::string_view key) const {
  const MetadataValue* v = Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(absl::StrCat(source_name_, ": metadata key '", key, "' not found"));
  }
  switch (v->type()) {
    case GgufValueType::kU8:
      return v->u8();
    case GgufValueType::kI8:
      return v->i8();
    case GgufValueType::kU16:
      return v->u16();
    case GgufValueType::kI16:
      return v->i16();
    case GgufValueType::kU32:
      return v->u32();
    case GgufValueType::kI32:
      return v->i32();
    case GgufValueType::kI64:
      return v->i64();
    case GgufValueType::kU64:
      if (v->u64() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return absl::OutOfRangeError(absl::StrCat(source_name_, ": metadata key '", key,
                                                  "' = ", v->u64(), " does not fit in int64"));
      }
      return static_cast<int64_t>(v->u64());
    default:
      return absl::InvalidArgumentError(absl::StrCat(source_name_, ": metadata key '", key, "' is ",
                                                     GgufValueTypeName(v->type()),
                                                     ", expected an integer"));
  }
}

#define GGUFKIT_ARRAY_GETTER(Name, CType, Enum)                                    \
  absl::StatusOr<std::vector<CType>> Metadata::Name(absl::string_view key) const { \
    absl::StatusOr<const MetadataValue*> v = GetArrayOf(key, GgufValueType::Enum); \
    if (!v.ok()) return v.status();                                                \
    absl::Span<const uint8_t> bytes = (*v)->array_bytes();                         \
    std::vector<CType> out(bytes.size() / sizeof(CType));                          \
    if (!out.empty()) std::memcpy(out.data(), bytes.data(), bytes.size());         \
    return out;                                                                    \
  }
GGUFKIT_ARRAY_GETTER(GetArrayU8, uint8_t, kU8)
GGUFKIT_ARRAY_GETTER(GetArrayI32, int32_t, kI32)
GGUFKIT_ARRAY_GETTER(GetArrayU32, uint32_t, kU32)
GGUFKIT_ARRAY_GETTER(GetArrayI64, int64_t, kI64)
GGUFKIT_ARRAY_GETTER(GetArrayU64, uint64_t, kU64)
GGUFKIT_ARRAY_GETTER(GetArrayF32, float, kF32)
GGUFKIT_ARRAY_GETTER(GetArrayF64, double, kF64)
#undef GGUFKIT_ARRAY_GETTER

absl::StatusOr<std::vector<std::string>> Metadata::GetArrayString(absl::string_view key) const {
  absl::StatusOr<const MetadataValue*> v = GetArrayOf(key, GgufValueType::kString);
  if (!v.ok()) return v.status();
  std::vector<std::string> out;
  out.reserve((*v)->size());
  for (uint64_t i = 0; i < (*v)->size(); ++i) out.emplace_back((*v)->string_at(i));
  return out;
}

}  // namespace ggufkit
