#include "ggufkit/quantize/quantize_model.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/dequant/dequant.h"
#include "ggufkit/gguf/writer.h"
#include "ggufkit/gguf/zstd_source.h"
#include "zstd.h"

namespace ggufkit::quantize {
namespace {

constexpr uint32_t kQuantizationVersion = 2;  // GGML_QNT_VERSION
constexpr size_t kMaxKvString = 127;          // llama_model_kv_override::val_str

// ggml_n_dims: trailing dimensions of 1 do not count (what gguf writes).
int GgmlNDims(const std::array<int64_t, 4>& ne) {
  for (int i = 3; i >= 1; --i) {
    if (ne[i] > 1) return i + 1;
  }
  return 1;
}

bool IsQuantized(GgmlType t) { return GetTypeTraits(t).kind == TypeKind::kQuantized; }

// gguf_set_val_*: an existing key is removed and the new one appended.
void SetAppend(Metadata& md, absl::string_view key, MetadataValue v) {
  md.Remove(key);
  (void)md.Add(key, std::move(v));
}

// llama.cpp's loader ftype: general.file_type, else the most common tensor
// type's ftype marked "guessed" (| 1024).
uint32_t InputFtype(const GgufModel& model) {
  auto v = model.metadata().GetInteger("general.file_type");
  if (v.ok()) return static_cast<uint32_t>(*v);
  std::map<uint32_t, int> counts;
  for (const TensorInfo& t : model.tensors()) ++counts[static_cast<uint32_t>(t.type)];
  int best = 0;
  uint32_t best_type = 0;
  for (const auto& [type, n] : counts) {
    if (n > best) {
      best = n;
      best_type = type;
    }
  }
  std::optional<Ftype> f = FtypeOfMostlyType(static_cast<GgmlType>(best_type));
  return (f ? static_cast<uint32_t>(*f) : 0u) | 1024u;
}

absl::Status CheckNotOverwritingInput(const GgufModel& model, const std::string& out_path) {
  struct stat out_st;
  if (stat(out_path.c_str(), &out_st) != 0) return absl::OkStatus();
  for (size_t i = 0; i < model.shard_count(); ++i) {
    const std::string& in = model.shard(i).name();
    struct stat in_st;
    if (stat(in.c_str(), &in_st) == 0 && in_st.st_dev == out_st.st_dev &&
        in_st.st_ino == out_st.st_ino) {
      return absl::InvalidArgumentError(absl::StrCat("input and output files are the same: '", in,
                                                     "': refusing to overwrite it"));
    }
  }
  return absl::OkStatus();
}

// The one call into the f32 decoders (the front door: SIMD when available,
// bit-exact): exact for F16/BF16 and every quantized type (llama-quantize's
// to_float).
absl::Status ToF32(GgmlType type, const uint8_t* in, size_t in_bytes, int64_t n, float* out) {
  if (type == GgmlType::kF32) {
    std::memcpy(out, in, static_cast<size_t>(n) * 4);
    return absl::OkStatus();
  }
  return Dequantize(type, absl::MakeConstSpan(in, in_bytes),
                    absl::MakeSpan(out, static_cast<size_t>(n)));
}

// Streams the zstd file `in_path` (any frames, with or without content
// sizes; windows up to 128 MiB, the project's decoder limit) into `fd`.
absl::Status DecompressZstdFile(const std::string& in_path, int fd, const std::string& fd_name) {
  FILE* in = std::fopen(in_path.c_str(), "rb");
  if (in == nullptr) {
    return absl::NotFoundError(absl::StrCat(in_path, ": ", std::strerror(errno)));
  }
  std::unique_ptr<ZSTD_DStream, size_t (*)(ZSTD_DStream*)> ds(ZSTD_createDStream(),
                                                              ZSTD_freeDStream);
  ZSTD_DCtx_setParameter(ds.get(), ZSTD_d_windowLogMax, kZstdDefaultWindowLogMax);
  std::vector<uint8_t> ibuf(ZSTD_DStreamInSize()), obuf(size_t{1} << 20);
  absl::Status status;
  size_t last = 0;
  size_t got;
  while (status.ok() && (got = std::fread(ibuf.data(), 1, ibuf.size(), in)) > 0) {
    ZSTD_inBuffer zin{ibuf.data(), got, 0};
    while (status.ok() && zin.pos < zin.size) {
      ZSTD_outBuffer zout{obuf.data(), obuf.size(), 0};
      last = ZSTD_decompressStream(ds.get(), &zout, &zin);
      if (ZSTD_isError(last)) {
        status = absl::DataLossError(absl::StrCat(in_path, ": zstd: ", ZSTD_getErrorName(last)));
      } else if (zout.pos > 0 &&
                 write(fd, obuf.data(), zout.pos) != static_cast<ssize_t>(zout.pos)) {
        status =
            absl::InternalError(absl::StrCat(fd_name, ": write failed: ", std::strerror(errno)));
      }
    }
  }
  if (status.ok() && std::ferror(in)) status = absl::DataLossError(in_path + ": read error");
  if (status.ok() && last != 0) status = absl::DataLossError(in_path + ": truncated zstd stream");
  std::fclose(in);
  return status;
}

}  // namespace

absl::StatusOr<KvOverride> ParseKvOverride(absl::string_view text) {
  const size_t eq = text.find('=');
  if (eq == absl::string_view::npos || eq >= 128) {
    return absl::InvalidArgumentError(absl::StrCat("malformed KV override '", text, "'"));
  }
  KvOverride o;
  o.key = std::string(text.substr(0, eq));
  absl::string_view v = text.substr(eq + 1);
  if (absl::ConsumePrefix(&v, "int:")) {
    const long n = std::atol(std::string(v).c_str());  // llama.cpp: atol, stored as u32(|n|)
    o.value = MetadataValue::U32(
        static_cast<uint32_t>(n < 0 ? -static_cast<uint64_t>(n) : static_cast<uint64_t>(n)));
  } else if (absl::ConsumePrefix(&v, "float:")) {
    o.value = MetadataValue::F32(static_cast<float>(std::atof(std::string(v).c_str())));
  } else if (absl::ConsumePrefix(&v, "bool:")) {
    if (v != "true" && v != "false") {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid boolean value for KV override '", text, "'"));
    }
    o.value = MetadataValue::Bool(v == "true");
  } else if (absl::ConsumePrefix(&v, "str:")) {
    if (v.size() > kMaxKvString) {
      return absl::InvalidArgumentError(
          absl::StrCat("malformed KV override '", text, "', value cannot exceed 127 chars"));
    }
    o.value = MetadataValue::String(v);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("invalid type for KV override '", text, "'"));
  }
  return o;
}

absl::StatusOr<QuantizePlan> PlanQuantization(GgufModel& model, const QuantizeOptions& options,
                                              bool for_dry_run) {
  if (model.endianness() != Endianness::kLittle) {
    return absl::UnimplementedError(
        absl::StrCat("'", model.name(), "' is a big-endian GGUF file: not supported"));
  }
  QuantizePlan plan;
  const Ftype ftype = options.ftype.ftype;
  GGUFKIT_ASSIGN_OR_RETURN(ModelParams params, ModelParamsFromMetadata(model.metadata()));

  // Importance matrix (llama-quantize: load, filter, then check values).
  bool has_imatrix = false;
  if (!options.imatrix_path.empty()) {
    GGUFKIT_ASSIGN_OR_RETURN(plan.imatrix, LoadImatrix(options.imatrix_path));
    FilterImatrix(plan.imatrix, options.include_weights, options.exclude_weights);
    GGUFKIT_RETURN_IF_ERROR(CheckImatrixValues(plan.imatrix, options.imatrix_path));
    has_imatrix = !plan.imatrix.entries.empty();
  }

  SelectionOptions sel;
  sel.ftype = ftype;
  sel.copy_only = options.ftype.copy_only;
  sel.pure = options.pure;
  sel.quantize_output_tensor = !options.leave_output_tensor;
  sel.output_tensor_type = options.output_tensor_type;
  sel.token_embedding_type = options.token_embedding_type;
  sel.tensor_types = options.tensor_types;
  sel.has_imatrix = has_imatrix;

  const std::vector<TensorInfo>& inputs = model.tensors();
  std::vector<std::string> names;
  names.reserve(inputs.size());
  for (const TensorInfo& t : inputs) names.push_back(t.name);
  std::vector<size_t> order = LlamaQuantizeOrder(names);
  if (options.keep_split) {
    // llama-quantize sorts by (shard, offset) for --keep-split.
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      if (inputs[a].shard != inputs[b].shard) return inputs[a].shard < inputs[b].shard;
      return inputs[a].offset < inputs[b].offset;
    });
    plan.n_split = static_cast<uint32_t>(model.shard_count());
  }
  std::vector<std::string> ordered_names;
  for (size_t i : order) ordered_names.push_back(names[i]);
  GGUFKIT_ASSIGN_OR_RETURN(TypeSelector selector, TypeSelector::Create(params, sel, ordered_names));

  // Preliminary pass: types (and llama-quantize's early refusals).
  for (size_t i : order) {
    const TensorInfo& in = inputs[i];
    TensorShape shape{in.name, in.type, static_cast<int>(in.n_dims), in.ne};
    GGUFKIT_ASSIGN_OR_RETURN(TensorChoice ch, selector.Choose(shape));
    PlannedTensor p;
    p.name = in.name;
    p.ne = in.ne;
    p.n_dims = GgmlNDims(in.ne);
    p.from = in.type;
    p.to = ch.type;
    p.in_bytes = in.size_bytes;
    p.convert = p.from != p.to;
    p.requires_imatrix = ch.requires_imatrix;
    p.manual_override = ch.manual_override;
    p.fallback_from = ch.fallback_from;
    p.input_index = i;
    p.shard = options.keep_split ? in.shard : 0;
    if (ch.fallback_from) {
      plan.warnings.push_back(absl::StrFormat(
          "%s: ncols %d not divisible by %d (required for type %s) -> falling back to %s", in.name,
          in.ne[0], GetTypeTraits(*ch.fallback_from).block_size, GgmlTypeName(*ch.fallback_from),
          GgmlTypeName(ch.type)));
    }
    if (ch.quantizable && ch.requires_imatrix && !has_imatrix) {
      if (for_dry_run) {
        plan.imatrix_needed = true;
      } else {
        return absl::FailedPreconditionError(
            absl::StrCat("this quantization requires an imatrix! (tensor ", in.name,
                         ", target type ", GgmlTypeName(ch.type), ")"));
      }
    }
    if (p.convert) {
      const int64_t block = GetTypeTraits(p.to).block_size;
      if (in.ne[0] % block != 0) {
        // Only reachable with --pure or explicit types (no fallback there).
        return absl::InvalidArgumentError(absl::StrCat(
            "tensor ", in.name, ": rows of ", in.ne[0], " elements are not a whole number of ",
            GgmlTypeName(p.to), " blocks (", block, "); llama-quantize aborts here (",
            options.pure ? "--pure disables the fallback types" : "no fallback for this type",
            ")"));
      }
      GGUFKIT_ASSIGN_OR_RETURN(int64_t row, RowSizeBytes(p.to, in.ne[0]));
      p.out_bytes = static_cast<uint64_t>(row) * static_cast<uint64_t>(in.n_rows());
    } else {
      p.out_bytes = p.in_bytes;
    }
    plan.in_bytes += p.in_bytes;
    plan.out_bytes += p.out_bytes;
    plan.n_elements += in.n_elements;
    plan.tensors.push_back(std::move(p));
  }
  plan.n_fallback = selector.fallback_count();

  // Main-pass checks, done before anything is written.
  if (!for_dry_run) {
    for (PlannedTensor& p : plan.tensors) {
      if (!p.convert) continue;
      if (has_imatrix) {
        auto it = plan.imatrix.entries.find(p.name);
        if (it == plan.imatrix.entries.end()) {
          plan.warnings.push_back(absl::StrCat("did not find imatrix weights for ", p.name));
        } else if (it->second.size() == static_cast<size_t>(p.ne[0] * p.ne[2])) {
          p.imatrix = &it->second;
        } else if (p.name == "token_embd.weight" || p.name == "per_layer_token_embd.weight") {
          plan.warnings.push_back(absl::StrCat("imatrix size ", it->second.size(),
                                               " is different from tensor size ", p.ne[0] * p.ne[2],
                                               " for ", p.name, ": ignored"));
        } else {
          return absl::InvalidArgumentError(
              absl::StrCat(options.imatrix_path, ": imatrix size ", it->second.size(),
                           " is different from tensor size ", p.ne[0] * p.ne[2], " for ", p.name));
        }
      }
      if (p.imatrix == nullptr && p.requires_imatrix) {
        return absl::FailedPreconditionError(absl::StrCat(
            "Missing importance matrix for tensor ", p.name, " in a very low-bit quantization"));
      }
      if (IsQuantized(p.from)) {
        if (!options.allow_requantize) {
          return absl::FailedPreconditionError(
              absl::StrCat("requantizing from type ", GgmlTypeName(p.from), " is disabled"));
        }
        if (GetReferenceCodec(p.from).dequantize == nullptr) {
          return absl::UnimplementedError(absl::StrCat(
              "tensor ", p.name, ": type ", GgmlTypeName(p.from), " has no dequantizer"));
        }
      } else if (p.from != GgmlType::kF32 && p.from != GgmlType::kF16 &&
                 p.from != GgmlType::kBF16) {
        return absl::InvalidArgumentError(absl::StrCat(
            "tensor ", p.name, ": cannot dequantize/convert tensor type ", GgmlTypeName(p.from)));
      }
      if (GetReferenceCodec(p.to).quantize == nullptr) {
        return absl::UnimplementedError(
            absl::StrCat("tensor ", p.name, ": quantizing to ", GgmlTypeName(p.to),
                         " is not supported yet (no quantizer registered for this type)"));
      }
      if (p.ne[3] > 1) {
        return absl::UnimplementedError(absl::StrCat(
            "tensor ", p.name, ": 4-D tensors cannot be quantized (llama-quantize aborts too)"));
      }
    }
  }

  // Output metadata: input keys in order; quantization_version and
  // file_type re-set (so moved to the end); split keys removed; overrides and
  // imatrix keys appended.
  plan.ftype = options.ftype.copy_only ? static_cast<Ftype>(InputFtype(model)) : ftype;
  plan.metadata = Metadata(model.name());
  for (const MetadataEntry& e : model.metadata().entries()) {
    GGUFKIT_RETURN_IF_ERROR(plan.metadata.Add(e.key, e.value));
  }
  SetAppend(plan.metadata, "general.quantization_version",
            MetadataValue::U32(kQuantizationVersion));
  SetAppend(plan.metadata, "general.file_type",
            MetadataValue::U32(static_cast<uint32_t>(plan.ftype)));
  plan.metadata.Remove(kSplitNoKey);
  plan.metadata.Remove(kSplitCountKey);
  plan.metadata.Remove(kSplitTensorsCountKey);
  for (const KvOverride& o : options.kv_overrides) SetAppend(plan.metadata, o.key, o.value);
  if (has_imatrix) {
    SetAppend(
        plan.metadata, "quantize.imatrix.file",
        MetadataValue::String(absl::string_view(options.imatrix_path).substr(0, kMaxKvString)));
    if (!plan.imatrix.datasets.empty()) {
      SetAppend(plan.metadata, "quantize.imatrix.dataset",
                MetadataValue::String(
                    absl::string_view(plan.imatrix.datasets[0]).substr(0, kMaxKvString)));
    }
    SetAppend(plan.metadata, "quantize.imatrix.entries_count",
              MetadataValue::U32(static_cast<uint32_t>(plan.imatrix.entries.size())));
    if (plan.imatrix.chunk_count > 0) {
      SetAppend(plan.metadata, "quantize.imatrix.chunks_count",
                MetadataValue::U32(static_cast<uint32_t>(plan.imatrix.chunk_count)));
    }
  }
  if (plan.n_split > 1) {
    SetAppend(plan.metadata, kSplitNoKey, MetadataValue::U16(0));
    SetAppend(plan.metadata, kSplitCountKey,
              MetadataValue::U16(static_cast<uint16_t>(plan.n_split)));
    SetAppend(plan.metadata, kSplitTensorsCountKey,
              MetadataValue::I32(static_cast<int32_t>(plan.tensors.size())));
  }
  return plan;
}

std::vector<std::string> OutputPaths(const std::string& out_path, bool keep_split,
                                     uint32_t n_split) {
  if (!keep_split) return {out_path};
  std::string prefix = out_path;
  // llama-quantize: drop 5 characters when ".gguf" occurs anywhere.
  if (prefix.find(".gguf") != std::string::npos) prefix = prefix.substr(0, prefix.size() - 5);
  std::vector<std::string> paths;
  for (uint32_t i = 0; i < n_split; ++i) paths.push_back(SplitShardPath(prefix, i, n_split));
  return paths;
}

absl::StatusOr<QuantizePlan> PlanModelFile(const std::string& in_path,
                                           const QuantizeOptions& options) {
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<GgufModel> model, GgufModel::Open(in_path));
  return PlanQuantization(*model, options, /*for_dry_run=*/true);
}

namespace {

// One unit of work: rows [row_begin, row_end) of one expert matrix of a
// converted tensor, or bytes [byte_begin, byte_end) of a copied one.
struct Item {
  size_t tensor;
  int64_t row_begin;  // global row (expert * ne1 + row)
  int64_t row_end;
  uint64_t byte_begin;
  uint64_t byte_end;
  size_t out_bytes;
};

struct Slot {
  int64_t expect;  // the item this slot may hold next
  int64_t filled = -1;
  absl::Status status;
  std::vector<uint8_t> data;
  size_t size = 0;
};

}  // namespace

absl::StatusOr<QuantizeStats> QuantizeModelFile(
    const std::string& in_path, const std::string& out_path, const QuantizeOptions& options,
    const std::function<void(const QuantizeProgress&)>& progress) {
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<GgufModel> model, GgufModel::Open(in_path));
  GGUFKIT_ASSIGN_OR_RETURN(QuantizePlan plan, PlanQuantization(*model, options, false));
  const std::vector<std::string> out_paths =
      OutputPaths(out_path, options.keep_split, plan.n_split);
  for (const std::string& p : out_paths) {
    GGUFKIT_RETURN_IF_ERROR(CheckNotOverwritingInput(*model, p));
  }

  bool forward_only = false;
  for (size_t i = 0; i < model->shard_count(); ++i) {
    forward_only = forward_only || model->shard(i).source().forward_only();
  }
  int threads = options.threads > 0
                    ? options.threads
                    : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (forward_only) {
    // A .gguf.zst stream reads front to back only, and llama-quantize's
    // order is not the file order: decompress it once into an unlinked
    // temp file beside OUT (disk, not memory), then read that.
    if (model->shard_count() != 1) {
      return absl::FailedPreconditionError(absl::StrCat(
          model->name(), " is a split zstd-compressed model: decompress it first with `zstd -d`"));
    }
    const size_t slash = out_path.find_last_of('/');
    std::string tmpl = (slash == std::string::npos ? std::string(".") : out_path.substr(0, slash)) +
                       "/.gguf-quantize-input.XXXXXX";
    const int fd = mkstemp(tmpl.data());
    if (fd < 0) {
      return absl::InternalError(absl::StrCat("cannot create a temporary file beside ", out_path,
                                              ": ", std::strerror(errno)));
    }
    absl::Status copied = DecompressZstdFile(in_path, fd, tmpl);
    close(fd);
    absl::StatusOr<std::unique_ptr<GgufModel>> plain =
        copied.ok() ? GgufModel::Open(tmpl) : absl::StatusOr<std::unique_ptr<GgufModel>>(copied);
    unlink(tmpl.c_str());  // the open descriptor keeps it readable
    if (!plain.ok()) return plain.status();
    model = std::move(*plain);
    GGUFKIT_ASSIGN_OR_RETURN(plan, PlanQuantization(*model, options, false));
  }
  const std::vector<TensorInfo>& inputs = model->tensors();

  // Work items: f32 bytes per item bounded so that the ring and the worker
  // scratch stay within ~48 MiB whatever the thread count.
  const size_t budget = size_t{48} << 20;
  const size_t item_bytes = std::max<size_t>(
      size_t{64} << 10,
      std::min(options.chunk_bytes, budget / (3 * static_cast<size_t>(threads) + 2)));
  std::vector<Item> items;
  for (size_t t = 0; t < plan.tensors.size(); ++t) {
    const PlannedTensor& p = plan.tensors[t];
    if (!p.convert) {
      for (uint64_t b = 0; b < p.in_bytes; b += item_bytes) {
        const uint64_t e = std::min<uint64_t>(p.in_bytes, b + item_bytes);
        items.push_back({t, 0, 0, b, e, static_cast<size_t>(e - b)});
      }
      continue;
    }
    const int64_t ne0 = p.ne[0], ne1 = p.ne[1], ne2 = p.ne[2];
    const int64_t rows_per_item =
        std::max<int64_t>(1, static_cast<int64_t>(item_bytes / (static_cast<size_t>(ne0) * 4)));
    const uint64_t out_row = p.out_bytes / static_cast<uint64_t>(ne1 * ne2);
    for (int64_t e = 0; e < ne2; ++e) {
      for (int64_t r = 0; r < ne1; r += rows_per_item) {
        const int64_t r_end = std::min(ne1, r + rows_per_item);
        items.push_back({t, e * ne1 + r, e * ne1 + r_end, 0, 0,
                         static_cast<size_t>(out_row * static_cast<uint64_t>(r_end - r))});
      }
    }
  }

  // One writer per output shard, opened in turn (all committed at the end).
  std::vector<std::unique_ptr<GgufWriter>> writers;
  for (uint32_t sh = 0; sh < plan.n_split; ++sh) {
    auto w = std::make_unique<GgufWriter>();
    if (sh == 0) {
      w->metadata() = plan.metadata;
    } else {
      GGUFKIT_RETURN_IF_ERROR(
          w->metadata().Add(kSplitNoKey, MetadataValue::U16(static_cast<uint16_t>(sh))));
      GGUFKIT_RETURN_IF_ERROR(w->metadata().Add(
          kSplitCountKey, MetadataValue::U16(static_cast<uint16_t>(plan.n_split))));
      GGUFKIT_RETURN_IF_ERROR(w->metadata().Add(
          kSplitTensorsCountKey, MetadataValue::I32(static_cast<int32_t>(plan.tensors.size()))));
    }
    for (const PlannedTensor& p : plan.tensors) {
      if (p.shard != sh) continue;
      GGUFKIT_RETURN_IF_ERROR(w->AddTensor(
          p.name, p.to, absl::MakeConstSpan(p.ne.data(), static_cast<size_t>(p.n_dims))));
    }
    writers.push_back(std::move(w));
  }
  uint32_t current_shard = 0;
  GGUFKIT_RETURN_IF_ERROR(writers[0]->Begin(out_paths[0]));
  // Shards finished but not yet renamed into place would need a two-phase
  // commit; instead earlier shards are removed again when a later one fails.
  std::vector<std::string> committed;
  auto fail = [&](absl::Status s) {
    for (auto& w : writers) w->Abort();
    for (const std::string& c : committed) unlink(c.c_str());
    return s;
  };

  const size_t n_slots = static_cast<size_t>(threads) + 2;
  std::vector<Slot> slots(n_slots);
  for (size_t s = 0; s < n_slots; ++s) slots[s].expect = static_cast<int64_t>(s);
  std::mutex mu;
  std::condition_variable cv;
  bool abort = false;
  std::atomic<int64_t> next{0};
  const int64_t n_items = static_cast<int64_t>(items.size());

  auto process = [&](const Item& it, std::vector<uint8_t>& in_buf, std::vector<float>& f32,
                     Slot& slot) -> absl::Status {
    const PlannedTensor& p = plan.tensors[it.tensor];
    const TensorInfo& in = inputs[p.input_index];
    if (slot.data.size() < it.out_bytes) slot.data.resize(it.out_bytes);
    slot.size = it.out_bytes;
    if (!p.convert) {
      return model->ReadTensorBytes(in, it.byte_begin, slot.data.data(), it.out_bytes);
    }
    const int64_t ne0 = p.ne[0];
    const int64_t rows = it.row_end - it.row_begin;
    const size_t in_bytes = static_cast<size_t>(in.row_bytes) * static_cast<size_t>(rows);
    if (in_buf.size() < in_bytes) in_buf.resize(in_bytes);
    GGUFKIT_RETURN_IF_ERROR(model->ReadTensorBytes(
        in, in.row_bytes * static_cast<uint64_t>(it.row_begin), in_buf.data(), in_bytes));
    const size_t n = static_cast<size_t>(rows * ne0);
    if (f32.size() < n) f32.resize(n);
    GGUFKIT_RETURN_IF_ERROR(
        ToF32(p.from, in_buf.data(), in_bytes, static_cast<int64_t>(n), f32.data()));
    // llama-quantize validates what it wrote (ggml_validate_row_data) and
    // fails on NaN/Inf; a non-finite input value is what produces them.
    for (size_t k = 0; k < n; ++k) {
      if (!std::isfinite(f32[k])) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor ", p.name, ": non-finite value ", f32[k], " at element ",
                         static_cast<uint64_t>(it.row_begin) * static_cast<uint64_t>(ne0) + k,
                         " (llama-quantize fails too: quantized data validation failed)"));
      }
    }
    absl::Span<const float> weights;
    if (p.imatrix != nullptr) {
      const int64_t expert = it.row_begin / p.ne[1];
      weights = absl::MakeConstSpan(p.imatrix->data() + expert * ne0, static_cast<size_t>(ne0));
    }
    absl::Status s = Quantize(p.to, absl::MakeConstSpan(f32.data(), n),
                              absl::MakeSpan(slot.data.data(), it.out_bytes), weights);
    if (!s.ok()) return absl::Status(s.code(), absl::StrCat("tensor ", p.name, ": ", s.message()));
    return absl::OkStatus();
  };

  auto worker = [&]() {
    std::vector<uint8_t> in_buf;
    std::vector<float> f32;
    for (;;) {
      const int64_t i = next.fetch_add(1);
      if (i >= n_items) return;
      Slot& slot = slots[static_cast<size_t>(i) % n_slots];
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return abort || slot.expect == i; });
        if (abort) return;
      }
      absl::Status s = process(items[static_cast<size_t>(i)], in_buf, f32, slot);
      {
        std::lock_guard<std::mutex> lock(mu);
        slot.status = std::move(s);
        slot.filled = i;
      }
      cv.notify_all();
    }
  };

  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);

  absl::Status result;
  QuantizeProgress prog;
  prog.tensor_count = plan.tensors.size();
  prog.bytes_total = plan.out_bytes;
  for (int64_t j = 0; j < n_items; ++j) {
    Slot& slot = slots[static_cast<size_t>(j) % n_slots];
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return slot.filled == j; });
    }
    result = slot.status;
    const Item& it = items[static_cast<size_t>(j)];
    const uint32_t shard = plan.tensors[it.tensor].shard;
    while (result.ok() && shard != current_shard) {
      result = writers[current_shard]->Finish();
      if (result.ok()) committed.push_back(out_paths[current_shard]);
      ++current_shard;
      if (result.ok()) result = writers[current_shard]->Begin(out_paths[current_shard]);
    }
    if (result.ok()) result = writers[current_shard]->WriteTensorData(slot.data.data(), slot.size);
    if (!result.ok()) break;
    prog.bytes_done += slot.size;
    {
      std::lock_guard<std::mutex> lock(mu);
      slot.expect = j + static_cast<int64_t>(n_slots);
    }
    cv.notify_all();
    if (progress) {
      prog.tensor_index = it.tensor;
      prog.tensor_name = plan.tensors[it.tensor].name;
      progress(prog);
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    abort = true;
  }
  cv.notify_all();
  for (std::thread& t : pool) t.join();
  if (!result.ok()) return fail(result);
  // Shards without tensors still get their file.
  while (current_shard + 1 < plan.n_split) {
    absl::Status s = writers[current_shard]->Finish();
    if (!s.ok()) return fail(s);
    committed.push_back(out_paths[current_shard]);
    ++current_shard;
    s = writers[current_shard]->Begin(out_paths[current_shard]);
    if (!s.ok()) return fail(s);
  }
  absl::Status finished = writers[current_shard]->Finish();
  if (!finished.ok()) return fail(finished);

  QuantizeStats stats;
  stats.tensors_written = plan.tensors.size();
  for (const PlannedTensor& p : plan.tensors) {
    (p.convert ? stats.tensors_converted : stats.tensors_copied)++;
  }
  stats.input_data_bytes = plan.in_bytes;
  for (const auto& w : writers) stats.output_bytes += w->total_size();
  stats.threads = threads;
  stats.warnings = plan.warnings;
  return stats;
}

}  // namespace ggufkit::quantize
