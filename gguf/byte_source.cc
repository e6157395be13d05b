#include "ggufkit/gguf/byte_source.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"

namespace ggufkit {
namespace {

absl::Status ErrnoStatus(int err, const std::string& what) {
  std::string message = absl::StrCat(what, ": ", std::strerror(err));
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::UnknownError(message);
  }
}

// Shared bounds check of every random-access source: a short read is
// OutOfRange naming the source, the offset and how much was missing.
absl::Status CheckRange(const std::string& name, uint64_t size, uint64_t offset, size_t n) {
  if (offset > size || n > size - offset) {
    return absl::OutOfRangeError(absl::StrCat(name, ": read of ", n, " bytes at offset ", offset,
                                              " passes the end of the file (", size, " bytes)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> OpenRegularFile(const std::string& path, int* fd_out) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus(errno, absl::StrCat("cannot open '", path, "'"));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return ErrnoStatus(err, absl::StrCat("cannot stat '", path, "'"));
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat("'", path, "' is a directory, not a GGUF file"));
  }
  if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(
        absl::StrCat("'", path, "' is not a regular file (pipes and sockets need random access)"));
  }
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (S_ISBLK(st.st_mode)) {
    off_t end = ::lseek(fd, 0, SEEK_END);
    if (end < 0) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, absl::StrCat("cannot size '", path, "'"));
    }
    size = static_cast<uint64_t>(end);
  }
  *fd_out = fd;
  return size;
}

class PreadSource final : public ByteSource {
 public:
  PreadSource(std::string name, int fd, uint64_t size)
      : name_(std::move(name)), fd_(fd), size_(size) {}
  ~PreadSource() override { ::close(fd_); }

  const std::string& name() const override { return name_; }
  std::optional<uint64_t> size() const override { return size_; }

  absl::Status ReadAt(uint64_t offset, void* dst, size_t n) override {
    GGUFKIT_RETURN_IF_ERROR(CheckRange(name_, size_, offset, n));
    auto* out = static_cast<uint8_t*>(dst);
    size_t done = 0;
    while (done < n) {
      ssize_t got = ::pread(fd_, out + done, n - done, static_cast<off_t>(offset + done));
      if (got < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus(errno, absl::StrCat(name_, ": read error at offset ", offset + done));
      }
      if (got == 0) {
        // The file shrank after it was opened.
        return absl::OutOfRangeError(absl::StrCat(name_, ": unexpected end of file at offset ",
                                                  offset + done,
                                                  " (file truncated while reading)"));
      }
      done += static_cast<size_t>(got);
    }
    return absl::OkStatus();
  }

 private:
  std::string name_;
  int fd_;
  uint64_t size_;
};

class MmapSource final : public ByteSource {
 public:
  MmapSource(std::string name, const uint8_t* base, uint64_t size)
      : name_(std::move(name)), base_(base), size_(size) {}
  ~MmapSource() override {
    if (base_ != nullptr) ::munmap(const_cast<uint8_t*>(base_), size_);
  }

  const std::string& name() const override { return name_; }
  std::optional<uint64_t> size() const override { return size_; }
  const uint8_t* data() const override { return base_; }

  absl::Status ReadAt(uint64_t offset, void* dst, size_t n) override {
    GGUFKIT_RETURN_IF_ERROR(CheckRange(name_, size_, offset, n));
    if (n != 0) std::memcpy(dst, base_ + offset, n);
    return absl::OkStatus();
  }

  void Release(uint64_t offset, uint64_t n) override {
    if (base_ == nullptr || offset >= size_) return;
    if (n > size_ - offset) n = size_ - offset;
    // Only whole pages inside the range: a partial page may still hold bytes
    // of a neighbouring tensor that is being read.
    const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
    uint64_t begin = (offset + page - 1) / page * page;
    uint64_t end = (offset + n) / page * page;
    if (offset + n == size_) end = (size_ + page - 1) / page * page;  // tail page is ours
    if (end <= begin) return;
    ::madvise(const_cast<uint8_t*>(base_) + begin, end - begin, MADV_DONTNEED);
  }

 private:
  std::string name_;
  const uint8_t* base_;
  uint64_t size_;
};

class MemorySource final : public ByteSource {
 public:
  MemorySource(std::string name, std::vector<uint8_t> owned)
      : name_(std::move(name)), owned_(std::move(owned)), view_(owned_.data(), owned_.size()) {}
  MemorySource(std::string name, absl::Span<const uint8_t> view)
      : name_(std::move(name)), view_(view) {}

  const std::string& name() const override { return name_; }
  std::optional<uint64_t> size() const override { return view_.size(); }
  const uint8_t* data() const override { return view_.data(); }

  absl::Status ReadAt(uint64_t offset, void* dst, size_t n) override {
    GGUFKIT_RETURN_IF_ERROR(CheckRange(name_, view_.size(), offset, n));
    if (n != 0) std::memcpy(dst, view_.data() + offset, n);
    return absl::OkStatus();
  }

 private:
  std::string name_;
  std::vector<uint8_t> owned_;
  absl::Span<const uint8_t> view_;
};

class ForwardOnlySource final : public ByteSource {
 public:
  ForwardOnlySource(std::unique_ptr<ByteSource> inner, bool hide_size)
      : inner_(std::move(inner)), hide_size_(hide_size) {}

  const std::string& name() const override { return inner_->name(); }
  std::optional<uint64_t> size() const override {
    if (hide_size_) return std::nullopt;
    return inner_->size();
  }
  bool forward_only() const override { return true; }

  absl::Status ReadAt(uint64_t offset, void* dst, size_t n) override {
    if (offset < position_) {
      return absl::FailedPreconditionError(
          absl::StrCat(name(), ": forward-only source asked for offset ", offset,
                       " after reaching offset ", position_, " (random access is not possible)"));
    }
    absl::Status status = inner_->ReadAt(offset, dst, n);
    if (!status.ok()) return status;
    position_ = offset + n;
    return absl::OkStatus();
  }

 private:
  std::unique_ptr<ByteSource> inner_;
  bool hide_size_;
  uint64_t position_ = 0;
};

}  // namespace

absl::StatusOr<std::unique_ptr<ByteSource>> OpenPreadSource(const std::string& path) {
  int fd = -1;
  absl::StatusOr<uint64_t> size = OpenRegularFile(path, &fd);
  if (!size.ok()) return size.status();
  ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
  return std::unique_ptr<ByteSource>(new PreadSource(path, fd, *size));
}

absl::StatusOr<std::unique_ptr<ByteSource>> OpenMmapSource(const std::string& path) {
  int fd = -1;
  absl::StatusOr<uint64_t> size = OpenRegularFile(path, &fd);
  if (!size.ok()) return size.status();
  const uint8_t* base = nullptr;
  if (*size > 0) {
    void* mapped = ::mmap(nullptr, *size, PROT_READ, MAP_SHARED, fd, 0);
    if (mapped == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return ErrnoStatus(err, absl::StrCat("cannot mmap '", path, "'"));
    }
    ::madvise(mapped, *size, MADV_SEQUENTIAL);
    base = static_cast<const uint8_t*>(mapped);
  }
  ::close(fd);  // the mapping keeps the file
  return std::unique_ptr<ByteSource>(new MmapSource(path, base, *size));
}

absl::StatusOr<std::unique_ptr<ByteSource>> OpenByteSource(const std::string& path,
                                                           SourceKind kind) {
  return kind == SourceKind::kMmap ? OpenMmapSource(path) : OpenPreadSource(path);
}

std::unique_ptr<ByteSource> MakeMemorySource(std::string name, std::vector<uint8_t> bytes) {
  return std::make_unique<MemorySource>(std::move(name), std::move(bytes));
}

std::unique_ptr<ByteSource> MakeMemoryViewSource(std::string name,
                                                 absl::Span<const uint8_t> bytes) {
  return std::make_unique<MemorySource>(std::move(name), bytes);
}

std::unique_ptr<ByteSource> MakeForwardOnlySource(std::unique_ptr<ByteSource> inner,
                                                  bool hide_size) {
  return std::make_unique<ForwardOnlySource>(std::move(inner), hide_size);
}

}  // namespace ggufkit
