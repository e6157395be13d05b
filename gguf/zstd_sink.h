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
// level L (ZSTD_estimateCStreamSize: ~1.3 MiB at level 1, ~5 MiB at 3, ~90 MiB
// at 19). With W workers each worker has its own context and zstd keeps about
// W + 2 jobs in flight, each holding an input job and its compressed output;
// the sink sets the job size to 4 MiB (zstd's default is 4x the window, 8 MiB
// at level 3) so W workers cost about W x 10 MiB at level 3. The thread count
// comes from the caller (--threads): the sink does not cap it.
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
#include "gguf/output_sink.h"

namespace ggufkit {

// zstd's default level (the `zstd` CLI's too).
inline constexpr int kZstdDefaultLevel = 3;

struct ZstdSinkOptions {
  // ZSTD_c_compressionLevel: 1 (fast) .. 19 (small) .. 22 (ultra); negative
  // levels are zstd's faster-than-1 modes.
  int level = kZstdDefaultLevel;
  // Compression threads: <= 1 compresses in the calling thread; N > 1 hands
  // the work to N zstd workers (ZSTD_c_nbWorkers = N). Falls back to one
  // thread if the libzstd in use was built without multithreading.
  int threads = 1;
  // Job size for workers (ZSTD_c_jobSize); 0 means 4 MiB. Ignored with one
  // thread.
  size_t job_bytes = 0;
  // Store a content checksum in the frame (`zstd -d` verifies it).
  bool checksum = true;
  // When the total number of bytes is known up front, record it in the frame
  // header (lets readers know the decompressed size). Finish() fails if a
  // different number of bytes was written.
  std::optional<uint64_t> pledged_size;
};

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
