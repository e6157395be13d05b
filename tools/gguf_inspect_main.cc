// gguf-inspect FILE [--json] [--full] [--mmap]
//
// Prints a GGUF file's (or split model's) version, endianness, alignment,
// all metadata (arrays longer than 8 elements summarized unless --full), the
// tensor table (name, type, shape, offset, bytes) and totals by type, with a
// warning line for what ggml would refuse (missing final padding). Reads
// only the header: tensor data is never loaded. Bad input or bad flags give
// one line on stderr and a non-zero exit (1: the file, 2: the command line).
#include <cstdio>
#include <memory>
#include <string>

#include "ggufkit/cli/cli_args.h"
#include "ggufkit/gguf/describe.h"
#include "ggufkit/gguf/split.h"

namespace ggufkit {
namespace {

int Main(int argc, char** argv) {
  cli::ArgParser args("gguf-inspect",
                      "Show a GGUF file's header, metadata, tensor table and totals by type.\n"
                      "Split models (name-00001-of-00003.gguf) are shown as one model.");
  std::string path;
  bool json = false, full = false, use_mmap = false;
  args.AddBool("json", "print JSON instead of text", &json);
  args.AddBool("full", "print every array element (default: the first 8)", &full);
  args.AddBool("mmap", "read through mmap instead of pread", &use_mmap);
  args.AddPositional("FILE", "a .gguf file or any shard of a split model", &path);
  absl::Status parsed = args.Parse(argc, argv);
  if (args.help_requested()) {
    std::fputs(args.Usage().c_str(), stdout);
    return 0;
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "gguf-inspect: %s\n", std::string(parsed.message()).c_str());
    return 2;
  }
  ReaderOptions options;
  options.source_kind = use_mmap ? SourceKind::kMmap : SourceKind::kPread;
  absl::StatusOr<std::unique_ptr<GgufModel>> model = GgufModel::Open(path, options);
  if (!model.ok()) {
    std::fprintf(stderr, "gguf-inspect: %s\n", std::string(model.status().message()).c_str());
    return 1;
  }
  const std::string text = json ? DescribeModelJson(**model, full) : DescribeModelText(**model, full);
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    std::fprintf(stderr, "gguf-inspect: cannot write the output\n");
    return 1;
  }
  return 0;
}

}  // namespace
}  // namespace ggufkit

int main(int argc, char** argv) { return ggufkit::Main(argc, argv); }
