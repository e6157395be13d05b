// gguf-dequant: dequantizes a GGUF model to fp32 / f16 / bf16 (GGUF or
// safetensors output), streaming with bounded memory. See docs/dequant.md.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <cstdlib>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/string_view.h"
#include "tools/stream/dequant_model.h"

namespace {

using ggufkit::stream::DequantModelOptions;
using ggufkit::stream::DequantProgress;

constexpr char kUsage[] =
    "usage: gguf-dequant [options] IN.gguf OUT\n"
    "Dequantizes every quantized tensor of IN (a GGUF file, or any shard of a split\n"
    "model) to a dense type; float tensors are converted, integer tensors copied,\n"
    "metadata kept (general.file_type set to match).\n"
    "  --to fp32|f16|bf16          output type (default fp32)\n"
    "  --format gguf|safetensors   output format (default gguf)\n"
    "  --tensors REGEX             only tensors whose name matches (searched anywhere)\n"
    "  --threads N                 worker threads (default: all cores)\n"
    "  --chunk-size SIZE           output bytes per work item, e.g. 4M (default 4M)\n"
    "  --device cpu|cuda           where to dequantize (default cpu)\n"
    "  --no-direct-io              write through the page cache instead of O_DIRECT\n"
    "  --quiet                     no progress line\n"
    "  -h, --help                  this text\n";

int UsageError(const std::string& message) {
  std::fprintf(stderr, "gguf-dequant: %s\n%s", message.c_str(), kUsage);
  return 2;
}

// "4194304", "4M", "4MiB", "512k", "1G".
bool ParseSize(absl::string_view text, size_t* out) {
  std::string s = absl::AsciiStrToLower(text);
  uint64_t multiplier = 1;
  for (absl::string_view suffix : {"ib", "b"}) {
    if (s.size() > suffix.size() && absl::EndsWith(s, suffix)) {
      s.resize(s.size() - suffix.size());
      break;
    }
  }
  if (!s.empty()) {
    const char last = s.back();
    if (last == 'k') multiplier = uint64_t{1} << 10;
    if (last == 'm') multiplier = uint64_t{1} << 20;
    if (last == 'g') multiplier = uint64_t{1} << 30;
    if (multiplier != 1) s.pop_back();
  }
  uint64_t value = 0;
  if (!absl::SimpleAtoi(s, &value) || value == 0 || value > (uint64_t{1} << 40) / multiplier) {
    return false;
  }
  *out = static_cast<size_t>(value * multiplier);
  return true;
}

class ProgressLine {
 public:
  void Update(const DequantProgress& p) {
    const auto now = std::chrono::steady_clock::now();
    const bool last = p.bytes_done == p.bytes_total;
    if (!last && now - last_print_ < std::chrono::milliseconds(100)) return;
    last_print_ = now;
    const double seconds = std::chrono::duration<double>(now - start_).count();
    const double rate = seconds > 0 ? static_cast<double>(p.bytes_done) / seconds : 0;
    const double eta =
        rate > 0 ? static_cast<double>(p.bytes_total - p.bytes_done) / rate : 0;
    std::fprintf(stderr, "\r\033[K[%zu/%zu] %s  %.2f/%.2f GB  %.0f MB/s  ETA %.0fs",
                 p.tensor_index + 1, p.tensor_count, p.tensor_name.c_str(),
                 static_cast<double>(p.bytes_done) / 1e9,
                 static_cast<double>(p.bytes_total) / 1e9, rate / 1e6, eta);
    if (last) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_print_;
};

}  // namespace

int main(int argc, char** argv) {
  DequantModelOptions options;
  bool quiet = false;
  std::string device = "cpu";
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool has_inline_value = false;
    if (absl::StartsWith(arg, "--") && arg.find('=') != std::string::npos) {
      value = arg.substr(arg.find('=') + 1);
      arg = arg.substr(0, arg.find('='));
      has_inline_value = true;
    }
    auto take_value = [&](std::string* v) {
      if (has_inline_value) {
        *v = value;
        return true;
      }
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (arg == "--quiet" || arg == "-q") {
      quiet = true;
    } else if (arg == "--no-direct-io") {
      options.direct_io = false;
    } else if (arg == "--to" || arg == "--format" || arg == "--tensors" || arg == "--threads" ||
               arg == "--chunk-size" || arg == "--device") {
      std::string v;
      if (!take_value(&v)) return UsageError(absl::StrCat("flag ", arg, " needs a value"));
      if (arg == "--to") {
        auto t = ggufkit::stream::ParseDenseType(v);
        if (!t.ok()) return UsageError(absl::StrCat("--to: ", t.status().message()));
        options.to = *t;
      } else if (arg == "--format") {
        auto f = ggufkit::stream::ParseOutputFormat(v);
        if (!f.ok()) return UsageError(absl::StrCat("--format: ", f.status().message()));
        options.format = *f;
      } else if (arg == "--tensors") {
        options.tensor_regex = v;
      } else if (arg == "--threads") {
        int n = 0;
        if (!absl::SimpleAtoi(v, &n) || n < 1 || n > 1024) {
          return UsageError(absl::StrCat("--threads: '", v, "' is not a count from 1 to 1024"));
        }
        options.threads = n;
      } else if (arg == "--chunk-size") {
        if (!ParseSize(v, &options.chunk_bytes)) {
          return UsageError(absl::StrCat("--chunk-size: '", v, "' is not a size like 4M"));
        }
      } else {
        device = absl::AsciiStrToLower(v);
        if (device != "cpu" && device != "cuda") {
          return UsageError(absl::StrCat("--device: '", v, "' (expected cpu or cuda)"));
        }
      }
    } else if (absl::StartsWith(arg, "-") && arg != "-") {
      return UsageError(absl::StrCat("unknown flag ", arg));
    } else {
      positional.push_back(argv[i]);
    }
  }
  if (positional.size() != 2) {
    return UsageError(absl::StrCat("expected IN.gguf and OUT, got ", positional.size(),
                                   " file argument(s)"));
  }
  if (device == "cuda") {
#ifdef GGUFKIT_HAVE_CUDA
    std::fprintf(stderr,
                 "gguf-dequant: --device cuda is not wired to the CUDA dequantizer yet in this "
                 "build; use --device cpu\n");
#else
    std::fprintf(stderr,
                 "gguf-dequant: --device cuda: this build has no CUDA support (configure with "
                 "-DGGUFKIT_CUDA=ON on a machine with nvcc)\n");
#endif
    return 1;
  }

  ProgressLine line;
  std::function<void(const DequantProgress&)> progress;
  if (!quiet && isatty(STDERR_FILENO)) {
    progress = [&](const DequantProgress& p) { line.Update(p); };
  }
  auto stats = ggufkit::stream::DequantizeModelFile(positional[0], positional[1], options,
                                                    progress);
  if (!stats.ok()) {
    std::fprintf(stderr, "%sgguf-dequant: %s\n", progress ? "\n" : "",
                 std::string(stats.status().message()).c_str());
    return 1;
  }
  if (!quiet && isatty(STDERR_FILENO)) {
    std::fprintf(stderr, "wrote %zu tensors (%zu converted, %zu copied), %.2f GB to %s%s\n",
                 stats->tensors_written, stats->tensors_converted, stats->tensors_copied,
                 static_cast<double>(stats->output_bytes) / 1e9, positional[1].c_str(),
                 stats->direct_io ? " (O_DIRECT)" : "");
  }
  return 0;
}
