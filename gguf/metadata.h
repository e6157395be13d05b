// GGUF metadata: typed key/value pairs kept in file order with their exact
// types, so a writer can re-emit what a reader parsed byte for byte.
//
// Value types (u32 on disk): 0 u8, 1 i8, 2 u16, 3 i16, 4 u32, 5 i32, 6 f32,
// 7 bool (one byte, 0 or 1), 8 string (u64 length + bytes, no NUL),
// 9 array (u32 element type, u64 count, elements), 10 u64, 11 i64, 12 f64.
// Arrays of arrays are rejected: ggml's gguf.cpp does not accept them either.
//
// Memory: numeric arrays are one packed byte buffer, string arrays one
// concatenated buffer plus one u64 end offset per element, so a parsed value
// takes no more memory than its bytes in the file (plus a constant).
#ifndef GGUFKIT_GGUF_METADATA_H_
#define GGUFKIT_GGUF_METADATA_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ggufkit {

enum class GgufValueType : uint32_t {
  kU8 = 0,
  kI8 = 1,
  kU16 = 2,
  kI16 = 3,
  kU32 = 4,
  kI32 = 5,
  kF32 = 6,
  kBool = 7,
  kString = 8,
  kArray = 9,
  kU64 = 10,
  kI64 = 11,
  kF64 = 12,
};
inline constexpr uint32_t kGgufValueTypeLimit = 13;

// "u8", "i32", "f32", "bool", "str", "arr", "u64", ... (gguf-py's short names
// as used in golden/real/manifest.jsonl). "?" for out-of-range values.
absl::string_view GgufValueTypeName(GgufValueType type);
// Bytes of one element of a fixed-size type; 0 for string and array.
size_t GgufValueTypeSize(GgufValueType type);

// One metadata value: a scalar, a string or a one-level array.
class MetadataValue {
 public:
  MetadataValue() = default;  // u8 0

  // Scalars.
  static MetadataValue U8(uint8_t v);
  static MetadataValue I8(int8_t v);
  static MetadataValue U16(uint16_t v);
  static MetadataValue I16(int16_t v);
  static MetadataValue U32(uint32_t v);
  static MetadataValue I32(int32_t v);
  static MetadataValue U64(uint64_t v);
  static MetadataValue I64(int64_t v);
  static MetadataValue F32(float v);
  static MetadataValue F64(double v);
  static MetadataValue Bool(bool v);
  static MetadataValue String(absl::string_view v);
  // Arrays of fixed-size elements. `packed` holds count * GgufValueTypeSize
  // bytes in host order (bools: one byte each, 0 or 1).
  static absl::StatusOr<MetadataValue> Array(GgufValueType element_type,
                                             absl::Span<const uint8_t> packed);
  static MetadataValue ArrayU8(absl::Span<const uint8_t> v);
  static MetadataValue ArrayI32(absl::Span<const int32_t> v);
  static MetadataValue ArrayU32(absl::Span<const uint32_t> v);
  static MetadataValue ArrayI64(absl::Span<const int64_t> v);
  static MetadataValue ArrayU64(absl::Span<const uint64_t> v);
  static MetadataValue ArrayF32(absl::Span<const float> v);
  static MetadataValue ArrayF64(absl::Span<const double> v);
  static MetadataValue ArrayString(absl::Span<const std::string> v);

  GgufValueType type() const { return type_; }
  bool is_array() const { return type_ == GgufValueType::kArray; }
  // Element type of an array; equal to type() for non-arrays.
  GgufValueType element_type() const { return element_type_; }
  // Elements of an array; 1 for a scalar or string.
  uint64_t size() const;

  // Scalar accessors: exact type only (the value's type must match). Calling
  // one on another type returns 0 / false / "" (check type() first, or use
  // Metadata's Get* which report the mismatch).
  uint64_t raw_bits() const { return scalar_bits_; }  // zero-extended
  uint8_t u8() const { return static_cast<uint8_t>(scalar_bits_); }
  int8_t i8() const { return static_cast<int8_t>(scalar_bits_); }
  uint16_t u16() const { return static_cast<uint16_t>(scalar_bits_); }
  int16_t i16() const { return static_cast<int16_t>(scalar_bits_); }
  uint32_t u32() const { return static_cast<uint32_t>(scalar_bits_); }
  int32_t i32() const { return static_cast<int32_t>(scalar_bits_); }
  uint64_t u64() const { return scalar_bits_; }
  int64_t i64() const { return static_cast<int64_t>(scalar_bits_); }
  float f32() const;
  double f64() const;
  bool boolean() const { return scalar_bits_ != 0; }
  absl::string_view str() const;  // string value

  // Array accessors.
  // Packed host-order elements of a fixed-size array (empty otherwise).
  absl::Span<const uint8_t> array_bytes() const;
  // Element i of a string array (i < size()).
  absl::string_view string_at(uint64_t i) const;
  // Element i of a fixed-size array widened: integers/bool as int64 or
  // uint64 bits, floats as double.
  int64_t int_at(uint64_t i) const;
  double float_at(uint64_t i) const;

  // Bytes this value takes in a GGUF file (type tag excluded).
  uint64_t EncodedSize() const;

  // Human-readable rendering: numbers, quoted strings, arrays as
  // [a, b, ...]; arrays longer than `max_elements` show the first ones and
  // "... (N more)". max_elements = 0 means all.
  std::string DebugString(size_t max_elements = 8) const;

  bool operator==(const MetadataValue& other) const;
  bool operator!=(const MetadataValue& other) const { return !(*this == other); }

 private:
  friend class GgufParser;  // the reader fills values in place
  GgufValueType type_ = GgufValueType::kU8;
  GgufValueType element_type_ = GgufValueType::kU8;
  uint64_t scalar_bits_ = 0;
  uint64_t count_ = 1;
  // String value, packed fixed-size array elements, or the concatenated
  // elements of a string array.
  std::string bytes_;
  // String arrays: end offset of element i in bytes_.
  std::vector<uint64_t> string_ends_;
};

struct MetadataEntry {
  std::string key;
  MetadataValue value;
};

// Ordered key -> value map with typed access. Errors name the key and the
// file (`source_name`).
class Metadata {
 public:
  Metadata() = default;
  explicit Metadata(std::string source_name) : source_name_(std::move(source_name)) {}

  const std::string& source_name() const { return source_name_; }
  void set_source_name(std::string name) { source_name_ = std::move(name); }

  // Entries in file (or insertion) order.
  const std::vector<MetadataEntry>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }

  // nullptr when absent.
  const MetadataValue* Find(absl::string_view key) const;
  bool Contains(absl::string_view key) const { return Find(key) != nullptr; }

  // Replaces the value of an existing key in place (its position is kept)
  // or appends a new key. An empty key is InvalidArgument.
  absl::Status Set(absl::string_view key, MetadataValue value);
  // Appends; AlreadyExists if the key is present, InvalidArgument if empty.
  absl::Status Add(absl::string_view key, MetadataValue value);
  // Removes a key; returns whether it was present.
  bool Remove(absl::string_view key);

  // Typed access. NotFound: "<file>: metadata key 'k' not found";
  // InvalidArgument: "<file>: metadata key 'k' is i32, expected u32".
  absl::StatusOr<uint8_t> GetU8(absl::string_view key) const;
  absl::StatusOr<int8_t> GetI8(absl::string_view key) const;
  absl::StatusOr<uint16_t> GetU16(absl::string_view key) const;
  absl::StatusOr<int16_t> GetI16(absl::string_view key) const;
  absl::StatusOr<uint32_t> GetU32(absl::string_view key) const;
  absl::StatusOr<int32_t> GetI32(absl::string_view key) const;
  absl::StatusOr<uint64_t> GetU64(absl::string_view key) const;
  absl::StatusOr<int64_t> GetI64(absl::string_view key) const;
  absl::StatusOr<float> GetF32(absl::string_view key) const;
  absl::StatusOr<double> GetF64(absl::string_view key) const;
  absl::StatusOr<bool> GetBool(absl::string_view key) const;
  absl::StatusOr<std::string> GetString(absl::string_view key) const;
  // Any integer type (u8..i64) whose value is representable as int64 (a u64
  // above INT64_MAX is OutOfRange). For keys writers disagree on.
  absl::StatusOr<int64_t> GetInteger(absl::string_view key) const;

  // Arrays: the key must be an array of exactly that element type.
  absl::StatusOr<std::vector<uint8_t>> GetArrayU8(absl::string_view key) const;
  absl::StatusOr<std::vector<int32_t>> GetArrayI32(absl::string_view key) const;
  absl::StatusOr<std::vector<uint32_t>> GetArrayU32(absl::string_view key) const;
  absl::StatusOr<std::vector<int64_t>> GetArrayI64(absl::string_view key) const;
  absl::StatusOr<std::vector<uint64_t>> GetArrayU64(absl::string_view key) const;
  absl::StatusOr<std::vector<float>> GetArrayF32(absl::string_view key) const;
  absl::StatusOr<std::vector<double>> GetArrayF64(absl::string_view key) const;
  absl::StatusOr<std::vector<std::string>> GetArrayString(absl::string_view key) const;
  // The array value itself without copying (any element type; check
  // element_type()). InvalidArgument when the key is not an array.
  absl::StatusOr<const MetadataValue*> GetArray(absl::string_view key) const;

 private:
  absl::StatusOr<const MetadataValue*> GetTyped(absl::string_view key, GgufValueType type) const;
  absl::StatusOr<const MetadataValue*> GetArrayOf(absl::string_view key,
                                                  GgufValueType element_type) const;

  std::string source_name_;
  std::vector<MetadataEntry> entries_;
  absl::flat_hash_map<std::string, size_t> index_;
};

}  // namespace ggufkit

#endif  // GGUFKIT_GGUF_METADATA_H_
