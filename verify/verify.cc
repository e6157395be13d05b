#include "ggufkit/verify/verify.h"

#include <dirent.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/gguf/zstd_source.h"
#include "ggufkit/quants/half_fields.h"
#include "ggufkit/quants/type_traits.h"
#include "ggufkit/stream/dense_convert.h"
#include "ggufkit/verify/hash.h"
#include "ggufkit/verify/json_out.h"

namespace ggufkit::verify {
namespace {

constexpr size_t kMaxChunkBytes = size_t{4} << 20;
constexpr size_t kMaxRingBytes = size_t{64} << 20;
constexpr int64_t kDecodeElements = 64 * 1024;  // f32 scratch per worker: 256 KiB

uint64_t PadTo(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

Problem MakeProblem(const std::string& file, const std::string& tensor,
                    std::optional<uint64_t> offset, const std::string& message) {
  Problem p{file, tensor, offset, message, ""};
  p.line = file;
  if (!tensor.empty()) absl::StrAppend(&p.line, ": tensor '", tensor, "'");
  if (offset) absl::StrAppend(&p.line, ": offset ", *offset);
  absl::StrAppend(&p.line, ": ", message);
  return p;
}

// A problem whose message comes from the reader (it names file and offset).
Problem FromStatus(const std::string& file, const absl::Status& s) {
  Problem p{file, "", std::nullopt, std::string(s.message()), std::string(s.message())};
  if (!absl::StrContains(p.line, file)) p.line = absl::StrCat(file, ": ", p.line);
  return p;
}

bool FileExists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

std::string DirName(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? "." : (slash == 0 ? "/" : path.substr(0, slash));
}

// ---------------------------------------------------------------------------
// Split sets
// ---------------------------------------------------------------------------

struct Shard {
  std::string path;
  std::unique_ptr<GgufReader> reader;  // null when it could not be opened
};

class Checker {
 public:
  explicit Checker(const VerifyOptions& options) : options_(options) {}
  absl::StatusOr<VerifyReport> Run(const std::string& path);

 private:
  void Add(Problem p) { report_.problems.push_back(std::move(p)); }
  void Note(std::string n) { report_.notes.push_back(std::move(n)); }
  void OpenSet(const std::string& path);
  void CheckSetConsistency();
  void CheckLayout(GgufReader& r);
  void CheckMetadata(const GgufReader& r);
  void CheckData();
  absl::Status ApplyCheckFile();

  const VerifyOptions& options_;
  VerifyReport report_;
  std::vector<Shard> shards_;
  bool is_set_ = false;
  // Shards [0, set_size_) are the set's members by name; a given file whose
  // name disagrees with its keys follows them and is checked on its own.
  size_t set_size_ = 0;
};

absl::StatusOr<int64_t> SplitInteger(const GgufReader& r, absl::string_view key) {
  const MetadataValue* v = r.metadata().Find(key);
  if (v == nullptr) {
    return absl::NotFoundError(absl::StrCat(key, " is missing"));
  }
  absl::StatusOr<int64_t> i = r.metadata().GetInteger(key);
  if (!i.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        key, " is ", GgufValueTypeName(v->type()), ", expected an integer (llama.cpp writes ",
        key == kSplitTensorsCountKey ? "i32" : "u16", ")"));
  }
  return *i;
}

void Checker::OpenSet(const std::string& path) {
  absl::StatusOr<std::unique_ptr<GgufReader>> first = GgufReader::Open(path);
  const absl::string_view zst_suffix = HasZstdSuffix(path) ? ".zst" : "";
  const std::string stem = path.substr(0, path.size() - zst_suffix.size());
  std::string prefix;
  uint32_t name_index = 0, name_count = 0;
  const bool name_ok = ParseSplitShardPath(stem, &prefix, &name_index, &name_count);
  if (!first.ok()) {
    Add(FromStatus(path, first.status()));
    if (!name_ok || name_count < 2) {
      shards_.push_back({path, nullptr});
      return;
    }
  }
  const bool has_split_keys = first.ok() && (*first)->metadata().Contains(kSplitCountKey);
  if (first.ok() && !has_split_keys) {
    if (name_ok && name_count > 1) {
      Note(absl::StrCat(path, ": named like shard ", name_index + 1, " of ", name_count,
                        " of a split set but has no split.count: verified as a single file"));
    }
    shards_.push_back({path, std::move(*first)});
    return;
  }
  is_set_ = true;
  int64_t count = -1, no = -1;
  if (first.ok()) {
    const GgufReader& r = **first;
    absl::StatusOr<int64_t> c = SplitInteger(r, kSplitCountKey);
    if (!c.ok()) {
      Add(MakeProblem(path, "", std::nullopt, std::string(c.status().message())));
    } else if (*c < 1 || *c > 65535) {
      Add(MakeProblem(path, "", std::nullopt,
                      absl::StrCat("split.count ", *c, " is outside 1..65535")));
    } else {
      count = *c;
    }
    absl::StatusOr<int64_t> n = SplitInteger(r, kSplitNoKey);
    if (!n.ok()) {
      Add(MakeProblem(path, "", std::nullopt, std::string(n.status().message())));
    } else if (count > 0 && (*n < 0 || *n >= count)) {
      Add(MakeProblem(path, "", std::nullopt,
                      absl::StrCat("split.no ", *n, " is outside 0..", count - 1)));
    } else {
      no = *n;
    }
  }
  if (!name_ok) {
    if (count > 1 || count < 0) {
      Add(MakeProblem(path, "", std::nullopt,
                      absl::StrCat("split.count is ",
                                   count < 0 ? std::string("unreadable") : absl::StrCat(count),
                                   " but the file name does not follow "
                                   "<name>-NNNNN-of-NNNNN.gguf, so the other shards cannot be "
                                   "found")));
    }
    is_set_ = false;
    shards_.push_back({path, std::move(*first)});
    return;
  }
  if (count > 0 && no >= 0 &&
      (name_count != static_cast<uint64_t>(count) || name_index != static_cast<uint64_t>(no))) {
    Add(MakeProblem(path, "", std::nullopt,
                    absl::StrCat("file name says shard ", name_index + 1, " of ", name_count,
                                 " but split.no/split.count say shard ", no + 1, " of ", count)));
  }
  const uint32_t n_shards = count > 0 ? static_cast<uint32_t>(count) : name_count;
  for (uint32_t i = 0; i < n_shards; ++i) {
    std::string shard_path = absl::StrCat(SplitShardPath(prefix, i, n_shards), zst_suffix);
    if (shard_path == path) {
      shards_.push_back({path, first.ok() ? std::move(*first) : nullptr});
      continue;
    }
    if (!FileExists(shard_path)) {
      Add(MakeProblem(
          shard_path, "", std::nullopt,
          absl::StrCat("shard ", i + 1, " of ", n_shards, " of split set ", path, " is missing")));
      shards_.push_back({shard_path, nullptr});
      continue;
    }
    absl::StatusOr<std::unique_ptr<GgufReader>> r = GgufReader::Open(shard_path);
    if (!r.ok()) {
      Add(FromStatus(shard_path, r.status()));
      shards_.push_back({shard_path, nullptr});
      continue;
    }
    shards_.push_back({shard_path, std::move(*r)});
  }
  set_size_ = shards_.size();
  if (first.ok() && *first) {
    // The given file is not one of the set's names (its name disagrees with
    // its keys): verify it too.
    shards_.push_back({path, std::move(*first)});
  }
  // Extra shards: files beside the set with its prefix and a shard tag that
  // is not one of the set's names.
  const std::string dir = DirName(prefix);
  absl::flat_hash_set<std::string> members;
  for (const Shard& s : shards_) members.insert(s.path);
  if (DIR* d = opendir(dir.c_str())) {
    std::vector<std::string> extra;
    while (dirent* e = readdir(d)) {
      const std::string full = dir == "." && !absl::StartsWith(prefix, "./")
                                   ? std::string(e->d_name)
                                   : absl::StrCat(dir, "/", e->d_name);
      if (!absl::EndsWith(full, zst_suffix)) continue;
      std::string other_prefix;
      uint32_t oi = 0, oc = 0;
      const absl::string_view other_stem =
          absl::string_view(full).substr(0, full.size() - zst_suffix.size());
      if (!ParseSplitShardPath(other_stem, &other_prefix, &oi, &oc)) continue;
      if (other_prefix != prefix || members.contains(full)) continue;
      extra.push_back(full);
    }
    closedir(d);
    std::sort(extra.begin(), extra.end());
    for (const std::string& f : extra) {
      Add(MakeProblem(f, "", std::nullopt,
                      absl::StrCat("extra shard: it has the prefix of split set ", path,
                                   " but is not one of its ", n_shards, " shards")));
    }
  }
}

void Checker::CheckSetConsistency() {
  if (!is_set_) return;
  const size_t n = set_size_;
  int64_t declared_total = -1;
  uint64_t held = 0;
  bool all_open = true;
  absl::flat_hash_map<std::string, size_t> owner;
  for (size_t i = 0; i < n; ++i) {
    const Shard& s = shards_[i];
    if (!s.reader) {
      all_open = false;
      continue;
    }
    const GgufReader& r = *s.reader;
    absl::StatusOr<int64_t> c = SplitInteger(r, kSplitCountKey);
    absl::StatusOr<int64_t> no = SplitInteger(r, kSplitNoKey);
    if (i > 0) {  // the first shard's keys were reported by OpenSet
      if (!c.ok()) {
        Add(MakeProblem(s.path, "", std::nullopt, std::string(c.status().message())));
      } else if (*c != static_cast<int64_t>(n)) {
        Add(MakeProblem(s.path, "", std::nullopt,
                        absl::StrCat("split.count is ", *c, ", but the set has ", n, " shards")));
      }
      if (!no.ok()) {
        Add(MakeProblem(s.path, "", std::nullopt, std::string(no.status().message())));
      }
    }
    if (no.ok() && *no != static_cast<int64_t>(i) && i < n) {
      Add(MakeProblem(s.path, "", std::nullopt,
                      absl::StrCat("split.no is ", *no, ", expected ", i, " (this file is shard ",
                                   i + 1, " of the set)")));
    }
    if (r.metadata().Contains(kSplitTensorsCountKey)) {
      absl::StatusOr<int64_t> t = SplitInteger(r, kSplitTensorsCountKey);
      if (!t.ok()) {
        Add(MakeProblem(s.path, "", std::nullopt, std::string(t.status().message())));
      } else if (declared_total < 0) {
        declared_total = *t;
      } else if (*t != declared_total) {
        Add(MakeProblem(
            s.path, "", std::nullopt,
            absl::StrCat("split.tensors.count is ", *t, " but shard 1 says ", declared_total)));
      }
    } else if (i == 0) {
      Add(MakeProblem(s.path, "", std::nullopt, "split.tensors.count is missing"));
    }
    held += r.tensors().size();
    for (const TensorInfo& t : r.tensors()) {
      auto [it, inserted] = owner.emplace(t.name, i);
      if (!inserted) {
        Add(MakeProblem(
            s.path, t.name, t.info_offset,
            absl::StrCat("appears in shard ", it->second + 1, " ('", shards_[it->second].path,
                         "') and shard ", i + 1, " ('", s.path, "')")));
      }
    }
  }
  if (all_open && declared_total >= 0 && static_cast<uint64_t>(declared_total) != held) {
    Add(MakeProblem(shards_[0].path, "", std::nullopt,
                    absl::StrCat("split.tensors.count is ", declared_total, " but the ", n,
                                 " shards hold ", held, " tensors")));
  }
}

// ---------------------------------------------------------------------------
// Layout as ggml reads it
// ---------------------------------------------------------------------------

void Checker::CheckLayout(GgufReader& r) {
  const std::string& file = r.name();
  uint64_t expected = 0;
  bool reported = false;
  for (const TensorInfo& t : r.tensors()) {
    if (t.offset != expected && !reported) {
      Add(MakeProblem(
          file, t.name, t.absolute_offset,
          absl::StrCat("data offset ", t.offset, " in the data section, ggml expects ", expected,
                       " (the running sum of padded tensor sizes in tensor-info "
                       "order): llama.cpp's gguf_init_from_file refuses the file")));
      reported = true;
    }
    expected += PadTo(t.size_bytes, r.alignment());
  }
  // Where ggml reads the data section to: the reader's padded_data_end() (the
  // one definition, also behind gguf-inspect's missing-final-padding warning).
  const uint64_t end = r.tensors().empty() ? r.header_size() : r.padded_data_end();
  const std::optional<uint64_t> size = r.file_size();
  if (!size) return;
  if (*size < end && !r.tensors().empty()) {
    Add(MakeProblem(file, "", *size,
                    absl::StrCat("file ends at ", *size,
                                 " bytes but ggml reads the data section "
                                 "up to ",
                                 end, " (", r.tensors().size(), " tensors, each padded to ",
                                 r.alignment(), " bytes): truncated? gguf_init_from_file fails")));
  } else if (*size > end && !reported) {
    Note(absl::StrCat(file, ": ", *size - end, " bytes after the end of the data section (", end,
                      "); llama.cpp ignores them"));
  }
  // Padding between the tensor infos and the data section: ggml skips it;
  // writers put zeros there.
  if (!r.source().forward_only() && r.data_offset() > r.header_size() && r.data_offset() <= *size) {
    std::vector<uint8_t> pad(r.data_offset() - r.header_size());
    if (r.source().ReadAt(r.header_size(), pad.data(), pad.size()).ok() &&
        std::any_of(pad.begin(), pad.end(), [](uint8_t b) { return b != 0; })) {
      Note(absl::StrCat(file, ": offset ", r.header_size(),
                        ": padding before the data section is not all zeros"));
    }
  }
}

// ---------------------------------------------------------------------------
// Metadata llama.cpp relies on
// ---------------------------------------------------------------------------

void Checker::CheckMetadata(const GgufReader& r) {
  const std::string& file = r.name();
  const Metadata& md = r.metadata();
  const MetadataValue* arch = md.Find("general.architecture");
  if (arch == nullptr) {
    Add(MakeProblem(file, "", std::nullopt,
                    "general.architecture is missing (llama.cpp chooses the model code from it)"));
  } else if (arch->type() != GgufValueType::kString) {
    Add(MakeProblem(file, "", std::nullopt,
                    absl::StrCat("general.architecture is ", GgufValueTypeName(arch->type()),
                                 ", expected str")));
  } else if (arch->str().empty()) {
    Add(MakeProblem(file, "", std::nullopt, "general.architecture is an empty string"));
  }
  const MetadataValue* tokens = md.Find("tokenizer.ggml.tokens");
  uint64_t n_tokens = 0;
  if (tokens != nullptr) {
    if (!tokens->is_array() || tokens->element_type() != GgufValueType::kString) {
      Add(MakeProblem(file, "", std::nullopt, "tokenizer.ggml.tokens is not an array of strings"));
      tokens = nullptr;
    } else {
      n_tokens = tokens->size();
    }
  }
  struct ParallelArray {
    const char* key;
    GgufValueType element;
  };
  for (const ParallelArray& pa :
       {ParallelArray{"tokenizer.ggml.scores", GgufValueType::kF32},
        ParallelArray{"tokenizer.ggml.token_type", GgufValueType::kI32}}) {
    const MetadataValue* v = md.Find(pa.key);
    if (v == nullptr) continue;
    if (!v->is_array() || v->element_type() != pa.element) {
      Add(MakeProblem(
          file, "", std::nullopt,
          absl::StrCat(pa.key, " is ",
                       v->is_array()
                           ? absl::StrCat("an array of ", GgufValueTypeName(v->element_type()))
                           : std::string(GgufValueTypeName(v->type())),
                       ", llama.cpp reads it as an array of ", GgufValueTypeName(pa.element))));
      continue;
    }
    if (tokens == nullptr) {
      Add(MakeProblem(file, "", std::nullopt,
                      absl::StrCat(pa.key, " is present but tokenizer.ggml.tokens is not")));
    } else if (v->size() < n_tokens) {
      Add(MakeProblem(file, "", std::nullopt,
                      absl::StrCat(pa.key, " has ", v->size(), " entries for ", n_tokens,
                                   " tokens (llama.cpp reads one per token)")));
    } else if (v->size() > n_tokens) {
      Note(absl::StrCat(file, ": ", pa.key, " has ", v->size(), " entries for ", n_tokens,
                        " tokens; llama.cpp ignores the extra ones"));
    }
  }
  const MetadataValue* merges = md.Find("tokenizer.ggml.merges");
  if (merges != nullptr &&
      (!merges->is_array() || merges->element_type() != GgufValueType::kString)) {
    Add(MakeProblem(file, "", std::nullopt, "tokenizer.ggml.merges is not an array of strings"));
  }
}

// ---------------------------------------------------------------------------
// Tensor data: decode and hash
// ---------------------------------------------------------------------------

struct ChunkStats {
  // Byte offsets (within the chunk) of the first block with a non-finite
  // scale and of the first block holding a non-finite value; -1: none.
  int64_t first_bad_scale = -1;
  int64_t first_bad_value = -1;
  uint64_t nonfinite_scales = 0;
  uint64_t nan = 0;
  uint64_t inf = 0;
  bool nonzero = false;
  bool decoded = false;
};

struct Item {
  size_t tensor = 0;  // index into the flat tensor list
  uint64_t offset = 0;
  size_t bytes = 0;
  bool last = false;
};

struct FlatTensor {
  size_t shard = 0;
  const TensorInfo* info = nullptr;
  bool big_endian = false;
  bool forward_only = false;
};

inline bool HalfNonFinite(uint16_t h) { return (h & 0x7C00) == 0x7C00; }

uint16_t LoadU16(const uint8_t* p, bool big_endian) {
  return big_endian ? static_cast<uint16_t>((p[0] << 8) | p[1])
                    : static_cast<uint16_t>(p[0] | (p[1] << 8));
}

uint64_t CountNonFiniteScales(GgmlType type, const uint8_t* blocks, size_t bytes, bool big_endian,
                              int64_t* first_bad_block) {
  const TypeTraits& tt = GetTypeTraits(type);
  if (tt.kind != TypeKind::kQuantized) return 0;
  const size_t bsize = static_cast<size_t>(tt.type_size);
  const size_t n_blocks = bytes / bsize;
  uint64_t bad = 0;
  if (type == GgmlType::kQ8_K) {
    for (size_t b = 0; b < n_blocks; ++b) {
      uint8_t raw[4];
      std::memcpy(raw, blocks + b * bsize, 4);
      if (big_endian) std::reverse(raw, raw + 4);
      float d;
      std::memcpy(&d, raw, 4);
      if (!std::isfinite(d)) {
        if (bad++ == 0) *first_bad_block = static_cast<int64_t>(b);
      }
    }
    return bad;
  }
  if (type == GgmlType::kIQ1_M) {
    // fp16 d spread over the top nibbles of the four u16 scale words at 48.
    for (size_t b = 0; b < n_blocks; ++b) {
      const uint8_t* sc = blocks + b * bsize + 48;
      uint16_t w[4];
      for (int i = 0; i < 4; ++i) w[i] = LoadU16(sc + 2 * i, big_endian);
      const uint16_t d = static_cast<uint16_t>((w[0] >> 12) | ((w[1] >> 8) & 0x00f0) |
                                               ((w[2] >> 4) & 0x0f00) | (w[3] & 0xf000));
      if (HalfNonFinite(d)) {
        if (bad++ == 0) *first_bad_block = static_cast<int64_t>(b);
      }
    }
    return bad;
  }
  absl::Span<const uint16_t> offsets = HalfFieldOffsets(type);
  if (offsets.empty()) return 0;
  for (size_t b = 0; b < n_blocks; ++b) {
    const uint8_t* block = blocks + b * bsize;
    for (uint16_t off : offsets) {
      if (HalfNonFinite(LoadU16(block + off, big_endian))) {
        if (bad++ == 0) *first_bad_block = static_cast<int64_t>(b);
      }
    }
  }
  return bad;
}

// Counts n values; `first_element` numbers v[0] within the chunk.
void CountValues(const float* v, int64_t n, int64_t first_element, ChunkStats* s) {
  for (int64_t i = 0; i < n; ++i) {
    const float x = v[i];
    if (!std::isfinite(x)) {
      if (std::isnan(x)) {
        ++s->nan;
      } else {
        ++s->inf;
      }
      if (s->first_bad_value < 0) s->first_bad_value = first_element + i;  // element for now
    }
    s->nonzero |= x != 0.0f;
  }
}

// Decodes one chunk (whole blocks) into `scratch` piece by piece and counts.
ChunkStats AnalyzeChunk(const FlatTensor& ft, uint8_t* raw, size_t bytes, bool decode,
                        std::vector<float>& scratch) {
  ChunkStats s;
  const GgmlType type = ft.info->type;
  const TypeTraits& tt = GetTypeTraits(type);
  int64_t bad_block = -1;
  s.nonfinite_scales = CountNonFiniteScales(type, raw, bytes, ft.big_endian, &bad_block);
  if (bad_block >= 0) s.first_bad_scale = bad_block * tt.type_size;
  if (tt.kind == TypeKind::kInteger || !decode) {
    s.nonzero = std::any_of(raw, raw + bytes, [](uint8_t b) { return b != 0; });
    return s;
  }
  const size_t esize = static_cast<size_t>(tt.type_size);
  if (ft.big_endian && tt.kind == TypeKind::kFloat) {
    for (size_t i = 0; i + esize <= bytes; i += esize) std::reverse(raw + i, raw + i + esize);
  }
  if (type == GgmlType::kF64) {
    for (size_t i = 0; i + 8 <= bytes; i += 8) {
      double d;
      std::memcpy(&d, raw + i, 8);
      if (!std::isfinite(d)) {
        if (std::isnan(d)) {
          ++s.nan;
        } else {
          ++s.inf;
        }
        if (s.first_bad_value < 0) s.first_bad_value = static_cast<int64_t>(i);
      }
      s.nonzero |= d != 0.0;
    }
    s.decoded = true;
    return s;
  }
  if ((ft.big_endian && tt.kind == TypeKind::kQuantized) ||
      !stream::CanConvert(type, OutputType::kF32)) {
    s.nonzero = std::any_of(raw, raw + bytes, [](uint8_t b) { return b != 0; });
    return s;
  }
  const int64_t n_blocks = static_cast<int64_t>(bytes / esize);
  const int64_t blocks_per_step = std::max<int64_t>(1, kDecodeElements / tt.block_size);
  scratch.resize(static_cast<size_t>(blocks_per_step * tt.block_size));
  for (int64_t b = 0; b < n_blocks; b += blocks_per_step) {
    const int64_t nb = std::min(blocks_per_step, n_blocks - b);
    const int64_t n = nb * tt.block_size;
    if (!stream::ConvertBlocks(type, raw + static_cast<size_t>(b) * esize, n,
                               OutputType::kF32, scratch.data())
             .ok()) {
      return s;
    }
    CountValues(scratch.data(), n, b * tt.block_size, &s);
  }
  // Element index -> byte offset of its block.
  if (s.first_bad_value >= 0) s.first_bad_value = s.first_bad_value / tt.block_size * tt.type_size;
  s.decoded = true;
  return s;
}

struct Slot {
  std::vector<uint8_t> raw;
  absl::Status status;
  ChunkStats stats;
  int64_t item = -1;  // item it holds (ready) or may take next
  bool ready = false;
};

struct TensorHashes {
  std::unique_ptr<Xxh64> xxh64;
  std::unique_ptr<Sha1> sha1;
  std::unique_ptr<Sha256> sha256;
  void Reset(const std::vector<HashKind>& kinds) {
    xxh64.reset();
    sha1.reset();
    sha256.reset();
    for (HashKind k : kinds) {
      if (k == HashKind::kXxh64) xxh64 = std::make_unique<Xxh64>();
      if (k == HashKind::kSha1) sha1 = std::make_unique<Sha1>();
      if (k == HashKind::kSha256) sha256 = std::make_unique<Sha256>();
    }
  }
  void Update(const uint8_t* p, size_t n) {
    if (xxh64) xxh64->Update(p, n);
    if (sha1) sha1->Update(p, n);
    if (sha256) sha256->Update(p, n);
  }
  // gguf-hash's order: xxh64, sha1, sha256.
  void Emit(const std::string& name, std::vector<HashLine>* lines,
            std::vector<std::pair<HashKind, std::string>>* per_tensor) {
    auto add = [&](HashKind k, std::string hex) {
      if (per_tensor) per_tensor->emplace_back(k, hex);
      lines->push_back(HashLine{k, std::move(hex), name, ""});
    };
    if (xxh64) add(HashKind::kXxh64, HexU64(xxh64->Final()));
    if (sha1) add(HashKind::kSha1, HexBytes(sha1->Final()));
    if (sha256) add(HashKind::kSha256, HexBytes(sha256->Final()));
  }
};

void Checker::CheckData() {
  std::vector<FlatTensor> flat;
  bool forward_only = false;
  for (size_t s = 0; s < shards_.size(); ++s) {
    if (!shards_[s].reader) continue;
    GgufReader& r = *shards_[s].reader;
    const bool fo = r.source().forward_only();
    forward_only |= fo;
    std::vector<size_t> order;
    if (fo) {
      order = r.TensorsInFileOrder();
      for (size_t i = 0; i < order.size(); ++i) {
        if (order[i] != i) {
          Note(absl::StrCat(r.name(),
                            ": compressed file whose tensors are not in file order: "
                            "hashed in file order, not gguf-hash's info order"));
          break;
        }
      }
    } else {
      order.resize(r.tensors().size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    }
    const bool be = r.endianness() == Endianness::kBig;
    bool noted_be = false;
    for (size_t i : order) {
      const TensorInfo& t = r.tensors()[i];
      flat.push_back({s, &t, be, fo});
      if (be && !noted_be && GetTypeTraits(t.type).kind == TypeKind::kQuantized) {
        Note(absl::StrCat(r.name(),
                          ": big-endian file: quantized blocks are checked for their "
                          "scales only, not decoded"));
        noted_be = true;
      }
    }
  }
  // Work items: whole blocks, at most kMaxChunkBytes each.
  std::vector<Item> items;
  uint64_t total = 0;
  for (size_t i = 0; i < flat.size(); ++i) {
    const TensorInfo& t = *flat[i].info;
    const uint64_t bsize = static_cast<uint64_t>(GetTypeTraits(t.type).type_size);
    const uint64_t step = std::max<uint64_t>(bsize, kMaxChunkBytes / bsize * bsize);
    for (uint64_t off = 0; off < t.size_bytes; off += step) {
      const uint64_t n = std::min(step, t.size_bytes - off);
      items.push_back({i, off, static_cast<size_t>(n), off + n == t.size_bytes});
    }
    total += t.size_bytes;
  }
  int threads = options_.threads > 0 ? options_.threads
                                     : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(1, std::min(threads, 256));
  if (forward_only) threads = 1;
  size_t n_slots = static_cast<size_t>(threads) + 2;
  size_t chunk_cap = kMaxChunkBytes;
  while (n_slots * chunk_cap > kMaxRingBytes && n_slots > 2) --n_slots;
  // Items larger than a slot cannot happen: chunk_cap >= every item.
  std::vector<Slot> slots(n_slots);
  for (size_t i = 0; i < n_slots; ++i) slots[i].item = static_cast<int64_t>(i);

  std::mutex mu;
  std::condition_variable cv;
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  auto worker = [&]() {
    std::vector<float> scratch;
    while (!stop.load()) {
      const size_t i = next.fetch_add(1);
      if (i >= items.size()) return;
      Slot& slot = slots[i % n_slots];
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] {
          return stop.load() || (slot.item == static_cast<int64_t>(i) && !slot.ready);
        });
        if (stop.load()) return;
      }
      const Item& it = items[i];
      const FlatTensor& ft = flat[it.tensor];
      if (slot.raw.size() < it.bytes) slot.raw.resize(it.bytes);
      GgufReader& r = *shards_[ft.shard].reader;
      absl::Status st = r.ReadTensorBytes(*ft.info, it.offset, slot.raw.data(), it.bytes);
      r.ReleaseTensorBytes(*ft.info, it.offset, it.bytes);
      ChunkStats stats;
      if (st.ok()) {
        // Hashes need the bytes as stored: decode a copy when decoding
        // swaps big-endian values in place.
        if (ft.big_endian && GetTypeTraits(ft.info->type).kind == TypeKind::kFloat &&
            !options_.hashes.empty()) {
          std::vector<uint8_t> copy(slot.raw.begin(), slot.raw.begin() + it.bytes);
          stats = AnalyzeChunk(ft, copy.data(), it.bytes, options_.decode, scratch);
        } else {
          stats = AnalyzeChunk(ft, slot.raw.data(), it.bytes, options_.decode, scratch);
        }
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        slot.status = std::move(st);
        slot.stats = stats;
        slot.ready = true;
      }
      cv.notify_all();
    }
  };
  std::vector<std::thread> pool;
  if (!items.empty()) {
    for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  }

  const std::vector<HashKind>& kinds = options_.hashes;
  const bool want_uuid = std::find(kinds.begin(), kinds.end(), HashKind::kUuid) != kinds.end();
  TensorHashes tensor_hash, file_hash;
  std::unique_ptr<Sha1> uuid;
  size_t current_shard = SIZE_MAX;
  bool file_hash_valid = true;
  auto start_file = [&](size_t shard) {
    current_shard = shard;
    file_hash.Reset(kinds);
    file_hash_valid = true;
    uuid.reset();
    if (want_uuid) {
      uuid = std::make_unique<Sha1>();
      uuid->Update(kLlamaCppUuidNamespace.data(), kLlamaCppUuidNamespace.size());
    }
  };
  auto end_file = [&]() {
    if (current_shard == SIZE_MAX || kinds.empty()) return;
    const std::string& name = shards_[current_shard].path;
    if (!file_hash_valid) {
      Note(absl::StrCat(name, ": no whole-file hash (a tensor could not be read)"));
      return;
    }
    file_hash.Emit(name, &report_.hash_lines, nullptr);
    if (uuid) {
      report_.hash_lines.push_back(
          HashLine{HashKind::kUuid, UuidV5String(uuid->Final()), name, ""});
    }
  };
  // Shards without tensors still get a whole-file line (gguf-hash prints it).
  size_t next_shard_to_open = 0;
  auto open_files_until = [&](size_t shard) {
    while (next_shard_to_open <= shard && next_shard_to_open < shards_.size()) {
      if (shards_[next_shard_to_open].reader) {
        end_file();
        start_file(next_shard_to_open);
      }
      ++next_shard_to_open;
    }
  };

  TensorCheck current;
  bool tensor_failed = false;
  uint64_t first_bad_scale = UINT64_MAX, first_bad_value = UINT64_MAX;
  for (size_t j = 0; j < items.size(); ++j) {
    Slot& slot = slots[j % n_slots];
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return slot.ready && slot.item == static_cast<int64_t>(j); });
    }
    const Item& it = items[j];
    const FlatTensor& ft = flat[it.tensor];
    const TensorInfo& t = *ft.info;
    if (it.offset == 0) {
      open_files_until(ft.shard);
      current = TensorCheck{};
      current.file = shards_[ft.shard].path;
      current.name = t.name;
      current.type = std::string(GgmlTypeName(t.type));
      current.offset = t.absolute_offset;
      current.bytes = t.size_bytes;
      current.elements = t.n_elements;
      current.decoded = true;
      current.all_zero = true;
      tensor_failed = false;
      first_bad_scale = first_bad_value = UINT64_MAX;
      tensor_hash.Reset(kinds);
    }
    if (!tensor_failed) {
      if (!slot.status.ok()) {
        Add(MakeProblem(current.file, t.name, t.absolute_offset + it.offset,
                        std::string(slot.status.message())));
        tensor_failed = true;
        file_hash_valid = false;
      } else {
        const uint8_t* p = slot.raw.data();
        tensor_hash.Update(p, it.bytes);
        file_hash.Update(p, it.bytes);
        if (uuid) uuid->Update(p, it.bytes);
        report_.data_bytes += it.bytes;
        if (first_bad_scale == UINT64_MAX && slot.stats.first_bad_scale >= 0) {
          first_bad_scale =
              t.absolute_offset + it.offset + static_cast<uint64_t>(slot.stats.first_bad_scale);
        }
        if (first_bad_value == UINT64_MAX && slot.stats.first_bad_value >= 0) {
          first_bad_value =
              t.absolute_offset + it.offset + static_cast<uint64_t>(slot.stats.first_bad_value);
        }
        current.nonfinite_scales += slot.stats.nonfinite_scales;
        current.nan_values += slot.stats.nan;
        current.inf_values += slot.stats.inf;
        current.decoded &= slot.stats.decoded;
        current.all_zero &= !slot.stats.nonzero;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      slot.ready = false;
      slot.item = static_cast<int64_t>(j + n_slots);
    }
    cv.notify_all();
    if (it.last) {
      if (!tensor_failed) {
        tensor_hash.Emit(absl::StrCat(current.file, ":", t.name), &report_.hash_lines,
                         &current.hashes);
        if (current.nonfinite_scales > 0) {
          Add(MakeProblem(
              current.file, t.name, first_bad_scale,
              absl::StrCat("non-finite (inf or NaN) scale fields: ", current.nonfinite_scales,
                           ", the first in the block at this offset")));
        }
        if (current.nan_values > 0 || current.inf_values > 0) {
          Add(MakeProblem(current.file, t.name, first_bad_value,
                          absl::StrCat("NaN values: ", current.nan_values,
                                       ", infinite values: ", current.inf_values, " (of ",
                                       t.n_elements, "), the first in the block at this offset")));
        }
        if (current.all_zero) {
          Note(absl::StrCat(current.file, ": tensor '", t.name, "': offset ", t.absolute_offset,
                            ": all values are zero"));
        }
        if (!current.decoded && GetTypeTraits(t.type).kind != TypeKind::kInteger &&
            options_.decode && !ft.big_endian) {
          Note(absl::StrCat(current.file, ": tensor '", t.name, "': no decoder for type ",
                            current.type, ": values not checked"));
        }
      }
      report_.tensors.push_back(std::move(current));
    }
    if (options_.progress) {
      uint64_t done = report_.data_bytes;
      options_.progress(VerifyProgress{it.tensor, flat.size(), t.name, done, total});
    }
  }
  stop.store(true);
  cv.notify_all();
  for (std::thread& th : pool) th.join();
  open_files_until(shards_.size());
  end_file();
}

// ---------------------------------------------------------------------------

absl::Status Checker::ApplyCheckFile() {
  if (options_.check_file.empty()) return absl::OkStatus();
  absl::StatusOr<HashListing> listing = ReadHashListing(options_.check_file);
  if (!listing.ok()) return listing.status();
  absl::flat_hash_map<std::string, std::string> by_key;   // "kind name" -> hex
  absl::flat_hash_map<std::string, std::string> by_base;  // "kind basename" -> hex
  // A listing of one file verifying one file under another name (a renamed
  // download): lines are matched by tensor name alone.
  absl::flat_hash_map<std::string, std::string> by_tensor;  // "kind tensor" -> hex
  absl::flat_hash_map<std::string, std::string> file_line;  // kind -> hex
  absl::flat_hash_set<std::string> listed_files;
  // "dir/f.gguf:tensor" -> {"dir/f.gguf", "tensor"}; a whole-file line has
  // no tensor part.
  auto split_name = [](absl::string_view name) {
    const size_t gguf = name.find(".gguf:");
    if (gguf == absl::string_view::npos) {
      return std::make_pair(std::string(name), std::string());
    }
    return std::make_pair(std::string(name.substr(0, gguf + 5)),
                          std::string(name.substr(gguf + 6)));
  };
  auto base = [&](absl::string_view name) {
    auto [file, tensor] = split_name(name);
    const size_t slash = file.rfind('/');
    std::string b = slash == std::string::npos ? file : file.substr(slash + 1);
    return tensor.empty() ? b : absl::StrCat(b, ":", tensor);
  };
  for (const HashListing::Entry& e : listing->entries) {
    by_key.emplace(absl::StrCat(e.kind, " ", e.name), e.hex);
    by_base.emplace(absl::StrCat(e.kind, " ", base(e.name)), e.hex);
    auto [file, tensor] = split_name(e.name);
    listed_files.insert(file);
    if (tensor.empty()) {
      file_line.emplace(e.kind, e.hex);
    } else {
      by_tensor.emplace(absl::StrCat(e.kind, " ", tensor), e.hex);
    }
  }
  const bool by_tensor_name = listed_files.size() == 1 && report_.files.size() == 1;
  size_t found = 0;
  for (HashLine& line : report_.hash_lines) {
    const std::string kind(HashKindName(line.kind));
    const std::string* expected = nullptr;
    if (auto it = by_key.find(absl::StrCat(kind, " ", line.name)); it != by_key.end()) {
      expected = &it->second;
    } else if (auto jt = by_base.find(absl::StrCat(kind, " ", base(line.name)));
               jt != by_base.end()) {
      expected = &jt->second;
    } else if (by_tensor_name) {
      const std::string tensor = split_name(line.name).second;
      if (tensor.empty()) {
        if (auto ft = file_line.find(kind); ft != file_line.end()) expected = &ft->second;
      } else if (auto tt = by_tensor.find(absl::StrCat(kind, " ", tensor)); tt != by_tensor.end()) {
        expected = &tt->second;
      }
    }
    if (expected == nullptr) {
      line.check = "Not Found";
      continue;
    }
    ++found;
    if (*expected == line.hex) {
      line.check = "Ok";
    } else {
      line.check = "Mismatch";
      auto [file, tensor] = split_name(line.name);
      Add(MakeProblem(file, tensor, std::nullopt,
                      absl::StrCat(kind, " ", line.hex, " does not match ", *expected, " in ",
                                   options_.check_file)));
    }
  }
  if (found == 0 && !report_.hash_lines.empty()) {
    Add(MakeProblem(options_.check_file, "", std::nullopt,
                    "no line of the listing names this model's files or tensors with the "
                    "selected hash types"));
  }
  return absl::OkStatus();
}

absl::StatusOr<VerifyReport> Checker::Run(const std::string& path) {
  OpenSet(path);
  CheckSetConsistency();
  for (Shard& s : shards_) report_.files.push_back(s.path);
  bool metadata_checked = false;
  for (Shard& s : shards_) {
    if (!s.reader) continue;
    CheckLayout(*s.reader);
    if (!metadata_checked) {
      // The model's metadata is the first shard's (what llama.cpp reads).
      if (&s == &shards_[0]) CheckMetadata(*s.reader);
      metadata_checked = true;
    }
  }
  CheckData();
  if (absl::Status st = ApplyCheckFile(); !st.ok()) return st;
  return std::move(report_);
}

}  // namespace

absl::string_view HashKindName(HashKind kind) {
  switch (kind) {
    case HashKind::kXxh64:
      return "xxh64";
    case HashKind::kSha1:
      return "sha1";
    case HashKind::kSha256:
      return "sha256";
    case HashKind::kUuid:
      return "uuid";
  }
  return "?";
}

absl::StatusOr<HashKind> ParseHashKind(absl::string_view name) {
  for (HashKind k : {HashKind::kXxh64, HashKind::kSha1, HashKind::kSha256, HashKind::kUuid}) {
    if (name == HashKindName(k)) return k;
  }
  if (name == "xxh3") {
    return absl::InvalidArgumentError("xxh3 is not supported (xxh64, sha1, sha256, uuid are)");
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown hash '", name, "' (expected xxh64, sha1, sha256 or uuid)"));
}

std::string HashLine::Format() const {
  std::string s = absl::StrFormat("%-8s  %s  %s", HashKindName(kind), hex, name);
  if (!check.empty()) absl::StrAppend(&s, "  -  ", check);
  return s;
}

absl::StatusOr<HashListing> ReadHashListing(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the hash listing"));
  HashListing listing;
  bool seen[5] = {false, false, false, false, false};
  const char* order[5] = {"sha256", "sha1", "xxh64", "xxh3", "uuid"};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    HashListing::Entry e;
    if (!(ls >> e.kind >> e.hex >> e.name)) continue;
    for (int i = 0; i < 5; ++i) {
      if (e.kind == order[i]) {
        seen[i] = true;
        listing.entries.push_back(e);
      }
    }
  }
  for (int i = 0; i < 5; ++i) {
    if (seen[i]) listing.kinds.push_back(order[i]);
  }
  if (listing.kinds.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": no line of a known hash type (sha256, sha1, xxh64, uuid)"));
  }
  return listing;
}

absl::StatusOr<VerifyReport> VerifyFile(const std::string& path, const VerifyOptions& options) {
  VerifyOptions opts = options;
  if (!opts.check_file.empty() && opts.hashes.empty()) {
    // gguf-hash picks the most secure type the listing has.
    absl::StatusOr<HashListing> listing = ReadHashListing(opts.check_file);
    if (!listing.ok()) return listing.status();
    for (const std::string& k : listing->kinds) {
      absl::StatusOr<HashKind> kind = ParseHashKind(k);
      if (kind.ok()) {
        opts.hashes.push_back(*kind);
        break;
      }
    }
    if (opts.hashes.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(opts.check_file, ": only xxh3 hashes, which gguf-verify does not compute"));
    }
  }
  std::sort(opts.hashes.begin(), opts.hashes.end());
  opts.hashes.erase(std::unique(opts.hashes.begin(), opts.hashes.end()), opts.hashes.end());
  Checker checker(opts);
  return checker.Run(path);
}

std::string ReportJson(const VerifyReport& report) {
  JsonWriter j;
  j.BeginObject();
  j.Key("ok").Bool(report.ok());
  j.Key("files").BeginArray();
  for (const std::string& f : report.files) j.String(f);
  j.EndArray();
  j.Key("data_bytes").Uint(report.data_bytes);
  j.Key("problems").BeginArray();
  for (const Problem& p : report.problems) {
    j.BeginObject();
    j.Key("file").String(p.file);
    if (!p.tensor.empty()) j.Key("tensor").String(p.tensor);
    if (p.offset) j.Key("offset").Uint(*p.offset);
    j.Key("message").String(p.message);
    j.Key("line").String(p.line);
    j.EndObject();
  }
  j.EndArray();
  j.Key("notes").BeginArray();
  for (const std::string& n : report.notes) j.String(n);
  j.EndArray();
  j.Key("tensors").BeginArray();
  for (const TensorCheck& t : report.tensors) {
    j.BeginObject();
    j.Key("file").String(t.file);
    j.Key("name").String(t.name);
    j.Key("type").String(t.type);
    j.Key("offset").Uint(t.offset);
    j.Key("bytes").Uint(t.bytes);
    j.Key("elements").Int(t.elements);
    j.Key("decoded").Bool(t.decoded);
    j.Key("nonfinite_scales").Uint(t.nonfinite_scales);
    j.Key("nan").Uint(t.nan_values);
    j.Key("inf").Uint(t.inf_values);
    j.Key("all_zero").Bool(t.all_zero);
    if (!t.hashes.empty()) {
      j.Key("hashes").BeginObject();
      for (const auto& [k, hex] : t.hashes) j.Key(HashKindName(k)).String(hex);
      j.EndObject();
    }
    j.EndObject();
  }
  j.EndArray();
  j.Key("hash_lines").BeginArray();
  for (const HashLine& h : report.hash_lines) {
    j.BeginObject();
    j.Key("type").String(HashKindName(h.kind));
    j.Key("hash").String(h.hex);
    j.Key("name").String(h.name);
    if (!h.check.empty()) j.Key("check").String(h.check);
    j.EndObject();
  }
  j.EndArray();
  j.EndObject();
  return j.Take();
}

}  // namespace ggufkit::verify
