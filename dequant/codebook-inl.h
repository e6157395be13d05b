// IQ4_NL, IQ4_XS, MXFP4 SIMD dequantizers (per target).

#if defined(GGUFKIT_DEQUANT_CODEBOOK_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_CODEBOOK_INL_H_
#undef GGUFKIT_DEQUANT_CODEBOOK_INL_H_
#else
#define GGUFKIT_DEQUANT_CODEBOOK_INL_H_
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

// Formats whose 4-bit codes index a 16-entry table of small integers:
//   IQ4_NL, 18 bytes per 32:  half d; u8 qs[16]                y = d * kIq4nl[q]
//   IQ4_XS, 136 bytes per 256: half d; u16 scales_h; u8 scales_l[4]; u8 qs[128]
//     sub-block ib (32 weights, qs + 16 ib): ls = (scales_l[ib/2] >> 4(ib%2)) & 15
//     | ((scales_h >> 2ib) & 3) << 4; y = (d * (ls - 32)) * kIq4nl[q]
//   MXFP4, 17 bytes per 32:   u8 e (E8M0); u8 qs[16]           y = kMxfp4[q] * d,
//     d = 2^(e - 128) (half the E8M0 value, as ggml: its table is doubled)
// Element i < 16 is the low nibble of qs[i], element i + 16 the high nibble.
// Below AVX3, one 16-byte table lookup (pshufb) maps 16 nibbles to their
// int8 values, which are widened to int32 in registers, Lanes(df) at a time
// (through a stack buffer instead, IQ4_NL and MXFP4 ran 8-10 % slower on
// AVX2 and 15 % on SSE4, in cache on an Intel Xeon). AVX3 looks up the
// scaled values themselves (Codebook).

// The codebooks are format constants (ggml's kvalues_iq4nl / kvalues_mxfp4).
alignas(16) inline constexpr int8_t kIq4nlTable[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                                       1,    13,   25,  38,  53,  69,  89,  113};
alignas(16) inline constexpr int8_t kMxfp4Table[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                                       0, -1, -2, -3, -4, -6, -8, -12};

using V16I8 = hn::Vec<hn::Full128<int8_t>>;

#if HWY_TARGET > HWY_AVX3
// y = scale * codes[k] as output elements base + k, k < 16 (float product,
// same in either order).
template <class Writer>
HWY_INLINE void ScaleCodes16(V16I8 codes, VF scale, Writer& out, size_t base) {
  const DI di;
  const auto emit = [&](hn::Vec<hn::Rebind<int8_t, DI>> part, size_t at) HWY_ATTR {
    out.Store(hn::Mul(ToFloat(hn::PromoteTo(di, part)), scale), base + at);
  };
  constexpr size_t kLanes = hn::MaxLanes(DF());
  static_assert(kLanes == 8 || kLanes == 4, "AVX2 and SSE widths (AVX3: Codebook)");
  if constexpr (kLanes == 8) {
    const hn::Full64<int8_t> d8;
    emit(hn::LowerHalf(d8, codes), 0);
    emit(hn::UpperHalf(d8, codes), 8);
  } else {
    const hn::Full128<int8_t> d16;
    const auto quarter = [](V16I8 v) HWY_ATTR { return hn::LowerHalf(hn::LowerHalf(v)); };
    emit(quarter(codes), 0);
    emit(quarter(hn::ShiftRightBytes<4>(d16, codes)), 4);
    emit(quarter(hn::ShiftRightBytes<8>(d16, codes)), 8);
    emit(quarter(hn::ShiftRightBytes<12>(d16, codes)), 12);
  }
}

// Looks up the 32 nibbles of qs[0..15] in `table` and writes scale times
// their values as output elements base .. base + 31.
template <class Writer>
HWY_INLINE void LookUpAndScale(V16I8 table, const uint8_t* qs, VF scale, Writer& out, size_t base) {
  const hn::Full128<uint8_t> du8;
  const hn::Full128<int8_t> di8;
  const auto packed = hn::LoadU(du8, qs);
  const auto lo = hn::BitCast(di8, hn::And(packed, hn::Set(du8, 15)));
  const auto hi = hn::BitCast(di8, hn::ShiftRight<4>(packed));
  ScaleCodes16(hn::TableLookupBytes(table, lo), scale, out, base);
  ScaleCodes16(hn::TableLookupBytes(table, hi), scale, out, base + 16);
}
#endif

// A codebook of 16 int8 values, looked up by the 32 nibbles of 16 bytes.
#if HWY_TARGET <= HWY_AVX3
// AVX3: the values as 16 floats, multiplied by the scale once per 32
// outputs (the same products as value by value), then picked by vpermps
// (LookupTable reads index bits 3..0). Per 32 outputs: one vpmovzxbd, one
// shift, one multiply and two vpermps, where the int8 lookup takes two
// pshufb, two vpmovsxbd, two conversions and two multiplies; on port 5,
// which vcvtps2ph and StreamRealign's permute also need, 3 operations
// instead of 4 (docs/performance.md, twentieth pass).
class Codebook {
 public:
  explicit Codebook(const int8_t* values)
      : values_(ToFloat(hn::PromoteTo(DI(), hn::Load(hn::Full128<int8_t>(), values)))) {}
  // Writes scale times the values of the nibbles of qs[0..15] as output
  // elements base .. base + 31 (element k < 16: low nibble of qs[k];
  // k + 16: its high nibble).
  template <class Writer>
  HWY_INLINE void Emit32(const uint8_t* qs, VF scale, Writer& out, size_t base) const {
    const VF scaled = hn::Mul(values_, scale);
    const VI codes = LoadU8AsI32(qs);
    out.Store(LookupTable(scaled, codes), base);
    out.Store(LookupTable(scaled, hn::ShiftRight<4>(codes)), base + 16);
  }
  // The same 32 outputs as halves (f16 when kIsF16, else bf16), for
  // HalfLines: the scaled table converted once (with WriteHalf's NaN and
  // rounding rules, so each output is what converting its float gives),
  // then looked up by vpermw, the 32 nibbles widened to 16-bit indices by
  // one vpmovzxbw of qs[0..15] twice. Per 32 outputs on port 5: vpmovzxbw,
  // vpermw and the table's vcvtps2ph, where the float lookup and two
  // vcvtps2ph take 5; misaligned, HalfLines' vpermt2w adds 2 (as many as
  // StreamRealign's two vpermt2ps).
  template <bool kIsF16>
  HWY_INLINE __m512i HalfLine(const uint8_t* qs, VF scale, bool no_nan) const {
    return _mm512_permutexvar_epi16(NibbleIndices(qs),
                                    HalfTable<kIsF16>(hn::Mul(values_, scale), no_nan));
  }

 private:
  VF values_;
};
#else
class Codebook {
 public:
  explicit Codebook(const int8_t* values) : values_(hn::Load(hn::Full128<int8_t>(), values)) {}
  template <class Writer>
  HWY_INLINE void Emit32(const uint8_t* qs, VF scale, Writer& out, size_t base) const {
    LookUpAndScale(values_, qs, scale, out, base);
  }

 private:
  V16I8 values_;
};
#endif

// Runs blocks(emit), where emit(qs, scale, j, field) writes scale times the
// values of the 32 nibbles of qs[0..15] as output elements 32 j ..
// 32 j + 31, j in increasing order, `field` being the fp16 field the scale
// comes from (nullptr: the scale is never a NaN): as halves through
// HalfLines where out is an f16 / bf16 writer at an even address (AVX3;
// HalfTable skips the NaN fix where the field is finite), through out
// otherwise (which notes the field first: ScaleNotes).
template <class Writer, class Blocks>
HWY_INLINE void EmitCodebook(const Codebook& book, Writer& out, const Blocks& blocks) {
#if HWY_TARGET <= HWY_AVX3
  if (WriteHalfLines(out, [&](auto& lines) HWY_ATTR {
        constexpr bool kF16 = std::decay_t<decltype(lines)>::kF16;
        blocks([&](const uint8_t* qs, VF scale, size_t j, const uint8_t* field) HWY_ATTR {
          const bool no_nan = field == nullptr || FiniteHalf(field);
          lines.Line(book.template HalfLine<kF16>(qs, scale, no_nan), j);
        });
      })) {
    return;
  }
#endif
  ScalesNoted(out);
  blocks([&](const uint8_t* qs, VF scale, size_t j, const uint8_t* field) HWY_ATTR {
    if (field != nullptr) NoteHalfScale(out, field);
    book.Emit32(qs, scale, out, 32 * j);
  });
}

template <class Writer>
HWY_INLINE void DequantizeIQ4_NL(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
#if GGUFKIT_AVX512FP16
  // f16: d times the values (ScaledCodesHalfLines).
  const __m512i values = _mm512_zextsi256_si512(
      _mm256_cvtepi8_epi16(_mm_load_si128(reinterpret_cast<const __m128i*>(kIq4nlTable))));
  if (ScaledCodesHalfLines<18, false, false>(values, blocks, n_blocks, out)) return;
#endif
  EmitCodebook(Codebook(kIq4nlTable), out, [&](const auto& emit) HWY_ATTR {
    for (int64_t b = 0; b < n_blocks; ++b) {
      const uint8_t* block = blocks + b * 18;
      PrefetchInput<18>(block);
      emit(block + 2, HalfFactorVec(block), static_cast<size_t>(b), block);
    }
  });
}

// IQ4_XS's 8 sub-block scales d * (ls - 32) into scales[0..7] (the same
// float product as one at a time): ls's low nibble sits at bit 4 ib of the
// u32 scales_l, its high two bits at bit 2 ib of scales_h.
HWY_INLINE void IQ4XSScales(const uint8_t* block, float* scales) {
  uint16_t scales_h;
  uint32_t scales_l;
  std::memcpy(&scales_h, block + 2, 2);
  std::memcpy(&scales_l, block + 4, 4);
  const float d = LoadHalfFactor(block);
#if HWY_TARGET <= HWY_AVX2
  const hn::Full256<int32_t> di;
  const hn::Full256<float> df;
  const auto ib = hn::Iota(di, 0);
  const auto low = hn::And(
      hn::Shr(hn::Set(di, static_cast<int32_t>(scales_l)), hn::ShiftLeft<2>(ib)), hn::Set(di, 15));
  const auto high = hn::And(hn::Shr(hn::Set(di, scales_h), hn::Add(ib, ib)), hn::Set(di, 3));
  const auto ls = hn::Or(low, hn::ShiftLeft<4>(high));
  hn::Store(hn::Mul(hn::Set(df, d), hn::ConvertTo(df, hn::Sub(ls, hn::Set(di, 32)))), df, scales);
#else
  for (int ib = 0; ib < 8; ++ib) {
    const int ls =
        static_cast<int>(((scales_l >> (4 * ib)) & 15) | (((scales_h >> (2 * ib)) & 3) << 4));
    scales[ib] = d * static_cast<float>(ls - 32);
  }
#endif
}

template <class Writer>
HWY_INLINE void DequantizeIQ4_XS(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  alignas(32) float scales[8];
  EmitCodebook(Codebook(kIq4nlTable), out, [&](const auto& emit) HWY_ATTR {
    for (int64_t b = 0; b < n_blocks; ++b) {
      const uint8_t* block = blocks + b * 136;
      PrefetchInput<136>(block);
      IQ4XSScales(block, scales);
      for (size_t k = 0; k < 8; ++k) {
        emit(block + 8 + 16 * k, hn::Set(DF(), scales[k]), static_cast<size_t>(b) * 8 + k, block);
      }
    }
  });
}

// Half of the E8M0 scale 2^(e - 127), built from bits (exact; e < 2 gives
// a float subnormal).
HWY_INLINE float E8M0Half(uint8_t e) {
  return BitsToFloat(e < 2 ? (0x00200000u << e) : (static_cast<uint32_t>(e) - 1) << 23);
}

template <class Writer>
HWY_INLINE void DequantizeMXFP4(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  EmitCodebook(Codebook(kMxfp4Table), out, [&](const auto& emit) HWY_ATTR {
    for (int64_t b = 0; b < n_blocks; ++b) {
      const uint8_t* block = blocks + b * 17;
      PrefetchInput<17>(block);
      // A finite power of two for every E8M0 byte (products overflow to
      // infinity at most): never a NaN.
      emit(block + 1, hn::Set(DF(), E8M0Half(block[0])), static_cast<size_t>(b), nullptr);
    }
  });
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_CODEBOOK_INL_H_
