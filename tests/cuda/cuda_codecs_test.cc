// ggufkit::cuda against the CPU: golden vectors (ggml, TurboQuant fork), the
// scalar reference codecs of quants/ where registered, and the host build of
// the kernels' own math (group_codecs.h) on random and hostile inputs.
// Argument errors are checked without a GPU; everything else skips cleanly
// when no CUDA device is present.
#include "ggufkit/kernels/cuda/cuda_codecs.h"

#include <cuda_runtime_api.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/kernels/cuda/group_codecs.h"
#include "ggufkit/kernels/cuda/host_dequantizer.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/turbo.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/common/hostile_groups.h"
#include "tests/common/test_data.h"

namespace ggufkit::cuda {
namespace {

using ::ggufkit::testing::GoldenPath;
using ::ggufkit::testing::ReadFileBytes;
using ::ggufkit::testing::ReadFloats;

constexpr int kRows = 25;
constexpr int kCols = 4096;
constexpr int64_t kGoldenElements = int64_t{kRows} * kCols;

// A pointer value that is never dereferenced: the checks must reject it first.
template <class T = void>
T* FakePointer(uintptr_t address) {
  return reinterpret_cast<T*>(address);
}

// ---------------------------------------------------------------------------
// Argument checks: they run before any CUDA call, so they hold with or
// without a GPU.
// ---------------------------------------------------------------------------
TEST(CudaArgumentsTest, DequantizeRejectsBadCountsAndPointers) {
  void* in = FakePointer(0x10000);
  void* out = FakePointer(0x20000);
  EXPECT_EQ(DequantizeOnDevice(GgmlType::kQ4_K, in, -256, OutputType::kF32, out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DequantizeOnDevice(GgmlType::kQ4_K, in, 255, OutputType::kF32, out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DequantizeOnDevice(GgmlType::kQ8_0, in, 33, OutputType::kF16, out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DequantizeOnDevice(GgmlType::kQ8_0, nullptr, 32, OutputType::kF32, out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DequantizeOnDevice(GgmlType::kQ8_0, in, 32, OutputType::kF32, nullptr).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      DequantizeOnDevice(GgmlType::kQ8_0, in, 32, OutputType::kF32, FakePointer(0x20002)).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      DequantizeOnDevice(GgmlType::kQ8_0, in, 32, OutputType::kF16, FakePointer(0x20001)).code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DequantizeOnDevice(GgmlType::kQ2_K, in, 256, OutputType::kF32, out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DequantizeOnDevice(GgmlType::kQ8_0, in, 32, static_cast<OutputType>(9), out).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DequantizeOnDevice(GgmlType::kQ8_0, in, std::numeric_limits<int64_t>::max() / 32 * 32,
                               OutputType::kF32, out)
                .code(),
            absl::StatusCode::kInvalidArgument);
  // Nothing to do is not an error, whatever the pointers.
  EXPECT_TRUE(DequantizeOnDevice(GgmlType::kQ8_0, nullptr, 0, OutputType::kF32, nullptr).ok());
}

TEST(CudaArgumentsTest, KvAndRotationRejectBadArguments) {
  const KvFormat turbo3{KvType::kTurbo3, TurboVariant::kCurrent};
  float* x = FakePointer<float>(0x10000);
  void* blocks = FakePointer(0x20000);
  EXPECT_EQ(QuantizeKvOnDevice(turbo3, x, 64, blocks).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(QuantizeKvOnDevice({KvType::kQ8_0}, x, 48, blocks).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(QuantizeKvOnDevice(turbo3, FakePointer<float>(0x10002), 128, blocks).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(QuantizeKvOnDevice(turbo3, nullptr, 128, blocks).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(QuantizeKvOnDevice({static_cast<KvType>(17)}, x, 128, blocks).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DequantizeKvOnDevice(turbo3, blocks, 100, OutputType::kF32, x).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(DequantizeKvOnDevice({KvType::kTurbo4, static_cast<TurboVariant>(5)}, blocks, 128,
                                 OutputType::kF32, x)
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RotateOnDevice(RotationDirection::kForward, x, x, 100).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RotateOnDevice(RotationDirection::kForward, x, x + 128, 256).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RotateOnDevice(static_cast<RotationDirection>(3), x, x, 128).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HostDequantizer::Create(1000).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(KvBlockBytes({KvType::kTurbo4, TurboVariant::kV1}), 68);
  EXPECT_EQ(KvBlockBytes({KvType::kTurbo4}), 66);
  EXPECT_EQ(KvBlockBytes({KvType::kTurbo3}), 50);
  EXPECT_EQ(KvBlockBytes({KvType::kTurbo2}), 34);
  EXPECT_EQ(KvBlockBytes({KvType::kQ4_0}), 18);
  EXPECT_EQ(KvBlockElements({KvType::kQ8_0}), 32);
}

// Valid sizes but pointers no kernel may touch: an error, never a crash. With
// a GPU the pointer check rejects them; without one the device check does.
TEST(CudaArgumentsTest, BogusPointersAreErrorsNotCrashes) {
  std::vector<uint8_t> host_blocks(18 * 4);
  std::vector<float> host_out(128);
  const absl::Status status = DequantizeOnDevice(GgmlType::kQ4_0, host_blocks.data(), 128,
                                                 OutputType::kF32, host_out.data());
  EXPECT_FALSE(status.ok());
  if (DeviceAvailable().ok()) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  } else {
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable) << status;
  }
  EXPECT_FALSE(
      QuantizeKvOnDevice({KvType::kTurbo2}, host_out.data(), 128, host_blocks.data()).ok());
  EXPECT_FALSE(
      RotateOnDevice(RotationDirection::kInverse, host_out.data(), host_out.data(), 128).ok());
}

TEST(CudaArgumentsTest, DeviceAvailableExplainsItself) {
  const absl::Status status = DeviceAvailable();
  if (!status.ok()) {
    EXPECT_EQ(status.code(), absl::StatusCode::kUnavailable);
    EXPECT_FALSE(status.message().empty());
    EXPECT_FALSE(DeviceDescription().ok());
  } else {
    EXPECT_TRUE(DeviceDescription().ok());
  }
}

// ---------------------------------------------------------------------------
// Device tests.
// ---------------------------------------------------------------------------

// cudaMalloc'd bytes, freed on scope exit.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t bytes) : bytes_(bytes) {
    if (cudaMalloc(&data_, bytes == 0 ? 1 : bytes) != cudaSuccess) {
      data_ = nullptr;
      ADD_FAILURE() << "cudaMalloc(" << bytes << ") failed";
    }
  }
  ~DeviceBuffer() {
    if (data_ != nullptr) cudaFree(data_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  uint8_t* bytes() { return static_cast<uint8_t*>(data_); }
  void Upload(const void* src, size_t n, size_t offset = 0) {
    ASSERT_EQ(cudaMemcpy(bytes() + offset, src, n, cudaMemcpyHostToDevice), cudaSuccess);
  }
  void Download(void* dst, size_t n, size_t offset = 0) {
    ASSERT_EQ(cudaDeviceSynchronize(), cudaSuccess);
    ASSERT_EQ(cudaMemcpy(dst, bytes() + offset, n, cudaMemcpyDeviceToHost), cudaSuccess);
  }
  void Fill(uint8_t value) { ASSERT_EQ(cudaMemset(data_, value, bytes_), cudaSuccess); }

 private:
  void* data_ = nullptr;
  size_t bytes_;
};

class CudaDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const absl::Status status = DeviceAvailable();
    if (!status.ok()) {
      GTEST_SKIP() << "no CUDA device, GPU test skipped (" << status.message() << ")";
    }
  }
};

// Bit patterns equal, or both NaN: device arithmetic returns the canonical
// NaN where the host propagates the operand's payload and sign.
bool SameF32(float a, float b) {
  return FloatBits(a) == FloatBits(b) || (std::isnan(a) && std::isnan(b));
}
bool IsHalfNaN(uint16_t h) { return (h & 0x7C00) == 0x7C00 && (h & 0x3FF) != 0; }
bool IsBf16NaN(uint16_t h) { return (h & 0x7F80) == 0x7F80 && (h & 0x7F) != 0; }

// Expected output elements, from f32 values, as `out_type` would hold them.
std::vector<uint16_t> Narrow(const std::vector<float>& v, OutputType type) {
  std::vector<uint16_t> out(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    out[i] = type == OutputType::kF16 ? F32ToF16(v[i]) : F32ToBF16(v[i]);
  }
  return out;
}

// Compares `n` device outputs of out_type with f32 expectations.
void ExpectOutputs(const std::string& label, OutputType out_type, const uint8_t* got_bytes,
                   const std::vector<float>& want) {
  size_t mismatches = 0;
  if (out_type == OutputType::kF32) {
    for (size_t i = 0; i < want.size(); ++i) {
      float got;
      std::memcpy(&got, got_bytes + 4 * i, 4);
      if (!SameF32(got, want[i]) && mismatches++ < 5) {
        ADD_FAILURE() << label << " f32 element " << i << ": got " << got << " (0x" << std::hex
                      << FloatBits(got) << ") want " << want[i] << " (0x" << FloatBits(want[i])
                      << ")" << std::dec;
      }
    }
  } else {
    const std::vector<uint16_t> expect = Narrow(want, out_type);
    const bool f16 = out_type == OutputType::kF16;
    for (size_t i = 0; i < want.size(); ++i) {
      uint16_t got;
      std::memcpy(&got, got_bytes + 2 * i, 2);
      const bool both_nan =
          f16 ? (IsHalfNaN(got) && IsHalfNaN(expect[i])) : (IsBf16NaN(got) && IsBf16NaN(expect[i]));
      if (got != expect[i] && !both_nan && mismatches++ < 5) {
        ADD_FAILURE() << label << (f16 ? " f16" : " bf16") << " element " << i << ": got 0x"
                      << std::hex << got << " want 0x" << expect[i] << std::dec;
      }
    }
  }
  EXPECT_EQ(mismatches, 0u) << label;
}

constexpr OutputType kAllOutputs[] = {OutputType::kF32, OutputType::kF16, OutputType::kBF16};

struct GgmlCase {
  GgmlType type;
  const char* name;
};
constexpr GgmlCase kGgmlCases[] = {
    {GgmlType::kQ8_0, "q8_0"},     {GgmlType::kQ4_0, "q4_0"},   {GgmlType::kQ1_0, "q1_0"},
    {GgmlType::kQ4_K, "q4_K"},     {GgmlType::kQ5_K, "q5_K"},   {GgmlType::kQ6_K, "q6_K"},
    {GgmlType::kIQ4_NL, "iq4_nl"}, {GgmlType::kMXFP4, "mxfp4"},
};

// Every golden tensor, whole, to every output type (16-byte aligned buffers:
// the vector-store path).
TEST_F(CudaDeviceTest, DequantizeMatchesGgmlGolden) {
  for (const GgmlCase& c : kGgmlCases) {
    ASSERT_TRUE(CanDequantizeOnDevice(c.type)) << c.name;
    const std::vector<uint8_t> q = ReadFileBytes(GoldenPath(std::string("ggml/") + c.name + ".q"));
    const std::vector<float> want =
        ReadFloats(GoldenPath(std::string("ggml/") + c.name + ".deq.f32"));
    ASSERT_EQ(static_cast<int64_t>(want.size()), kGoldenElements) << c.name;
    DeviceBuffer in(q.size()), out(want.size() * 4);
    in.Upload(q.data(), q.size());
    for (OutputType out_type : kAllOutputs) {
      out.Fill(0xCD);
      ASSERT_TRUE(
          DequantizeOnDevice(c.type, in.bytes(), kGoldenElements, out_type, out.bytes()).ok());
      std::vector<uint8_t> got(want.size() * OutputElementBytes(out_type));
      out.Download(got.data(), got.size());
      ExpectOutputs(c.name, out_type, got.data(), want);
    }
  }
}

// Odd block counts from odd block positions, input at odd device addresses,
// outputs off the 16-byte grid (the element-by-element store path), on a
// non-default stream.
TEST_F(CudaDeviceTest, DequantizeUnalignedStartsAndOddCounts) {
  cudaStream_t stream;
  ASSERT_EQ(cudaStreamCreate(&stream), cudaSuccess);
  for (const GgmlCase& c : kGgmlCases) {
    const TypeTraits& traits = GetTypeTraits(c.type);
    const std::vector<uint8_t> q = ReadFileBytes(GoldenPath(std::string("ggml/") + c.name + ".q"));
    const std::vector<float> all =
        ReadFloats(GoldenPath(std::string("ggml/") + c.name + ".deq.f32"));
    for (int64_t first_block : {int64_t{1}, int64_t{7}}) {
      for (int64_t n_blocks : {int64_t{1}, int64_t{3}, int64_t{101}}) {
        for (size_t in_shift : {size_t{1}, size_t{3}}) {
          for (size_t out_shift : {size_t{1}, size_t{3}}) {
            const int64_t n = n_blocks * traits.block_size;
            const size_t in_bytes = static_cast<size_t>(n_blocks * traits.type_size);
            DeviceBuffer in(in_bytes + 16), out(static_cast<size_t>(n) * 4 + 64);
            in.Upload(q.data() + first_block * traits.type_size, in_bytes, in_shift);
            const std::vector<float> want(all.begin() + first_block * traits.block_size,
                                          all.begin() + first_block * traits.block_size + n);
            for (OutputType out_type : kAllOutputs) {
              const size_t out_offset = out_shift * OutputElementBytes(out_type);
              ASSERT_TRUE(DequantizeOnDevice(c.type, in.bytes() + in_shift, n, out_type,
                                             out.bytes() + out_offset, stream)
                              .ok());
              ASSERT_EQ(cudaStreamSynchronize(stream), cudaSuccess);
              std::vector<uint8_t> got(static_cast<size_t>(n) * OutputElementBytes(out_type));
              out.Download(got.data(), got.size(), out_offset);
              ExpectOutputs(std::string(c.name) + " block " + std::to_string(first_block) + " x" +
                                std::to_string(n_blocks) + " shift " + std::to_string(in_shift),
                            out_type, got.data(), want);
            }
          }
        }
      }
    }
  }
  cudaStreamDestroy(stream);
}

// Random blocks (every nibble, scale and sign pattern, NaN/inf/subnormal
// scales included) against the CPU reference codec when quants/ registers
// one, and always against the host build of the kernels' decoders.
template <class Decoder>
std::vector<float> HostDecode(const std::vector<uint8_t>& blocks,
                              const internal::DecodeTable& table) {
  const size_t n_blocks = blocks.size() / Decoder::kBlockBytes;
  std::vector<float> out(n_blocks * Decoder::kBlockElems);
  for (size_t b = 0; b < n_blocks; ++b) {
    for (int g = 0; g < Decoder::kBlockElems / internal::kGroupElems; ++g) {
      Decoder::Decode(blocks.data() + b * Decoder::kBlockBytes, g, table.values,
                      out.data() + b * Decoder::kBlockElems + g * internal::kGroupElems);
    }
  }
  return out;
}

std::vector<float> HostDecodeGgml(GgmlType type, const std::vector<uint8_t>& blocks) {
  using namespace internal;  // NOLINT: the decoder names
  switch (type) {
    case GgmlType::kQ8_0:
      return HostDecode<Q8_0Decoder>(blocks, kNoTable);
    case GgmlType::kQ4_0:
      return HostDecode<Q4_0Decoder>(blocks, kNoTable);
    case GgmlType::kQ1_0:
      return HostDecode<Q1_0Decoder>(blocks, kNoTable);
    case GgmlType::kQ4_K:
      return HostDecode<Q4_KDecoder>(blocks, kNoTable);
    case GgmlType::kQ5_K:
      return HostDecode<Q5_KDecoder>(blocks, kNoTable);
    case GgmlType::kQ6_K:
      return HostDecode<Q6_KDecoder>(blocks, kNoTable);
    case GgmlType::kIQ4_NL:
      return HostDecode<Iq4NlDecoder>(blocks, kIq4NlTable);
    case GgmlType::kMXFP4:
      return HostDecode<Mxfp4Decoder>(blocks, kMxfp4Table);
    default:
      return {};
  }
}

TEST_F(CudaDeviceTest, DequantizeRandomBlocksMatchesReferenceAndHost) {
  std::mt19937 rng(1234);
  for (const GgmlCase& c : kGgmlCases) {
    const TypeTraits& traits = GetTypeTraits(c.type);
    const int64_t n_blocks = 4099;  // odd, several CUDA blocks
    std::vector<uint8_t> blocks(static_cast<size_t>(n_blocks * traits.type_size));
    for (uint8_t& b : blocks) b = static_cast<uint8_t>(rng());
    const int64_t n = n_blocks * traits.block_size;
    const std::vector<float> host = HostDecodeGgml(c.type, blocks);
    DeviceBuffer in(blocks.size()), out(static_cast<size_t>(n) * 4);
    in.Upload(blocks.data(), blocks.size());
    const ReferenceCodec& reference = GetReferenceCodec(c.type);
    std::vector<float> cpu(static_cast<size_t>(n));
    if (reference.dequantize != nullptr) {
      reference.dequantize(blocks.data(), cpu.data(), n);
    } else {
      std::printf(
          "note: no CPU reference codec registered for %s yet; checked against golden "
          "vectors and the host decoder only\n",
          c.name);
    }
    for (OutputType out_type : kAllOutputs) {
      ASSERT_TRUE(DequantizeOnDevice(c.type, in.bytes(), n, out_type, out.bytes()).ok());
      std::vector<uint8_t> got(static_cast<size_t>(n) * OutputElementBytes(out_type));
      out.Download(got.data(), got.size());
      ExpectOutputs(std::string(c.name) + " random vs host decoder", out_type, got.data(), host);
      if (reference.dequantize != nullptr) {
        ExpectOutputs(std::string(c.name) + " random vs CPU reference", out_type, got.data(), cpu);
      }
    }
  }
}

// ---------------------------------------------------------------------------
// KV cache.
// ---------------------------------------------------------------------------
struct KvCase {
  KvFormat format;
  const char* q_path;    // golden blocks of input.f32
  const char* deq_path;  // golden dequantized output
};
constexpr KvCase kKvCases[] = {
    {{KvType::kQ8_0}, "ggml/q8_0.q", "ggml/q8_0.deq.f32"},
    {{KvType::kQ4_0}, "ggml/q4_0.q", "ggml/q4_0.deq.f32"},
    {{KvType::kTurbo2}, "turbo/current/turbo2.q", "turbo/current/turbo2.deq.f32"},
    {{KvType::kTurbo3}, "turbo/current/turbo3.q", "turbo/current/turbo3.deq.f32"},
    {{KvType::kTurbo4}, "turbo/current/turbo4.q", "turbo/current/turbo4.deq.f32"},
    {{KvType::kTurbo2, TurboVariant::kV1}, "turbo/v1/turbo2.q", "turbo/v1/turbo2.deq.f32"},
    {{KvType::kTurbo3, TurboVariant::kV1}, "turbo/v1/turbo3.q", "turbo/v1/turbo3.deq.f32"},
    {{KvType::kTurbo4, TurboVariant::kV1}, "turbo/v1/turbo4.q", "turbo/v1/turbo4.deq.f32"},
};

void ExpectBytes(const std::string& label, const std::vector<uint8_t>& got,
                 const std::vector<uint8_t>& want, int64_t block_bytes) {
  ASSERT_EQ(got.size(), want.size()) << label;
  size_t mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i] && mismatches++ < 5) {
      ADD_FAILURE() << label << " byte " << i << " (block " << i / block_bytes << "): got "
                    << int{got[i]} << " want " << int{want[i]};
    }
  }
  EXPECT_EQ(mismatches, 0u) << label;
}

// All golden rows (zeros, constants, outliers, subnormal and flushed norms,
// the 8832 exact ties at threshold 0 per turbo type) quantize to the golden
// bytes with no exception, and dequantize to the golden floats.
TEST_F(CudaDeviceTest, KvQuantizeAndDequantizeMatchGolden) {
  const std::vector<float> x = ReadFloats(GoldenPath("ggml/input.f32"));
  ASSERT_EQ(static_cast<int64_t>(x.size()), kGoldenElements);
  DeviceBuffer dx(x.size() * 4);
  dx.Upload(x.data(), x.size() * 4);
  for (const KvCase& c : kKvCases) {
    const std::vector<uint8_t> want_q = ReadFileBytes(GoldenPath(c.q_path));
    const std::vector<float> want_deq = ReadFloats(GoldenPath(c.deq_path));
    ASSERT_EQ(static_cast<int64_t>(want_q.size()),
              kGoldenElements / KvBlockElements(c.format) * KvBlockBytes(c.format))
        << c.q_path;
    DeviceBuffer blocks(want_q.size()), out(x.size() * 4);
    blocks.Fill(0xA5);
    ASSERT_TRUE(QuantizeKvOnDevice(c.format, reinterpret_cast<float*>(dx.bytes()), kGoldenElements,
                                   blocks.bytes())
                    .ok());
    std::vector<uint8_t> got_q(want_q.size());
    blocks.Download(got_q.data(), got_q.size());
    ExpectBytes(c.q_path, got_q, want_q, KvBlockBytes(c.format));
    // Dequantize the golden bytes (not ours) to every output type.
    blocks.Upload(want_q.data(), want_q.size());
    for (OutputType out_type : kAllOutputs) {
      ASSERT_TRUE(
          DequantizeKvOnDevice(c.format, blocks.bytes(), kGoldenElements, out_type, out.bytes())
              .ok());
      std::vector<uint8_t> got(x.size() * OutputElementBytes(out_type));
      out.Download(got.data(), got.size());
      ExpectOutputs(c.deq_path, out_type, got.data(), want_deq);
    }
  }
}

// Odd block counts, float input 4- but not 16-byte aligned, blocks written
// at odd addresses; bytes around the output stay untouched.
TEST_F(CudaDeviceTest, KvQuantizeUnalignedAndOddCounts) {
  const std::vector<float> x = ReadFloats(GoldenPath("ggml/input.f32"));
  for (const KvCase& c : kKvCases) {
    const std::vector<uint8_t> want_all = ReadFileBytes(GoldenPath(c.q_path));
    const std::vector<float> want_deq = ReadFloats(GoldenPath(c.deq_path));
    const int64_t block_elements = KvBlockElements(c.format);
    const int64_t block_bytes = KvBlockBytes(c.format);
    for (int64_t first_block : {int64_t{3}, int64_t{33}}) {
      for (int64_t n_blocks : {int64_t{1}, int64_t{5}, int64_t{77}}) {
        const int64_t n = n_blocks * block_elements;
        DeviceBuffer dx(static_cast<size_t>(n) * 4 + 16);
        dx.Upload(x.data() + first_block * block_elements, static_cast<size_t>(n) * 4, 4);
        const size_t out_bytes = static_cast<size_t>(n_blocks * block_bytes);
        DeviceBuffer blocks(out_bytes + 8);
        blocks.Fill(0x5A);
        ASSERT_TRUE(QuantizeKvOnDevice(c.format, reinterpret_cast<float*>(dx.bytes() + 4), n,
                                       blocks.bytes() + 3)
                        .ok());
        std::vector<uint8_t> got(out_bytes + 8);
        blocks.Download(got.data(), got.size());
        for (size_t i : {size_t{0}, size_t{1}, size_t{2}, out_bytes + 3, out_bytes + 7}) {
          EXPECT_EQ(got[i], 0x5A) << c.q_path << " wrote outside its output at " << i;
        }
        const std::vector<uint8_t> want(want_all.begin() + first_block * block_bytes,
                                        want_all.begin() + (first_block + n_blocks) * block_bytes);
        ExpectBytes(std::string(c.q_path) + " unaligned",
                    {got.begin() + 3, got.begin() + 3 + out_bytes}, want, block_bytes);
        // Dequantize those blocks from the odd address into an output off the
        // 16-byte grid (reusing dx, 4 bytes in).
        for (OutputType out_type : kAllOutputs) {
          ASSERT_TRUE(
              DequantizeKvOnDevice(c.format, blocks.bytes() + 3, n, out_type, dx.bytes() + 4).ok());
          std::vector<uint8_t> deq(static_cast<size_t>(n) * OutputElementBytes(out_type));
          dx.Download(deq.data(), deq.size(), 4);
          ExpectOutputs(std::string(c.deq_path) + " unaligned", out_type, deq.data(),
                        {want_deq.begin() + first_block * block_elements,
                         want_deq.begin() + (first_block + n_blocks) * block_elements});
        }
      }
    }
  }
}

// Hostile groups (tests/common/hostile_groups.h): the device must equal the
// host build of the same code byte for byte (and the CPU reference where one
// is registered).
TEST_F(CudaDeviceTest, KvQuantizeHostileInputMatchesHostAndReference) {
  std::mt19937 rng(99);
  const int64_t n_groups = 12 * 41;  // odd multiple of every case
  const std::vector<float> x = ::ggufkit::testing::HostileKvGroups(n_groups, rng);
  const int64_t n = n_groups * 128;
  DeviceBuffer dx(x.size() * 4);
  dx.Upload(x.data(), x.size() * 4);
  for (const KvCase& c : kKvCases) {
    const int64_t block_bytes = KvBlockBytes(c.format);
    const int64_t n_blocks = n / KvBlockElements(c.format);
    std::vector<uint8_t> host(static_cast<size_t>(n_blocks * block_bytes));
    if (c.format.type == KvType::kQ8_0 || c.format.type == KvType::kQ4_0) {
      for (int64_t b = 0; b < n_blocks; ++b) {
        if (c.format.type == KvType::kQ8_0) {
          internal::QuantizeBlockQ8_0(x.data() + 32 * b, host.data() + b * block_bytes);
        } else {
          internal::QuantizeBlockQ4_0(x.data() + 32 * b, host.data() + b * block_bytes);
        }
      }
    } else {
      const bool v1 = c.format.variant == TurboVariant::kV1;
      const internal::TurboTables& t =
          c.format.type == KvType::kTurbo2 ? internal::kTurbo2Tables
          : c.format.type == KvType::kTurbo3
              ? (v1 ? internal::kTurbo3V1Tables : internal::kTurbo3Tables)
              : (v1 ? internal::kTurbo4V1Tables : internal::kTurbo4Tables);
      float u[128];
      uint8_t idx[128];
      for (int64_t g = 0; g < n_blocks; ++g) {
        internal::TurboQuantizeGroup(t, internal::kTurboSigns, x.data() + g * 128,
                                     host.data() + g * block_bytes, u, idx, 0, 1,
                                     internal::NoBarrier());
      }
    }
    DeviceBuffer blocks(host.size());
    ASSERT_TRUE(
        QuantizeKvOnDevice(c.format, reinterpret_cast<float*>(dx.bytes()), n, blocks.bytes()).ok());
    std::vector<uint8_t> got(host.size());
    blocks.Download(got.data(), got.size());
    ExpectBytes(std::string(c.q_path) + " hostile input vs host", got, host, block_bytes);
    if (c.format.type != KvType::kQ8_0 && c.format.type != KvType::kQ4_0) {
      // The scalar TurboQuant reference of quants/turbo.h.
      const TurboFormat turbo_format = c.format.type == KvType::kTurbo2 ? TurboFormat::kTurbo2
                                       : c.format.type == KvType::kTurbo3
                                           ? TurboFormat::kTurbo3
                                           : TurboFormat::kTurbo4;
      const TurboVariant variant =
          c.format.variant == TurboVariant::kV1 ? TurboVariant::kV1 : TurboVariant::kCurrent;
      std::vector<uint8_t> cpu(host.size());
      for (int64_t g = 0; g < n_blocks; ++g) {
        QuantizeTurboGroup(turbo_format, variant, x.data() + g * 128, cpu.data() + g * block_bytes);
      }
      ExpectBytes(std::string(c.q_path) + " hostile input vs quants/turbo.h", got, cpu,
                  block_bytes);
    }
    const GgmlType ggml = c.format.type == KvType::kQ8_0 ? GgmlType::kQ8_0 : GgmlType::kQ4_0;
    if (c.format.type == KvType::kQ8_0 || c.format.type == KvType::kQ4_0) {
      const ReferenceCodec& reference = GetReferenceCodec(ggml);
      if (reference.quantize != nullptr) {
        // Blocks where the reference converts inf or NaN to int8 (undefined
        // in C, so compiler-dependent): scales so small that 1/d is infinite
        // (kind 3), an inf (kind 5) or a NaN (kind 6) in the block. Skipped.
        std::vector<uint8_t> cpu(host.size());
        reference.quantize(x.data(), cpu.data(), n, nullptr);
        for (int64_t b = 0; b < n_blocks; ++b) {
          const int64_t kind = (b * 32 / 128) % 12;
          if (kind == 3 || kind == 5 || kind == 6) {
            std::memcpy(cpu.data() + b * block_bytes, got.data() + b * block_bytes, block_bytes);
          }
        }
        ExpectBytes(std::string(c.q_path) + " hostile input vs CPU reference", got, cpu,
                    block_bytes);
      }
    }
  }
}

TEST_F(CudaDeviceTest, RotationMatchesGoldenAndHost) {
  for (const char* set : {"current", "v1"}) {
    const std::vector<float> y =
        ReadFloats(GoldenPath(std::string("turbo/") + set + "/turbo3.deq.f32"));
    const std::vector<float> want =
        ReadFloats(GoldenPath(std::string("turbo/") + set + "/wht_inverse.f32"));
    DeviceBuffer buffer(y.size() * 4);
    buffer.Upload(y.data(), y.size() * 4);
    float* d = reinterpret_cast<float*>(buffer.bytes());
    // In place.
    ASSERT_TRUE(RotateOnDevice(RotationDirection::kInverse, d, d, kGoldenElements).ok());
    std::vector<float> got(y.size());
    buffer.Download(got.data(), got.size() * 4);
    ExpectOutputs(std::string(set) + " inverse rotation", OutputType::kF32,
                  reinterpret_cast<const uint8_t*>(got.data()), want);
  }
  // Forward, out of place, odd group count, random data vs the host build.
  std::mt19937 rng(5);
  const std::vector<float> x = ::ggufkit::testing::HostileKvGroups(37, rng);
  std::vector<float> host = x;
  for (size_t g = 0; g < x.size() / 128; ++g) {
    internal::Rotate128(host.data() + g * 128, internal::kTurboSigns.s1, internal::kTurboSigns.s2,
                        0, 1, internal::NoBarrier());
  }
  DeviceBuffer in(x.size() * 4), out(x.size() * 4);
  in.Upload(x.data(), x.size() * 4);
  ASSERT_TRUE(RotateOnDevice(RotationDirection::kForward, reinterpret_cast<float*>(in.bytes()),
                             reinterpret_cast<float*>(out.bytes()), static_cast<int64_t>(x.size()))
                  .ok());
  std::vector<float> got(x.size());
  out.Download(got.data(), got.size() * 4);
  ExpectOutputs("forward rotation vs host", OutputType::kF32,
                reinterpret_cast<const uint8_t*>(got.data()), host);
}

// ---------------------------------------------------------------------------
// Host-to-host streaming.
// ---------------------------------------------------------------------------
TEST_F(CudaDeviceTest, HostDequantizerStreamsManyChunks) {
  // 64 KiB chunks: the 100 K-element golden tensors take 7 to 13 chunks.
  absl::StatusOr<std::unique_ptr<HostDequantizer>> dequantizer = HostDequantizer::Create(64 << 10);
  ASSERT_TRUE(dequantizer.ok()) << dequantizer.status();
  for (const GgmlCase& c : kGgmlCases) {
    const std::vector<uint8_t> q = ReadFileBytes(GoldenPath(std::string("ggml/") + c.name + ".q"));
    const std::vector<float> want =
        ReadFloats(GoldenPath(std::string("ggml/") + c.name + ".deq.f32"));
    for (OutputType out_type : kAllOutputs) {
      // Odd host addresses on both sides.
      std::vector<uint8_t> in(q.size() + 1), out(want.size() * 4 + 1, 0xEE);
      std::memcpy(in.data() + 1, q.data(), q.size());
      ASSERT_TRUE((*dequantizer)
                      ->Dequantize(c.type, in.data() + 1, kGoldenElements, out_type, out.data() + 1)
                      .ok());
      ExpectOutputs(std::string(c.name) + " streamed", out_type, out.data() + 1, want);
    }
  }
  std::vector<uint8_t> in(18 * 3), out(4 * 96);
  EXPECT_EQ((*dequantizer)
                ->Dequantize(GgmlType::kQ4_0, in.data(), 95, OutputType::kF32, out.data())
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ((*dequantizer)
                ->Dequantize(GgmlType::kQ3_K, in.data(), 256, OutputType::kF32, out.data())
                .code(),
            absl::StatusCode::kInvalidArgument);
}

// An error for a bad pointer leaves the context usable.
TEST_F(CudaDeviceTest, RejectedCallLeavesDeviceUsable) {
  std::vector<uint8_t> host(18);
  std::vector<float> out(32);
  EXPECT_EQ(
      DequantizeOnDevice(GgmlType::kQ4_0, host.data(), 32, OutputType::kF32, out.data()).code(),
      absl::StatusCode::kInvalidArgument);
  const std::vector<uint8_t> q = ReadFileBytes(GoldenPath("ggml/q4_0.q"));
  const std::vector<float> want = ReadFloats(GoldenPath("ggml/q4_0.deq.f32"));
  DeviceBuffer din(18), dout(32 * 4);
  din.Upload(q.data(), 18);
  ASSERT_TRUE(
      DequantizeOnDevice(GgmlType::kQ4_0, din.bytes(), 32, OutputType::kF32, dout.bytes()).ok());
  dout.Download(out.data(), 32 * 4);
  ExpectOutputs("q4_0 after a rejected call", OutputType::kF32,
                reinterpret_cast<const uint8_t*>(out.data()), {want.begin(), want.begin() + 32});
}

}  // namespace
}  // namespace ggufkit::cuda
