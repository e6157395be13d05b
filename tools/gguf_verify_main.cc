// gguf-verify: is a GGUF file (or a whole split set) intact and loadable by
// llama.cpp? Checks structure, layout, split-set consistency and the metadata
// llama.cpp relies on, decodes every block, and prints llama.cpp gguf-hash
// listings (--hash) or checks against one (--check). See docs/verify.md.
#include <cstdio>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ggufkit/cli/cli_args.h"
#include "ggufkit/cli/progress.h"
#include "ggufkit/verify/verify.h"

namespace {

using ggufkit::verify::HashKind;

constexpr char kSummary[] =
    "Verifies GGUF files: every check of the reader, the layout llama.cpp's loader expects\n"
    "(offsets, padding, file length), split-set consistency (any shard names the whole set),\n"
    "general.architecture and the tokenizer arrays, and every block decoded (non-finite\n"
    "scales and values, all-zero tensors). Prints one line per problem (file, tensor, offset)\n"
    "and exits 0 when clean, 1 when problems were found, 2 on a usage error.\n"
    "--hash prints per-tensor and whole-file hashes in llama.cpp gguf-hash's format.";

// Flags that take a value (to tell their values from FILE arguments).
bool TakesValue(const std::string& flag) {
  return flag == "--hash" || flag == "--check" || flag == "--threads";
}

}  // namespace

int main(int argc, char** argv) {
  ggufkit::verify::VerifyOptions options;
  bool json = false, quiet = false, no_layer = false, verbose = false, no_decode = false;
  bool xxh64 = false, sha1 = false, sha256 = false, uuid = false, all = false;
  int64_t threads = 0;
  std::string first_file;
  ggufkit::cli::ArgParser args("gguf-verify", kSummary);
  args.AddCustom("hash", "LIST",
                 "hashes to print, comma-separated: xxh64, sha1, sha256, uuid (gguf-hash's format)",
                 [&](absl::string_view v) -> absl::Status {
                   for (absl::string_view name : absl::StrSplit(v, ',', absl::SkipEmpty())) {
                     absl::StatusOr<HashKind> k = ggufkit::verify::ParseHashKind(name);
                     if (!k.ok()) return k.status();
                     options.hashes.push_back(*k);
                   }
                   return absl::OkStatus();
                 });
  args.AddBool("xxh64", "same as --hash xxh64 (gguf-hash's spelling)", &xxh64);
  args.AddBool("sha1", "same as --hash sha1", &sha1);
  args.AddBool("sha256", "same as --hash sha256", &sha256);
  args.AddBool("uuid", "same as --hash uuid (UUIDv5 of all tensor data)", &uuid);
  args.AddBool("all", "xxh64, sha1 and sha256", &all);
  args.AddBool("no-layer", "with --hash: only the whole-file lines, no per-tensor lines",
               &no_layer);
  args.AddString("check", "FILE",
                 "check the hashes against a gguf-hash listing (default hash: the listing's "
                 "most secure type)",
                 &options.check_file);
  args.AddInt("threads", "N", "decoding threads (default: all cores)", &threads, 1, 1024);
  args.AddBool("no-decode", "skip decoding the values (structure, scales and hashes only)",
               &no_decode);
  args.AddBool("json", "print one JSON object instead of text", &json);
  args.AddBool("verbose", "a line per tensor (type, offset, counts)", &verbose);
  args.AddBool("quiet", "no progress line (it is only shown when stderr is a terminal)", &quiet);
  args.AddPositional("FILE...", "GGUF files (.gguf, .gguf.zst, any shard of a split set)",
                     &first_file);
  // FILE... is variadic: hand the parser the flags and the first file only.
  std::vector<std::string> flag_args, files;
  bool flags_done = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (!flags_done && a == "--") {
      flags_done = true;
      continue;
    }
    if (!flags_done && a.size() > 1 && a[0] == '-') {
      flag_args.push_back(a);
      if (TakesValue(a) && i + 1 < argc) flag_args.push_back(argv[++i]);
      continue;
    }
    files.push_back(a);
  }
  if (!files.empty()) {
    flag_args.push_back("--");
    flag_args.push_back(files[0]);
  }
  const absl::Status parsed = args.Parse(flag_args);
  if (args.help_requested()) {
    std::fputs(args.Usage().c_str(), stdout);
    return 0;
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "gguf-verify: %s\n%s", std::string(parsed.message()).c_str(),
                 args.Usage().c_str());
    return 2;
  }
  if (xxh64 || all) options.hashes.push_back(HashKind::kXxh64);
  if (sha1 || all) options.hashes.push_back(HashKind::kSha1);
  if (sha256 || all) options.hashes.push_back(HashKind::kSha256);
  if (uuid) options.hashes.push_back(HashKind::kUuid);
  options.threads = static_cast<int>(threads);
  options.decode = !no_decode;

  ggufkit::cli::ProgressLine line;
  if (ggufkit::cli::ProgressLine::Wanted(quiet || json)) {
    options.progress = [&](const ggufkit::verify::VerifyProgress& p) {
      line.Update(p.tensor_index, p.tensor_count, p.tensor, p.bytes_done, p.bytes_total);
    };
  }
  bool all_ok = true;
  absl::flat_hash_set<std::string> seen;
  std::vector<std::string> json_reports;
  for (const std::string& file : files) {
    if (seen.contains(file)) continue;  // a shard of a set already verified
    absl::StatusOr<ggufkit::verify::VerifyReport> report =
        ggufkit::verify::VerifyFile(file, options);
    if (!report.ok()) {
      std::fprintf(stderr, "gguf-verify: %s\n", std::string(report.status().message()).c_str());
      return 2;
    }
    for (const std::string& f : report->files) seen.insert(f);
    all_ok &= report->ok();
    if (json) {
      json_reports.push_back(ggufkit::verify::ReportJson(*report));
      continue;
    }
    std::string out;
    for (const ggufkit::verify::HashLine& h : report->hash_lines) {
      const bool tensor_line = h.name.size() > file.size() &&
                               h.name.rfind(':') != std::string::npos &&
                               h.name.rfind(':') > h.name.rfind(".gguf");
      if (no_layer && tensor_line) continue;
      absl::StrAppend(&out, h.Format(), "\n");
    }
    if (verbose) {
      for (const ggufkit::verify::TensorCheck& t : report->tensors) {
        absl::StrAppend(&out, "tensor ", t.file, ":", t.name, " ", t.type, " at ", t.offset, ", ",
                        t.bytes, " bytes", t.decoded ? "" : " (not decoded)",
                        ": non-finite scales ", t.nonfinite_scales, ", NaN ", t.nan_values,
                        ", inf ", t.inf_values, t.all_zero ? ", all zero" : "", "\n");
      }
    }
    for (const std::string& n : report->notes) absl::StrAppend(&out, "note: ", n, "\n");
    for (const ggufkit::verify::Problem& p : report->problems) absl::StrAppend(&out, p.line, "\n");
    const std::string what =
        report->files.size() > 1
            ? absl::StrCat(file, " (split set of ", report->files.size(), " files)")
            : file;
    if (report->ok()) {
      absl::StrAppend(&out, "gguf-verify: ", what, ": OK (", report->tensors.size(), " tensors, ",
                      report->data_bytes, " bytes of tensor data checked)\n");
    } else {
      absl::StrAppend(&out, "gguf-verify: ", what, ": ", report->problems.size(),
                      report->problems.size() == 1 ? " problem" : " problems", "\n");
    }
    std::fputs(out.c_str(), stdout);
  }
  if (json) {
    std::string out = absl::StrCat("{\"ok\":", all_ok ? "true" : "false", ",\"reports\":[");
    for (size_t i = 0; i < json_reports.size(); ++i) {
      if (i > 0) out += ",";
      out += json_reports[i];
    }
    out += "]}\n";
    std::fputs(out.c_str(), stdout);
  }
  return all_ok ? 0 : 1;
}
