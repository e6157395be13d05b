// Dense output types of the streaming layer and the ONE function through which
// every block of every type is converted to them.
//
// ConvertBlocks is where the streaming layer meets the codecs: it calls
// dequant/'s single entry point (Highway SIMD kernel of the CPU, else the
// quants/ scalar reference codec; bit-exact either way).
#ifndef GGUFKIT_TOOLS_STREAM_DENSE_CONVERT_H_
#define GGUFKIT_TOOLS_STREAM_DENSE_CONVERT_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit::stream {

// What a tensor is dequantized to: OutputType (quants/output_type.h), with
// OutputElementBytes and OutputTypeName.

// The matching GGUF tensor type (F32, F16, BF16).
GgmlType DenseGgmlType(OutputType type);
// The `general.file_type` value llama.cpp uses for an all-dense model
// (LLAMA_FTYPE_ALL_F32 = 0, MOSTLY_F16 = 1, MOSTLY_BF16 = 32).
uint32_t DenseFileType(OutputType type);
// "f32" / "fp32" / "float32", "f16" / "fp16" / "float16", "bf16" (any case).
absl::StatusOr<OutputType> ParseOutputType(absl::string_view name);

// Converts `n_elements` of `type` starting at `blocks` (a whole number of
// blocks; no alignment needed) into `out` as `to` (f32: float[n]; f16/bf16:
// uint16_t[n], rounded to nearest even from the f32 value, as ggml does).
// Same-type conversions copy the bits unchanged. Integer types are an error
// (the streaming layer copies them as they are). Uses no heap.
absl::Status ConvertBlocks(GgmlType type, const uint8_t* blocks, int64_t n_elements, OutputType to,
                           void* out);
// Whether ConvertBlocks supports `type` (float types always; quantized types
// with a SIMD kernel or a reference dequantizer; integer types never).
bool CanConvert(GgmlType type, OutputType to);

}  // namespace ggufkit::stream

#endif  // GGUFKIT_TOOLS_STREAM_DENSE_CONVERT_H_
