// gguf-verify as a library: is a GGUF file (or a whole split set) intact and
// loadable by llama.cpp?
//
//   verify::VerifyOptions options;
//   options.hashes = {verify::HashKind::kSha256};
//   absl::StatusOr<verify::VerifyReport> r = verify::VerifyFile("model-00001-of-00003.gguf",
//   options);
//   // r->problems empty: clean. r->hash_lines: gguf-hash's listing.
//
// What is checked, per file (each shard of a split set separately):
//   - everything GgufReader::Open checks (specs/gguf-container.md's bad-input
//     checklist); a file the reader refuses gives one problem, its message;
//   - the layout ggml's gguf_init_from_file requires: tensor offsets equal to
//     the running sum of the padded tensor sizes in tensor-info order, and a
//     file long enough for the whole padded data section (ggml reads it as
//     one blob); trailing bytes after it and non-zero padding are notes;
//   - every block decoded: per tensor the count of non-finite fp16/f32 scale
//     fields, of NaN and of infinite values, and whether it is all zeros;
// per model (the first shard's metadata):
//   - general.architecture present and a string (llama.cpp picks the model
//     code from it); tokenizer.ggml.tokens a string array and
//     tokenizer.ggml.scores (f32) / tokenizer.ggml.token_type (i32) at least
//     as long (llama.cpp reads them as raw arrays of that type and length);
// per split set:
//   - every shard present and parseable, named <prefix>-NNNNN-of-NNNNN.gguf
//     consistently with its split.no / split.count, one split.count, no shard
//     file of the same prefix outside the set, split.tensors.count equal to the
//     tensors of all shards, no tensor in two shards.
// Memory: a ring of (threads + 2) chunks of at most 4 MiB (capped at 64 MiB
// in all) plus per-thread decode scratch and the headers; nothing grows with
// the tensor data.
#ifndef GGUFKIT_VERIFY_VERIFY_H_
#define GGUFKIT_VERIFY_VERIFY_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ggufkit::verify {

// gguf-hash's hash types, in the order gguf-hash prints them.
enum class HashKind { kXxh64, kSha1, kSha256, kUuid };
// "xxh64", "sha1", "sha256", "uuid".
absl::string_view HashKindName(HashKind kind);
absl::StatusOr<HashKind> ParseHashKind(absl::string_view name);

struct Problem {
  std::string file;
  std::string tensor;              // empty when the problem is not a tensor's
  std::optional<uint64_t> offset;  // byte offset in `file`, when one applies
  std::string message;
  // The whole line as printed: "FILE: tensor 'T': offset N: message", or the
  // reader's own message (it names the file and offset already).
  std::string line;
};

struct TensorCheck {
  std::string file;  // its shard
  std::string name;
  std::string type;     // ggml type name
  uint64_t offset = 0;  // absolute, in `file`
  uint64_t bytes = 0;
  int64_t elements = 0;
  bool decoded = false;  // values were decoded (else only scales / bytes)
  uint64_t nonfinite_scales = 0;
  uint64_t nan_values = 0;
  uint64_t inf_values = 0;
  bool all_zero = false;
  std::vector<std::pair<HashKind, std::string>> hashes;  // hex
};

// One line of gguf-hash's listing: "%-8s  %s  %s" with kind, hex and name
// (FILE:TENSOR for a tensor, FILE for a whole file).
struct HashLine {
  HashKind kind;
  std::string hex;
  std::string name;
  // --check only: "Ok", "Mismatch" or "Not Found".
  std::string check;
  std::string Format() const;
};

struct VerifyProgress {
  size_t tensor_index = 0;  // of the chunk just checked, among tensor_count
  size_t tensor_count = 0;
  std::string tensor;
  uint64_t bytes_done = 0;  // tensor data, all files
  uint64_t bytes_total = 0;
};

struct VerifyOptions {
  int threads = 0;  // 0: all cores
  // Hashes of every tensor's data and of each file's tensors together.
  std::vector<HashKind> hashes;
  // A gguf-hash listing to check the hashes against (see ReadHashListing).
  std::string check_file;
  // Decode every block (false: structure, scales, hashes only).
  bool decode = true;
  std::function<void(const VerifyProgress&)> progress;
};

struct VerifyReport {
  std::vector<std::string> files;  // every file looked at, shard order
  std::vector<Problem> problems;
  std::vector<std::string> notes;  // findings llama.cpp tolerates
  std::vector<TensorCheck> tensors;
  std::vector<HashLine> hash_lines;  // gguf-hash's order
  uint64_t data_bytes = 0;           // tensor bytes read
  bool ok() const { return problems.empty(); }
};

// Verifies `path` (a GGUF file, .gguf.zst, or any shard of a split set: the
// whole set is verified). Problems in the file are in the report; the status
// is an error only for things that are not the file's fault (a --check file
// that cannot be read or holds no known hash type).
absl::StatusOr<VerifyReport> VerifyFile(const std::string& path, const VerifyOptions& options);

// A gguf-hash listing: "TYPE  HEX  NAME" lines (whitespace-separated; other
// lines are ignored).
struct HashListing {
  struct Entry {
    std::string kind;
    std::string hex;
    std::string name;
  };
  std::vector<Entry> entries;
  // Hash types present, most secure first (sha256, sha1, xxh64, xxh3, uuid).
  std::vector<std::string> kinds;
};
absl::StatusOr<HashListing> ReadHashListing(const std::string& path);

// The report as JSON (one object).
std::string ReportJson(const VerifyReport& report);

}  // namespace ggufkit::verify

#endif  // GGUFKIT_VERIFY_VERIFY_H_
