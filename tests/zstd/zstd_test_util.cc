#include "tests/zstd/zstd_test_util.h"

#include <zstd.h>

#include <algorithm>
#include <cstring>

#include "gtest/gtest.h"
#include "tests/common/test_data.h"

namespace ggufkit::testing {

std::vector<uint8_t> ZstdCompress(const std::vector<uint8_t>& data,
                                  const ZstdCompressOptions& options) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, options.level);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, options.checksum ? 1 : 0);
  if (options.window_log != 0) ZSTD_CCtx_setParameter(cctx, ZSTD_c_windowLog, options.window_log);
  std::vector<uint8_t> out;
  if (options.content_size) {
    out.resize(ZSTD_compressBound(data.size()));
    const size_t n = ZSTD_compress2(cctx, out.data(), out.size(), data.data(), data.size());
    if (ZSTD_isError(n)) {
      ADD_FAILURE() << "ZSTD_compress2: " << ZSTD_getErrorName(n);
      out.clear();
    } else {
      out.resize(n);
    }
  } else {
    // Feed everything with ZSTD_e_continue, then end with no input: zstd
    // never sees the whole input at once, so the frame header says "content
    // size unknown" and keeps the full window.
    std::vector<uint8_t> buffer(ZSTD_CStreamOutSize());
    for (size_t fed = 0;; ) {
      const size_t piece = std::min<size_t>(64 * 1024, data.size() - fed);
      const bool last = piece == 0;
      ZSTD_inBuffer in = {data.data() + fed, piece, 0};
      size_t remaining = 0;
      do {
        ZSTD_outBuffer o = {buffer.data(), buffer.size(), 0};
        remaining = ZSTD_compressStream2(cctx, &o, &in, last ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(remaining)) {
          ADD_FAILURE() << "ZSTD_compressStream2: " << ZSTD_getErrorName(remaining);
          ZSTD_freeCCtx(cctx);
          return out;
        }
        out.insert(out.end(), buffer.data(), buffer.data() + o.pos);
      } while (in.pos < in.size || (last && remaining != 0));
      fed += piece;
      if (last) break;
    }
  }
  ZSTD_freeCCtx(cctx);
  return out;
}

std::vector<uint8_t> ZstdDecompress(const std::vector<uint8_t>& compressed) {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  std::vector<uint8_t> out;
  std::vector<uint8_t> buffer(ZSTD_DStreamOutSize());
  ZSTD_inBuffer in = {compressed.data(), compressed.size(), 0};
  size_t last = 0;
  while (in.pos < in.size) {
    ZSTD_outBuffer o = {buffer.data(), buffer.size(), 0};
    last = ZSTD_decompressStream(dctx, &o, &in);
    if (ZSTD_isError(last)) {
      ADD_FAILURE() << "ZSTD_decompressStream: " << ZSTD_getErrorName(last);
      break;
    }
    out.insert(out.end(), buffer.data(), buffer.data() + o.pos);
  }
  // Flush whatever the context still holds.
  for (;;) {
    ZSTD_outBuffer o = {buffer.data(), buffer.size(), 0};
    ZSTD_inBuffer none = {nullptr, 0, 0};
    last = ZSTD_decompressStream(dctx, &o, &none);
    if (ZSTD_isError(last) || o.pos == 0) break;
    out.insert(out.end(), buffer.data(), buffer.data() + o.pos);
  }
  ZSTD_freeDCtx(dctx);
  return out;
}

std::vector<uint8_t> ReadZstdFile(const std::string& path) {
  return ZstdDecompress(ReadFileBytes(path));
}

std::vector<uint8_t> CompressibleBytes(size_t n, uint32_t seed) {
  std::vector<uint8_t> out(n);
  uint32_t state = seed * 2654435761u + 12345u;
  auto next = [&state]() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  };
  // Floats drawn from a small set of levels (like q4 codes times a scale),
  // with the set changing every 4 KiB "block" and a little noise.
  float levels[16];
  for (size_t i = 0; i < n;) {
    if (i % 4096 == 0) {
      const float scale = static_cast<float>(next() % 1000 + 1) / 4096.0f;
      for (int k = 0; k < 16; ++k) levels[k] = scale * static_cast<float>(k - 8);
    }
    const uint32_t r = next();
    float v = levels[r & 15];
    if ((r >> 8) % 64 == 0) v = static_cast<float>(r >> 12) * 1e-6f;
    uint8_t bytes[4];
    std::memcpy(bytes, &v, 4);
    for (int k = 0; k < 4 && i < n; ++k) out[i++] = bytes[k];
  }
  return out;
}

}  // namespace ggufkit::testing
