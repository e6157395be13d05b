// F32 / F16 / BF16 tensors to f32 / f16 / bf16 output (per target).

#if defined(GGUFKIT_DEQUANT_FLOAT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_FLOAT_INL_H_
#undef GGUFKIT_DEQUANT_FLOAT_INL_H_
#else
#define GGUFKIT_DEQUANT_FLOAT_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ggufkit/dequant/output-inl.h"
#include "ggufkit/quants/half.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

// F32, F16 and BF16 tensors: one element per "block", so n_blocks is an
// element count and may end in a partial vector; the tail goes through the
// scalar conversions of quants/half.h, which the vector code reproduces.
// Same-type copies (F32 -> f32, F16 -> f16, BF16 -> bf16) are memcpy.

template <class Writer>
HWY_INLINE void ConvertF32(const uint8_t* in, int64_t n, Writer& out) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  const size_t count = static_cast<size_t>(n);
  const float* x = reinterpret_cast<const float*>(in);
  size_t i = 0;
  for (; i + lanes <= count; i += lanes) out.Store(hn::LoadU(df, x + i), i);
  for (; i < count; ++i) {
    float f;
    std::memcpy(&f, in + 4 * i, 4);
    out.StoreOne(f, i);
  }
}

// binary16 -> float, exact, as F16ToF32 in quants/half.h. AVX2 and up:
// F16C's vcvtph2ps, which is exact except that it quiets signaling NaNs;
// ggml and half.h keep the payload as it is, so a group of vectors that
// holds a NaN (rare in weights) is converted again with integer bit
// manipulation. Below AVX2, that bit manipulation throughout (Highway 1.0.3's
// PromoteTo emulation there also mishandles inf and NaN). kGroup vectors of
// Lanes(df) halves at x go to f[0 .. kGroup).
template <size_t kGroup>
HWY_INLINE void LoadF16Group(const uint16_t* x, VF* f) {
  const DF d;
  const size_t lanes = hn::Lanes(d);
#if HWY_TARGET <= HWY_AVX2
  const hn::Rebind<hwy::float16_t, DF> df16;
  auto any_nan = hn::IsNaN(
      f[0] = hn::PromoteTo(d, hn::LoadU(df16, reinterpret_cast<const hwy::float16_t*>(x))));
  for (size_t k = 1; k < kGroup; ++k) {
    f[k] =
        hn::PromoteTo(d, hn::LoadU(df16, reinterpret_cast<const hwy::float16_t*>(x + k * lanes)));
    any_nan = hn::Or(any_nan, hn::IsNaN(f[k]));
  }
  if (HWY_LIKELY(hn::AllFalse(d, any_nan))) return;
#endif
  const DI di;
  const hn::Rebind<uint16_t, DI> du16;
  for (size_t k = 0; k < kGroup; ++k) {
    f[k] = F16BitsToF32(hn::PromoteTo(di, hn::LoadU(du16, x + k * lanes)));
  }
}

template <class Writer>
HWY_INLINE void ConvertF16(const uint8_t* in, int64_t n, Writer& out) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  const size_t count = static_cast<size_t>(n);
  const uint16_t* x = reinterpret_cast<const uint16_t*>(in);
  size_t i = 0;
  // Four vectors per iteration: the loop overhead is a large part of one.
  for (; i + 4 * lanes <= count; i += 4 * lanes) {
    VF f[4];
    LoadF16Group<4>(x + i, f);
    for (size_t k = 0; k < 4; ++k) out.Store(f[k], i + k * lanes);
  }
  for (; i + lanes <= count; i += lanes) {
    VF f[1];
    LoadF16Group<1>(x + i, f);
    out.Store(f[0], i);
  }
  for (; i < count; ++i) {
    uint16_t h;
    std::memcpy(&h, in + 2 * i, 2);
    out.StoreOne(F16ToF32(h), i);
  }
}

template <class Writer>
HWY_INLINE void ConvertBF16(const uint8_t* in, int64_t n, Writer& out) {
  const DF df;
  const DI di;
  const hn::Rebind<uint16_t, DI> du16;
  const size_t lanes = hn::Lanes(di);
  const size_t count = static_cast<size_t>(n);
  const uint16_t* x = reinterpret_cast<const uint16_t*>(in);
  size_t i = 0;
#if HWY_TARGET <= HWY_AVX3
  if constexpr (std::is_same_v<Writer, WriteF32>) {
    // Cached f32 output on AVX3: 256-bit widenings and stores are faster
    // than 512-bit ones here (Zen 4: 0.95x memset in cache instead of 0.8x).
    const hn::Half<DI> dh;
    const hn::Half<DF> dhf;
    const hn::Rebind<uint16_t, decltype(dh)> dh16;
    const size_t half = hn::Lanes(dh);
    float* o = out.ptr();
    for (; i + 4 * half <= count; i += 4 * half) {
      for (size_t k = 0; k < 4; ++k) {
        const auto bits = hn::ShiftLeft<16>(hn::PromoteTo(dh, hn::LoadU(dh16, x + i + k * half)));
        hn::StoreU(hn::BitCast(dhf, bits), dhf, o + i + k * half);
      }
    }
  }
#endif
  // Four vectors per iteration: the loop overhead is a large part of one.
  for (; i + 4 * lanes <= count; i += 4 * lanes) {
    VI bits[4];
    for (size_t k = 0; k < 4; ++k) {
      bits[k] = hn::ShiftLeft<16>(hn::PromoteTo(di, hn::LoadU(du16, x + i + k * lanes)));
    }
    for (size_t k = 0; k < 4; ++k) out.Store(hn::BitCast(df, bits[k]), i + k * lanes);
  }
  for (; i + lanes <= count; i += lanes) {
    const VI bits = hn::ShiftLeft<16>(hn::PromoteTo(di, hn::LoadU(du16, x + i)));
    out.Store(hn::BitCast(df, bits), i);
  }
  for (; i < count; ++i) {
    uint16_t h;
    std::memcpy(&h, in + 2 * i, 2);
    out.StoreOne(BF16ToF32(h), i);
  }
}

template <size_t kElementBytes>
void CopyElements(const uint8_t* in, int64_t n, void* out) {
  std::memcpy(out, in, static_cast<size_t>(n) * kElementBytes);
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_FLOAT_INL_H_
