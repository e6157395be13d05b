// Reading safetensors files (huggingface/safetensors) for gguf-compare: the
// header (u64 LE length + JSON) is parsed and validated, tensor bytes are read
// on demand with pread, so memory stays at the header's size.
//
// Validation (errors name the file and what is wrong): header length within
// the file and at most 100 MiB (the format's own limit), JSON well-formed, each
// tensor's dtype known, shape non-negative, data_offsets ordered, inside the
// data section and exactly shape x dtype size bytes long.
#ifndef GGUFKIT_VERIFY_SAFETENSORS_FILE_H_
#define GGUFKIT_VERIFY_SAFETENSORS_FILE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ggufkit/gguf/byte_source.h"

namespace ggufkit::verify {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;           // "F32", "F16", "BF16", "F64", "I8".."I64", "U8", "BOOL"
  std::vector<int64_t> shape;  // row-major (outermost first)
  uint64_t begin = 0;          // relative to the data section
  uint64_t end = 0;
  int64_t elements() const;
};

// Bytes of one element of a safetensors dtype; 0 when unknown.
size_t SafetensorsDtypeSize(const std::string& dtype);

class SafetensorsFile {
 public:
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);

  const std::string& path() const { return path_; }
  // In header order.
  const std::vector<SafetensorsEntry>& tensors() const { return tensors_; }
  // "__metadata__" string pairs, in header order.
  const std::vector<std::pair<std::string, std::string>>& metadata() const { return metadata_; }
  uint64_t data_start() const { return data_start_; }

  // Reads n bytes at `offset` into the tensor's data (thread-safe).
  absl::Status ReadBytes(const SafetensorsEntry& tensor, uint64_t offset, void* dst, size_t n);
  // Values [first, first + n) of the tensor as float (integers and f64
  // converted); `scratch` is reused between calls.
  absl::Status ReadFloats(const SafetensorsEntry& tensor, int64_t first, int64_t n, float* out,
                          std::vector<uint8_t>* scratch);

 private:
  std::string path_;
  std::unique_ptr<ByteSource> source_;
  uint64_t data_start_ = 0;
  std::vector<SafetensorsEntry> tensors_;
  std::vector<std::pair<std::string, std::string>> metadata_;
};

// True when the file starts like a safetensors file (a plausible u64 header
// length followed by '{').
bool LooksLikeSafetensors(const std::string& path);

}  // namespace ggufkit::verify

#endif  // GGUFKIT_VERIFY_SAFETENSORS_FILE_H_
