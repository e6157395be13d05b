// Test models: GGUF files of random but valid blocks, written by our own
// GgufWriter chunk by chunk (memory does not grow with the file).
#ifndef GGUFKIT_TESTS_STREAM_MODEL_GEN_H_
#define GGUFKIT_TESTS_STREAM_MODEL_GEN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ggufkit/quants/type_traits.h"

namespace ggufkit::stream::testing {

struct GenTensor {
  std::string name;
  GgmlType type;
  std::vector<int64_t> ne;  // innermost first
};

// Fills `n_blocks` blocks of `type` with random bytes whose fp16 scales are
// finite and sane (Q4_K d/dmin, Q6_K d, Q8_0 / Q4_0 d; float types get finite
// values). Deterministic in (seed, first_block).
void FillRandomBlocks(GgmlType type, uint64_t seed, int64_t first_block, int64_t n_blocks,
                      uint8_t* out);

// Writes a GGUF file with a few metadata keys (general.architecture "llama",
// general.name, general.file_type 15, a string array) and the tensors.
absl::Status WriteRandomModel(const std::string& path, const std::vector<GenTensor>& tensors,
                              uint64_t seed);

// A small mixed model (Q4_K, Q6_K, Q8_0, F32, F16, I32) of a few MB.
std::vector<GenTensor> SmallMixedModel();
// The >= 400 MB model of the RSS test (Q4_K / Q6_K / Q8_0 / F32).
std::vector<GenTensor> LargeMixedModel();

// True when every type in `tensors` has a registered reference dequantizer
// (float and integer types need none); else *missing names the first gap.
bool HaveCodecsFor(const std::vector<GenTensor>& tensors, std::string* missing);

// Writes LargeMixedModel() to `path` (>= 400 MB of quantized weights, checked
// by reading the file back) for the peak-RSS tests. When this machine cannot
// run them (no reference codec registered for a type, or less than
// `free_bytes_needed` free beside `path`), returns OK and sets *skip to the
// reason; errors while writing or checking the model are returned.
absl::Status WriteLargeModelForRssTest(const std::string& path, uint64_t free_bytes_needed,
                                       std::string* skip);

}  // namespace ggufkit::stream::testing

#endif  // GGUFKIT_TESTS_STREAM_MODEL_GEN_H_
