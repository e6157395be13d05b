#include "ggufkit/stream/direct_file_sink.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace ggufkit::stream {
namespace {

absl::Status ErrnoError(absl::string_view what, const std::string& path, int err) {
  std::string message = absl::StrCat(what, " '", path, "': ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT || err == EFBIG) {
    return absl::ResourceExhaustedError(message);
  }
  return absl::InternalError(message);
}

size_t RoundUp(size_t n, size_t a) { return (n + a - 1) / a * a; }

}  // namespace

absl::StatusOr<std::unique_ptr<DirectFileSink>> DirectFileSink::Create(
    const std::string& final_path, const DirectFileSinkOptions& options) {
  std::unique_ptr<DirectFileSink> sink(new DirectFileSink());
  sink->final_path_ = final_path;
  const size_t capacity = RoundUp(std::max(options.buffer_bytes, kDirectAlignment),
                                  kDirectAlignment);
  const int count = std::max(2, options.buffer_count);
  for (int i = 0; i < count; ++i) {
    void* mem = nullptr;
    if (posix_memalign(&mem, kDirectAlignment, capacity) != 0) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot allocate a ", capacity, "-byte output buffer for '", final_path, "'"));
    }
    sink->buffers_.push_back(static_cast<uint8_t*>(mem));
    if (i > 0) sink->free_buffers_.push_back(i);
  }
  sink->current_ = 0;
  sink->buffer_capacity_ = capacity;

  // The temp-file scheme of every atomic output (gguf/output_sink.h).
  absl::StatusOr<TempOutputFile> temp = CreateTempOutputFile(final_path, options.try_direct);
  if (!temp.ok()) return temp.status();
  sink->fd_ = temp->fd;
  sink->temp_path_ = temp->path;
  sink->direct_ = temp->direct;
  if (options.expected_size > 0) {
    const int rc = posix_fallocate(sink->fd_, 0, static_cast<off_t>(options.expected_size));
    if (rc == ENOSPC || rc == EDQUOT || rc == EFBIG) {
      absl::Status status = ErrnoError(
          absl::StrCat("not enough space for ", options.expected_size, " bytes in"), final_path,
          rc);
      sink->Abort();
      return status;
    }
    // EOPNOTSUPP / EINVAL: no reservation on this filesystem; writes will tell.
  }
  absl::Status started = sink->StartWriters(std::max(1, options.writer_threads));
  if (!started.ok()) {
    sink->Abort();
    return started;
  }
  return sink;
}

absl::Status DirectFileSink::StartWriters(int count) {
  try {
    for (int i = 0; i < count; ++i) writers_.emplace_back([this] { WriterLoop(); });
  } catch (const std::system_error& e) {
    // Thread limits reached: one writer is enough to be correct.
    if (writers_.empty()) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "cannot start an output writer thread for '", final_path_, "': ", e.what()));
    }
  }
  return absl::OkStatus();
}

DirectFileSink::~DirectFileSink() {
  if (!finished_) Abort();
  for (uint8_t* b : buffers_) std::free(b);
}

absl::Status DirectFileSink::WriteAll(const uint8_t* data, size_t n, uint64_t offset) {
  while (n > 0) {
    const ssize_t w = pwrite(fd_, data, n, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return ErrnoError(absl::StrCat("write failed at byte ", offset, " of"), final_path_, errno);
    }
    if (w == 0 || (direct_ && static_cast<size_t>(w) % kDirectAlignment != 0)) {
      // No progress, or a short O_DIRECT write that cannot be continued
      // from an unaligned point: the device is full.
      return ErrnoError(absl::StrCat("short write at byte ", offset, " of"), final_path_, ENOSPC);
    }
    data += w;
    n -= static_cast<size_t>(w);
    offset += static_cast<uint64_t>(w);
  }
  return absl::OkStatus();
}

void DirectFileSink::WriterLoop() {
  for (;;) {
    PendingWrite job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stop_ and nothing left
      job = queue_.front();
      queue_.pop_front();
      ++in_flight_;
    }
    absl::Status s;
    {
      bool skip;
      {
        std::lock_guard<std::mutex> lock(mu_);
        skip = !error_.ok();
      }
      if (!skip) s = WriteAll(buffers_[job.buffer], job.bytes, job.offset);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!s.ok() && error_.ok()) error_ = s;
      free_buffers_.push_back(job.buffer);
      --in_flight_;
    }
    cv_.notify_all();
  }
}

absl::Status DirectFileSink::FirstError() {
  std::lock_guard<std::mutex> lock(mu_);
  return error_;
}

absl::Status DirectFileSink::SubmitCurrent(bool pad_tail) {
  size_t bytes = buffer_fill_;
  if (direct_ && pad_tail && bytes % kDirectAlignment != 0) {
    // Pad the last block with zeros; Finish() truncates the file afterwards.
    const size_t padded = RoundUp(bytes, kDirectAlignment);
    std::memset(buffers_[current_] + bytes, 0, padded - bytes);
    bytes = padded;
  }
  std::unique_lock<std::mutex> lock(mu_);
  if (!error_.ok()) return error_;
  if (bytes > 0) {
    queue_.push_back({current_, next_file_offset_, bytes});
    next_file_offset_ += bytes;
    cv_.notify_all();
    cv_.wait(lock, [&] { return !free_buffers_.empty() || !error_.ok(); });
    if (!error_.ok()) return error_;
    current_ = free_buffers_.back();
    free_buffers_.pop_back();
  }
  buffer_fill_ = 0;
  return absl::OkStatus();
}

absl::Status DirectFileSink::WaitIdleAndStop() {
  {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return queue_.empty() && in_flight_ == 0; });
    stop_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : writers_) t.join();
  writers_.clear();
  return FirstError();
}

absl::Status DirectFileSink::Write(const void* data, size_t n) {
  if (fd_ < 0 || finished_) {
    return absl::FailedPreconditionError(
        absl::StrCat("write to closed output '", final_path_, "'"));
  }
  const uint8_t* p = static_cast<const uint8_t*>(data);
  while (n > 0) {
    const size_t take = std::min(n, buffer_capacity_ - buffer_fill_);
    std::memcpy(buffers_[current_] + buffer_fill_, p, take);
    buffer_fill_ += take;
    p += take;
    n -= take;
    logical_size_ += take;
    if (buffer_fill_ == buffer_capacity_) {
      absl::Status s = SubmitCurrent(/*pad_tail=*/false);
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
  absl::Status s = SubmitCurrent(/*pad_tail=*/true);
  absl::Status drained = WaitIdleAndStop();
  if (s.ok()) s = drained;
  if (s.ok()) {
    // Drop the zero padding of the last O_DIRECT block, and anything
    // fallocate reserved beyond what was written (a caller's estimate).
    struct stat st;
    if (fstat(fd_, &st) == 0 && static_cast<uint64_t>(st.st_size) != logical_size_ &&
        ftruncate(fd_, static_cast<off_t>(logical_size_)) != 0) {
      s = ErrnoError("cannot truncate", temp_path_, errno);
    }
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
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    queue_.clear();
    if (error_.ok()) error_ = absl::CancelledError(absl::StrCat("output '", final_path_,
                                                                "' aborted"));
  }
  cv_.notify_all();
  for (std::thread& t : writers_) t.join();
  writers_.clear();
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
