#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_getFrameHeader, ZSTD_frameHeader
#include "ggufkit/gguf/zstd_source.h"

#include <zstd.h>
#include <zstd_errors.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"

namespace ggufkit {
namespace {

// Largest block a zstd frame may contain (format constant, RFC 8878 3.1.1.2.3).
constexpr uint32_t kMaxBlockBytes = 128 * 1024;
// Bytes cached by the open-time header walk per refill.
constexpr size_t kScanCacheBytes = 64 * 1024;

uint32_t LoadLe32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
         static_cast<uint32_t>(p[2]) << 16 | static_cast<uint32_t>(p[3]) << 24;
}

std::string ProgramName() {
  const char* name = program_invocation_short_name;  // glibc
  return name != nullptr && *name != '\0' ? std::string(name) : std::string("this tool");
}

// Reads the compressed file front to back through a small cache: most block
// headers sit inside the bytes already fetched for the previous one.
class ScanCursor {
 public:
  ScanCursor(ByteSource& src, uint64_t size) : src_(src), size_(size) {}

  // Points *out at bytes [pos, pos + n) (n <= kScanCacheBytes); OutOfRange
  // style truncation is reported by the caller, which checks pos + n <= size.
  absl::Status View(uint64_t pos, size_t n, const uint8_t** out) {
    if (pos < cache_begin_ || pos + n > cache_begin_ + cache_.size()) {
      const size_t fill = static_cast<size_t>(std::min<uint64_t>(kScanCacheBytes, size_ - pos));
      cache_.resize(fill);
      cache_begin_ = pos;
      GGUFKIT_RETURN_IF_ERROR(src_.ReadAt(pos, cache_.data(), fill));
    }
    *out = cache_.data() + (pos - cache_begin_);
    return absl::OkStatus();
  }

 private:
  ByteSource& src_;
  uint64_t size_;
  std::vector<uint8_t> cache_;
  uint64_t cache_begin_ = 0;
};

struct ScanResult {
  std::optional<uint64_t> content_size;
  uint64_t frames = 0;
  uint64_t max_window = 0;
};

absl::Status Truncated(const std::string& name, uint64_t frame_start, uint64_t needed_end,
                       uint64_t size) {
  return absl::DataLossError(absl::StrCat(
      name, ": truncated zstd stream: the frame starting at compressed offset ", frame_start,
      " needs bytes up to offset ", needed_end, " but the file ends at ", size));
}

// Walks every frame's header and block headers (no decompression).
absl::StatusOr<ScanResult> ScanFrames(ByteSource& src, uint64_t size, int window_log_max) {
  const std::string& name = src.name();
  if (size == 0) {
    return absl::DataLossError(absl::StrCat(name, ": empty file, not a zstd stream"));
  }
  ScanCursor cursor(src, size);
  ScanResult result;
  uint64_t total = 0;
  bool all_known = true;
  uint64_t pos = 0;
  while (pos < size) {
    const uint64_t frame_start = pos;
    const size_t head = static_cast<size_t>(std::min<uint64_t>(ZSTD_FRAMEHEADERSIZE_MAX, size - pos));
    const uint8_t* p = nullptr;
    GGUFKIT_RETURN_IF_ERROR(cursor.View(pos, head, &p));
    ZSTD_frameHeader fh;
    const size_t r = ZSTD_getFrameHeader(&fh, p, head);
    if (ZSTD_isError(r)) {
      if (frame_start == 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            name, ": not a zstd stream (no zstd frame magic 28 B5 2F FD at offset 0)"));
      }
      return absl::DataLossError(absl::StrCat(
          name, ": corrupt zstd stream: ", ZSTD_getErrorName(r),
          " in the frame header at compressed offset ", frame_start,
          " (trailing garbage after the last frame?)"));
    }
    if (r > 0) return Truncated(name, frame_start, frame_start + r, size);
    ++result.frames;
    if (fh.frameType == ZSTD_skippableFrame) {
      // 4-byte magic + 4-byte length, then frameContentSize bytes of payload
      // (libzstd leaves fh.headerSize at 0 for these).
      const uint64_t end = pos + 8 + fh.frameContentSize;
      if (end > size) return Truncated(name, frame_start, end, size);
      pos = end;
      continue;
    }
    if (fh.dictID != 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, ": the zstd frame at compressed offset ", frame_start, " needs dictionary ",
          fh.dictID, "; zstd dictionaries are not supported"));
    }
    if (fh.windowSize > (uint64_t{1} << window_log_max)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          name, ": the zstd frame at compressed offset ", frame_start, " needs a ",
          fh.windowSize, "-byte window, above the limit of 2^", window_log_max,
          " bytes (was it compressed with --long=N or --ultra?); recompress it with a smaller "
          "window or decompress it with `zstd -d --memory=...`"));
    }
    result.max_window = std::max<uint64_t>(result.max_window, fh.windowSize);
    if (fh.frameContentSize == ZSTD_CONTENTSIZE_UNKNOWN) {
      all_known = false;
    } else if (total > UINT64_MAX - fh.frameContentSize) {
      return absl::DataLossError(absl::StrCat(name, ": corrupt zstd stream: frame content sizes "
                                              "overflow 64 bits at compressed offset ",
                                              frame_start));
    } else {
      total += fh.frameContentSize;
    }
    pos += fh.headerSize;
    for (;;) {
      if (size - pos < 3) return Truncated(name, frame_start, pos + 3, size);
      GGUFKIT_RETURN_IF_ERROR(cursor.View(pos, 3, &p));
      const uint32_t header = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 |
                              static_cast<uint32_t>(p[2]) << 16;
      const bool last = (header & 1) != 0;
      const uint32_t type = (header >> 1) & 3;  // 0 raw, 1 RLE, 2 compressed, 3 reserved
      const uint32_t block_size = header >> 3;
      if (type == 3 || block_size > kMaxBlockBytes) {
        return absl::DataLossError(absl::StrCat(
            name, ": corrupt zstd stream: bad block header (",
            type == 3 ? "reserved block type" : "block larger than 128 KiB",
            ") at compressed offset ", pos));
      }
      const uint64_t payload = type == 1 ? 1 : block_size;
      if (size - pos - 3 < payload) return Truncated(name, frame_start, pos + 3 + payload, size);
      pos += 3 + payload;
      if (last) break;
    }
    if (fh.checksumFlag) {
      if (size - pos < 4) return Truncated(name, frame_start, pos + 4, size);
      pos += 4;
    }
  }
  if (all_known) result.content_size = total;
  return result;
}

}  // namespace

bool HasZstdMagic(absl::Span<const uint8_t> first_bytes) {
  if (first_bytes.size() < 4) return false;
  const uint32_t magic = LoadLe32(first_bytes.data());
  return magic == kZstdFrameMagic || (magic & 0xFFFFFFF0u) == kZstdSkippableMagicBase;
}

bool HasZstdSuffix(absl::string_view path) {
  constexpr absl::string_view kSuffix = ".zst";
  return path.size() >= kSuffix.size() && path.substr(path.size() - kSuffix.size()) == kSuffix;
}

absl::StatusOr<bool> IsZstdFile(const std::string& path) {
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> src, OpenPreadSource(path));
  const uint64_t size = src->size().value_or(0);
  if (size < 4) return HasZstdSuffix(path);
  uint8_t head[4];
  GGUFKIT_RETURN_IF_ERROR(src->ReadAt(0, head, sizeof(head)));
  return HasZstdMagic(absl::MakeConstSpan(head, sizeof(head)));
}

struct ZstdSource::Impl {
  std::unique_ptr<ByteSource> compressed;
  std::string consumer_name;
  ZSTD_DCtx* dctx = nullptr;
  // Compressed bytes: in[in_pos, in_end) are loaded but not yet consumed;
  // in_file_offset is the file offset of in[0].
  std::vector<uint8_t> in;
  size_t in_pos = 0;
  size_t in_end = 0;
  uint64_t in_file_offset = 0;
  uint64_t next_read = 0;  // file offset of the next pread
  // Decompressed staging: out[out_pos, out_end) holds the bytes at
  // decompressed offsets [position_, position_ + out_end - out_pos).
  std::vector<uint8_t> out;
  size_t out_pos = 0;
  size_t out_end = 0;
  // Last ZSTD_decompressStream result: 0 when the current frame is complete
  // and flushed (a clean place for the stream to end).
  size_t last_hint = 1;

  ~Impl() { ZSTD_freeDCtx(dctx); }
};

ZstdSource::ZstdSource(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ZstdSource::~ZstdSource() = default;

const std::string& ZstdSource::name() const { return impl_->compressed->name(); }

uint64_t ZstdSource::compressed_position() const {
  return impl_->in_file_offset + impl_->in_pos;
}

size_t ZstdSource::memory_bytes() const {
  return impl_->in.capacity() + impl_->out.capacity() + ZSTD_sizeof_DCtx(impl_->dctx);
}

absl::Status ZstdSource::Fail(absl::Status status) {
  status_ = status;
  return status;
}

absl::Status ZstdSource::RandomAccessError(uint64_t offset) const {
  return absl::FailedPreconditionError(absl::StrCat(
      name(), " is a zstd stream: ", impl_->consumer_name,
      " needs random access (asked for decompressed offset ", offset, " after reading up to ",
      position_, "); decompress it first with `zstd -d`"));
}

absl::Status ZstdSource::PastEndError(uint64_t offset, size_t n) const {
  return absl::OutOfRangeError(absl::StrCat(name(), ": read of ", n, " bytes at offset ", offset,
                                            " passes the end of the decompressed zstd stream (",
                                            position_, " bytes)"));
}

absl::Status ZstdSource::Decompress(uint8_t* out, size_t cap, size_t* produced) {
  Impl& s = *impl_;
  *produced = 0;
  for (;;) {
    if (s.in_pos == s.in_end && s.next_read < compressed_size_) {
      const size_t fill =
          static_cast<size_t>(std::min<uint64_t>(s.in.size(), compressed_size_ - s.next_read));
      absl::Status read = s.compressed->ReadAt(s.next_read, s.in.data(), fill);
      if (!read.ok()) return Fail(read);
      s.in_file_offset = s.next_read;
      s.in_pos = 0;
      s.in_end = fill;
      s.next_read += fill;
    }
    const bool input_exhausted = s.in_pos == s.in_end;
    if (input_exhausted && s.last_hint == 0) return absl::OkStatus();  // clean end
    ZSTD_inBuffer input = {s.in.data(), s.in_end, s.in_pos};
    ZSTD_outBuffer output = {out, cap, 0};
    const size_t ret = ZSTD_decompressStream(s.dctx, &output, &input);
    s.in_pos = input.pos;
    if (ZSTD_isError(ret)) {
      const uint64_t at = compressed_position();
      if (ZSTD_getErrorCode(ret) == ZSTD_error_frameParameter_windowTooLarge) {
        return Fail(absl::ResourceExhaustedError(absl::StrCat(
            name(), ": a zstd frame ending before compressed offset ", at,
            " needs a window above the decoder's limit (--long=N or --ultra compression?)")));
      }
      return Fail(absl::DataLossError(absl::StrCat(
          name(), ": corrupt zstd stream: ", ZSTD_getErrorName(ret),
          " (detected at compressed offset ", at, ", decompressed offset ",
          position_ + output.pos, ")")));
    }
    s.last_hint = ret;
    *produced = output.pos;
    if (output.pos > 0) return absl::OkStatus();
    if (input_exhausted) {
      // No input left, nothing flushed, and the frame is not complete.
      return Fail(absl::DataLossError(absl::StrCat(
          name(), ": truncated zstd stream: the compressed data ends at offset ",
          compressed_size_, " inside a frame (decompressed offset ", position_, ")")));
    }
  }
}

absl::Status ZstdSource::ReadAt(uint64_t offset, void* dst, size_t n) {
  if (!status_.ok()) return status_;
  Impl& s = *impl_;
  if (offset < position_) return RandomAccessError(offset);
  // Skip forward: discard staged bytes, then decompress into the staging
  // buffer and drop it until `offset` is reached.
  while (position_ < offset) {
    if (s.out_pos == s.out_end) {
      size_t produced = 0;
      GGUFKIT_RETURN_IF_ERROR(Decompress(s.out.data(), s.out.size(), &produced));
      if (produced == 0) return PastEndError(offset, n);
      s.out_pos = 0;
      s.out_end = produced;
    }
    const size_t take =
        static_cast<size_t>(std::min<uint64_t>(s.out_end - s.out_pos, offset - position_));
    s.out_pos += take;
    position_ += take;
  }
  auto* d = static_cast<uint8_t*>(dst);
  const uint64_t start = offset;
  size_t done = 0;
  while (done < n) {
    if (s.out_pos < s.out_end) {
      const size_t take = std::min(s.out_end - s.out_pos, n - done);
      std::memcpy(d + done, s.out.data() + s.out_pos, take);
      s.out_pos += take;
      position_ += take;
      done += take;
      continue;
    }
    size_t produced = 0;
    if (n - done >= s.out.size()) {
      // Big read: decompress straight into the caller's buffer.
      GGUFKIT_RETURN_IF_ERROR(Decompress(d + done, n - done, &produced));
      position_ += produced;
      done += produced;
    } else {
      GGUFKIT_RETURN_IF_ERROR(Decompress(s.out.data(), s.out.size(), &produced));
      s.out_pos = 0;
      s.out_end = produced;
    }
    if (produced == 0) return PastEndError(start, n);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ByteSource>> MakeZstdSource(std::unique_ptr<ByteSource> compressed,
                                                           const ZstdSourceOptions& options) {
  if (compressed == nullptr) return absl::InvalidArgumentError("MakeZstdSource: null source");
  const std::optional<uint64_t> size = compressed->size();
  if (compressed->forward_only() || !size.has_value()) {
    return absl::InvalidArgumentError(absl::StrCat(
        compressed->name(), ": a zstd source needs a random-access compressed input of known size"));
  }
  if (options.window_log_max < ZSTD_WINDOWLOG_MIN || options.window_log_max > ZSTD_WINDOWLOG_MAX) {
    return absl::InvalidArgumentError(absl::StrCat("zstd window_log_max ", options.window_log_max,
                                                   " is outside [", ZSTD_WINDOWLOG_MIN, ", ",
                                                   ZSTD_WINDOWLOG_MAX, "]"));
  }
  GGUFKIT_ASSIGN_OR_RETURN(ScanResult scan,
                           ScanFrames(*compressed, *size, options.window_log_max));

  auto impl = std::make_unique<ZstdSource::Impl>();
  impl->dctx = ZSTD_createDCtx();
  if (impl->dctx == nullptr) {
    return absl::ResourceExhaustedError(
        absl::StrCat(compressed->name(), ": cannot allocate a zstd decompression context"));
  }
  const size_t set = ZSTD_DCtx_setParameter(impl->dctx, ZSTD_d_windowLogMax, options.window_log_max);
  if (ZSTD_isError(set)) {
    return absl::InternalError(absl::StrCat("ZSTD_d_windowLogMax: ", ZSTD_getErrorName(set)));
  }
  impl->in.resize(options.input_buffer_bytes != 0 ? options.input_buffer_bytes
                                                  : ZSTD_DStreamInSize());
  impl->out.resize(options.output_buffer_bytes != 0 ? options.output_buffer_bytes
                                                    : ZSTD_DStreamOutSize());
  impl->consumer_name = options.consumer_name.empty() ? ProgramName() : options.consumer_name;
  impl->compressed = std::move(compressed);

  std::unique_ptr<ZstdSource> source(new ZstdSource(std::move(impl)));
  source->size_ = scan.content_size;
  source->compressed_size_ = *size;
  source->frame_count_ = scan.frames;
  source->max_window_ = scan.max_window;
  return std::unique_ptr<ByteSource>(std::move(source));
}

absl::StatusOr<std::unique_ptr<ByteSource>> OpenZstdSource(const std::string& path,
                                                           const ZstdSourceOptions& options) {
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> file, OpenPreadSource(path));
  return MakeZstdSource(std::move(file), options);
}

}  // namespace ggufkit
