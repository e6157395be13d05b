#include "ggufkit/stream/dequant_model.h"

#include <sys/stat.h>

#include <algorithm>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ggufkit/base/json.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/gguf/writer.h"
#include "ggufkit/gguf/zstd_sink.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/stream/direct_file_sink.h"
#include "ggufkit/stream/gguf_tensors.h"
#include "ggufkit/stream/name_filter.h"
#include "ggufkit/stream/ordered_pipeline.h"
#include "ggufkit/stream/safetensors_header.h"
#ifdef GGUFKIT_HAVE_CUDA
#include "ggufkit/kernels/cuda/cuda_codecs.h"
#include "ggufkit/kernels/cuda/host_dequantizer.h"
#endif

namespace ggufkit::stream {
namespace {

constexpr absl::string_view kFileTypeKey = "general.file_type";

int ThreadCount(const DequantModelOptions& options) {
  return options.threads > 0 ? options.threads
                             : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

// Same file = same device and inode (catches "./a.gguf" vs "a.gguf", hard
// links and symlinks, which a string comparison misses).
absl::Status CheckNotOverwritingInput(const GgufModel& model, const std::string& out_path) {
  struct stat out_st;
  if (stat(out_path.c_str(), &out_st) != 0) return absl::OkStatus();  // does not exist yet
  for (size_t i = 0; i < model.shard_count(); ++i) {
    const std::string& in = model.shard(i).name();
    struct stat in_st;
    if (stat(in.c_str(), &in_st) == 0 && in_st.st_dev == out_st.st_dev &&
        in_st.st_ino == out_st.st_ino) {
      return absl::InvalidArgumentError(absl::StrCat(
          "output '", out_path, "' is the input file '", in, "': refusing to overwrite it"));
    }
  }
  return absl::OkStatus();
}

std::string FormatDouble(double v, int digits) { return absl::StrFormat("%.*g", digits, v); }

std::string ScalarAsString(const MetadataValue& v) {
  switch (v.type()) {
    case GgufValueType::kU8:
    case GgufValueType::kU16:
    case GgufValueType::kU32:
    case GgufValueType::kU64:
      return absl::StrCat(v.u64());
    case GgufValueType::kI8:
      return absl::StrCat(v.i8());
    case GgufValueType::kI16:
      return absl::StrCat(v.i16());
    case GgufValueType::kI32:
      return absl::StrCat(v.i32());
    case GgufValueType::kI64:
      return absl::StrCat(v.i64());
    case GgufValueType::kF32:
      return FormatDouble(v.f32(), 9);
    case GgufValueType::kF64:
      return FormatDouble(v.f64(), 17);
    case GgufValueType::kBool:
      return v.boolean() ? "true" : "false";
    case GgufValueType::kString:
      return std::string(v.str());
    case GgufValueType::kArray:
      break;
  }
  return "";
}

bool IsUnsigned(GgufValueType t) {
  return t == GgufValueType::kU8 || t == GgufValueType::kU16 || t == GgufValueType::kU32 ||
         t == GgufValueType::kU64 || t == GgufValueType::kBool;
}

}  // namespace

std::string MetadataValueAsString(const MetadataValue& value) {
  if (!value.is_array()) return ScalarAsString(value);
  std::string out = "[";
  const GgufValueType et = value.element_type();
  for (uint64_t i = 0; i < value.size(); ++i) {
    if (i > 0) out += ",";
    if (et == GgufValueType::kString) {
      out += JsonString(value.string_at(i));
    } else if (et == GgufValueType::kBool) {
      out += value.int_at(i) != 0 ? "true" : "false";
    } else if (et == GgufValueType::kF32) {
      out += FormatDouble(value.float_at(i), 9);
    } else if (et == GgufValueType::kF64) {
      out += FormatDouble(value.float_at(i), 17);
    } else if (IsUnsigned(et)) {
      absl::StrAppend(&out, static_cast<uint64_t>(value.int_at(i)));
    } else {
      absl::StrAppend(&out, value.int_at(i));
    }
  }
  out += "]";
  return out;
}

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name) {
  const std::string lower = absl::AsciiStrToLower(name);
  if (lower == "gguf") return OutputFormat::kGguf;
  if (lower == "safetensors") return OutputFormat::kSafetensors;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown output format '", name, "' (expected gguf or safetensors)"));
}

absl::StatusOr<DequantModelStats> DequantizeModelFile(
    const std::string& in_path, const std::string& out_path, const DequantModelOptions& options,
    const std::function<void(const DequantProgress&)>& progress) {
#ifndef GGUFKIT_HAVE_CUDA
  if (options.device == Device::kCuda) {
    return absl::UnimplementedError(
        "--device cuda: this build has no CUDA support (configure with -DGGUFKIT_CUDA=ON on a "
        "machine with nvcc)");
  }
#endif
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<GgufModel> model, GgufModel::Open(in_path));
  GGUFKIT_RETURN_IF_ERROR(CheckNotOverwritingInput(*model, out_path));

  // Tensor selection.
  std::vector<const TensorInfo*> selected;
  if (options.tensor_regex.empty()) {
    for (const TensorInfo& t : model->tensors()) selected.push_back(&t);
  } else {
    std::vector<std::string> names;
    for (const TensorInfo& t : model->tensors()) names.push_back(t.name);
    std::vector<bool> matches;
    GGUFKIT_RETURN_IF_ERROR(MatchNames(options.tensor_regex, names, &matches));
    for (size_t i = 0; i < names.size(); ++i) {
      if (matches[i]) selected.push_back(&model->tensors()[i]);
    }
  }
  if (selected.empty() && !model->tensors().empty()) {
    return absl::NotFoundError(absl::StrCat("no tensor of '", model->name(), "' matches '",
                                            options.tensor_regex, "'"));
  }

  // A zstd-compressed input is a forward-only stream: its tensors can only be
  // read in file order, by one thread.
  bool forward_only_input = false;
  for (size_t i = 0; i < model->shard_count(); ++i) {
    forward_only_input = forward_only_input || model->shard(i).source().forward_only();
  }
  if (forward_only_input) {
    for (size_t i = 1; i < selected.size(); ++i) {
      const TensorInfo& a = *selected[i - 1];
      const TensorInfo& b = *selected[i];
      if (b.shard < a.shard || (b.shard == a.shard && b.absolute_offset < a.absolute_offset)) {
        return absl::FailedPreconditionError(absl::StrCat(
            model->shard(b.shard).name(), " is a zstd stream whose tensors are not stored in "
            "the order of their infos ('", b.name, "' comes before '", a.name,
            "' in the file): gguf-dequant needs random access; decompress it first with "
            "`zstd -d`"));
      }
    }
  }

  // Plan: one pipeline entry per tensor, sources kept alive here.
  DequantModelStats stats;
  std::vector<std::unique_ptr<GgufTensorSource>> sources;
  std::vector<PipelineTensor> plan;
  std::vector<GgmlType> out_types;
  for (const TensorInfo* t : selected) {
    sources.push_back(std::make_unique<GgufTensorSource>(*model, *t));
    PipelineTensor pt;
    // Big-endian input: blocks are byte-swapped as they are read; the output
    // is always little-endian.
    pt.layout = sources.back()->layout();
    pt.source = sources.back().get();
    pt.to = options.to;
    const TypeTraits& traits = GetTypeTraits(t->type);
    GgmlType out_type = DenseGgmlType(options.to);
    if (traits.kind == TypeKind::kInteger || t->type == DenseGgmlType(options.to)) {
      pt.copy_raw = true;
      out_type = t->type;
      ++stats.tensors_copied;
    } else {
      if (!CanConvert(t->type, options.to)) {
        return absl::UnimplementedError(absl::StrCat("tensor '", t->name, "' in '",
                                                     pt.layout.file, "': no dequantizer for type ",
                                                     traits.name));
      }
      ++stats.tensors_converted;
    }
    GGUFKIT_ASSIGN_OR_RETURN(pt.output_bytes,
                             PipelineOutputBytes(pt.layout, pt.copy_raw, options.to));
    stats.input_data_bytes += t->size_bytes;
    plan.push_back(std::move(pt));
    out_types.push_back(out_type);
  }

  // Output header.
  std::unique_ptr<GgufWriter> writer;
  std::string safetensors_header;
  uint64_t expected_size = 0;
  if (options.format == OutputFormat::kGguf) {
    writer = std::make_unique<GgufWriter>();
    for (const MetadataEntry& e : model->metadata().entries()) {
      // The output is one file: shard bookkeeping keys do not apply.
      if (absl::StartsWith(e.key, "split.")) continue;
      GGUFKIT_RETURN_IF_ERROR(writer->metadata().Add(e.key, e.value));
    }
    GGUFKIT_RETURN_IF_ERROR(
        writer->metadata().Set(kFileTypeKey, MetadataValue::U32(DenseFileType(options.to))));
    GGUFKIT_RETURN_IF_ERROR(writer->SetAlignment(model->alignment()));
    for (size_t i = 0; i < selected.size(); ++i) {
      const TensorInfo& t = *selected[i];
      GGUFKIT_RETURN_IF_ERROR(writer->AddTensor(
          t.name, out_types[i], absl::MakeConstSpan(t.ne.data(), t.n_dims)));
    }
    GGUFKIT_RETURN_IF_ERROR(writer->Plan());
    expected_size = writer->total_size();
  } else {
    std::vector<std::pair<std::string, std::string>> meta;
    bool has_format = false;
    for (const MetadataEntry& e : model->metadata().entries()) {
      if (absl::StartsWith(e.key, "split.")) continue;
      std::string value = e.key == kFileTypeKey ? absl::StrCat(DenseFileType(options.to))
                                                : MetadataValueAsString(e.value);
      has_format = has_format || e.key == "format";
      meta.emplace_back(e.key, std::move(value));
    }
    // transformers refuses safetensors files without format=pt.
    if (!has_format) meta.emplace_back("format", "pt");
    std::vector<SafetensorsTensor> st;
    for (size_t i = 0; i < selected.size(); ++i) {
      const TensorInfo& t = *selected[i];
      SafetensorsTensor s;
      s.name = t.name;
      GGUFKIT_ASSIGN_OR_RETURN(s.dtype, SafetensorsDtype(out_types[i]));
      for (int d = static_cast<int>(t.n_dims) - 1; d >= 0; --d) s.shape.push_back(t.ne[d]);
      s.byte_size = plan[i].output_bytes;
      st.push_back(std::move(s));
    }
    GGUFKIT_ASSIGN_OR_RETURN(safetensors_header, BuildSafetensorsHeader(meta, st));
    expected_size = safetensors_header.size();
    for (const PipelineTensor& pt : plan) expected_size += pt.output_bytes;
  }

  DirectFileSinkOptions sink_options;
  sink_options.try_direct = options.direct_io;
  sink_options.expected_size = options.zstd_level ? 0 : expected_size;
  // Compressed output arrives in <= 128 KiB pieces at a fraction of the
  // pipeline's rate: 1 MiB staging buffers suffice and leave the memory to
  // the zstd workers (128 MiB budget with a full 64 MiB ring).
  if (options.zstd_level) sink_options.buffer_bytes = size_t{1} << 20;
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<DirectFileSink> file_sink,
                           DirectFileSink::Create(out_path, sink_options));
  stats.direct_io = file_sink->is_direct();
  std::unique_ptr<OutputSink> sink = std::move(file_sink);
  if (options.zstd_level) {
    // Compressed output: the same bytes, zstd-compressed into the file sink.
    ZstdSinkOptions zstd_options;
    zstd_options.level = *options.zstd_level;
    zstd_options.threads = ThreadCount(options);
    zstd_options.pledged_size = expected_size;
    GGUFKIT_ASSIGN_OR_RETURN(sink, MakeZstdSink(std::move(sink), zstd_options));
  }
  OutputSink* raw_sink = sink.get();
  if (writer != nullptr) {
    GGUFKIT_RETURN_IF_ERROR(writer->Begin(std::move(sink)));
  } else {
    GGUFKIT_RETURN_IF_ERROR(raw_sink->Write(safetensors_header.data(), safetensors_header.size()));
  }

  PipelineOptions pipeline_options;
  // A forward-only input (a .gguf.zst stream) is read by one worker, in
  // file order (checked above).
  pipeline_options.threads = forward_only_input ? 1 : ThreadCount(options);
  pipeline_options.chunk_bytes = options.chunk_bytes;
#ifdef GGUFKIT_HAVE_CUDA
  std::unique_ptr<cuda::HostDequantizer> gpu;
  if (options.device == Device::kCuda) {
    GGUFKIT_RETURN_IF_ERROR(cuda::DeviceAvailable());
    // 8 MiB chunks keep the pinned + device staging near 50 MiB.
    GGUFKIT_ASSIGN_OR_RETURN(gpu, cuda::HostDequantizer::Create(int64_t{8} << 20));
    // One HostDequantizer is one pipeline of streams: one worker feeds it
    // with large reads; the writer still overlaps on the consumer thread.
    pipeline_options.threads = 1;
    pipeline_options.worker_scratch_bytes = size_t{8} << 20;
    cuda::HostDequantizer* dq = gpu.get();
    pipeline_options.convert = [dq](GgmlType type, const uint8_t* blocks, int64_t n,
                                    OutputType to, void* out) -> absl::Status {
      if (!cuda::CanDequantizeOnDevice(type)) return ConvertBlocks(type, blocks, n, to, out);
      return dq->Dequantize(type, blocks, n, to, out);
    };
  }
#endif
  stats.threads = pipeline_options.threads;

  std::function<void(const PipelineProgress&)> on_chunk;
  if (progress) {
    on_chunk = [&](const PipelineProgress& p) {
      DequantProgress d;
      d.tensor_index = p.tensor_index;
      d.tensor_count = plan.size();
      d.tensor_name = plan[p.tensor_index].layout.name;
      d.bytes_done = p.bytes_done;
      d.bytes_total = p.bytes_total;
      progress(d);
    };
  }
  absl::Status status = RunOrderedPipeline(
      plan, pipeline_options,
      [&](size_t tensor_index, const uint8_t* data, size_t n) -> absl::Status {
        absl::Status s =
            writer != nullptr ? writer->WriteTensorData(data, n) : raw_sink->Write(data, n);
        if (!s.ok() && !absl::StrContains(s.message(), plan[tensor_index].layout.name)) {
          s = absl::Status(s.code(), absl::StrCat("writing tensor '",
                                                  plan[tensor_index].layout.name, "' to '",
                                                  out_path, "': ", s.message()));
        }
        return s;
      },
      on_chunk);
  if (status.ok()) {
    status = writer != nullptr ? writer->Finish() : raw_sink->Finish();
  }
  if (!status.ok()) {
    if (writer != nullptr) {
      writer->Abort();
    } else {
      raw_sink->Abort();
    }
    return status;
  }
  stats.tensors_written = plan.size();
  stats.output_bytes = writer != nullptr ? writer->total_size() : raw_sink->bytes_written();
  stats.compressed_bytes = ZstdSinkCompressedBytes(*raw_sink).value_or(0);
  return stats;
}

}  // namespace ggufkit::stream
