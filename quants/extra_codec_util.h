// Internal helpers shared by the reference codecs of the IQ, ternary, FP4 and
// Q1_0/Q2_0 families (quants/*_codecs.cc). Not part of the public API.
#ifndef GGUFKIT_QUANTS_EXTRA_CODEC_UTIL_H_
#define GGUFKIT_QUANTS_EXTRA_CODEC_UTIL_H_

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>

namespace ggufkit::internal {

// The block structs mirror the on-disk bytes of a little-endian file; their
// multi-byte fields are read in host order.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "ggufkit's reference codecs assume a little-endian host");

// Blocks sit at any byte offset in a row (block sizes are 17, 18, 50, 54,
// ... bytes), so they are copied in and out instead of cast to a pointer:
// a misaligned struct access would be undefined behaviour.
template <typename Block>
inline Block LoadBlock(const uint8_t* blocks, int64_t index) {
  Block block;
  std::memcpy(&block, blocks + index * static_cast<int64_t>(sizeof(Block)), sizeof(Block));
  return block;
}

template <typename Block>
inline void StoreBlock(const Block& block, uint8_t* blocks, int64_t index) {
  std::memcpy(blocks + index * static_cast<int64_t>(sizeof(Block)), &block, sizeof(Block));
}

// float -> int32 truncation toward zero. ggml's quantizers convert floats
// with C casts that are undefined for NaN and out-of-range values; on x86
// (where the golden files were made) the conversion instruction returns
// INT32_MIN for those. We reproduce that result without the undefined
// behaviour, so a NaN in the input gives the same bytes as ggml and never
// traps under the sanitizers.
inline int32_t TruncateToInt32(float v) {
  if (!(v > -2147483648.0f && v < 2147483648.0f)) return std::numeric_limits<int32_t>::min();
  return static_cast<int32_t>(v);
}

// lroundf() without its undefined result for NaN / huge values: those give
// LONG_MIN on x86, whose low 32 bits (all ggml keeps, through an int) are 0.
inline int32_t RoundHalfAwayToInt32(float v) {
  if (!(std::fabs(v) < 1073741824.0f)) return 0;
  return static_cast<int32_t>(std::lround(v));
}

}  // namespace ggufkit::internal

#endif  // GGUFKIT_QUANTS_EXTRA_CODEC_UTIL_H_
