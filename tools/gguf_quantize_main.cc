// gguf-quantize: llama-quantize's command line and output bytes, streaming in
// bounded memory. See docs/quantize.md.
//
//   gguf-quantize [options] IN.gguf [OUT.gguf] TYPE [THREADS]

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ggufkit/base/json.h"
#include "ggufkit/cli/progress.h"
#include "ggufkit/quantize/ftype.h"
#include "ggufkit/quantize/quantize_model.h"

namespace {

namespace q = ggufkit::quantize;

constexpr char kUsage[] =
    "usage: gguf-quantize [options] IN.gguf [OUT.gguf] TYPE [THREADS]\n"
    "\n"
    "Quantizes a GGUF model as llama-quantize does (same types per tensor, same bytes),\n"
    "streaming with bounded memory. IN may be any shard of a split model or a .gguf.zst.\n"
    "Without OUT the output is ggml-model-TYPE.gguf beside IN. On error no OUT is left.\n"
    "\n"
    "options (llama-quantize's):\n"
    "  --allow-requantize          allow requantizing already quantized tensors\n"
    "  --leave-output-tensor       leave output.weight un(re)quantized\n"
    "  --pure                      no k-quant mixtures: every tensor of the default type\n"
    "  --imatrix FILE              importance matrix (GGUF or legacy .dat)\n"
    "  --include-weights NAME      use the imatrix only for tensors containing NAME\n"
    "  --exclude-weights NAME      do not use the imatrix for tensors containing NAME\n"
    "  --output-tensor-type T      ggml type for output.weight\n"
    "  --token-embedding-type T    ggml type for token_embd.weight\n"
    "  --tensor-type REGEX=T       type for tensors matching REGEX (repeatable)\n"
    "  --tensor-type-file FILE     REGEX=T entries separated by spaces or newlines\n"
    "  --override-kv KEY=TYPE:VAL  set metadata (TYPE int|float|bool|str; repeatable)\n"
    "  --keep-split                one output shard per input shard (OUT-0000i-of-0000n.gguf)\n"
    "  --dry-run                   per-tensor types and sizes; reads metadata only, writes "
    "nothing\n"
    "options (ggufkit's):\n"
    "  --threads N                 worker threads (default: THREADS, else all cores)\n"
    "  --json                      dry run as JSON on stdout\n"
    "  --quiet                     no progress line and no warnings\n"
    "  -h, --help                  this text\n"
    "\n"
    "TYPE (name or id, any case):\n";

std::string TypesList() {
  std::string s;
  for (const q::FtypeInfo& f : q::AllFtypes()) {
    if (f.copy_only) {
      absl::StrAppend(&s, "          COPY    : only copy tensors, no quantizing\n");
    } else {
      absl::StrAppend(&s, absl::StrFormat("  %2d  or  %-7s\n", static_cast<int>(f.ftype), f.name));
    }
  }
  return s;
}

int Usage(const std::string& error) {
  if (!error.empty()) std::fprintf(stderr, "gguf-quantize: %s\n", error.c_str());
  std::fprintf(stderr, "%s%s", kUsage, TypesList().c_str());
  return 2;
}

std::string ShapeOf(const q::PlannedTensor& p, bool json) {
  std::string s = "[";
  for (int i = 0; i < p.n_dims; ++i) absl::StrAppend(&s, i ? (json ? "," : ", ") : "", p.ne[i]);
  return s + "]";
}

void PrintDryRun(const q::QuantizePlan& plan, const std::string& in, absl::string_view type_name,
                 bool json) {
  if (json) {
    std::string s = absl::StrCat(
        "{\"input\":", ggufkit::JsonString(in), ",\"type\":", ggufkit::JsonString(type_name),
        ",\"file_type\":", static_cast<uint32_t>(plan.ftype), ",\"tensors\":[");
    for (size_t i = 0; i < plan.tensors.size(); ++i) {
      const q::PlannedTensor& p = plan.tensors[i];
      absl::StrAppend(&s, i ? "," : "", "{\"name\":", ggufkit::JsonString(p.name),
                      ",\"shape\":", ShapeOf(p, true), ",\"from\":\"",
                      ggufkit::GgmlTypeName(p.from), "\",\"to\":\"", ggufkit::GgmlTypeName(p.to),
                      "\",\"in_bytes\":", p.in_bytes, ",\"out_bytes\":", p.out_bytes);
      if (p.fallback_from) {
        absl::StrAppend(&s, ",\"fallback_from\":\"", ggufkit::GgmlTypeName(*p.fallback_from), "\"");
      }
      if (p.manual_override) absl::StrAppend(&s, ",\"manual_override\":true");
      absl::StrAppend(&s, "}");
    }
    absl::StrAppend(&s, "],\"in_bytes\":", plan.in_bytes, ",\"out_bytes\":", plan.out_bytes,
                    ",\"n_elements\":", plan.n_elements, ",\"fallbacks\":", plan.n_fallback,
                    ",\"imatrix_needed\":", plan.imatrix_needed ? "true" : "false",
                    ",\"warnings\":[");
    for (size_t i = 0; i < plan.warnings.size(); ++i) {
      absl::StrAppend(&s, i ? "," : "", ggufkit::JsonString(plan.warnings[i]));
    }
    absl::StrAppend(&s, "]}\n");
    std::fputs(s.c_str(), stdout);
    return;
  }
  const size_t n = plan.tensors.size();
  for (size_t i = 0; i < n; ++i) {
    const q::PlannedTensor& p = plan.tensors[i];
    std::string line = absl::StrFormat(
        "[%4zu/%4zu] %-36s %-22s %6s -> %-7s %10.3f MiB -> %10.3f MiB", i + 1, n, p.name,
        ShapeOf(p, false), ggufkit::GgmlTypeName(p.from), ggufkit::GgmlTypeName(p.to),
        p.in_bytes / 1048576.0, p.out_bytes / 1048576.0);
    if (p.fallback_from)
      absl::StrAppend(&line, "  (fallback from ", ggufkit::GgmlTypeName(*p.fallback_from), ")");
    if (p.manual_override) absl::StrAppend(&line, "  (--tensor-type)");
    std::printf("%s\n", line.c_str());
  }
  const double ne = plan.n_elements > 0 ? static_cast<double>(plan.n_elements) : 1.0;
  std::printf("model size = %10.2f MiB (%.2f BPW)\n", plan.in_bytes / 1048576.0,
              plan.in_bytes * 8.0 / ne);
  std::printf("quant size = %10.2f MiB (%.2f BPW)\n", plan.out_bytes / 1048576.0,
              plan.out_bytes * 8.0 / ne);
  if (plan.n_fallback > 0) {
    std::printf("%d of %zu tensor(s) required fallback quantization\n", plan.n_fallback, n);
  }
  if (plan.imatrix_needed) {
    std::printf("WARNING: the real run of this quantization will require an imatrix\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  q::QuantizeOptions options;
  bool dry_run = false, json = false, quiet = false;
  int threads_flag = 0;
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string inline_value;
    bool has_inline = false;
    if (absl::StartsWith(a, "--") && a.find('=') != std::string::npos) {
      has_inline = true;
      inline_value = a.substr(a.find('=') + 1);
      a = a.substr(0, a.find('='));
    }
    auto value = [&](std::string* out) -> bool {
      if (has_inline) {
        *out = inline_value;
        return true;
      }
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    auto type_value = [&](std::optional<ggufkit::GgmlType>* out) -> std::string {
      std::string v;
      if (!value(&v)) return absl::StrCat(a, " needs a ggml type");
      auto t = ggufkit::ParseGgmlType(v);
      if (!t.ok()) return absl::StrCat(a, ": invalid ggml_type '", v, "'");
      *out = *t;
      return "";
    };
    if (a == "-h" || a == "--help") {
      std::printf("%s%s", kUsage, TypesList().c_str());
      return 0;
    } else if (!absl::StartsWith(a, "--") || a == "--") {
      positional.push_back(a);
      if (a == "--") {
        positional.pop_back();
        for (++i; i < argc; ++i) positional.push_back(argv[i]);
      }
    } else if (a == "--allow-requantize") {
      options.allow_requantize = true;
    } else if (a == "--leave-output-tensor") {
      options.leave_output_tensor = true;
    } else if (a == "--pure") {
      options.pure = true;
    } else if (a == "--keep-split") {
      options.keep_split = true;
    } else if (a == "--dry-run") {
      dry_run = true;
    } else if (a == "--json") {
      json = true;
    } else if (a == "--quiet") {
      quiet = true;
    } else if (a == "--imatrix") {
      if (!value(&options.imatrix_path)) return Usage("--imatrix needs a file");
    } else if (a == "--include-weights" || a == "--exclude-weights") {
      std::string v;
      if (!value(&v)) return Usage(a + " needs a tensor name");
      (a == "--include-weights" ? options.include_weights : options.exclude_weights).push_back(v);
    } else if (a == "--output-tensor-type") {
      std::string e = type_value(&options.output_tensor_type);
      if (!e.empty()) return Usage(e);
    } else if (a == "--token-embedding-type") {
      std::string e = type_value(&options.token_embedding_type);
      if (!e.empty()) return Usage(e);
    } else if (a == "--tensor-type") {
      std::string v;
      if (!value(&v)) return Usage("--tensor-type needs NAME=TYPE");
      auto o = q::ParseTensorTypeOverride(v);
      if (!o.ok()) return Usage(absl::StrCat("--tensor-type: ", o.status().message()));
      options.tensor_types.push_back(std::move(*o));
    } else if (a == "--tensor-type-file") {
      std::string v;
      if (!value(&v)) return Usage("--tensor-type-file needs a file");
      auto list = q::ReadTensorTypeFile(v);
      if (!list.ok()) return Usage(absl::StrCat("--tensor-type-file: ", list.status().message()));
      options.tensor_types.insert(options.tensor_types.end(), list->begin(), list->end());
    } else if (a == "--override-kv") {
      std::string v;
      if (!value(&v)) return Usage("--override-kv needs KEY=TYPE:VALUE");
      auto o = q::ParseKvOverride(v);
      if (!o.ok()) return Usage(std::string(o.status().message()));
      options.kv_overrides.push_back(std::move(*o));
    } else if (a == "--threads") {
      std::string v;
      if (!value(&v) || !absl::SimpleAtoi(v, &threads_flag) || threads_flag < 1 ||
          threads_flag > 1024) {
        return Usage("--threads needs a number in [1, 1024]");
      }
    } else {
      return Usage(absl::StrCat("unknown option ", a));
    }
  }
  if (!options.include_weights.empty() && !options.exclude_weights.empty()) {
    return Usage("--include-weights and --exclude-weights cannot be used together");
  }
  if (positional.size() < 2) return Usage("bad arguments: IN and TYPE are required");

  // IN [OUT] TYPE [THREADS], resolved as llama-quantize does: when the
  // second positional is a TYPE there is no OUT.
  const std::string in_path = positional[0];
  std::string out_path;
  size_t k = 1;
  absl::StatusOr<q::FtypeInfo> ftype = q::ParseFtype(positional[k]);
  if (ftype.ok()) {
    const size_t slash = in_path.find_last_of('/');
    out_path = (slash == std::string::npos ? "" : in_path.substr(0, slash + 1)) + "ggml-model-" +
               std::string(ftype->name) + (options.keep_split ? "" : ".gguf");
    ++k;
  } else {
    out_path = positional[k++];
    if (k >= positional.size()) {
      std::fprintf(stderr, "gguf-quantize: missing ftype\n");
      return 1;
    }
    ftype = q::ParseFtype(positional[k]);
    if (!ftype.ok()) {
      std::fprintf(stderr, "gguf-quantize: invalid ftype '%s'\n", positional[k].c_str());
      return 1;
    }
    ++k;
  }
  options.ftype = *ftype;
  if (k < positional.size()) {
    int n = 0;
    if (!absl::SimpleAtoi(positional[k], &n)) {
      std::fprintf(stderr, "gguf-quantize: invalid nthread '%s'\n", positional[k].c_str());
      return 1;
    }
    options.threads = n;
    ++k;
  }
  if (k < positional.size())
    return Usage(absl::StrCat("unexpected argument '", positional[k], "'"));
  if (threads_flag > 0) options.threads = threads_flag;

  if (dry_run || json) {
    auto plan = q::PlanModelFile(in_path, options);
    if (!plan.ok()) {
      std::fprintf(stderr, "gguf-quantize: %s\n", std::string(plan.status().message()).c_str());
      return 1;
    }
    PrintDryRun(*plan, in_path, options.ftype.name, json);
    return 0;
  }

  const bool show = ggufkit::cli::ProgressLine::Wanted(quiet);
  ggufkit::cli::ProgressLine line;
  std::function<void(const q::QuantizeProgress&)> progress;
  if (show) {
    progress = [&](const q::QuantizeProgress& p) {
      line.Update(p.tensor_index, p.tensor_count, p.tensor_name, p.bytes_done, p.bytes_total);
    };
  }
  auto stats = q::QuantizeModelFile(in_path, out_path, options, progress);
  if (!stats.ok()) {
    std::fprintf(stderr, "%sgguf-quantize: %s\n", show ? "\n" : "",
                 std::string(stats.status().message()).c_str());
    return 1;
  }
  if (!quiet) {
    for (const std::string& w : stats->warnings) std::fprintf(stderr, "warning: %s\n", w.c_str());
    std::fprintf(stderr, "wrote %zu tensors (%zu quantized, %zu copied), %.2f MB to %s\n",
                 stats->tensors_written, stats->tensors_converted, stats->tensors_copied,
                 static_cast<double>(stats->output_bytes) / 1e6, out_path.c_str());
  }
  return 0;
}
