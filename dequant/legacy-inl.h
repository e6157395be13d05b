// Q4_0, Q4_1, Q5_0, Q5_1 SIMD dequantizers (per target).

#if defined(GGUFKIT_DEQUANT_LEGACY_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_LEGACY_INL_H_
#undef GGUFKIT_DEQUANT_LEGACY_INL_H_
#else
#define GGUFKIT_DEQUANT_LEGACY_INL_H_
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

// The legacy 32-weight formats, element i < 16 in the low nibble of qs[i] and
// element i + 16 in its high nibble:
//   Q4_0, 18 bytes: half d;          u8 qs[16]            y = (q - 8) * d
//   Q4_1, 20 bytes: half d; half m;  u8 qs[16]            y = q * d + m
//   Q5_0, 22 bytes: half d;          u8 qh[4]; u8 qs[16]  y = (q - 16) * d
//   Q5_1, 24 bytes: half d; half m;  u8 qh[4]; u8 qs[16]  y = q * d + m
// In Q5_*, bit k of the little-endian u32 qh is bit 4 of element k.
// Integer offsets are applied before the conversion (exact), so each output
// is one rounded product (plus one rounded sum for the _1 forms), as in ggml.

template <class Writer, bool kHasMin, bool kHasHighBits>
HWY_INLINE void DequantizeLegacy(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const DF df;
  const DI di;
  const size_t lanes = hn::Lanes(df);
  constexpr size_t kBlockBytes = 2 + (kHasMin ? 2 : 0) + (kHasHighBits ? 4 : 0) + 16;
  // Codes without a min are centred: 8 for 4-bit, 16 for 5-bit.
  const VI offset = hn::Set(di, kHasMin ? 0 : (kHasHighBits ? 16 : 8));
  const VI k15 = hn::Set(di, 15);
  const VI k1 = hn::Set(di, 1);
  ScalesNoted(out);
#if HWY_TARGET <= HWY_AVX3
  // 16 lanes, one vector per half block. Per block, a table holds the
  // output of every code (codes 0..15 in t0, 16..31 in t1), computed with the
  // ops and roundings of the formula above; each output vector is then one
  // permute: Q4_* vpermps from t0 (it reads index bits 3..0, so the low
  // nibble needs no mask), Q5_* vpermt2ps from t0 and t1 (index bits 4..0).
  (void)lanes;
  (void)k1;
  const VF code0 = ToFloat(hn::Sub(hn::Iota(di, 0), offset));
  const VF code1 = ToFloat(hn::Sub(hn::Iota(di, 16), offset));
  // Rotations (right) that bring qh bit j, j + 16 to bit 4 of lane j.
  const VI rotate_lo = hn::And(hn::Add(hn::Iota(di, 0), hn::Set(di, 28)), hn::Set(di, 31));
  const VI rotate_hi = hn::And(hn::Add(hn::Iota(di, 16), hn::Set(di, 28)), hn::Set(di, 31));
  // The scales (and mins) of a batch of 8 blocks are converted together:
  // gathered into one vector with scalar loads and integer shifts, converted
  // by one F16C instruction (as LoadHalfFactor) and stored; each block then
  // broadcasts its own from memory, a plain load. Converting and
  // broadcasting each block's halves in registers (vpinsrw, vcvtph2ps,
  // vbroadcastss per half) cost more than their share: Q4_1 ran at 0.60x
  // memset in cache against Q4_0's 0.84x, and 0.79x this way.
  constexpr int64_t kBatch = 8;
  // Two buffers: the halves of the next batch are converted before the
  // current batch's weights, so that no broadcast reads a store still in
  // flight (converting each batch just before its weights: Q4_1 0.44x).
  alignas(64) float buffers[2][2 * kBatch];  // d: 0..7, m: 8..15
  const auto convert_batch = [&](int64_t first, float* batch_halves) HWY_ATTR {
    const int64_t n = n_blocks - first < kBatch ? n_blocks - first : kBatch;
    const uint8_t* batch = blocks + first * static_cast<int64_t>(kBlockBytes);
    // d of blocks 0..7, then m likewise (GatherHalves8).
    const __m128i low = GatherHalves8(batch, kBlockBytes, n);
    const __m128i high = kHasMin ? GatherHalves8(batch + 2, kBlockBytes, n) : _mm_setzero_si128();
    const __m256i halves = _mm256_inserti128_si256(_mm256_castsi128_si256(low), high, 1);
    hn::Store(VF{_mm512_cvtph_ps(halves)}, df, batch_halves);
  };
  // Runs emit(block, t0, t1, qh, qs, b) for each block b in order (the
  // writer's emit notes the block's scales, ScaleNotes).
  const auto for_each_block = [&](const auto& emit) HWY_ATTR {
    if (n_blocks > 0) convert_batch(0, buffers[0]);
    for (int64_t first = 0; first < n_blocks; first += kBatch) {
      const int64_t n = n_blocks - first < kBatch ? n_blocks - first : kBatch;
      const uint8_t* batch = blocks + first * static_cast<int64_t>(kBlockBytes);
      const float* batch_halves = buffers[(first / kBatch) % 2];
      if (first + kBatch < n_blocks)
        convert_batch(first + kBatch, buffers[1 - (first / kBatch) % 2]);
      for (int64_t k = 0; k < n; ++k) {
        const uint8_t* block = batch + k * static_cast<int64_t>(kBlockBytes);
        PrefetchInput<kBlockBytes>(block);
        const uint8_t* p = block + (kHasMin ? 4 : 2);
        // The outputs of codes 0..15 and (Q5_*) 16..31: code * d (+ m), two
        // roundings as the reference, with d and m broadcast inside the
        // instructions (MulBroadcast). A vbroadcastss of each, shared by the
        // two tables, took a shuffle slot that the permutes need: AVX3 Q5_0
        // 3.83 -> 3.46 us and Q5_1 4.41 -> 4.13 us per 256 KiB, Q5_1 also
        // faster than its fused multiply-adds (one operation per table, but
        // two broadcasts). Q4_* (one table) were already compiled so.
        const float* d = &batch_halves[k];
        const float* m = &batch_halves[kBatch + k];
        const auto table = [&](VF codes) HWY_ATTR {
          return kHasMin ? AddBroadcast(MulBroadcast(codes, d), m) : MulBroadcast(codes, d);
        };
        const VF t0 = table(code0);
        const VF t1 = kHasHighBits ? table(code1) : t0;  // Q5_*: codes 16..31
        uint32_t qh = 0;
        if (kHasHighBits) {
          std::memcpy(&qh, p, 4);
          p += 4;
        }
        emit(block, t0, t1, qh, p, first + k);
      }
    }
  };
#if GGUFKIT_AVX512FP16
  // f16: d times the codes (centred), plus m (ScaledCodesHalfLines).
  const __m512i codes =
      kHasMin ? Iota32() : _mm512_sub_epi16(Iota32(), _mm512_set1_epi16(kHasHighBits ? 16 : 8));
  if (ScaledCodesHalfLines<kBlockBytes, kHasMin, kHasHighBits>(codes, blocks, n_blocks, out)) {
    return;
  }
#endif
  // f16 / bf16 output: the tables converted to halves and looked up by
  // vpermw (HalfTable), one line per block (HalfLines; Q4_*, the lighter
  // kernels, prefetch misaligned cached lines); Q5_*'s fifth bits go in
  // with one masked add of 16, qh being the mask of the 32 lanes.
  if (WriteHalfLines<!kHasHighBits>(out, [&](auto& lines) HWY_ATTR {
        constexpr bool kF16 = std::decay_t<decltype(lines)>::kF16;
        for_each_block([&](const uint8_t* block, VF t0, VF t1, uint32_t qh, const uint8_t* qs,
                           int64_t b) HWY_ATTR {
          const bool no_nan = kHasMin ? BothHalvesFinite(block) : FiniteHalf(block);
          if constexpr (kHasHighBits) {
            const __m512i nibbles = NibbleIndices(qs);
            const __m512i codes =
                _mm512_mask_add_epi16(nibbles, _cvtu32_mask32(qh), nibbles, _mm512_set1_epi16(16));
            lines.Line(_mm512_permutexvar_epi16(codes, HalfTable<kF16>(t0, t1, no_nan)),
                       static_cast<size_t>(b));
          } else {
            (void)t1;
            (void)qh;
            lines.Line(_mm512_permutexvar_epi16(NibbleIndices(qs), HalfTable<kF16>(t0, no_nan)),
                       static_cast<size_t>(b));
          }
        });
      })) {
    return;
  }
  for_each_block([&](const uint8_t* block, VF t0, VF t1, uint32_t qh, const uint8_t* p, int64_t b)
                     HWY_ATTR {
                       NoteHalfScale(out, block);
                       if (kHasMin) NoteHalfScale(out, block + 2);
                       const VI q = LoadU8AsI32(p);
                       const VI q_hi = hn::ShiftRight<4>(q);
                       const size_t base = static_cast<size_t>(b) * 32;
                       if (kHasHighBits) {
                         // Q5_*: the 5-bit code indexes the 32 outputs in t0 and t1 with one
                         // two-source permute (vpermt2ps reads index bits 4..0). Bit 4: qh
                         // broadcast and rotated per lane to put bit j (lane j's) at bit 4;
                         // then one vpternlogd takes bits 3..0 from the nibble (k15 ? q : h; the
                         // code as its first operand, which the instruction overwrites: no register
                         // copy).
                         const VI qh_all = hn::Set(di, static_cast<int32_t>(qh));
                         const VI h_lo{_mm512_rorv_epi32(qh_all.raw, rotate_lo.raw)};
                         const VI h_hi{_mm512_rorv_epi32(qh_all.raw, rotate_hi.raw)};
                         const VI lo{_mm512_ternarylogic_epi32(q.raw, k15.raw, h_lo.raw, 0xE2)};
                         const VI hi{_mm512_ternarylogic_epi32(q_hi.raw, k15.raw, h_hi.raw, 0xE2)};
                         out.Store(VF{_mm512_permutex2var_ps(t0.raw, lo.raw, t1.raw)}, base);
                         out.Store(VF{_mm512_permutex2var_ps(t0.raw, hi.raw, t1.raw)}, base + 16);
                       } else {
                         out.Store(VF{_mm512_permutexvar_ps(q.raw, t0.raw)}, base);
                         out.Store(VF{_mm512_permutexvar_ps(q_hi.raw, t0.raw)}, base + 16);
                       }
                     });
#elif HWY_TARGET == HWY_AVX2
  if constexpr (kHasHighBits) {
    // Q5_*: the 32 codes assembled as bytes in one 256-bit vector (element
    // j in byte j), then widened 8 at a time. qh's bits become byte masks
    // with one shuffle, OR and compare (byte j takes qh byte j / 8, ORed with
    // all bits but j % 8); the fifth bit then goes in with an AND (Q5_1: 16)
    // or ANDNOT (Q5_0: the code minus 16 as a signed byte is the nibble
    // ORed with 0xF0 where the bit is clear). About two thirds of the
    // operations of the lane-wise shifts below, which the Q4_* formats keep:
    // Q5_0 6.23 -> 5.13 us, Q5_1 6.01 -> 5.58 us per 256 KiB (A/B, Zen 4).
    (void)lanes;
    (void)k15;
    (void)k1;
    const __m256i spread = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i others = _mm256_set1_epi64x(static_cast<int64_t>(0x7FBFDFEFF7FBFDFEull));
    const __m256i ones = _mm256_set1_epi8(-1);
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const __m256i fifth = _mm256_set1_epi8(kHasMin ? 0x10 : static_cast<char>(0xF0));
    for (int64_t b = 0; b < n_blocks; ++b) {
      const uint8_t* block = blocks + b * kBlockBytes;
      PrefetchInput<kBlockBytes>(block);
      NoteHalfScale(out, block);
      if (kHasMin) NoteHalfScale(out, block + 2);
      const VF d = HalfFactorVec(block);
      const VF m = kHasMin ? HalfFactorVec(block + 2) : hn::Zero(df);
      const uint8_t* p = block + (kHasMin ? 4 : 2);
      uint32_t qh;
      std::memcpy(&qh, p, 4);
      const __m128i qs = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 4));
      const __m256i nibbles = _mm256_and_si256(
          _mm256_inserti128_si256(_mm256_castsi128_si256(qs), _mm_srli_epi16(qs, 4), 1), nibble);
      const __m256i bits = _mm256_cmpeq_epi8(
          _mm256_or_si256(_mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int32_t>(qh)), spread),
                          others),
          ones);
      const __m256i codes = _mm256_or_si256(
          nibbles, kHasMin ? _mm256_and_si256(bits, fifth) : _mm256_andnot_si256(bits, fifth));
      // Unsigned for Q5_1, signed (code - 16) for Q5_0.
      VI c[4];
      WidenBytes32<!kHasMin>(codes, c);
      const size_t base = static_cast<size_t>(b) * 32;
      const auto run_block = [&](auto fused) HWY_ATTR {
        for (size_t v = 0; v < 4; ++v) {
          const VF code = ToFloat(c[v]);
          out.Store(kHasMin ? ProductPlus<decltype(fused)::value>(code, d, m) : hn::Mul(code, d),
                    base + 8 * v);
        }
      };
      // Fused where d and m are finite (exact products, see ProductMinus).
      WithExactProducts(kHasMin && BothHalvesFinite(block), run_block);
    }
    return;
  }
  // Q4_*: below.
#endif
#if HWY_TARGET > HWY_AVX3
  constexpr size_t kCodeVectors = 16 / hn::MaxLanes(DF());
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * kBlockBytes;
    PrefetchInput<kBlockBytes>(block);
    NoteHalfScale(out, block);
    if (kHasMin) NoteHalfScale(out, block + 2);
    const VF d = HalfFactorVec(block);
    const VF m = kHasMin ? HalfFactorVec(block + 2) : hn::Zero(df);
    const uint8_t* p = block + (kHasMin ? 4 : 2);
    uint32_t qh = 0;
    if (kHasHighBits) {
      std::memcpy(&qh, p, 4);
      p += 4;
    }
    const VI high_bits = hn::Set(di, static_cast<int32_t>(qh));
    const size_t base = static_cast<size_t>(b) * 32;
    // Stores in element order (all low codes, then all high ones), the codes
    // kept in registers: misaligned output runs faster when consecutive
    // stores go to consecutive addresses.
    const auto run_block = [&](auto fused) HWY_ATTR {
      const auto emit = [&](VI code, size_t at) HWY_ATTR {
        if (kHasMin) {
          out.Store(ProductPlus<decltype(fused)::value>(ToFloat(code), d, m), at);
        } else {
          out.Store(hn::Mul(ToFloat(hn::Sub(code, offset)), d), at);
        }
      };
      VI hi[kCodeVectors];
      for (size_t v = 0; v < kCodeVectors; ++v) {
        const size_t i = v * lanes;
        const VI q = LoadU8AsI32(p + i);
        VI lo = hn::And(q, k15);
        hi[v] = hn::ShiftRight<4>(q);
        if (kHasHighBits) {
          const VI lane = hn::Iota(di, static_cast<int32_t>(i));
          lo = hn::Or(lo, hn::ShiftLeft<4>(hn::And(hn::Shr(high_bits, lane), k1)));
          hi[v] = hn::Or(hi[v], hn::ShiftLeft<4>(hn::And(
                                    hn::Shr(high_bits, hn::Add(lane, hn::Set(di, 16))), k1)));
        }
        emit(lo, base + i);
      }
      for (size_t v = 0; v < kCodeVectors; ++v) emit(hi[v], base + 16 + v * lanes);
    };
    // Fused where d and m are finite (exact products, see ProductMinus).
    WithExactProducts(kHasMin && BothHalvesFinite(block), run_block);
  }
#endif
}

template <class Writer>
HWY_INLINE void DequantizeQ4_0(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  DequantizeLegacy<Writer, false, false>(blocks, n_blocks, out);
}
template <class Writer>
HWY_INLINE void DequantizeQ4_1(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  DequantizeLegacy<Writer, true, false>(blocks, n_blocks, out);
}
template <class Writer>
HWY_INLINE void DequantizeQ5_0(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  DequantizeLegacy<Writer, false, true>(blocks, n_blocks, out);
}
template <class Writer>
HWY_INLINE void DequantizeQ5_1(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  DequantizeLegacy<Writer, true, true>(blocks, n_blocks, out);
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_LEGACY_INL_H_
