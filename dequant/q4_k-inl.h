// Q4_K SIMD dequantizer (per target). Format: quants/block_*.h and docs/types.md.

#if defined(GGUFKIT_DEQUANT_Q4_K_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_Q4_K_INL_H_
#undef GGUFKIT_DEQUANT_Q4_K_INL_H_
#else
#define GGUFKIT_DEQUANT_Q4_K_INL_H_
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

// Q4_K, 144 bytes per 256 weights:
//   byte 0..1    half d        (scale of the 6-bit sub-block scales)
//   byte 2..3    half dmin     (scale of the 6-bit sub-block mins)
//   byte 4..15   u8 scales[12] (eight 6-bit scales sc and eight 6-bit mins m)
//   byte 16..143 u8 qs[128]    (4-bit codes)
// Sub-block j (32 weights): j < 4: sc = scales[j] & 63, m = scales[j+4] & 63;
// j >= 4: sc = (scales[j+4] & 15) | (scales[j-4] >> 6) << 4,
//         m  = (scales[j+4] >> 4) | (scales[j]   >> 6) << 4.
// Chunk c (64 weights) reads qs[32c .. 32c+31]: low nibbles are sub-block 2c,
// high nibbles sub-block 2c+1. y = (d * sc) * q - (dmin * m): two products and
// a subtraction, rounded separately in ggml's order (no fused multiply-add).
inline constexpr size_t kQ4_KBlockBytes = 144;

// All 8 scale products d * sc[j] (lanes 0..7) and min products dmin * m[j]
// (lanes 8..15) of one block at once, written to products[16]. Two byte
// shuffles gather, per lane, the scale byte holding the low bits (low) and
// the one holding the two high bits (high) of that lane's 6-bit value, which
// is assembled in bytes; the products are the same single roundings as the
// scalar d * sc.
HWY_INLINE void Q4_KScaleProducts(const uint8_t* block, float* products) {
  const DF df;
  const DI di;
  const hn::Full128<uint8_t> du8;
  // Lane L: j = L % 8, min if L >= 8. Offsets are into scales[] (block + 4);
  // the 16-byte load also reads 4 code bytes, which no index selects.
  alignas(16) static constexpr uint8_t kLowByte[16] = {0, 1, 2, 3, 8, 9, 10, 11,
                                                       4, 5, 6, 7, 8, 9, 10, 11};
  alignas(16) static constexpr uint8_t kHighByte[16] = {0, 0, 0, 0, 0, 1, 2, 3,
                                                        0, 0, 0, 0, 4, 5, 6, 7};
  // value = (low & kKeep) | ((low >> 4) & kLowHigh) | ((high >> 2) & kTop):
  // sc[j<4] = low & 63, m[j<4] = low & 63, sc[j>=4] = (low & 15) | top,
  // m[j>=4] = (low >> 4) | top, top = (high >> 6) << 4.
  alignas(16) static constexpr uint8_t kKeep[16] = {63, 63, 63, 63, 15, 15, 15, 15,
                                                    63, 63, 63, 63, 0,  0,  0,  0};
  alignas(16) static constexpr uint8_t kLowHigh[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                                       0, 0, 0, 0, 15, 15, 15, 15};
  alignas(16) static constexpr uint8_t kTop[16] = {0, 0, 0, 0, 48, 48, 48, 48,
                                                   0, 0, 0, 0, 48, 48, 48, 48};
  const auto bytes = hn::LoadU(du8, block + 4);
  const auto low = hn::TableLookupBytes(bytes, hn::Load(du8, kLowByte));
  const auto high = hn::TableLookupBytes(bytes, hn::Load(du8, kHighByte));
  const auto value = hn::Or(hn::Or(hn::And(low, hn::Load(du8, kKeep)),
                                   hn::And(hn::ShiftRight<4>(low), hn::Load(du8, kLowHigh))),
                            hn::And(hn::ShiftRight<2>(high), hn::Load(du8, kTop)));
#if HWY_TARGET <= HWY_AVX3
  const VF d_or_dmin = hn::IfThenElse(hn::RebindMask(df, hn::Lt(hn::Iota(di, 0), hn::Set(di, 8))),
                                      hn::Set(df, LoadHalfFactor(block)),
                                      hn::Set(df, LoadHalfFactor(block + 2)));
  hn::Store(hn::Mul(d_or_dmin, ToFloat(hn::PromoteTo(di, value))), df, products);
#else
  // Fewer than 16 lanes: widen the 16 values a vector at a time.
  (void)di;
  alignas(16) uint8_t values[16];
  hn::Store(value, du8, values);
  const size_t lanes = hn::Lanes(df);
  const VF d = hn::Set(df, LoadHalfFactor(block));
  const VF dmin = hn::Set(df, LoadHalfFactor(block + 2));
  for (size_t i = 0; i < 16; i += lanes) {
    hn::Store(hn::Mul(i < 8 ? d : dmin, ToFloat(LoadU8AsI32(values + i))), df, products + i);
  }
#endif
}

// The scale products of up to kBatch consecutive Q4_K / Q5_K blocks. Kernels
// decode a whole batch before they write any of its weights: the decode is a
// long dependency chain (shuffles, convert, multiply, store, reload), and
// decoding each block just before its weights stalled the weight loop (Q4_K:
// 3.6x the reference instead of 4.0x in bench_dequant's 256 KiB case).
struct KQuantScaleBatch {
  static constexpr int64_t kBatch = 8;
  alignas(64) float products[kBatch][16];

  // Decodes blocks first .. min(first + kBatch, n_blocks) - 1 (block_bytes
  // apart) and returns how many that is.
  HWY_INLINE int64_t Decode(const uint8_t* blocks, size_t block_bytes, int64_t first,
                            int64_t n_blocks) {
    const int64_t n = n_blocks - first < kBatch ? n_blocks - first : kBatch;
    for (int64_t k = 0; k < n; ++k) {
      Q4_KScaleProducts(blocks + static_cast<size_t>(first + k) * block_bytes, products[k]);
    }
    return n;
  }
};

// Calls body(products, block, base) for each of n_blocks Q4_K / Q5_K blocks
// (kBlockBytes apart), with the block's 16 scale products and the index of
// its first output element, decoding the products a batch ahead.
template <size_t kBlockBytes, class Body>
HWY_INLINE void ForEachKQuantBlock(const uint8_t* blocks, int64_t n_blocks, const Body& body) {
  KQuantScaleBatch batch;
  for (int64_t first = 0; first < n_blocks; first += KQuantScaleBatch::kBatch) {
    const int64_t n = batch.Decode(blocks, kBlockBytes, first, n_blocks);
    for (int64_t k = 0; k < n; ++k) {
      const size_t b = static_cast<size_t>(first + k);
      PrefetchInput<kBlockBytes>(blocks + b * kBlockBytes);
      body(batch.products[k], blocks + b * kBlockBytes, b * 256);
    }
  }
}

// Notes a Q4_K or Q5_K block's d and dmin (bytes 0..3) for `out`
// (ScaleNotes, output-inl.h).
template <class Writer>
HWY_INLINE void NoteKQuantScales(Writer& out, const uint8_t* block) {
  NoteHalfScale(out, block);
  NoteHalfScale(out, block + 2);
}

// Chunk c's (64 weights) scales from a block's products, broadcast: d and
// m of sub-block 2c (its low nibbles) and of sub-block 2c + 1 (high).
struct KQuantChunkScales {
  VF d_lo, m_lo, d_hi, m_hi;
  HWY_INLINE KQuantChunkScales(const float* products, int c)
      : d_lo(hn::Set(DF(), products[2 * c])),
        m_lo(hn::Set(DF(), products[8 + 2 * c])),
        d_hi(hn::Set(DF(), products[2 * c + 1])),
        m_hi(hn::Set(DF(), products[8 + 2 * c + 1])) {}
};

#if HWY_TARGET <= HWY_AVX3
// Chunk c's two tables of Q4_K outputs, lane q the output of code q:
// (d * sc) * q - dmin * m with the reference's two roundings, for sub-block
// 2c (lo, the low nibbles) and 2c + 1 (hi).
struct Q4_KChunkTables {
  VF lo, hi;
  HWY_INLINE Q4_KChunkTables(const float* products, int c, VF codes) {
    const KQuantChunkScales sc(products, c);
    lo = hn::Sub(hn::Mul(sc.d_lo, codes), sc.m_lo);
    hi = hn::Sub(hn::Mul(sc.d_hi, codes), sc.m_hi);
  }
};

// Q4_K to f32 output off its line alignment (ShiftedLines: cached or
// streamed; s = lines.shift). In
// chunk c (64 weights, bytes qs[32 c ..]), the line at element 16 t - s:
//   t = 1, 3: low / high nibbles of bytes 16 - s .. (one load, as aligned);
//   t = 0: lanes i < s: high nibbles of the previous chunk's bytes 32 - s + i
//          (its high table; for c = 0 the previous block's chunk 3), the
//          others: low nibbles of bytes i - s; all at qs + 32 c - s + i;
//   t = 2: lanes i < s: low nibbles of bytes 32 - s + i, the others: high
//          nibbles of bytes i - s, both tables of the chunk.
// Two-nibble lines are a permute of the low nibbles merged with a
// merge-masked permute of the high ones: two permutes for 32 weights more
// than aligned output, against four for RealignF32 (and faster than one
// vpermt2ps with per-lane shifts and a table bit). Every store is aligned.
template <class Lines>
HWY_INLINE void DequantizeQ4_KShifted(const uint8_t* blocks, int64_t n_blocks, const Lines& lines) {
  const DF df;
  const DI di;
  const size_t s = lines.shift;
  const __mmask16 low = lines.low;
  const __mmask16 high = lines.high;
  const VF codes = ToFloat(hn::Iota(di, 0));
  const auto low_lanes = hn::FirstN(di, s);
  const auto load = [](const uint8_t* p) HWY_ATTR {
    return _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  };
  VF prev_hi = hn::Zero(df);  // the previous chunk's high table
  VI prev_next = hn::Zero(di);  // the previous block's bytes qs + 128 - s ..
  ForEachKQuantBlock<kQ4_KBlockBytes>(
      blocks, n_blocks, [&](const float* products, const uint8_t* block, size_t base) HWY_ATTR {
        const uint8_t* qs = block + 16;
        const bool last = base / 256 + 1 == static_cast<size_t>(n_blocks);
        VI v = LoadU8AsI32(qs - s);  // bytes qs + 32 c - s .. (c = 0 here)
        for (int c = 0; c < 4; ++c) {
          const Q4_KChunkTables tables(products, c, codes);
          const uint8_t* p = qs + 32 * c;
          // Bytes 32 - s .. of the chunk (c = 3: past the block; only lanes
          // i < s are used, and past the last block only they are read).
          const VI next{_mm512_cvtepu8_epi32(c == 3 && last ? _mm_maskz_loadu_epi8(low, p + 32 - s)
                                                            : load(p + 32 - s))};
          const VI inner = LoadU8AsI32(p + 16 - s);
          const size_t at = base + 64 * c;
          // High nibbles of v: lanes i < s for t = 0 (from the previous
          // table), lanes i >= s for t = 2; merge-masked permutes.
          const VI v_hi = hn::ShiftRight<4>(c > 0 ? v : hn::IfThenElse(low_lanes, prev_next, v));
          const __m512 lo_v = _mm512_permutexvar_ps(v.raw, tables.lo.raw);
          if (c > 0 || base > 0) {
            lines.Line(VF{_mm512_mask_permutexvar_ps(lo_v, low, v_hi.raw, prev_hi.raw)}, at);
          } else {
            lines.Part(VF{lo_v}, high, at);
          }
          lines.Line(VF{_mm512_permutexvar_ps(inner.raw, tables.lo.raw)}, at + 16);
          lines.Line(VF{_mm512_mask_permutexvar_ps(_mm512_permutexvar_ps(next.raw, tables.lo.raw),
                                                   high, v_hi.raw, tables.hi.raw)},
                     at + 32);
          lines.Line(VF{_mm512_permutexvar_ps(hn::ShiftRight<4>(inner).raw, tables.hi.raw)},
                     at + 48);
          prev_hi = tables.hi;
          v = next;
        }
        prev_next = v;
      });
  if (n_blocks > 0) {
    // The last s elements: high nibbles of the last chunk's bytes 32 - s ..
    lines.Part(VF{_mm512_permutexvar_ps(hn::ShiftRight<4>(prev_next).raw, prev_hi.raw)}, low,
               static_cast<size_t>(n_blocks) * 256);
  }
}
#endif

template <class Writer>
HWY_INLINE void DequantizeQ4_K(const uint8_t* blocks, int64_t n_blocks, Writer& out) {
  const DF df;
  const size_t lanes = hn::Lanes(df);
#if HWY_TARGET <= HWY_AVX3
  // Per sub-block, 16 lanes hold the result for every code 0..15, computed
  // with the same two roundings as ggml; one permute per output vector then
  // replaces the convert, multiply and subtract. vpermps reads only bits 3..0
  // of each index lane, so the low nibble needs no mask (raw intrinsic:
  // Highway's TableLookupLanes requires indices already in range).
  const VF codes = ToFloat(hn::Iota(DI(), 0));
  // f16 / bf16 output: each sub-block's table converted to halves once and
  // looked up by vpermw, one line per sub-block (HalfLines, prefetching
  // misaligned cached lines); the 32 bytes of a chunk widened to 16-bit
  // indices once for both.
  if (WriteHalfLines</*kPrefetch=*/true>(out, [&](auto& lines) HWY_ATTR {
        constexpr bool kF16 = std::decay_t<decltype(lines)>::kF16;
        ForEachKQuantBlock<kQ4_KBlockBytes>(
            blocks, n_blocks,
            [&](const float* products, const uint8_t* block, size_t base) HWY_ATTR {
              const bool no_nan = BothHalvesFinite(block);
              const uint8_t* qs = block + 16;
              for (int c = 0; c < 4; ++c) {
                const Q4_KChunkTables tables(products, c, codes);
                const __m512i bytes = _mm512_cvtepu8_epi16(
                    _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * c)));
                const size_t line = base / 32 + 2 * static_cast<size_t>(c);
                lines.Line(_mm512_permutexvar_epi16(_mm512_and_si512(bytes, _mm512_set1_epi16(15)),
                                                    HalfTable<kF16>(tables.lo, no_nan)),
                           line);
                lines.Line(_mm512_permutexvar_epi16(_mm512_srli_epi16(bytes, 4),
                                                    HalfTable<kF16>(tables.hi, no_nan)),
                           line + 1);
              }
            });
      })) {
    return;
  }
  if (WriteShiftedLines(out, [&](const auto& lines)
                                 HWY_ATTR { DequantizeQ4_KShifted(blocks, n_blocks, lines); })) {
    return;
  }
  ScalesNoted(out);
  ForEachKQuantBlock<kQ4_KBlockBytes>(
      blocks, n_blocks, [&](const float* products, const uint8_t* block, size_t base) HWY_ATTR {
        NoteKQuantScales(out, block);
        const uint8_t* qs = block + 16;
        for (int c = 0; c < 4; ++c) {
          const Q4_KChunkTables tables(products, c, codes);
          // Stores in element order (RealignF32 needs it): both low halves first.
          (void)lanes;
          const VI q0 = LoadU8AsI32(qs + 32 * c);
          const VI q1 = LoadU8AsI32(qs + 32 * c + 16);
          out.Store(VF{_mm512_permutexvar_ps(q0.raw, tables.lo.raw)}, base + 64 * c);
          out.Store(VF{_mm512_permutexvar_ps(q1.raw, tables.lo.raw)}, base + 64 * c + 16);
          out.Store(VF{_mm512_permutexvar_ps(hn::ShiftRight<4>(q0).raw, tables.hi.raw)},
                    base + 64 * c + 32);
          out.Store(VF{_mm512_permutexvar_ps(hn::ShiftRight<4>(q1).raw, tables.hi.raw)},
                    base + 64 * c + 48);
        }
      });
#else
  const VI low_nibble = hn::Set(DI(), 15);
  constexpr size_t kCodeVectors = 32 / hn::MaxLanes(DF());
  ScalesNoted(out);
  ForEachKQuantBlock<kQ4_KBlockBytes>(
      blocks, n_blocks, [&](const float* products, const uint8_t* block, size_t base) HWY_ATTR {
        NoteKQuantScales(out, block);
        const uint8_t* qs = block + 16;
        const auto run_block = [&](auto fused) HWY_ATTR {
          constexpr bool kExact = decltype(fused)::value;
          for (int c = 0; c < 4; ++c) {
            const KQuantChunkScales sc(products, c);
            // Stores in element order, the codes kept in registers: misaligned
            // output runs faster when consecutive stores go to consecutive
            // addresses (AVX2 +4: 0.71x -> 0.85x aligned, aligned unchanged).
            VI q[kCodeVectors];
            for (size_t v = 0; v < kCodeVectors; ++v) {
              q[v] = LoadU8AsI32(qs + 32 * c + v * lanes);
              const VF lo = ToFloat(hn::And(q[v], low_nibble));
              out.Store(ProductMinus<kExact>(sc.d_lo, lo, sc.m_lo), base + 64 * c + v * lanes);
            }
            for (size_t v = 0; v < kCodeVectors; ++v) {
              const VF hi = ToFloat(hn::ShiftRight<4>(q[v]));
              out.Store(ProductMinus<kExact>(sc.d_hi, hi, sc.m_hi), base + 64 * c + 32 + v * lanes);
            }
          }
        };
        // One fused multiply-subtract per vector where d and dmin are finite:
        // d * sc has at most 17 significant bits and the code 4, so every
        // product is exact (see ProductMinus).
        WithExactProducts(BothHalvesFinite(block), run_block);
      });
#endif
}

#endif  // HWY_TARGET != HWY_SCALAR
}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_Q4_K_INL_H_
