#include "ggufkit/gguf/output_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"

namespace ggufkit {
namespace {

// Folder and file name of `path` ("." for a bare name, "/" for /name).
void SplitPath(const std::string& path, std::string* dir, std::string* base) {
  const size_t slash = path.rfind('/');
  *dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  *base = slash == std::string::npos ? path : path.substr(slash + 1);
}

// 6 random characters from [0-9A-Za-z].
std::string RandomSuffix() {
  static constexpr char kChars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::random_device rd;  // a local device: no state shared between threads
  uint64_t bits = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  std::string out(6, '0');
  for (char& c : out) {
    c = kChars[bits % 62];
    bits /= 62;
  }
  return out;
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

std::string TempOutputPrefix(const std::string& path) {
  std::string dir, base;
  SplitPath(path, &dir, &base);
  return absl::StrCat(dir, "/.", base, ".tmp.");
}

absl::StatusOr<TempOutputFile> CreateTempOutputFile(const std::string& path, bool try_direct) {
  std::string dir, base;
  SplitPath(path, &dir, &base);
  const std::string prefix = TempOutputPrefix(path);
  int err = EEXIST;
  for (int attempt = 0; attempt < 100 && err == EEXIST; ++attempt) {
    TempOutputFile temp;
    temp.path = prefix + RandomSuffix();
    // 0666: the kernel takes the umask off.
    temp.fd = ::open(temp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (temp.fd < 0) {
      err = errno;
      continue;
    }
#ifdef O_DIRECT
    if (try_direct) {
      // Reopen the file we own; EINVAL means no O_DIRECT on this filesystem.
      const int direct_fd = ::open(temp.path.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
      if (direct_fd >= 0) {
        ::close(temp.fd);
        temp.fd = direct_fd;
        temp.direct = true;
      }
    }
#else
    (void)try_direct;
#endif
    return temp;
  }
  return absl::Status(err == ENOENT   ? absl::StatusCode::kNotFound
                      : err == EACCES ? absl::StatusCode::kPermissionDenied
                                      : absl::StatusCode::kUnknown,
                      absl::StrCat("cannot create a temp file in '", dir, "' for '", path,
                                   "': ", std::strerror(err)));
}

absl::StatusOr<std::unique_ptr<OutputSink>> OpenAtomicFileSink(const std::string& path,
                                                               const FileSinkOptions& options) {
  if (path.empty()) return absl::InvalidArgumentError("output path is empty");
  std::string dir, base;
  SplitPath(path, &dir, &base);
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
  GGUFKIT_ASSIGN_OR_RETURN(TempOutputFile temp, CreateTempOutputFile(path));
  FileSinkOptions opts = options;
  if (opts.buffer_bytes == 0) opts.buffer_bytes = 1;
  return std::unique_ptr<OutputSink>(new AtomicFileSink(path, temp.path, temp.fd, opts));
}

std::unique_ptr<OutputSink> MakeMemorySink(std::string name, std::vector<uint8_t>* out) {
  return std::make_unique<MemorySink>(std::move(name), out);
}

}  // namespace ggufkit
