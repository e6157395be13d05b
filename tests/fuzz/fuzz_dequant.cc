// Fuzz target: the dequantizer over random block bytes, for every type.
//
// Byte 0 is the ggml type id (ids that are not a type are skipped, so seeds
// are simply "<id> <out> <blocks of that type>"), byte 1 the output type;
// the rest is whole blocks, copied into a buffer of exactly that size so
// that any read past the last block is an ASan report. Each input runs the
// dispatching DequantizeBlocks (SIMD where the CPU has a kernel) and the
// scalar reference path; both must accept or refuse alike and, when they
// accept, agree bit for bit (NaN allowed: any NaN matches any NaN). Integer
// types must be refused.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ggufkit/dequant/dequant.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/fuzz/fuzz_common.h"

namespace ggufkit {
namespace {

bool IsNanBits(OutputType out, const uint8_t* p) {
  if (out == OutputType::kF32) {
    float f;
    std::memcpy(&f, p, 4);
    return std::isnan(f);
  }
  uint16_t h;
  std::memcpy(&h, p, 2);
  return std::isnan(out == OutputType::kF16 ? F16ToF32(h) : BF16ToF32(h));
}

void Run(const TypeTraits& traits, OutputType out_type, const uint8_t* data, size_t size) {
  const size_t n_blocks = size / static_cast<size_t>(traits.type_size);
  const int64_t n = static_cast<int64_t>(n_blocks) * traits.block_size;
  std::vector<uint8_t> blocks(data, data + n_blocks * static_cast<size_t>(traits.type_size));
  const size_t elem = OutputElementBytes(out_type);
  std::vector<uint8_t> simd(static_cast<size_t>(n) * elem), scalar(simd.size());
  DequantOptions scalar_options;
  scalar_options.force_scalar = true;
  const uint8_t* in = blocks.empty() ? data : blocks.data();
  absl::Status a = DequantizeBlocks(traits.type, in, n, simd.data(), out_type);
  absl::Status b = DequantizeBlocks(traits.type, in, n, scalar.data(), out_type, scalar_options);
  if (traits.kind == TypeKind::kInteger && n > 0) {
    FUZZ_CHECK(!a.ok() && !b.ok(), "integer type %s was dequantized",
               std::string(traits.name).c_str());
  }
  FUZZ_CHECK(a.ok() == b.ok(), "%s: SIMD and scalar disagree on accepting the input",
             std::string(traits.name).c_str());
  if (!a.ok()) return;
  for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
    const uint8_t* x = simd.data() + i * elem;
    const uint8_t* y = scalar.data() + i * elem;
    if (std::memcmp(x, y, elem) == 0) continue;
    FUZZ_CHECK(IsNanBits(out_type, x) && IsNanBits(out_type, y),
               "%s -> %s: element %zu differs between SIMD and scalar",
               std::string(traits.name).c_str(), OutputTypeName(out_type), i);
  }
  // The reference codec itself, straight into floats.
  const ReferenceCodec& codec = GetReferenceCodec(traits.type);
  if (codec.dequantize != nullptr && traits.kind != TypeKind::kInteger && n > 0) {
    std::vector<float> ref(static_cast<size_t>(n));
    codec.dequantize(blocks.data(), ref.data(), n);
  }
}

}  // namespace
}  // namespace ggufkit

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ggufkit;
  if (size < 2) return 0;
  const TypeTraits* traits = FindTypeTraits(data[0] % kGgmlTypeIdLimit);
  if (traits == nullptr) return 0;
  const OutputType out_type = static_cast<OutputType>(data[1] % 3);
  Run(*traits, out_type, data + 2, size - 2);
  return 0;
}
