// Output sinks: where the writer's bytes go.
//
// The writer produces one stream of bytes front to back and hands them to an
// OutputSink. The default sink writes a temporary file in the destination
// folder and renames it into place only on Finish(), so an interrupted or
// failed run never leaves a file that looks complete at the destination.
// Other sinks (a zstd compressor, an O_DIRECT writer) implement the same
// interface and keep the same promise.
#ifndef GGUFKIT_GGUF_OUTPUT_SINK_H_
#define GGUFKIT_GGUF_OUTPUT_SINK_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace ggufkit {

class OutputSink {
 public:
  // Destroying a sink that was not Finish()ed behaves like Abort().
  virtual ~OutputSink() = default;

  // The destination, for error messages.
  virtual const std::string& name() const = 0;
  // Appends n bytes. A short write or ENOSPC is an error naming the file;
  // after any error the sink only accepts Abort().
  virtual absl::Status Write(const void* data, size_t n) = 0;
  // Flushes, syncs as the sink sees fit and commits (e.g. renames the temp
  // file into place). Only once; nothing may be written afterwards.
  virtual absl::Status Finish() = 0;
  // Discards everything written (removes the temp file). Idempotent; safe
  // after a failed Write or Finish.
  virtual void Abort() = 0;
  // Bytes accepted so far.
  virtual uint64_t bytes_written() const = 0;
};

struct FileSinkOptions {
  // fsync the temp file before renaming (durable output; slower).
  bool sync = false;
  // Internal buffer size; writes at least this big bypass the buffer.
  size_t buffer_bytes = 1 << 20;
  // Replace an existing file at the destination (otherwise AlreadyExists).
  bool overwrite = true;
};

// The temporary file of every atomic output (OpenAtomicFileSink below and
// stream::DirectFileSink share this one scheme): "<dir>/.<basename>.tmp.XXXXXX"
// (6 random letters and digits) in the destination's folder, so that the
// final rename stays on one filesystem, created with O_EXCL and mode 0666
// minus the process umask. The kernel applies the umask at creation: nothing
// reads or changes the process umask (another thread may be creating files).
struct TempOutputFile {
  int fd = -1;
  std::string path;
  bool direct = false;  // the fd was opened with O_DIRECT
};
// Creates the temporary file for `path`. With `try_direct` the file is
// reopened with O_DIRECT where the filesystem allows it (tmpfs and some FUSE
// or network filesystems do not: the buffered fd is kept). Errors name the
// folder and `path`: NotFound (no such folder), PermissionDenied, Unknown.
absl::StatusOr<TempOutputFile> CreateTempOutputFile(const std::string& path,
                                                    bool try_direct = false);
// "<dir>/.<basename>.tmp." for `path`: what every temp name starts with.
std::string TempOutputPrefix(const std::string& path);

// The atomic file sink: writes a temporary file (see TempOutputFile) and
// renames it to `path` on Finish(). The temp file is removed by Abort() and
// by the destructor when Finish() did not succeed.
absl::StatusOr<std::unique_ptr<OutputSink>> OpenAtomicFileSink(const std::string& path,
                                                               const FileSinkOptions& options = {});

// Collects the bytes in memory (tests). `out` must outlive the sink; it is
// filled as bytes arrive and cleared by Abort().
std::unique_ptr<OutputSink> MakeMemorySink(std::string name, std::vector<uint8_t>* out);

}  // namespace ggufkit

#endif  // GGUFKIT_GGUF_OUTPUT_SINK_H_
