#include "ggufkit/stream/tensor_stream.h"

#include <algorithm>
#include <limits>
#include <memory>

#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/quants/block_fields.h"

namespace ggufkit::stream {
namespace {

std::string Where(const TensorLayout& layout) {
  return absl::StrCat("tensor '", layout.name, "' in '", layout.file, "'");
}

absl::Status Annotate(const absl::Status& status, const TensorLayout& layout) {
  if (status.ok()) return status;
  const std::string where = Where(layout);
  if (absl::string_view(status.message()).find(where) != absl::string_view::npos) return status;
  return absl::Status(status.code(), absl::StrCat(where, ": ", status.message()));
}

// Heap scratch of a bounded size: the only allocation of the calls here.
std::unique_ptr<uint8_t[]> AllocateScratch(size_t bytes) {
  return std::unique_ptr<uint8_t[]>(new (std::nothrow) uint8_t[bytes]);
}

// Input bytes per step: a whole number of blocks, at most `wanted` (but at
// least one block).
size_t StepBytes(const TypeTraits& traits, size_t wanted) {
  const size_t block = static_cast<size_t>(traits.type_size);
  return std::max<size_t>(1, wanted / block) * block;
}

absl::Status CheckRowRange(const TensorLayout& layout, int64_t row_begin, int64_t row_end) {
  if (row_begin < 0 || row_end < row_begin || row_end > layout.row_count()) {
    return absl::OutOfRangeError(absl::StrCat(Where(layout), ": rows [", row_begin, ", ",
                                              row_end, ") are outside its ", layout.row_count(),
                                              " rows"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateLayout(const TensorLayout& layout) {
  const TypeTraits* traits = FindTypeTraits(static_cast<uint32_t>(layout.type));
  if (traits == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(Where(layout), ": unknown type id ",
                                                   static_cast<uint32_t>(layout.type)));
  }
  if (layout.n_dims < 1 || layout.n_dims > 4) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(layout), ": ", layout.n_dims, " dimensions (expected 1 to 4)"));
  }
  int64_t count = 1;
  for (int d = 0; d < 4; ++d) {
    const int64_t n = layout.ne[d];
    if (n <= 0 || (d >= layout.n_dims && n != 1)) {
      return absl::InvalidArgumentError(
          absl::StrCat(Where(layout), ": bad dimension ne[", d, "] = ", n));
    }
    if (count > std::numeric_limits<int64_t>::max() / n) {
      return absl::InvalidArgumentError(absl::StrCat(Where(layout), ": element count overflows"));
    }
    count *= n;
  }
  if (layout.ne[0] % traits->block_size != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(layout), ": row length ", layout.ne[0], " is not a multiple of the ",
                     traits->block_size, "-element block of ", traits->name));
  }
  return Annotate(RowSizeBytes(layout.type, count).status(), layout);
}

absl::StatusOr<int64_t> StoredRowBytes(const TensorLayout& layout) {
  GGUFKIT_RETURN_IF_ERROR(ValidateLayout(layout));
  return RowSizeBytes(layout.type, layout.ne[0]);
}

namespace internal {

absl::Status StreamElements(const TensorLayout& layout, const TensorByteSource& source,
                            int64_t first_element, int64_t n_elements, OutputType to, void* out,
                            uint8_t* scratch, size_t scratch_bytes,
                            const BlockConverter* convert) {
  const TypeTraits& traits = GetTypeTraits(layout.type);
  if (first_element % traits.block_size != 0 || n_elements % traits.block_size != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(Where(layout), ": element range not on ", traits.block_size,
                     "-element block boundaries"));
  }
  const uint64_t block_bytes = static_cast<uint64_t>(traits.type_size);
  uint64_t in_offset = static_cast<uint64_t>(first_element / traits.block_size) * block_bytes;
  uint8_t* o = static_cast<uint8_t*>(out);
  const size_t out_elem = OutputElementBytes(to);

  if (layout.type == GgmlType::kF32 && to == OutputType::kF32) {
    // Already the target: the output is the read buffer.
    GGUFKIT_RETURN_IF_ERROR(Annotate(
        source.ReadTensorBytes(in_offset, out, static_cast<size_t>(n_elements) * 4), layout));
    if (layout.big_endian) {
      ByteSwapBlocks(layout.type, static_cast<uint8_t*>(out), static_cast<size_t>(n_elements));
    }
    return absl::OkStatus();
  }
  if (scratch_bytes < block_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(Where(layout), ": scratch of ", scratch_bytes,
                                                   " bytes is smaller than one block"));
  }
  const size_t step_bytes = StepBytes(traits, scratch_bytes);
  const int64_t step_elements =
      static_cast<int64_t>(step_bytes / block_bytes) * traits.block_size;
  for (int64_t done = 0; done < n_elements; done += step_elements) {
    const int64_t n = std::min(step_elements, n_elements - done);
    const size_t bytes = static_cast<size_t>(n / traits.block_size) * block_bytes;
    GGUFKIT_RETURN_IF_ERROR(Annotate(source.ReadTensorBytes(in_offset, scratch, bytes), layout));
    if (layout.big_endian) ByteSwapBlocks(layout.type, scratch, bytes / block_bytes);
    GGUFKIT_RETURN_IF_ERROR(Annotate(convert != nullptr && *convert
                                         ? (*convert)(layout.type, scratch, n, to, o)
                                         : ConvertBlocks(layout.type, scratch, n, to, o),
                                     layout));
    in_offset += bytes;
    o += static_cast<size_t>(n) * out_elem;
  }
  return absl::OkStatus();
}

}  // namespace internal

absl::Status DequantizeRows(const TensorLayout& layout, const TensorByteSource& source,
                            int64_t row_begin, int64_t row_end, OutputType to, void* out,
                            size_t out_bytes, const StreamOptions& options) {
  GGUFKIT_RETURN_IF_ERROR(ValidateLayout(layout));
  GGUFKIT_RETURN_IF_ERROR(CheckRowRange(layout, row_begin, row_end));
  const TypeTraits& traits = GetTypeTraits(layout.type);
  if (traits.kind == TypeKind::kInteger) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(layout), ": integer type ", traits.name, " is not dequantized (copy its bytes)"));
  }
  const int64_t n_elements = (row_end - row_begin) * layout.ne[0];
  const uint64_t needed = static_cast<uint64_t>(n_elements) * OutputElementBytes(to);
  if (out_bytes != needed) {
    return absl::InvalidArgumentError(absl::StrCat(Where(layout), ": output buffer holds ",
                                                   out_bytes, " bytes, rows [", row_begin, ", ",
                                                   row_end, ") as ", OutputTypeName(to),
                                                   " need ", needed));
  }
  if (n_elements == 0) return absl::OkStatus();
  std::unique_ptr<uint8_t[]> scratch;
  size_t scratch_bytes = 0;
  if (!(layout.type == GgmlType::kF32 && to == OutputType::kF32)) {
    const size_t wanted = std::min(options.read_chunk_bytes, kMaxScratchBytes / 2);
    // Never more than the range itself needs.
    const uint64_t range_bytes =
        static_cast<uint64_t>(n_elements / traits.block_size) * traits.type_size;
    scratch_bytes = StepBytes(traits, static_cast<size_t>(std::min<uint64_t>(wanted, range_bytes)));
    scratch = AllocateScratch(scratch_bytes);
    if (scratch == nullptr) {
      return absl::ResourceExhaustedError(
          absl::StrCat(Where(layout), ": cannot allocate ", scratch_bytes, " bytes of scratch"));
    }
  }
  return internal::StreamElements(layout, source, row_begin * layout.ne[0], n_elements, to, out,
                                  scratch.get(), scratch_bytes);
}

absl::Status DequantizeTensor(const TensorLayout& layout, const TensorByteSource& source,
                              float* out, size_t out_count, const StreamOptions& options) {
  GGUFKIT_RETURN_IF_ERROR(ValidateLayout(layout));
  return DequantizeRows(layout, source, 0, layout.row_count(), OutputType::kF32, out,
                        out_count * sizeof(float), options);
}

absl::Status DequantizeTensorToF16(const TensorLayout& layout, const TensorByteSource& source,
                                   uint16_t* out, size_t out_count,
                                   const StreamOptions& options) {
  GGUFKIT_RETURN_IF_ERROR(ValidateLayout(layout));
  return DequantizeRows(layout, source, 0, layout.row_count(), OutputType::kF16, out,
                        out_count * sizeof(uint16_t), options);
}

absl::Status DequantizeTensorToBF16(const TensorLayout& layout, const TensorByteSource& source,
                                    uint16_t* out, size_t out_count,
                                    const StreamOptions& options) {
  GGUFKIT_RETURN_IF_ERROR(ValidateLayout(layout));
  return DequantizeRows(layout, source, 0, layout.row_count(), OutputType::kBF16, out,
                        out_count * sizeof(uint16_t), options);
}

absl::Status VisitTensorRows(const TensorLayout& layout, const TensorByteSource& source,
                             absl::FunctionRef<absl::Status(const RowChunk&)> visit,
                             int64_t row_begin, int64_t row_end, const StreamOptions& options) {
  GGUFKIT_RETURN_IF_ERROR(ValidateLayout(layout));
  if (row_end < 0) row_end = layout.row_count();
  GGUFKIT_RETURN_IF_ERROR(CheckRowRange(layout, row_begin, row_end));
  const TypeTraits& traits = GetTypeTraits(layout.type);
  if (traits.kind == TypeKind::kInteger) {
    return absl::InvalidArgumentError(absl::StrCat(
        Where(layout), ": integer type ", traits.name, " is not dequantized (copy its bytes)"));
  }
  if (row_end == row_begin) return absl::OkStatus();
  const int64_t ne0 = layout.ne[0];
  // Elements per piece: whole rows when a row fits, else whole blocks.
  int64_t piece_elements;
  if (ne0 <= kVisitMaxElements) {
    const int64_t rows_per_piece = std::min(kVisitMaxElements / ne0, row_end - row_begin);
    piece_elements = rows_per_piece * ne0;
  } else {
    piece_elements = kVisitMaxElements / traits.block_size * traits.block_size;
  }
  const size_t floats_bytes = static_cast<size_t>(piece_elements) * sizeof(float);
  const size_t wanted_in = std::min(options.read_chunk_bytes, kMaxScratchBytes / 2);
  const size_t in_bytes = StepBytes(traits, wanted_in);
  if (floats_bytes + in_bytes > kMaxScratchBytes + static_cast<size_t>(traits.type_size)) {
    return absl::InternalError(absl::StrCat(Where(layout), ": scratch budget exceeded"));
  }
  std::unique_ptr<uint8_t[]> scratch = AllocateScratch(floats_bytes + in_bytes);
  if (scratch == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat(Where(layout), ": cannot allocate scratch"));
  }
  float* values = reinterpret_cast<float*>(scratch.get());
  uint8_t* in = scratch.get() + floats_bytes;

  const int64_t end_element = row_end * ne0;
  for (int64_t e = row_begin * ne0; e < end_element;) {
    int64_t n = std::min(piece_elements, end_element - e);
    if (ne0 > kVisitMaxElements) {
      // Do not let a piece cross into the next row.
      n = std::min(n, (e / ne0 + 1) * ne0 - e);
    }
    GGUFKIT_RETURN_IF_ERROR(internal::StreamElements(layout, source, e, n, OutputType::kF32,
                                                     values, in, in_bytes));
    RowChunk chunk;
    chunk.row_begin = e / ne0;
    chunk.n_rows = ne0 > kVisitMaxElements ? 1 : n / ne0;
    chunk.first_element = e;
    chunk.values = absl::MakeConstSpan(values, static_cast<size_t>(n));
    GGUFKIT_RETURN_IF_ERROR(visit(chunk));
    e += n;
  }
  return absl::OkStatus();
}

}  // namespace ggufkit::stream
