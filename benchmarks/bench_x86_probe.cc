// bench_x86_probe: what one core of this x86 machine issues per cycle, and
// what misaligned stores cost it. docs/performance.md ("2026-12-05, sixth
// pass") reads the kernels' limits off these numbers: a kernel whose
// 512-bit shuffles already fill their pipe cannot realign its output for
// free.
//
// BM_Port/<mix>: a loop of 12 independent instructions (destinations zmm4..15,
// sources zmm0..3 or a cached buffer; a mix runs its instructions in turn),
// reported as cycles per instruction (the fastest of the repetitions). Cycles
// come from a chain of dependent 64-bit adds (one cycle each) timed in the
// same run, so turbo clocks do not skew them. BM_Store/<kind>/<offset>:
// 256 KiB (L2 on Zen 4) written with one kind of store, each at that byte
// offset from a 64-byte line (bytes_per_second). ymm_halves_at_line: 32-byte
// stores, but one that would cross a line goes out as two 16-byte stores;
// movsb_from_l1: 32-byte aligned stores into a 4 KiB buffer (L1), then `rep
// movsb` of it to the output, chunk by chunk.
//
// Needs x86-64 with AVX-512 F, BW and VBMI at run time; elsewhere every row
// is skipped with the reason.

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>

#include "benchmark/benchmark.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define GGUFKIT_X86_PROBE 1
#endif

namespace {

#ifdef GGUFKIT_X86_PROBE

bool HasAvx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
         __builtin_cpu_supports("avx512vbmi");
}

alignas(64) unsigned char g_memory[256];

// One loop iteration: 12 instructions that depend on nothing
// written in the loop, except an instruction's own destination where its
// encoding reads it (then 12 chains run side by side).
#define GGUFKIT_DST12(OP)                                                                \
  OP "%%zmm4\n" OP "%%zmm5\n" OP "%%zmm6\n" OP "%%zmm7\n" OP "%%zmm8\n" OP "%%zmm9\n" OP \
     "%%zmm10\n" OP "%%zmm11\n" OP "%%zmm12\n" OP "%%zmm13\n" OP "%%zmm14\n" OP "%%zmm15\n"
#define GGUFKIT_PAIR12(A, B)                                                                    \
  A "%%zmm4\n" B "%%zmm5\n" A "%%zmm6\n" B "%%zmm7\n" A "%%zmm8\n" B "%%zmm9\n" A "%%zmm10\n" B \
    "%%zmm11\n" A "%%zmm12\n" B "%%zmm13\n" A "%%zmm14\n" B "%%zmm15\n"
#define GGUFKIT_YMM12(OP)                                                                \
  OP "%%ymm4\n" OP "%%ymm5\n" OP "%%ymm6\n" OP "%%ymm7\n" OP "%%ymm8\n" OP "%%ymm9\n" OP \
     "%%ymm10\n" OP "%%ymm11\n" OP "%%ymm12\n" OP "%%ymm13\n" OP "%%ymm14\n" OP "%%ymm15\n"
#define GGUFKIT_TRIPLE12(A, B, C)                                                               \
  A "%%zmm4\n" B "%%zmm5\n" C "%%zmm6\n" A "%%zmm7\n" B "%%zmm8\n" C "%%zmm9\n" A "%%zmm10\n" B \
    "%%zmm11\n" C "%%zmm12\n" A "%%zmm13\n" B "%%zmm14\n" C "%%zmm15\n"
// 12 compares into a mask register (renamed: no chain), or six of them
// between six instructions A.
#define GGUFKIT_MASK12(CMP) CMP CMP CMP CMP CMP CMP CMP CMP CMP CMP CMP CMP
#define GGUFKIT_MASK_PAIR12(A, CMP)                                                        \
  A "%%zmm4\n" CMP A "%%zmm6\n" CMP A "%%zmm8\n" CMP A "%%zmm10\n" CMP A "%%zmm12\n" CMP A \
    "%%zmm14\n" CMP
#define GGUFKIT_PROBE(name, body)                                                                 \
  __attribute__((target("avx512f"))) void name(int64_t n) {                                       \
    asm volatile(                                                                                 \
        "vpxord %%zmm0, %%zmm0, %%zmm0\n vpxord %%zmm1, %%zmm1, %%zmm1\n"                         \
        "vpxord %%zmm2, %%zmm2, %%zmm2\n vpxord %%zmm3, %%zmm3, %%zmm3\n"                         \
        "1:\n" body "dec %0\n jnz 1b\n vzeroupper\n"                                              \
        : "+r"(n)                                                                                 \
        : "r"(g_memory)                                                                           \
        : "memory", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", \
          "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "k1");                    \
  }

// Single instructions (12 per iteration).
GGUFKIT_PROBE(Mul, GGUFKIT_DST12("vmulps %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(Add, GGUFKIT_DST12("vaddps %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(Fma, GGUFKIT_DST12("vfmadd231ps %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(Cvt, GGUFKIT_DST12("vcvtdq2ps %%zmm1, "))
GGUFKIT_PROBE(MinPs, GGUFKIT_DST12("vminps %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(CmpPs, GGUFKIT_MASK12("vcmpltps %%zmm0, %%zmm1, %%k1\n"))
GGUFKIT_PROBE(CmpD, GGUFKIT_MASK12("vpcmpgtd %%zmm0, %%zmm1, %%k1\n"))
GGUFKIT_PROBE(AddD, GGUFKIT_DST12("vpaddd %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(TernLog, GGUFKIT_DST12("vpternlogd $0xCA, %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(ShiftImm, GGUFKIT_DST12("vpsrld $4, %%zmm1, "))
GGUFKIT_PROBE(ShiftVar, GGUFKIT_DST12("vpsrlvd %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(PermPs, GGUFKIT_DST12("vpermps %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(PermPsYmm, GGUFKIT_YMM12("vpermps %%ymm0, %%ymm1, "))
GGUFKIT_PROBE(PermT2Ps, GGUFKIT_DST12("vpermt2ps %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(PermB, GGUFKIT_DST12("vpermb %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(AlignD, GGUFKIT_DST12("valignd $3, %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(WidenReg, GGUFKIT_DST12("vpmovzxbd %%xmm1, "))
GGUFKIT_PROBE(WidenLoad, GGUFKIT_DST12("vpmovzxbd (%1), "))
GGUFKIT_PROBE(BroadcastLoad, GGUFKIT_DST12("vbroadcastss (%1), "))
GGUFKIT_PROBE(Load, GGUFKIT_DST12("vmovaps (%1), "))
// Pairs (12 per iteration, six of each).
GGUFKIT_PROBE(MulAdd, GGUFKIT_PAIR12("vmulps %%zmm0, %%zmm1, ", "vaddps %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(MulCmpPs,
              GGUFKIT_MASK_PAIR12("vmulps %%zmm0, %%zmm1, ", "vcmpltps %%zmm0, %%zmm1, %%k1\n"))
GGUFKIT_PROBE(MulCmpD,
              GGUFKIT_MASK_PAIR12("vmulps %%zmm0, %%zmm1, ", "vpcmpgtd %%zmm0, %%zmm1, %%k1\n"))
GGUFKIT_PROBE(MulTestD,
              GGUFKIT_MASK_PAIR12("vmulps %%zmm0, %%zmm1, ", "vptestmd %%zmm0, %%zmm1, %%k1\n"))
GGUFKIT_PROBE(AddCmpPs,
              GGUFKIT_MASK_PAIR12("vaddps %%zmm0, %%zmm1, ", "vcmpltps %%zmm0, %%zmm1, %%k1\n"))
// A multiply, an add and an integer add: whether integer operations find
// room beside the two floating-point pipes.
GGUFKIT_PROBE(MulAddAddD, GGUFKIT_TRIPLE12("vmulps %%zmm0, %%zmm1, ", "vaddps %%zmm0, %%zmm1, ",
                                           "vpaddd %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(AddCvt, GGUFKIT_PAIR12("vaddps %%zmm0, %%zmm1, ", "vcvtdq2ps %%zmm1, "))
GGUFKIT_PROBE(PermMul, GGUFKIT_PAIR12("vpermps %%zmm0, %%zmm1, ", "vmulps %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(PermAdd, GGUFKIT_PAIR12("vpermps %%zmm0, %%zmm1, ", "vaddps %%zmm0, %%zmm1, "))
GGUFKIT_PROBE(PermShift, GGUFKIT_PAIR12("vpermps %%zmm0, %%zmm1, ", "vpsrld $4, %%zmm1, "))
GGUFKIT_PROBE(PermWiden, GGUFKIT_PAIR12("vpermps %%zmm0, %%zmm1, ", "vpmovzxbd %%xmm1, "))
GGUFKIT_PROBE(PermBroadcastLoad, GGUFKIT_PAIR12("vpermps %%zmm0, %%zmm1, ", "vbroadcastss (%1), "))
GGUFKIT_PROBE(PermMulBroadcast,
              GGUFKIT_PAIR12("vpermps %%zmm0, %%zmm1, ", "vmulps (%1)%{1to16%}, %%zmm0, "))

// 12 dependent one-cycle adds per iteration: the clock.
void Clock(int64_t n) {
  int64_t x = 0;
  asm volatile(
      "1:\n"
      "add %1, %1\n add %1, %1\n add %1, %1\n add %1, %1\n add %1, %1\n add %1, %1\n"
      "add %1, %1\n add %1, %1\n add %1, %1\n add %1, %1\n add %1, %1\n add %1, %1\n"
      "dec %0\n jnz 1b\n"
      : "+r"(n), "+r"(x)
      :
      : "cc");
}

// Cycles per nanosecond, from the fastest of a few timings of Clock.
double CyclesPerNs() {
  static const double cycles_per_ns = [] {
    constexpr int64_t kIterations = 2000000;
    double best_ns = 1e300;
    for (int rep = 0; rep < 5; ++rep) {
      timespec a, b;
      clock_gettime(CLOCK_MONOTONIC, &a);
      Clock(kIterations);
      clock_gettime(CLOCK_MONOTONIC, &b);
      const double ns = 1e9 * static_cast<double>(b.tv_sec - a.tv_sec) +
                        static_cast<double>(b.tv_nsec - a.tv_nsec);
      if (ns < best_ns) best_ns = ns;
    }
    return 12.0 * kIterations / best_ns;
  }();
  return cycles_per_ns;
}

void BM_Port(benchmark::State& state, void (*probe)(int64_t)) {
  if (!HasAvx512()) {
    state.SkipWithError("needs AVX-512 F, BW and VBMI");
    return;
  }
  constexpr int64_t kIterations = 20000;
  const double cycles_per_ns = CyclesPerNs();
  double best_ns = 1e300;
  for (auto _ : state) {
    timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    probe(kIterations);
    clock_gettime(CLOCK_MONOTONIC, &b);
    const double ns =
        1e9 * static_cast<double>(b.tv_sec - a.tv_sec) + static_cast<double>(b.tv_nsec - a.tv_nsec);
    if (ns < best_ns) best_ns = ns;
  }
  // Per instruction (a mix of two runs six of each per iteration, a mix of
  // three four: a pair costs twice this, a triple three times).
  state.counters["cycles"] = best_ns * cycles_per_ns / (12.0 * kIterations);
  state.counters["GHz"] = cycles_per_ns;
}

constexpr size_t kStoreBytes = 256 * 1024;

float* StoreBuffer() {
  static float* buffer = [] {
    auto* p = static_cast<float*>(std::aligned_alloc(4096, kStoreBytes + 4096));
    std::memset(p, 0, kStoreBytes + 4096);
    return p;
  }();
  return buffer;
}

enum class StoreKind { kZmm, kYmm, kMaskedPair, kYmmHalvesAtLine, kMovsbFromL1 };

// 32 bytes at p, as two 16-byte stores where one store would cross a line.
__attribute__((target("avx2"))) inline void StoreYmmOrHalves(float* p, __m256 w) {
  if ((reinterpret_cast<uintptr_t>(p) & 63) > 32) {
    _mm_storeu_ps(p, _mm256_castps256_ps128(w));
    _mm_storeu_ps(p + 4, _mm256_extractf128_ps(w, 1));
  } else {
    _mm256_storeu_ps(p, w);
  }
}

// kStoreBytes of 32-byte aligned stores into an L1 buffer, copied out by
// `rep movsb` kChunk bytes at a time.
__attribute__((target("avx2"), noinline)) void StoreThroughMovsb(float* out) {
  constexpr size_t kChunk = 4096;
  alignas(64) static float chunk[kChunk / sizeof(float)];
  __m256 w = _mm256_set1_ps(1.0f);
  for (size_t done = 0; done < kStoreBytes; done += kChunk) {
    for (size_t i = 0; i < kChunk / sizeof(float); i += 8) {
      _mm256_store_ps(chunk + i, w);
      asm volatile("" : "+v"(w));
    }
    void* to = reinterpret_cast<uint8_t*>(out) + done;
    const void* from = chunk;
    size_t bytes = kChunk;
    asm volatile("rep movsb" : "+D"(to), "+S"(from), "+c"(bytes) : : "memory");
  }
}

__attribute__((target("avx512f"), noinline)) void Store(StoreKind kind, float* out) {
  if (kind == StoreKind::kMovsbFromL1) {
    StoreThroughMovsb(out);
    return;
  }
  __m512 v = _mm512_set1_ps(1.0f);
  __m256 w = _mm256_set1_ps(1.0f);
  constexpr size_t kFloats = kStoreBytes / sizeof(float);
  for (size_t i = 0; i < kFloats; i += 16) {
    switch (kind) {
      case StoreKind::kZmm:
        _mm512_storeu_ps(out + i, v);
        break;
      case StoreKind::kYmm:
        _mm256_storeu_ps(out + i, w);
        _mm256_storeu_ps(out + i + 8, w);
        break;
      case StoreKind::kMaskedPair:
        // Both halves of one vector, as two masked stores.
        _mm512_mask_storeu_ps(out + i, 0x00FF, v);
        _mm512_mask_storeu_ps(out + i, 0xFF00, v);
        break;
      case StoreKind::kYmmHalvesAtLine:
        StoreYmmOrHalves(out + i, w);
        StoreYmmOrHalves(out + i + 8, w);
        break;
      case StoreKind::kMovsbFromL1:  // above the loop
        break;
    }
    asm volatile("" : "+v"(v), "+v"(w));  // one store per step, not folded into memset
  }
}

void BM_Store(benchmark::State& state, StoreKind kind) {
  if (!HasAvx512()) {
    state.SkipWithError("needs AVX-512 F, BW and VBMI");
    return;
  }
  float* out = StoreBuffer() + state.range(0) / static_cast<int64_t>(sizeof(float));
  for (auto _ : state) {
    Store(kind, out);
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(kStoreBytes));
}

#define GGUFKIT_PORT_ROW(name) BENCHMARK_CAPTURE(BM_Port, name, name)->MinTime(0.05)
GGUFKIT_PORT_ROW(Mul);
GGUFKIT_PORT_ROW(Add);
GGUFKIT_PORT_ROW(Fma);
GGUFKIT_PORT_ROW(Cvt);
GGUFKIT_PORT_ROW(MinPs);
GGUFKIT_PORT_ROW(CmpPs);
GGUFKIT_PORT_ROW(CmpD);
GGUFKIT_PORT_ROW(AddD);
GGUFKIT_PORT_ROW(TernLog);
GGUFKIT_PORT_ROW(ShiftImm);
GGUFKIT_PORT_ROW(ShiftVar);
GGUFKIT_PORT_ROW(PermPs);
GGUFKIT_PORT_ROW(PermPsYmm);
GGUFKIT_PORT_ROW(PermT2Ps);
GGUFKIT_PORT_ROW(PermB);
GGUFKIT_PORT_ROW(AlignD);
GGUFKIT_PORT_ROW(WidenReg);
GGUFKIT_PORT_ROW(WidenLoad);
GGUFKIT_PORT_ROW(BroadcastLoad);
GGUFKIT_PORT_ROW(Load);
GGUFKIT_PORT_ROW(MulAdd);
GGUFKIT_PORT_ROW(MulCmpPs);
GGUFKIT_PORT_ROW(AddCmpPs);
GGUFKIT_PORT_ROW(MulCmpD);
GGUFKIT_PORT_ROW(MulTestD);
GGUFKIT_PORT_ROW(MulAddAddD);
GGUFKIT_PORT_ROW(AddCvt);
GGUFKIT_PORT_ROW(PermMul);
GGUFKIT_PORT_ROW(PermAdd);
GGUFKIT_PORT_ROW(PermShift);
GGUFKIT_PORT_ROW(PermWiden);
GGUFKIT_PORT_ROW(PermBroadcastLoad);
GGUFKIT_PORT_ROW(PermMulBroadcast);
BENCHMARK_CAPTURE(BM_Store, zmm, StoreKind::kZmm)->Arg(0)->Arg(4)->Arg(16);
BENCHMARK_CAPTURE(BM_Store, ymm, StoreKind::kYmm)->Arg(0)->Arg(4)->Arg(16);
BENCHMARK_CAPTURE(BM_Store, masked_pair, StoreKind::kMaskedPair)->Arg(0)->Arg(4);
BENCHMARK_CAPTURE(BM_Store, ymm_halves_at_line, StoreKind::kYmmHalvesAtLine)->Arg(4)->Arg(16);
BENCHMARK_CAPTURE(BM_Store, movsb_from_l1, StoreKind::kMovsbFromL1)->Arg(0)->Arg(4)->Arg(16);

#else  // not x86-64 with GNU inline assembly

void BM_Unsupported(benchmark::State& state) {
  state.SkipWithError("bench_x86_probe needs x86-64 and GNU inline assembly");
}
BENCHMARK(BM_Unsupported);

#endif

}  // namespace

BENCHMARK_MAIN();
