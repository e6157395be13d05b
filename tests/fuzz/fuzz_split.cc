// Fuzz target: the split-model loader.
//
// The input is cut at each "--SHARD--" marker into up to 4 shard files. They
// are parsed from memory and joined with GgufModel::FromShards, and also
// written as "<dir>/m-0000i-of-0000n.gguf" and opened with GgufModel::Open
// from the first one, which finds the others by name (missing, misnumbered
// or mismatched shards must be clean errors). A model that opens must find
// every tensor by name and read every tensor's data from its shard.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "ggufkit/gguf/byte_source.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/split.h"
#include "tests/fuzz/fuzz_common.h"

namespace ggufkit {
namespace {

constexpr char kMarker[] = "--SHARD--";
constexpr size_t kMarkerLength = sizeof(kMarker) - 1;
constexpr size_t kMaxShards = 4;

std::vector<absl::Span<const uint8_t>> CutShards(const uint8_t* data, size_t size) {
  std::vector<absl::Span<const uint8_t>> shards;
  size_t start = 0;
  for (size_t i = 0; i + kMarkerLength <= size && shards.size() + 1 < kMaxShards; ++i) {
    if (std::memcmp(data + i, kMarker, kMarkerLength) == 0) {
      shards.emplace_back(data + start, i - start);
      start = i + kMarkerLength;
      i = start - 1;
    }
  }
  shards.emplace_back(data + start, size - start);
  return shards;
}

void Walk(GgufModel& model) {
  std::vector<uint8_t> buffer(4096);
  (void)model.metadata().size();
  for (const TensorInfo& t : model.tensors()) {
    FUZZ_CHECK(model.FindTensor(t.name) != nullptr, "tensor '%s' not found", t.name.c_str());
    FUZZ_CHECK(t.shard < model.shard_count(), "tensor '%s' in shard %u of %zu", t.name.c_str(),
               t.shard, model.shard_count());
    for (uint64_t done = 0; done < t.size_bytes;) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), t.size_bytes - done));
      absl::Status s = model.ReadTensorBytes(t, done, buffer.data(), n);
      FUZZ_CHECK(s.ok(), "read of tensor '%s' failed: %s", t.name.c_str(),
                 std::string(s.message()).c_str());
      done += n;
    }
  }
}

const std::string& TempDir() {
  static const std::string* dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/ggufkit_fuzz_split.XXXXXX";
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (mkdtemp(buf.data()) == nullptr) std::abort();
    return new std::string(buf.data());
  }();
  return *dir;
}

void FromMemory(const std::vector<absl::Span<const uint8_t>>& pieces) {
  std::vector<std::unique_ptr<GgufReader>> readers;
  for (size_t i = 0; i < pieces.size(); ++i) {
    auto r = GgufReader::Open(MakeMemoryViewSource(
        SplitShardPath("m", static_cast<uint32_t>(i), static_cast<uint32_t>(pieces.size())),
        pieces[i]));
    if (!r.ok()) return;
    readers.push_back(std::move(*r));
  }
  auto model = GgufModel::FromShards(std::move(readers));
  if (model.ok()) Walk(**model);
}

void FromFiles(const std::vector<absl::Span<const uint8_t>>& pieces) {
  const uint32_t n = static_cast<uint32_t>(pieces.size());
  std::vector<std::string> paths;
  for (uint32_t i = 0; i < n; ++i) {
    paths.push_back(SplitShardPath(TempDir() + "/m", i, n));
    FILE* f = std::fopen(paths.back().c_str(), "wb");
    if (f == nullptr) std::abort();
    if (!pieces[i].empty()) std::fwrite(pieces[i].data(), 1, pieces[i].size(), f);
    std::fclose(f);
  }
  auto model = GgufModel::Open(paths[0]);
  if (model.ok()) Walk(**model);
  // Also as a plain (non-shard) name: split.count > 1 must then be refused
  // cleanly, since the other shards cannot be found.
  const std::string plain = TempDir() + "/plain.gguf";
  if (std::rename(paths[0].c_str(), plain.c_str()) == 0) {
    auto single = GgufModel::Open(plain);
    if (single.ok()) Walk(**single);
    ::unlink(plain.c_str());
  }
  for (const std::string& p : paths) ::unlink(p.c_str());
}

}  // namespace
}  // namespace ggufkit

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto pieces = ggufkit::CutShards(data, size);
  ggufkit::FromMemory(pieces);
  ggufkit::FromFiles(pieces);
  return 0;
}
