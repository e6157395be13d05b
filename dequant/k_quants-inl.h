// Q5_K, Q2_K, Q3_K, TQ2_0 SIMD dequantizers (per target).
// Q4_KScaleProducts and KQuantScaleBatch (shared with Q5_K) live in q4_k-inl.h.
#include "ggufkit/dequant/q4_k-inl.h"

#if defined(GGUFKIT_DEQUANT_K_QUANTS_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_K_QUANTS_INL_H_
#undef GGUFKIT_DEQUANT_K_QUANTS_INL_H_
#else
#define GGUFKIT_DEQUANT_K_QUANTS_INL_H_
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

// Q5_K, Q2_K, Q3_K and TQ2_0: 256-weight super-blocks. Scales are decoded
// once per sub-block (as ggml does, rounding d * scale first; Q5_K decodes a
// batch of blocks' scales with vectors, see KQuantScaleBatch); the weights
// are decoded Lanes(df) at a time. Uniform shift counts use
// ShiftRightSame: SSE4/SSSE3 have no per-lane shifts, and Highway's emulation
// of Shr made Q5_K there half as fast as the scalar reference. A vector of at most
// 16 lanes never straddles two sub-blocks (all are 16 or 32 weights).

#if HWY_TARGET <= HWY_AVX3
// Q5_K's f16 / bf16 output (HalfLines): each sub-block's 32-entry table
// (the f32 value of every code, as the f32 kernel computes it) converted to
// halves once (two vcvtps2ph and an insert), then one vpermw per line of 32
// outputs, its indices the chunk's index bytes (below) widened by one
// vpmovzxbw. The f32 kernel's path instead takes a vpmovzxbd, a vpermt2ps
// and a vcvtps2ph per 16 outputs (and an extract per 32), and a vpermt2ps
// more per 16 where it realigns streamed output, all on port 5 on Intel;
// here HalfLines' realignment is a vpermt2w (two operations) per 32.
// Where d and dmin are finite, each table is one fused multiply-subtract
// per 16 codes (ProductMinus's conditions: d * sc has at most 17
// significant bits and codes 5, so every product is exact), with both
// scale products broadcast by loads. Misaligned cached lines go out
// without a prefetch (PrefetchF32's measured 0.81-0.93x aligned in cache
// here, against 0.97-0.99 without).
template <class Lines>
HWY_INLINE void DequantizeQ5_KHalves(const uint8_t* blocks, int64_t n_blocks, Lines& lines) {
  constexpr bool kF16 = Lines::kF16;
  const DI di;
  const VF codes_low = ToFloat(hn::Iota(di, 0));
  const VF codes_high = ToFloat(hn::Iota(di, 16));
  const __m256i bit4 = _mm256_set1_epi8(16);
  ForEachKQuantBlock<176>(
      blocks, n_blocks, [&](const float* products, const uint8_t* block, size_t base) HWY_ATTR {
        const bool no_nan = BothHalvesFinite(block);
        const uint8_t* qs = block + 48;
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 16));
        // Sub-block s's table: products[s] (d * sc) times each code, minus
        // products[8 + s] (dmin * m).
        const auto table = [&](const float* d) HWY_ATTR {
          const float* m = d + 8;
          if (no_nan) {
            const VF dv = hn::Set(DF(), *d);
            const VF mv = hn::Set(DF(), *m);
            return HalfTable<kF16>(ProductMinus<true>(dv, codes_low, mv),
                                   ProductMinus<true>(dv, codes_high, mv), true);
          }
          return HalfTable<kF16>(SubBroadcast(MulBroadcast(codes_low, d), m),
                                 SubBroadcast(MulBroadcast(codes_high, d), m), false);
        };
        // As the f32 kernel's index bytes; vpermw reads bits 4..0.
        const auto chunk = [&](int c, __m256i h_lo, __m256i h_hi) HWY_ATTR {
          const __m512i table_lo = table(products + 2 * c);
          const __m512i table_hi = table(products + 2 * c + 1);
          const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
          const __m256i idx_lo = _mm256_ternarylogic_epi32(bit4, h_lo, q, 0xCA);
          const __m256i idx_hi =
              _mm256_ternarylogic_epi32(bit4, h_hi, _mm256_srli_epi16(q, 4), 0xCA);
          const size_t line = base / 32 + 2 * static_cast<size_t>(c);
          lines.Line(_mm512_permutexvar_epi16(_mm512_cvtepu8_epi16(idx_lo), table_lo), line);
          lines.Line(_mm512_permutexvar_epi16(_mm512_cvtepu8_epi16(idx_hi), table_hi), line + 1);
        };
        chunk(0, _mm256_slli_epi16(qh, 4), _mm256_slli_epi16(qh, 3));
        chunk(1, _mm256_slli_epi16(qh, 2), _mm256_slli_epi16(qh, 1));
        chunk(2, qh, _mm256_srli_epi16(qh, 1));
        chunk(3, _mm256_srli_epi16(qh, 2), _mm256_srli_epi16(qh, 3));
      });
}
#endif

// Q5_K, 176 bytes: half d; half dmin; u8 scales[12] (as Q4_K); u8 qh[32];
// u8 qs[128]. As Q4_K, plus bit 4 of weight l of chunk c's low (high)
// nibbles is bit 2c (2c + 1) of qh[l]. y = (d * sc) * q - (dmin * m).
template <class Writer>
HWY_INLINE void DequantizeQ5_K(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
#if HWY_TARGET <= HWY_AVX3
  // As Q4_K's kernel, with a 32-entry table per sub-block (two vectors:
  // codes 0..15 and 16..31) and vpermt2ps, which reads index bits 4..0: bits
  // 3..0 are the nibble, bit 4 is the qh bit, higher bits are ignored. The
  // index bytes of a chunk are built 32 at a time before they are widened:
  // a 16-bit shift moves qh's bit 2c (2c + 1) of every byte to bit 4 of the
  // same byte, and one bit-select puts it over the nibble (three byte-vector
  // operations per 32 weights instead of eight on widened lanes).
  // The tables are the kernel's main cost (as many entries as weights):
  // (d * sc) * q - dmin * m with the reference's two roundings, each scale
  // product broadcast inside the instruction (MulBroadcast). That ran
  // faster than one fused multiply-subtract per table with the scale
  // products broadcast by vbroadcastss (two per sub-block, each taking a
  // shuffle slot that the permutes need): 4.37 -> 3.53 us per 256 KiB.
  (void)lanes;
  if (WriteHalfLines(
          out, [&](auto& lines) HWY_ATTR { DequantizeQ5_KHalves(blocks, n_blocks, lines); })) {
    return;
  }
  const VF codes_low = ToFloat(hn::Iota(di, 0));
  const VF codes_high = ToFloat(hn::Iota(di, 16));
  const __m256i bit4 = _mm256_set1_epi8(16);
  ScalesNoted(out);
  ForEachKQuantBlock<176>(
      blocks, n_blocks, [&](const float* products, const uint8_t* block, size_t base) HWY_ATTR {
        NoteKQuantScales(out, block);
        const uint8_t* qs = block + 48;
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 16));
        const auto chunk = [&](auto c_constant, __m256i h_lo, __m256i h_hi) HWY_ATTR {
          constexpr int c = decltype(c_constant)::value;
          const float* d_lo = products + 2 * c;  // then d_hi, as KQuantChunkScales
          const float* m_lo = products + 8 + 2 * c;
          const auto table = [](VF codes, const float* d, const float* m) HWY_ATTR {
            return SubBroadcast(MulBroadcast(codes, d), m);
          };
          const VF lo0 = table(codes_low, d_lo, m_lo);
          const VF lo1 = table(codes_high, d_lo, m_lo);
          const VF hi0 = table(codes_low, d_lo + 1, m_lo + 1);
          const VF hi1 = table(codes_high, d_lo + 1, m_lo + 1);
          const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
          // 0xCA: bit4 ? h : nibble, bitwise.
          const __m256i idx_lo = _mm256_ternarylogic_epi32(bit4, h_lo, q, 0xCA);
          const __m256i idx_hi =
              _mm256_ternarylogic_epi32(bit4, h_hi, _mm256_srli_epi16(q, 4), 0xCA);
          const auto permute = [](VF table0, __m128i index_bytes, VF table1) HWY_ATTR {
            return VF{
                _mm512_permutex2var_ps(table0.raw, _mm512_cvtepu8_epi32(index_bytes), table1.raw)};
          };
          // Stores in element order (RealignF32 needs it).
          const size_t at = base + 64 * static_cast<size_t>(c);
          out.Store(permute(lo0, _mm256_castsi256_si128(idx_lo), lo1), at);
          out.Store(permute(lo0, _mm256_extracti128_si256(idx_lo, 1), lo1), at + 16);
          out.Store(permute(hi0, _mm256_castsi256_si128(idx_hi), hi1), at + 32);
          out.Store(permute(hi0, _mm256_extracti128_si256(idx_hi, 1), hi1), at + 48);
        };
        chunk(std::integral_constant<int, 0>(), _mm256_slli_epi16(qh, 4), _mm256_slli_epi16(qh, 3));
        chunk(std::integral_constant<int, 1>(), _mm256_slli_epi16(qh, 2), _mm256_slli_epi16(qh, 1));
        chunk(std::integral_constant<int, 2>(), qh, _mm256_srli_epi16(qh, 1));
        chunk(std::integral_constant<int, 3>(), _mm256_srli_epi16(qh, 2), _mm256_srli_epi16(qh, 3));
      });
#elif HWY_TARGET == HWY_AVX2
  // As AVX3's kernel, the codes of a chunk are built as bytes, 32 at a time
  // (a 16-bit shift brings qh's bit 2c (2c + 1) of every byte to bit 4),
  // then widened 8 at a time; each is converted and scaled (32-entry tables
  // do not fit AVX2's 8-lane permute). Stores in element order: a chunk's
  // low-nibble weights, then its high ones.
  (void)lanes;
  const __m256i bit4 = _mm256_set1_epi8(16);
  const __m256i nibble = _mm256_set1_epi8(15);
  ScalesNoted(out);
  ForEachKQuantBlock<176>(
      blocks, n_blocks, [&](const float* products, const uint8_t* block, size_t base) HWY_ATTR {
        NoteKQuantScales(out, block);
        const uint8_t* qs = block + 48;
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 16));
        const auto chunk = [&](auto exact, int c, __m256i h_lo, __m256i h_hi) HWY_ATTR {
          constexpr bool kExact = decltype(exact)::value;
          const KQuantChunkScales sc(products, c);
          const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c));
          const __m256i lo =
              _mm256_or_si256(_mm256_and_si256(q, nibble), _mm256_and_si256(h_lo, bit4));
          const __m256i hi = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q, 4), nibble),
                                             _mm256_and_si256(h_hi, bit4));
          const size_t at = base + 64 * static_cast<size_t>(c);
          VI codes[4];
          WidenBytes32<false>(lo, codes);
          for (size_t v = 0; v < 4; ++v) {
            out.Store(ProductMinus<kExact>(sc.d_lo, ToFloat(codes[v]), sc.m_lo), at + 8 * v);
          }
          WidenBytes32<false>(hi, codes);
          for (size_t v = 0; v < 4; ++v) {
            out.Store(ProductMinus<kExact>(sc.d_hi, ToFloat(codes[v]), sc.m_hi), at + 32 + 8 * v);
          }
        };
        const auto all_chunks = [&](auto exact) HWY_ATTR {
          chunk(exact, 0, _mm256_slli_epi16(qh, 4), _mm256_slli_epi16(qh, 3));
          chunk(exact, 1, _mm256_slli_epi16(qh, 2), _mm256_slli_epi16(qh, 1));
          chunk(exact, 2, qh, _mm256_srli_epi16(qh, 1));
          chunk(exact, 3, _mm256_srli_epi16(qh, 2), _mm256_srli_epi16(qh, 3));
        };
        // Fused where d and dmin are finite (exact products, see ProductMinus;
        // AVX3 broadcasts its scales inside two operations instead).
        WithExactProducts(BothHalvesFinite(block), all_chunks);
      });
#else
  const VI k15 = hn::Set(di, 15);
  const VI k1 = hn::Set(di, 1);
  ScalesNoted(out);
  ForEachKQuantBlock<176>(
      blocks, n_blocks, [&](const float* products, const uint8_t* block, size_t base) HWY_ATTR {
        NoteKQuantScales(out, block);
        const uint8_t* qh = block + 16;
        const uint8_t* qs = qh + 32;
        const auto chunks = [&](auto exact) HWY_ATTR {
          constexpr bool kExact = decltype(exact)::value;
          for (int c = 0; c < 4; ++c) {
            const KQuantChunkScales sc(products, c);
            for (size_t i = 0; i < 32; i += lanes) {
              const VI q = LoadU8AsI32(qs + 32 * c + i);
              const VI h = LoadU8AsI32(qh + i);
              const VI h_lo = hn::ShiftLeft<4>(hn::And(hn::ShiftRightSame(h, 2 * c), k1));
              const VI h_hi = hn::ShiftLeft<4>(hn::And(hn::ShiftRightSame(h, 2 * c + 1), k1));
              const VF lo = ToFloat(hn::Or(hn::And(q, k15), h_lo));
              const VF hi = ToFloat(hn::Or(hn::ShiftRight<4>(q), h_hi));
              out.Store(ProductMinus<kExact>(sc.d_lo, lo, sc.m_lo), base + 64 * c + i);
              out.Store(ProductMinus<kExact>(sc.d_hi, hi, sc.m_hi), base + 64 * c + 32 + i);
            }
          }
        };
        // Fused where d and dmin are finite (exact products, see ProductMinus;
        // AVX3 broadcasts its scales inside two operations instead).
        WithExactProducts(BothHalvesFinite(block), chunks);
      });
#endif
}

#if HWY_TARGET <= HWY_AVX2
// Bits of `yes` where `mask` has ones, of `no` elsewhere (Highway's
// IfVecThenElse selects whole lanes below AVX3).
HWY_INLINE VI BitSelect(VI mask, VI yes, VI no) {
#if HWY_TARGET <= HWY_AVX3
  return VI{_mm512_ternarylogic_epi32(mask.raw, yes.raw, no.raw, 0xCA)};
#else
  return hn::Or(hn::And(mask, yes), hn::AndNot(mask, no));
#endif
}

// The bytes of two 16-byte groups, group g at p + 16 g, zero-extended to
// int32 lanes: out[g][v] holds bytes v * Lanes .. of group g.
template <size_t kGroupVectors>
HWY_INLINE void LoadTwoGroups(const uint8_t* p, VI (&out)[2][kGroupVectors]) {
  const size_t lanes = hn::Lanes(DF());
  for (size_t g = 0; g < 2; ++g) {
    for (size_t v = 0; v < kGroupVectors; ++v) out[g][v] = LoadU8AsI32(p + 16 * g + v * lanes);
  }
}

#endif  // HWY_TARGET <= HWY_AVX2

// Q2_K, 84 bytes: u8 scales[16] (low nibble: scale, high nibble: min);
// u8 qs[64]; half d; half dmin. Half h (128 weights) reads qs[32h .. 32h+31];
// within it, shift s = 0, 2, 4, 6 gives 32 weights: 16 from qs[32h + l] with
// scale index 8h + 2(s/2), then 16 from qs[32h + 16 + l] with the next one.
// y = (d * sc) * q - (dmin * m).
template <class Writer>
HWY_INLINE void DequantizeQ2_K(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  const VI k3 = hn::Set(di, 3);
#if HWY_TARGET <= HWY_AVX2
  // A 16-weight group is one vector on AVX3, two on AVX2. The 16 scale and
  // min products of a block are decoded with vectors; per group, a table
  // holds dl * q - ml (ggml's two roundings) for q = lane & 3, and one
  // permute per vector (vpermps reads index bits 3..0 on AVX3, 2..0 on
  // AVX2, so the 2-bit field needs no mask beyond the table repeating every
  // 4 lanes: LookupTable) replaces the mask, convert, multiply and subtract.
  // Each code byte is loaded once for its four shifts.
  constexpr size_t kGroupVectors = 16 / hn::MaxLanes(DF());
  const VF codes = ToFloat(hn::And(hn::Iota(di, 0), k3));
#if HWY_TARGET <= HWY_AVX3
  // With 16-entry tables, index bits 3..2 select too: a table repeating each
  // value over four lanes reads the code at bits 3..2 of the byte, so the odd
  // shift steps take the even steps' index (byte, then byte >> 4), and two
  // shifts in four go (AVX3: aligned 7 % faster, +4 1-2 %).
  const VF codes_hi = ToFloat(hn::And(hn::ShiftRight<2>(hn::Iota(di, 0)), k3));
#endif
  const VI k15 = hn::Set(di, 15);
  // Scales are decoded a batch of blocks ahead (as KQuantScaleBatch): the
  // per-group broadcasts then never wait on the stores that wrote them.
  constexpr int64_t kBatch = 8;
  alignas(64) float dl[kBatch][16];
  alignas(64) float ml[kBatch][16];
  ScalesNoted(out);
  for (int64_t first = 0; first < n_blocks; first += kBatch) {
    const int64_t n = n_blocks - first < kBatch ? n_blocks - first : kBatch;
    for (int64_t k = 0; k < n; ++k) {
      const uint8_t* block = blocks + (first + k) * 84;
      PrefetchInput<84>(block);
      NoteHalfScale(out, block + 80);
      NoteHalfScale(out, block + 82);
      const VF d = hn::Set(df, LoadHalfFactor(block + 80));
      const VF dmin = hn::Set(df, LoadHalfFactor(block + 82));
      for (size_t i = 0; i < 16; i += lanes) {
        const VI sc = LoadU8AsI32(block + i);
        hn::Store(hn::Mul(d, ToFloat(hn::And(sc, k15))), df, dl[k] + i);
        hn::Store(hn::Mul(dmin, ToFloat(hn::ShiftRight<4>(sc))), df, ml[k] + i);
      }
    }
    for (int64_t k = 0; k < n; ++k) {
      const uint8_t* qs = blocks + (first + k) * 84 + 16;
      const size_t o = static_cast<size_t>(first + k) * 256;
      for (int h = 0; h < 2; ++h) {
        // Both 16-byte groups of the half, then the stores in element order
        // (misaligned output takes plain stores, fastest in that order):
        // shift step outer, group inner.
        VI bytes[2][kGroupVectors];
        LoadTwoGroups(qs + 32 * h, bytes);
        const auto step = [&](auto shift_step) HWY_ATTR {
          constexpr int kStep = decltype(shift_step)::value;
          for (int g = 0; g < 2; ++g) {
            const int is = 8 * h + 2 * kStep + g;
#if HWY_TARGET <= HWY_AVX3
            constexpr int kShift = kStep < 2 ? 0 : 4;
            const VF step_codes = kStep % 2 ? codes_hi : codes;
#else
            constexpr int kShift = 2 * kStep;
            const VF step_codes = codes;
#endif
            const VF table =
                hn::Sub(hn::Mul(hn::Set(df, dl[k][is]), step_codes), hn::Set(df, ml[k][is]));
            for (size_t v = 0; v < kGroupVectors; ++v) {
              const VI idx = hn::ShiftRight<kShift>(bytes[g][v]);
              out.Store(LookupTable(table, idx), o + 128 * h + 32 * kStep + 16 * g + v * lanes);
            }
          }
        };
        step(std::integral_constant<int, 0>());
        step(std::integral_constant<int, 1>());
        step(std::integral_constant<int, 2>());
        step(std::integral_constant<int, 3>());
      }
    }
  }
#else
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * 84;
    PrefetchInput<84>(block);
    const uint8_t* scales = block;
    const uint8_t* qs = block + 16;
    const float d = LoadHalfFactor(block + 80);
    const float dmin = LoadHalfFactor(block + 82);
    size_t o = static_cast<size_t>(b) * 256;
    int is = 0;
    for (int h = 0; h < 2; ++h) {
      for (int s = 0; s < 8; s += 2) {
        for (int g = 0; g < 2; ++g, ++is, o += 16) {
          const VF dl = hn::Set(df, d * static_cast<float>(scales[is] & 15));
          const VF ml = hn::Set(df, dmin * static_cast<float>(scales[is] >> 4));
          for (size_t l = 0; l < 16; l += lanes) {
            const VI q = hn::And(hn::ShiftRightSame(LoadU8AsI32(qs + 32 * h + 16 * g + l), s), k3);
            out.Store(hn::Sub(hn::Mul(dl, ToFloat(q)), ml), o + l);
          }
        }
      }
    }
  }
#endif
}

// Q3_K, 110 bytes: u8 hmask[32]; u8 qs[64]; u8 scales[12]; half d.
// Sixteen 6-bit scales: low 4 bits from scales[i] (i < 8) or scales[i - 8] >> 4,
// high 2 bits from scales[8 + i % 4] >> 2(i / 4). Weights are ordered as in
// Q2_K; for half h and shift step j, the 3rd bit of weight l is bit 4h + j of
// hmask[l (+ 16)], and the code is (2-bit value) - (bit ? 0 : 4).
// y = (d * (scale - 32)) * code.
#if HWY_TARGET <= HWY_AVX2
#if HWY_TARGET <= HWY_AVX3
// Q3_K's 16 scales minus 32, as integers (lane is: scale is).
HWY_INLINE VI Q3ScalesMinus32(const uint8_t* block) {
  const DI di;
  const VI k3 = hn::Set(di, 3);
  const VI k32 = hn::Set(di, 32);
  // Lane is takes its low 4 bits from scale byte is & 7 (shifted by 4 for
  // is >= 8) and its high 2 bits from scale byte 8 + is % 4 (shifted by
  // 2 (is / 4)); the tables index lanes of the 16 bytes loaded from block
  // byte 94 (scale byte i in lane 2 + i: a 16-byte load from byte 96 would
  // read past the last block, and a copy to the stack stalls the load on
  // store forwarding: Q3_K 0.35x memset).
  alignas(64) static constexpr int32_t kLowByte[16] = {2, 3, 4, 5, 6, 7, 8, 9,
                                                       2, 3, 4, 5, 6, 7, 8, 9};
  alignas(64) static constexpr int32_t kLowShift[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                                        4, 4, 4, 4, 4, 4, 4, 4};
  alignas(64) static constexpr int32_t kHighByte[16] = {10, 11, 12, 13, 10, 11, 12, 13,
                                                        10, 11, 12, 13, 10, 11, 12, 13};
  alignas(64) static constexpr int32_t kHighShift[16] = {0, 0, 0, 0, 2, 2, 2, 2,
                                                         4, 4, 4, 4, 6, 6, 6, 6};
  const VI bytes = LoadU8AsI32(block + 94);
  const auto pick = [&](const int32_t* byte_of_lane) HWY_ATTR {
    return VI{_mm512_permutexvar_epi32(hn::Load(di, byte_of_lane).raw, bytes.raw)};
  };
  const VI low = hn::And(hn::Shr(pick(kLowByte), hn::Load(di, kLowShift)), hn::Set(di, 15));
  const VI high = hn::And(hn::Shr(pick(kHighByte), hn::Load(di, kHighShift)), k3);
  return hn::Sub(hn::Or(low, hn::ShiftLeft<4>(high)), k32);
}
#endif

// Q3_K's 16 scale products d * (scale - 32) of a block, to dl[0..15].
HWY_INLINE void DecodeQ3Scales(const uint8_t* block, float* dl) {
  const DF df;
#if HWY_TARGET <= HWY_AVX3
  hn::Store(hn::Mul(hn::Set(df, LoadHalfFactor(block + 108)), ToFloat(Q3ScalesMinus32(block))), df,
            dl);
#else
  const DI di;
  const VI k3 = hn::Set(di, 3);
  const VI k32 = hn::Set(di, 32);
  // Scales 0..7 take their low 4 bits from the low nibbles of scale bytes
  // 0..7, scales 8..15 from the high ones; scale is takes its high 2 bits
  // from scale byte 8 + is % 4, shifted by 2 (is / 4). Scale bytes 8..11 are
  // lanes 2..5 of the 8 bytes loaded from block byte 102 (the block's last byte
  // is 109).
  const VI low = LoadU8AsI32(block + 96);
  const VI high_bytes = VI{_mm256_permutevar8x32_epi32(LoadU8AsI32(block + 102).raw,
                                                       _mm256_setr_epi32(2, 3, 4, 5, 2, 3, 4, 5))};
  const VF d = HalfFactorVec(block + 108);
  const VI shift_lo{_mm256_setr_epi32(0, 0, 0, 0, 2, 2, 2, 2)};
  const VI shift_hi{_mm256_setr_epi32(4, 4, 4, 4, 6, 6, 6, 6)};
  const VI high_lo = hn::ShiftLeft<4>(hn::And(hn::Shr(high_bytes, shift_lo), k3));
  const VI high_hi = hn::ShiftLeft<4>(hn::And(hn::Shr(high_bytes, shift_hi), k3));
  const VI scale_lo = hn::Sub(hn::Or(hn::And(low, hn::Set(di, 15)), high_lo), k32);
  const VI scale_hi = hn::Sub(hn::Or(hn::ShiftRight<4>(low), high_hi), k32);
  hn::Store(hn::Mul(d, ToFloat(scale_lo)), df, dl);
  hn::Store(hn::Mul(d, ToFloat(scale_hi)), df, dl + 8);
#endif
}

#if GGUFKIT_AVX512FP16
// Q3_K to f16 lines with AVX512-FP16. Line 4h + j of a block (elements
// 128 h + 32 j ..) is its shift step j of half h: lanes 0..15 group g = 0,
// 16..31 group g = 1, whose scale is 8 h + 2 j + g. Table pair k (lines
// 2k and 2k + 1) holds in lane i the output of code i % 8 - 4 at scale
// 4 k + i / 8; a line's index is code | 8 g | 16 (j & 1). The reference's
// f32 output dl * code, dl = d * (scale - 32), is exact (at most 6 + 11 +
// 3 significant bits) and rounds once to f16. Here (scale - 32) * code is
// a product of halves (magnitude at most 128: exact, and a zero gets the
// reference's sign, which an integer product would lose), multiplied by d
// in a second vmulph, which rounds the same exact product once (subnormals
// kept: the FP16 instructions ignore DAZ and FTZ). A block whose d is Inf
// or NaN takes its tables from the reference's dl (Q3_KTablesOfNaN).
// Per line: two shifts, two vpternlogd and one vpermw (the float path: two
// permutes, two vcvtps2ph and their shifts and selects in 32-bit lanes).
HWY_NOINLINE void Q3_KTablesOfNaN(const uint8_t* block, __m512i* tables) {
  const DF df;
  const DI di;
  alignas(64) float dl[16];
  DecodeQ3Scales(block, dl);
  const VF dlv = hn::Load(df, dl);
  const VI lane = hn::Iota(di, 0);
  const VF codes = ToFloat(hn::Sub(hn::And(lane, hn::Set(di, 7)), hn::Set(di, 4)));
  for (int k = 0; k < 4; ++k) {
    // Lanes 16 u .. 16 u + 15 of pair k: scales 4 k + 2 u + lane / 8.
    const auto half = [&](int u) HWY_ATTR {
      const VI scale = hn::Add(hn::Set(di, 4 * k + 2 * u), hn::ShiftRight<3>(lane));
      return hn::Mul(VF{_mm512_permutexvar_ps(scale.raw, dlv.raw)}, codes);
    };
    tables[k] = HalfTable<true>(half(0), half(1), false);
  }
}

template <class Lines>
GGUFKIT_ATTR_AVX512FP16 Lines Q3_KLinesFp16(const uint8_t* blocks, int64_t n_blocks, Lines lines) {
  const __m512i lane = Iota32();
  const __m512h codes = _mm512_cvtepi16_ph(_mm512_sub_epi16(
      _mm512_and_si512(lane, _mm512_set1_epi16(7)), _mm512_set1_epi16(4)));  // i % 8 - 4
  const __m512i scale_of_lane = _mm512_srli_epi16(lane, 3);                  // i / 8
  const __m512i k3 = _mm512_set1_epi16(3);
  const __m512i k7 = _mm512_set1_epi16(7);
  // 8 g, plus 16 for odd lines.
  const __m512i group = _mm512_and_si512(_mm512_srli_epi16(lane, 1), _mm512_set1_epi16(8));
  const __m512i odd = _mm512_or_si512(group, _mm512_set1_epi16(16));
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * 110;
    PrefetchInput<110>(block);
    __m512i tables[4];
    if (HWY_LIKELY(FiniteHalf(block + 108))) {
      const __m512i scales = _mm512_castph_si512(_mm512_cvtepi16_ph(
          _mm512_castsi256_si512(_mm512_cvtepi32_epi16(Q3ScalesMinus32(block).raw))));
      for (int k = 0; k < 4; ++k) {
        const __m512h scale = _mm512_castsi512_ph(_mm512_permutexvar_epi16(
            _mm512_add_epi16(scale_of_lane, _mm512_set1_epi16(static_cast<int16_t>(4 * k))),
            scales));
        tables[k] = _mm512_castph_si512(
            _mm512_mul_ph(_mm512_mul_ph(scale, codes), BroadcastHalf(block + 108)));
      }
    } else {
      Q3_KTablesOfNaN(block, tables);
    }
    const __m512i hmask =
        _mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block)));
    const size_t first_line = static_cast<size_t>(b) * 8;
    const auto half = [&](auto h_constant) HWY_ATTR {
      constexpr int h = decltype(h_constant)::value;
      const __m512i q = _mm512_cvtepu8_epi16(
          _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 32 + 32 * h)));
      const auto step = [&](auto j_constant) HWY_ATTR {
        constexpr int j = decltype(j_constant)::value;
        constexpr int bit = 4 * h + j;  // hmask bit, moved to bit 2
        __m512i high;
        if constexpr (bit >= 2) {
          high = _mm512_srli_epi16(hmask, bit - 2);
        } else {
          high = _mm512_slli_epi16(hmask, 2 - bit);
        }
        // Bits 1..0 from the shifted code, the others from high (k3 ? q : high).
        const __m512i code = _mm512_ternarylogic_epi32(_mm512_srli_epi16(q, 2 * j), high, k3, 0xE4);
        // (code & 7) | offset
        const __m512i index = _mm512_ternarylogic_epi32(code, j % 2 ? odd : group, k7, 0xEC);
        lines.Line(_mm512_permutexvar_epi16(index, tables[2 * h + j / 2]), first_line + 4 * h + j);
      };
      step(std::integral_constant<int, 0>());
      step(std::integral_constant<int, 1>());
      step(std::integral_constant<int, 2>());
      step(std::integral_constant<int, 3>());
    };
    half(std::integral_constant<int, 0>());
    half(std::integral_constant<int, 1>());
  }
  return lines;
}
#endif

#endif  // HWY_TARGET <= HWY_AVX2

template <class Writer>
HWY_INLINE void DequantizeQ3_K(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
#if GGUFKIT_AVX512FP16
  const auto lines_kernel = [&](const auto& lines)
                                HWY_ATTR { return Q3_KLinesFp16(blocks, n_blocks, lines); };
  if (WriteHalfLinesFp16(out, lines_kernel)) return;
#endif
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  const VI k4 = hn::Set(di, 4);
#if HWY_TARGET <= HWY_AVX2
  // A 16-weight group is one vector on AVX3, two on AVX2. The 16 scale
  // products of a block are decoded first (integer scales, then a vector
  // convert and multiply); per group, a table holds dl * code for code =
  // (lane & 7) - 4 (AVX3's 16 entries repeat every 8), and the index has the
  // 2-bit value in bits 1..0 and the hmask bit in bit 2 (higher bits are
  // not read: LookupTable): one permute replaces the add, subtract, convert
  // and multiply. Each 16 code and hmask bytes are loaded once for all the
  // shifts that use them.
  constexpr size_t kGroupVectors = 16 / hn::MaxLanes(DF());
  const VF codes = ToFloat(hn::Sub(hn::And(hn::Iota(di, 0), hn::Set(di, 7)), k4));
  // Decoded a batch of blocks ahead (as KQuantScaleBatch): the per-group
  // broadcasts never wait on their stores.
  constexpr int64_t kBatch = 8;
  alignas(64) float dl[kBatch][16];
  ScalesNoted(out);
  for (int64_t first = 0; first < n_blocks; first += kBatch) {
    const int64_t n = n_blocks - first < kBatch ? n_blocks - first : kBatch;
    for (int64_t k = 0; k < n; ++k) {
      PrefetchInput<110>(blocks + (first + k) * 110);
      NoteHalfScale(out, blocks + (first + k) * 110 + 108);
      DecodeQ3Scales(blocks + (first + k) * 110, dl[k]);
    }
    for (int64_t k = 0; k < n; ++k) {
      const uint8_t* block = blocks + (first + k) * 110;
      const uint8_t* hmask = block;
      const uint8_t* qs = block + 32;
      const size_t o = static_cast<size_t>(first + k) * 256;
      VI hbytes[2][kGroupVectors];
      LoadTwoGroups(hmask, hbytes);
      for (int h = 0; h < 2; ++h) {
        // Both 16-weight groups of the half, then the stores in element
        // order (RealignF32 needs it): shift step outer, group inner.
        VI qbytes[2][kGroupVectors];
        LoadTwoGroups(qs + 32 * h, qbytes);
        VI hb[2][kGroupVectors];
        for (int g = 0; g < 2; ++g) {
          for (size_t v = 0; v < kGroupVectors; ++v) {
            hb[g][v] = h == 0 ? hbytes[g][v] : hn::ShiftRight<4>(hbytes[g][v]);
          }
        }
        // Shift step j: hmask bit 4h + j moved to bit 2 (by shift(hb)).
        const auto step = [&](auto shift_step, const auto& shift) HWY_ATTR {
          constexpr int kStep = decltype(shift_step)::value;
          for (int g = 0; g < 2; ++g) {
            const int is = 8 * h + 2 * kStep + g;
            const VF table = hn::Mul(hn::Set(df, dl[k][is]), codes);
            for (size_t v = 0; v < kGroupVectors; ++v) {
              // Bit 2 from the hmask bit, the others from the shifted code
              // (one vpternlogd on AVX3).
              const VI code = hn::ShiftRight<2 * kStep>(qbytes[g][v]);
              const VI idx = BitSelect(k4, shift(hb[g][v]), code);
              out.Store(LookupTable(table, idx), o + 128 * h + 32 * kStep + 16 * g + v * lanes);
            }
          }
        };
        step(std::integral_constant<int, 0>(), [](VI b) HWY_ATTR { return hn::ShiftLeft<2>(b); });
        step(std::integral_constant<int, 1>(), [](VI b) HWY_ATTR { return hn::ShiftLeft<1>(b); });
        step(std::integral_constant<int, 2>(), [](VI b) HWY_ATTR { return b; });
        step(std::integral_constant<int, 3>(), [](VI b) HWY_ATTR { return hn::ShiftRight<1>(b); });
      }
    }
  }
#else
  const VI k1 = hn::Set(di, 1);
  const VI k3 = hn::Set(di, 3);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * 110;
    PrefetchInput<110>(block);
    const uint8_t* hmask = block;
    const uint8_t* qs = block + 32;
    const uint8_t* s = block + 96;
    const float d = LoadHalfFactor(block + 108);
    size_t o = static_cast<size_t>(b) * 256;
    int is = 0;
    for (int h = 0; h < 2; ++h) {
      for (int j = 0; j < 4; ++j) {
        for (int g = 0; g < 2; ++g, ++is, o += 16) {
          const int low = is < 8 ? (s[is] & 15) : (s[is - 8] >> 4);
          const int high = (s[8 + is % 4] >> (2 * (is / 4))) & 3;
          const VF dl = hn::Set(df, d * static_cast<float>((low | (high << 4)) - 32));
          for (size_t l = 0; l < 16; l += lanes) {
            const VI q =
                hn::And(hn::ShiftRightSame(LoadU8AsI32(qs + 32 * h + 16 * g + l), 2 * j), k3);
            const VI hb =
                hn::And(hn::ShiftRightSame(LoadU8AsI32(hmask + 16 * g + l), 4 * h + j), k1);
            const VI code = hn::Sub(hn::Add(q, hn::ShiftLeft<2>(hb)), k4);
            out.Store(hn::Mul(dl, ToFloat(code)), o + l);
          }
        }
      }
    }
  }
#endif
}

#if HWY_TARGET <= HWY_AVX3
// TQ2_0 to misaligned cached f32 output (ShiftedF32Output, s = o.shift).
// Group g = 4 (j / 32) + l of a block (its elements 32 g ..) decodes
// bytes qs[j ..] shifted by 2 l. The line at element 32 g + 16 - s reads
// bytes j + 16 - s .. of the group's own chunk (one load at that offset,
// as the aligned kernel); the line at 32 g - s takes lanes i < s from the
// previous group (bytes 32 - s + i of its chunk, its shift; for g = 0 the
// last group of the previous block and its table) and lanes i >= s from
// bytes i - s of this one: two loads blended per byte and per-lane shift
// counts. No permute is added and every store is aligned.
HWY_INLINE void DequantizeTQ2_0Shifted(const uint8_t* blocks, int64_t n_blocks, float* out) {
  const DF df;
  const DI di;
  const ShiftedF32Output o(out);
  const size_t s = o.shift;
  const __mmask16 low = o.low;
  const __mmask16 high = o.high;
  const VI k3 = hn::Set(di, 3);
  const VI k1 = hn::Set(di, 1);
  const VI iota = hn::Iota(di, 0);
  const auto low_lanes = hn::FirstN(di, s);
  // Shift counts of the line at 32 g - s for l = g % 4: 2 (l - 1) mod 8 in
  // lanes i < s, 2 l in the others.
  VI counts[4];
  for (int l = 0; l < 4; ++l) {
    counts[l] = hn::IfThenElse(low_lanes, hn::Set(di, 2 * ((l + 3) % 4)), hn::Set(di, 2 * l));
  }
  // The table repeats every four lanes, so the one-table permutes take the
  // shifted bytes unmasked; the two-table one (block boundary) reads index
  // bit 4 as the table: there the code is masked and the bit set for the
  // lanes of the current block's table.
  const VI current = hn::IfThenElse(low_lanes, hn::Zero(di), hn::Set(di, 16));
  const auto load = [](const uint8_t* p) HWY_ATTR {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  };
  VF table_prev = hn::Zero(df);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * 66;
    PrefetchInput<66>(block);
    const VF d = hn::Set(df, LoadHalfFactor(block + 64));
    const VF table = hn::Mul(ToFloat(hn::Sub(hn::And(iota, k3), k1)), d);
    float* line = o.base + static_cast<size_t>(b) * 256;
    for (int c = 0; c < 2; ++c) {
      const uint8_t* chunk = block + 32 * c;
      // Bytes of the lines at 32 g + 16 - s (all four groups of the chunk).
      const VI w_inner = LoadU8AsI32(chunk + 16 - s);
      // Bytes of the lines at 32 g - s, g = 4 c + 1 .. 4 c + 3: lanes i < s
      // from chunk + 32 - s + i, the others from chunk - s + i. Bytes before
      // the first block or past the last one are not read: masked loads
      // there (slower), plain loads and a blend elsewhere.
      const bool edge = c == 0 ? b == 0 : b == n_blocks - 1;
      const __m128i bytes =
          HWY_UNLIKELY(edge)
              ? _mm_mask_loadu_epi8(_mm_maskz_loadu_epi8(low, chunk + 32 - s), high, chunk - s)
              : _mm_mask_blend_epi8(low, load(chunk - s), load(chunk + 32 - s));
      const VI w_cross{_mm512_cvtepu8_epi32(bytes)};
      for (int l = 0; l < 4; ++l) {
        float* at = line + 128 * c + 32 * l;
        if (l > 0) {
          const VI idx = hn::Shr(w_cross, counts[l]);
          _mm512_store_ps(at, _mm512_permutexvar_ps(idx.raw, table.raw));
        } else if (c == 1) {
          // Group 4: lanes i < s are group 3's bytes 32 - s + i, the
          // others group 4's bytes i - s: both at chunk - s + i.
          const VI idx = hn::Shr(LoadU8AsI32(chunk - s), counts[0]);
          _mm512_store_ps(at, _mm512_permutexvar_ps(idx.raw, table.raw));
        } else if (b == 0) {
          // The first line: only lanes i >= s (bytes before qs not read).
          const VI w{_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(high, chunk - s))};
          const VI idx = hn::And(w, k3);
          _mm512_mask_store_ps(at, high, _mm512_permutexvar_ps(idx.raw, table.raw));
        } else {
          // Group 0: lanes i < s from the previous block's last group.
          const VI w{_mm512_cvtepu8_epi32(
              _mm_mask_blend_epi8(low, load(chunk - s), load(chunk - 66 + 64 - s)))};
          const VI idx{_mm512_ternarylogic_epi32(hn::Shr(w, counts[0]).raw, k3.raw,
                                                 current.raw, 0xEA)};  // (a & b) | c
          _mm512_store_ps(at, _mm512_permutex2var_ps(table_prev.raw, idx.raw, table.raw));
        }
        const VI idx = hn::ShiftRightSame(w_inner, 2 * l);
        _mm512_store_ps(at + 16, _mm512_permutexvar_ps(idx.raw, table.raw));
      }
    }
    table_prev = table;
  }
  if (n_blocks > 0) {
    // The last line: lanes i < s, bytes 32 - s + i of the last chunk, shift 6.
    const uint8_t* last = blocks + (n_blocks - 1) * 66 + 32;
    const VI w{_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(low, last + 32 - s))};
    const VI idx = hn::And(hn::ShiftRight<6>(w), k3);
    _mm512_mask_store_ps(o.base + static_cast<size_t>(n_blocks) * 256, low,
                         _mm512_permutexvar_ps(idx.raw, table_prev.raw));
  }
}
#endif

#if HWY_TARGET == HWY_AVX2
// TQ2_0 to misaligned cached f32 output on AVX2 (8 lanes, ShiftedF32Output,
// s = o.shift): the AVX3 kernel's scheme above with 32-byte lines. In group
// g = 4 c + l (chunk c = bytes 32 c .., shift 2 l) the lines at 32 g + 8 t
// - s, t = 1..3, read bytes 8 t - s .. of the chunk (three loads per chunk,
// as the aligned kernel's four); the line at 32 g - s takes lanes i < s
// from the previous group: for l > 0 bytes 32 - s + i of the same chunk
// (blended once per chunk with bytes i - s) and per-lane shift counts; for
// c = 1, l = 0 chunk 0's bytes, contiguous with chunk 1's; for c = 0, l = 0
// the previous block's last bytes and its table (two permutes and a
// blend, once per block). Every store is aligned: no line is split, where
// plain stores split every other one (0.58x aligned, the aligned kernel
// being store-bound). The first and last blocks are read from a padded
// copy, so no load reaches outside the input.
HWY_INLINE void DequantizeTQ2_0ShiftedAvx2(const uint8_t* blocks, int64_t n_blocks, float* out) {
  const DF df;
  const DI di;
  const ShiftedF32Output o(out);
  const size_t s = o.shift;
  const VI k3 = hn::Set(di, 3);
  const VI k1 = hn::Set(di, 1);
  const VI iota = hn::Iota(di, 0);
  const auto low_lanes = hn::FirstN(di, s);
  const auto low_lanes_f = hn::RebindMask(df, low_lanes);
  // Shift counts of the line at 32 g - s for l = g % 4: 2 (l - 1) mod 8 in
  // lanes i < s, 2 l in the others.
  VI counts[4];
  for (int l = 0; l < 4; ++l) {
    counts[l] = hn::IfThenElse(low_lanes, hn::Set(di, 2 * ((l + 3) % 4)), hn::Set(di, 2 * l));
  }
  const auto lookup = [](VF table, VI idx) HWY_ATTR {
    return VF{_mm256_permutevar8x32_ps(table.raw, idx.raw)};
  };
  const auto table_of = [&](const uint8_t* block) HWY_ATTR {
    return hn::Mul(ToFloat(hn::Sub(hn::And(iota, k3), k1)),
                   hn::Set(df, LoadHalfFactor(block + 64)));
  };
  // The lines of block b from element 256 b - s on; `block` is readable
  // from 9 bytes before it to 6 bytes past it. Block 0's first line is
  // the head: only its lanes i >= s are output.
  const auto run_block = [&](const uint8_t* block, VF table, VF table_prev, float* line,
                             bool first) HWY_ATTR {
    for (int c = 0; c < 2; ++c) {
      const uint8_t* chunk = block + 32 * c;
      VI inner[3];
      for (int t = 1; t < 4; ++t) inner[t - 1] = LoadU8AsI32(chunk + 8 * t - s);
      const VI cross =
          hn::IfThenElse(low_lanes, LoadU8AsI32(chunk + 32 - s), LoadU8AsI32(chunk - s));
      for (int l = 0; l < 4; ++l) {
        float* at = line + 128 * c + 32 * l;
        if (l > 0) {
          hn::Store(lookup(table, hn::Shr(cross, counts[l])), df, at);
        } else if (c == 1) {
          hn::Store(lookup(table, hn::Shr(LoadU8AsI32(chunk - s), counts[0])), df, at);
        } else {
          const VI w = hn::Shr(
              hn::IfThenElse(low_lanes, LoadU8AsI32(block - 2 - s), LoadU8AsI32(block - s)),
              counts[0]);
          const VF v = hn::IfThenElse(low_lanes_f, lookup(table_prev, w), lookup(table, w));
          if (first) {
            alignas(32) float head[8];
            hn::Store(v, df, head);
            std::memcpy(o.out, head + s, (8 - s) * sizeof(float));
          } else {
            hn::Store(v, df, at);
          }
        }
        for (int t = 1; t < 4; ++t) {
          hn::Store(lookup(table, hn::ShiftRightSame(inner[t - 1], 2 * l)), df, at + 8 * t);
        }
      }
    }
  };
  alignas(32) uint8_t pad[16 + 66 + 16];
  const auto padded = [&](int64_t b) {
    const uint8_t* block = blocks + b * 66;
    std::memset(pad, 0, sizeof pad);
    if (b > 0) std::memcpy(pad, block - 16, 16);
    std::memcpy(pad + 16, block, 66);
    if (b + 1 < n_blocks) std::memcpy(pad + 16 + 66, block + 66, 16);
    return static_cast<const uint8_t*>(pad + 16);
  };
  VF table_prev = hn::Zero(df);
  for (int64_t b = 0; b < n_blocks; ++b) {
    PrefetchInput<66>(blocks + b * 66);
    const uint8_t* block = b == 0 || b == n_blocks - 1 ? padded(b) : blocks + b * 66;
    const VF table = table_of(block);
    run_block(block, table, b == 0 ? table : table_prev, o.base + static_cast<size_t>(b) * 256,
              b == 0);
    table_prev = table;
  }
  // The tail: lanes i < s of the line at 256 n - s, the last group's bytes
  // 32 - s + i of chunk 1, shift 6.
  const uint8_t* last = padded(n_blocks - 1);
  alignas(32) float tail[8];
  hn::Store(lookup(table_prev, hn::ShiftRight<6>(LoadU8AsI32(last + 64 - s))), df, tail);
  std::memcpy(o.base + static_cast<size_t>(n_blocks) * 256, tail, s * sizeof(float));
}
#endif

// TQ2_0, 66 bytes: u8 qs[64]; half d. For j = 0, 32 and shift l = 0..3,
// 32 weights (qs[j + m] >> 2l) & 3 in 0..2; y = (q - 1) * d.
template <class Writer>
HWY_INLINE void DequantizeTQ2_0(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  const VI k3 = hn::Set(di, 3);
  const VI k1 = hn::Set(di, 1);
#if HWY_TARGET <= HWY_AVX3
  if constexpr (std::is_same_v<Writer, RealignF32>) {
    if (ShiftedF32Output(out.ptr()).shift != 0) {
      DequantizeTQ2_0Shifted(blocks, n_blocks, out.ptr());
      return;
    }
  }
#elif HWY_TARGET == HWY_AVX2
  if constexpr (std::is_same_v<Writer, RealignF32>) {
    if (n_blocks > 0 && ShiftedF32Output(out.ptr()).shift != 0) {
      DequantizeTQ2_0ShiftedAvx2(blocks, n_blocks, out.ptr());
      return;
    }
  }
#endif
  ScalesNoted(out);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * 66;
    PrefetchInput<66>(block);
    NoteHalfScale(out, block + 64);
    const VF d = hn::Set(df, LoadHalfFactor(block + 64));
#if HWY_TARGET <= HWY_AVX2
    // The three results (q - 1) * d for q = 0, 1, 2 (and 3, never written
    // by ggml but decoded alike) in lanes 0..3, repeated in every group of
    // four lanes: one permute per vector. The permute reads only the low
    // index bits (3 on AVX2, 4 on AVX3), whose top ones, above the code,
    // select among the copies: the shifted bytes need no mask.
    const VF table = hn::Mul(ToFloat(hn::Sub(hn::And(hn::Iota(di, 0), k3), k1)), d);
#endif
    size_t o = static_cast<size_t>(b) * 256;
    constexpr size_t kMaxVectors = 32 / hn::MaxLanes(DF());
    for (int j = 0; j < 64; j += 32) {
      // The same bytes feed four output vectors (shifts 0, 2, 4, 6); the
      // stores go in element order (RealignF32 needs it): shift outer.
      VI bytes[kMaxVectors];
      for (size_t m = 0; m < 32; m += lanes) bytes[m / lanes] = LoadU8AsI32(block + j + m);
      for (int l = 0; l < 4; ++l) {
        for (size_t m = 0; m < 32; m += lanes) {
          const VI shifted = hn::ShiftRightSame(bytes[m / lanes], 2 * l);
#if HWY_TARGET <= HWY_AVX3
          const VF v{_mm512_permutexvar_ps(shifted.raw, table.raw)};
#elif HWY_TARGET == HWY_AVX2
          const VF v{_mm256_permutevar8x32_ps(table.raw, shifted.raw)};
#else
          const VF v = hn::Mul(ToFloat(hn::Sub(hn::And(shifted, k3), k1)), d);
#endif
          out.Store(v, o + 32 * static_cast<size_t>(l) + m);
        }
      }
      o += 128;
    }
  }
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_K_QUANTS_INL_H_
