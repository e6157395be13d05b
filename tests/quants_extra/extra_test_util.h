// Shared helpers of the quants_extra tests: calling the registered reference
// codecs, comparing float bit patterns, and building random valid blocks.
#ifndef GGUFKIT_TESTS_QUANTS_EXTRA_EXTRA_TEST_UTIL_H_
#define GGUFKIT_TESTS_QUANTS_EXTRA_EXTRA_TEST_UTIL_H_

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit::testing {

// Every type this family registers, with whether it has a quantizer and
// golden files.
struct ExtraType {
  GgmlType type;
  const char* gguf_py_name;  // gguf.GGMLQuantizationType member, "" if none
  bool has_quantizer;
  bool has_golden;
};

inline const std::vector<ExtraType>& ExtraTypes() {
  static const std::vector<ExtraType> types = {
      {GgmlType::kQ1_0, "", true, true},
      {GgmlType::kQ2_0, "", true, true},
      {GgmlType::kIQ4_NL, "IQ4_NL", true, true},
      {GgmlType::kIQ4_XS, "IQ4_XS", true, true},
      {GgmlType::kTQ1_0, "TQ1_0", true, true},
      {GgmlType::kTQ2_0, "TQ2_0", true, true},
      {GgmlType::kMXFP4, "MXFP4", true, true},
      {GgmlType::kNVFP4, "NVFP4", true, true},
      {GgmlType::kIQ2_XXS, "IQ2_XXS", false, false},
      {GgmlType::kIQ2_XS, "IQ2_XS", false, false},
      {GgmlType::kIQ2_S, "IQ2_S", false, false},
      {GgmlType::kIQ3_XXS, "IQ3_XXS", false, false},
      {GgmlType::kIQ3_S, "IQ3_S", false, false},
      {GgmlType::kIQ1_S, "IQ1_S", false, false},
      {GgmlType::kIQ1_M, "IQ1_M", false, false},
  };
  return types;
}

inline std::vector<float> DequantizeWithReference(GgmlType type, const uint8_t* blocks,
                                                  int64_t n_elements) {
  std::vector<float> out(static_cast<size_t>(n_elements));
  const ReferenceCodec& codec = GetReferenceCodec(type);
  EXPECT_NE(codec.dequantize, nullptr) << GgmlTypeName(type);
  if (codec.dequantize != nullptr) codec.dequantize(blocks, out.data(), n_elements);
  return out;
}

// Index of the first element whose bit pattern differs, or -1.
inline int64_t FirstBitMismatch(const float* a, const float* b, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (FloatBits(a[i]) != FloatBits(b[i])) return i;
  }
  return -1;
}

inline std::string DescribeMismatch(const float* got, const float* want, int64_t i) {
  char buf[160];
  std::snprintf(buf, sizeof buf, "element %lld: got %.9g (0x%08x), want %.9g (0x%08x)",
                static_cast<long long>(i), static_cast<double>(got[i]), FloatBits(got[i]),
                static_cast<double>(want[i]), FloatBits(want[i]));
  return buf;
}

// Test-name generator for suites parameterized by type ("q1_0", "iq4_nl").
inline std::string TypeParamName(const ::testing::TestParamInfo<GgmlType>& param_info) {
  return std::string(GgmlTypeName(param_info.param));
}

// A random finite half (any sign, subnormals and zeros included).
inline uint16_t RandomFiniteHalf(std::mt19937& rng) {
  uint16_t h = static_cast<uint16_t>(rng());
  if (((h >> 10) & 0x1F) == 0x1F) h = static_cast<uint16_t>(h & ~0x4000u);
  return h;
}

inline void PutU16(uint8_t* p, uint16_t v) { std::memcpy(p, &v, 2); }
inline uint16_t GetU16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}

// n_blocks random blocks of `type` whose fp16 scales are finite (no NaN/Inf
// in the output) and whose grid indices walk every grid entry in order, so a
// few hundred blocks use every codebook row.
std::vector<uint8_t> RandomBlocks(GgmlType type, int64_t n_blocks, uint32_t seed);

// A portable (bit-exact on every platform: integer arithmetic and ldexp
// only) hard input for quantizers: blocks of 256 with magnitudes from 2^-140
// (subnormal) to 2^40, exact powers of two and their float predecessors
// (where floor(log2f) decisions flip), zeros and -0.0.
std::vector<float> StressInput(int64_t n, uint32_t seed);

// 64-bit FNV-1a of a byte range: lets a test hold expected output of ggml
// for large inputs without checking in binary files.
inline uint64_t Fnv1a64(const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < size; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace ggufkit::testing

#endif  // GGUFKIT_TESTS_QUANTS_EXTRA_EXTRA_TEST_UTIL_H_
