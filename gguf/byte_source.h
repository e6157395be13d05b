// Byte sources: where the reader gets a GGUF file's bytes from.
//
// The reader never loads a whole file. It asks its ByteSource for exact byte
// ranges: the header, metadata and tensor infos strictly front to back, then
// each tensor's data chunk by chunk. Three implementations live here:
//
//   pread   (default) a file descriptor and pread(2): no mapping, no buffer
//           of ours beyond what the caller passes; safe to call from many
//           threads at once.
//   mmap    a read-only mapping with madvise(MADV_SEQUENTIAL); Release()
//           drops ranges already consumed (MADV_DONTNEED) so resident memory
//           stays bounded while streaming a big file.
//   memory  bytes held in (or viewed from) memory, for tests and fuzzers.
//
// A source may be FORWARD-ONLY (e.g. a zstd-decompressing stream): it then
// serves reads at non-decreasing offsets only (skipping forward is allowed)
// and may not know its size up front. The reader is written so that parsing
// and reading tensors in file order work on such a source; random access on
// it is a clear FailedPrecondition error, never a wrong answer.
#ifndef GGUFKIT_GGUF_BYTE_SOURCE_H_
#define GGUFKIT_GGUF_BYTE_SOURCE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace ggufkit {

class ByteSource {
 public:
  virtual ~ByteSource() = default;

  // What to call this source in error messages (usually the file path).
  virtual const std::string& name() const = 0;

  // Total size in bytes; std::nullopt when unknown (possible only for
  // forward-only sources, e.g. a zstd frame without a content size).
  virtual std::optional<uint64_t> size() const = 0;

  // True when reads must come at non-decreasing offsets (see file comment).
  virtual bool forward_only() const { return false; }

  // Reads exactly n bytes starting at `offset` into dst[0..n).
  // Errors (all name the source and the offset):
  //   OutOfRange          the range ends past the end of the source (short
  //                       read, truncated file); dst contents are unspecified.
  //   FailedPrecondition  a forward-only source was asked to go backwards.
  //   Internal/Unknown    an I/O error (errno text included).
  // Random-access sources allow concurrent ReadAt calls from several
  // threads; forward-only sources do not.
  virtual absl::Status ReadAt(uint64_t offset, void* dst, size_t n) = 0;

  // Direct view of the whole source when it is in memory or mapped (memory,
  // mmap); nullptr otherwise. Valid as long as the source lives.
  virtual const uint8_t* data() const { return nullptr; }

  // Hint that bytes [offset, offset + n) will not be read again soon. The mmap
  // source drops those pages (MADV_DONTNEED on whole pages inside the range);
  // the others ignore it. Never affects correctness: a later ReadAt of the
  // range still works on random-access sources.
  virtual void Release(uint64_t offset, uint64_t n) {
    (void)offset;
    (void)n;
  }
};

// How Open* functions read a file.
enum class SourceKind {
  kPread,  // default: pread into caller buffers
  kMmap,   // read-only mapping + madvise(MADV_SEQUENTIAL)
};

// Opens `path` for pread. Fails (NotFound / PermissionDenied / ...) naming the
// path. Directories and non-regular files other than block devices are rejected.
absl::StatusOr<std::unique_ptr<ByteSource>> OpenPreadSource(const std::string& path);

// Maps `path` read-only and advises MADV_SEQUENTIAL. A zero-byte file is
// served without a mapping.
absl::StatusOr<std::unique_ptr<ByteSource>> OpenMmapSource(const std::string& path);

// OpenPreadSource or OpenMmapSource.
absl::StatusOr<std::unique_ptr<ByteSource>> OpenByteSource(const std::string& path,
                                                           SourceKind kind = SourceKind::kPread);

// A source owning `bytes`.
std::unique_ptr<ByteSource> MakeMemorySource(std::string name, std::vector<uint8_t> bytes);
// A source viewing bytes the caller keeps alive longer than the source.
std::unique_ptr<ByteSource> MakeMemoryViewSource(std::string name, absl::Span<const uint8_t> bytes);

// Wraps `inner` as a forward-only source, optionally hiding its size: the
// behaviour a streaming decompressor will have. For tests of forward-only
// handling; reads going backwards fail with FailedPrecondition.
std::unique_ptr<ByteSource> MakeForwardOnlySource(std::unique_ptr<ByteSource> inner,
                                                  bool hide_size);

}  // namespace ggufkit

#endif  // GGUFKIT_GGUF_BYTE_SOURCE_H_
