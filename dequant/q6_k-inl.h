// Q6_K SIMD dequantizer (per target). Format: quants/ and specs/formats.md.

#if defined(GGUFKIT_DEQUANT_Q6_K_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_Q6_K_INL_H_
#undef GGUFKIT_DEQUANT_Q6_K_INL_H_
#else
#define GGUFKIT_DEQUANT_Q6_K_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "dequant/output-inl.h"
#include "hwy/highway.h"
#include "quants/half.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

// Q6_K, 210 bytes per 256 weights:
//   byte 0..127   u8 ql[128]      (low 4 bits of each 6-bit code)
//   byte 128..191 u8 qh[64]       (high 2 bits, four codes per byte)
//   byte 192..207 int8 scales[16] (one per 16 weights)
//   byte 208..209 half d
// Half h (128 weights) uses ql + 64h, qh + 32h, scales + 8h; for l < 32 and
// s = l / 16:
//   w[l]      = (ql[l] & 15)    | ((qh[l] >> 0) & 3) << 4, scale scales[s]
//   w[l + 32] = (ql[l+32] & 15) | ((qh[l] >> 2) & 3) << 4, scale scales[s + 2]
//   w[l + 64] = (ql[l] >> 4)    | ((qh[l] >> 4) & 3) << 4, scale scales[s + 4]
//   w[l + 96] = (ql[l+32] >> 4) | ((qh[l] >> 6) & 3) << 4, scale scales[s + 6]
// y = (d * scale) * (w - 32), the product d * scale rounded first as in ggml.
// A vector of at most 16 lanes never straddles two scales (16 | l boundaries).
inline constexpr size_t kQ6_KBlockBytes = 210;

template <class Writer>
void DequantizeQ6_K(const uint8_t* blocks, int64_t n_blocks, void* out) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  const VI k15 = hn::Set(di, 15);
  const VI k48 = hn::Set(di, 48);  // the two high bits, once shifted to bits 4..5
  const VI k32 = hn::Set(di, 32);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * kQ6_KBlockBytes;
    const float d = LoadHalfFactor(block + 208);
    const size_t base = static_cast<size_t>(b) * 256;
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = block + 64 * h;
      const uint8_t* qh = block + 128 + 32 * h;
      const int8_t* scales = reinterpret_cast<const int8_t*>(block + 192 + 8 * h);
      const size_t out_h = base + 128 * static_cast<size_t>(h);
      for (size_t l = 0; l < 32; l += lanes) {
        const size_t s = l / 16;
        const VI low_a = LoadU8AsI32(ql + l);
        const VI low_b = LoadU8AsI32(ql + l + 32);
        const VI high = LoadU8AsI32(qh + l);
        const VI w0 = hn::Or(hn::And(low_a, k15), hn::And(hn::ShiftLeft<4>(high), k48));
        const VI w1 = hn::Or(hn::And(low_b, k15), hn::And(hn::ShiftLeft<2>(high), k48));
        const VI w2 = hn::Or(hn::ShiftRight<4>(low_a), hn::And(high, k48));
        const VI w3 = hn::Or(hn::ShiftRight<4>(low_b), hn::And(hn::ShiftRight<2>(high), k48));
        const VF ds0 = hn::Set(df, d * static_cast<float>(scales[s]));
        const VF ds1 = hn::Set(df, d * static_cast<float>(scales[s + 2]));
        const VF ds2 = hn::Set(df, d * static_cast<float>(scales[s + 4]));
        const VF ds3 = hn::Set(df, d * static_cast<float>(scales[s + 6]));
        Writer::Store(hn::Mul(ds0, ToFloat(hn::Sub(w0, k32))), out, out_h + l);
        Writer::Store(hn::Mul(ds1, ToFloat(hn::Sub(w1, k32))), out, out_h + l + 32);
        Writer::Store(hn::Mul(ds2, ToFloat(hn::Sub(w2, k32))), out, out_h + l + 64);
        Writer::Store(hn::Mul(ds3, ToFloat(hn::Sub(w3, k32))), out, out_h + l + 96);
      }
    }
  }
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_Q6_K_INL_H_
