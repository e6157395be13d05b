// QuantizeBlocks: the one checked entry point of the SIMD quantizers. It
// validates the request once, then hands whole rows to the SIMD quantizer of
// the dispatched Highway target, or to the scalar reference of quants/.
#include <atomic>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/dequant/quantize.h"
#include "ggufkit/dequant/quantize_kernels.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit {
namespace quantize_internal {
namespace {

bool CpuSplits512BitVectors() {
#if defined(__x86_64__) || defined(__i386__)
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0, &eax, &ebx, &ecx, &edx) == 0) return false;
  char vendor[12];
  std::memcpy(vendor, &ebx, 4);
  std::memcpy(vendor + 4, &edx, 4);
  std::memcpy(vendor + 8, &ecx, 4);
  if (std::memcmp(vendor, "AuthenticAMD", 12) != 0) return false;
  if (__get_cpuid(1, &eax, &ebx, &ecx, &edx) == 0) return false;
  const unsigned base_family = (eax >> 8) & 0xF;
  const unsigned family = base_family == 0xF ? base_family + ((eax >> 20) & 0xFF) : base_family;
  return family == 0x19;  // Zen 4 (Zen 3, also 19h, has no AVX-512: AVX3 never runs there)
#else
  return false;
#endif
}

std::atomic<int> split_512_override{-1};

}  // namespace

bool Split512BitVectors() {
  const int forced = split_512_override.load(std::memory_order_relaxed);
  if (forced >= 0) return forced != 0;
  static const bool cpu = CpuSplits512BitVectors();
  return cpu;
}

void SetSplit512BitVectorsForTest(int answer) {
  split_512_override.store(answer, std::memory_order_relaxed);
}

}  // namespace quantize_internal

namespace {

using quantize_internal::QuantizeFn;

QuantizeFn FindQuantizer(GgmlType type, bool with_imatrix) {
  QuantizeFn (*const families[])(GgmlType, bool) = {
      quantize_internal::FindSimpleQuantizer,
      quantize_internal::FindKQuantQuantizer,
      quantize_internal::FindCodebookQuantizer,
  };
  for (auto* family : families) {
    if (QuantizeFn fn = family(type, with_imatrix)) return fn;
  }
  return nullptr;
}

}  // namespace

absl::Status QuantizeBlocks(GgmlType type, const float* x, int64_t n_rows, int64_t n_per_row,
                            void* out, const float* imatrix, const QuantizeOptions& options) {
  const TypeTraits* traits = FindTypeTraits(static_cast<uint32_t>(type));
  GGUFKIT_RETURN_ERROR_IF(traits == nullptr, "quantize: unknown ggml type id ",
                          static_cast<uint32_t>(type));
  GGUFKIT_RETURN_ERROR_IF(n_rows < 0 || n_per_row < 0, "quantize ", traits->name,
                          ": negative shape ", n_rows, " x ", n_per_row);
  GGUFKIT_RETURN_ERROR_IF(n_per_row % traits->block_size != 0, "quantize ", traits->name, ": row of ",
                          n_per_row, " elements is not a whole number of ", traits->block_size,
                          "-element blocks");
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t row_bytes, RowSizeBytes(type, n_per_row));
  GGUFKIT_RETURN_ERROR_IF(n_rows > 0 && (n_per_row > INT64_MAX / 4 / n_rows ||
                                         (row_bytes > 0 && n_rows > INT64_MAX / row_bytes)),
                          "quantize ", traits->name, ": ", n_rows, " x ", n_per_row,
                          " overflows the byte count");
  const ReferenceCodec& codec = GetReferenceCodec(type);
  GGUFKIT_RETURN_ERROR_IF(imatrix == nullptr && codec.requires_imatrix, "quantize ", traits->name,
                          ": needs an importance matrix (ggml refuses to quantize ", traits->name,
                          " without one)");
  const bool with_imatrix = imatrix != nullptr && codec.uses_imatrix;
  const bool forced = options.force_scalar || ScalarForcedByEnvironment();
  QuantizeFn fn = forced ? nullptr : FindQuantizer(type, with_imatrix);
  if (fn == nullptr) fn = codec.quantize;
  if (fn == nullptr) {
    return absl::UnimplementedError(
        absl::StrCat("quantize ", traits->name, ": no quantizer for this type"));
  }
  if (n_rows == 0 || n_per_row == 0) return absl::OkStatus();
  GGUFKIT_RETURN_ERROR_IF(x == nullptr || out == nullptr, "quantize ", traits->name, ": null ",
                          x == nullptr ? "input" : "output", " pointer");
  uint8_t* out_bytes = static_cast<uint8_t*>(out);
  if (!with_imatrix) {
    // Without importance weights every quantizer works block by block.
    fn(x, out_bytes, n_rows * n_per_row, nullptr);
    return absl::OkStatus();
  }
  for (int64_t r = 0; r < n_rows; ++r) {
    fn(x + r * n_per_row, out_bytes + r * row_bytes, n_per_row, imatrix);
  }
  return absl::OkStatus();
}

bool HasSimdQuantizer(GgmlType type, bool with_imatrix) {
  if (ScalarForcedByEnvironment()) return false;
  if (FindTypeTraits(static_cast<uint32_t>(type)) == nullptr) return false;
  return FindQuantizer(type, with_imatrix && GetReferenceCodec(type).uses_imatrix) != nullptr;
}

}  // namespace ggufkit
