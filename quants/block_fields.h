// The field layout of one block of every ggml type (TypeTraits::fields):
// which bytes are 1-byte codes and which are multi-byte numbers (fp16 scales,
// f32 scales, 16- and 32-bit words). Each block header declares its table
// beside its struct (e.g. kBlockQ4_0Fields in quants/block_legacy.h), the
// type table (quants/type_traits.cc) points each type at it, and the compiler
// checks that the fields tile the block exactly.
//
// One table serves everything that touches block bytes without decoding them:
//   - byte order: a big-endian GGUF file (what ggml writes on a big-endian
//     host) stores every multi-byte field in big-endian order; ByteSwapBlocks
//     turns such blocks into the little-endian blocks every codec here reads
//     (and back: the swap is its own inverse);
//   - random test/benchmark blocks: HalfFieldOffsets (quants/half_fields.h)
//     lists the fp16 fields so that they can be given finite values.
//
// A multi-byte field is described the way ggml's own code reads and writes
// it, which is not always its declared C type: Q5_0/Q5_1 `qh` (uint8_t[4]) is
// one uint32 (memcpy'd to and from a uint32_t), IQ2_XXS `qs` (uint16_t[32]) is
// 16 uint32 words (the quantizer memcpy's uint32 words into it), the last 32
// bytes of IQ3_XXS `qs` are 8 uint32 scale-and-sign words, and IQ1_M
// `scales` (uint8_t[8]) is 4 uint16 (read and written through a uint16_t*).
// For the types gguf-py's gguf_convert_endian.py converts (F32, F16, BF16,
// Q4_0, Q8_0, Q4_K, Q6_K, MXFP4, NVFP4) the swap is exactly its swap.
#ifndef GGUFKIT_QUANTS_BLOCK_FIELDS_H_
#define GGUFKIT_QUANTS_BLOCK_FIELDS_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit {

// Bytes of one element of `kind` (1, 2, 4 or 8).
constexpr int FieldKindBytes(FieldKind kind) {
  switch (kind) {
    case FieldKind::kBytes:
      return 1;
    case FieldKind::kFp16:
    case FieldKind::kBf16:
    case FieldKind::kU16:
    case FieldKind::kI16:
      return 2;
    case FieldKind::kF32:
    case FieldKind::kU32:
    case FieldKind::kI32:
      return 4;
    case FieldKind::kF64:
    case FieldKind::kI64:
      return 8;
  }
  return 0;
}

// Whether `fields` tile [0, block_bytes) in order, without gaps or overlaps.
constexpr bool FieldsTileBlock(absl::Span<const BlockField> fields, size_t block_bytes) {
  size_t at = 0;
  for (const BlockField& f : fields) {
    if (f.offset != at || f.count == 0) return false;
    at += static_cast<size_t>(f.count) * static_cast<size_t>(FieldKindBytes(f.kind));
  }
  return at == block_bytes;
}

// A block struct's member as `count` elements of `kind` (offsetof the member
// plus `skip` bytes), for the tables beside the block structs.
#define GGUFKIT_BLOCK_FIELD(Block, member, count, kind)                               \
  ::ggufkit::BlockField {                                                             \
    static_cast<uint16_t>(offsetof(Block, member)), count, ::ggufkit::FieldKind::kind \
  }
#define GGUFKIT_BLOCK_FIELD_AT(Block, member, skip, count, kind)                               \
  ::ggufkit::BlockField {                                                                      \
    static_cast<uint16_t>(offsetof(Block, member) + (skip)), count, ::ggufkit::FieldKind::kind \
  }
// Fails to compile unless `table` covers sizeof(Block) exactly.
#define GGUFKIT_CHECK_BLOCK_FIELDS(table, Block)                  \
  static_assert(::ggufkit::FieldsTileBlock(table, sizeof(Block)), \
                #Block ": its field table must cover the block byte for byte")

// The element types: one element per "block".
inline constexpr BlockField kF32Fields[] = {{0, 1, FieldKind::kF32}};
inline constexpr BlockField kF16Fields[] = {{0, 1, FieldKind::kFp16}};
inline constexpr BlockField kBF16Fields[] = {{0, 1, FieldKind::kBf16}};
inline constexpr BlockField kF64Fields[] = {{0, 1, FieldKind::kF64}};
inline constexpr BlockField kI8Fields[] = {{0, 1, FieldKind::kBytes}};
inline constexpr BlockField kI16Fields[] = {{0, 1, FieldKind::kI16}};
inline constexpr BlockField kI32Fields[] = {{0, 1, FieldKind::kI32}};
inline constexpr BlockField kI64Fields[] = {{0, 1, FieldKind::kI64}};

// The fields of one block of `type` (GetTypeTraits(type).fields).
inline absl::Span<const BlockField> BlockFields(GgmlType type) {
  return GetTypeTraits(type).fields;
}

// Reverses the byte order of every multi-byte field of `n_blocks` blocks of
// `type` in place: big-endian blocks become little-endian ones and back. A
// no-op for types whose blocks are all single bytes (I8, MXFP4, NVFP4).
void ByteSwapBlocks(GgmlType type, uint8_t* blocks, size_t n_blocks);

// True when ByteSwapBlocks changes blocks of `type`.
bool HasMultiByteFields(GgmlType type);

}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_BLOCK_FIELDS_H_
