#include "ggufkit/kvplan/kvplan.h"

#include <sys/mman.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ggufkit/base/json.h"
#include "ggufkit/dequant/kv_rows.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ggufkit/base/status_macros.h"

namespace ggufkit::kvplan {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();

absl::StatusOr<int64_t> AddChecked(int64_t a, int64_t b) {
  if (b > kInt64Max - a) return absl::OutOfRangeError("byte count overflows int64");
  return a + b;
}

absl::StatusOr<int64_t> MulChecked(int64_t a, int64_t b) {
  if (a != 0 && b > kInt64Max / a) return absl::OutOfRangeError("byte count overflows int64");
  return a * b;
}

int64_t LayerCells(const ModelKvShape& shape, const LayerKvShape& layer, int64_t ctx) {
  if (layer.sliding && shape.sliding_window > 0) return std::min(ctx, shape.sliding_window);
  return ctx;
}

double ToMiB(int64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(kMiB); }

// Resident set size of this process from /proc/self/status (VmRSS, kB).
absl::StatusOr<int64_t> ReadProcStatusBytes(absl::string_view field) {
  std::ifstream in("/proc/self/status");
  if (!in) return absl::UnavailableError("cannot read /proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest(line);
    if (!absl::ConsumePrefix(&rest, field) || !absl::ConsumePrefix(&rest, ":")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, "kB");
    int64_t kb = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &kb)) break;
    return kb * 1024;
  }
  return absl::UnavailableError(absl::StrCat("no ", field, " in /proc/self/status"));
}

absl::StatusOr<int64_t> ReadMemAvailableBytes() {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    absl::string_view rest(line);
    if (!absl::ConsumePrefix(&rest, "MemAvailable:")) continue;
    rest = absl::StripAsciiWhitespace(rest);
    absl::ConsumeSuffix(&rest, "kB");
    int64_t kb = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &kb)) return kb * 1024;
  }
  return absl::UnavailableError("cannot read MemAvailable from /proc/meminfo");
}

// An anonymous private mapping: fresh zero pages that count toward VmRSS only
// once touched, and go back to the system on munmap (malloc could reuse
// already-resident heap memory and hide part of the cost).
class Mapping {
 public:
  static absl::StatusOr<Mapping> Create(int64_t bytes) {
    Mapping m;
    if (bytes == 0) return m;
    void* p = mmap(nullptr, static_cast<size_t>(bytes), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
      return absl::ResourceExhaustedError(absl::StrCat("mmap of ", bytes, " bytes failed"));
    }
    m.data_ = static_cast<uint8_t*>(p);
    m.size_ = bytes;
    return m;
  }
  Mapping() = default;
  Mapping(Mapping&& o) noexcept : data_(o.data_), size_(o.size_) {
    o.data_ = nullptr;
    o.size_ = 0;
  }
  Mapping& operator=(Mapping&&) = delete;
  Mapping(const Mapping&) = delete;
  ~Mapping() {
    if (data_ != nullptr) munmap(data_, static_cast<size_t>(size_));
  }
  uint8_t* data() const { return data_; }

 private:
  uint8_t* data_ = nullptr;
  int64_t size_ = 0;
};

// How many distinct quantized rows each layer's cells cycle through.
constexpr int64_t kDistinctRows = 16;

// Quantized source rows for one cache (K or V) of one layer.
absl::StatusOr<std::vector<uint8_t>> QuantizedSourceRows(KvType type, int64_t n_kv_heads,
                                                         int64_t head_dim, TurboVariant variant,
                                                         uint32_t seed) {
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t row_bytes,
                           KvRowBytes(type, n_kv_heads, head_dim, variant));
  std::vector<float> x(static_cast<size_t>(kDistinctRows * n_kv_heads * head_dim));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  for (float& v : x) v = normal(rng);
  std::vector<uint8_t> q(static_cast<size_t>(kDistinctRows * row_bytes));
  GGUFKIT_RETURN_IF_ERROR(
      QuantizeKvRows(type, kDistinctRows, n_kv_heads, head_dim, x.data(), q.data(), variant));
  return q;
}

}  // namespace

namespace {

constexpr int64_t kMaxLayers = 100000;
constexpr int64_t kMaxHeads = 65536;
constexpr int64_t kMaxHeadDim = 65536;

// llama.cpp's built-in sliding-window patterns (set_swa_pattern(n)) for
// architectures whose GGUFs carry a window size but no pattern key.
int64_t DefaultSlidingPattern(absl::string_view arch) {
  if (arch == "gemma2") return 2;
  if (arch == "gemma3") return 6;
  if (arch == "cohere2") return 4;
  if (arch == "gpt-oss") return 2;
  return 0;
}

// A per-layer value: a scalar broadcast to every layer, or an array with one
// entry per layer. Every value must lie in [lo, hi].
absl::StatusOr<std::vector<int64_t>> PerLayer(const std::vector<int64_t>& values, int64_t n_layers,
                                              const std::string& source, const std::string& key,
                                              int64_t lo, int64_t hi) {
  if (values.size() != 1 && static_cast<int64_t>(values.size()) != n_layers) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": metadata key '", key, "' has ",
                                                   values.size(), " values, expected 1 or ",
                                                   n_layers, " (block_count)"));
  }
  for (int64_t v : values) {
    if (v < lo || v > hi) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": metadata key '", key, "' value ", v,
                                                     " is outside [", lo, ", ", hi, "]"));
    }
  }
  if (values.size() == 1) return std::vector<int64_t>(static_cast<size_t>(n_layers), values[0]);
  return values;
}

absl::StatusOr<int64_t> Scalar(const KvMetadataLookup& md, const std::string& source,
                               const std::string& key, int64_t lo, int64_t hi,
                               absl::optional<int64_t> fallback) {
  GGUFKIT_ASSIGN_OR_RETURN(const absl::optional<std::vector<int64_t>> v, md.Integers(key));
  if (!v) {
    if (fallback) return *fallback;
    return absl::NotFoundError(absl::StrCat(source, ": metadata key '", key, "' not found"));
  }
  if (v->size() != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": metadata key '", key, "' is an array, expected one integer"));
  }
  if ((*v)[0] < lo || (*v)[0] > hi) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": metadata key '", key, "' value ",
                                                   (*v)[0], " is outside [", lo, ", ", hi, "]"));
  }
  return (*v)[0];
}

}  // namespace

absl::StatusOr<ModelKvShape> ShapeFromMetadata(const KvMetadataLookup& md,
                                               const std::string& source, int64_t weights_bytes) {
  GGUFKIT_ASSIGN_OR_RETURN(const absl::optional<std::string> arch_value,
                           md.String("general.architecture"));
  if (!arch_value || arch_value->empty()) {
    return absl::NotFoundError(
        absl::StrCat(source, ": metadata key 'general.architecture' not found"));
  }
  const std::string& arch = *arch_value;
  auto key = [&](absl::string_view suffix) { return absl::StrCat(arch, ".", suffix); };

  ModelKvShape shape;
  shape.source = source;
  shape.architecture = arch;
  shape.weights_bytes = weights_bytes;
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t n_layers,
                           Scalar(md, source, key("block_count"), 1, kMaxLayers, absl::nullopt));

  GGUFKIT_ASSIGN_OR_RETURN(const auto head_count_raw, md.Integers(key("attention.head_count")));
  std::vector<int64_t> n_head;
  if (head_count_raw) {
    GGUFKIT_ASSIGN_OR_RETURN(n_head, PerLayer(*head_count_raw, n_layers, source,
                                              key("attention.head_count"), 0, kMaxHeads));
  }
  GGUFKIT_ASSIGN_OR_RETURN(const auto head_count_kv_raw,
                           md.Integers(key("attention.head_count_kv")));
  std::vector<int64_t> n_head_kv;
  if (head_count_kv_raw) {
    GGUFKIT_ASSIGN_OR_RETURN(n_head_kv, PerLayer(*head_count_kv_raw, n_layers, source,
                                                 key("attention.head_count_kv"), 0, kMaxHeads));
  } else if (!n_head.empty()) {
    n_head_kv = n_head;  // no GQA
  } else {
    return absl::NotFoundError(absl::StrCat(source, ": metadata keys '",
                                            key("attention.head_count_kv"), "' and '",
                                            key("attention.head_count"), "' not found"));
  }

  // Head sizes: explicit keys, else embedding_length / head_count (layer 0),
  // as llama.cpp does.
  absl::optional<int64_t> fallback_head_dim;
  GGUFKIT_ASSIGN_OR_RETURN(const auto n_embd_raw, md.Integers(key("embedding_length")));
  if (n_embd_raw && n_embd_raw->size() == 1 && !n_head.empty() && n_head[0] > 0 &&
      (*n_embd_raw)[0] > 0 && (*n_embd_raw)[0] % n_head[0] == 0) {
    fallback_head_dim = (*n_embd_raw)[0] / n_head[0];
  }
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t head_dim_k, Scalar(md, source, key("attention.key_length"),
                                                            1, kMaxHeadDim, fallback_head_dim));
  GGUFKIT_ASSIGN_OR_RETURN(
      const int64_t head_dim_v,
      Scalar(md, source, key("attention.value_length"), 1, kMaxHeadDim, fallback_head_dim));

  GGUFKIT_ASSIGN_OR_RETURN(shape.context_length,
                           Scalar(md, source, key("context_length"), 0, int64_t{1} << 40, 0));
  GGUFKIT_ASSIGN_OR_RETURN(shape.sliding_window, Scalar(md, source, key("attention.sliding_window"),
                                                        0, int64_t{1} << 40, 0));

  std::vector<bool> sliding(static_cast<size_t>(n_layers), false);
  if (shape.sliding_window > 0) {
    GGUFKIT_ASSIGN_OR_RETURN(const auto pattern,
                             md.Integers(key("attention.sliding_window_pattern")));
    int64_t period = 0;
    if (pattern && static_cast<int64_t>(pattern->size()) == n_layers && n_layers > 1) {
      for (int64_t i = 0; i < n_layers; ++i) sliding[i] = (*pattern)[i] != 0;
    } else if (pattern && pattern->size() == 1) {
      period = (*pattern)[0];
      if (period < 0 || period > kMaxLayers) {
        return absl::InvalidArgumentError(absl::StrCat(source, ": metadata key '",
                                                       key("attention.sliding_window_pattern"),
                                                       "' value ", period, " is out of range"));
      }
      if (period == 0) sliding.assign(sliding.size(), true);
    } else if (pattern) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": metadata key '", key("attention.sliding_window_pattern"), "' has ",
          pattern->size(), " values, expected 1 or ", n_layers, " (block_count)"));
    } else {
      period = DefaultSlidingPattern(arch);
      if (period == 0) {
        shape.notes.push_back(
            absl::StrCat(arch, " has a sliding window of ", shape.sliding_window,
                         " but no pattern: every layer planned as full attention (upper bound)"));
      }
    }
    if (period > 0) {
      for (int64_t i = 0; i < n_layers; ++i) sliding[i] = (i % period) < (period - 1);
    }
  }

  shape.layers.resize(static_cast<size_t>(n_layers));
  for (int64_t i = 0; i < n_layers; ++i) {
    shape.layers[i] = LayerKvShape{n_head_kv[i], head_dim_k, head_dim_v, sliding[i]};
  }
  bool any_attention = false;
  for (const LayerKvShape& l : shape.layers) any_attention |= l.n_kv_heads > 0;
  if (!any_attention) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": no layer has KV heads ('",
                                                   key("attention.head_count_kv"), "' is 0)"));
  }
  return shape;
}

absl::StatusOr<ModelKvShape> UniformShape(int64_t n_layers, int64_t n_kv_heads, int64_t head_dim_k,
                                          int64_t head_dim_v, int64_t weights_bytes) {
  GGUFKIT_RETURN_ERROR_IF(n_layers < 1 || n_layers > 100000,
                          "--layers must be in [1, 100000], got ", n_layers);
  GGUFKIT_RETURN_ERROR_IF(n_kv_heads < 1 || n_kv_heads > 65536,
                          "--kv-heads must be in [1, 65536], got ", n_kv_heads);
  GGUFKIT_RETURN_ERROR_IF(head_dim_k < 1 || head_dim_k > 65536,
                          "--head-dim must be in [1, 65536], got ", head_dim_k);
  GGUFKIT_RETURN_ERROR_IF(head_dim_v < 1 || head_dim_v > 65536,
                          "--head-dim-v must be in [1, 65536], got ", head_dim_v);
  GGUFKIT_RETURN_ERROR_IF(weights_bytes < 0, "--weights-bytes must be >= 0, got ", weights_bytes);
  ModelKvShape shape;
  shape.source = "flags";
  shape.layers.assign(static_cast<size_t>(n_layers),
                      LayerKvShape{n_kv_heads, head_dim_k, head_dim_v, false});
  shape.weights_bytes = weights_bytes;
  return shape;
}

absl::StatusOr<KvCost> ComputeKvCost(const ModelKvShape& shape, int64_t ctx, KvType k_type,
                                     KvType v_type, TurboVariant variant) {
  GGUFKIT_RETURN_ERROR_IF(ctx < 1, "context must be >= 1 cell, got ", ctx);
  KvCost cost;
  cost.ctx = ctx;
  cost.k_type = k_type;
  cost.v_type = v_type;
  cost.weights_bytes = shape.weights_bytes;
  for (size_t i = 0; i < shape.layers.size(); ++i) {
    const LayerKvShape& layer = shape.layers[i];
    if (layer.n_kv_heads == 0) continue;  // no attention in this layer: no cache
    const int64_t cells = LayerCells(shape, layer, ctx);
    auto k_row = KvRowBytes(k_type, layer.n_kv_heads, layer.head_dim_k, variant);
    auto v_row = KvRowBytes(v_type, layer.n_kv_heads, layer.head_dim_v, variant);
    if (!k_row.ok() || !v_row.ok()) {
      const absl::Status& s = !k_row.ok() ? k_row.status() : v_row.status();
      return absl::InvalidArgumentError(absl::StrCat("layer ", i, " (", !k_row.ok() ? "K " : "V ",
                                                     KvTypeName(!k_row.ok() ? k_type : v_type),
                                                     "): ", s.message()));
    }
    GGUFKIT_ASSIGN_OR_RETURN(const int64_t k_layer, MulChecked(cells, *k_row));
    GGUFKIT_ASSIGN_OR_RETURN(const int64_t v_layer, MulChecked(cells, *v_row));
    GGUFKIT_ASSIGN_OR_RETURN(cost.k_bytes, AddChecked(cost.k_bytes, k_layer));
    GGUFKIT_ASSIGN_OR_RETURN(cost.v_bytes, AddChecked(cost.v_bytes, v_layer));
  }
  GGUFKIT_RETURN_IF_ERROR(AddChecked(cost.kv_bytes(), cost.weights_bytes).status());
  return cost;
}

absl::StatusOr<int64_t> LargestFittingContext(const ModelKvShape& shape, KvType k_type,
                                              KvType v_type, TurboVariant variant,
                                              int64_t budget_bytes, int64_t max_ctx) {
  // Cost grows monotonically with ctx: binary search for the last fit.
  int64_t lo = 0, hi = max_ctx;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    auto cost = ComputeKvCost(shape, mid, k_type, v_type, variant);
    if (!cost.ok() && absl::IsInvalidArgument(cost.status())) return cost.status();
    if (cost.ok() && cost->total_bytes() <= budget_bytes) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}


absl::StatusOr<std::vector<int64_t>> ParseContextList(absl::string_view text) {
  std::vector<int64_t> out;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    item = absl::StripAsciiWhitespace(item);
    int64_t multiplier = 1;
    if (!item.empty() && (item.back() == 'k' || item.back() == 'K')) {
      multiplier = 1024;
      item.remove_suffix(1);
    }
    int64_t n = 0;
    if (!absl::SimpleAtoi(item, &n) || n < 1 || n > (int64_t{1} << 40) / multiplier) {
      return absl::InvalidArgumentError(absl::StrCat("bad context '", item, "' in '", text,
                                                     "' (positive cell counts, e.g. 4096 or 32K)"));
    }
    out.push_back(n * multiplier);
  }
  return out;
}

absl::StatusOr<std::vector<KvType>> ParseKvTypeList(absl::string_view text) {
  std::vector<KvType> out;
  for (absl::string_view item : absl::StrSplit(text, ',')) {
    GGUFKIT_ASSIGN_OR_RETURN(KvType t, ParseKvType(absl::StripAsciiWhitespace(item)));
    out.push_back(t);
  }
  return out;
}

double MeasuredKv::relative_difference() const {
  if (calculated_bytes == 0) return resident_bytes == 0 ? 0.0 : 1.0;
  return std::fabs(static_cast<double>(resident_bytes - calculated_bytes)) /
         static_cast<double>(calculated_bytes);
}

absl::StatusOr<MeasuredKv> MeasureKvResidentMemory(const ModelKvShape& shape, int64_t ctx,
                                                   KvType k_type, KvType v_type,
                                                   TurboVariant variant) {
  GGUFKIT_ASSIGN_OR_RETURN(const KvCost cost, ComputeKvCost(shape, ctx, k_type, v_type, variant));
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t available, ReadMemAvailableBytes());
  if (cost.kv_bytes() > available / 10 * 9) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("KV cache of %.2f MiB does not fit in available memory (%.2f MiB)",
                        ToMiB(cost.kv_bytes()), ToMiB(available)));
  }
  // Source rows first, so their memory is in the baseline.
  std::vector<std::vector<uint8_t>> k_rows, v_rows;
  for (size_t i = 0; i < shape.layers.size(); ++i) {
    const LayerKvShape& l = shape.layers[i];
    if (l.n_kv_heads == 0) {
      k_rows.emplace_back();
      v_rows.emplace_back();
      continue;
    }
    GGUFKIT_ASSIGN_OR_RETURN(auto k, QuantizedSourceRows(k_type, l.n_kv_heads, l.head_dim_k,
                                                         variant, static_cast<uint32_t>(2 * i)));
    GGUFKIT_ASSIGN_OR_RETURN(auto v,
                             QuantizedSourceRows(v_type, l.n_kv_heads, l.head_dim_v, variant,
                                                 static_cast<uint32_t>(2 * i + 1)));
    k_rows.push_back(std::move(k));
    v_rows.push_back(std::move(v));
  }
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t rss_before, ReadProcStatusBytes("VmRSS"));
  {
    GGUFKIT_ASSIGN_OR_RETURN(Mapping k_buffer, Mapping::Create(cost.k_bytes));
    GGUFKIT_ASSIGN_OR_RETURN(Mapping v_buffer, Mapping::Create(cost.v_bytes));
    uint8_t* k_dst = k_buffer.data();
    uint8_t* v_dst = v_buffer.data();
    for (size_t i = 0; i < shape.layers.size(); ++i) {
      const LayerKvShape& l = shape.layers[i];
      if (l.n_kv_heads == 0) continue;
      const int64_t cells = LayerCells(shape, l, ctx);
      const int64_t k_row = *KvRowBytes(k_type, l.n_kv_heads, l.head_dim_k, variant);
      const int64_t v_row = *KvRowBytes(v_type, l.n_kv_heads, l.head_dim_v, variant);
      for (int64_t c = 0; c < cells; ++c) {
        const int64_t r = c % kDistinctRows;
        std::memcpy(k_dst, k_rows[i].data() + r * k_row, static_cast<size_t>(k_row));
        std::memcpy(v_dst, v_rows[i].data() + r * v_row, static_cast<size_t>(v_row));
        k_dst += k_row;
        v_dst += v_row;
      }
    }
    GGUFKIT_ASSIGN_OR_RETURN(const int64_t rss_after, ReadProcStatusBytes("VmRSS"));
    MeasuredKv m;
    m.resident_bytes = rss_after - rss_before;
    m.calculated_bytes = cost.kv_bytes();
    return m;
  }
}

absl::StatusOr<Plan> MakePlan(const ModelKvShape& shape, const PlanOptions& options) {
  GGUFKIT_RETURN_ERROR_IF(shape.layers.empty(), "model has no layers");
  GGUFKIT_RETURN_ERROR_IF(options.contexts.empty(), "no context lengths given");
  GGUFKIT_RETURN_ERROR_IF(options.k_types.empty() || options.v_types.empty(),
                          "no K or V cache types given");
  Plan plan;
  plan.shape = shape;
  plan.options = options;
  for (int64_t ctx : options.contexts) {
    for (KvType k : options.k_types) {
      for (KvType v : options.v_types) {
        PlanRow row;
        GGUFKIT_ASSIGN_OR_RETURN(row.cost, ComputeKvCost(shape, ctx, k, v, options.variant));
        if (options.budget_bytes) row.fits = row.cost.total_bytes() <= *options.budget_bytes;
        if (options.measure) {
          auto m = MeasureKvResidentMemory(shape, ctx, k, v, options.variant);
          if (m.ok()) {
            row.measured = *m;
          } else {
            row.measure_error = std::string(m.status().message());
          }
        }
        plan.rows.push_back(std::move(row));
      }
    }
  }
  if (options.budget_bytes) {
    for (KvType k : options.k_types) {
      for (KvType v : options.v_types) {
        GGUFKIT_ASSIGN_OR_RETURN(const int64_t ctx,
                                 LargestFittingContext(shape, k, v, options.variant,
                                                       *options.budget_bytes, options.max_ctx));
        plan.largest_fit.push_back(LargestFit{k, v, ctx});
      }
    }
  }
  return plan;
}

namespace {

// The first layer with a KV cache (layer 0 when none has one).
const LayerKvShape& FirstAttentionLayer(const ModelKvShape& s) {
  for (const LayerKvShape& l : s.layers) {
    if (l.n_kv_heads > 0) return l;
  }
  return s.layers.front();
}

std::string ShapeSummary(const ModelKvShape& s) {
  // Uniform models print one line; mixed ones give the range of KV heads.
  int64_t min_heads = kInt64Max, max_heads = 0, n_sliding = 0, n_attention = 0;
  for (const LayerKvShape& l : s.layers) {
    if (l.n_kv_heads == 0) continue;
    ++n_attention;
    min_heads = std::min(min_heads, l.n_kv_heads);
    max_heads = std::max(max_heads, l.n_kv_heads);
    n_sliding += l.sliding ? 1 : 0;
  }
  const LayerKvShape& first = FirstAttentionLayer(s);
  const std::string heads =
      min_heads == max_heads ? absl::StrCat(min_heads) : absl::StrCat(min_heads, "-", max_heads);
  std::string out =
      absl::StrCat(s.architecture.empty() ? "" : s.architecture + ", ", s.layers.size(), " layers");
  if (n_attention != static_cast<int64_t>(s.layers.size())) {
    absl::StrAppend(&out, " (", n_attention, " with attention)");
  }
  absl::StrAppend(&out, ", ", heads, " KV heads, head_dim K ", first.head_dim_k, " / V ",
                  first.head_dim_v);
  if (n_sliding > 0) {
    absl::StrAppend(&out, ", ", n_sliding, " sliding-window layers (window ", s.sliding_window,
                    ")");
  }
  if (s.context_length > 0) absl::StrAppend(&out, ", trained context ", s.context_length);
  return out;
}

const char* VariantName(TurboVariant v) { return v == TurboVariant::kV1 ? "v1" : "current"; }

bool UsesTurbo(const PlanOptions& o) {
  for (KvType t : o.k_types)
    if (IsTurbo(t)) return true;
  for (KvType t : o.v_types)
    if (IsTurbo(t)) return true;
  return false;
}

}  // namespace

std::string FormatPlanTable(const Plan& plan) {
  std::string out =
      absl::StrCat("model: ", plan.shape.source, " (", ShapeSummary(plan.shape), ")\n");
  absl::StrAppend(&out, "weights: ",
                  plan.shape.weights_bytes > 0
                      ? absl::StrFormat("%.2f MiB", ToMiB(plan.shape.weights_bytes))
                      : std::string("unknown (0)"),
                  "\n");
  for (const std::string& note : plan.shape.notes) absl::StrAppend(&out, "note: ", note, "\n");
  if (UsesTurbo(plan.options)) {
    absl::StrAppend(&out, "turbo variant: ", VariantName(plan.options.variant), "\n");
  }
  if (plan.options.budget_bytes) {
    absl::StrAppend(&out, absl::StrFormat("budget: %.2f MiB\n", ToMiB(*plan.options.budget_bytes)));
  }
  absl::StrAppend(
      &out, absl::StrFormat("%9s  %-6s  %-6s  %10s  %10s  %10s  %11s  %10s", "ctx", "K type",
                            "V type", "K MiB", "V MiB", "KV MiB", "weights MiB", "total MiB"));
  if (plan.options.budget_bytes) absl::StrAppend(&out, "  fits");
  if (plan.options.measure) absl::StrAppend(&out, "  measured KV MiB  diff");
  absl::StrAppend(&out, "\n");
  for (const PlanRow& r : plan.rows) {
    const KvCost& c = r.cost;
    absl::StrAppend(
        &out, absl::StrFormat("%9d  %-6s  %-6s  %10.2f  %10.2f  %10.2f  %11.2f  %10.2f", c.ctx,
                              std::string(KvTypeName(c.k_type)), std::string(KvTypeName(c.v_type)),
                              ToMiB(c.k_bytes), ToMiB(c.v_bytes), ToMiB(c.kv_bytes()),
                              ToMiB(c.weights_bytes), ToMiB(c.total_bytes())));
    if (r.fits) absl::StrAppend(&out, *r.fits ? "  yes" : "  no ");
    if (r.measured) {
      absl::StrAppend(
          &out,
          absl::StrFormat("  %15.2f  %+.2f%%", ToMiB(r.measured->resident_bytes),
                          100.0 * (r.measured->resident_bytes - r.measured->calculated_bytes) /
                              std::max<int64_t>(1, r.measured->calculated_bytes)));
    } else if (plan.options.measure) {
      absl::StrAppend(&out, "  not measured: ", r.measure_error);
    }
    absl::StrAppend(&out, "\n");
  }
  if (!plan.largest_fit.empty()) {
    absl::StrAppend(&out, "largest context within budget:\n");
    for (const LargestFit& f : plan.largest_fit) {
      absl::StrAppend(
          &out,
          absl::StrFormat("  K %-6s V %-6s  %s\n", std::string(KvTypeName(f.k_type)),
                          std::string(KvTypeName(f.v_type)),
                          f.ctx == 0 ? std::string("none (weights alone do not fit)")
                          : f.ctx >= plan.options.max_ctx ? absl::StrCat(">= ", f.ctx, " cells")
                                                          : absl::StrCat(f.ctx, " cells")));
    }
  }
  return out;
}

std::string FormatPlanJson(const Plan& plan) {
  const ModelKvShape& s = plan.shape;
  std::string out = "{\n";
  absl::StrAppend(&out, "  \"source\": ", JsonString(s.source), ",\n");
  absl::StrAppend(&out, "  \"architecture\": ", JsonString(s.architecture), ",\n");
  absl::StrAppend(&out, "  \"layers\": ", s.layers.size(), ",\n");
  absl::StrAppend(&out, "  \"kv_heads\": [");
  for (size_t i = 0; i < s.layers.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", s.layers[i].n_kv_heads);
  }
  absl::StrAppend(&out, "],\n");
  absl::StrAppend(&out, "  \"head_dim_k\": ", FirstAttentionLayer(s).head_dim_k, ",\n");
  absl::StrAppend(&out, "  \"head_dim_v\": ", FirstAttentionLayer(s).head_dim_v, ",\n");
  int64_t n_sliding = 0;
  for (const LayerKvShape& l : s.layers) n_sliding += l.sliding ? 1 : 0;
  absl::StrAppend(&out, "  \"sliding_window\": ", s.sliding_window, ",\n");
  absl::StrAppend(&out, "  \"sliding_window_layers\": ", n_sliding, ",\n");
  absl::StrAppend(&out, "  \"context_length\": ", s.context_length, ",\n");
  absl::StrAppend(&out, "  \"weights_bytes\": ", s.weights_bytes, ",\n");
  absl::StrAppend(&out, "  \"notes\": [");
  for (size_t i = 0; i < s.notes.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", JsonString(s.notes[i]));
  }
  absl::StrAppend(&out, "],\n");
  absl::StrAppend(&out, "  \"turbo_variant\": \"", VariantName(plan.options.variant), "\",\n");
  if (plan.options.budget_bytes) {
    absl::StrAppend(&out, "  \"budget_bytes\": ", *plan.options.budget_bytes, ",\n");
  }
  absl::StrAppend(&out, "  \"rows\": [\n");
  for (size_t i = 0; i < plan.rows.size(); ++i) {
    const PlanRow& r = plan.rows[i];
    const KvCost& c = r.cost;
    absl::StrAppend(&out, "    {\"ctx\": ", c.ctx, ", \"k_type\": \"", KvTypeName(c.k_type),
                    "\", \"v_type\": \"", KvTypeName(c.v_type), "\", \"k_bytes\": ", c.k_bytes,
                    ", \"v_bytes\": ", c.v_bytes, ", \"kv_bytes\": ", c.kv_bytes(),
                    ", \"weights_bytes\": ", c.weights_bytes,
                    ", \"total_bytes\": ", c.total_bytes(),
                    absl::StrFormat(", \"k_mib\": %.2f, \"v_mib\": %.2f, \"kv_mib\": %.2f, "
                                    "\"total_mib\": %.2f",
                                    ToMiB(c.k_bytes), ToMiB(c.v_bytes), ToMiB(c.kv_bytes()),
                                    ToMiB(c.total_bytes())));
    if (r.fits) absl::StrAppend(&out, ", \"fits\": ", *r.fits ? "true" : "false");
    if (r.measured) {
      absl::StrAppend(&out, ", \"measured_kv_bytes\": ", r.measured->resident_bytes,
                      absl::StrFormat(", \"measured_relative_difference\": %.6f",
                                      r.measured->relative_difference()));
    } else if (plan.options.measure) {
      absl::StrAppend(&out, ", \"measure_error\": ", JsonString(r.measure_error));
    }
    absl::StrAppend(&out, "}", i + 1 < plan.rows.size() ? "," : "", "\n");
  }
  absl::StrAppend(&out, "  ]");
  if (!plan.largest_fit.empty()) {
    absl::StrAppend(&out, ",\n  \"largest_fit\": [\n");
    for (size_t i = 0; i < plan.largest_fit.size(); ++i) {
      const LargestFit& f = plan.largest_fit[i];
      absl::StrAppend(&out, "    {\"k_type\": \"", KvTypeName(f.k_type), "\", \"v_type\": \"",
                      KvTypeName(f.v_type), "\", \"ctx\": ", f.ctx, "}",
                      i + 1 < plan.largest_fit.size() ? "," : "", "\n");
    }
    absl::StrAppend(&out, "  ]");
  }
  absl::StrAppend(&out, "\n}\n");
  return out;
}

}  // namespace ggufkit::kvplan
