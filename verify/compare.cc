#include "ggufkit/verify/compare.h"

#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/quants/type_traits.h"
#include "ggufkit/stream/dequant_model.h"
#include "ggufkit/stream/gguf_tensors.h"
#include "ggufkit/stream/name_filter.h"
#include "ggufkit/stream/tensor_stream.h"
#include "ggufkit/verify/json_out.h"
#include "ggufkit/verify/safetensors_file.h"

namespace ggufkit::verify {

// ---------------------------------------------------------------------------
// Metrics
// ---------------------------------------------------------------------------

void PairSums::Add(const PairSums& o) {
  elements += o.elements;
  nonfinite += o.nonfinite;
  identical += o.identical;
  max_abs = std::max(max_abs, o.max_abs);
  sse += o.sse;
  saa += o.saa;
  sbb += o.sbb;
  sab += o.sab;
}

double PairSums::rmse() const {
  return elements == 0 ? 0.0 : std::sqrt(sse / static_cast<double>(elements));
}

double PairSums::nmse() const {
  if (saa == 0) return sse == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  return sse / saa;
}

double PairSums::cosine() const {
  if (saa == 0 && sbb == 0) return 1.0;
  if (saa == 0 || sbb == 0) return 0.0;
  return sab / std::sqrt(saa * sbb);
}

double PairSums::snr_db() const {
  if (sse == 0) return std::numeric_limits<double>::infinity();
  if (saa == 0) return -std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(saa / sse);
}

double PairSums::identical_share() const {
  const uint64_t all = elements + nonfinite;
  return all == 0 ? 1.0 : static_cast<double>(identical) / static_cast<double>(all);
}

PairSums ComparePair(const float* a, const float* b, int64_t n) {
  PairSums s;
  if (n <= 0) return s;
  using ArrayF = Eigen::Array<float, Eigen::Dynamic, 1>;
  using ArrayU = Eigen::Array<uint32_t, Eigen::Dynamic, 1>;
  Eigen::Map<const ArrayF> va(a, n), vb(b, n);
  Eigen::Map<const ArrayU> ba(reinterpret_cast<const uint32_t*>(a), n),
      bb(reinterpret_cast<const uint32_t*>(b), n);
  s.identical = static_cast<uint64_t>((ba == bb).count());
  if (va.allFinite() && vb.allFinite()) {
    const auto da = va.cast<double>();
    const auto db = vb.cast<double>();
    s.elements = static_cast<uint64_t>(n);
    s.sse = (da - db).square().sum();
    s.saa = da.square().sum();
    s.sbb = db.square().sum();
    s.sab = (da * db).sum();
    s.max_abs = (da - db).abs().maxCoeff();
    return s;
  }
  // Some element is NaN or infinite: leave those pairs out, element by element.
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(a[i]) || !std::isfinite(b[i])) {
      ++s.nonfinite;
      continue;
    }
    const double x = a[i], y = b[i], d = x - y;
    ++s.elements;
    s.sse += d * d;
    s.saa += x * x;
    s.sbb += y * y;
    s.sab += x * y;
    s.max_abs = std::max(s.max_abs, std::fabs(d));
  }
  return s;
}

size_t CompareReport::failed_pairs() const {
  size_t n = 0;
  for (const TensorComparison& p : pairs) n += !p.error.empty();
  return n;
}

namespace {

constexpr int64_t kChunkElements = 64 * 1024;  // a multiple of every block size
constexpr size_t kScratchBytes = size_t{256} << 10;
constexpr size_t kShownValueChars = 120;

// One tensor of either format, as the comparison sees it.
struct TensorRef {
  std::string name;
  std::string type;
  std::vector<int64_t> ne;  // GGUF order (innermost first), trailing 1s dropped
  int64_t elements = 0;
  const TensorInfo* gguf = nullptr;
  const SafetensorsEntry* st = nullptr;
  size_t st_file = 0;  // which safetensors shard
};

// Hugging Face's sharded checkpoints: "<prefix>-00001-of-00003.safetensors"
// names all its siblings; any other name is one file.
absl::StatusOr<std::vector<std::string>> SafetensorsShards(const std::string& path) {
  constexpr absl::string_view kSuffix = ".safetensors";
  std::vector<std::string> shards;
  const absl::string_view p(path);
  // "-NNNNN-of-NNNNN" before the suffix.
  constexpr size_t kTag = 15;
  if (p.size() > kSuffix.size() + kTag && absl::EndsWith(p, kSuffix)) {
    const absl::string_view stem = p.substr(0, p.size() - kSuffix.size());
    const absl::string_view tag = stem.substr(stem.size() - kTag);
    uint32_t no = 0, count = 0;
    if (tag[0] == '-' && tag.substr(6, 4) == "-of-" && absl::SimpleAtoi(tag.substr(1, 5), &no) &&
        absl::SimpleAtoi(tag.substr(10, 5), &count) && no >= 1 && no <= count) {
      const absl::string_view prefix = stem.substr(0, stem.size() - kTag);
      for (uint32_t i = 1; i <= count; ++i) {
        std::string shard = absl::StrFormat("%s-%05u-of-%05u%s", prefix, i, count, kSuffix);
        if (::access(shard.c_str(), F_OK) != 0) {
          return absl::NotFoundError(absl::StrCat("sharded safetensors ", path, ": shard ", i,
                                                  " of ", count, " ('", shard, "') is missing"));
        }
        shards.push_back(std::move(shard));
      }
      return shards;
    }
  }
  shards.push_back(path);
  return shards;
}

std::string ShapeOf(const std::vector<int64_t>& ne) {
  return absl::StrCat("[", absl::StrJoin(ne, ", "), "]");
}

void DropTrailingOnes(std::vector<int64_t>* ne) {
  while (ne->size() > 1 && ne->back() == 1) ne->pop_back();
}

std::string Shorten(std::string s) {
  if (s.size() > kShownValueChars) {
    const size_t full = s.size();
    s.resize(kShownValueChars);
    absl::StrAppend(&s, "... (", full, " chars)");
  }
  return s;
}

class Model {
 public:
  static absl::StatusOr<std::unique_ptr<Model>> Open(const std::string& path) {
    auto m = std::make_unique<Model>();
    m->path_ = path;
    if (LooksLikeSafetensors(path)) {
      GGUFKIT_ASSIGN_OR_RETURN(std::vector<std::string> shards, SafetensorsShards(path));
      absl::flat_hash_map<std::string, size_t> seen;
      for (size_t f = 0; f < shards.size(); ++f) {
        GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> file,
                                 SafetensorsFile::Open(shards[f]));
        m->st_.push_back(std::move(file));
        for (const SafetensorsEntry& e : m->st_.back()->tensors()) {
          if (auto [it, inserted] = seen.emplace(e.name, f); !inserted) {
            return absl::InvalidArgumentError(absl::StrCat("tensor '", e.name, "' is in both ",
                                                           shards[it->second], " and ", shards[f]));
          }
          TensorRef r;
          r.name = e.name;
          // Lowercase, so that "F32" and ggml's "f32" are the same type.
          r.type = absl::AsciiStrToLower(e.dtype);
          r.ne.assign(e.shape.rbegin(), e.shape.rend());
          if (r.ne.empty()) r.ne.push_back(1);
          DropTrailingOnes(&r.ne);
          r.elements = e.elements();
          r.st = &e;
          r.st_file = f;
          m->tensors_.push_back(std::move(r));
        }
      }
      return m;
    }
    GGUFKIT_ASSIGN_OR_RETURN(m->gguf_, GgufModel::Open(path));
    for (size_t i = 0; i < m->gguf_->shard_count(); ++i) {
      if (m->gguf_->shard(i).source().forward_only()) m->forward_only_ = true;
    }
    for (const TensorInfo& t : m->gguf_->tensors()) {
      TensorRef r;
      r.name = t.name;
      r.type = std::string(GgmlTypeName(t.type));
      r.ne.assign(t.ne.begin(), t.ne.begin() + t.n_dims);
      DropTrailingOnes(&r.ne);
      r.elements = t.n_elements;
      r.gguf = &t;
      m->tensors_.push_back(std::move(r));
    }
    return m;
  }

  const std::string& path() const { return path_; }
  const char* format() const { return st_.empty() ? "gguf" : "safetensors"; }
  const std::vector<TensorRef>& tensors() const { return tensors_; }
  bool is_gguf() const { return gguf_ != nullptr; }
  // Compressed (.gguf.zst) input: its tensors can only be read front to
  // back, once.
  bool forward_only() const { return forward_only_; }
  // Where a tensor's data lies: shard, then offset (file order).
  std::pair<uint32_t, uint64_t> DataPosition(const TensorRef& t) const {
    return t.gguf ? std::make_pair(t.gguf->shard, t.gguf->absolute_offset)
                  : std::make_pair(uint32_t{0}, uint64_t{0});
  }
  const Metadata* gguf_metadata() const { return gguf_ ? &gguf_->metadata() : nullptr; }

  // Whether values of this tensor can be read as floats.
  bool Readable(const TensorRef& t, std::string* why) const {
    if (t.st) return true;
    const TypeTraits& tt = GetTypeTraits(t.gguf->type);
    if (tt.kind == TypeKind::kInteger || t.gguf->type == GgmlType::kF64) return true;
    if (stream::CanConvert(t.gguf->type, OutputType::kF32)) return true;
    *why = absl::StrCat(path_, ": tensor '", t.name, "': no dequantizer for type ", tt.name);
    return false;
  }

  absl::Status Read(const TensorRef& t, int64_t first, int64_t n, float* out,
                    std::vector<uint8_t>* scratch) {
    if (t.st) return st_[t.st_file]->ReadFloats(*t.st, first, n, out, scratch);
    const TensorInfo& info = *t.gguf;
    const TypeTraits& tt = GetTypeTraits(info.type);
    if (tt.kind == TypeKind::kInteger || info.type == GgmlType::kF64) {
      const size_t esize = static_cast<size_t>(tt.type_size);
      const size_t bytes = static_cast<size_t>(n) * esize;
      if (scratch->size() < bytes) scratch->resize(bytes);
      GGUFKIT_RETURN_IF_ERROR(gguf_->ReadTensorBytes(info, static_cast<uint64_t>(first) * esize,
                                                     scratch->data(), bytes));
      if (gguf_->shard(info.shard).endianness() == Endianness::kBig) {
        for (size_t off = 0; off < bytes; off += esize) {
          std::reverse(scratch->data() + off, scratch->data() + off + esize);
        }
      }
      const uint8_t* p = scratch->data();
      for (int64_t i = 0; i < n; ++i, p += esize) {
        switch (info.type) {
          case GgmlType::kI8:
            out[i] = static_cast<float>(static_cast<int8_t>(*p));
            break;
          case GgmlType::kI16: {
            int16_t x;
            std::memcpy(&x, p, 2);
            out[i] = static_cast<float>(x);
            break;
          }
          case GgmlType::kI32: {
            int32_t x;
            std::memcpy(&x, p, 4);
            out[i] = static_cast<float>(x);
            break;
          }
          case GgmlType::kI64: {
            int64_t x;
            std::memcpy(&x, p, 8);
            out[i] = static_cast<float>(x);
            break;
          }
          default: {
            double x;
            std::memcpy(&x, p, 8);
            out[i] = static_cast<float>(x);
          }
        }
      }
      return absl::OkStatus();
    }
    if (scratch->size() < kScratchBytes) scratch->resize(kScratchBytes);
    stream::GgufTensorSource source(*gguf_, info);
    // The layout carries the file's endianness: big-endian blocks are
    // byte-swapped before they are decoded.
    return stream::internal::StreamElements(source.layout(), source, first, n, OutputType::kF32,
                                            out, scratch->data(), scratch->size());
  }

  // key -> rendered value (for comparing against safetensors, whose
  // metadata values are strings).
  std::vector<std::pair<std::string, std::string>> StringMetadata() const {
    if (!st_.empty()) return st_[0]->metadata();
    std::vector<std::pair<std::string, std::string>> out;
    for (const MetadataEntry& e : gguf_->metadata().entries()) {
      out.emplace_back(e.key, stream::MetadataValueAsString(e.value));
    }
    return out;
  }

 private:
  std::string path_;
  std::unique_ptr<GgufModel> gguf_;
  std::vector<std::unique_ptr<SafetensorsFile>> st_;  // shards
  std::vector<TensorRef> tensors_;
  bool forward_only_ = false;
};

absl::StatusOr<absl::flat_hash_map<std::string, std::string>> ReadMap(const std::string& path) {
  absl::flat_hash_map<std::string, std::string> map;
  if (path.empty()) return map;
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open the --map file"));
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream ls(line);
    std::string from, to, extra;
    if (!(ls >> from)) continue;
    if (!(ls >> to) || (ls >> extra)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": line ", line_no, ": expected two names, NAME_IN_A NAME_IN_B"));
    }
    if (!map.emplace(from, to).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": line ", line_no, ": '", from, "' is mapped twice"));
    }
  }
  return map;
}

void CompareMetadata(const Model& a, const Model& b, CompareReport* report) {
  if (a.is_gguf() && b.is_gguf()) {
    const Metadata& ma = *a.gguf_metadata();
    const Metadata& mb = *b.gguf_metadata();
    auto render = [](const MetadataValue& v) {
      const std::string type = v.is_array()
                                   ? absl::StrCat("arr[", GgufValueTypeName(v.element_type()), "]")
                                   : std::string(GgufValueTypeName(v.type()));
      return Shorten(absl::StrCat(v.DebugString(8), " (", type, ")"));
    };
    for (const MetadataEntry& e : ma.entries()) {
      const MetadataValue* other = mb.Find(e.key);
      if (other == nullptr) {
        report->keys_only_in_a.push_back(e.key);
      } else if (*other != e.value) {
        report->metadata_differences.push_back({e.key, render(e.value), render(*other)});
      }
    }
    for (const MetadataEntry& e : mb.entries()) {
      if (!ma.Contains(e.key)) report->keys_only_in_b.push_back(e.key);
    }
    return;
  }
  const auto va = a.StringMetadata();
  const auto vb = b.StringMetadata();
  absl::flat_hash_map<std::string, const std::string*> ib;
  for (const auto& [k, v] : vb) ib.emplace(k, &v);
  absl::flat_hash_map<std::string, bool> ia;
  for (const auto& [k, v] : va) {
    ia.emplace(k, true);
    auto it = ib.find(k);
    if (it == ib.end()) {
      report->keys_only_in_a.push_back(k);
    } else if (*it->second != v) {
      report->metadata_differences.push_back({k, Shorten(v), Shorten(*it->second)});
    }
  }
  for (const auto& [k, v] : vb) {
    if (!ia.contains(k)) report->keys_only_in_b.push_back(k);
  }
}

std::string Num(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  return absl::StrFormat("%.4g", v);
}

void SumsJson(JsonWriter& j, const PairSums& s) {
  j.Key("elements").Uint(s.elements);
  j.Key("nonfinite").Uint(s.nonfinite);
  j.Key("identical").Uint(s.identical);
  j.Key("identical_share").Double(s.identical_share());
  j.Key("max_abs_diff").Double(s.max_abs);
  j.Key("rmse").Double(s.rmse());
  j.Key("nmse").Double(s.nmse());
  j.Key("cosine").Double(s.cosine());
  // JSON has no infinity: an identical pair's SNR is written as null with
  // snr_db_infinite true.
  j.Key("snr_db").Double(s.snr_db());
  j.Key("snr_db_infinite").Bool(std::isinf(s.snr_db()) && s.snr_db() > 0);
  j.Key("sum_sq_diff").Double(s.sse);
  j.Key("sum_sq_a").Double(s.saa);
  j.Key("sum_sq_b").Double(s.sbb);
  j.Key("sum_ab").Double(s.sab);
}

}  // namespace

absl::StatusOr<CompareReport> CompareModels(const std::string& path_a, const std::string& path_b,
                                            const CompareOptions& options) {
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<Model> a, Model::Open(path_a));
  GGUFKIT_ASSIGN_OR_RETURN(std::unique_ptr<Model> b, Model::Open(path_b));
  GGUFKIT_ASSIGN_OR_RETURN(auto renames, ReadMap(options.map_file));
  CompareReport report;
  report.file_a = path_a;
  report.file_b = path_b;
  report.format_a = a->format();
  report.format_b = b->format();

  std::vector<bool> select_a(a->tensors().size(), true), select_b(b->tensors().size(), true);
  if (!options.tensor_regex.empty()) {
    std::vector<std::string> names_a, names_b;
    for (const TensorRef& t : a->tensors()) names_a.push_back(t.name);
    for (const TensorRef& t : b->tensors()) names_b.push_back(t.name);
    GGUFKIT_RETURN_IF_ERROR(stream::MatchNames(options.tensor_regex, names_a, &select_a));
    GGUFKIT_RETURN_IF_ERROR(stream::MatchNames(options.tensor_regex, names_b, &select_b));
    if (std::find(select_a.begin(), select_a.end(), true) == select_a.end() &&
        std::find(select_b.begin(), select_b.end(), true) == select_b.end()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--tensors '", options.tensor_regex, "' matches no tensor of ", path_a, " or ", path_b));
    }
  }
  absl::flat_hash_map<std::string, size_t> index_b;
  for (size_t i = 0; i < b->tensors().size(); ++i) index_b.emplace(b->tensors()[i].name, i);
  std::vector<bool> paired_b(b->tensors().size(), false);
  struct Job {
    size_t a, b;
  };
  std::vector<Job> jobs;
  for (size_t i = 0; i < a->tensors().size(); ++i) {
    const TensorRef& ta = a->tensors()[i];
    auto rn = renames.find(ta.name);
    const std::string& want = rn == renames.end() ? ta.name : rn->second;
    auto it = index_b.find(want);
    if (it == index_b.end()) {
      if (select_a[i]) report.only_in_a.push_back(ta.name);
      continue;
    }
    paired_b[it->second] = true;
    if (!select_a[i]) continue;
    const TensorRef& tb = b->tensors()[it->second];
    TensorComparison c;
    c.name_a = ta.name;
    c.name_b = tb.name;
    c.type_a = ta.type;
    c.type_b = tb.type;
    c.shape_a = ShapeOf(ta.ne);
    c.shape_b = ShapeOf(tb.ne);
    c.shape_match = ta.ne == tb.ne;
    std::string why;
    if (!c.shape_match) {
      c.error = absl::StrCat("shapes differ: ", c.shape_a, " in A, ", c.shape_b, " in B");
    } else if (!a->Readable(ta, &why) || !b->Readable(tb, &why)) {
      c.error = why;
    } else {
      jobs.push_back({i, it->second});
    }
    report.pairs.push_back(std::move(c));
  }
  for (size_t i = 0; i < b->tensors().size(); ++i) {
    if (!paired_b[i] && select_b[i]) report.only_in_b.push_back(b->tensors()[i].name);
  }
  // Pair index of each job (pairs and jobs are both in A's order).
  std::vector<size_t> job_pair;
  {
    size_t k = 0;
    for (size_t p = 0; p < report.pairs.size() && k < jobs.size(); ++p) {
      if (report.pairs[p].error.empty()) {
        job_pair.push_back(p);
        ++k;
      }
    }
  }
  int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  if (a->forward_only() || b->forward_only()) {
    // A compressed input is read once, front to back: the pairs go in its
    // data order, one at a time. Two compressed inputs must store their
    // tensors in the same order.
    const bool by_a = a->forward_only();
    const Model& lead = by_a ? *a : *b;
    std::vector<size_t> order(jobs.size());
    for (size_t j = 0; j < order.size(); ++j) order[j] = j;
    auto position = [&](const Model& m, size_t j) {
      return m.DataPosition(m.tensors()[&m == a.get() ? jobs[j].a : jobs[j].b]);
    };
    std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
      return position(lead, x) < position(lead, y);
    });
    std::vector<Job> sorted_jobs;
    std::vector<size_t> sorted_pairs;
    for (size_t j : order) {
      sorted_jobs.push_back(jobs[j]);
      sorted_pairs.push_back(job_pair[j]);
    }
    jobs = std::move(sorted_jobs);
    job_pair = std::move(sorted_pairs);
    if (a->forward_only() && b->forward_only()) {
      for (size_t j = 1; j < jobs.size(); ++j) {
        if (position(*b, j) < position(*b, j - 1)) {
          return absl::UnimplementedError(absl::StrCat(
              "both inputs are compressed and store their tensors in different orders ('",
              b->tensors()[jobs[j].b].name, "' comes before '", b->tensors()[jobs[j - 1].b].name,
              "' in ", path_b, "): decompress one of them first (zstd -d)"));
        }
      }
    }
    threads = 1;
  }
  uint64_t total_elements = 0;
  for (const Job& j : jobs) total_elements += static_cast<uint64_t>(a->tensors()[j.a].elements);

  threads = std::max(1, std::min<int>(threads, static_cast<int>(std::max<size_t>(1, jobs.size()))));
  std::atomic<size_t> next{0};
  std::mutex mu;
  size_t done_pairs = 0;
  uint64_t done_elements = 0;
  auto worker = [&]() {
    std::vector<float> va(kChunkElements), vb(kChunkElements);
    std::vector<uint8_t> scratch_a, scratch_b;
    while (true) {
      const size_t j = next.fetch_add(1);
      if (j >= jobs.size()) return;
      const TensorRef& ta = a->tensors()[jobs[j].a];
      const TensorRef& tb = b->tensors()[jobs[j].b];
      TensorComparison& c = report.pairs[job_pair[j]];
      PairSums sums;
      for (int64_t first = 0; first < ta.elements; first += kChunkElements) {
        const int64_t n = std::min<int64_t>(kChunkElements, ta.elements - first);
        absl::Status s = a->Read(ta, first, n, va.data(), &scratch_a);
        if (s.ok()) s = b->Read(tb, first, n, vb.data(), &scratch_b);
        if (!s.ok()) {
          c.error = std::string(s.message());
          break;
        }
        sums.Add(ComparePair(va.data(), vb.data(), n));
      }
      if (c.error.empty()) c.sums = sums;
      std::lock_guard<std::mutex> lock(mu);
      ++done_pairs;
      done_elements += static_cast<uint64_t>(ta.elements);
      if (options.progress) {
        options.progress(
            CompareProgress{ta.name, done_pairs, jobs.size(), done_elements, total_elements});
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
  for (std::thread& t : pool) t.join();

  // Totals in A's order: the same sums whatever the thread count.
  report.model.types = "model";
  for (const TensorComparison& c : report.pairs) {
    if (!c.error.empty()) continue;
    const std::string key =
        c.type_a == c.type_b ? c.type_a : absl::StrCat(c.type_a, " -> ", c.type_b);
    auto it = std::find_if(report.per_type.begin(), report.per_type.end(),
                           [&](const TypeTotals& t) { return t.types == key; });
    if (it == report.per_type.end()) {
      report.per_type.push_back(TypeTotals{key, 0, {}});
      it = report.per_type.end() - 1;
    }
    ++it->tensors;
    it->sums.Add(c.sums);
    ++report.model.tensors;
    report.model.sums.Add(c.sums);
  }
  CompareMetadata(*a, *b, &report);
  return report;
}

std::string CompareText(const CompareReport& r) {
  std::string out;
  absl::StrAppend(&out, "A: ", r.file_a, " (", r.format_a, ")\nB: ", r.file_b, " (", r.format_b,
                  ")\n\n");
  size_t w = 6;
  for (const TensorComparison& c : r.pairs) w = std::max(w, c.name_a.size());
  for (const TypeTotals& t : r.per_type) w = std::max(w, t.types.size());
  w = std::min<size_t>(w, 60);
  auto row = [&](const std::string& name, const std::string& types, const std::string& shape,
                 const PairSums& s) {
    absl::StrAppendFormat(&out, "%-*s  %-14s %-18s %10s %10s %10s %10s %8s %9s\n", w, name, types,
                          shape, Num(s.max_abs), Num(s.rmse()), Num(s.nmse()),
                          absl::StrFormat("%.6f", s.cosine()), Num(s.snr_db()),
                          absl::StrFormat("%.2f%%", 100.0 * s.identical_share()));
  };
  absl::StrAppendFormat(&out, "%-*s  %-14s %-18s %10s %10s %10s %10s %8s %9s\n", w, "tensor",
                        "types", "shape", "max|a-b|", "RMSE", "NMSE", "cosine", "SNR dB",
                        "identical");
  for (const TensorComparison& c : r.pairs) {
    const std::string name =
        c.name_a == c.name_b ? c.name_a : absl::StrCat(c.name_a, " = ", c.name_b);
    const std::string types =
        c.type_a == c.type_b ? c.type_a : absl::StrCat(c.type_a, "->", c.type_b);
    if (!c.error.empty()) {
      absl::StrAppendFormat(&out, "%-*s  %-14s ERROR: %s\n", w, name, types, c.error);
      continue;
    }
    row(name, types, c.shape_a, c.sums);
    if (c.sums.nonfinite > 0) {
      absl::StrAppendFormat(&out, "%-*s  (%u element pairs with NaN/inf left out)\n", w, "",
                            c.sums.nonfinite);
    }
  }
  absl::StrAppend(&out, "\ntotals per type:\n");
  for (const TypeTotals& t : r.per_type) {
    row(t.types, absl::StrCat(t.tensors, " tensors"), absl::StrCat(t.sums.elements, " values"),
        t.sums);
  }
  row("model", absl::StrCat(r.model.tensors, " tensors"),
      absl::StrCat(r.model.sums.elements, " values"), r.model.sums);
  auto list = [&](const char* title, const std::vector<std::string>& v) {
    if (v.empty()) return;
    absl::StrAppend(&out, "\n", title, " (", v.size(), "):\n");
    for (const std::string& s : v) absl::StrAppend(&out, "  ", s, "\n");
  };
  if (r.failed_pairs() > 0) {
    absl::StrAppend(&out, "\n", r.failed_pairs(), " tensor pairs could not be compared\n");
  }
  list("tensors only in A", r.only_in_a);
  list("tensors only in B", r.only_in_b);
  list("metadata keys only in A", r.keys_only_in_a);
  list("metadata keys only in B", r.keys_only_in_b);
  if (!r.metadata_differences.empty()) {
    absl::StrAppend(&out, "\nmetadata values that differ (", r.metadata_differences.size(), "):\n");
    for (const MetadataDifference& d : r.metadata_differences) {
      absl::StrAppend(&out, "  ", d.key, "\n    A: ", d.value_a, "\n    B: ", d.value_b, "\n");
    }
  }
  return out;
}

std::string CompareJson(const CompareReport& r) {
  JsonWriter j;
  j.BeginObject();
  j.Key("a").BeginObject().Key("file").String(r.file_a).Key("format").String(r.format_a);
  j.EndObject();
  j.Key("b").BeginObject().Key("file").String(r.file_b).Key("format").String(r.format_b);
  j.EndObject();
  j.Key("tensors").BeginArray();
  for (const TensorComparison& c : r.pairs) {
    j.BeginObject();
    j.Key("name_a").String(c.name_a).Key("name_b").String(c.name_b);
    j.Key("type_a").String(c.type_a).Key("type_b").String(c.type_b);
    j.Key("shape_a").String(c.shape_a).Key("shape_b").String(c.shape_b);
    j.Key("shape_match").Bool(c.shape_match);
    if (!c.error.empty()) {
      j.Key("error").String(c.error);
    } else {
      SumsJson(j, c.sums);
    }
    j.EndObject();
  }
  j.EndArray();
  j.Key("per_type").BeginArray();
  for (const TypeTotals& t : r.per_type) {
    j.BeginObject().Key("types").String(t.types).Key("tensors").Uint(t.tensors);
    SumsJson(j, t.sums);
    j.EndObject();
  }
  j.EndArray();
  j.Key("model").BeginObject().Key("tensors").Uint(r.model.tensors);
  SumsJson(j, r.model.sums);
  j.EndObject();
  auto list = [&](const char* key, const std::vector<std::string>& v) {
    j.Key(key).BeginArray();
    for (const std::string& s : v) j.String(s);
    j.EndArray();
  };
  list("only_in_a", r.only_in_a);
  list("only_in_b", r.only_in_b);
  list("keys_only_in_a", r.keys_only_in_a);
  list("keys_only_in_b", r.keys_only_in_b);
  j.Key("metadata_differences").BeginArray();
  for (const MetadataDifference& d : r.metadata_differences) {
    j.BeginObject().Key("key").String(d.key).Key("a").String(d.value_a).Key("b").String(d.value_b);
    j.EndObject();
  }
  j.EndArray();
  j.Key("failed_pairs").Uint(r.failed_pairs());
  j.EndObject();
  return j.Take();
}

}  // namespace ggufkit::verify
