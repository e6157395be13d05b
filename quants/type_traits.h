// The one table of ggml tensor types: id, name, block size and block bytes,
// plus the scalar reference codec registered for each type.
//
// The container layer (gguf/) uses the sizes only, to size any tensor. Codecs
// (quants/ reference, dequant/ SIMD, kernels/cuda/) are looked up by type.
// Adding a format (docs/adding-a-format.md has the full list, with the docs
// and tests the suite then asks for) touches five files: the GgmlType id
// below; its block header in quants/ (struct, diagram, formula, and the field
// table kBlock<X>Fields beside the struct: every fp16 scale and multi-byte
// word, which byte-swapping and random test blocks derive from); its
// reference codec .cc; one row in kTypeTable (type_traits.cc) naming the
// field table; and one Register line in codecs_basic.cc / codecs_extra.cc.
// A missing or incomplete field table does not compile; an fp16 scale
// described as bytes fails BlockFieldsTest; a SIMD kernel missing from the
// compared list fails DequantTargetTest.ReportsItsTarget.
#ifndef GGUFKIT_QUANTS_TYPE_TRAITS_H_
#define GGUFKIT_QUANTS_TYPE_TRAITS_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace ggufkit {

// ggml's type ids (ggml 0.21.0). Ids 4, 5, 31-33 and 36-38 were removed from
// ggml and are rejected like any unknown id.
enum class GgmlType : uint32_t {
  kF32 = 0,
  kF16 = 1,
  kQ4_0 = 2,
  kQ4_1 = 3,
  kQ5_0 = 6,
  kQ5_1 = 7,
  kQ8_0 = 8,
  kQ8_1 = 9,
  kQ2_K = 10,
  kQ3_K = 11,
  kQ4_K = 12,
  kQ5_K = 13,
  kQ6_K = 14,
  kQ8_K = 15,
  kIQ2_XXS = 16,
  kIQ2_XS = 17,
  kIQ3_XXS = 18,
  kIQ1_S = 19,
  kIQ4_NL = 20,
  kIQ3_S = 21,
  kIQ2_S = 22,
  kIQ4_XS = 23,
  kI8 = 24,
  kI16 = 25,
  kI32 = 26,
  kI64 = 27,
  kF64 = 28,
  kIQ1_M = 29,
  kBF16 = 30,
  kTQ1_0 = 34,
  kTQ2_0 = 35,
  kMXFP4 = 39,
  kNVFP4 = 40,
  kQ1_0 = 41,
  kQ2_0 = 42,
};

// One past the largest id in the table.
inline constexpr uint32_t kGgmlTypeIdLimit = 43;

enum class TypeKind : uint8_t {
  kFloat,      // F32, F16, BF16, F64: one element per "block"
  kInteger,    // I8..I64: copied as numbers, never quantized
  kQuantized,  // block formats
};

// What the bytes of a block are, field by field (see quants/block_fields.h,
// which byte-swaps big-endian blocks with them).
enum class FieldKind : uint8_t {
  kBytes,  // 1-byte codes (uint8_t / int8_t): no byte order
  kFp16,   // IEEE binary16 (a scale, min or sum)
  kBf16,   // bfloat16
  kF32,
  kF64,
  kU16,  // 16-bit words of packed codes
  kI16,
  kU32,  // 32-bit words of packed codes
  kI32,
  kI64,
};

// `count` consecutive elements of `kind` starting `offset` bytes into a block.
struct BlockField {
  uint16_t offset;
  uint16_t count;
  FieldKind kind;
};

struct TypeTraits {
  GgmlType type;
  absl::string_view name;  // ggml's spelling: "q4_K", "iq2_xxs", "bf16"
  int64_t block_size;      // elements per block
  int64_t type_size;       // bytes per block
  TypeKind kind;
  // Every field of one block, ascending and covering its type_size bytes
  // exactly (checked at compile time); declared beside the block struct.
  absl::Span<const BlockField> fields;
};

// Traits of a type id read from a file; nullptr for unknown or removed ids.
const TypeTraits* FindTypeTraits(uint32_t id);
// Traits of a valid enum value.
const TypeTraits& GetTypeTraits(GgmlType type);
// Case-insensitive name lookup ("Q4_K", "q4_k", "f32", "fp32", "fp16").
absl::StatusOr<GgmlType> ParseGgmlType(absl::string_view name);
inline absl::string_view GgmlTypeName(GgmlType type) { return GetTypeTraits(type).name; }

// Bytes of `n_elements` of `type`; an error if n_elements is negative or not a
// whole number of blocks, or if the byte count would overflow int64.
absl::StatusOr<int64_t> RowSizeBytes(GgmlType type, int64_t n_elements);

// Iterates every valid type: for (const TypeTraits& t : AllTypeTraits()) ...
struct TypeTraitsRange {
  const TypeTraits* b;
  const TypeTraits* e;
  const TypeTraits* begin() const { return b; }
  const TypeTraits* end() const { return e; }
};
TypeTraitsRange AllTypeTraits();

// ---------------------------------------------------------------------------
// Scalar reference codecs, registered per type.
// ---------------------------------------------------------------------------

// Dequantizes n elements (a whole number of blocks, checked by the caller)
// from `blocks` into out[0..n). No alignment requirement on either pointer.
using DequantizeRowFn = void (*)(const uint8_t* blocks, float* out, int64_t n);
// Quantizes n elements (whole blocks) of x into `blocks`. `imatrix` is either
// nullptr or n importance weights (only read where `uses_imatrix`).
using QuantizeRowFn = void (*)(const float* x, uint8_t* blocks, int64_t n, const float* imatrix);

struct ReferenceCodec {
  DequantizeRowFn dequantize = nullptr;  // nullptr: no dequantizer
  QuantizeRowFn quantize = nullptr;      // nullptr: no quantizer
  bool uses_imatrix = false;             // quantize reads imatrix when non-null
  // ggml refuses to quantize without an importance matrix (IQ2_XXS, IQ2_XS,
  // IQ1_S: ggml_quantize_requires_imatrix); Quantize() does too.
  bool requires_imatrix = false;
};

// The registered reference codec of `type` (entries may be null).
const ReferenceCodec& GetReferenceCodec(GgmlType type);

}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_TYPE_TRAITS_H_
