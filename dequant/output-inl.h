// Per-target helpers shared by every dequant kernel: widening loads of codes
// and the three output writers (f32, f16, bf16).
//
// The f16 and bf16 writers reproduce quants/half.h bit for bit with integer
// and float vector ops instead of Highway's DemoteTo, because Highway 1.0.3's
// f32 -> bf16 DemoteTo truncates, and its f32 -> f16 DemoteTo (F16C on AVX2+,
// an emulation below) keeps NaN payloads where ggml writes the canonical quiet
// NaN 0x7E00. The result therefore does not depend on the target.

// Per-target include guard (Highway's pattern for *-inl.h).
#if defined(GGUFKIT_DEQUANT_OUTPUT_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef GGUFKIT_DEQUANT_OUTPUT_INL_H_
#undef GGUFKIT_DEQUANT_OUTPUT_INL_H_
#else
#define GGUFKIT_DEQUANT_OUTPUT_INL_H_
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ggufkit/dequant/kernels.h"
#include "hwy/highway.h"
#include "ggufkit/quants/half.h"

// AVX512-FP16, which Highway 1.0.3 has no target for: inside AVX3
// targets, GGUFKIT_AVX512FP16 is 1 where the compiler has it (GCC 12+;
// Clang's target pragma would not combine with a second attribute), and a
// function marked GGUFKIT_ATTR_AVX512FP16 may use it, called only where
// dequant_internal::Avx512Fp16Enabled().
#undef GGUFKIT_AVX512FP16
#undef GGUFKIT_ATTR_AVX512FP16
#if HWY_TARGET <= HWY_AVX3 && HWY_ARCH_X86_64 && HWY_COMPILER_GCC_ACTUAL >= 1200
#define GGUFKIT_AVX512FP16 1
#define GGUFKIT_ATTR_AVX512FP16 __attribute__((target("avx512fp16")))
#else
#define GGUFKIT_AVX512FP16 0
#endif

HWY_BEFORE_NAMESPACE();
namespace ggufkit {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using dequant_internal::Misaligned;

// HWY_SCALAR always uses the reference codecs (see dispatch.cc): with GCC
// 12.2 its byte-table lookups gave wrong lanes, and it would be no faster.
#if HWY_TARGET != HWY_SCALAR

// The layouts below assume a vector holds at most 16 floats (AVX3), so that
// every 16- and 32-element group of a block is a whole number of vectors.
static_assert(HWY_MAX_BYTES <= 64, "kernels assume at most 16 f32 lanes");

using DF = hn::ScalableTag<float>;
using DI = hn::RebindToSigned<DF>;
using DU = hn::RebindToUnsigned<DF>;
using VF = hn::Vec<DF>;
using VI = hn::Vec<DI>;

// A prefetch of a kernel's input kInputPrefetchBytes ahead of the block it
// decodes (at least one per 64 bytes of blocks, so every line is touched).
// Out of cache the hardware prefetchers did not keep the input coming while
// the output streamed out, and every kernel operation that stood between
// the loads of two blocks slowed it (Intel Xeon, AVX3, 64 MiB of f16
// output: Q6_K 0.93-0.95 -> 1.37-1.43x memset, Q4_K 1.38-1.45 -> 1.56-1.60;
// misaligned output, whose realigning permute adds two operations per line,
// 0.88-1.01x aligned before, 0.91-1.00 after; docs/performance.md, the
// twenty-second pass). A prefetch never faults; the last ones reach past
// the input.
inline constexpr size_t kInputPrefetchBytes = 2048;
template <size_t kBlockBytes>
HWY_INLINE void PrefetchInput(const uint8_t* block) {
  const uintptr_t ahead = reinterpret_cast<uintptr_t>(block) + kInputPrefetchBytes;
  for (size_t offset = 0; offset < kBlockBytes; offset += 64) {
    __builtin_prefetch(reinterpret_cast<const void*>(ahead + offset), 0, 3);
  }
}

// Reads a little-endian binary16 scale from unaligned block bytes.
HWY_INLINE float LoadHalf(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, sizeof h);
  return F16ToF32(h);
}

// Whether the binary16 field at p is finite (neither Inf nor NaN).
HWY_INLINE bool FiniteHalf(const uint8_t* p) { return (p[1] & 0x7C) != 0x7C; }

// Whether both binary16 fields at p and p + 2 are finite (neither Inf nor
// NaN). Kernels use it to pick a block's exact fused path (see ProductMinus).
HWY_INLINE bool BothHalvesFinite(const uint8_t* p) {
  uint32_t h;
  std::memcpy(&h, p, sizeof h);
  return ((h & 0x7C00u) != 0x7C00u) & ((h & 0x7C000000u) != 0x7C000000u);
}

// y = p * code - m, as the reference computes it: a rounded product, then a
// rounded subtraction. Where every product p * code is exact in f32 (the
// caller's proof: p has at most 24 - b significant bits, codes are integers
// below 2^b, and no product leaves the normal range) and neither p nor m is
// NaN, a fused multiply-subtract rounds the same exact difference once, so
// it returns the same bits, zeros' signs included; kExact selects it (one
// operation instead of two). NaN operands take the two-operation form
// because the fused instruction's choice among several NaN inputs follows
// its operand encoding, not the reference's order.
template <bool kExact, bool kMinus = true>
HWY_INLINE VF ProductMinus(VF p, VF codes, VF m) {
  if constexpr (kExact) {
    return kMinus ? hn::MulSub(p, codes, m) : hn::MulAdd(p, codes, m);
  } else {
    const VF product = hn::Mul(p, codes);
    return kMinus ? hn::Sub(product, m) : hn::Add(product, m);
  }
}

// y = code * d + m (the legacy _1 formats), under ProductMinus's conditions.
template <bool kExact>
HWY_INLINE VF ProductPlus(VF codes, VF d, VF m) {
  return ProductMinus<kExact, false>(codes, d, m);
}

// v * *p, v - *p and v + *p: one rounded IEEE operation each, v the first
// operand (the one whose NaN x86 returns when both are NaN, as in the
// reference's `product - m`), with the scalar broadcast inside the
// instruction on AVX3 (m32{1to16}). Where one scalar serves several vectors
// the compiler otherwise broadcasts it once with vbroadcastss, which on Zen 4
// takes a shuffle pipe slot as a permute does (bench_x86_probe: a permute and
// a vbroadcastss 2 cycles per pair, a permute and an embedded-broadcast
// multiply 1.33, as with a plain one).
#if HWY_TARGET <= HWY_AVX3 && HWY_ARCH_X86_64 && (defined(__GNUC__) || defined(__clang__))
HWY_INLINE VF MulBroadcast(VF v, const float* p) {
  VF r;
  asm("vmulps %1%{1to16%}, %2, %0" : "=v"(r.raw) : "m"(*p), "v"(v.raw));
  return r;
}
HWY_INLINE VF SubBroadcast(VF v, const float* p) {
  VF r;
  asm("vsubps %1%{1to16%}, %2, %0" : "=v"(r.raw) : "m"(*p), "v"(v.raw));
  return r;
}
HWY_INLINE VF AddBroadcast(VF v, const float* p) {
  VF r;
  asm("vaddps %1%{1to16%}, %2, %0" : "=v"(r.raw) : "m"(*p), "v"(v.raw));
  return r;
}
#else
HWY_INLINE VF MulBroadcast(VF v, const float* p) { return hn::Mul(v, hn::Set(DF(), *p)); }
HWY_INLINE VF SubBroadcast(VF v, const float* p) { return hn::Sub(v, hn::Set(DF(), *p)); }
HWY_INLINE VF AddBroadcast(VF v, const float* p) { return hn::Add(v, hn::Set(DF(), *p)); }
#endif

// Calls f(std::true_type()) when `exact` (the caller has proved
// ProductMinus's conditions for the fused form), else f(std::false_type()):
// one instantiation of the kernel body per form, chosen once per block or
// batch.
template <class F>
HWY_INLINE void WithExactProducts(bool exact, const F& f) {
  if (exact) {
    f(std::true_type());
  } else {
    f(std::false_type());
  }
}

// A binary16 scale that is only used as a factor of a product: F16C's
// conversion where the target has it (one instruction instead of a branchy
// bit-by-bit decode). It differs from F16ToF32 only by quieting signaling
// NaNs, and every product quiets them anyway, so the outputs are identical.
HWY_INLINE float LoadHalfFactor(const uint8_t* p) {
#if HWY_TARGET <= HWY_AVX2
  uint16_t h;
  std::memcpy(&h, p, sizeof h);
  return _cvtsh_ss(h);
#else
  return LoadHalf(p);
#endif
}

// LoadHalfFactor(p) in every lane. On AVX2 the half is broadcast, then
// converted as a vector: two operations instead of a scalar insert, convert
// and broadcast (Q4_0 .. Q5_1 3-10 %, IQ4_NL 3.5 % faster there). On AVX3
// the 512-bit conversion measured 1-6 % slower than the scalar one and its
// broadcast (IQ4_NL, Q8_0), so there it is that.
HWY_INLINE VF HalfFactorVec(const uint8_t* p) {
#if HWY_TARGET == HWY_AVX2
  int16_t h;
  std::memcpy(&h, p, sizeof h);
  return VF{_mm256_cvtph_ps(_mm_set1_epi16(h))};
#else
  return hn::Set(DF(), LoadHalfFactor(p));
#endif
}

#if HWY_TARGET <= HWY_AVX2
// The halves at p + k * stride, k = 0 .. 7 (0 for k >= n), in the 16-bit
// lanes of a vector: gathered with scalar loads and shifts into two 64-bit
// words and built in registers (vmovq, vpinsrq; with an indexed array GCC
// kept the words on the stack, and a vector load of them would wait for
// their stores).
HWY_INLINE __m128i GatherHalves8(const uint8_t* p, size_t stride, int64_t n) {
  const auto half = [&](int64_t k) -> uint64_t {
    if (k >= n) return 0;
    uint16_t h;
    std::memcpy(&h, p + static_cast<size_t>(k) * stride, 2);
    return h;
  };
  const uint64_t lo = half(0) | half(1) << 16 | half(2) << 32 | half(3) << 48;
  const uint64_t hi = half(4) | half(5) << 16 | half(6) << 32 | half(7) << 48;
  return _mm_insert_epi64(_mm_cvtsi64_si128(static_cast<int64_t>(lo)), static_cast<int64_t>(hi),
                          1);
}

// LoadHalfFactor of the halves at p + k * stride, k = 0 .. 7, in out[0..7]
// (0 for k >= n), converted by one F16C instruction.
HWY_INLINE void ConvertHalves8(const uint8_t* p, size_t stride, int64_t n, float* out) {
  _mm256_storeu_ps(out, _mm256_cvtph_ps(GatherHalves8(p, stride, n)));
}
#endif

// Calls body(b, d) for b = first .. n_blocks - 1 in order, with d the
// LoadHalfFactor of blocks + b * stride in every lane. On AVX2 and AVX3
// the halves are converted 8 at a time (ConvertHalves8), one batch ahead
// so that no broadcast waits for the buffer's store, and each is broadcast
// from memory, a plain load, instead of being converted and broadcast in
// registers (three vector operations per block). Q8_0: AVX3 +4 output
// 0.89x -> 0.92-0.95x aligned, AVX2 2-4 % faster, AVX3 f16 output 3-5 %.
// Not used where it measured slower: the legacy kernels on AVX2 (Q4_0 /
// Q4_1 4-12 %, against HalfFactorVec) and IQ4_NL's misaligned output on
// AVX2 (2 %).
template <class Body>
HWY_INLINE void ForEachHalfFactor(const uint8_t* blocks, size_t stride, int64_t first,
                                  int64_t n_blocks, const Body& body) {
  const DF df;
#if HWY_TARGET <= HWY_AVX2
  constexpr int64_t kBatch = 8;
  alignas(32) float factors[2][kBatch];
  if (first < n_blocks) {
    ConvertHalves8(blocks + static_cast<size_t>(first) * stride, stride, n_blocks - first,
                   factors[0]);
  }
  size_t current = 0;
  for (int64_t start = first; start < n_blocks; start += kBatch) {
    const int64_t next = start + kBatch;
    if (next < n_blocks) {
      ConvertHalves8(blocks + static_cast<size_t>(next) * stride, stride, n_blocks - next,
                     factors[current ^ 1]);
    }
    const int64_t end = n_blocks < next ? n_blocks : next;
    for (int64_t b = start; b < end; ++b) {
      PrefetchInput<64>(blocks + static_cast<size_t>(b) * stride);  // stride <= 64
      body(b, hn::Set(df, factors[current][b - start]));
    }
    current ^= 1;
  }
#else
  for (int64_t b = first; b < n_blocks; ++b) {
    PrefetchInput<64>(blocks + static_cast<size_t>(b) * stride);  // stride <= 64
    body(b, hn::Set(df, LoadHalfFactor(blocks + static_cast<size_t>(b) * stride)));
  }
#endif
}

// Lanes(df) unsigned bytes at p, zero-extended to int32 lanes.
HWY_INLINE VI LoadU8AsI32(const uint8_t* p) {
  const DI di;
  const hn::Rebind<uint8_t, DI> du8;
  return hn::PromoteTo(di, hn::LoadU(du8, p));
}

#if HWY_TARGET <= HWY_AVX2
// One output vector from a table of Lanes outputs: vpermps reads index bits
// 3..0 on AVX3 and 2..0 on AVX2, so higher bits of idx need no mask.
HWY_INLINE VF LookupTable(VF table, VI idx) {
#if HWY_TARGET <= HWY_AVX3
  return VF{_mm512_permutexvar_ps(idx.raw, table.raw)};
#else
  return VF{_mm256_permutevar8x32_ps(table.raw, idx.raw)};
#endif
}
#endif

#if HWY_TARGET == HWY_AVX2
// The 32 bytes of v as four vectors of 8 int32 lanes (bytes 8k .. 8k + 7 in
// out[k]), zero- or sign-extended.
template <bool kSigned>
HWY_INLINE void WidenBytes32(__m256i v, VI* out) {
  const auto widen = [](__m128i b) HWY_ATTR {
    return VI{kSigned ? _mm256_cvtepi8_epi32(b) : _mm256_cvtepu8_epi32(b)};
  };
  const __m128i low = _mm256_castsi256_si128(v);
  const __m128i high = _mm256_extracti128_si256(v, 1);
  out[0] = widen(low);
  out[1] = widen(_mm_unpackhi_epi64(low, low));
  out[2] = widen(high);
  out[3] = widen(_mm_unpackhi_epi64(high, high));
}
#endif

// Lanes(df) signed bytes at p, sign-extended to int32 lanes.
HWY_INLINE VI LoadI8AsI32(const uint8_t* p) {
  const DI di;
  const hn::Rebind<int8_t, DI> di8;
  return hn::PromoteTo(di, hn::LoadU(di8, reinterpret_cast<const int8_t*>(p)));
}

HWY_INLINE VF ToFloat(VI v) { return hn::ConvertTo(DF(), v); }

// Writers. A kernel call makes one, Writer out(ptr), and writes element i
// onward with out.Store(v, i) (the Lanes(df) floats of v as output elements
// i .. i + Lanes - 1) and out.StoreOne(f, i) (one element); the kernel adapter
// calls out.Finish() after the last store. On AVX2 and AVX3 every kernel
// writes its vectors in increasing, contiguous element order (0, Lanes,
// 2 * Lanes, ...) and any StoreOne after them: RealignF32 and StreamRealign
// below depend on that order.
struct WriteF32 {
  explicit WriteF32(void* out) : out_(static_cast<float*>(out)) {}
  HWY_INLINE void Store(VF v, size_t i) { hn::StoreU(v, DF(), out_ + i); }
  // Scalar stores use memcpy: the caller's buffer need not be aligned.
  HWY_INLINE void StoreOne(float f, size_t i) {
    std::memcpy(reinterpret_cast<uint8_t*>(out_) + 4 * i, &f, 4);
  }
  HWY_INLINE void Finish() {}
  float* ptr() const { return out_; }

 private:
  float* out_;
};

// Non-temporal f32 stores for outputs far larger than the caches: they skip
// the read-for-ownership of each destination line, which otherwise doubles
// the memory traffic of a write-bound kernel. Needs `out` aligned to 64 bytes
// (every kernel stores whole vectors at multiples of Lanes(df) elements).
struct StreamF32 {
  explicit StreamF32(void* out) : out_(static_cast<float*>(out)) {}
  HWY_INLINE void Store(VF v, size_t i) { hn::Stream(v, DF(), out_ + i); }
  HWY_INLINE void StoreOne(float f, size_t i) {
    std::memcpy(reinterpret_cast<uint8_t*>(out_) + 4 * i, &f, 4);
  }
  HWY_INLINE void Finish() {}

 private:
  float* out_;
};

// float -> binary16, round to nearest even, as F32ToF16 in quants/half.h.
HWY_INLINE VI F32ToF16Bits(VF v) {
  const DF df;
  const DI di;
  const DU du;
  const VI sign =
      hn::BitCast(di, hn::And(hn::ShiftRight<16>(hn::BitCast(du, v)), hn::Set(du, 0x8000u)));
  const VI ax = hn::And(hn::BitCast(di, v), hn::Set(di, 0x7FFFFFFF));
  const auto is_nan = hn::Gt(ax, hn::Set(di, 0x7F800000));
  const auto is_inf = hn::Gt(ax, hn::Set(di, 0x477FEFFF));        // |x| >= 65520
  const auto is_subnormal = hn::Lt(ax, hn::Set(di, 0x38800000));  // |x| < 2^-14
  // Half subnormals: adding 0.5f puts 2^-24 (the half's unit) at the last
  // mantissa bit of the float, so the FPU's own round-to-nearest-even does the
  // rounding; the low bits of the sum are then the half's bits. Inputs below
  // 2^-25 round to 0 and exactly 2^-25 ties to even (0), as in half.h.
  const VI subnormal = hn::Sub(hn::BitCast(di, hn::Add(hn::BitCast(df, ax), hn::Set(df, 0.5f))),
                               hn::Set(di, 0x3F000000));
  // Normals: rebias the exponent (127 -> 15) and round the 13 dropped mantissa
  // bits to nearest even; a carry may bump the exponent (up to inf), as it should.
  const VI odd = hn::And(hn::ShiftRight<13>(ax), hn::Set(di, 1));
  const VI normal = hn::ShiftRight<13>(hn::Add(hn::Sub(ax, hn::Set(di, 0x38000000 - 0xFFF)), odd));
  VI h = hn::IfThenElse(is_subnormal, subnormal, normal);
  h = hn::IfThenElse(is_inf, hn::Set(di, 0x7C00), h);
  h = hn::IfThenElse(is_nan, hn::Set(di, 0x7E00), h);
  return hn::Or(h, sign);
}

// float -> bfloat16, round to nearest even, NaN kept with its quiet bit set,
// as F32ToBF16 in quants/half.h.
HWY_INLINE VI F32ToBF16Bits(VF v) {
  const DI di;
  const DU du;
  const auto x = hn::BitCast(du, v);
  const auto upper = hn::ShiftRight<16>(x);
  const auto rounded = hn::ShiftRight<16>(
      hn::Add(hn::Add(x, hn::Set(du, 0x7FFFu)), hn::And(upper, hn::Set(du, 1u))));
  const auto quiet_nan = hn::Or(upper, hn::Set(du, 0x40u));
  const auto is_nan =
      hn::Gt(hn::And(hn::BitCast(di, v), hn::Set(di, 0x7FFFFFFF)), hn::Set(di, 0x7F800000));
  return hn::IfThenElse(is_nan, hn::BitCast(di, quiet_nan), hn::BitCast(di, rounded));
}

using DU16 = hn::Rebind<uint16_t, DF>;

// The binary16 bits of v, as F32ToF16 in quants/half.h.
HWY_INLINE hn::Vec<DU16> F16Vector(VF v) {
#if HWY_TARGET <= HWY_AVX3
  // As below, with NaN replaced without a compare into a mask (on Intel,
  // port 5 only, which the realigning permute and vcvtps2ph's own shuffle
  // also need): vfixupimmps maps QNaN and SNaN lanes to the indefinite
  // QNaN 0xFFC00000 (response 3 for tokens 0 and 1) and every other lane to
  // itself (response 1), then one vpternlogd keeps v's sign there: r & (v |
  // 0x7FFFFFFF) (table 0xE0), which is v itself in the other lanes.
  const __m512 indefinite = _mm512_fixupimm_ps(v.raw, v.raw, _mm512_set1_epi32(0x11111133), 0);
  const __m512i fixed =
      _mm512_ternarylogic_epi32(_mm512_castps_si512(indefinite), _mm512_castps_si512(v.raw),
                                _mm512_set1_epi32(0x7FFFFFFF), 0xE0);
  const hn::Rebind<hwy::float16_t, DF> df16;
  return hn::BitCast(DU16(), hn::DemoteTo(df16, VF{_mm512_castsi512_ps(fixed)}));
#elif HWY_TARGET <= HWY_AVX2
  // F16C (vcvtps2ph, round to nearest even) gives half.h's bits for every
  // input except NaN, whose payload it keeps: NaN lanes are first replaced
  // by the payload-free quiet NaN of the same sign, which converts to
  // 0x7E00 | sign as in half.h.
  const DF df;
  const DU du;
  const auto quiet = hn::BitCast(
      df, hn::Or(hn::And(hn::BitCast(du, v), hn::Set(du, 0x80000000u)), hn::Set(du, 0x7FC00000u)));
  const hn::Rebind<hwy::float16_t, DF> df16;
  return hn::BitCast(DU16(), hn::DemoteTo(df16, hn::IfThenElse(hn::IsNaN(v), quiet, v)));
#else
  return hn::DemoteTo(DU16(), F32ToF16Bits(v));
#endif
}

// The bfloat16 bits of v, as F32ToBF16 in quants/half.h.
HWY_INLINE hn::Vec<DU16> BF16Vector(VF v) { return hn::DemoteTo(DU16(), F32ToBF16Bits(v)); }

// f16 (kIsF16) or bf16 output, as WriteF32.
template <bool kIsF16>
struct WriteHalf {
  explicit WriteHalf(void* out) : out_(static_cast<uint16_t*>(out)) {}
  static HWY_INLINE hn::Vec<DU16> Convert(VF v) { return kIsF16 ? F16Vector(v) : BF16Vector(v); }
  HWY_INLINE void Store(VF v, size_t i) { hn::StoreU(Convert(v), DU16(), out_ + i); }
  HWY_INLINE void StoreOne(float f, size_t i) {
    const uint16_t h = kIsF16 ? F32ToF16(f) : F32ToBF16(f);
    std::memcpy(reinterpret_cast<uint8_t*>(out_) + 2 * i, &h, 2);
  }
  HWY_INLINE void Finish() {}
  void* ptr() const { return out_; }

 private:
  uint16_t* out_;
};
using WriteF16 = WriteHalf<true>;
using WriteBF16 = WriteHalf<false>;

// What a kernel tells a streamed f16 writer about its scales. A block
// format yields a NaN only through a non-finite fp16 scale field (d, dmin,
// m; its other fields are integers, and finite scales keep every product
// and difference finite; MXFP4's E8M0 scale is finite for every byte). A
// kernel that calls ScalesNoted(out) before its first store, and
// NoteHalfScale(out, field) for each fp16 scale field of a block before
// that block's stores, lets the writer convert with vcvtps2ph alone
// (ConvertHalf) until a noted field has the all-ones exponent; from then
// on, to the end of the call, it converts with F16Vector. A kernel that
// notes nothing gets F16Vector throughout. F16Vector's fix (AVX3:
// vfixupimmps and vpternlogd, two more operations per vector on ports 0
// and 5, where the table permutes, vcvtps2ph's shuffle and StreamRealign's
// permute already queue) held misaligned streamed f16 output out of cache
// at 0.81-0.89x its aligned speed (Q6_K, MXFP4, IQ4_NL, Q3_K); see
// docs/performance.md, nineteenth pass.
class ScaleNotes {
 public:
  HWY_INLINE void Noted() { exponents_ = 0; }
  // (byte & 0x7C) + 4 has bit 7 set for the all-ones exponent only.
  HWY_INLINE void Note(const uint8_t* field) { exponents_ |= (field[1] & 0x7Cu) + 4u; }
  HWY_INLINE bool NoNaN() const { return (exponents_ & 0x80u) == 0; }

 private:
  uint32_t exponents_ = 0x80;  // F16Vector until the kernel notes its scales
};

// The halves of v where the caller knows whether v may hold a NaN (a
// writer's ScaleNotes, or HalfTable's block fields): f16 with no_nan, on
// AVX2 and AVX3, is vcvtps2ph alone (round to nearest even; it differs
// from half.h only for NaN, whose payload it keeps); otherwise, and for
// bf16, WriteHalf's conversion.
template <bool kIsF16>
HWY_INLINE hn::Vec<DU16> ConvertHalf(VF v, bool no_nan) {
#if HWY_TARGET <= HWY_AVX2
  if constexpr (kIsF16) {
    if (no_nan) return hn::BitCast(DU16(), hn::DemoteTo(hn::Rebind<hwy::float16_t, DF>(), v));
  }
#endif
  (void)no_nan;
  return WriteHalf<kIsF16>::Convert(v);
}

// Writers that take scale notes have NoteHalf and ScalesNoted; the calls
// below do nothing for the others.
template <class Writer, class = void>
struct TakesScaleNotes : std::false_type {};
template <class Writer>
struct TakesScaleNotes<Writer, std::void_t<decltype(&Writer::NoteHalf)>> : std::true_type {};

template <class Writer>
HWY_INLINE void ScalesNoted(Writer& out) {
  if constexpr (TakesScaleNotes<Writer>::value) out.ScalesNoted();
  (void)out;
}
template <class Writer>
HWY_INLINE void NoteHalfScale(Writer& out, const uint8_t* field) {
  if constexpr (TakesScaleNotes<Writer>::value) out.NoteHalf(field);
  (void)out;
  (void)field;
}

#if HWY_TARGET <= HWY_AVX2
// Non-temporal f16 / bf16 stores, as StreamF32. Only where Lanes(df) 16-bit
// values fill a whole 128- or 256-bit vector: Highway 1.0.3's Stream of a
// partial vector (SSE4's 4 x 16 bits) writes all 16 bytes.
template <bool kIsF16>
struct StreamHalf {
  static_assert(hn::MaxLanes(DU16()) * 2 >= 16, "Stream needs a whole vector");
  explicit StreamHalf(void* out) : out_(static_cast<uint16_t*>(out)), write_(out) {}
  HWY_INLINE void Store(VF v, size_t i) {
    hn::Stream(ConvertHalf<kIsF16>(v, notes_.NoNaN()), DU16(), out_ + i);
  }
  HWY_INLINE void StoreOne(float f, size_t i) { write_.StoreOne(f, i); }
  HWY_INLINE void Finish() {}
  HWY_INLINE void ScalesNoted() { notes_.Noted(); }
  HWY_INLINE void NoteHalf(const uint8_t* field) { notes_.Note(field); }
  void* ptr() const { return out_; }

 private:
  uint16_t* out_;
  WriteHalf<kIsF16> write_;
  ScaleNotes notes_;
};
using StreamF16 = StreamHalf<true>;
using StreamBF16 = StreamHalf<false>;
#else
using StreamF16 = WriteF16;
using StreamBF16 = WriteBF16;
#endif

#if HWY_TARGET <= HWY_AVX2
// Vectors of consecutive output elements, the first at an address m
// elements (0 .. Lanes - 1) past a vector-aligned one, turned into the
// aligned vectors that cover them: Next(v) is the aligned vector holding
// the last m elements of the previous vector and the first Lanes - m of v,
// and Last() the one after the last vector, whose lanes j < m are valid.
// AVX3: one two-source permute (vpermt2ps) per vector, its index computed
// once. AVX2: each vector rotated by m lanes (vpermps) and blended with the
// previous one's rotation (vblendvps; AND/ANDNOT/OR measured no faster).
class Realigner {
 public:
  explicit Realigner(size_t m) {
    const DI di;
#if HWY_TARGET <= HWY_AVX3
    index_ = hn::Add(hn::Iota(di, 0), hn::Set(di, static_cast<int32_t>(16 - m)));
#else
    const VI lane = hn::Iota(di, 0);
    const VI shift = hn::Set(di, static_cast<int32_t>(m));
    index_ = hn::And(hn::Sub(lane, shift), hn::Set(di, 7));
    // lane >= m (Highway 1.0.3 has no signed integer Ge on x86).
    current_ = hn::BitCast(DF(), hn::VecFromMask(di, hn::Gt(hn::Add(lane, hn::Set(di, 1)), shift)));
#endif
    previous_ = hn::Zero(DF());
  }
  HWY_INLINE VF Next(VF v) {
#if HWY_TARGET <= HWY_AVX3
    const VF line{_mm512_permutex2var_ps(previous_.raw, index_.raw, v.raw)};
    previous_ = v;
#else
    const VF rotated{_mm256_permutevar8x32_ps(v.raw, index_.raw)};
    const VF line{_mm256_blendv_ps(previous_.raw, rotated.raw, current_.raw)};
    previous_ = rotated;
#endif
    return line;
  }
  HWY_INLINE VF Last() const {
#if HWY_TARGET <= HWY_AVX3
    return VF{_mm512_permutex2var_ps(previous_.raw, index_.raw, previous_.raw)};
#else
    return previous_;
#endif
  }

 private:
  VI index_;
  VF previous_;  // AVX3: the previous vector; AVX2: its rotation
#if HWY_TARGET == HWY_AVX2
  VF current_;  // all ones in lanes j >= m
#endif
};
#endif

#if HWY_TARGET <= HWY_AVX3
// Cached f32 output at an address that is not a multiple of 64 bytes, as
// callers' buffers usually are. There every plain unaligned 16-lane store
// splits a cache line, which costs a third more store bandwidth: kernels
// that are bound by stores ran at 0.6-0.7x their aligned speed in cache
// (Zen 4). RealignF32 writes aligned vectors instead: the output starts m
// elements (1..15) past an aligned `base_`, so aligned vector i / 16 holds
// the last m elements of the previous vector and the first 16 - m of this
// one (Realigner: one vpermt2ps). The elements before the output in the
// first aligned vector and after it in the last one are masked off (AVX-512
// masked stores write, and fault on, only the selected lanes). The permute
// competes with the kernels' own shuffles, so only kernels that gain use it
// (Misaligned::kRealign; the others write misaligned output with plain
// stores). Needs the stores in increasing, contiguous order (see above).
class RealignF32 {
 public:
  explicit RealignF32(void* out)
      : out_(static_cast<uint8_t*>(out)),
        m_(reinterpret_cast<uintptr_t>(out) % 64 / 4),
        base_(reinterpret_cast<float*>(out_ - 4 * m_)),
        realign_(m_),
        head_mask_(static_cast<__mmask16>(0xFFFFu << m_)) {}
  HWY_INLINE void Store(VF v, size_t i) {
    const VF line = realign_.Next(v);
    if (HWY_UNLIKELY(i == 0)) {
      _mm512_mask_store_ps(base_, head_mask_, line.raw);
    } else {
      _mm512_store_ps(base_ + i, line.raw);
    }
    end_ = i + 16;
  }
  HWY_INLINE void StoreOne(float f, size_t i) { std::memcpy(out_ + 4 * i, &f, 4); }
  float* ptr() const { return reinterpret_cast<float*>(out_); }
  // The last m elements of the last vector.
  HWY_INLINE void Finish() {
    if (end_ == 0) return;
    _mm512_mask_store_ps(base_ + end_, static_cast<__mmask16>(~head_mask_), realign_.Last().raw);
  }

 private:
  uint8_t* out_;
  size_t m_;
  float* base_;
  Realigner realign_;
  __mmask16 head_mask_;
  size_t end_ = 0;
};
#endif

#if HWY_TARGET <= HWY_AVX2
// Streamed output (StoreKind::kStreamingMisaligned, f32 when kBytes is 4,
// f16 / bf16 when it is 2) at an address that is a multiple of the element
// size but not of the vector size (Lanes(df) elements: 64 or 32 bytes of
// f32, 32 or 16 of halves): each f32 vector is realigned first (Realigner;
// for halves, on the f32 side, so that the conversion yields an aligned
// vector of halves), then written with a non-temporal store. The elements
// of the output in the first aligned vector and in the one after the last
// go out as cached stores through a local copy, once per call. Needs the
// stores in increasing, contiguous order, as RealignF32 (every kernel on
// AVX2 and AVX3 has it; the every-offset streaming test checks it).
// It replaced DequantizeThroughScratch on these targets (the targets below
// and odd addresses keep it), whose copy out of an L1 scratch in 2 KiB
// chunks left misaligned f32 output out of cache at 0.55-0.98x aligned on
// an Intel Xeon (AVX3 and AVX2; 0.91-1.05x now; f16 output: see
// docs/performance.md): the kernel wrote into the scratch while the memory
// was idle, then the copy's non-temporal stores waited on the fill buffers.
// Q1_0 on AVX2 takes only ptr() and builds its vectors at the aligned
// positions itself (DequantizeQ1_0StreamShiftedAvx2): the permute and blend
// cost that kernel a third of its speed out of cache.
template <size_t kBytes, bool kIsF16 = false>
class StreamRealign {
 public:
  explicit StreamRealign(void* out)
      : out_(static_cast<uint8_t*>(out)),
        m_(reinterpret_cast<uintptr_t>(out) % (hn::Lanes(DF()) * kBytes) / kBytes),
        base_(out_ - kBytes * m_),
        realign_(m_) {}
  HWY_INLINE void Store(VF v, size_t i) {
    const VF line = realign_.Next(v);
    if (HWY_UNLIKELY(i == 0)) {
      StorePart(line, m_, hn::Lanes(DF()), 0);
    } else if constexpr (kBytes == 4) {
      hn::Stream(line, DF(), reinterpret_cast<float*>(base_) + i);
    } else {
      hn::Stream(ConvertHalf<kIsF16>(line, notes_.NoNaN()), DU16(),
                 reinterpret_cast<uint16_t*>(base_) + i);
    }
    end_ = i + hn::Lanes(DF());
  }
  HWY_INLINE void StoreOne(float f, size_t i) { Scalar(out_).StoreOne(f, i); }
  void* ptr() const { return out_; }
  // The last m elements of the last vector.
  HWY_INLINE void Finish() {
    if (end_ != 0) StorePart(realign_.Last(), 0, m_, end_);
  }
  HWY_INLINE void ScalesNoted() { notes_.Noted(); }
  HWY_INLINE void NoteHalf(const uint8_t* field) { notes_.Note(field); }

 private:
  // Lanes [from, to) of the aligned vector at element `at` of base_.
  HWY_NOINLINE void StorePart(VF line, size_t from, size_t to, size_t at) {
    alignas(64) uint8_t lanes[64];
    if constexpr (kBytes == 4) {
      hn::Store(line, DF(), reinterpret_cast<float*>(lanes));
    } else {
      hn::Store(WriteHalf<kIsF16>::Convert(line), DU16(), reinterpret_cast<uint16_t*>(lanes));
    }
    std::memcpy(base_ + kBytes * (at + from), lanes + kBytes * from, kBytes * (to - from));
  }

  // The cached writer of the same output type, for single elements.
  using Scalar = std::conditional_t<kBytes == 4, WriteF32, WriteHalf<kIsF16>>;

  uint8_t* out_;
  size_t m_;
  uint8_t* base_;
  Realigner realign_;
  size_t end_ = 0;
  ScaleNotes notes_;
};
#endif

#if HWY_TARGET <= HWY_AVX2
// Cached f32 output off the 64-byte alignment with plain stores and a
// prefetch of the line 1 KiB ahead (512 B and 2 KiB measured alike or
// slower). Every store still splits two lines, as with WriteF32, but both
// are more often in L1 already: memset at +4 bytes into 256 KiB (L2) ran
// 2.83 us instead of 3.08 (Zen 4; aligned: 2.24 us, and no faster with the
// prefetch). It helps the kernels whose stores wait on lines (AVX3 Q5_0 +4:
// 0.88x -> 0.95x aligned), not the ones bound by their shuffles (Q4_0,
// Q6_K); in every store it slowed aligned output on Zen 4 (IQ4_XS 18 %; on
// AVX2 half the kernels), so aligned output takes it only on AVX3 and only
// in the kernels measured faster with it (Misaligned::kPrefetchAligned).
// - AVX3: PREFETCHW (for writing; every AVX-512 CPU has it: Q2_K +4 3.36 us
//   against 3.44 with PREFETCHT0) before every 64-byte store, for the
//   kernels whose FamilyEntry asks for it (Misaligned::kPrefetch or
//   kPrefetchAligned).
// - AVX2: PREFETCHT0 (every AVX2 CPU has it), once per 64 bytes of output
//   (before the stores of elements i with i % 16 < 8; before every store it
//   measured the same on an Intel Xeon, and a prefetch in every store of
//   aligned output cost the AVX2 kernels 9-17 % on Zen 4), for every kernel:
//   on the Xeon (Emerald Rapids), plain misaligned stores ran 0.56-0.86x
//   aligned; +4 bytes, ns per 256 KiB, plain -> prefetch: Q2_K 10371 -> 6206
//   (aligned 5961), Q5_K 11871 -> 7776 (6664), Q4_K 9315 -> 5899 (5862),
//   Q4_0 7866 -> 5373 (5810), IQ4_NL 10448 -> 6456 (6076). There is no
//   permuting RealignF32 on AVX2 (slower than plain stores on Zen 4, fourth
//   pass of docs/performance.md), so there RealignF32 is PrefetchF32 under a
//   name of its own: the kernels that realign from the input side (see
//   ShiftedF32Output) take only its ptr().
// A prefetch never faults and changes no data: the last ones reach up to
// 1 KiB past the output, at worst taking a line from another core once.
inline constexpr size_t kPrefetchAheadBytes = 1024;
// The address of the line kPrefetchAheadBytes past p, as an integer: it may
// lie past the end of the output.
HWY_INLINE uintptr_t PrefetchAhead(const void* p) {
  return reinterpret_cast<uintptr_t>(p) + kPrefetchAheadBytes;
}
struct PrefetchF32 : WriteF32 {
  using WriteF32::WriteF32;
  HWY_INLINE void Store(VF v, size_t i) {
#if HWY_TARGET <= HWY_AVX3
    asm volatile("prefetchw (%0)" : : "r"(PrefetchAhead(ptr() + i)));
#else
    if ((i & 8) == 0) {  // i: a multiple of 8
      asm volatile("prefetcht0 (%0)" : : "r"(PrefetchAhead(ptr() + i)));
    }
#endif
    WriteF32::Store(v, i);
  }
};
#else
// Other targets write misaligned output with plain unaligned stores.
using PrefetchF32 = WriteF32;
#endif

#if HWY_TARGET == HWY_AVX2
struct RealignF32 : PrefetchF32 {
  using PrefetchF32::PrefetchF32;
};
#elif HWY_TARGET > HWY_AVX2
// Plain stores, except in the kernels that realign from the input side (see
// ShiftedF32Output): a type of its own so that those kernels can tell it
// from WriteF32.
struct RealignF32 : WriteF32 {
  using WriteF32::WriteF32;
};
#endif

// Cached f32 output off the vector alignment, realigned from the input side:
// kernels that can (Q8_0 on every target; TQ2_0 on AVX2 and AVX3; Q1_0
// and Q4_K on AVX3) build each aligned output vector directly from the
// input, loaded at the matching offset (unaligned loads cost nothing), with
// their own shuffles, blends or merge-masked permutes, instead of a permute
// after the kernel (RealignF32's). Lanes j < shift of a vector that
// straddles two blocks or sub-blocks take the previous one's codes and
// scale. No store splits a cache line; the partial first and last vectors
// are masked (AVX3) or scalar stores. Such kernels are instantiated with
// Writer = RealignF32 and take its ptr(). `shift` is the misalignment in
// elements (0 .. Lanes(df) - 1): the output starts `shift` elements past an
// aligned `base`.
// On AVX3, `low` selects lanes i < shift (those a straddling vector takes
// from the previous block or group; also the last vector's tail) and `high`
// the others (the first vector's head).
// (Element-wise types need none of this: dispatch.cc writes the elements
// before the first 64-byte boundary with one kernel call and the rest, from
// that boundary on, with another, its stores all aligned.)
struct ShiftedF32Output {
  explicit ShiftedF32Output(float* out)
      : out(out),
        shift(reinterpret_cast<uintptr_t>(out) % (hn::Lanes(DF()) * sizeof(float)) /
              sizeof(float)),
        base(out - shift) {}
  float* out;
  size_t shift;
  float* base;
#if HWY_TARGET <= HWY_AVX3
  __mmask16 low = static_cast<__mmask16>((1u << shift) - 1);
  __mmask16 high = static_cast<__mmask16>(~low);
#endif
};

#if HWY_TARGET <= HWY_AVX3
// The aligned 16-lane f32 lines of an AVX3 kernel that realigns from the
// input side (ShiftedF32Output's scheme), for each f32 writer that has a
// misaligned start: cached (RealignF32) and streamed (StreamRealign<4>).
// The output starts `shift` elements past a line boundary `base_`;
// Line(v, at) writes the whole line at element `at` of base_ (aligned: a
// non-temporal store when kStream), Part(v, lanes, at) only the selected
// lanes (the first and last lines; cached masked stores, which write and
// fault on those lanes only). (f16 / bf16 output of such kernels goes
// through HalfLines instead.)
template <bool kStream>
class ShiftedLines {
 public:
  explicit ShiftedLines(void* out)
      : shift(reinterpret_cast<uintptr_t>(out) % 64 / 4),
        low(static_cast<__mmask16>((1u << shift) - 1)),
        high(static_cast<__mmask16>(~low)),
        base_(static_cast<float*>(out) - shift) {}
  HWY_INLINE void Line(VF v, size_t at) const {
    if constexpr (kStream) {
      _mm512_stream_ps(base_ + at, v.raw);
    } else {
      _mm512_store_ps(base_ + at, v.raw);
    }
  }
  HWY_INLINE void Part(VF v, __mmask16 lanes, size_t at) const {
    _mm512_mask_storeu_ps(base_ + at, lanes, v.raw);
  }
  size_t shift;
  __mmask16 low;   // lanes i < shift
  __mmask16 high;  // the others

 private:
  float* base_;
};

// ShiftedLines for a kernel's Writer, or void where it has none.
template <class Writer>
struct ShiftedLinesFor {
  using type = void;
};
template <>
struct ShiftedLinesFor<RealignF32> {
  using type = ShiftedLines<false>;
};
template <>
struct ShiftedLinesFor<StreamRealign<4>> {
  using type = ShiftedLines<true>;
};

// Runs shifted(lines) and returns true where Writer has a misaligned start
// that ShiftedLines can write (the output is off its line alignment), false
// otherwise (the kernel then writes through Writer itself).
template <class Writer, class Shifted>
HWY_INLINE bool WriteShiftedLines(Writer& out, const Shifted& shifted) {
  using Lines = typename ShiftedLinesFor<Writer>::type;
  if constexpr (std::is_void_v<Lines>) {
    (void)out;
    (void)shifted;
    return false;
  } else {
    const Lines lines(out.ptr());
    if (lines.shift == 0) return false;
    shifted(lines);
    return true;
  }
}

// Table lookups in halves, for kernels that write HalfLines: a table of 16
// (or 32) outputs as floats, converted once (ConvertHalf), so that each
// output is what converting its float gives, then indexed by one vpermw
// per 32 outputs. no_nan: the block's fp16 scale fields are finite
// (FiniteHalf, BothHalvesFinite), so the table holds no NaN.
template <bool kIsF16>
HWY_INLINE __m512i HalfTable(VF t, bool no_nan) {
  // Upper 256 bits undefined: indices 0..15 only.
  return _mm512_castsi256_si512(ConvertHalf<kIsF16>(t, no_nan).raw);
}
template <bool kIsF16>
HWY_INLINE __m512i HalfTable(VF t0, VF t1, bool no_nan) {
  return _mm512_inserti64x4(HalfTable<kIsF16>(t0, no_nan), ConvertHalf<kIsF16>(t1, no_nan).raw,
                            1);
}
// vpermw indices for the 32 nibbles of qs[0..15]: lane k < 16 the low
// nibble of qs[k], lane k + 16 its high nibble (one vpmovzxbw of the 16
// bytes twice).
HWY_INLINE __m512i NibbleIndices(const uint8_t* qs) {
  const __m512i bytes = _mm512_cvtepu8_epi16(
      _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs))));
  const __m512i shifts = _mm512_inserti64x4(_mm512_setzero_si512(), _mm256_set1_epi16(4), 1);
  return _mm512_and_si512(_mm512_srlv_epi16(bytes, shifts), _mm512_set1_epi16(15));
}

// 0, 1, ..., 31 in 16-bit lanes.
HWY_INLINE __m512i Iota32() {
  alignas(64) static constexpr uint16_t kIota[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                                     11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                                     22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
  return _mm512_load_si512(kIota);
}

// Lines of 32 halves (64 bytes, one cache line) that a kernel builds in f16
// or bf16 itself (from a table converted once per block or sub-block:
// HalfTable), line j holding output elements 32 j .. 32 j + 31, for the
// half writers at even addresses (WriteHalf, StreamHalf, StreamRealign<2,
// kIsF16>; kStream: non-temporal stores). kShifted: the output starts
// `shift` halves (1 .. 31) past a 64-byte line; the aligned line at
// base + 32 j is then the last shift halves of line j - 1 and the first
// 32 - shift of line j (one vpermt2w, its index computed once), the first
// one and the one after the last stored masked (cached stores that write
// and fault on their lanes only), the others whole: no store splits a line.
// Cached (!kStream) shifted lines go out as they are, with unaligned
// stores (each splits two lines; the permute, two port-5 operations per
// line, cost more in cache: 0.74-0.86x aligned, against 0.88-1.01), after
// a prefetch of the line 1 KiB ahead where the kernel asks for it
// (kPrefetch: the lightest kernels, whose stores wait on lines, as
// PrefetchF32's).
template <bool kIsF16, bool kShifted, bool kStream, bool kPrefetch>
class HalfLines {
 public:
  static constexpr bool kF16 = kIsF16;
  explicit HalfLines(void* out)
      : shift_(reinterpret_cast<uintptr_t>(out) % 64 / 2),
        base_(static_cast<uint16_t*>(out) - shift_),
        across_(_mm512_add_epi16(Iota32(), _mm512_set1_epi16(static_cast<int16_t>(32 - shift_)))),
        head_(static_cast<__mmask32>(~0u << shift_)) {}
  HWY_INLINE void Line(__m512i v, size_t j) {
    if constexpr (!kShifted) {
      Store(v, j);
    } else if constexpr (!kStream) {
      uint16_t* p = base_ + shift_ + 32 * j;
      if constexpr (kPrefetch) asm volatile("prefetchw (%0)" : : "r"(PrefetchAhead(p)));  // as PrefetchF32
      _mm512_storeu_si512(p, v);
    } else {
      const __m512i line = _mm512_permutex2var_epi16(prev_, across_, v);
      if (HWY_UNLIKELY(j == 0)) {
        _mm512_mask_storeu_epi16(base_, head_, line);
      } else {
        Store(line, j);
      }
      prev_ = v;
      end_ = j + 1;
    }
  }
  // The last shift halves of the last line.
  HWY_INLINE void Finish() {
    if (kShifted && kStream && end_ != 0) {
      _mm512_mask_storeu_epi16(base_ + 32 * end_, static_cast<__mmask32>(~head_),
                               _mm512_permutex2var_epi16(prev_, across_, prev_));
    }
  }

 private:
  HWY_INLINE void Store(__m512i line, size_t j) const {
    __m512i* p = reinterpret_cast<__m512i*>(base_ + 32 * j);
    if constexpr (kStream) {
      _mm512_stream_si512(p, line);
    } else {
      _mm512_store_si512(p, line);
    }
  }

  size_t shift_;
  uint16_t* base_;
  __m512i across_;
  __mmask32 head_;  // lanes i >= shift
  __m512i prev_ = _mm512_setzero_si512();
  size_t end_ = 0;
};

// Whether a kernel's Writer is an f16 / bf16 writer that HalfLines can
// stand in for, its output type and whether it streams.
template <class Writer>
struct HalfLinesFor : std::false_type {};
template <bool kIsF16>
struct HalfLinesFor<WriteHalf<kIsF16>> : std::true_type {
  static constexpr bool kF16 = kIsF16;
  static constexpr bool kStream = false;
};
template <bool kIsF16>
struct HalfLinesFor<StreamHalf<kIsF16>> : std::true_type {
  static constexpr bool kF16 = kIsF16;
  static constexpr bool kStream = true;
};
template <bool kIsF16>
struct HalfLinesFor<StreamRealign<2, kIsF16>> : std::true_type {
  static constexpr bool kF16 = kIsF16;
  static constexpr bool kStream = true;
};

// Runs lines_kernel(lines) with the HalfLines of out's output and returns
// true where Writer is one HalfLinesFor accepts, false otherwise (the
// kernel then writes through Writer itself).
template <bool kPrefetch = false, class Writer, class LinesKernel>
HWY_INLINE bool WriteHalfLines(Writer& out, const LinesKernel& lines_kernel) {
  if constexpr (!HalfLinesFor<Writer>::value) {
    (void)out;
    (void)lines_kernel;
    return false;
  } else {
    constexpr bool kF16 = HalfLinesFor<Writer>::kF16;
    constexpr bool kStream = HalfLinesFor<Writer>::kStream;
    const uintptr_t address = reinterpret_cast<uintptr_t>(out.ptr());
    if (address % 2 != 0) return false;  // cached output at an odd address
    if (address % 64 == 0) {
      HalfLines<kF16, false, kStream, false> lines(out.ptr());
      lines_kernel(lines);
    } else {
      HalfLines<kF16, true, kStream, kPrefetch> lines(out.ptr());
      lines_kernel(lines);
      lines.Finish();
    }
    return true;
  }
}

#if GGUFKIT_AVX512FP16
// Whether the binary16 fields d at p and m at p + 2 are finite and d * q + m
// is exact in f32 for every integer q < 32. Then the reference's f32 output
// (the exact product, plus m, rounded once: the sum is exact) rounded to
// f16 is the product-sum rounded once to f16, which vfmadd*ph computes.
// With E' = max(biased exponent, 1), d * q < 2^(E'd - 9), m < 2^(E'm - 14),
// and both are multiples of 2^(min(E'd, E'm) - 25): the sum fits in 24
// bits when -7 <= E'm - E'd <= 12 (a sampling of 2 million pairs found no
// inexact sum there, and inexact ones at 13). Bit Ed of row Em of the
// table says it (rows and bits 31, Inf and NaN, are 0).
struct SumOfHalvesRows {
  uint32_t row[32];
  constexpr SumOfHalvesRows() : row() {
    for (int em = 0; em < 31; ++em) {
      for (int ed = 0; ed < 31; ++ed) {
        const int diff = (em == 0 ? 1 : em) - (ed == 0 ? 1 : ed);
        if (diff >= -7 && diff <= 12) row[em] |= 1u << ed;
      }
    }
  }
};
HWY_INLINE bool SumOfHalvesExact(const uint8_t* p) {
  static constexpr SumOfHalvesRows kRows;
  uint32_t h;
  std::memcpy(&h, p, sizeof h);
  return (kRows.row[(h >> 26) & 31] >> ((h >> 10) & 31)) & 1;
}

// The binary16 field at p in every lane (read inside the instruction that
// uses it: vmulph / vfmadd with {1to32}).
GGUFKIT_ATTR_AVX512FP16 HWY_INLINE __m512h BroadcastHalf(const uint8_t* p) {
  _Float16 h;
  std::memcpy(&h, p, sizeof h);
  return _mm512_set1_ph(h);
}

// The table of a block that ScaledCodesLines cannot compute in halves, with
// the reference's f32 operations (code * d, plus m where kHasMin), then
// HalfTable (with its NaN fix where a field is Inf or NaN). Out of line, so
// that the loop reads d and m from memory inside its vmulph / vfmadd.
template <bool kHasMin, bool kHighBits>
HWY_NOINLINE __m512i ScaledCodesFloatTable(__m512i codes, const uint8_t* block) {
  const VF d = hn::Set(DF(), LoadHalf(block));
  const bool no_nan = kHasMin ? BothHalvesFinite(block) : FiniteHalf(block);
  const auto table = [&](__m256i codes16) HWY_ATTR {
    const VF product = hn::Mul(VF{_mm512_cvtepi32_ps(_mm512_cvtepi16_epi32(codes16))}, d);
    return kHasMin ? hn::Add(product, hn::Set(DF(), LoadHalf(block + 2))) : product;
  };
  const VF t0 = table(_mm512_castsi512_si256(codes));
  if constexpr (!kHighBits) return HalfTable<true>(t0, no_nan);
  return HalfTable<true>(t0, table(_mm512_extracti64x4_epi64(codes, 1)), no_nan);
}

// f16 lines of the legacy layout [half d][half m if kHasMin][u32 qh if
// kHighBits][u8 qs[16]] (Q4_0, Q5_0, IQ4_NL; Q4_1, Q5_1), whose output k
// is d times codes[c] (plus m), c the nibble of qs (HalfLines' order) plus
// 16 times bit k of qh: a block's table is one vmulph (vfmadd) of the codes
// as halves by d (plus m), d broadcast from the block. The codes are
// integers of magnitude at most 128 (exact in halves; 8 + 11 significant
// bits, so the reference's f32 product is exact); without m it rounds once
// to f16, as vmulph rounds the same exact product, keeping subnormals (the
// FP16 instructions ignore MXCSR's DAZ and FTZ), so every bit is the same,
// zeros' signs included; with m, where SumOfHalvesExact. Other blocks (a
// field Inf or NaN; m far from d) take ScaledCodesFloatTable. Per line this
// replaces the float table's two to four operations and one or two
// vcvtps2ph (a port-5 operation each; 32 entries also a vinserti64x4) with
// one vmulph or vfmadd.
template <size_t kBlockBytes, bool kHasMin, bool kHighBits, class Lines>
GGUFKIT_ATTR_AVX512FP16 Lines ScaledCodesLines(__m512i codes, const uint8_t* blocks,
                                               int64_t n_blocks, Lines lines) {
  constexpr size_t kQh = kHasMin ? 4 : 2;
  constexpr size_t kQs = kQh + (kHighBits ? 4 : 0);
  const __m512h codes_h = _mm512_cvtepi16_ph(codes);
  for (int64_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * static_cast<int64_t>(kBlockBytes);
    PrefetchInput<kBlockBytes>(block);
    __m512i table;
    if (HWY_LIKELY(kHasMin ? SumOfHalvesExact(block) : FiniteHalf(block))) {
      if constexpr (kHasMin) {
        table = _mm512_castph_si512(
            _mm512_fmadd_ph(codes_h, BroadcastHalf(block), BroadcastHalf(block + 2)));
      } else {
        table = _mm512_castph_si512(_mm512_mul_ph(codes_h, BroadcastHalf(block)));
      }
    } else {
      table = ScaledCodesFloatTable<kHasMin, kHighBits>(codes, block);
    }
    __m512i indices;
    if constexpr (kHighBits) {
      uint32_t qh;
      std::memcpy(&qh, block + kQh, sizeof qh);
      const __m512i nibbles = NibbleIndices(block + kQs);
      indices = _mm512_mask_add_epi16(nibbles, _cvtu32_mask32(qh), nibbles, _mm512_set1_epi16(16));
    } else {
      indices = NibbleIndices(block + kQs);
    }
    lines.Line(_mm512_permutexvar_epi16(indices, table), static_cast<size_t>(b));
  }
  return lines;
}

// Where out is an f16 writer at an even address and AVX512-FP16 is
// enabled: lines = lines_kernel(lines) with WriteHalfLines' lines, and
// true; false otherwise (the kernel then writes the output its own way).
// lines_kernel calls a GGUFKIT_ATTR_AVX512FP16 function, out of line,
// which takes the lines by value and returns them (for Finish): given a
// reference, which might alias the output, GCC kept their state in memory,
// a reload and a store of the carried line per line.
// Every kernel here prefetches its misaligned cached lines (WriteHalfLines'
// kPrefetch): with one vmulph or vfmadd per table their time goes to the
// stores, which wait on the output's lines. Q5_0 and Q5_1, the last two without
// it, f16 +2 x aligned in cache, 15 alternated rounds: 0.89-0.98 -> 0.85-1.07
// (medians 0.93 -> 1.00) and 0.93-1.06 -> 0.87-1.06 (0.97 -> 1.04;
// docs/performance.md, twenty-third pass).
template <class Writer, class LinesKernel>
HWY_INLINE bool WriteHalfLinesFp16(Writer& out, const LinesKernel& lines_kernel) {
  if constexpr (HalfLinesFor<Writer>::value) {
    if constexpr (HalfLinesFor<Writer>::kF16) {
      return dequant_internal::Avx512Fp16Enabled() &&
             WriteHalfLines</*kPrefetch=*/true>(
                 out, [&](auto& lines) HWY_ATTR { lines = lines_kernel(lines); });
    }
  }
  (void)out;
  (void)lines_kernel;
  return false;
}

// ScaledCodesLines through WriteHalfLinesFp16.
template <size_t kBlockBytes, bool kHasMin, bool kHighBits, class Writer>
HWY_INLINE bool ScaledCodesHalfLines(__m512i codes, const uint8_t* blocks, int64_t n_blocks,
                                     Writer& out) {
  return WriteHalfLinesFp16(out, [&](const auto& lines) HWY_ATTR {
    return ScaledCodesLines<kBlockBytes, kHasMin, kHighBits>(codes, blocks, n_blocks, lines);
  });
}
#endif
#endif

// binary16 bits in int32 lanes -> float, exact, as F16ToF32 in quants/half.h
// (signaling NaNs stay signaling, which F16C's conversion would quiet).
HWY_INLINE VF F16BitsToF32(VI h) {
  const DF df;
  const DI di;
  const VI sign = hn::ShiftLeft<16>(hn::And(h, hn::Set(di, 0x8000)));
  const VI exp = hn::And(h, hn::Set(di, 0x7C00));
  const VI mant = hn::And(h, hn::Set(di, 0x03FF));
  const VI abs_bits = hn::And(h, hn::Set(di, 0x7FFF));
  // Normal: rebias the exponent by 112 (127 - 15).
  const VI normal = hn::Add(hn::ShiftLeft<13>(abs_bits), hn::Set(di, 112 << 23));
  // Inf / NaN: all-ones exponent, payload kept.
  const VI inf_nan = hn::Or(hn::Set(di, 0x7F800000), hn::ShiftLeft<13>(mant));
  // Subnormal or zero: mant * 2^-24, exact in float.
  const VI subnormal =
      hn::BitCast(di, hn::Mul(hn::ConvertTo(df, mant), hn::Set(df, 1.0f / 16777216.0f)));
  VI f = hn::IfThenElse(hn::Eq(exp, hn::Zero(di)), subnormal, normal);
  f = hn::IfThenElse(hn::Eq(exp, hn::Set(di, 0x7C00)), inf_nan, f);
  return hn::BitCast(df, hn::Or(f, sign));
}

// StoreKind::kStreamingMisaligned's kernel: StreamRealign on AVX2 and AVX3,
// none below (DequantizeThroughScratch writes that output there).
template <template <class> class KernelFor, size_t kBytes, bool kIsF16 = false>
dequant_internal::KernelFn StreamingMisaligned() {
#if HWY_TARGET <= HWY_AVX2
  return &KernelFor<StreamRealign<kBytes, kIsF16>>::Run;
#else
  return nullptr;
#endif
}

// The kernel KernelFor<Writer>::Run for the writer of `out_type` and
// `store`; StoreKind::kRealign (f32 output not 64-byte aligned) takes the
// writer kMisaligned names: RealignF32 (kRealign: its permute on AVX3, or
// the kernel's own input-side realignment, see ShiftedF32Output),
// PrefetchF32 (kPrefetch, kPrefetchAligned) or WriteF32 (kPlain). f16 / bf16 output takes
// WriteHalf (cached) or StreamHalf (streamed), whose address the kernels that build lines of
// halves take from them (HalfLines).
// StoreKind::kStreamingMisaligned takes StreamRealign for every output type
// (AVX2 and AVX3; nullptr below).
template <template <class> class KernelFor, Misaligned kMisaligned = Misaligned::kPlain>
dequant_internal::KernelFn ForOutput(OutputType out_type, dequant_internal::StoreKind store) {
  using dequant_internal::StoreKind;
  switch (out_type) {
    case OutputType::kF32:
      if (store == StoreKind::kStreaming) return &KernelFor<StreamF32>::Run;
      if (store == StoreKind::kStreamingMisaligned) return StreamingMisaligned<KernelFor, 4>();
      if (store == StoreKind::kRealign) {
        if constexpr (kMisaligned == Misaligned::kRealign) return &KernelFor<RealignF32>::Run;
        if constexpr (kMisaligned == Misaligned::kPrefetch ||
                      kMisaligned == Misaligned::kPrefetchAligned) {
          return &KernelFor<PrefetchF32>::Run;
        }
      }
#if HWY_TARGET <= HWY_AVX3
      // Aligned cached output (see Misaligned in kernels.h).
      if constexpr (kMisaligned == Misaligned::kPrefetchAligned) {
        return &KernelFor<PrefetchF32>::Run;
      }
#endif
      return &KernelFor<WriteF32>::Run;
    case OutputType::kF16:
      if (store == StoreKind::kStreamingMisaligned)
        return StreamingMisaligned<KernelFor, 2, true>();
      return store == StoreKind::kStreaming ? &KernelFor<StreamF16>::Run
                                            : &KernelFor<WriteF16>::Run;
    case OutputType::kBF16:
      if (store == StoreKind::kStreamingMisaligned)
        return StreamingMisaligned<KernelFor, 2, false>();
      return store == StoreKind::kStreaming ? &KernelFor<StreamBF16>::Run
                                            : &KernelFor<WriteBF16>::Run;
  }
  return nullptr;
}

// One member of a kernel family: ggml type kType is decoded by
// KernelFor<Writer>::Run (a GGUFKIT_DEQUANT_KERNEL_ADAPTER); kMisaligned:
// how it writes misaligned cached f32 output (see ForOutput).
template <GgmlType kType, template <class> class KernelFor,
          Misaligned kMisaligned = Misaligned::kPlain>
struct FamilyEntry {
  static constexpr GgmlType type = kType;
  static constexpr Misaligned misaligned = kMisaligned;
  template <class Writer>
  using Kernel = KernelFor<Writer>;
};

// The kernel of `type` for `out_type` among a family's Entries, or nullptr
// when the family does not decode `type`.
template <class... Entries>
dequant_internal::KernelFn FindInFamily(GgmlType type, OutputType out_type,
                                        dequant_internal::StoreKind store) {
  dequant_internal::KernelFn found = nullptr;
  (void)((type == Entries::type &&
          (found = ForOutput<Entries::template Kernel, Entries::misaligned>(out_type, store)) !=
              nullptr) ||
         ...);
  return found;
}

#endif  // HWY_TARGET != HWY_SCALAR

}  // namespace HWY_NAMESPACE
}  // namespace ggufkit
HWY_AFTER_NAMESPACE();

#endif  // GGUFKIT_DEQUANT_OUTPUT_INL_H_
