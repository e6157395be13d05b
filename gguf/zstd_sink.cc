#include "ggufkit/gguf/zstd_sink.h"

#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_estimateCStreamSize
#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"

namespace ggufkit {
namespace {

constexpr size_t kDefaultJobBytes = size_t{2} << 20;

class ZstdSink final : public OutputSink {
 public:
  ZstdSink(std::unique_ptr<OutputSink> inner, ZSTD_CCtx* cctx)
      : inner_(std::move(inner)), cctx_(cctx), out_(ZSTD_CStreamOutSize()) {}
  ~ZstdSink() override {
    if (!finished_) Abort();
    ZSTD_freeCCtx(cctx_);
  }

  const std::string& name() const override { return inner_->name(); }
  uint64_t bytes_written() const override { return bytes_in_; }
  uint64_t compressed_bytes() const { return inner_->bytes_written(); }

  absl::Status Write(const void* data, size_t n) override {
    if (!status_.ok()) return status_;
    if (finished_) return absl::FailedPreconditionError(absl::StrCat(name(), ": sink is closed"));
    ZSTD_inBuffer input = {data, n, 0};
    while (input.pos < input.size) {
      GGUFKIT_RETURN_IF_ERROR(Step(&input, ZSTD_e_continue, nullptr));
    }
    bytes_in_ += n;
    return absl::OkStatus();
  }

  absl::Status Finish() override {
    if (finished_) return absl::FailedPreconditionError(absl::StrCat(name(), ": already finished"));
    if (!status_.ok()) return status_;
    ZSTD_inBuffer input = {nullptr, 0, 0};
    size_t remaining = 1;
    while (remaining != 0) {
      absl::Status s = Step(&input, ZSTD_e_end, &remaining);
      if (!s.ok()) {
        Abort();
        return s;
      }
    }
    absl::Status s = inner_->Finish();
    if (!s.ok()) {
      status_ = s;
      Abort();
      return s;
    }
    finished_ = true;
    return absl::OkStatus();
  }

  void Abort() override {
    if (finished_) return;
    inner_->Abort();
    if (status_.ok()) status_ = absl::CancelledError(absl::StrCat(name(), ": output aborted"));
  }

 private:
  // One ZSTD_compressStream2 call; whatever it produced goes to the inner
  // sink. *remaining (for ZSTD_e_end) is zstd's "bytes still to flush".
  absl::Status Step(ZSTD_inBuffer* input, ZSTD_EndDirective mode, size_t* remaining) {
    ZSTD_outBuffer output = {out_.data(), out_.size(), 0};
    const size_t ret = ZSTD_compressStream2(cctx_, &output, input, mode);
    if (ZSTD_isError(ret)) {
      status_ = absl::InternalError(absl::StrCat(name(), ": zstd compression failed after ",
                                                 bytes_in_, " input bytes: ",
                                                 ZSTD_getErrorName(ret)));
      if (ZSTD_getErrorCode(ret) == ZSTD_error_srcSize_wrong) {
        status_ = absl::FailedPreconditionError(absl::StrCat(
            name(), ": zstd output: the number of bytes written (", bytes_in_ + input->pos,
            ") differs from the pledged size"));
      }
      return status_;
    }
    if (remaining != nullptr) *remaining = ret;
    if (output.pos > 0) {
      absl::Status s = inner_->Write(out_.data(), output.pos);
      if (!s.ok()) {
        status_ = s;
        return s;
      }
    }
    return absl::OkStatus();
  }

  std::unique_ptr<OutputSink> inner_;
  ZSTD_CCtx* cctx_;
  std::vector<uint8_t> out_;
  uint64_t bytes_in_ = 0;
  bool finished_ = false;
  absl::Status status_;
};

absl::Status SetParam(ZSTD_CCtx* cctx, ZSTD_cParameter param, int value, const char* what,
                      const std::string& name) {
  const size_t r = ZSTD_CCtx_setParameter(cctx, param, value);
  if (ZSTD_isError(r)) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, ": zstd ", what, " = ", value, ": ", ZSTD_getErrorName(r)));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::optional<int>> ParseCompressSpec(absl::string_view spec) {
  if (spec == "none") return std::optional<int>();
  if (spec == "zstd") return std::optional<int>(kZstdDefaultLevel);
  constexpr absl::string_view kPrefix = "zstd:";
  int level = 0;
  if (spec.size() > kPrefix.size() && spec.substr(0, kPrefix.size()) == kPrefix &&
      absl::SimpleAtoi(spec.substr(kPrefix.size()), &level)) {
    if (level == 0 || level < ZSTD_minCLevel() || level > ZSTD_maxCLevel()) {
      return absl::InvalidArgumentError(absl::StrCat("zstd level ", level, " in '", spec,
                                                     "' is outside [1, ", ZSTD_maxCLevel(),
                                                     "] (or a negative fast level)"));
    }
    return std::optional<int>(level);
  }
  return absl::InvalidArgumentError(
      absl::StrCat("bad compression '", spec, "': expected none, zstd or zstd:LEVEL"));
}

int ZstdSinkWorkers(const ZstdSinkOptions& options) {
  if (options.threads <= 1) return 0;
  const size_t job = options.job_bytes != 0 ? options.job_bytes : kDefaultJobBytes;
  const int level = std::max(std::min(options.level, ZSTD_maxCLevel()), ZSTD_minCLevel());
  // Per worker: its own context at this level (tables + window) and about
  // one input job plus its compressed output in flight. Measured with
  // 2 MiB jobs at level 3: ~3 MiB per worker; this estimate (7.5 MiB) is
  // deliberately conservative.
  const size_t per_worker = ZSTD_estimateCStreamSize(level) + 2 * job;
  const size_t fit = options.memory_budget_bytes / std::max<size_t>(per_worker, 1);
  return static_cast<int>(std::max<size_t>(1, std::min<size_t>(fit, options.threads)));
}

absl::StatusOr<std::unique_ptr<OutputSink>> MakeZstdSink(std::unique_ptr<OutputSink> inner,
                                                         const ZstdSinkOptions& options) {
  if (inner == nullptr) return absl::InvalidArgumentError("MakeZstdSink: null inner sink");
  const std::string name = inner->name();
  if (options.level < ZSTD_minCLevel() || options.level > ZSTD_maxCLevel()) {
    inner->Abort();
    return absl::InvalidArgumentError(absl::StrCat(name, ": zstd level ", options.level,
                                                   " is outside [", ZSTD_minCLevel(), ", ",
                                                   ZSTD_maxCLevel(), "]"));
  }
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  if (cctx == nullptr) {
    inner->Abort();
    return absl::ResourceExhaustedError(
        absl::StrCat(name, ": cannot allocate a zstd compression context"));
  }
  // The sink owns cctx from here on, so every error path below frees it.
  auto sink = std::make_unique<ZstdSink>(std::move(inner), cctx);
  GGUFKIT_RETURN_IF_ERROR(
      SetParam(cctx, ZSTD_c_compressionLevel, options.level, "compression level", name));
  GGUFKIT_RETURN_IF_ERROR(
      SetParam(cctx, ZSTD_c_checksumFlag, options.checksum ? 1 : 0, "checksum flag", name));
  const int workers = ZstdSinkWorkers(options);
  if (workers > 0) {
    // A libzstd built without ZSTD_MULTITHREAD rejects nbWorkers >= 1: then
    // compress in this thread rather than fail.
    const size_t r = ZSTD_CCtx_setParameter(cctx, ZSTD_c_nbWorkers, workers);
    if (!ZSTD_isError(r)) {
      const size_t job = options.job_bytes != 0 ? options.job_bytes : kDefaultJobBytes;
      GGUFKIT_RETURN_IF_ERROR(SetParam(cctx, ZSTD_c_jobSize,
                                       static_cast<int>(std::min<size_t>(job, 1u << 30)),
                                       "job size", name));
    }
  }
  if (options.pledged_size.has_value()) {
    const size_t r = ZSTD_CCtx_setPledgedSrcSize(cctx, *options.pledged_size);
    if (ZSTD_isError(r)) {
      return absl::InvalidArgumentError(
          absl::StrCat(name, ": zstd pledged size: ", ZSTD_getErrorName(r)));
    }
  }
  return std::unique_ptr<OutputSink>(std::move(sink));
}

absl::StatusOr<std::unique_ptr<OutputSink>> OpenZstdFileSink(const std::string& path,
                                                             const ZstdSinkOptions& options,
                                                             const FileSinkOptions& file_options) {
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<OutputSink> file,
                           OpenAtomicFileSink(path, file_options));
  return MakeZstdSink(std::move(file), options);
}

std::optional<uint64_t> ZstdSinkCompressedBytes(const OutputSink& sink) {
  const auto* zstd = dynamic_cast<const ZstdSink*>(&sink);
  if (zstd == nullptr) return std::nullopt;
  return zstd->compressed_bytes();
}

}  // namespace ggufkit
