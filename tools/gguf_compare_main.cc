// gguf-compare A B: how far apart are two models (GGUF or safetensors),
// tensor by tensor: max|a-b|, RMSE, NMSE, cosine, SNR, identical share, with
// totals per type and for the model, and the metadata differences. See
// docs/verify.md.
#include <cstdio>
#include <string>

#include "absl/strings/str_cat.h"
#include "ggufkit/cli/cli_args.h"
#include "ggufkit/cli/progress.h"
#include "ggufkit/verify/compare.h"

namespace {

constexpr char kSummary[] =
    "Compares two models tensor by tensor. A and B are GGUF files (any tensor types, any shard\n"
    "of a split model) or safetensors files. Tensors are paired by name (--map renames A's\n"
    "names), shapes checked, and each pair dequantized to f32 in chunks: max|a-b|, RMSE,\n"
    "NMSE = mse(a,b)/mse(a,0), cosine similarity, SNR in dB and the share of bit-identical\n"
    "values, per tensor, per type and for the model. Also lists tensors and metadata keys\n"
    "present in only one file and metadata values that differ. Exit 0: compared; 1: an\n"
    "unreadable file or tensor pairs that could not be compared; 2: usage.";

}  // namespace

int main(int argc, char** argv) {
  ggufkit::verify::CompareOptions options;
  std::string a, b;
  bool json = false, quiet = false;
  int64_t threads = 0;
  ggufkit::cli::ArgParser args("gguf-compare", kSummary);
  args.AddString("tensors", "REGEX",
                 "only tensors whose name matches (ECMAScript, searched anywhere; ^...$ anchors)",
                 &options.tensor_regex);
  args.AddString("map", "FILE", "renames: lines 'NAME_IN_A NAME_IN_B' ('#' comments)",
                 &options.map_file);
  args.AddInt("threads", "N", "tensor pairs compared at once (default: all cores)", &threads, 1,
              1024);
  args.AddBool("json", "print one JSON object instead of text", &json);
  args.AddBool("quiet", "no progress line (it is only shown when stderr is a terminal)", &quiet);
  args.AddPositional("A", "the reference model (.gguf or .safetensors)", &a);
  args.AddPositional("B", "the model compared with it", &b);
  const absl::Status parsed = args.Parse(argc, argv);
  if (args.help_requested()) {
    std::fputs(args.Usage().c_str(), stdout);
    return 0;
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "gguf-compare: %s\n%s", std::string(parsed.message()).c_str(),
                 args.Usage().c_str());
    return 2;
  }
  options.threads = static_cast<int>(threads);
  ggufkit::cli::ProgressLine line;
  if (ggufkit::cli::ProgressLine::Wanted(quiet || json)) {
    // Sizes shown are the f32 values of A compared.
    options.progress = [&](const ggufkit::verify::CompareProgress& p) {
      line.Update(p.pairs_done - 1, p.pairs_total, p.tensor, p.elements_done * 4,
                  p.elements_total * 4);
    };
  }
  absl::StatusOr<ggufkit::verify::CompareReport> report =
      ggufkit::verify::CompareModels(a, b, options);
  if (!report.ok()) {
    std::fprintf(stderr, "gguf-compare: %s\n", std::string(report.status().message()).c_str());
    return 1;
  }
  const std::string out =
      json ? ggufkit::verify::CompareJson(*report) + "\n" : ggufkit::verify::CompareText(*report);
  std::fputs(out.c_str(), stdout);
  return report->failed_pairs() == 0 ? 0 : 1;
}
