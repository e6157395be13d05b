// Fuzz target: whole-model dequantization (what gguf-dequant runs) on
// arbitrary input files.
//
// The input is written as a GGUF file and converted with
// stream::DequantizeModelFile to GGUF or safetensors, f32 / f16 / bf16 (picked
// from the last byte), one worker thread, page-cache output. Any input must
// give either a complete output or an error with no output file left behind
// (temporary files included): the folder must be empty after a failure.
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_common.h"
#include "ggufkit/stream/dequant_model.h"

namespace ggufkit {
namespace {

const std::string& WorkDir() {
  static const std::string* dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp && *tmp ? tmp : "/tmp") + "/ggufkit_fuzz_dequant_model.XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) std::abort();
    return new std::string(buf.data());
  }();
  return *dir;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name != "." && name != "..") names.push_back(name);
    }
    closedir(d);
  }
  return names;
}

}  // namespace
}  // namespace ggufkit

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ggufkit;
  if (size == 0) return 0;
  const uint8_t choice = data[size - 1];
  const std::string in_dir = WorkDir() + "/in";
  const std::string out_dir = WorkDir() + "/out";
  static const bool made = [&] {
    return mkdir(in_dir.c_str(), 0700) == 0 && mkdir(out_dir.c_str(), 0700) == 0;
  }();
  if (!made) std::abort();
  const std::string in_path = in_dir + "/model.gguf";
  FILE* f = std::fopen(in_path.c_str(), "wb");
  if (f == nullptr) std::abort();
  std::fwrite(data, 1, size - 1, f);
  std::fclose(f);

  stream::DequantModelOptions options;
  options.to = static_cast<OutputType>(choice % 3);
  options.format = (choice & 4) ? stream::OutputFormat::kSafetensors : stream::OutputFormat::kGguf;
  options.threads = 1;
  options.chunk_bytes = (choice & 8) ? 4096 : (size_t{1} << 20);
  options.direct_io = false;
  const std::string out_path = out_dir + "/out";
  auto stats = stream::DequantizeModelFile(in_path, out_path, options);
  const std::vector<std::string> left = Entries(out_dir);
  if (stats.ok()) {
    FUZZ_CHECK(left.size() == 1 && left[0] == "out", "success left %zu entries", left.size());
  } else {
    FUZZ_CHECK(left.empty(), "failure (%s) left '%s' behind",
               std::string(stats.status().message()).c_str(), left[0].c_str());
  }
  ::unlink(out_path.c_str());
  return 0;
}
