// Q8_0 SIMD dequantizer (per target). Format: quants/block_*.h and docs/types.md.

#if defined(GGUFKIT_DEQUANT_Q8_0_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_Q8_0_INL_H_
#undef GGUFKIT_DEQUANT_Q8_0_INL_H_
#else
#define GGUFKIT_DEQUANT_Q8_0_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ggufkit/dequant/output-inl.h"
#include "hwy/highway.h"
#include "ggufkit/quants/half.h"

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
#if HWY_TARGET != HWY_SCALAR

// Q8_0, 34 bytes per 32 weights:
//   byte 0..1  half d
//   byte 2..33 int8 qs[32]
// y[i] = d * qs[i]. The product of a float and a small integer converted to
// float is the same in any order, so one vector multiply per Lanes(df).
inline constexpr size_t kQ8_0BlockBytes = 34;

template <class Writer>
HWY_INLINE void DequantizeQ8_0Plain(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const size_t lanes = hn::Lanes(DF());
  ScalesNoted(out);
  ForEachHalfFactor(blocks, kQ8_0BlockBytes, 0, n_blocks, [&](int64_t b, VF d) HWY_ATTR {
    const uint8_t* block = blocks + b * kQ8_0BlockBytes;
    NoteHalfScale(out, block);
    const size_t base = static_cast<size_t>(b) * 32;
    for (size_t i = 0; i < 32; i += lanes) {
      out.Store(hn::Mul(ToFloat(LoadI8AsI32(block + 2 + i)), d), base + i);
    }
  });
}

// Misaligned cached f32 output (ShiftedF32Output): output vector k is
// elements 32 b + t L - s .. + L - 1 (L = Lanes(df), s = shift, t = 0 ..
// 32 / L - 1). For t > 0 they lie in block b: one load of the codes at that
// offset. For t = 0 they are the last s of block b - 1 and the first L - s
// of block b, whose codes are 2 bytes (b's d) apart, and lanes j < s take
// b - 1's d (Q8_0Straddle). Same products as the plain loop.
//
// Q8_0Straddle builds that vector's codes and scales. AVX2: one 16-byte load
// at block - s, its bytes j < s kept and the others taken 2 further on
// (vpshufb), and the scales as one vpermps of d_prev and d interleaved
// (vunpcklps). With two variable blends instead (vpblendvb, vblendvps:
// three operations each on Intel) AVX2 wrote this output slower than
// with split stores. Intel Xeon, 256 KiB, x aligned at +4 / +16, 8
// alternated rounds, the machine calm in some and up to 40 % slower in
// others: 0.89-1.00 / 0.89-1.00 (medians 0.97 / 0.96), against the blends'
// 0.83-0.95 / 0.83-0.95 (0.86 / 0.91) and the plain loop's split stores
// 0.86-1.00 / 0.85-1.00 (0.94 / 0.95; docs/performance.md). Other targets:
// the two loads blended per byte and the scales per lane (FirstN: a mask
// register on AVX3).
#if HWY_TARGET == HWY_AVX2
class Q8_0Straddle {
 public:
  explicit Q8_0Straddle(size_t s) : s_(s) {
    alignas(16) uint8_t bytes[16];
    alignas(32) int32_t lanes[8];
    for (size_t j = 0; j < 16; ++j) {
      bytes[j] = static_cast<uint8_t>(j < 8 ? j + (j < s ? 0 : 2) : 0x80);
    }
    for (size_t j = 0; j < 8; ++j) lanes[j] = j < s ? 0 : 1;
    code_index_ = _mm_load_si128(reinterpret_cast<const __m128i*>(bytes));
    scale_index_ = _mm256_load_si256(reinterpret_cast<const __m256i*>(lanes));
  }
  // 16 bytes from block - s (s >= 1): inside blocks b - 1 and b.
  HWY_INLINE VI Codes(const uint8_t* block) const {
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block - s_));
    return VI{_mm256_cvtepi8_epi32(_mm_shuffle_epi8(raw, code_index_))};
  }
  HWY_INLINE VF Scales(VF d, VF d_prev) const {
    return VF{_mm256_permutevar8x32_ps(_mm256_unpacklo_ps(d_prev.raw, d.raw), scale_index_)};
  }
  size_t shift() const { return s_; }

 private:
  size_t s_;
  __m128i code_index_;   // bytes j < s: j; j < 8: j + 2
  __m256i scale_index_;  // lanes j < s: 0 (d_prev); the others 1 (d)
};
#else
class Q8_0Straddle {
 public:
  explicit Q8_0Straddle(size_t s) : s_(s) {}
  HWY_INLINE VI Codes(const uint8_t* block) const {
    const hn::Rebind<int8_t, DI> d8;
    return hn::PromoteTo(
        DI(), hn::IfThenElse(hn::FirstN(d8, s_),
                             hn::LoadU(d8, reinterpret_cast<const int8_t*>(block - s_)),
                             hn::LoadU(d8, reinterpret_cast<const int8_t*>(block + 2 - s_))));
  }
  HWY_INLINE VF Scales(VF d, VF d_prev) const {
    return hn::IfThenElse(hn::FirstN(DF(), s_), d_prev, d);
  }
  size_t shift() const { return s_; }

 private:
  size_t s_;
};
#endif

// The aligned vectors of block b >= 1 from `line` (element 32 b - s) on.
HWY_INLINE void Q8_0ShiftedBlock(const uint8_t* block, const Q8_0Straddle& straddle, VF d,
                                 VF d_prev, float* line) {
  const DF df;
  const size_t s = straddle.shift();
  hn::Store(hn::Mul(ToFloat(straddle.Codes(block)), straddle.Scales(d, d_prev)), df, line);
  for (size_t t = hn::Lanes(df); t < 32; t += hn::Lanes(df)) {
    hn::Store(hn::Mul(ToFloat(LoadI8AsI32(block + 2 + t - s)), d), df, line + t);
  }
}

HWY_INLINE void DequantizeQ8_0Shifted(const uint8_t* blocks, int64_t n_blocks, float* out_ptr) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
  const ShiftedF32Output o(out_ptr);
  if (o.shift == 0 || n_blocks == 0) {
    WriteF32 plain(out_ptr);
    DequantizeQ8_0Plain(blocks, n_blocks, plain);
    return;
  }
  const size_t s = o.shift;
  const auto code = [](const uint8_t* p) { return static_cast<float>(static_cast<int8_t>(*p)); };
  // Head: elements 0 .. L - s - 1 (in block 0).
  float d_prev = LoadHalfFactor(blocks);
  for (size_t j = 0; j < lanes - s; ++j) {
    const float y = code(blocks + 2 + j) * d_prev;
    std::memcpy(o.out + j, &y, 4);
  }
  // Block 0: its vectors t > 0 (its first s elements are the head).
  VF vd_prev = hn::Set(df, d_prev);
  for (size_t t = lanes; t < 32; t += lanes) {
    hn::Store(hn::Mul(ToFloat(LoadI8AsI32(blocks + 2 + t - s)), vd_prev), df, o.base + t);
  }
  const Q8_0Straddle straddle(s);
  ForEachHalfFactor(blocks, kQ8_0BlockBytes, 1, n_blocks, [&](int64_t b, VF d) HWY_ATTR {
    Q8_0ShiftedBlock(blocks + b * kQ8_0BlockBytes, straddle, d, vd_prev,
                     o.base + static_cast<size_t>(b) * 32);
    vd_prev = d;
  });
  // Tail: the last s elements of the last block.
  const uint8_t* last = blocks + (n_blocks - 1) * kQ8_0BlockBytes;
  const float d_last = LoadHalfFactor(last);
  float* tail = o.out + static_cast<size_t>(n_blocks) * 32 - s;
  for (size_t j = 0; j < s; ++j) {
    const float y = code(last + 2 + 32 - s + j) * d_last;
    std::memcpy(tail + j, &y, 4);
  }
}

#if GGUFKIT_AVX512FP16
// One line of halves of a block whose d is Inf or NaN: the float products
// through HalfTable's NaN fix (out of Q8_0LinesFp16's loop).
HWY_NOINLINE __m512i Q8_0LineOfNaN(const uint8_t* block) {
  const VF d = hn::Set(DF(), LoadHalf(block));
  return HalfTable<true>(hn::Mul(ToFloat(LoadI8AsI32(block + 2)), d),
                         hn::Mul(ToFloat(LoadI8AsI32(block + 18)), d), false);
}

// Q8_0 to f16 lines with AVX512-FP16: d times the 32 codes (int8, exact in
// halves), one vmulph per line, d broadcast from the block. The reference's
// f32 product is exact (8 + 11 significant bits) and rounds once to f16, as
// vmulph rounds the same exact product (subnormals kept: the FP16
// instructions ignore DAZ and FTZ); a block whose d is Inf or NaN takes
// Q8_0LineOfNaN. Per line: vpmovsxbw, vcvtw2ph and vmulph, where the float
// path takes two each of vpmovsxbd, vcvtdq2ps, vmulps and vcvtps2ph.
template <class Lines>
GGUFKIT_ATTR_AVX512FP16 Lines Q8_0LinesFp16(const uint8_t* blocks, int64_t n_blocks, Lines lines) {
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * static_cast<int64_t>(kQ8_0BlockBytes);
    PrefetchInput<kQ8_0BlockBytes>(block);
    __m512i line;
    if (HWY_LIKELY(FiniteHalf(block))) {
      const __m512i codes =
          _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2)));
      line = _mm512_castph_si512(_mm512_mul_ph(_mm512_cvtepi16_ph(codes), BroadcastHalf(block)));
    } else {
      line = Q8_0LineOfNaN(block);
    }
    lines.Line(line, static_cast<size_t>(b));
  }
  return lines;
}
#endif

template <class Writer>
HWY_INLINE void DequantizeQ8_0(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
#if GGUFKIT_AVX512FP16
  const auto lines_kernel = [&](const auto& lines)
                                HWY_ATTR { return Q8_0LinesFp16(blocks, n_blocks, lines); };
  if (WriteHalfLinesFp16(out, lines_kernel)) return;
#endif
  if constexpr (std::is_same_v<Writer, RealignF32>) {
    DequantizeQ8_0Shifted(blocks, n_blocks, out.ptr());
  } else {
    DequantizeQ8_0Plain(blocks, n_blocks, out);
  }
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_Q8_0_INL_H_
