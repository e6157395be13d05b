// A plain scalar dequantizer for every format the SIMD kernels cover, written
// from the format descriptions (specs/formats.md, ggml's ggml-quants.c
// semantics) for the tests and the benchmark baseline. It is itself checked
// against ggml's golden output (golden/ggml/<type>.deq.f32) in
// dequant_test.cc, so it is a faithful stand-in while the quants/ reference
// codecs are not all registered; where GetReferenceCodec(type) has one, the
// tests compare against that too.
//
// Evaluation order follows ggml: products and sums are separate roundings
// (the project builds with -ffp-contract=off).
#ifndef GGUFKIT_TESTS_DEQUANT_SCALAR_REFERENCE_H_
#define GGUFKIT_TESTS_DEQUANT_SCALAR_REFERENCE_H_

#include <cstdint>
#include <cstring>

#include "quants/half.h"
#include "quants/type_traits.h"

namespace ggufkit::testing {

inline float HalfAt(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return F16ToF32(h);
}

inline void ScaleMinK4(const uint8_t* q, int j, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};
inline constexpr int8_t kMxfp4Values[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                            0, -1, -2, -3, -4, -6, -8, -12};

// Dequantizes n elements (whole blocks) of `type` into y. Returns false for a
// type this file does not know.
inline bool ScalarDequantize(GgmlType type, const uint8_t* x, float* y, int64_t n) {
  switch (type) {
    case GgmlType::kF32:
      std::memcpy(y, x, static_cast<size_t>(n) * 4);
      return true;
    case GgmlType::kF16:
      for (int64_t i = 0; i < n; ++i) y[i] = HalfAt(x + 2 * i);
      return true;
    case GgmlType::kBF16:
      for (int64_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, x + 2 * i, 2);
        y[i] = BF16ToF32(h);
      }
      return true;
    case GgmlType::kQ8_0:
      for (int64_t b = 0; b < n / 32; ++b, x += 34, y += 32) {
        const float d = HalfAt(x);
        for (int j = 0; j < 32; ++j) y[j] = static_cast<int8_t>(x[2 + j]) * d;
      }
      return true;
    case GgmlType::kQ4_0:
      for (int64_t b = 0; b < n / 32; ++b, x += 18, y += 32) {
        const float d = HalfAt(x);
        for (int j = 0; j < 16; ++j) {
          y[j] = ((x[2 + j] & 0xF) - 8) * d;
          y[j + 16] = ((x[2 + j] >> 4) - 8) * d;
        }
      }
      return true;
    case GgmlType::kQ4_1:
      for (int64_t b = 0; b < n / 32; ++b, x += 20, y += 32) {
        const float d = HalfAt(x), m = HalfAt(x + 2);
        for (int j = 0; j < 16; ++j) {
          y[j] = (x[4 + j] & 0xF) * d + m;
          y[j + 16] = (x[4 + j] >> 4) * d + m;
        }
      }
      return true;
    case GgmlType::kQ5_0:
    case GgmlType::kQ5_1: {
      const bool has_min = type == GgmlType::kQ5_1;
      const int bytes = has_min ? 24 : 22;
      for (int64_t b = 0; b < n / 32; ++b, x += bytes, y += 32) {
        const float d = HalfAt(x), m = has_min ? HalfAt(x + 2) : 0.0f;
        const uint8_t* p = x + (has_min ? 4 : 2);
        uint32_t qh;
        std::memcpy(&qh, p, 4);
        const uint8_t* qs = p + 4;
        for (int j = 0; j < 16; ++j) {
          const int lo = (qs[j] & 0xF) | (((qh >> j) & 1) << 4);
          const int hi = (qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
          if (has_min) {
            y[j] = lo * d + m;
            y[j + 16] = hi * d + m;
          } else {
            y[j] = (lo - 16) * d;
            y[j + 16] = (hi - 16) * d;
          }
        }
      }
      return true;
    }
    case GgmlType::kQ2_K:
      for (int64_t b = 0; b < n / 256; ++b, x += 84) {
        const uint8_t* scales = x;
        const uint8_t* q = x + 16;
        const float d = HalfAt(x + 80), dmin = HalfAt(x + 82);
        int is = 0;
        for (int half = 0; half < 2; ++half, q += 32) {
          for (int shift = 0; shift < 8; shift += 2) {
            for (int g = 0; g < 2; ++g) {
              const uint8_t sc = scales[is++];
              const float dl = d * (sc & 0xF), ml = dmin * (sc >> 4);
              for (int l = 0; l < 16; ++l) *y++ = dl * ((q[l + 16 * g] >> shift) & 3) - ml;
            }
          }
        }
      }
      return true;
    case GgmlType::kQ3_K:
      for (int64_t b = 0; b < n / 256; ++b, x += 110) {
        const uint8_t* hm = x;
        const uint8_t* q = x + 32;
        const uint8_t* s = x + 96;
        const float d = HalfAt(x + 108);
        int8_t scales[16];
        for (int i = 0; i < 16; ++i) {
          const int low = i < 8 ? (s[i] & 0xF) : (s[i - 8] >> 4);
          const int high = (s[8 + i % 4] >> (2 * (i / 4))) & 3;
          scales[i] = static_cast<int8_t>(low | (high << 4));
        }
        int is = 0;
        for (int half = 0; half < 2; ++half, q += 32) {
          for (int j = 0; j < 4; ++j) {
            const int bit = 4 * half + j;
            for (int g = 0; g < 2; ++g) {
              const float dl = d * (scales[is++] - 32);
              for (int l = 0; l < 16; ++l) {
                const int v =
                    ((q[l + 16 * g] >> (2 * j)) & 3) - (((hm[l + 16 * g] >> bit) & 1) ? 0 : 4);
                *y++ = dl * v;
              }
            }
          }
        }
      }
      return true;
    case GgmlType::kQ4_K:
    case GgmlType::kQ5_K: {
      const bool five = type == GgmlType::kQ5_K;
      const int bytes = five ? 176 : 144;
      for (int64_t b = 0; b < n / 256; ++b, x += bytes) {
        const float d = HalfAt(x), dmin = HalfAt(x + 2);
        const uint8_t* scales = x + 4;
        const uint8_t* qh = x + 16;
        const uint8_t* q = x + (five ? 48 : 16);
        for (int c = 0; c < 4; ++c, q += 32) {
          int sc, m;
          ScaleMinK4(scales, 2 * c, &sc, &m);
          const float d1 = d * sc, m1 = dmin * m;
          ScaleMinK4(scales, 2 * c + 1, &sc, &m);
          const float d2 = d * sc, m2 = dmin * m;
          for (int l = 0; l < 32; ++l) {
            const int h = five ? ((qh[l] >> (2 * c)) & 1) * 16 : 0;
            *y++ = d1 * ((q[l] & 0xF) + h) - m1;
          }
          for (int l = 0; l < 32; ++l) {
            const int h = five ? ((qh[l] >> (2 * c + 1)) & 1) * 16 : 0;
            *y++ = d2 * ((q[l] >> 4) + h) - m2;
          }
        }
      }
      return true;
    }
    case GgmlType::kQ6_K:
      for (int64_t b = 0; b < n / 256; ++b, x += 210) {
        const float d = HalfAt(x + 208);
        for (int h = 0; h < 2; ++h, y += 128) {
          const uint8_t* ql = x + 64 * h;
          const uint8_t* qh = x + 128 + 32 * h;
          const int8_t* sc = reinterpret_cast<const int8_t*>(x + 192 + 8 * h);
          for (int l = 0; l < 32; ++l) {
            const int s = l / 16;
            const int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
            const int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
            const int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
            const int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
            y[l] = d * sc[s] * q1;
            y[l + 32] = d * sc[s + 2] * q2;
            y[l + 64] = d * sc[s + 4] * q3;
            y[l + 96] = d * sc[s + 6] * q4;
          }
        }
      }
      return true;
    case GgmlType::kQ1_0:
      for (int64_t b = 0; b < n / 128; ++b, x += 18, y += 128) {
        const float d = HalfAt(x);
        for (int j = 0; j < 128; ++j) y[j] = ((x[2 + j / 8] >> (j % 8)) & 1) ? d : -d;
      }
      return true;
    case GgmlType::kIQ4_NL:
      for (int64_t b = 0; b < n / 32; ++b, x += 18, y += 32) {
        const float d = HalfAt(x);
        for (int j = 0; j < 16; ++j) {
          y[j] = d * kIq4nlValues[x[2 + j] & 0xF];
          y[j + 16] = d * kIq4nlValues[x[2 + j] >> 4];
        }
      }
      return true;
    case GgmlType::kIQ4_XS:
      for (int64_t b = 0; b < n / 256; ++b, x += 136) {
        const float d = HalfAt(x);
        uint16_t scales_h;
        std::memcpy(&scales_h, x + 2, 2);
        const uint8_t* scales_l = x + 4;
        const uint8_t* qs = x + 8;
        for (int ib = 0; ib < 8; ++ib, qs += 16, y += 32) {
          const int ls =
              ((scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((scales_h >> (2 * ib)) & 3) << 4);
          const float dl = d * (ls - 32);
          for (int j = 0; j < 16; ++j) {
            y[j] = dl * kIq4nlValues[qs[j] & 0xF];
            y[j + 16] = dl * kIq4nlValues[qs[j] >> 4];
          }
        }
      }
      return true;
    case GgmlType::kMXFP4:
      for (int64_t b = 0; b < n / 32; ++b, x += 17, y += 32) {
        const uint32_t e = x[0];
        const float d = BitsToFloat(e < 2 ? (0x00200000u << e) : ((e - 1) << 23));
        for (int j = 0; j < 16; ++j) {
          y[j] = kMxfp4Values[x[1 + j] & 0xF] * d;
          y[j + 16] = kMxfp4Values[x[1 + j] >> 4] * d;
        }
      }
      return true;
    case GgmlType::kTQ2_0:
      for (int64_t b = 0; b < n / 256; ++b, x += 66) {
        const float d = HalfAt(x + 64);
        for (int j = 0; j < 64; j += 32) {
          for (int l = 0; l < 4; ++l) {
            for (int m = 0; m < 32; ++m)
              *y++ = static_cast<float>(((x[j + m] >> (2 * l)) & 3) - 1) * d;
          }
        }
      }
      return true;
    default:
      return false;
  }
}

}  // namespace ggufkit::testing

#endif  // GGUFKIT_TESTS_DEQUANT_SCALAR_REFERENCE_H_
