// ggufkit._core: the C++ libraries as a Python extension (nanobind). The
// Python layer (python/ggufkit/__init__.py) gives shapes, dtypes and the
// gguf-py compatible signatures; this file moves bytes between Python buffers
// and the C++ front doors, with the GIL released around every piece of work.
//
// Every absl::Status error becomes ggufkit.GGUFError (a ValueError) carrying
// the status message, the text the CLI tools print. Buffers go through the
// buffer protocol (numpy arrays, bytes, bytearray, memoryview, mmap), so
// dequantizing into a caller's `out` never copies.
#include <Python.h>
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "ggufkit/base/byte_size.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/kvplan/kvplan.h"
#include "ggufkit/quants/type_traits.h"
#include "ggufkit/stream/dequant_model.h"
#include "ggufkit/stream/gguf_tensors.h"

#ifdef GGUFKIT_PY_HAVE_QUANTIZE
#include "ggufkit/quantize/quantize_model.h"
#endif

namespace nb = nanobind;

namespace ggufkit::python {
namespace {

// Raised as ggufkit.GGUFError.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

[[noreturn]] void Throw(const absl::Status& status) {
  throw Error(std::string(status.message()));
}
void ThrowIfError(const absl::Status& status) {
  if (!status.ok()) Throw(status);
}

// A C-contiguous view of any object with the buffer protocol, held (and the
// exporter's memory pinned) until destruction.
class Buffer {
 public:
  Buffer(nb::handle object, bool writable, const char* what) {
    const int flags = PyBUF_C_CONTIGUOUS | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(object.ptr(), &view_, flags) != 0) {
      PyErr_Clear();
      throw Error(absl::StrCat(what, " must be a ", writable ? "writable " : "",
                               "C-contiguous buffer (numpy array, bytes, bytearray, memoryview), "
                               "got ",
                               nb::type_name(object.type()).c_str()));
    }
    held_ = true;
  }
  ~Buffer() {
    if (held_) PyBuffer_Release(&view_);
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  uint8_t* data() const { return static_cast<uint8_t*>(view_.buf); }
  size_t size() const { return static_cast<size_t>(view_.len); }

 private:
  Py_buffer view_{};
  bool held_ = false;
};

int ResolveThreads(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

// Runs fn(begin, end) over [0, n) split into at most `threads` contiguous
// pieces of at least `min_items`; returns the first error.
absl::Status ParallelFor(int64_t n, int threads, int64_t min_items,
                         const std::function<absl::Status(int64_t, int64_t)>& fn) {
  int64_t pieces = std::min<int64_t>(threads, std::max<int64_t>(1, n / std::max<int64_t>(1, min_items)));
  if (pieces <= 1) return fn(0, n);
  std::vector<absl::Status> results(static_cast<size_t>(pieces));
  std::vector<std::thread> workers;
  workers.reserve(static_cast<size_t>(pieces - 1));
  const int64_t step = (n + pieces - 1) / pieces;
  for (int64_t p = 1; p < pieces; ++p) {
    const int64_t b = std::min(n, p * step), e = std::min(n, (p + 1) * step);
    workers.emplace_back([&, p, b, e] { results[static_cast<size_t>(p)] = fn(b, e); });
  }
  results[0] = fn(0, std::min(n, step));
  for (std::thread& t : workers) t.join();
  for (const absl::Status& s : results) {
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

GgmlType TypeOf(uint32_t id) {
  const TypeTraits* traits = FindTypeTraits(id);
  if (traits == nullptr) throw Error(absl::StrCat(id, " is not a ggml type id"));
  return traits->type;
}

OutputType OutputTypeOf(int id) {
  switch (id) {
    case 0:
      return OutputType::kF32;
    case 1:
      return OutputType::kF16;
    case 2:
      return OutputType::kBF16;
    default:
      throw Error(absl::StrCat("output type ", id, " is not 0 (f32), 1 (f16) or 2 (bf16)"));
  }
}

// Output bytes per piece of parallel work.
constexpr int64_t kMinBytesPerThread = int64_t{1} << 18;

// src: whole blocks of `type`; dst: the same elements as `out_type`.
void DequantizeInto(uint32_t type_id, nb::handle src_obj, nb::handle dst_obj, int out_type_id,
                    int threads) {
  const GgmlType type = TypeOf(type_id);
  const OutputType out_type = OutputTypeOf(out_type_id);
  Buffer src(src_obj, false, "data");
  Buffer dst(dst_obj, true, "out");
  nb::gil_scoped_release release;
  const TypeTraits& traits = GetTypeTraits(type);
  const size_t elem = OutputElementBytes(out_type);
  const int64_t n = static_cast<int64_t>(dst.size() / elem);
  auto whole = [&] {
    return Dequantize(type, absl::MakeConstSpan(src.data(), src.size()),
                      absl::MakeSpan(dst.data(), dst.size()), out_type);
  };
  auto bytes = RowSizeBytes(type, n);
  if (dst.size() % elem != 0 || !bytes.ok() || static_cast<size_t>(*bytes) != src.size()) {
    ThrowIfError(whole());  // the front door's own message for the mismatch
    return;
  }
  const int64_t n_blocks = n / traits.block_size;
  const int64_t out_block = traits.block_size * static_cast<int64_t>(elem);
  ThrowIfError(ParallelFor(n_blocks, ResolveThreads(threads),
                           std::max<int64_t>(1, kMinBytesPerThread / out_block),
                           [&](int64_t b, int64_t e) {
                             return Dequantize(
                                 type,
                                 absl::MakeConstSpan(src.data() + b * traits.type_size,
                                                     (e - b) * traits.type_size),
                                 absl::MakeSpan(dst.data() + b * out_block, (e - b) * out_block),
                                 out_type);
                           }));
}

// src: n_rows x n_per_row float32; dst: n_rows x RowSizeBytes(type, n_per_row).
void QuantizeInto(uint32_t type_id, nb::handle src_obj, int64_t n_per_row, nb::handle dst_obj,
                  nb::handle imatrix_obj, int threads) {
  const GgmlType type = TypeOf(type_id);
  Buffer src(src_obj, false, "data");
  Buffer dst(dst_obj, true, "out");
  std::optional<Buffer> imatrix;
  if (!imatrix_obj.is_none()) imatrix.emplace(imatrix_obj, false, "imatrix");
  nb::gil_scoped_release release;
  if (n_per_row <= 0 || src.size() % (sizeof(float) * static_cast<size_t>(n_per_row)) != 0) {
    Throw(absl::InvalidArgumentError(
        absl::StrCat("data holds ", src.size(), " bytes, not rows of ", n_per_row, " floats")));
  }
  const int64_t n_rows = static_cast<int64_t>(src.size() / sizeof(float)) / n_per_row;
  auto row = RowSizeBytes(type, n_per_row);
  if (!row.ok()) Throw(row.status());
  if (dst.size() != static_cast<size_t>(*row * n_rows)) {
    Throw(absl::InvalidArgumentError(absl::StrCat("out holds ", dst.size(), " bytes, expected ",
                                                  *row * n_rows)));
  }
  absl::Span<const float> weights;
  if (imatrix) {
    if (imatrix->size() != sizeof(float) * static_cast<size_t>(n_per_row)) {
      Throw(absl::InvalidArgumentError(absl::StrCat("imatrix holds ", imatrix->size() / 4,
                                                    " floats, expected one per column (",
                                                    n_per_row, ")")));
    }
    weights = absl::MakeConstSpan(reinterpret_cast<const float*>(imatrix->data()),
                                  static_cast<size_t>(n_per_row));
  }
  const float* x = reinterpret_cast<const float*>(src.data());
  ThrowIfError(ParallelFor(n_rows, ResolveThreads(threads),
                           std::max<int64_t>(1, kMinBytesPerThread / (n_per_row * 4)),
                           [&](int64_t b, int64_t e) {
                             return Quantize(type,
                                             absl::MakeConstSpan(x + b * n_per_row,
                                                                 (e - b) * n_per_row),
                                             absl::MakeSpan(dst.data() + b * *row, (e - b) * *row),
                                             weights);
                           }));
}

// (id, name, block_size, type_size, kind, has_dequantize, has_quantize) of
// every type in the table.
nb::list AllTypes() {
  nb::list out;
  for (const TypeTraits& t : AllTypeTraits()) {
    const ReferenceCodec& codec = GetReferenceCodec(t.type);
    const bool is_float = t.kind == TypeKind::kFloat;
    const char* kind = t.kind == TypeKind::kFloat     ? "float"
                       : t.kind == TypeKind::kInteger ? "integer"
                                                      : "quantized";
    // Integer types are never (de)quantized; F32 / F16 quantize in numpy
    // (gguf-py's astype), every other type through its registered codec.
    const bool f32_or_f16 = t.type == GgmlType::kF32 || t.type == GgmlType::kF16;
    const bool integer = t.kind == TypeKind::kInteger;
    out.append(nb::make_tuple(static_cast<uint32_t>(t.type), std::string(t.name), t.block_size,
                              t.type_size, kind,
                              !integer && (is_float || codec.dequantize != nullptr),
                              !integer && (f32_or_f16 || codec.quantize != nullptr)));
  }
  return out;
}

uint32_t ParseType(const std::string& name) {
  auto t = ParseGgmlType(name);
  if (!t.ok()) Throw(t.status());
  return static_cast<uint32_t>(*t);
}

// One open model (a file, a split model, a .gguf.zst).
class Model {
 public:
  explicit Model(const std::string& path) {
    absl::StatusOr<std::unique_ptr<GgufModel>> opened;
    {
      nb::gil_scoped_release release;
      opened = GgufModel::Open(path);
    }
    if (!opened.ok()) Throw(opened.status());
    model_ = *std::move(opened);
    for (size_t i = 0; i < model_->shard_count(); ++i) {
      if (model_->shard(i).source().forward_only()) forward_only_ = true;
    }
  }

  GgufModel& model() {
    if (!model_) throw Error("the GGUF file is closed");
    return *model_;
  }
  // Waits for reads in flight (other Python threads) before freeing the model.
  // Waits (without the GIL) for reads in flight in other Python threads, then
  // frees the model holding the GIL, so that no GIL-holding call
  // (tensors(), metadata()) can see it half gone.
  void Close() {
    std::unique_lock<std::shared_mutex> lock(close_mu_, std::defer_lock);
    {
      nb::gil_scoped_release release;
      lock.lock();
    }
    model_.reset();
  }
  bool closed() const { return !model_; }
  bool forward_only() const { return forward_only_; }

  nb::list ShardPaths() {
    nb::list out;
    for (size_t i = 0; i < model().shard_count(); ++i) out.append(model().shard(i).name());
    return out;
  }

  // (name, type, ne (n_dims entries), n_elements, nbytes, offset, file_offset, shard, row_bytes)
  nb::list Tensors() {
    nb::list out;
    for (const TensorInfo& t : model().tensors()) {
      nb::list ne;
      for (uint32_t d = 0; d < t.n_dims; ++d) ne.append(t.ne[d]);
      out.append(nb::make_tuple(t.name, static_cast<uint32_t>(t.type), nb::tuple(ne),
                                t.n_elements, t.size_bytes, t.offset, t.absolute_offset, t.shard,
                                t.row_bytes));
    }
    return out;
  }

  // (key, type name, element type id, value): scalars as int / float / bool,
  // strings as bytes, numeric arrays as packed little-endian bytes, string
  // arrays as lists of bytes. Python turns them into str / numpy arrays.
  nb::list Metadata() {
    nb::list out;
    for (const MetadataEntry& e : model().metadata().entries()) {
      const MetadataValue& v = e.value;
      nb::object value;
      if (v.is_array()) {
        if (v.element_type() == GgufValueType::kString) {
          nb::list items;
          for (uint64_t i = 0; i < v.size(); ++i) {
            const absl::string_view s = v.string_at(i);
            items.append(nb::bytes(s.data(), s.size()));
          }
          value = items;
        } else {
          const absl::Span<const uint8_t> b = v.array_bytes();
          value = nb::bytes(reinterpret_cast<const char*>(b.data()), b.size());
        }
      } else {
        switch (v.type()) {
          case GgufValueType::kU8: value = nb::int_(v.u8()); break;
          case GgufValueType::kI8: value = nb::int_(v.i8()); break;
          case GgufValueType::kU16: value = nb::int_(v.u16()); break;
          case GgufValueType::kI16: value = nb::int_(v.i16()); break;
          case GgufValueType::kU32: value = nb::int_(v.u32()); break;
          case GgufValueType::kI32: value = nb::int_(v.i32()); break;
          case GgufValueType::kU64: value = nb::int_(v.u64()); break;
          case GgufValueType::kI64: value = nb::int_(v.i64()); break;
          case GgufValueType::kF32: value = nb::float_(static_cast<double>(v.f32())); break;
          case GgufValueType::kF64: value = nb::float_(v.f64()); break;
          case GgufValueType::kBool: value = nb::bool_(v.boolean()); break;
          case GgufValueType::kString: {
            const absl::string_view s = v.str();
            value = nb::bytes(s.data(), s.size());
            break;
          }
          default:
            value = nb::none();
        }
      }
      out.append(nb::make_tuple(e.key, std::string(GgufValueTypeName(v.type())),
                                static_cast<uint32_t>(v.element_type()), value));
    }
    return out;
  }

  // Rows [row_begin, row_end) of tensor `index` into dst as out_type.
  void ReadRows(size_t index, int out_type_id, nb::handle dst_obj, int64_t row_begin,
                int64_t row_end, int threads) {
    // Held (shared) for the whole read so that Close() from another thread waits.
    std::shared_lock<std::shared_mutex> keep_open(close_mu_, std::defer_lock);
    {
      nb::gil_scoped_release release;
      keep_open.lock();
    }
    GgufModel& m = model();
    if (index >= m.tensors().size()) throw Error(absl::StrCat("no tensor ", index));
    const TensorInfo& t = m.tensors()[index];
    const OutputType out_type = OutputTypeOf(out_type_id);
    Buffer dst(dst_obj, true, "out");
    nb::gil_scoped_release release;
    if (row_begin < 0 || row_end < row_begin || row_end > t.n_rows()) {
      Throw(absl::OutOfRangeError(absl::StrCat(m.name(), ": tensor '", t.name, "': rows [",
                                               row_begin, ", ", row_end, ") outside its ",
                                               t.n_rows(), " rows")));
    }
    const size_t row_out = static_cast<size_t>(t.ne[0]) * OutputElementBytes(out_type);
    if (forward_only_ || dst.size() != row_out * static_cast<size_t>(row_end - row_begin)) {
      // Compressed sources are read front to back by one thread; a size
      // mismatch gets the streaming layer's own message.
      std::lock_guard<std::mutex> lock(mu_);
      ThrowIfError(stream::DequantizeRows(m, t, row_begin, row_end, out_type, dst.data(),
                                          dst.size()));
      return;
    }
    ThrowIfError(ParallelFor(
        row_end - row_begin, ResolveThreads(threads),
        std::max<int64_t>(1, static_cast<int64_t>((size_t{4} << 20) / std::max<size_t>(1, row_out))),
        [&](int64_t b, int64_t e) {
          return stream::DequantizeRows(m, t, row_begin + b, row_begin + e, out_type,
                                        dst.data() + static_cast<size_t>(b) * row_out,
                                        static_cast<size_t>(e - b) * row_out);
        }));
  }

 private:
  std::unique_ptr<GgufModel> model_;
  bool forward_only_ = false;
  std::mutex mu_;               // serializes reads of forward-only (compressed) models
  std::shared_mutex close_mu_;  // reads shared, Close() exclusive
};

// Calls a Python progress callback from C++ threads; the first exception it
// raises is kept (and re-raised when the work is done) and later calls are
// skipped.
class ProgressCaller {
 public:
  explicit ProgressCaller(nb::handle callback) : callback_(nb::borrow(callback)) {}
  bool enabled() const { return !callback_.is_none(); }
  template <typename... Args>
  void Call(Args&&... args) {
    nb::gil_scoped_acquire acquire;
    if (failed_) return;
    try {
      callback_(std::forward<Args>(args)...);
    } catch (nb::python_error& e) {
      failed_ = true;
      error_ = std::make_unique<nb::python_error>(std::move(e));
    }
  }
  void Rethrow() {
    if (error_) {
      nb::python_error e = std::move(*error_);
      error_.reset();
      throw e;
    }
  }

 private:
  nb::object callback_;
  bool failed_ = false;
  std::unique_ptr<nb::python_error> error_;
};

// Runs a whole-file job (`run(callback)` returns absl::StatusOr<Stats>) without
// the GIL, reporting `Progress` items to the Python callback `progress_obj`
// (or None); a callback's exception, then the job's error, is raised.
template <typename Progress, typename Run>
auto RunFileJob(nb::handle progress_obj, Run run) {
  ProgressCaller progress(progress_obj);
  std::function<void(const Progress&)> callback;
  if (progress.enabled()) {
    callback = [&progress](const Progress& p) {
      progress.Call(p.tensor_index, p.tensor_count, p.tensor_name, p.bytes_done, p.bytes_total);
    };
  }
  decltype(run(callback)) stats;
  {
    nb::gil_scoped_release release;
    stats = run(callback);
  }
  progress.Rethrow();
  if (!stats.ok()) Throw(stats.status());
  return *std::move(stats);
}

nb::dict DequantizeFile(const std::string& in_path, const std::string& out_path, int out_type_id,
                        const std::string& format, const std::string& tensor_regex, int threads,
                        nb::handle zstd_level, nb::handle progress_obj) {
  stream::DequantModelOptions options;
  options.to = OutputTypeOf(out_type_id);
  auto fmt = stream::ParseOutputFormat(format);
  if (!fmt.ok()) Throw(fmt.status());
  options.format = *fmt;
  options.tensor_regex = tensor_regex;
  options.threads = threads;
  if (!zstd_level.is_none()) options.zstd_level = nb::cast<int>(zstd_level);
  const stream::DequantModelStats stats = RunFileJob<stream::DequantProgress>(
      progress_obj, [&](const std::function<void(const stream::DequantProgress&)>& callback) {
        return stream::DequantizeModelFile(in_path, out_path, options, callback);
      });
  nb::dict d;
  d["tensors_written"] = stats.tensors_written;
  d["tensors_converted"] = stats.tensors_converted;
  d["tensors_copied"] = stats.tensors_copied;
  d["input_data_bytes"] = stats.input_data_bytes;
  d["output_bytes"] = stats.output_bytes;
  d["compressed_bytes"] = stats.compressed_bytes;
  d["direct_io"] = stats.direct_io;
  d["threads"] = stats.threads;
  return d;
}

// The planner (gguf-kvplan): returns FormatPlanJson's text. `model` or the
// uniform shape (layers > 0); list arguments as gguf-kvplan's flags take them.
std::string KvPlan(const std::string& model_path, int64_t layers, int64_t kv_heads,
                   int64_t head_dim, int64_t head_dim_v, const std::string& contexts,
                   const std::string& k_types, const std::string& v_types,
                   const std::string& variant, const std::string& budget,
                   const std::string& weights_bytes, bool measure, nb::handle progress_obj) {
  kvplan::PlanOptions options;
  auto ctx = kvplan::ParseContextList(contexts);
  if (!ctx.ok()) Throw(ctx.status());
  options.contexts = *ctx;
  auto k = kvplan::ParseKvTypeList(k_types);
  if (!k.ok()) Throw(k.status());
  options.k_types = *k;
  auto v = kvplan::ParseKvTypeList(v_types);
  if (!v.ok()) Throw(v.status());
  options.v_types = *v;
  // Runtime: llama-server's defaults (kvplan::RuntimeOptions), the turbo layout chosen.
  if (variant == "current") {
    options.runtime.variant = TurboVariant::kCurrent;
  } else if (variant == "v1") {
    options.runtime.variant = TurboVariant::kV1;
  } else {
    throw Error(absl::StrCat("turbo variant '", variant, "' is not 'current' or 'v1'"));
  }
  if (!budget.empty()) {
    auto b = ParseByteSize(budget);
    if (!b.ok()) Throw(b.status());
    options.budget_bytes = static_cast<int64_t>(*b);
  }
  std::optional<int64_t> weights;
  if (!weights_bytes.empty()) {
    auto w = ParseByteSize(weights_bytes);
    if (!w.ok()) Throw(w.status());
    weights = static_cast<int64_t>(*w);
  }
  ProgressCaller progress(progress_obj);
  absl::StatusOr<kvplan::Plan> plan;
  {
    nb::gil_scoped_release release;
    absl::StatusOr<kvplan::ModelKvShape> shape =
        model_path.empty()
            ? kvplan::UniformShape(layers, kv_heads, head_dim, head_dim_v, weights.value_or(0))
            : kvplan::ShapeFromFile(model_path);
    if (!shape.ok()) Throw(shape.status());
    if (weights) shape->weights_bytes = *weights;
    // Sizes first (cheap), then each row measured with progress reported:
    // the rows MakePlan would fill with measure = true.
    plan = kvplan::MakePlan(*shape, options);
    if (plan.ok()) {
      const size_t n = plan->rows.size();
      if (measure) {
        plan->options.measure = true;
        for (size_t i = 0; i < n; ++i) {
          kvplan::PlanRow& row = plan->rows[i];
          auto m = kvplan::MeasureKvResidentMemory(*shape, row.cost.ctx, row.cost.k_type,
                                                   row.cost.v_type, options.runtime);
          if (m.ok()) {
            row.measured = *m;
          } else {
            row.measure_error = std::string(m.status().message());
          }
          if (progress.enabled()) progress.Call(i + 1, n);
        }
      } else if (progress.enabled()) {
        progress.Call(n, n);
      }
    }
  }
  progress.Rethrow();
  if (!plan.ok()) Throw(plan.status());
  return kvplan::FormatPlanJson(*plan);
}


#ifdef GGUFKIT_PY_HAVE_QUANTIZE
// gguf-quantize as a function (python/CMakeLists.txt defines
// GGUFKIT_PY_HAVE_QUANTIZE when the quantize/ library is in the build).
nb::dict QuantizeFile(const std::string& in_path, const std::string& out_path,
                      const std::string& ftype, const std::string& imatrix_path, int threads,
                      bool allow_requantize, bool leave_output_tensor, bool pure,
                      nb::handle progress_obj) {
  quantize::QuantizeOptions options;
  auto parsed = quantize::ParseFtype(ftype);
  if (!parsed.ok()) Throw(parsed.status());
  options.ftype = *parsed;
  options.imatrix_path = imatrix_path;
  options.threads = threads;
  options.allow_requantize = allow_requantize;
  options.leave_output_tensor = leave_output_tensor;
  options.pure = pure;
  const quantize::QuantizeStats stats = RunFileJob<quantize::QuantizeProgress>(
      progress_obj, [&](const std::function<void(const quantize::QuantizeProgress&)>& callback) {
        return quantize::QuantizeModelFile(in_path, out_path, options, callback);
      });
  nb::dict d;
  d["tensors_written"] = stats.tensors_written;
  d["tensors_converted"] = stats.tensors_converted;
  d["tensors_copied"] = stats.tensors_copied;
  d["input_data_bytes"] = stats.input_data_bytes;
  d["output_bytes"] = stats.output_bytes;
  d["threads"] = stats.threads;
  d["warnings"] = stats.warnings;
  return d;
}
#endif  // GGUFKIT_PY_HAVE_QUANTIZE

}  // namespace
}  // namespace ggufkit::python

NB_MODULE(_core, m) {
  namespace py = ggufkit::python;
  m.doc() = "ggufkit's C++ core (see the ggufkit package for the public API).";
  nb::exception<py::Error>(m, "GGUFError", PyExc_ValueError);
  m.attr("__version__") = GGUFKIT_VERSION_STRING;
  m.def("all_types", &py::AllTypes);
  m.def("parse_type", &py::ParseType, nb::arg("name"));
  m.def("dequantize_into", &py::DequantizeInto, nb::arg("type"), nb::arg("data"), nb::arg("out"),
        nb::arg("out_type"), nb::arg("threads"));
  m.def("quantize_into", &py::QuantizeInto, nb::arg("type"), nb::arg("data"),
        nb::arg("n_per_row"), nb::arg("out"), nb::arg("imatrix").none(), nb::arg("threads"));
  m.def("active_target", [] { return ggufkit::ActiveDequantTarget(); });
  m.def("dequantize_file", &py::DequantizeFile, nb::arg("input"), nb::arg("output"),
        nb::arg("out_type"), nb::arg("format"), nb::arg("tensor_regex"), nb::arg("threads"),
        nb::arg("zstd_level").none(), nb::arg("progress").none());
  m.def("kv_plan", &py::KvPlan, nb::arg("model"), nb::arg("layers"), nb::arg("kv_heads"),
        nb::arg("head_dim"), nb::arg("head_dim_v"), nb::arg("contexts"), nb::arg("k_types"),
        nb::arg("v_types"), nb::arg("variant"), nb::arg("budget"), nb::arg("weights_bytes"),
        nb::arg("measure"), nb::arg("progress").none());
#ifdef GGUFKIT_PY_HAVE_QUANTIZE
  m.def("quantize_file", &py::QuantizeFile, nb::arg("input"), nb::arg("output"),
        nb::arg("ftype"), nb::arg("imatrix"), nb::arg("threads"), nb::arg("allow_requantize"),
        nb::arg("leave_output_tensor"), nb::arg("pure"), nb::arg("progress").none());
#endif
  nb::class_<py::Model>(m, "Model")
      .def(nb::init<const std::string&>(), nb::arg("path"))
      .def("close", &py::Model::Close)
      .def_prop_ro("closed", &py::Model::closed)
      .def_prop_ro("forward_only", &py::Model::forward_only)
      .def_prop_ro("name", [](py::Model& self) { return self.model().name(); })
      .def_prop_ro("version", [](py::Model& self) { return self.model().version(); })
      .def_prop_ro("alignment", [](py::Model& self) { return self.model().alignment(); })
      .def_prop_ro("big_endian",
                   [](py::Model& self) {
                     return self.model().endianness() == ggufkit::Endianness::kBig;
                   })
      .def("shard_paths", &py::Model::ShardPaths)
      .def("tensors", &py::Model::Tensors)
      .def("metadata", &py::Model::Metadata)
      .def("read_rows", &py::Model::ReadRows, nb::arg("index"), nb::arg("out_type"),
           nb::arg("out"), nb::arg("row_begin"), nb::arg("row_end"), nb::arg("threads"));
}
