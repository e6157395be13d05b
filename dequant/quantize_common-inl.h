// Per-target helpers shared by the SIMD quantizers: the reference's float ->
// int conversions (quants/quant_search_internal.h) reproduced lane by lane,
// for every input including NaN, Inf and out-of-range values.

#if defined(GGUFKIT_DEQUANT_QUANTIZE_COMMON_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_QUANTIZE_COMMON_INL_H_
#undef GGUFKIT_DEQUANT_QUANTIZE_COMMON_INL_H_
#else
#define GGUFKIT_DEQUANT_QUANTIZE_COMMON_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "ggufkit/dequant/output-inl.h"
#include "ggufkit/dequant/quantize_kernels.h"
#include "hwy/highway.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

using MF = hn::Mask<DF>;
using MI = hn::Mask<DI>;

// NearestInt: adding 1.5 * 2^23 leaves round-to-nearest-even of f in the low
// mantissa bits; the same bits are taken whatever f is (NaN and huge values
// included), so the garbage out of range is the reference's garbage.
// NearestIntBitsV is NearestInt + 2^22: the masked bits before the
// subtraction (0 .. 2^23 - 1).
HWY_INLINE VI NearestIntBitsV(VF f) {
  const DI di;
  const VI bits = hn::BitCast(di, hn::Add(f, hn::Set(DF(), 12582912.f)));
  return hn::And(bits, hn::Set(di, 0x007FFFFF));
}
HWY_INLINE VI NearestIntV(VF f) {
  return hn::Sub(NearestIntBitsV(f), hn::Set(DI(), 0x00400000));
}

// TruncToInt32: truncation toward zero, INT32_MIN for NaN and out of range
// (cvttss2si). Highway's ConvertTo "fixes" positive overflow to INT32_MAX, so
// out-of-range lanes are selected explicitly.
HWY_INLINE VI TruncToInt32V(VF f) {
  const DF df;
  const DI di;
  const MF in_range = hn::And(hn::Gt(f, hn::Set(df, -2147483904.0f)),
                              hn::Lt(f, hn::Set(df, 2147483648.0f)));
  return hn::IfThenElse(hn::RebindMask(di, in_range), hn::ConvertTo(di, f),
                        hn::Set(di, INT32_MIN));
}

// std::round (half away from zero); NaN and Inf pass through.
HWY_INLINE VF RoundHalfAwayV(VF f) {
  const DF df;
  const VF t = hn::Trunc(f);
  const MF up = hn::Ge(hn::Abs(hn::Sub(f, t)), hn::Set(df, 0.5f));
  return hn::IfThenElse(up, hn::Add(t, hn::CopySign(hn::Set(df, 1.0f), f)), t);
}

// (int8_t) of the low byte, as an int32.
HWY_INLINE VI SignExtendLowByte(VI v) { return hn::ShiftRight<24>(hn::ShiftLeft<24>(v)); }

// Stores the low bytes of Lanes(di) int32 lanes (each already 0..255).
HWY_INLINE void StoreLowBytes(VI v, uint8_t* p) {
  const hn::Rebind<uint8_t, DI> du8;
  hn::StoreU(hn::DemoteTo(du8, v), du8, p);
}

// Bit k of the result = lane k of `m` (k < Lanes).
HWY_INLINE uint32_t MaskBits(MI m) {
  uint8_t bytes[8] = {0};
  hn::StoreMaskBits(DI(), m, bytes);
  uint32_t bits = 0;
  std::memcpy(&bits, bytes, sizeof bits);
  return bits;
}

HWY_INLINE void StoreHalf(float f, uint8_t* p) {
  const uint16_t h = F32ToF16(f);
  std::memcpy(p, &h, sizeof h);
}

// A family's table entry: quantizer Fn for kType; kImatrix when Fn also
// handles a non-null imatrix.
template <GgmlType kType, quantize_internal::QuantizeFn kFn, bool kImatrix>
struct QuantizerEntry {
  static constexpr GgmlType type = kType;
  static constexpr bool imatrix = kImatrix;
  static constexpr quantize_internal::QuantizeFn fn = kFn;
};

template <class... Entries>
quantize_internal::QuantizeFn FindQuantizerInFamily(GgmlType type, bool with_imatrix) {
  quantize_internal::QuantizeFn found = nullptr;
  (void)((type == Entries::type && (!with_imatrix || Entries::imatrix) &&
          (found = Entries::fn) != nullptr) ||
         ...);
  return found;
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_QUANTIZE_COMMON_INL_H_
