// The field layout of one block of every ggml type: which bytes are 1-byte
// codes and which are multi-byte numbers (fp16 scales, f32 scales, 16- and
// 32-bit words), derived from the block structs in quants/block_*.h.
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
//
// Every type in the type table (quants/type_traits.h) has an entry whose
// fields cover its block exactly (tests/quants/block_fields_test.cc checks
// it): a new format cannot be forgotten here.
#ifndef GGUFKIT_QUANTS_BLOCK_FIELDS_H_
#define GGUFKIT_QUANTS_BLOCK_FIELDS_H_

#include <cstddef>
#include <cstdint>

#include "absl/types/span.h"
#include "quants/type_traits.h"

namespace ggufkit {

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

// Bytes of one element of `kind` (1, 2, 4 or 8).
int FieldKindBytes(FieldKind kind);

// `count` consecutive elements of `kind` starting `offset` bytes into the block.
struct BlockField {
  uint16_t offset;
  uint16_t count;
  FieldKind kind;
};

// The fields of one block of `type`, ascending and contiguous from byte 0 to
// the block size.
absl::Span<const BlockField> BlockFields(GgmlType type);

// Reverses the byte order of every multi-byte field of `n_blocks` blocks of
// `type` in place: big-endian blocks become little-endian ones and back. A
// no-op for types whose blocks are all single bytes (I8, MXFP4, NVFP4).
void ByteSwapBlocks(GgmlType type, uint8_t* blocks, size_t n_blocks);

// True when ByteSwapBlocks changes blocks of `type`.
bool HasMultiByteFields(GgmlType type);

}  // namespace ggufkit

#endif  // GGUFKIT_QUANTS_BLOCK_FIELDS_H_
