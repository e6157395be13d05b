// The C API (c/ggufkit.h) over the C++ libraries: every entry point checks
// its arguments, turns absl::Status into a ggufkit_status plus a thread-local
// message, and lets no exception escape (std::bad_alloc becomes
// RESOURCE_EXHAUSTED).
#include "ggufkit/c/ggufkit.h"

#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <memory>
#include <new>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/dequant/kv_rows.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/quants/kv_cache.h"
#include "ggufkit/quants/type_traits.h"
#include "ggufkit/stream/dequant_model.h"
#include "ggufkit/stream/gguf_tensors.h"

struct ggufkit_model {
  std::unique_ptr<ggufkit::GgufModel> model;
};

namespace {

thread_local std::string g_last_error;

ggufkit_status CodeOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return GGUFKIT_OK;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kDataLoss:
      return GGUFKIT_ERR_INVALID_ARGUMENT;
    case absl::StatusCode::kNotFound:
      return GGUFKIT_ERR_NOT_FOUND;
    case absl::StatusCode::kOutOfRange:
      return GGUFKIT_ERR_OUT_OF_RANGE;
    case absl::StatusCode::kUnimplemented:
      return GGUFKIT_ERR_UNIMPLEMENTED;
    case absl::StatusCode::kFailedPrecondition:
      return GGUFKIT_ERR_FAILED_PRECONDITION;
    case absl::StatusCode::kResourceExhausted:
      return GGUFKIT_ERR_RESOURCE_EXHAUSTED;
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kAborted:
      return GGUFKIT_ERR_IO;
    default:
      return GGUFKIT_ERR_INTERNAL;
  }
}

ggufkit_status Fail(ggufkit_status code, std::string message) {
  g_last_error = std::move(message);
  return code;
}

ggufkit_status FromStatus(const absl::Status& status) {
  if (status.ok()) return GGUFKIT_OK;
  return Fail(CodeOf(status.code()), std::string(status.message()));
}

ggufkit_status Null(const char* function, const char* argument) {
  return Fail(GGUFKIT_ERR_INVALID_ARGUMENT,
              absl::StrCat(function, ": ", argument, " is NULL"));
}

// Runs `body` with exceptions turned into status codes.
template <typename F>
ggufkit_status Guard(const char* function, F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return Fail(GGUFKIT_ERR_RESOURCE_EXHAUSTED, absl::StrCat(function, ": out of memory"));
  } catch (const std::exception& e) {
    return Fail(GGUFKIT_ERR_INTERNAL, absl::StrCat(function, ": ", e.what()));
  } catch (...) {
    return Fail(GGUFKIT_ERR_INTERNAL, absl::StrCat(function, ": unknown exception"));
  }
}

bool OutputTypeOf(ggufkit_output_type t, ggufkit::OutputType* out) {
  switch (t) {
    case GGUFKIT_OUT_F32:
      *out = ggufkit::OutputType::kF32;
      return true;
    case GGUFKIT_OUT_F16:
      *out = ggufkit::OutputType::kF16;
      return true;
    case GGUFKIT_OUT_BF16:
      *out = ggufkit::OutputType::kBF16;
      return true;
    default:
      return false;
  }
}

ggufkit_status BadOutputType(const char* function, ggufkit_output_type t) {
  return Fail(GGUFKIT_ERR_INVALID_ARGUMENT,
              absl::StrCat(function, ": output type ", t,
                           " is not GGUFKIT_OUT_F32, GGUFKIT_OUT_F16 or GGUFKIT_OUT_BF16"));
}

ggufkit_status TypeOf(const char* function, uint32_t id, ggufkit::GgmlType* type) {
  const ggufkit::TypeTraits* traits = ggufkit::FindTypeTraits(id);
  if (traits == nullptr) {
    return Fail(GGUFKIT_ERR_INVALID_ARGUMENT,
                absl::StrCat(function, ": ", id, " is not a ggml type id"));
  }
  *type = traits->type;
  return GGUFKIT_OK;
}

ggufkit_status KvTypeOf(const char* function, ggufkit_kv_type t, ggufkit::KvType* out) {
  const int32_t v = t;
  if (v < GGUFKIT_KV_F16 || v > GGUFKIT_KV_TURBO4) {
    return Fail(GGUFKIT_ERR_INVALID_ARGUMENT,
                absl::StrCat(function, ": KV type ", v, " is not a ggufkit_kv_type"));
  }
  *out = static_cast<ggufkit::KvType>(v);
  return GGUFKIT_OK;
}

ggufkit_status VariantOf(const char* function, ggufkit_turbo_variant t,
                         ggufkit::TurboVariant* out) {
  if (t == GGUFKIT_TURBO_CURRENT) {
    *out = ggufkit::TurboVariant::kCurrent;
  } else if (t == GGUFKIT_TURBO_V1) {
    *out = ggufkit::TurboVariant::kV1;
  } else {
    return Fail(GGUFKIT_ERR_INVALID_ARGUMENT,
                absl::StrCat(function, ": turbo variant ", t,
                             " is not GGUFKIT_TURBO_CURRENT or GGUFKIT_TURBO_V1"));
  }
  return GGUFKIT_OK;
}

ggufkit_status TensorAt(const char* function, const ggufkit_model* model, size_t index,
                        const ggufkit::TensorInfo** tensor) {
  if (model == nullptr || !model->model) return Null(function, "model");
  const auto& tensors = model->model->tensors();
  if (index >= tensors.size()) {
    return Fail(GGUFKIT_ERR_OUT_OF_RANGE,
                absl::StrCat(function, ": tensor index ", index, " is past the last tensor of ",
                             model->model->name(), " (", tensors.size(), " tensors)"));
  }
  *tensor = &tensors[index];
  return GGUFKIT_OK;
}

// n * size, or false on overflow / negative n.
bool Product(int64_t a, int64_t b, int64_t* out) {
  if (a < 0 || b < 0) return false;
  return !__builtin_mul_overflow(a, b, out);
}

ggufkit_status CheckCount(const char* function, const char* what, size_t given, int64_t needed) {
  if (needed < 0 || static_cast<uint64_t>(needed) != given) {
    return Fail(GGUFKIT_ERR_INVALID_ARGUMENT,
                absl::StrCat(function, ": ", what, " is ", given, ", expected ", needed));
  }
  return GGUFKIT_OK;
}

#define GGUFKIT_C_RETURN_IF(expr)                 \
  do {                                            \
    const ggufkit_status _st = (expr);            \
    if (_st != GGUFKIT_OK) return _st;            \
  } while (0)

}  // namespace

// Definitions take C linkage from their declarations in ggufkit.h.

const char* ggufkit_version(void) { return GGUFKIT_VERSION_STRING; }

int ggufkit_c_api_version(void) { return GGUFKIT_C_API_VERSION; }

const char* ggufkit_last_error(void) { return g_last_error.c_str(); }

const char* ggufkit_status_name(ggufkit_status status) {
  switch (status) {
    case GGUFKIT_OK:
      return "GGUFKIT_OK";
    case GGUFKIT_ERR_INVALID_ARGUMENT:
      return "GGUFKIT_ERR_INVALID_ARGUMENT";
    case GGUFKIT_ERR_NOT_FOUND:
      return "GGUFKIT_ERR_NOT_FOUND";
    case GGUFKIT_ERR_OUT_OF_RANGE:
      return "GGUFKIT_ERR_OUT_OF_RANGE";
    case GGUFKIT_ERR_UNIMPLEMENTED:
      return "GGUFKIT_ERR_UNIMPLEMENTED";
    case GGUFKIT_ERR_FAILED_PRECONDITION:
      return "GGUFKIT_ERR_FAILED_PRECONDITION";
    case GGUFKIT_ERR_RESOURCE_EXHAUSTED:
      return "GGUFKIT_ERR_RESOURCE_EXHAUSTED";
    case GGUFKIT_ERR_IO:
      return "GGUFKIT_ERR_IO";
    case GGUFKIT_ERR_INTERNAL:
      return "GGUFKIT_ERR_INTERNAL";
    default:
      return "?";
  }
}

const char* ggufkit_type_name(uint32_t type) {
  const ggufkit::TypeTraits* traits = ggufkit::FindTypeTraits(type);
  // Names in the type table are string literals (NUL-terminated).
  return traits == nullptr ? nullptr : traits->name.data();
}

ggufkit_status ggufkit_type_from_name(const char* name, uint32_t* type) {
  return Guard(__func__, [&]() -> ggufkit_status {
    if (name == nullptr) return Null(__func__, "name");
    if (type == nullptr) return Null(__func__, "type");
    auto parsed = ggufkit::ParseGgmlType(name);
    if (!parsed.ok()) return FromStatus(parsed.status());
    *type = static_cast<uint32_t>(*parsed);
    return GGUFKIT_OK;
  });
}

ggufkit_status ggufkit_type_block(uint32_t type, int64_t* block_size, int64_t* block_bytes) {
  if (block_size == nullptr) return Null(__func__, "block_size");
  if (block_bytes == nullptr) return Null(__func__, "block_bytes");
  ggufkit::GgmlType t;
  GGUFKIT_C_RETURN_IF(TypeOf(__func__, type, &t));
  const ggufkit::TypeTraits& traits = ggufkit::GetTypeTraits(t);
  *block_size = traits.block_size;
  *block_bytes = traits.type_size;
  return GGUFKIT_OK;
}

ggufkit_status ggufkit_row_size(uint32_t type, int64_t n_elements, uint64_t* bytes) {
  return Guard(__func__, [&]() -> ggufkit_status {
    if (bytes == nullptr) return Null(__func__, "bytes");
    ggufkit::GgmlType t;
    GGUFKIT_C_RETURN_IF(TypeOf(__func__, type, &t));
    auto size = ggufkit::RowSizeBytes(t, n_elements);
    if (!size.ok()) return FromStatus(size.status());
    *bytes = static_cast<uint64_t>(*size);
    return GGUFKIT_OK;
  });
}

ggufkit_status ggufkit_model_open(const char* path, ggufkit_model** model) {
  return Guard(__func__, [&]() -> ggufkit_status {
    if (path == nullptr) return Null(__func__, "path");
    if (model == nullptr) return Null(__func__, "model");
    auto opened = ggufkit::GgufModel::Open(path);
    if (!opened.ok()) return FromStatus(opened.status());
    auto handle = std::make_unique<ggufkit_model>();
    handle->model = *std::move(opened);
    *model = handle.release();
    return GGUFKIT_OK;
  });
}

void ggufkit_model_close(ggufkit_model* model) { delete model; }

ggufkit_status ggufkit_model_tensor_count(const ggufkit_model* model, size_t* count) {
  if (model == nullptr || !model->model) return Null(__func__, "model");
  if (count == nullptr) return Null(__func__, "count");
  *count = model->model->tensors().size();
  return GGUFKIT_OK;
}

ggufkit_status ggufkit_model_tensor_info(const ggufkit_model* model, size_t index,
                                         ggufkit_tensor_info* info) {
  const ggufkit::TensorInfo* t = nullptr;
  GGUFKIT_C_RETURN_IF(TensorAt(__func__, model, index, &t));
  if (info == nullptr) return Null(__func__, "info");
  ggufkit_tensor_info r;
  std::memset(&r, 0, sizeof(r));
  r.name = t->name.c_str();
  r.type = static_cast<uint32_t>(t->type);
  r.n_dims = t->n_dims;
  for (int i = 0; i < 4; ++i) r.ne[i] = t->ne[i];
  r.n_elements = t->n_elements;
  r.n_rows = t->n_rows();
  r.nbytes = t->size_bytes;
  r.row_bytes = t->row_bytes;
  r.offset = t->offset;
  r.file_offset = t->absolute_offset;
  r.shard = t->shard;
  *info = r;
  return GGUFKIT_OK;
}

ggufkit_status ggufkit_model_find_tensor(const ggufkit_model* model, const char* name,
                                         size_t* index) {
  return Guard(__func__, [&]() -> ggufkit_status {
    if (model == nullptr || !model->model) return Null(__func__, "model");
    if (name == nullptr) return Null(__func__, "name");
    if (index == nullptr) return Null(__func__, "index");
    const ggufkit::TensorInfo* t = model->model->FindTensor(name);
    if (t == nullptr) {
      return Fail(GGUFKIT_ERR_NOT_FOUND,
                  absl::StrCat(model->model->name(), ": no tensor named '", name, "'"));
    }
    *index = static_cast<size_t>(t - model->model->tensors().data());
    return GGUFKIT_OK;
  });
}

ggufkit_status ggufkit_model_metadata_string(const ggufkit_model* model, const char* key,
                                             char* buf, size_t buf_size, size_t* needed) {
  return Guard(__func__, [&]() -> ggufkit_status {
    if (model == nullptr || !model->model) return Null(__func__, "model");
    if (key == nullptr) return Null(__func__, "key");
    if (buf == nullptr && buf_size > 0) return Null(__func__, "buf");
    const ggufkit::MetadataValue* v = model->model->metadata().Find(key);
    if (v == nullptr) {
      return Fail(GGUFKIT_ERR_NOT_FOUND,
                  absl::StrCat(model->model->name(), ": metadata key '", key, "' not found"));
    }
    const std::string text = ggufkit::stream::MetadataValueAsString(*v);
    if (needed != nullptr) *needed = text.size() + 1;
    if (buf_size < text.size() + 1) {
      return Fail(GGUFKIT_ERR_OUT_OF_RANGE,
                  absl::StrCat(__func__, ": metadata key '", key, "' needs ", text.size() + 1,
                               " bytes, the buffer has ", buf_size));
    }
    std::memcpy(buf, text.data(), text.size());
    buf[text.size()] = '\0';
    return GGUFKIT_OK;
  });
}

ggufkit_status ggufkit_model_dequantize_rows(ggufkit_model* model, size_t index,
                                             int64_t row_begin, int64_t row_end,
                                             ggufkit_output_type out_type, void* out,
                                             size_t out_bytes) {
  return Guard(__func__, [&]() -> ggufkit_status {
    const ggufkit::TensorInfo* t = nullptr;
    GGUFKIT_C_RETURN_IF(TensorAt(__func__, model, index, &t));
    ggufkit::OutputType to;
    if (!OutputTypeOf(out_type, &to)) return BadOutputType(__func__, out_type);
    if (out == nullptr && out_bytes > 0) return Null(__func__, "out");
    if (row_begin < 0 || row_end < row_begin || row_end > t->n_rows()) {
      return Fail(GGUFKIT_ERR_OUT_OF_RANGE,
                  absl::StrCat(__func__, ": rows [", row_begin, ", ", row_end, ") of tensor '",
                               t->name, "' (", t->n_rows(), " rows)"));
    }
    return FromStatus(ggufkit::stream::DequantizeRows(*model->model, *t, row_begin, row_end, to,
                                                      out, out_bytes));
  });
}

ggufkit_status ggufkit_model_dequantize(ggufkit_model* model, size_t index,
                                        ggufkit_output_type out_type, void* out,
                                        size_t out_bytes) {
  const ggufkit::TensorInfo* t = nullptr;
  GGUFKIT_C_RETURN_IF(TensorAt(__func__, model, index, &t));
  return ggufkit_model_dequantize_rows(model, index, 0, t->n_rows(), out_type, out, out_bytes);
}

ggufkit_status ggufkit_dequantize(uint32_t type, const void* in, size_t in_bytes,
                                  ggufkit_output_type out_type, void* out, size_t out_bytes) {
  return Guard(__func__, [&]() -> ggufkit_status {
    ggufkit::GgmlType t;
    GGUFKIT_C_RETURN_IF(TypeOf(__func__, type, &t));
    ggufkit::OutputType to;
    if (!OutputTypeOf(out_type, &to)) return BadOutputType(__func__, out_type);
    if (in == nullptr && in_bytes > 0) return Null(__func__, "in");
    if (out == nullptr && out_bytes > 0) return Null(__func__, "out");
    return FromStatus(ggufkit::Dequantize(
        t, absl::MakeConstSpan(static_cast<const uint8_t*>(in), in_bytes),
        absl::MakeSpan(static_cast<uint8_t*>(out), out_bytes), to));
  });
}

ggufkit_status ggufkit_quantize(uint32_t type, const float* x, int64_t n_rows, int64_t n_per_row,
                                const float* imatrix, void* out, size_t out_bytes) {
  return Guard(__func__, [&]() -> ggufkit_status {
    ggufkit::GgmlType t;
    GGUFKIT_C_RETURN_IF(TypeOf(__func__, type, &t));
    int64_t n = 0;
    if (!Product(n_rows, n_per_row, &n) ||
        static_cast<uint64_t>(n) > std::numeric_limits<size_t>::max() / sizeof(float)) {
      return Fail(GGUFKIT_ERR_INVALID_ARGUMENT,
                  absl::StrCat(__func__, ": ", n_rows, " rows of ", n_per_row,
                               " elements is not a valid size"));
    }
    if (x == nullptr && n > 0) return Null(__func__, "x");
    if (out == nullptr && out_bytes > 0) return Null(__func__, "out");
    if (n > 0 && n_per_row == 0) {
      return Fail(GGUFKIT_ERR_INVALID_ARGUMENT, absl::StrCat(__func__, ": n_per_row is 0"));
    }
    auto row = ggufkit::RowSizeBytes(t, n_per_row);
    if (!row.ok()) return FromStatus(row.status());
    int64_t total = 0;
    if (!Product(*row, n_rows, &total)) {
      return Fail(GGUFKIT_ERR_INVALID_ARGUMENT, absl::StrCat(__func__, ": output size overflows"));
    }
    GGUFKIT_C_RETURN_IF(CheckCount(__func__, "out_bytes", out_bytes, total));
    return FromStatus(ggufkit::Quantize(
        t, absl::MakeConstSpan(x, static_cast<size_t>(n)),
        absl::MakeSpan(static_cast<uint8_t*>(out), out_bytes),
        imatrix == nullptr ? absl::Span<const float>()
                           : absl::MakeConstSpan(imatrix, static_cast<size_t>(n_per_row))));
  });
}

ggufkit_status ggufkit_kv_row_bytes(ggufkit_kv_type type, ggufkit_turbo_variant variant,
                                    int64_t n_kv_heads, int64_t head_dim, int64_t* bytes) {
  return Guard(__func__, [&]() -> ggufkit_status {
    if (bytes == nullptr) return Null(__func__, "bytes");
    ggufkit::KvType t;
    ggufkit::TurboVariant v;
    GGUFKIT_C_RETURN_IF(KvTypeOf(__func__, type, &t));
    GGUFKIT_C_RETURN_IF(VariantOf(__func__, variant, &v));
    auto r = ggufkit::KvRowBytes(t, n_kv_heads, head_dim, v);
    if (!r.ok()) return FromStatus(r.status());
    *bytes = *r;
    return GGUFKIT_OK;
  });
}

ggufkit_status ggufkit_kv_row_floats(ggufkit_kv_type type, int64_t n_kv_heads, int64_t head_dim,
                                     int64_t* floats) {
  return Guard(__func__, [&]() -> ggufkit_status {
    if (floats == nullptr) return Null(__func__, "floats");
    ggufkit::KvType t;
    GGUFKIT_C_RETURN_IF(KvTypeOf(__func__, type, &t));
    auto r = ggufkit::KvRowFloats(t, n_kv_heads, head_dim);
    if (!r.ok()) return FromStatus(r.status());
    *floats = *r;
    return GGUFKIT_OK;
  });
}

namespace {

// Checks count == n_rows * per_row (both from KvRow* on valid arguments).
ggufkit_status CheckRows(const char* function, const char* what, size_t given, int64_t n_rows,
                         int64_t per_row) {
  int64_t needed = 0;
  if (n_rows < 0 || !Product(n_rows, per_row, &needed)) {
    return Fail(GGUFKIT_ERR_INVALID_ARGUMENT,
                absl::StrCat(function, ": n_rows ", n_rows, " is not a valid row count"));
  }
  return CheckCount(function, what, given, needed);
}

}  // namespace

ggufkit_status ggufkit_kv_quantize_rows(ggufkit_kv_type type, ggufkit_turbo_variant variant,
                                        int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                                        const float* x, size_t x_count, void* out,
                                        size_t out_bytes) {
  return Guard(__func__, [&]() -> ggufkit_status {
    ggufkit::KvType t;
    ggufkit::TurboVariant v;
    GGUFKIT_C_RETURN_IF(KvTypeOf(__func__, type, &t));
    GGUFKIT_C_RETURN_IF(VariantOf(__func__, variant, &v));
    auto row_bytes = ggufkit::KvRowBytes(t, n_kv_heads, head_dim, v);
    if (!row_bytes.ok()) return FromStatus(row_bytes.status());
    GGUFKIT_C_RETURN_IF(CheckRows(__func__, "x_count", x_count, n_rows, n_kv_heads * head_dim));
    GGUFKIT_C_RETURN_IF(CheckRows(__func__, "out_bytes", out_bytes, n_rows, *row_bytes));
    if (x == nullptr && x_count > 0) return Null(__func__, "x");
    if (out == nullptr && out_bytes > 0) return Null(__func__, "out");
    return FromStatus(ggufkit::QuantizeKvRows(t, n_rows, n_kv_heads, head_dim, x,
                                              static_cast<uint8_t*>(out), v));
  });
}

ggufkit_status ggufkit_kv_dequantize_rows(ggufkit_kv_type type, ggufkit_turbo_variant variant,
                                          int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                                          const void* in, size_t in_bytes, float* out,
                                          size_t out_count) {
  return Guard(__func__, [&]() -> ggufkit_status {
    ggufkit::KvType t;
    ggufkit::TurboVariant v;
    GGUFKIT_C_RETURN_IF(KvTypeOf(__func__, type, &t));
    GGUFKIT_C_RETURN_IF(VariantOf(__func__, variant, &v));
    auto row_bytes = ggufkit::KvRowBytes(t, n_kv_heads, head_dim, v);
    if (!row_bytes.ok()) return FromStatus(row_bytes.status());
    auto row_floats = ggufkit::KvRowFloats(t, n_kv_heads, head_dim);
    if (!row_floats.ok()) return FromStatus(row_floats.status());
    GGUFKIT_C_RETURN_IF(CheckRows(__func__, "in_bytes", in_bytes, n_rows, *row_bytes));
    GGUFKIT_C_RETURN_IF(CheckRows(__func__, "out_count", out_count, n_rows, *row_floats));
    if (in == nullptr && in_bytes > 0) return Null(__func__, "in");
    if (out == nullptr && out_count > 0) return Null(__func__, "out");
    return FromStatus(ggufkit::DequantizeKvRows(t, n_rows, n_kv_heads, head_dim,
                                                static_cast<const uint8_t*>(in), out, v));
  });
}

namespace {

template <typename Fn>
ggufkit_status Rotation(const char* function, Fn fn, int64_t n_rows, int64_t n_kv_heads,
                        int64_t head_dim, const float* in, size_t in_count, float* out,
                        size_t out_count, bool forward) {
  return Guard(function, [&]() -> ggufkit_status {
    // Turbo4's padding rule (any turbo type pads alike).
    auto padded = ggufkit::KvRowFloats(ggufkit::KvType::kTurbo4, n_kv_heads, head_dim);
    if (!padded.ok()) return FromStatus(padded.status());
    const int64_t plain = n_kv_heads * head_dim;
    GGUFKIT_C_RETURN_IF(
        CheckRows(function, "in_count", in_count, n_rows, forward ? plain : *padded));
    GGUFKIT_C_RETURN_IF(
        CheckRows(function, "out_count", out_count, n_rows, forward ? *padded : plain));
    if (in == nullptr && in_count > 0) return Null(function, "in");
    if (out == nullptr && out_count > 0) return Null(function, "out");
    return FromStatus(fn(n_rows, n_kv_heads, head_dim, in, out));
  });
}

}  // namespace

ggufkit_status ggufkit_kv_rotate_rows(int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                                      const float* in, size_t in_count, float* out,
                                      size_t out_count) {
  return Rotation(__func__, &ggufkit::RotateKvRows, n_rows, n_kv_heads, head_dim, in, in_count,
                  out, out_count, /*forward=*/true);
}

ggufkit_status ggufkit_kv_unrotate_rows(int64_t n_rows, int64_t n_kv_heads, int64_t head_dim,
                                        const float* in, size_t in_count, float* out,
                                        size_t out_count) {
  return Rotation(__func__, &ggufkit::UnrotateKvRows, n_rows, n_kv_heads, head_dim, in, in_count,
                  out, out_count, /*forward=*/false);
}

