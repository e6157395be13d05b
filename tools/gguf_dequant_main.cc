// gguf-dequant: dequantizes a GGUF model to fp32 / f16 / bf16 (GGUF or
// safetensors output), streaming with bounded memory. See docs/dequant.md.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_format.h"
#include "ggufkit/gguf/zstd_sink.h"
#include "ggufkit/gguf/zstd_source.h"
#include "ggufkit/cli/cli_args.h"
#include "ggufkit/cli/progress.h"
#include "ggufkit/stream/dequant_model.h"

namespace {

using ggufkit::stream::DequantModelOptions;
using ggufkit::stream::DequantProgress;

constexpr char kSummary[] =
    "Dequantizes every quantized tensor of IN (a GGUF file, or any shard of a split model) to\n"
    "a dense type, streaming with bounded memory. Float tensors are converted, integer tensors\n"
    "copied, metadata kept (general.file_type set to match). Output goes to a temporary file\n"
    "renamed to OUT on success; on any error OUT does not exist.";


}  // namespace

int main(int argc, char** argv) {
  DequantModelOptions options;
  std::string to = "fp32", format = "gguf", device = "cpu", in_path, out_path;
  int64_t threads = 0;
  uint64_t chunk_bytes = options.chunk_bytes;
  bool quiet = false, direct_io = true;
  ggufkit::cli::ArgParser args("gguf-dequant", kSummary);
  args.AddChoice("to", "TYPE", "output type (default fp32)",
                 {"fp32", "f32", "f16", "fp16", "bf16"}, &to);
  args.AddChoice("format", "FORMAT", "output format (default gguf)", {"gguf", "safetensors"},
                 &format);
  args.AddString("tensors", "REGEX",
                 "only tensors whose name matches (ECMAScript, searched anywhere; ^...$ anchors)",
                 &options.tensor_regex);
  args.AddInt("threads", "N", "worker threads (default: all cores)", &threads, 1, 1024);
  args.AddSize("chunk-size", "SIZE", "output bytes per work item, e.g. 4M (default 4M)",
               &chunk_bytes);
  args.AddChoice("device", "DEVICE", "where to dequantize (default cpu)", {"cpu", "cuda"},
                 &device);
  args.AddBool("direct-io",
               "write with O_DIRECT when the filesystem allows (default; --no-direct-io writes "
               "through the page cache)",
               &direct_io);
  bool compress_set = false;
  args.AddCustom("compress", "none|zstd[:LEVEL]",
                 "write OUT as a zstd stream (default: zstd level 3 when OUT ends in .zst, else "
                 "none); compresses with up to --threads zstd workers",
                 [&](absl::string_view v) -> absl::Status {
                   absl::StatusOr<std::optional<int>> level = ggufkit::ParseCompressSpec(v);
                   if (!level.ok()) return level.status();
                   options.zstd_level = *level;
                   compress_set = true;
                   return absl::OkStatus();
                 });
  args.AddBool("quiet", "no progress line (it is only shown when stderr is a terminal)", &quiet);
  args.AddPositional("IN.gguf", "the quantized model (any shard of a split model)", &in_path);
  args.AddPositional("OUT", "the dense output file", &out_path);
  const absl::Status parsed = args.Parse(argc, argv);
  if (args.help_requested()) {
    std::fputs(args.Usage().c_str(), stdout);
    return 0;
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "gguf-dequant: %s\n%s", std::string(parsed.message()).c_str(),
                 args.Usage().c_str());
    return 2;
  }
  options.to = *ggufkit::stream::ParseOutputType(to);
  options.format = *ggufkit::stream::ParseOutputFormat(format);
  options.threads = static_cast<int>(threads);
  if (chunk_bytes < 4096 || chunk_bytes > (uint64_t{1} << 30)) {
    std::fprintf(stderr, "gguf-dequant: --chunk-size must be between 4K and 1G\n");
    return 2;
  }
  options.chunk_bytes = static_cast<size_t>(chunk_bytes);
  options.direct_io = direct_io;
  if (!compress_set && ggufkit::HasZstdSuffix(out_path)) {
    options.zstd_level = ggufkit::kZstdDefaultLevel;
  }
  options.device =
      device == "cuda" ? ggufkit::stream::Device::kCuda : ggufkit::stream::Device::kCpu;

  ggufkit::cli::ProgressLine line;
  std::function<void(const DequantProgress&)> progress;
  if (ggufkit::cli::ProgressLine::Wanted(quiet)) {
    progress = [&](const DequantProgress& p) {
      line.Update(p.tensor_index, p.tensor_count, p.tensor_name, p.bytes_done, p.bytes_total);
    };
  }
  auto stats = ggufkit::stream::DequantizeModelFile(in_path, out_path, options, progress);
  if (!stats.ok()) {
    std::fprintf(stderr, "%sgguf-dequant: %s\n", progress ? "\n" : "",
                 std::string(stats.status().message()).c_str());
    return 1;
  }
  if (ggufkit::cli::ProgressLine::Wanted(quiet)) {
    const std::string zstd =
        options.zstd_level ? absl::StrFormat(" (zstd: %.2f GB on disk)",
                                             static_cast<double>(stats->compressed_bytes) / 1e9)
                           : std::string();
    std::fprintf(stderr, "wrote %zu tensors (%zu converted, %zu copied), %.2f GB to %s%s%s\n",
                 stats->tensors_written, stats->tensors_converted, stats->tensors_copied,
                 static_cast<double>(stats->output_bytes) / 1e9, out_path.c_str(), zstd.c_str(),
                 stats->direct_io ? " (O_DIRECT)" : "");
  }
  return 0;
}
