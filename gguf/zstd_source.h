// A forward-only ByteSource that decompresses a zstd stream (model.gguf.zst).
//
// The reader parses a GGUF file front to back and then reads the tensors in
// file order, so a zstd stream can feed it directly: no decompressed copy on
// disk, nothing held in memory beyond a fixed working set:
//
//   compressed file --pread--> input buffer --ZSTD_DCtx--> output buffer --> dst
//                              (ZSTD_DStreamInSize,         (ZSTD_DStreamOutSize,
//                               ~128 KiB)                    ~128 KiB; reads of at
//                                                            least that size
//                                                            decompress straight
//                                                            into the caller's dst)
//
// Memory: the two buffers above plus the decompression context, whose
// dominant part is the frame's window (history the decoder must keep), which
// the COMPRESSOR chose: 2 MiB for `zstd` levels 1-5 on big inputs, 8 MiB at
// level 19, up to 128 MiB for `zstd --long` or `--ultra -22`. The window is
// capped at 2^window_log_max bytes (default 27 = 128 MiB, the same limit the
// stock `zstd -d` applies without --memory); a frame asking for more is
// rejected with a clear error instead of allocating. Nothing scales with the
// file size.
//
// Reads must come at non-decreasing offsets. A read past the current
// position skips forward by decompressing and discarding; a read going
// backwards is FailedPrecondition:
//   "m.gguf.zst is a zstd stream: gguf-foo needs random access (...)".
//
// Open-time scan: before decompressing anything the source walks the frame
// and block headers of the compressed file (a 3-byte header per block of at
// most 128 KiB, so a few thousand small preads per GB). That yields the
// decompressed size when every frame records its content size (the stock
// `zstd` CLI does for regular files; our ZstdSink does when the size is
// pledged), and reports a truncated file at Open naming the compressed offset
// where a frame is cut. Frames without a content size give size() ==
// std::nullopt, which the reader handles. Concatenated frames (`cat a.zst
// b.zst`) and skippable frames are supported; dictionary frames are not.
//
// Errors all name the file and, where it applies, the compressed and the
// decompressed offset:
//   InvalidArgument     not a zstd stream (bad magic at offset 0); a frame
//                       that needs a dictionary.
//   DataLoss            truncated or corrupt stream; trailing garbage.
//   ResourceExhausted   a frame's window is above 2^window_log_max.
//   OutOfRange          a read past the end of the decompressed data.
//   FailedPrecondition  a read going backwards (random access).
#ifndef GGUFKIT_GGUF_ZSTD_SOURCE_H_
#define GGUFKIT_GGUF_ZSTD_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "ggufkit/gguf/byte_source.h"

namespace ggufkit {

// First four bytes of a zstd frame: 28 B5 2F FD (0xFD2FB528 little-endian).
inline constexpr uint32_t kZstdFrameMagic = 0xFD2FB528u;
// Skippable frames use the 16 magics 0x184D2A50..0x184D2A5F.
inline constexpr uint32_t kZstdSkippableMagicBase = 0x184D2A50u;
// Default decoder window cap: 2^27 = 128 MiB (zstd's own default limit).
inline constexpr int kZstdDefaultWindowLogMax = 27;

// True when `first_bytes` begins with a zstd frame or skippable-frame magic.
bool HasZstdMagic(absl::Span<const uint8_t> first_bytes);
// True when `path` ends in ".zst".
bool HasZstdSuffix(absl::string_view path);
// True when the file at `path` starts with a zstd magic, or is shorter than
// four bytes and named *.zst (so that it fails as a truncated zstd stream,
// not as a bad GGUF). Errors: the file cannot be opened or read.
absl::StatusOr<bool> IsZstdFile(const std::string& path);

struct ZstdSourceOptions {
  // Largest decoder window accepted, as a power of two (10..31). Bounds the
  // decoder's memory; see the file comment.
  int window_log_max = kZstdDefaultWindowLogMax;
  // Compressed bytes read per pread; 0 means ZSTD_DStreamInSize() (~128 KiB).
  size_t input_buffer_bytes = 0;
  // Decompressed staging buffer; 0 means ZSTD_DStreamOutSize() (~128 KiB).
  size_t output_buffer_bytes = 0;
  // The tool named in the random-access error ("gguf-foo needs random
  // access"); empty means the running program's name.
  std::string consumer_name;
};

// The source itself, public so that callers and tests can see its position
// and memory use. Create it with OpenZstdSource / MakeZstdSource.
class ZstdSource final : public ByteSource {
 public:
  ~ZstdSource() override;
  ZstdSource(const ZstdSource&) = delete;
  ZstdSource& operator=(const ZstdSource&) = delete;

  const std::string& name() const override;
  // Sum of the frames' content sizes when all frames record one.
  std::optional<uint64_t> size() const override { return size_; }
  bool forward_only() const override { return true; }
  // See the file comment. Not thread-safe (forward-only sources never are).
  absl::Status ReadAt(uint64_t offset, void* dst, size_t n) override;

  // Decompressed bytes produced so far (the next readable offset is at least
  // this; reads below it fail).
  uint64_t position() const { return position_; }
  // Compressed bytes consumed by the decoder so far.
  uint64_t compressed_position() const;
  // Size of the compressed file.
  uint64_t compressed_size() const { return compressed_size_; }
  // Frames (including skippable ones) found by the open-time scan.
  uint64_t frame_count() const { return frame_count_; }
  // Largest window any frame asks for (from the scan).
  uint64_t max_window_bytes() const { return max_window_; }
  // Bytes this source holds now: buffers + ZSTD_sizeof_DCtx.
  size_t memory_bytes() const;

 private:
  friend absl::StatusOr<std::unique_ptr<ByteSource>> MakeZstdSource(
      std::unique_ptr<ByteSource> compressed, const ZstdSourceOptions& options);
  struct Impl;
  explicit ZstdSource(std::unique_ptr<Impl> impl);

  // Decompresses at most `cap` bytes into `out`; *produced > 0 unless the
  // stream has ended (then *produced == 0 and OK).
  absl::Status Decompress(uint8_t* out, size_t cap, size_t* produced);
  absl::Status RandomAccessError(uint64_t offset) const;
  absl::Status PastEndError(uint64_t offset, size_t n) const;
  absl::Status Fail(absl::Status status);

  std::unique_ptr<Impl> impl_;
  std::optional<uint64_t> size_;
  uint64_t compressed_size_ = 0;
  uint64_t frame_count_ = 0;
  uint64_t max_window_ = 0;
  // Decompressed offset of the next byte the caller can get.
  uint64_t position_ = 0;
  // Sticky error: after a corrupt stream every read fails the same way.
  absl::Status status_;
};

// Opens `path` (pread) as a zstd stream. Errors as in the file comment, plus
// those of OpenPreadSource. The source's name() is `path`.
absl::StatusOr<std::unique_ptr<ByteSource>> OpenZstdSource(const std::string& path,
                                                           const ZstdSourceOptions& options = {});

// Decompresses `compressed`, which must be a random-access source of known
// size (a file, memory). The new source takes its name.
absl::StatusOr<std::unique_ptr<ByteSource>> MakeZstdSource(std::unique_ptr<ByteSource> compressed,
                                                           const ZstdSourceOptions& options = {});

}  // namespace ggufkit

#endif  // GGUFKIT_GGUF_ZSTD_SOURCE_H_
