// Test helpers: random but well-formed blocks of every type (random bytes
// with every fp16/f32 scale replaced by a random finite value, subnormals
// included), so that decoders can be compared bit for bit. The fp16 fields
// come from HalfFieldOffsets (quants/block_fields.h's table).
#ifndef GGUFKIT_TESTS_QUANTS_TEST_BLOCKS_H_
#define GGUFKIT_TESTS_QUANTS_TEST_BLOCKS_H_

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

#include "ggufkit/quants/half_fields.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit::testing {

// A random finite binary16 (any sign, exponent field 0..30).
inline uint16_t RandomFiniteHalf(std::mt19937& rng) {
  const uint32_t sign = rng() & 1u;
  const uint32_t exp = rng() % 31u;
  const uint32_t mant = rng() & 0x3FFu;
  return static_cast<uint16_t>((sign << 15) | (exp << 10) | mant);
}

// n_blocks random blocks of `type` with finite scales.
inline std::vector<uint8_t> RandomBlocks(GgmlType type, int64_t n_blocks, uint32_t seed) {
  std::mt19937 rng(seed);
  const int64_t bytes = GetTypeTraits(type).type_size;
  std::vector<uint8_t> out(static_cast<size_t>(n_blocks * bytes));
  for (auto& b : out) b = static_cast<uint8_t>(rng());
  for (int64_t i = 0; i < n_blocks; ++i) {
    uint8_t* block = out.data() + i * bytes;
    for (uint16_t off : HalfFieldOffsets(type)) {
      const uint16_t h = RandomFiniteHalf(rng);
      std::memcpy(block + off, &h, 2);
    }
    if (type == GgmlType::kF16) {
      const uint16_t h = RandomFiniteHalf(rng);
      std::memcpy(block, &h, 2);
    }
    if (type == GgmlType::kIQ1_M) {
      // The fp16 scale is the top nibble of each of the 4 uint16 `scales`
      // words (bytes 48..55): clear bit 14 of the half (bit 14 of the last
      // word) so that its exponent is never all ones.
      block[55] = static_cast<uint8_t>(block[55] & ~0x40u);
    }
    if (type == GgmlType::kQ8_K) {
      // f32 scale: a modest finite value (any sign), as the quantizer makes.
      const float d = std::uniform_real_distribution<float>(-0.05f, 0.05f)(rng);
      std::memcpy(block, &d, 4);
    }
    if (type == GgmlType::kBF16) {
      // Keep the exponent below all-ones: no NaN / Inf.
      uint16_t v;
      std::memcpy(&v, block, 2);
      if (((v >> 7) & 0xFF) == 0xFF) v = static_cast<uint16_t>(v & ~(1u << 7));
      std::memcpy(block, &v, 2);
    }
  }
  return out;
}

}  // namespace ggufkit::testing

#endif  // GGUFKIT_TESTS_QUANTS_TEST_BLOCKS_H_
