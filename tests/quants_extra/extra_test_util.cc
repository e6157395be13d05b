#include "tests/quants_extra/extra_test_util.h"

#include <cmath>

namespace ggufkit::testing {

std::vector<uint8_t> RandomBlocks(GgmlType type, int64_t n_blocks, uint32_t seed) {
  const TypeTraits& traits = GetTypeTraits(type);
  const size_t block_bytes = static_cast<size_t>(traits.type_size);
  std::mt19937 rng(seed);
  std::vector<uint8_t> data(static_cast<size_t>(n_blocks) * block_bytes);
  for (auto& b : data) b = static_cast<uint8_t>(rng());
  uint32_t counter = 0;  // next grid index to use
  for (int64_t i = 0; i < n_blocks; ++i) {
    uint8_t* b = data.data() + static_cast<size_t>(i) * block_bytes;
    switch (type) {
      case GgmlType::kTQ1_0:
        PutU16(b + 52, RandomFiniteHalf(rng));
        break;
      case GgmlType::kTQ2_0:
        PutU16(b + 64, RandomFiniteHalf(rng));
        break;
      case GgmlType::kMXFP4:
      case GgmlType::kNVFP4:
        break;  // every scale byte is finite; e = 255 (overflow) is tested apart
      case GgmlType::kIQ1_M: {
        const uint16_t h = RandomFiniteHalf(rng);
        for (int k = 0; k < 4; ++k) {
          const uint16_t sc = GetU16(b + 48 + 2 * k);
          PutU16(b + 48 + 2 * k,
                 static_cast<uint16_t>((sc & 0x0FFF) | (((h >> (4 * k)) & 0xF) << 12)));
        }
        for (int g = 0; g < 32; ++g, ++counter) {  // 11-bit indices, 2048 entries
          const uint32_t index = counter % 2048;
          b[g] = static_cast<uint8_t>(index);
          uint8_t& qh = b[32 + g / 2];
          const int shift = 4 * (g % 2);
          qh = static_cast<uint8_t>((qh & ~(7 << shift)) | ((index >> 8) << shift));
        }
        break;
      }
      default:
        PutU16(b, RandomFiniteHalf(rng));
        break;
    }
    switch (type) {
      case GgmlType::kIQ2_XXS:
        for (int g = 0; g < 8; ++g) {
          for (int l = 0; l < 4; ++l) b[2 + 8 * g + l] = static_cast<uint8_t>(counter++ % 256);
        }
        break;
      case GgmlType::kIQ2_XS:
        for (int l = 0; l < 32; ++l) {
          const uint16_t q = GetU16(b + 2 + 2 * l);
          PutU16(b + 2 + 2 * l, static_cast<uint16_t>((q & ~511u) | (counter++ % 512)));
        }
        break;
      case GgmlType::kIQ2_S:
        for (int l = 0; l < 32; ++l) {
          const uint32_t index = counter++ % 1024;
          b[2 + l] = static_cast<uint8_t>(index);
          uint8_t& qh = b[66 + l / 4];
          const int shift = 2 * (l % 4);
          qh = static_cast<uint8_t>((qh & ~(3 << shift)) | ((index >> 8) << shift));
        }
        break;
      case GgmlType::kIQ3_XXS:
        for (int l = 0; l < 64; ++l) b[2 + l] = static_cast<uint8_t>(counter++ % 256);
        break;
      case GgmlType::kIQ3_S:
        for (int l = 0; l < 64; ++l) {
          const uint32_t index = counter++ % 512;
          b[2 + l] = static_cast<uint8_t>(index);
          uint8_t& qh = b[66 + l / 8];
          qh = static_cast<uint8_t>((qh & ~(1 << (l % 8))) | ((index >> 8) << (l % 8)));
        }
        break;
      case GgmlType::kIQ1_S:
        for (int l = 0; l < 32; ++l) {
          const uint32_t index = counter++ % 2048;
          b[2 + l] = static_cast<uint8_t>(index);
          const uint16_t qh = GetU16(b + 34 + 2 * (l / 4));
          const int shift = 3 * (l % 4);
          PutU16(b + 34 + 2 * (l / 4),
                 static_cast<uint16_t>((qh & ~(7u << shift)) | ((index >> 8) << shift)));
        }
        break;
      default:
        break;
    }
  }
  return data;
}

std::vector<float> StressInput(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<float> x(static_cast<size_t>(n));
  for (int64_t b = 0; b * 256 < n; ++b) {
    const int block_exponent = static_cast<int>(rng() % 181) - 140;
    const int kind = static_cast<int>(b % 4);
    for (int64_t j = 0; j < 256 && b * 256 + j < n; ++j) {
      // Uniform in (-1, 1) with 24 significant bits, scaled by the block's power of two.
      const int32_t r = static_cast<int32_t>(rng() >> 7) - (1 << 24);
      float v = std::ldexp(static_cast<float>(r), block_exponent - 24);
      if (kind == 1 && j % 5 == 0) v = std::ldexp(1.0f, static_cast<int>(rng() % 41) - 20);
      if (kind == 2 && j % 5 == 0) {
        v = std::nextafter(std::ldexp(1.0f, static_cast<int>(rng() % 41) - 20), 0.0f);
      }
      if (kind == 3 && j % 3 == 0) v = (j % 2) ? -0.0f : 0.0f;
      x[static_cast<size_t>(b * 256 + j)] = v;
    }
  }
  return x;
}

}  // namespace ggufkit::testing
