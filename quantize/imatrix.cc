#include "ggufkit/quantize/imatrix.h"

#include <cmath>
#include <cstring>
#include <memory>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/gguf/byte_source.h"
#include "ggufkit/gguf/reader.h"

namespace ggufkit::quantize {
namespace {

absl::Status Bad(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": bad importance matrix: ", what));
}

// Legacy format (all little-endian):
//   i32 n_entries; n_entries x { i32 len; char name[len]; i32 ncall; i32 nval; f32 v[nval] }
//   optional trailer: i32 last_call; i32 dataset_len; char dataset[dataset_len]
absl::StatusOr<Imatrix> LoadLegacy(ByteSource& src, const std::string& path) {
  Imatrix im;
  im.legacy_format = true;
  const uint64_t size = src.size().value_or(0);
  uint64_t pos = 0;
  auto read_i32 = [&](int32_t* v, const std::string& what) -> absl::Status {
    if (size - pos < 4) return Bad(path, absl::StrCat("truncated: ", what, " at byte ", pos));
    GGUFKIT_RETURN_IF_ERROR(src.ReadAt(pos, v, 4));
    pos += 4;
    return absl::OkStatus();
  };
  int32_t n_entries = 0;
  GGUFKIT_RETURN_IF_ERROR(read_i32(&n_entries, "entry count"));
  if (n_entries < 1) return Bad(path, "no data in file (entry count < 1)");
  for (int32_t i = 0; i < n_entries; ++i) {
    int32_t len = 0;
    GGUFKIT_RETURN_IF_ERROR(read_i32(&len, absl::StrCat("name length of entry ", i + 1)));
    if (len < 0 || static_cast<uint64_t>(len) > size - pos) {
      return Bad(path, absl::StrCat("failed reading name for entry ", i + 1));
    }
    std::string name(static_cast<size_t>(len), '\0');
    GGUFKIT_RETURN_IF_ERROR(src.ReadAt(pos, name.data(), name.size()));
    pos += static_cast<uint64_t>(len);
    name.resize(std::strlen(name.c_str()));  // llama-quantize stops at a NUL
    int32_t ncall = 0, nval = 0;
    GGUFKIT_RETURN_IF_ERROR(read_i32(&ncall, absl::StrCat("call count of '", name, "'")));
    GGUFKIT_RETURN_IF_ERROR(read_i32(&nval, absl::StrCat("value count of '", name, "'")));
    if (nval < 1) return Bad(path, absl::StrCat("entry '", name, "': value count ", nval, " < 1"));
    if (static_cast<uint64_t>(nval) * 4 > size - pos) {
      return Bad(path, absl::StrCat("entry '", name, "': truncated (", nval, " values announced)"));
    }
    std::vector<float>& e = im.entries[name];
    e.resize(static_cast<size_t>(nval));
    GGUFKIT_RETURN_IF_ERROR(src.ReadAt(pos, e.data(), e.size() * 4));
    pos += static_cast<uint64_t>(nval) * 4;
    if (ncall > 0) {
      for (float& v : e) v /= static_cast<float>(ncall);
    }
  }
  if (pos < size) {
    int32_t last_call = 0, dlen = 0;
    GGUFKIT_RETURN_IF_ERROR(read_i32(&last_call, "last call"));
    GGUFKIT_RETURN_IF_ERROR(read_i32(&dlen, "dataset name length"));
    if (dlen < 0 || static_cast<uint64_t>(dlen) > size - pos) {
      return Bad(path, "truncated dataset name");
    }
    std::string ds(static_cast<size_t>(dlen), '\0');
    GGUFKIT_RETURN_IF_ERROR(src.ReadAt(pos, ds.data(), ds.size()));
    im.datasets.push_back(std::move(ds));
    im.chunk_count = last_call;
  }
  return im;
}

absl::StatusOr<Imatrix> LoadGguf(std::unique_ptr<ByteSource> src, const std::string& path) {
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<GgufReader> r, GgufReader::Open(std::move(src)));
  Imatrix im;
  const Metadata& md = r->metadata();
  for (absl::string_view key : {"imatrix.datasets", "imatrix.chunk_count", "imatrix.chunk_size"}) {
    if (!md.Contains(key))
      return Bad(path, absl::StrCat("missing imatrix metadata key '", key, "'"));
  }
  GGUFKIT_ASSIGN_OR_RETURN(uint32_t chunks, md.GetU32("imatrix.chunk_count"));
  GGUFKIT_RETURN_IF_ERROR(md.GetU32("imatrix.chunk_size").status());
  GGUFKIT_ASSIGN_OR_RETURN(im.datasets, md.GetArrayString("imatrix.datasets"));
  im.chunk_count = static_cast<int>(chunks);
  if (r->tensors().empty()) return Bad(path, "no data in file (no tensors)");
  std::map<std::string, std::pair<const TensorInfo*, const TensorInfo*>> pairs;
  for (const TensorInfo& t : r->tensors()) {
    if (absl::EndsWith(t.name, ".in_sum2")) {
      pairs[t.name.substr(0, t.name.size() - 8)].first = &t;
    } else if (absl::EndsWith(t.name, ".counts")) {
      pairs[t.name.substr(0, t.name.size() - 7)].second = &t;
    }
  }
  for (const auto& [name, p] : pairs) {
    const TensorInfo* sums = p.first;
    const TensorInfo* counts = p.second;
    if (sums == nullptr || counts == nullptr) {
      return Bad(path, absl::StrCat("mismatched sums and counts for '", name, "'"));
    }
    if (sums->type != GgmlType::kF32 || counts->type != GgmlType::kF32) {
      return Bad(path, absl::StrCat("entry '", name, "': in_sum2/counts must be f32"));
    }
    const int64_t ne0 = sums->ne[0], ne1 = sums->ne[1];
    if (sums->ne[2] != 1 || sums->ne[3] != 1 || counts->n_elements < ne1) {
      return Bad(path, absl::StrCat("entry '", name, "': counts has ", counts->n_elements,
                                    " values for ", ne1, " experts"));
    }
    std::vector<float> s(static_cast<size_t>(sums->n_elements));
    std::vector<float> c(static_cast<size_t>(ne1));
    GGUFKIT_RETURN_IF_ERROR(r->ReadTensorBytes(*sums, 0, s.data(), s.size() * 4));
    GGUFKIT_RETURN_IF_ERROR(r->ReadTensorBytes(*counts, 0, c.data(), c.size() * 4));
    std::vector<float>& e = im.entries[name];
    e.resize(s.size());
    for (int64_t j = 0; j < ne1; ++j) {
      for (int64_t i = 0; i < ne0; ++i) {
        // Experts that never saw a token get weight 1 (partial imatrix).
        e[j * ne0 + i] = c[j] > 0.0f ? s[j * ne0 + i] / c[j] : 1.0f;
      }
    }
  }
  return im;
}

}  // namespace

absl::StatusOr<Imatrix> LoadImatrix(const std::string& path) {
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<ByteSource> src, OpenPreadSource(path));
  const uint64_t size = src->size().value_or(0);
  char magic[4] = {0, 0, 0, 0};
  if (size >= 4) GGUFKIT_RETURN_IF_ERROR(src->ReadAt(0, magic, 4));
  absl::StatusOr<Imatrix> im =
      std::memcmp(magic, "GGUF", 4) == 0 ? LoadGguf(std::move(src), path) : LoadLegacy(*src, path);
  if (!im.ok()) return im.status();
  if (im->entries.empty()) return Bad(path, "no entries");
  return im;
}

absl::Status CheckImatrixValues(const Imatrix& imatrix, const std::string& path) {
  for (const auto& [name, values] : imatrix.entries) {
    for (size_t i = 0; i < values.size(); ++i) {
      if (!std::isfinite(values[i])) {
        return Bad(path, absl::StrCat("imatrix contains non-finite value ", values[i], " (entry '",
                                      name, "', index ", i, ")"));
      }
      if (values[i] < 0.0f) {
        return Bad(path, absl::StrCat("negative value ", values[i], " (entry '", name, "', index ",
                                      i, ")"));
      }
    }
  }
  return absl::OkStatus();
}

void FilterImatrix(Imatrix& imatrix, const std::vector<std::string>& include,
                   const std::vector<std::string>& exclude) {
  auto& e = imatrix.entries;
  for (const std::string& x : exclude) {
    for (auto it = e.begin(); it != e.end();) {
      it = absl::StrContains(it->first, x) ? e.erase(it) : std::next(it);
    }
  }
  if (!include.empty()) {
    std::map<std::string, std::vector<float>> kept;
    for (const std::string& x : include) {
      for (auto& [name, v] : e) {
        if (absl::StrContains(name, x) && !kept.count(name)) kept.emplace(name, v);
      }
    }
    e = std::move(kept);
  }
}

}  // namespace ggufkit::quantize
