// A TensorByteSource over bytes in memory, for tests.
#ifndef GGUFKIT_TESTS_STREAM_MEMORY_SOURCE_H_
#define GGUFKIT_TESTS_STREAM_MEMORY_SOURCE_H_

#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ggufkit/stream/tensor_stream.h"

namespace ggufkit::stream::testing {

class MemoryTensorSource : public TensorByteSource {
 public:
  explicit MemoryTensorSource(std::vector<uint8_t> bytes) : bytes_(std::move(bytes)) {}
  absl::Status ReadTensorBytes(uint64_t offset, void* dst, size_t n) const override {
    if (offset > bytes_.size() || n > bytes_.size() - offset) {
      return absl::OutOfRangeError(absl::StrCat("read of ", n, " bytes at ", offset,
                                                " past the end (", bytes_.size(), ")"));
    }
    std::memcpy(dst, bytes_.data() + offset, n);
    return absl::OkStatus();
  }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace ggufkit::stream::testing

#endif  // GGUFKIT_TESTS_STREAM_MEMORY_SOURCE_H_
