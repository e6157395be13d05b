// An OutputSink that compresses everything written to it into one zstd frame.
//
//   writer --Write--> ZSTD_CCtx (ZSTD_compressStream2; with nbWorkers >= 1
//                     zstd's own worker threads compress jobs in parallel)
//          --> staging buffer (ZSTD_CStreamOutSize, ~128 KiB) --> inner sink
//
// The inner sink is normally the atomic file sink, so the promise of
// output_sink.h holds: the compressed file appears at its destination only on
// Finish(); Abort() (or destruction without Finish) removes the temp file.
// The result is a standard zstd stream: `zstd -d OUT.zst` gives exactly the
// bytes written. A content checksum (low 32 bits of XXH64) is on by default.
//
// Memory (measured numbers in docs/zstd.md): single-threaded, the context at
// level L (ZSTD_estimateCStreamSize: 1.3 MiB at level 1, 3.5 MiB at 3,
// 17 MiB at 9, 90 MiB at 19). With W workers each has its own context and
// zstd keeps jobs in flight, each holding an input job and its compressed
// output; the sink sets 2 MiB jobs (zstd's default is 4x the window, 8 MiB at
// level 3, which measured 6 MiB per worker instead of 3) and caps W by a
// memory budget (ZstdSinkWorkers). Levels >= 12 cost 50+ MiB even alone.
#ifndef GGUFKIT_GGUF_ZSTD_SINK_H_
#define GGUFKIT_GGUF_ZSTD_SINK_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ggufkit/gguf/output_sink.h"

namespace ggufkit {

// zstd's default level (the `zstd` CLI's too).
inline constexpr int kZstdDefaultLevel = 3;

struct ZstdSinkOptions {
  // ZSTD_c_compressionLevel: 1 (fast) .. 19 (small) .. 22 (ultra); negative
  // levels are zstd's faster-than-1 modes.
  int level = kZstdDefaultLevel;
  // Compression threads: <= 1 compresses in the calling thread; N > 1 hands
  // the work to up to N zstd workers (ZSTD_c_nbWorkers, capped by
  // memory_budget_bytes). Falls back to the calling thread if the libzstd in
  // use was built without multithreading.
  int threads = 1;
  // Job size for workers (ZSTD_c_jobSize); 0 means 2 MiB. Ignored with one
  // thread.
  size_t job_bytes = 0;
  // Memory the workers may use together; caps their number (see
  // ZstdSinkWorkers). The default keeps gguf-dequant under its 128 MiB
  // budget next to its 64 MiB ring.
  size_t memory_budget_bytes = size_t{32} << 20;
  // Store a content checksum in the frame (`zstd -d` verifies it).
  bool checksum = true;
  // When the total number of bytes is known up front, record it in the frame
  // header (lets readers know the decompressed size). Finish() fails if a
  // different number of bytes was written.
  std::optional<uint64_t> pledged_size;
};

// The ZSTD_c_nbWorkers the sink uses for `options`: 0 when threads <= 1,
// else min(threads, memory_budget_bytes / (ZSTD_estimateCStreamSize(level) +
// 2 x job_bytes)), at least 1. Level 3 with the defaults: 4 workers.
int ZstdSinkWorkers(const ZstdSinkOptions& options);

// Parses a --compress value: "none" -> std::nullopt; "zstd" -> level 3;
// "zstd:LEVEL" -> LEVEL, checked against zstd's range. InvalidArgument naming
// the bad text otherwise.
absl::StatusOr<std::optional<int>> ParseCompressSpec(absl::string_view spec);

// Wraps `inner`: bytes written are compressed into it; Finish() ends the
// frame and finishes `inner`; Abort() aborts `inner`. bytes_written() counts
// uncompressed bytes. Errors: InvalidArgument for a bad level; zstd failures
// are Internal naming inner's name().
absl::StatusOr<std::unique_ptr<OutputSink>> MakeZstdSink(std::unique_ptr<OutputSink> inner,
                                                         const ZstdSinkOptions& options = {});

// MakeZstdSink(OpenAtomicFileSink(path, file_options), options).
absl::StatusOr<std::unique_ptr<OutputSink>> OpenZstdFileSink(
    const std::string& path, const ZstdSinkOptions& options = {},
    const FileSinkOptions& file_options = {});

// Compressed bytes handed to the inner sink so far, if `sink` is a zstd sink
// (std::nullopt otherwise).
std::optional<uint64_t> ZstdSinkCompressedBytes(const OutputSink& sink);

}  // namespace ggufkit

#endif  // GGUFKIT_GGUF_ZSTD_SINK_H_
