// Bit-exactness of the SIMD dequantizers on every compiled Highway target:
// against ggml's golden output, against the scalar reference (quants/'s
// registered codec, itself checked against ggml's golden output here) for
// random blocks at misaligned addresses and odd block counts, for all three
// output types; plus the entry point's error handling.
#include "ggufkit/dequant/dequant.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <ostream>
#include <random>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "ggufkit/quants/half.h"
#include "ggufkit/quants/half_fields.h"
#include "ggufkit/quants/type_traits.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"

namespace ggufkit {
namespace {

using testing::GoldenPath;
using testing::ReadFileBytes;

// The quants/ reference dequantizer of `type` into y (n elements, whole
// blocks); false when quants/ registers none.
bool ScalarDequantize(GgmlType type, const uint8_t* x, float* y, int64_t n) {
  const ReferenceCodec& codec = GetReferenceCodec(type);
  if (codec.dequantize == nullptr) return false;
  codec.dequantize(x, y, n);
  return true;
}

// Every type with a SIMD kernel, in the order. ReportsItsTarget
// checks that this is exactly the set HasSimdKernel reports.
const GgmlType kKernelTypes[] = {
    GgmlType::kQ8_0, GgmlType::kQ4_K,   GgmlType::kQ6_K,   GgmlType::kQ1_0,  GgmlType::kQ4_0,
    GgmlType::kQ4_1, GgmlType::kQ5_0,   GgmlType::kQ5_1,   GgmlType::kQ5_K,  GgmlType::kQ2_K,
    GgmlType::kQ3_K, GgmlType::kIQ4_NL, GgmlType::kIQ4_XS, GgmlType::kMXFP4, GgmlType::kTQ2_0,
    GgmlType::kF16,  GgmlType::kBF16,   GgmlType::kF32,
};
const OutputType kOutputTypes[] = {OutputType::kF32, OutputType::kF16, OutputType::kBF16};

// fp32 values converted to the output type with quants/half.h, as bytes.
std::vector<uint8_t> ConvertOutput(const std::vector<float>& values, OutputType out_type) {
  std::vector<uint8_t> bytes(values.size() * OutputElementBytes(out_type));
  for (size_t i = 0; i < values.size(); ++i) {
    if (out_type == OutputType::kF32) {
      std::memcpy(&bytes[4 * i], &values[i], 4);
    } else {
      const uint16_t h = out_type == OutputType::kF16 ? F32ToF16(values[i]) : F32ToBF16(values[i]);
      std::memcpy(&bytes[2 * i], &h, 2);
    }
  }
  return bytes;
}

// The bytes DequantizeBlocks must write for `input` (whose reference values
// are want_f32) as out_type: the same type in and out is a byte copy (NaN
// payloads kept), anything else the converted values.
std::vector<uint8_t> ExpectedOutput(GgmlType type, const std::vector<uint8_t>& input,
                                    const std::vector<float>& want_f32, OutputType out_type) {
  const bool identity = (type == GgmlType::kF32 && out_type == OutputType::kF32) ||
                        (type == GgmlType::kF16 && out_type == OutputType::kF16) ||
                        (type == GgmlType::kBF16 && out_type == OutputType::kBF16);
  return identity ? input : ConvertOutput(want_f32, out_type);
}

// Index of the first differing output element, or -1.
int64_t FirstMismatch(const uint8_t* a, const uint8_t* b, int64_t n, size_t elem_bytes) {
  for (int64_t i = 0; i < n; ++i) {
    if (std::memcmp(a + i * elem_bytes, b + i * elem_bytes, elem_bytes) != 0) return i;
  }
  return -1;
}

bool IsNanHalf(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x03FF) != 0; }

// Whether element i of `input` (Q4_1 / Q5_1 blocks) is q * d + m with both
// operands NaN: m NaN, and d NaN or d infinite with q = 0. Which of two NaNs
// an x86 addition returns is its first operand, and C leaves the operand
// order of + to the compiler, in the reference as in ggml (the same source
// gave different payloads under -O2 and the ASan build): there the result
// is only defined to be a NaN.
bool NanPlusNan(GgmlType type, const std::vector<uint8_t>& input, int64_t i) {
  if (type != GgmlType::kQ4_1 && type != GgmlType::kQ5_1) return false;
  const bool fifth = type == GgmlType::kQ5_1;
  const size_t block_bytes = fifth ? 24 : 20;
  const uint8_t* block = &input[static_cast<size_t>(i / 32) * block_bytes];
  uint16_t d, m;
  std::memcpy(&d, block, 2);
  std::memcpy(&m, block + 2, 2);
  if (!IsNanHalf(m)) return false;
  if (IsNanHalf(d)) return true;
  if ((d & 0x7FFF) != 0x7C00) return false;  // finite d: q * d is not NaN
  const int j = static_cast<int>(i % 32);
  const uint8_t* qs = block + (fifth ? 8 : 4);
  int q = j < 16 ? (qs[j] & 15) : (qs[j - 16] >> 4);
  if (fifth) {
    uint32_t qh;
    std::memcpy(&qh, block + 4, 4);
    q |= static_cast<int>((qh >> j) & 1u) << 4;
  }
  return q == 0;  // Inf * 0 is NaN
}

// An element of output elem_bytes wide (4: f32, 2: f16 / bf16) is a NaN.
bool IsNanElement(const uint8_t* p, size_t elem_bytes, OutputType out_type) {
  if (elem_bytes == 4) {
    uint32_t bits;
    std::memcpy(&bits, p, 4);
    return (bits & 0x7F800000u) == 0x7F800000u && (bits & 0x007FFFFFu) != 0;
  }
  uint16_t bits;
  std::memcpy(&bits, p, 2);
  if (out_type == OutputType::kBF16) return (bits & 0x7F80) == 0x7F80 && (bits & 0x007F) != 0;
  return IsNanHalf(bits);
}

// FirstMismatch for the dequantized random blocks `input` of `type`: the
// same, except that where the reference's value is a NaN plus a NaN
// (NanPlusNan) any NaN is accepted.
int64_t FirstMismatch(const uint8_t* got, const uint8_t* want, int64_t n, OutputType out_type,
                      GgmlType type, const std::vector<uint8_t>& input) {
  const size_t bytes = OutputElementBytes(out_type);
  for (int64_t i = 0; i < n; ++i) {
    const uint8_t* g = got + i * bytes;
    if (std::memcmp(g, want + i * bytes, bytes) == 0) continue;
    if (NanPlusNan(type, input, i) && IsNanElement(g, bytes, out_type)) continue;
    return i;
  }
  return -1;
}

// Random block bytes. When `finite_halves`, the fp16 fields are rewritten
// with finite values (including subnormals and zeros).
std::vector<uint8_t> RandomBlocks(GgmlType type, int64_t n_blocks, std::mt19937* rng,
                                  bool finite_halves) {
  const TypeTraits& t = GetTypeTraits(type);
  std::vector<uint8_t> bytes(static_cast<size_t>(n_blocks * t.type_size));
  std::uniform_int_distribution<int> byte(0, 255);
  for (auto& b : bytes) b = static_cast<uint8_t>(byte(*rng));
  if (!finite_halves) return bytes;
  // Byte offsets of the half fields in each block (F16: the element itself).
  std::vector<int> halves(HalfFieldOffsets(type).begin(), HalfFieldOffsets(type).end());
  if (type == GgmlType::kF16) halves.push_back(0);
  for (int64_t b = 0; b < n_blocks; ++b) {
    for (int off : halves) {
      uint8_t* p = &bytes[static_cast<size_t>(b * t.type_size + off)];
      p[1] = static_cast<uint8_t>(p[1] & 0xFB);  // exponent bits 14..10 never all ones
    }
  }
  return bytes;
}

}  // namespace

// Readable test parameter in gtest messages.
void PrintTo(const DequantTarget& target, std::ostream* os) {
  *os << target.name << (target.avx512fp16 ? "_FP16" : "");
}

namespace {

class DequantTargetTest : public ::testing::TestWithParam<DequantTarget> {
 protected:
  void SetUp() override {
    scope_ = std::make_unique<ScopedDequantTarget>(GetParam().id, GetParam().avx512fp16);
  }
  void TearDown() override { scope_.reset(); }
  // Whether this target runs SIMD kernels (HWY_SCALAR routes to quants/).
  bool SimdTarget() const { return GetParam().name != "SCALAR"; }

 private:
  std::unique_ptr<ScopedDequantTarget> scope_;
};

TEST_P(DequantTargetTest, ReportsItsTarget) {
  if (ScalarForcedByEnvironment()) GTEST_SKIP() << "GGUFKIT_FORCE_SCALAR is set";
  EXPECT_EQ(ActiveDequantTarget(), SimdTarget() ? GetParam().name : std::string("scalar"));
  // Every kernel type has a kernel for every output on every SIMD target (a
  // family that lost one would silently fall back to the reference codec).
  for (GgmlType type : kKernelTypes) {
    for (OutputType out_type : kOutputTypes) {
      EXPECT_EQ(HasSimdKernel(type, out_type), SimdTarget())
          << GetTypeTraits(type).name << " -> " << OutputTypeName(out_type);
    }
  }
  // ... and no other type has one: a kernel whose type is missing from
  // kKernelTypes would never be compared with the reference below.
  for (const TypeTraits& t : AllTypeTraits()) {
    if (std::find(std::begin(kKernelTypes), std::end(kKernelTypes), t.type) !=
        std::end(kKernelTypes)) {
      continue;
    }
    for (OutputType out_type : kOutputTypes) {
      EXPECT_FALSE(HasSimdKernel(t.type, out_type))
          << t.name << " -> " << OutputTypeName(out_type)
          << " has a SIMD kernel but is not in kKernelTypes (tests/dequant/dequant_test.cc): "
             "add it there so that it is compared with the reference";
    }
  }
}

// Every golden row of every kernel type, all three outputs, bit for bit.
TEST_P(DequantTargetTest, MatchesGgmlGoldenRows) {
  int checked = 0;
  for (GgmlType type : kKernelTypes) {
    if (type == GgmlType::kF32) continue;  // no golden f32.q
    const std::string name(GgmlTypeName(type));
    const std::vector<uint8_t> q = ReadFileBytes(GoldenPath("ggml/" + name + ".q"));
    const std::vector<uint8_t> deq_bytes = ReadFileBytes(GoldenPath("ggml/" + name + ".deq.f32"));
    ASSERT_FALSE(q.empty() || deq_bytes.empty()) << name;
    std::vector<float> deq(deq_bytes.size() / 4);
    std::memcpy(deq.data(), deq_bytes.data(), deq_bytes.size());
    const int64_t n = static_cast<int64_t>(deq.size());
    for (OutputType out_type : kOutputTypes) {
      const std::vector<uint8_t> want = ConvertOutput(deq, out_type);
      std::vector<uint8_t> got(want.size(), 0xCD);
      const absl::Status status = DequantizeBlocks(type, q.data(), n, got.data(), out_type);
      if (!SimdTarget() && absl::IsUnimplemented(status)) continue;  // no reference yet
      ASSERT_TRUE(status.ok()) << name << ": " << status;
      const int64_t bad = FirstMismatch(got.data(), want.data(), n, OutputElementBytes(out_type));
      EXPECT_EQ(bad, -1) << name << " -> " << OutputTypeName(out_type) << " differs at element "
                         << bad << " (row " << bad / 4096 << ")";
      ++checked;
    }
  }
  if (SimdTarget()) {
    EXPECT_EQ(checked, 17 * 3);
  }
  if (checked == 0) GTEST_SKIP() << "no reference codecs registered for the scalar target yet";
}

// Random blocks (every byte random, so every code, scale and NaN/Inf/
// subnormal half appears), odd block counts, input and output misaligned by
// 1..7 bytes: the SIMD result equals the scalar reference bit for bit.
TEST_P(DequantTargetTest, MatchesScalarReferenceOnRandomBlocks) {
  if (!SimdTarget()) GTEST_SKIP() << "HWY_SCALAR runs the reference codecs themselves";
  std::mt19937 rng(1234);
  for (GgmlType type : kKernelTypes) {
    const TypeTraits& t = GetTypeTraits(type);
    for (int64_t n_blocks : {1, 3, 7, 33, 101}) {
      for (int misalign : {0, 1, 3, 7}) {
        // Float inputs: element counts that end in partial vectors.
        const int64_t blocks = t.block_size == 1 ? n_blocks * 5 + misalign : n_blocks;
        const int64_t n = blocks * t.block_size;
        const std::vector<uint8_t> input = RandomBlocks(type, blocks, &rng, false);
        std::vector<uint8_t> in_buf(input.size() + 8);
        std::memcpy(in_buf.data() + misalign, input.data(), input.size());
        std::vector<float> want_f32(static_cast<size_t>(n));
        ASSERT_TRUE(ScalarDequantize(type, input.data(), want_f32.data(), n));
        for (OutputType out_type : kOutputTypes) {
          const std::vector<uint8_t> want = ExpectedOutput(type, input, want_f32, out_type);
          std::vector<uint8_t> out_buf(want.size() + 8 + 64, 0xCD);
          const int out_misalign = (misalign * 3) % 8;
          ASSERT_TRUE(DequantizeBlocks(type, in_buf.data() + misalign, n,
                                       out_buf.data() + out_misalign, out_type)
                          .ok());
          const int64_t bad =
              FirstMismatch(out_buf.data() + out_misalign, want.data(), n, out_type, type, input);
          ASSERT_EQ(bad, -1) << t.name << " -> " << OutputTypeName(out_type) << ", " << blocks
                             << " blocks, misalign " << misalign << ": element " << bad;
          // Nothing written past the end.
          for (size_t i = out_misalign + want.size(); i < out_buf.size(); ++i) {
            ASSERT_EQ(out_buf[i], 0xCD) << t.name << ": wrote past the end";
          }
          for (int i = 0; i < out_misalign; ++i) ASSERT_EQ(out_buf[i], 0xCD);
        }
      }
    }
  }
}

// Every pair of special halves as a block's first two half fields (d and
// m / dmin where the format has both), random codes: the SIMD result equals
// the reference bit for bit. Kernels whose products are provably exact use
// one fused multiply-add where both halves are finite and the reference's
// two operations otherwise; this covers both sides, zero signs from exact
// cancellation (d = 1, m = -1, code 1), the largest and smallest halves and
// signaling NaNs, for aligned and misaligned output (a NaN plus a NaN only
// has to be a NaN: see NanPlusNan).
TEST_P(DequantTargetTest, SpecialScalesMatchScalarReference) {
  if (!SimdTarget()) GTEST_SKIP() << "HWY_SCALAR runs the reference codecs themselves";
  const uint16_t kSpecial[] = {0x0000, 0x8000, 0x0001, 0x8001, 0x03FF, 0x3C00, 0xBC00, 0x4200,
                               0xC200, 0x3555, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00, 0x7E00, 0x7C01};
  constexpr int kN = sizeof(kSpecial) / sizeof(kSpecial[0]);
  std::mt19937 rng(4242);
  int checked = 0;
  for (GgmlType type : kKernelTypes) {
    const TypeTraits& t = GetTypeTraits(type);
    const auto offsets = HalfFieldOffsets(type);
    if (t.block_size == 1 || offsets.size() == 0) continue;
    const int64_t blocks = kN * kN;
    std::vector<uint8_t> input = RandomBlocks(type, blocks, &rng, false);
    for (int64_t b = 0; b < blocks; ++b) {
      uint8_t* block = &input[static_cast<size_t>(b * t.type_size)];
      std::memcpy(block + offsets[0], &kSpecial[b / kN], 2);
      if (offsets.size() > 1) std::memcpy(block + offsets[1], &kSpecial[b % kN], 2);
    }
    const int64_t n = blocks * t.block_size;
    std::vector<float> want(static_cast<size_t>(n));
    ASSERT_TRUE(ScalarDequantize(type, input.data(), want.data(), n));
    for (int misalign : {0, 4}) {
      std::vector<float> out_buf(static_cast<size_t>(n) + 32);
      uint8_t* out = reinterpret_cast<uint8_t*>(out_buf.data()) + misalign;
      ASSERT_TRUE(DequantizeBlocks(type, input.data(), n, out, OutputType::kF32).ok());
      for (int64_t i = 0; i < n; ++i) {
        uint32_t got_bits, want_bits;
        std::memcpy(&got_bits, out + 4 * i, 4);
        std::memcpy(&want_bits, &want[static_cast<size_t>(i)], 4);
        if (got_bits == want_bits) continue;
        const uint16_t first = kSpecial[i / t.block_size / kN];
        const uint16_t second = kSpecial[i / t.block_size % kN];
        float got;
        std::memcpy(&got, &got_bits, 4);
        if (NanPlusNan(type, input, i) && std::isnan(got)) continue;
        FAIL() << t.name << ", output +" << misalign << ": element " << i << " is " << std::hex
               << got_bits << ", the reference " << want_bits << " (half fields " << first
               << ", " << second << ")";
      }
    }
    ++checked;
  }
  EXPECT_GE(checked, 10);
}

// Every offset from a 64-byte boundary that is a multiple of the output
// element's size (f32: 0..60 bytes, f16/bf16: 0..62), plus an odd one.
std::vector<size_t> EveryOffset(size_t element_bytes) {
  std::vector<size_t> offsets;
  for (size_t offset = 0; offset < 64; offset += element_bytes) offsets.push_back(offset);
  offsets.push_back(element_bytes + 1);
  return offsets;
}

// DequantizeBlocks of `input` (blocks of `type`) with store mode `mode` into
// `out_type` output at each of `offsets` bytes past a 64-byte boundary
// writes the reference's bytes, and nothing before or after the output.
void ExpectExactOutput(GgmlType type, StoreMode mode, const std::vector<uint8_t>& input,
                       OutputType out_type, const std::vector<size_t>& offsets) {
  const TypeTraits& t = GetTypeTraits(type);
  const char* mode_name = mode == StoreMode::kStreaming ? "streamed" : "cached";
  const int64_t blocks = static_cast<int64_t>(input.size()) / t.type_size;
  const int64_t n = blocks * t.block_size;
  std::vector<float> want_f32(static_cast<size_t>(n));
  ASSERT_TRUE(ScalarDequantize(type, input.data(), want_f32.data(), n));
  const size_t bytes = OutputElementBytes(out_type);
  const std::vector<uint8_t> want = ExpectedOutput(type, input, want_f32, out_type);
  std::vector<uint8_t> buffer(static_cast<size_t>(n) * bytes + 192);
  uint8_t* base = buffer.data() + (64 - reinterpret_cast<uintptr_t>(buffer.data()) % 64) % 64;
  for (size_t offset : offsets) {
    std::fill(buffer.begin(), buffer.end(), 0xCD);
    uint8_t* out = base + offset;
    DequantOptions options;
    options.store_mode = mode;
    ASSERT_TRUE(DequantizeBlocks(type, input.data(), n, out, out_type, options).ok());
    const int64_t bad = FirstMismatch(out, want.data(), n, out_type, type, input);
    ASSERT_EQ(bad, -1) << t.name << " -> " << OutputTypeName(out_type) << " " << mode_name << ", "
                       << blocks << " blocks at offset " << offset << ": element " << bad;
    for (uint8_t* p = buffer.data(); p < out; ++p) {
      ASSERT_EQ(*p, 0xCD) << t.name << " -> " << OutputTypeName(out_type) << " " << mode_name
                          << ", offset " << offset << ": wrote before the start";
    }
    for (uint8_t* p = out + n * bytes; p < buffer.data() + buffer.size(); ++p) {
      ASSERT_EQ(*p, 0xCD) << t.name << " -> " << OutputTypeName(out_type) << " " << mode_name
                          << ", offset " << offset << ": wrote past the end";
    }
  }
}

// For random blocks of `type`, as many as each of `counts`, and each output
// type: ExpectExactOutput at every offset (EveryOffset) from a 64-byte
// boundary.
void ExpectExactOutputAtOffsets(GgmlType type, StoreMode mode, const std::vector<int64_t>& counts,
                                std::mt19937* rng) {
  for (int64_t blocks : counts) {
    const std::vector<uint8_t> input = RandomBlocks(type, blocks, rng, false);
    for (OutputType out_type : kOutputTypes) {
      ExpectExactOutput(type, mode, input, out_type, EveryOffset(OutputElementBytes(out_type)));
      if (::testing::Test::HasFatalFailure()) return;
    }
  }
}

// Cached output at every offset from a 64-byte boundary (f32: 0..60 bytes in
// 4-byte steps, f16/bf16: 0..62 in 2-byte steps, plus an odd byte offset)
// with odd block counts (float inputs: element counts that end in partial
// vectors): the same bytes as the reference, and nothing written before or
// after the output. Misaligned cached output goes through the realigning
// writers (AVX3), whose first and last vectors are partial.
TEST_P(DequantTargetTest, CachedOutputAtEveryOffset) {
  if (!SimdTarget()) GTEST_SKIP() << "HWY_SCALAR runs the reference codecs themselves";
  std::mt19937 rng(77);
  for (GgmlType type : kKernelTypes) {
    const std::vector<int64_t> counts = GetTypeTraits(type).block_size == 1
                                            ? std::vector<int64_t>{1, 15, 16, 17, 47, 129}
                                            : std::vector<int64_t>{1, 2, 3, 5, 10, 17};
    ExpectExactOutputAtOffsets(type, StoreMode::kCached, counts, &rng);
    if (HasFatalFailure()) return;
  }
}

// Non-temporal stores (f16/bf16 on AVX2 and up) write the same bytes, and
// nothing past either end, at every offset from a 64-byte boundary: aligned
// output; misaligned output realigned in registers (AVX2, AVX3: it checks
// that each kernel stores its vectors in order) or split at the first line
// boundary (element-wise types); and output at an odd address, or on other
// targets, through an aligned scratch (several chunks of it here, each
// chunk's last partial line carried into the next). Outputs of one to three
// blocks are shorter than a line for some types.
TEST_P(DequantTargetTest, StreamingStoresWriteTheSameBytes) {
  if (!SimdTarget()) GTEST_SKIP() << "HWY_SCALAR runs the reference codecs themselves";
  std::mt19937 rng(5);
  for (GgmlType type : kKernelTypes) {
    const TypeTraits& t = GetTypeTraits(type);
    // About 40 KiB of f32 output: many 2 KiB scratch chunks.
    const int64_t many = t.block_size == 1 ? 10243 : 10240 / t.block_size + 3;
    ExpectExactOutputAtOffsets(type, StoreMode::kStreaming, {1, 2, 3, many}, &rng);
    if (HasFatalFailure()) return;
  }
}

// Streamed f16 output converts without the NaN fix while the kernel's
// noted scale fields are all finite (ScaleNotes, dequant/output-inl.h),
// and with it from the first non-finite one on. A long output, finite
// everywhere but one field halfway (a NaN with a payload,
// which vcvtps2ph alone would keep) and one two thirds in (+Inf, whose
// products with zero codes are NaN), aligned, at +32 bytes (half a line)
// and at +2 and +34: the same bytes as the reference, and nothing written
// outside the output; for every block type (each notes its scales; on
// AVX3, IQ4_NL, IQ4_XS, MXFP4, Q4_0, Q4_1, Q5_0, Q5_1 and Q4_K convert
// their tables per block instead: HalfTable, HalfLines). MXFP4 (never a NaN: its scale is a finite power of two) with
// its largest exponent, whose products overflow to infinity.
TEST_P(DequantTargetTest, StreamedF16SkipsTheNaNFixOnlyWhileScalesAreFinite) {
  if (!SimdTarget()) GTEST_SKIP() << "HWY_SCALAR runs the reference codecs themselves";
  std::mt19937 rng(21);
  const int64_t third = 64 << 10;  // a third of the output, in elements
  for (GgmlType type : kKernelTypes) {
    const TypeTraits& t = GetTypeTraits(type);
    if (t.block_size == 1) continue;  // F32, F16, BF16 input: no scales
    const int64_t blocks = (3 * third) / t.block_size + 5;
    std::vector<uint8_t> input = RandomBlocks(type, blocks, &rng, true);
    const auto set_field = [&](int64_t block, uint16_t bits) {
      uint8_t* p = &input[static_cast<size_t>(block * t.type_size)];
      if (type == GgmlType::kMXFP4) {
        p[0] = 0xFF;
        return;
      }
      ASSERT_FALSE(HalfFieldOffsets(type).empty()) << t.name;
      p += HalfFieldOffsets(type)[0];
      p[0] = static_cast<uint8_t>(bits & 0xFF);
      p[1] = static_cast<uint8_t>(bits >> 8);
    };
    set_field((third + third / 2) / t.block_size, 0x7D23);  // NaN, payload 0x123
    if (HasFatalFailure()) return;
    set_field((2 * third + 7 * t.block_size) / t.block_size, 0x7C00);  // +Inf
    ExpectExactOutput(type, StoreMode::kStreaming, input, OutputType::kF16, {0, 2, 32, 34});
    if (HasFatalFailure()) return;
  }
}

// Where quants/ registers a reference dequantizer, the SIMD kernel equals it
// (random blocks with finite fp16 fields).
TEST_P(DequantTargetTest, MatchesRegisteredReferenceCodecs) {
  if (!SimdTarget()) GTEST_SKIP() << "HWY_SCALAR runs the reference codecs themselves";
  std::mt19937 rng(99);
  int compared = 0;
  for (GgmlType type : kKernelTypes) {
    const ReferenceCodec& codec = GetReferenceCodec(type);
    if (codec.dequantize == nullptr) continue;
    const TypeTraits& t = GetTypeTraits(type);
    const int64_t blocks = t.block_size == 1 ? 1001 : 37;
    const int64_t n = blocks * t.block_size;
    const std::vector<uint8_t> input = RandomBlocks(type, blocks, &rng, true);
    std::vector<float> want(static_cast<size_t>(n)), got(static_cast<size_t>(n));
    codec.dequantize(input.data(), want.data(), n);
    ASSERT_TRUE(DequantizeBlocks(type, input.data(), n, got.data(), OutputType::kF32).ok());
    EXPECT_EQ(FirstMismatch(reinterpret_cast<uint8_t*>(got.data()),
                            reinterpret_cast<uint8_t*>(want.data()), n, 4),
              -1)
        << t.name;
    ++compared;
  }
  if (compared == 0) GTEST_SKIP() << "no quants/ reference dequantizer registered yet";
}

// f16 -> f32 for all 65536 halves, and f32 -> f16 / bf16 for special and
// random bit patterns (NaNs with payloads, rounding ties, subnormals, the
// overflow edge 65520), through the F16 and F32 kernels.
TEST_P(DequantTargetTest, FloatConversionsMatchHalfH) {
  if (!SimdTarget()) GTEST_SKIP() << "HWY_SCALAR runs the reference codecs themselves";
  std::vector<uint16_t> halves(65536);
  for (uint32_t i = 0; i < 65536; ++i) halves[i] = static_cast<uint16_t>(i);
  std::vector<float> got(65536);
  ASSERT_TRUE(DequantizeBlocks(GgmlType::kF16, reinterpret_cast<const uint8_t*>(halves.data()),
                               65536, got.data(), OutputType::kF32)
                  .ok());
  for (uint32_t i = 0; i < 65536; ++i) {
    ASSERT_EQ(FloatBits(got[i]), FloatBits(F16ToF32(static_cast<uint16_t>(i)))) << "half " << i;
  }

  std::vector<uint32_t> bits = {0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u,
                                0x7F800001u, 0xFFFFFFFFu, 0x7FBFFFFFu, 0x477FEFFFu, 0x477FF000u,
                                0x477FE000u, 0x38800000u, 0x387FFFFFu, 0x33000000u, 0x33000001u,
                                0x32FFFFFFu, 0x33C00000u, 0x3F808000u, 0x3F818000u, 0x3F800FFFu,
                                0x3F801000u, 0x3F803000u, 0x00000001u, 0x007FFFFFu, 0x7F7FFFFFu};
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) bits.push_back(static_cast<uint32_t>(rng()));
  // Every exponent near the f16 range, with tie-heavy mantissas.
  for (uint32_t e = 96; e < 146; ++e) {
    for (uint32_t m : {0u, 0x1000u, 0x3000u, 0x2000u, 0x0FFFu, 0x7FF000u, 0x7FFFFFu, 0x400000u}) {
      bits.push_back((e << 23) | m);
      bits.push_back(0x80000000u | (e << 23) | m);
    }
  }
  const int64_t n = static_cast<int64_t>(bits.size());
  std::vector<uint16_t> out(bits.size());
  ASSERT_TRUE(DequantizeBlocks(GgmlType::kF32, reinterpret_cast<const uint8_t*>(bits.data()), n,
                               out.data(), OutputType::kF16)
                  .ok());
  for (size_t i = 0; i < bits.size(); ++i) {
    ASSERT_EQ(out[i], F32ToF16(BitsToFloat(bits[i])))
        << std::hex << "f32 0x" << bits[i] << " -> f16";
  }
  ASSERT_TRUE(DequantizeBlocks(GgmlType::kF32, reinterpret_cast<const uint8_t*>(bits.data()), n,
                               out.data(), OutputType::kBF16)
                  .ok());
  for (size_t i = 0; i < bits.size(); ++i) {
    ASSERT_EQ(out[i], F32ToBF16(BitsToFloat(bits[i])))
        << std::hex << "f32 0x" << bits[i] << " -> bf16";
  }
}

// Every target; an AVX3 target of a CPU with AVX512-FP16 twice, with and
// without it (the test names of the first end in _FP16).
std::vector<DequantTarget> TargetsUnderTest() {
  std::vector<DequantTarget> targets;
  for (const DequantTarget& target : SupportedDequantTargets()) {
    targets.push_back(target);
    if (target.avx512fp16) {
      targets.push_back(target);
      targets.back().avx512fp16 = false;
    }
  }
  return targets;
}

INSTANTIATE_TEST_SUITE_P(AllTargets, DequantTargetTest, ::testing::ValuesIn(TargetsUnderTest()),
                         [](const ::testing::TestParamInfo<DequantTarget>& param_info) {
                           std::ostringstream name;
                           PrintTo(param_info.param, &name);
                           return name.str();
                         });

TEST(DequantTargets, EveryX86TargetIsCompiledAndTested) {
  std::vector<std::string> names;
  for (const DequantTarget& t : SupportedDequantTargets()) names.push_back(t.name);
  // The CI machines are Zen 4: all of these run there.
  for (const char* want : {"AVX3", "AVX2", "SSE4", "SSSE3"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
  }
}

// On a CPU whose /proc/cpuinfo lists avx512_fp16, a GCC build flags its
// AVX3 targets (so that the _FP16 tests above run the half-precision
// kernels), and a CPU without it flags none.
TEST(DequantTargets, FlagsAvx512Fp16ExactlyWhereTheCpuHasIt) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12
  std::ifstream cpuinfo("/proc/cpuinfo");
  if (!cpuinfo) GTEST_SKIP() << "no /proc/cpuinfo to compare with";
  std::string line;
  bool has = false;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind("flags", 0) == 0) {
      has = (line + " ").find(" avx512_fp16 ") != std::string::npos;
      break;
    }
  }
  for (const DequantTarget& t : SupportedDequantTargets()) {
    EXPECT_EQ(t.avx512fp16, has && t.name.rfind("AVX3", 0) == 0) << t.name;
  }
#else
  GTEST_SKIP() << "the half-precision kernels need GCC 12 or later on x86-64";
#endif
}

// The scalar reference (the benchmark's baseline and the random-block oracle)
// exists for every kernel type and reproduces ggml's golden output exactly.
TEST(ScalarReference, MatchesGgmlGolden) {
  for (GgmlType type : kKernelTypes) {
    if (type == GgmlType::kF32) continue;
    const std::string name(GgmlTypeName(type));
    const std::vector<uint8_t> q = ReadFileBytes(GoldenPath("ggml/" + name + ".q"));
    const std::vector<uint8_t> deq = ReadFileBytes(GoldenPath("ggml/" + name + ".deq.f32"));
    std::vector<float> got(deq.size() / 4);
    ASSERT_TRUE(ScalarDequantize(type, q.data(), got.data(), static_cast<int64_t>(got.size())));
    EXPECT_EQ(FirstMismatch(reinterpret_cast<uint8_t*>(got.data()), deq.data(),
                            static_cast<int64_t>(got.size()), 4),
              -1)
        << name;
  }
}

TEST(DequantizeBlocks, RejectsBadRequests) {
  std::vector<uint8_t> in(1024);
  std::vector<float> out(1024);
  EXPECT_TRUE(absl::IsInvalidArgument(
      DequantizeBlocks(static_cast<GgmlType>(4), in.data(), 32, out.data(), OutputType::kF32)));
  EXPECT_TRUE(absl::IsInvalidArgument(
      DequantizeBlocks(static_cast<GgmlType>(999), in.data(), 32, out.data(), OutputType::kF32)));
  EXPECT_TRUE(absl::IsInvalidArgument(
      DequantizeBlocks(GgmlType::kI32, in.data(), 32, out.data(), OutputType::kF32)));
  EXPECT_TRUE(absl::IsInvalidArgument(
      DequantizeBlocks(GgmlType::kQ4_K, in.data(), 100, out.data(), OutputType::kF32)));
  EXPECT_TRUE(absl::IsInvalidArgument(
      DequantizeBlocks(GgmlType::kQ8_0, in.data(), -32, out.data(), OutputType::kF32)));
  EXPECT_TRUE(absl::IsInvalidArgument(
      DequantizeBlocks(GgmlType::kQ8_0, nullptr, 32, out.data(), OutputType::kF32)));
  EXPECT_TRUE(absl::IsInvalidArgument(
      DequantizeBlocks(GgmlType::kQ8_0, in.data(), 32, nullptr, OutputType::kF32)));
  EXPECT_TRUE(absl::IsInvalidArgument(
      DequantizeBlocks(GgmlType::kQ8_0, in.data(), 32, out.data(), static_cast<OutputType>(7))));
  const absl::Status s =
      DequantizeBlocks(GgmlType::kQ4_K, in.data(), 100, out.data(), OutputType::kF32);
  EXPECT_NE(s.message().find("q4_K"), absl::string_view::npos) << s;
  EXPECT_NE(s.message().find("256"), absl::string_view::npos) << s;
  // Zero elements: nothing to do, null pointers allowed.
  EXPECT_TRUE(DequantizeBlocks(GgmlType::kQ8_0, nullptr, 0, nullptr, OutputType::kF32).ok());
}

// force_scalar takes the reference path: the same bytes as the kernels where
// quants/ registers the type, otherwise an Unimplemented error (never a crash).
TEST(DequantizeBlocks, ForceScalarUsesReferenceCodec) {
  const std::vector<uint8_t> q = ReadFileBytes(GoldenPath("ggml/q8_0.q"));
  const std::vector<uint8_t> deq = ReadFileBytes(GoldenPath("ggml/q8_0.deq.f32"));
  std::vector<float> got(deq.size() / 4);
  DequantOptions options;
  options.force_scalar = true;
  const absl::Status s =
      DequantizeBlocks(GgmlType::kQ8_0, q.data(), static_cast<int64_t>(got.size()), got.data(),
                       OutputType::kF32, options);
  if (GetReferenceCodec(GgmlType::kQ8_0).dequantize == nullptr) {
    EXPECT_TRUE(absl::IsUnimplemented(s)) << s;
  } else {
    ASSERT_TRUE(s.ok()) << s;
    EXPECT_EQ(std::memcmp(got.data(), deq.data(), deq.size()), 0);
  }
}

}  // namespace
}  // namespace ggufkit

namespace ggufkit {
namespace {

// GGUFKIT_FORCE_SCALAR=1 routes every call to the reference codecs: checked
// in a child process (the variable is read once per process).
TEST(DequantizeBlocks, EnvironmentForcesScalar) {
  if (ScalarForcedByEnvironment()) {
    EXPECT_EQ(ActiveDequantTarget(), "scalar");
    EXPECT_FALSE(HasSimdKernel(GgmlType::kQ4_K, OutputType::kF32));
    const std::vector<uint8_t> q = ReadFileBytes(GoldenPath("ggml/q6_K.q"));
    const std::vector<uint8_t> deq = ReadFileBytes(GoldenPath("ggml/q6_K.deq.f32"));
    std::vector<float> got(deq.size() / 4);
    ASSERT_TRUE(DequantizeBlocks(GgmlType::kQ6_K, q.data(), static_cast<int64_t>(got.size()),
                                 got.data(), OutputType::kF32)
                    .ok());
    EXPECT_EQ(std::memcmp(got.data(), deq.data(), deq.size()), 0);
    return;
  }
  EXPECT_NE(ActiveDequantTarget(), "scalar");
  std::string output;
  const int status =
      testing::RunCommand("GGUFKIT_FORCE_SCALAR=1 /proc/" + std::to_string(getpid()) +
                              "/exe --gtest_filter=DequantizeBlocks.EnvironmentForcesScalar",
                          &output);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("[  PASSED  ] 1 test"), std::string::npos) << output;
}

}  // namespace
}  // namespace ggufkit
