#include "ggufkit/gguf/output_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"

namespace ggufkit {
namespace {

// The process umask, read without changing it for longer than one call.
mode_t CurrentUmask() {
  mode_t mask = ::umask(022);
  ::umask(mask);
  return mask;
}

class AtomicFileSink final : public OutputSink {
 public:
  AtomicFileSink(std::string path, std::string temp_path, int fd, const FileSinkOptions& options)
      : path_(std::move(path)), temp_path_(std::move(temp_path)), fd_(fd), options_(options) {
    buffer_.reserve(options_.buffer_bytes);
  }
  ~AtomicFileSink() override {
    if (!finished_) Abort();
  }

  const std::string& name() const override { return path_; }
  uint64_t bytes_written() const override { return bytes_written_; }

  absl::Status Write(const void* data, size_t n) override {
    if (!status_.ok()) return status_;
    if (fd_ < 0) return absl::FailedPreconditionError(absl::StrCat(path_, ": sink is closed"));
    const auto* p = static_cast<const uint8_t*>(data);
    if (buffer_.size() + n <= options_.buffer_bytes) {
      buffer_.insert(buffer_.end(), p, p + n);
    } else {
      absl::Status s = Flush();
      if (!s.ok()) return s;
      if (n >= options_.buffer_bytes) {
        s = WriteAll(p, n);
        if (!s.ok()) return s;
      } else {
        buffer_.insert(buffer_.end(), p, p + n);
      }
    }
    bytes_written_ += n;
    return absl::OkStatus();
  }

  absl::Status Finish() override {
    if (finished_) return absl::FailedPreconditionError(absl::StrCat(path_, ": already finished"));
    if (!status_.ok()) return status_;
    absl::Status s = Flush();
    if (s.ok() && options_.sync && ::fsync(fd_) != 0) s = Failure("fsync failed");
    if (s.ok() && ::fchmod(fd_, 0666 & ~CurrentUmask()) != 0) s = Failure("fchmod failed");
    if (s.ok()) {
      int fd = fd_;
      fd_ = -1;
      if (::close(fd) != 0) s = Failure("close failed");
    }
    if (s.ok() && ::rename(temp_path_.c_str(), path_.c_str()) != 0) {
      s = Failure(absl::StrCat("cannot rename temp file '", temp_path_, "' into place"));
    }
    if (!s.ok()) {
      Abort();
      return s;
    }
    finished_ = true;
    return absl::OkStatus();
  }

  void Abort() override {
    if (finished_) return;
    if (fd_ >= 0) {
      ::close(fd_);
      fd_ = -1;
    }
    if (!temp_path_.empty()) {
      ::unlink(temp_path_.c_str());
      temp_path_.clear();
    }
    buffer_.clear();
    if (status_.ok()) status_ = absl::CancelledError(absl::StrCat(path_, ": output aborted"));
  }

 private:
  absl::Status Failure(const std::string& what) {
    const int err = errno;
    std::string message = absl::StrCat(path_, ": ", what, ": ", std::strerror(err));
    status_ = err == ENOSPC || err == EDQUOT
                  ? absl::ResourceExhaustedError(absl::StrCat(message, " (disk full)"))
                  : absl::UnknownError(message);
    return status_;
  }

  absl::Status Flush() {
    if (buffer_.empty()) return absl::OkStatus();
    absl::Status s = WriteAll(buffer_.data(), buffer_.size());
    buffer_.clear();
    return s;
  }

  absl::Status WriteAll(const uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t done = ::write(fd_, p, n);
      if (done < 0) {
        if (errno == EINTR) continue;
        return Failure(absl::StrCat("write of ", n, " bytes failed"));
      }
      if (done == 0) {
        errno = ENOSPC;
        return Failure("write made no progress");
      }
      p += done;
      n -= static_cast<size_t>(done);
    }
    return absl::OkStatus();
  }

  std::string path_;
  std::string temp_path_;
  int fd_;
  FileSinkOptions options_;
  std::vector<uint8_t> buffer_;
  uint64_t bytes_written_ = 0;
  bool finished_ = false;
  absl::Status status_;
};

class MemorySink final : public OutputSink {
 public:
  MemorySink(std::string name, std::vector<uint8_t>* out) : name_(std::move(name)), out_(out) {
    out_->clear();
  }
  const std::string& name() const override { return name_; }
  uint64_t bytes_written() const override { return out_->size(); }
  absl::Status Write(const void* data, size_t n) override {
    if (done_) return absl::FailedPreconditionError(absl::StrCat(name_, ": sink is closed"));
    const auto* p = static_cast<const uint8_t*>(data);
    out_->insert(out_->end(), p, p + n);
    return absl::OkStatus();
  }
  absl::Status Finish() override {
    if (done_) return absl::FailedPreconditionError(absl::StrCat(name_, ": already finished"));
    done_ = true;
    return absl::OkStatus();
  }
  void Abort() override {
    if (!done_) out_->clear();
    done_ = true;
  }

 private:
  std::string name_;
  std::vector<uint8_t>* out_;
  bool done_ = false;
};

}  // namespace

absl::StatusOr<std::unique_ptr<OutputSink>> OpenAtomicFileSink(const std::string& path,
                                                               const FileSinkOptions& options) {
  if (path.empty()) return absl::InvalidArgumentError("output path is empty");
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  const std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  if (base.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("output path '", path, "' names a directory"));
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      return absl::InvalidArgumentError(absl::StrCat("output path '", path, "' is a directory"));
    }
    if (!options.overwrite) {
      return absl::AlreadyExistsError(absl::StrCat("output file '", path, "' already exists"));
    }
  }
  std::string temp = absl::StrCat(dir, "/.", base, ".tmp.XXXXXX");
  int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return absl::Status(err == ENOENT   ? absl::StatusCode::kNotFound
                        : err == EACCES ? absl::StatusCode::kPermissionDenied
                                        : absl::StatusCode::kUnknown,
                        absl::StrCat("cannot create a temp file in '", dir, "' for '", path,
                                     "': ", std::strerror(err)));
  }
  FileSinkOptions opts = options;
  if (opts.buffer_bytes == 0) opts.buffer_bytes = 1;
  return std::unique_ptr<OutputSink>(new AtomicFileSink(path, temp, fd, opts));
}

std::unique_ptr<OutputSink> MakeMemorySink(std::string name, std::vector<uint8_t>* out) {
  return std::make_unique<MemorySink>(std::move(name), out);
}

}  // namespace ggufkit
