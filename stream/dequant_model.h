// Whole-model dequantization: what gguf-dequant does, as a library call.
//
// Reads a GGUF model (single file or split shards, as one model) and writes a
// dense copy, GGUF or safetensors, streaming chunk by chunk:
//   reader (pread, small buffers) -> work items of <= chunk_bytes of output
//   -> N worker threads (dequantize) -> ordered ring of output slots
//   -> one writer (GgufWriter or safetensors header + data)
//   -> DirectFileSink (O_DIRECT when possible, temp file + rename).
// Peak memory is the ring (<= kMaxRingBytes) + the sink buffer + metadata,
// whatever the model size. Output bytes do not depend on `threads`.
#ifndef GGUFKIT_TOOLS_STREAM_DEQUANT_MODEL_H_
#define GGUFKIT_TOOLS_STREAM_DEQUANT_MODEL_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ggufkit/gguf/metadata.h"
#include "ggufkit/stream/dense_convert.h"

namespace ggufkit::stream {

enum class OutputFormat { kGguf, kSafetensors };
// Where blocks are dequantized. kCuda needs a build with CUDA
// (GGUFKIT_HAVE_CUDA) and a device; types without a CUDA kernel, and float
// conversions, still run on the CPU. Output bytes are identical either way.
enum class Device { kCpu, kCuda };
// "gguf" / "safetensors" (any case).
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name);

struct DequantModelOptions {
  OutputType to = OutputType::kF32;
  OutputFormat format = OutputFormat::kGguf;
  // ECMAScript regular expression searched in each tensor name (matches
  // anywhere, like grep; anchor with ^...$). Empty: every tensor.
  std::string tensor_regex;
  int threads = 0;                       // 0: all cores
  size_t chunk_bytes = size_t{4} << 20;  // output bytes per work item
  bool direct_io = true;                 // try O_DIRECT for the output
  Device device = Device::kCpu;
  // zstd level for a compressed output (gguf-dequant --compress zstd[:LEVEL]
  // or OUT ending in .zst); std::nullopt writes it uncompressed. The
  // compressor uses `threads` zstd workers. See docs/zstd.md.
  std::optional<int> zstd_level;
};

struct DequantProgress {
  size_t tensor_index = 0;  // among the selected tensors
  size_t tensor_count = 0;
  std::string tensor_name;
  uint64_t bytes_done = 0;  // tensor data written so far
  uint64_t bytes_total = 0;
};

struct DequantModelStats {
  size_t tensors_written = 0;
  size_t tensors_converted = 0;  // dequantized or changed float type
  size_t tensors_copied = 0;     // integer / already-target tensors
  uint64_t input_data_bytes = 0;
  uint64_t output_bytes = 0;     // whole output file (uncompressed)
  uint64_t compressed_bytes = 0; // the file on disk when zstd_level is set
  bool direct_io = false;        // the output went through O_DIRECT
  int threads = 0;
};

// Converts `in_path` into `out_path`. Errors (the output file then does not
// exist): unreadable or invalid input, OUT being the input file (same
// inode) or one of its shards, a bad regex or one matching no tensor, a type
// without a dequantizer, a write failure or a full disk —
// each message naming the file and, for tensor errors, the tensor.
absl::StatusOr<DequantModelStats> DequantizeModelFile(
    const std::string& in_path, const std::string& out_path, const DequantModelOptions& options,
    const std::function<void(const DequantProgress&)>& progress = {});

// A metadata value as the string stored in safetensors' __metadata__:
// strings as they are, numbers in shortest round-trip form, booleans as
// true/false, arrays as JSON arrays.
std::string MetadataValueAsString(const MetadataValue& value);

}  // namespace ggufkit::stream

#endif  // GGUFKIT_TOOLS_STREAM_DEQUANT_MODEL_H_
