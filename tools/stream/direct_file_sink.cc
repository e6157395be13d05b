#include "tools/stream/direct_file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>

#include "absl/strings/str_cat.h"

namespace ggufkit::stream {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& path, int err) {
  std::string message = absl::StrCat(what, " '", path, "': ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

size_t RoundUp(size_t n, size_t a) { return (n + a - 1) / a * a; }

std::string TempNameFor(const std::string& final_path) {
  std::random_device rd;
  return absl::StrCat(final_path, ".tmp.", static_cast<uint32_t>(getpid()), ".",
                      static_cast<uint32_t>(rd()));
}

}  // namespace

absl::StatusOr<std::unique_ptr<DirectFileSink>> DirectFileSink::Create(
    const std::string& final_path, const DirectFileSinkOptions& options) {
  std::unique_ptr<DirectFileSink> sink(new DirectFileSink());
  sink->final_path_ = final_path;
  const size_t capacity =
      RoundUp(options.buffer_bytes < kDirectAlignment ? kDirectAlignment : options.buffer_bytes,
              kDirectAlignment);
  void* mem = nullptr;
  if (posix_memalign(&mem, kDirectAlignment, capacity) != 0) {
    return absl::ResourceExhaustedError(
        absl::StrCat("cannot allocate a ", capacity, "-byte output buffer for '", final_path, "'"));
  }
  sink->buffer_ = static_cast<uint8_t*>(mem);
  sink->buffer_capacity_ = capacity;

  // A few attempts in case a stale temporary name collides.
  for (int attempt = 0; attempt < 8 && sink->fd_ < 0; ++attempt) {
    std::string temp = TempNameFor(final_path);
    const int base_flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC;
    int fd = -1;
    if (options.try_direct) {
      fd = open(temp.c_str(), base_flags | O_DIRECT, 0644);
      if (fd >= 0) sink->direct_ = true;
    }
    if (fd < 0 && errno == EEXIST) continue;
    if (fd < 0) {
      // EINVAL: the filesystem does not support O_DIRECT; other errors are
      // reported by the buffered attempt below.
      fd = open(temp.c_str(), base_flags, 0644);
      sink->direct_ = false;
      if (fd < 0 && errno == EEXIST) continue;
      if (fd < 0) return ErrnoError("cannot create output file", temp, errno);
    }
    sink->fd_ = fd;
    sink->temp_path_ = temp;
  }
  if (sink->fd_ < 0) {
    return absl::AlreadyExistsError(
        absl::StrCat("cannot create a temporary file next to '", final_path, "'"));
  }
  if (options.expected_size > 0) {
    const int rc = posix_fallocate(sink->fd_, 0, static_cast<off_t>(options.expected_size));
    if (rc == ENOSPC || rc == EDQUOT || rc == EFBIG) {
      absl::Status status = ErrnoError(
          absl::StrCat("not enough space for ", options.expected_size, " bytes in"), final_path,
          rc);
      sink->Abort();
      return status;
    }
    // EOPNOTSUPP / EINVAL: no reservation on this filesystem, writes will tell.
  }
  return sink;
}

DirectFileSink::~DirectFileSink() {
  if (!finished_) Abort();
  std::free(buffer_);
}

absl::Status DirectFileSink::WriteAll(const uint8_t* data, size_t n) {
  while (n > 0) {
    const ssize_t w = pwrite(fd_, data, n, static_cast<off_t>(file_offset_));
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(absl::StrCat("write failed at byte ", file_offset_, " of"), final_path_,
                        errno);
    }
    if (w == 0) {
      return ErrnoError(absl::StrCat("write failed at byte ", file_offset_, " of"), final_path_,
                        ENOSPC);
    }
    if (direct_ && static_cast<size_t>(w) % kDirectAlignment != 0) {
      // A short O_DIRECT write that is not block-aligned cannot be continued.
      return ErrnoError(absl::StrCat("short write at byte ", file_offset_, " of"), final_path_,
                        ENOSPC);
    }
    data += w;
    n -= static_cast<size_t>(w);
    file_offset_ += static_cast<uint64_t>(w);
  }
  return absl::OkStatus();
}

absl::Status DirectFileSink::FlushWhole(bool include_partial_tail) {
  if (buffer_fill_ == 0) return absl::OkStatus();
  if (!direct_) {
    absl::Status s = WriteAll(buffer_, buffer_fill_);
    buffer_fill_ = 0;
    return s;
  }
  const size_t whole = buffer_fill_ / kDirectAlignment * kDirectAlignment;
  const size_t rest = buffer_fill_ - whole;
  if (include_partial_tail && rest > 0) {
    // Pad the last block with zeros; Finish() truncates the file afterwards.
    const size_t padded = whole + kDirectAlignment;
    std::memset(buffer_ + buffer_fill_, 0, padded - buffer_fill_);
    absl::Status s = WriteAll(buffer_, padded);
    buffer_fill_ = 0;
    return s;
  }
  if (whole > 0) {
    absl::Status s = WriteAll(buffer_, whole);
    if (!s.ok()) return s;
    if (rest > 0) std::memmove(buffer_, buffer_ + whole, rest);
    buffer_fill_ = rest;
  }
  return absl::OkStatus();
}

absl::Status DirectFileSink::Write(const void* data, size_t n) {
  if (fd_ < 0 || finished_) {
    return absl::FailedPreconditionError(
        absl::StrCat("write to closed output '", final_path_, "'"));
  }
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const size_t take = std::min(n, buffer_capacity_ - buffer_fill_);
    std::memcpy(buffer_ + buffer_fill_, p, take);
    buffer_fill_ += take;
    p += take;
    n -= take;
    logical_size_ += take;
    if (buffer_fill_ == buffer_capacity_) {
      absl::Status s = FlushWhole(/*include_partial_tail=*/false);
      if (!s.ok()) {
        Abort();
        return s;
      }
    }
  }
  return absl::OkStatus();
}

absl::Status DirectFileSink::Finish() {
  if (fd_ < 0 || finished_) {
    return absl::FailedPreconditionError(
        absl::StrCat("finish of closed output '", final_path_, "'"));
  }
  absl::Status s = FlushWhole(/*include_partial_tail=*/true);
  if (s.ok() && file_offset_ != logical_size_ &&
      ftruncate(fd_, static_cast<off_t>(logical_size_)) != 0) {
    s = ErrnoError("cannot truncate", temp_path_, errno);
  }
  if (s.ok()) {
    const int fd = fd_;
    fd_ = -1;
    if (close(fd) != 0) s = ErrnoError("cannot close", temp_path_, errno);
  }
  if (s.ok() && std::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    s = ErrnoError(absl::StrCat("cannot rename '", temp_path_, "' to"), final_path_, errno);
  }
  if (!s.ok()) {
    Abort();
    return s;
  }
  finished_ = true;
  return absl::OkStatus();
}

void DirectFileSink::Abort() {
  if (finished_) return;
  if (fd_ >= 0) {
    close(fd_);
    fd_ = -1;
  }
  if (!temp_path_.empty()) {
    unlink(temp_path_.c_str());
    temp_path_.clear();
  }
}

}  // namespace ggufkit::stream
