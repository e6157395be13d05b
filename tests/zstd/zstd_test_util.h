// Test helpers for zstd data: compress / decompress byte vectors with libzstd
// directly (independent of gguf/zstd_source and gguf/zstd_sink, so tests can
// check those against it), and read test data kept compressed
// (tests/data/*.zst).
#ifndef GGUFKIT_TESTS_ZSTD_ZSTD_TEST_UTIL_H_
#define GGUFKIT_TESTS_ZSTD_ZSTD_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

namespace ggufkit::testing {

struct ZstdCompressOptions {
  int level = 3;
  // Record the content size in the frame header (ZSTD_compress2). When false
  // the data is streamed without a pledged size: the frame says "unknown".
  bool content_size = true;
  bool checksum = true;
  // ZSTD_c_windowLog; 0 keeps the level's default.
  int window_log = 0;
};

// One zstd frame holding `data`. Fails the test (ADD_FAILURE) on a zstd error.
std::vector<uint8_t> ZstdCompress(const std::vector<uint8_t>& data,
                                  const ZstdCompressOptions& options = {});

// Decompresses every frame of `compressed` (streaming: works without content
// sizes). Fails the test and returns what it had on an error.
std::vector<uint8_t> ZstdDecompress(const std::vector<uint8_t>& compressed);

// Reads a file kept zstd-compressed (e.g. TestDataDir() + "/x.bin.zst") and
// returns its decompressed bytes.
std::vector<uint8_t> ReadZstdFile(const std::string& path);

// Deterministic bytes that compress like dequantized weights do: runs of a
// few repeated float patterns mixed with noise. `seed` varies the content.
std::vector<uint8_t> CompressibleBytes(size_t n, uint32_t seed);

}  // namespace ggufkit::testing

#endif  // GGUFKIT_TESTS_ZSTD_ZSTD_TEST_UTIL_H_
