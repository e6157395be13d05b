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
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "ggufkit/base/json.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/dequant/kv_rows.h"

namespace ggufkit::kvplan {
namespace {

constexpr int64_t kInt64Max = std::numeric_limits<int64_t>::max();
// llama.cpp pads n_ctx, each sequence's cells and the SWA cache to 256.
constexpr int64_t kCellPad = 256;
// LLAMA_MAX_SEQ.
constexpr int64_t kMaxSeq = 256;
// The fork's per-cache turbo tensors: two 128 x 128 f32 rotation matrices and
// 128 f32 InnerQ scales.
constexpr int64_t kTurboRotationBytes = 2 * 128 * 128 * 4 + 128 * 4;

absl::StatusOr<int64_t> AddChecked(int64_t a, int64_t b) {
  if (b > kInt64Max - a) return absl::OutOfRangeError("byte count overflows int64");
  return a + b;
}

absl::StatusOr<int64_t> MulChecked(int64_t a, int64_t b) {
  if (a != 0 && b > kInt64Max / a) return absl::OutOfRangeError("byte count overflows int64");
  return a * b;
}

int64_t PadTo(int64_t x, int64_t n) { return (x + n - 1) / n * n; }

double ToMiB(int64_t bytes) { return static_cast<double>(bytes) / static_cast<double>(kMiB); }

int64_t BlockSize(KvType t) {
  switch (t) {
    case KvType::kF16:
    case KvType::kBF16:
      return 1;
    case KvType::kQ8_0:
    case KvType::kQ4_0:
      return 32;
    default:
      return 128;  // turbo
  }
}

bool IsQuantized(KvType t) { return t != KvType::kF16 && t != KvType::kBF16; }

// Bytes of one row of ne0 elements (ggml_row_size); ne0 is a multiple of the
// block size (checked by the caller).
absl::StatusOr<int64_t> RowBytes(KvType type, int64_t ne0, TurboVariant variant) {
  if (ne0 == 0) return 0;
  return KvRowBytes(type, 1, ne0, variant);
}

// One K or V tensor (or other buffer) of the plan, for measuring.
struct Region {
  int64_t bytes = 0;
  int64_t rows = 0;  // cells x streams (0: an f32 buffer, filled with floats)
  KvType type = KvType::kF16;
  int64_t fill_heads = 0;  // QuantizeKvRows shape whose row is `bytes / rows`
  int64_t fill_head_dim = 0;
};

struct Layout {
  KvCost cost;
  std::vector<Region> regions;
};

bool TurboPadded(KvType t, int64_t head_dim) { return IsTurbo(t) && head_dim % 128 != 0; }

// llama_kv_cache's constructor for the layers in `in_cache`.
absl::Status BuildCache(const ModelKvShape& shape, const std::vector<bool>& in_cache, int64_t cells,
                        int64_t streams, KvType k_type_requested, KvType v_type, bool v_trans,
                        int adaptive_mode, const RuntimeOptions& options, CacheCost* cache,
                        bool* k_upgraded, std::vector<Region>* regions) {
  const int64_t n_layer = static_cast<int64_t>(shape.layers.size());
  cache->cells = cells;
  cache->streams = streams;
  // The fork's auto-asymmetric rule, on layer 0's GQA ratio.
  KvType type_k = k_type_requested;
  if (IsTurbo(type_k) && type_k == v_type && options.turbo_auto_asymmetric) {
    const LayerKvShape& l0 = shape.layers[0];
    const int64_t gqa = l0.n_kv_heads > 0 ? l0.n_head / l0.n_kv_heads : 1;
    if (gqa >= 6) {
      type_k = KvType::kQ8_0;
      *k_upgraded = true;
    }
  }
  cache->k_type = type_k;
  int64_t v_max = 0;
  for (const LayerKvShape& l : shape.layers) v_max = std::max(v_max, l.n_kv_heads * l.head_dim_v);
  const int64_t rows = cells * streams;
  for (int64_t il = 0; il < n_layer; ++il) {
    if (!in_cache[il]) continue;
    const LayerKvShape& l = shape.layers[il];
    ++cache->layers;
    KvType lk = type_k, lv = v_type;
    const bool k_turbo = IsTurbo(type_k), v_turbo = IsTurbo(v_type);
    const bool boundary = il < 2 || il >= n_layer - 2;
    if (n_layer >= 8) {
      if (adaptive_mode == 1 && k_turbo && (il < 4 || il >= n_layer - 4)) {
        lk = lv = KvType::kQ8_0;
      } else if (adaptive_mode == 2 && k_turbo && il >= n_layer - 8) {
        lk = lv = KvType::kQ8_0;
      } else if (adaptive_mode == 5 && v_turbo) {
        lv = boundary ? KvType::kTurbo4 : KvType::kTurbo2;
      } else if (adaptive_mode == 6 && v_turbo) {
        lv = il >= n_layer - 8 ? KvType::kTurbo4 : KvType::kTurbo2;
      } else if (adaptive_mode == 7 && v_turbo) {
        lv = boundary ? KvType::kQ8_0 : KvType::kTurbo2;
      }
    }
    int64_t k_gqa = l.n_kv_heads * l.head_dim_k;
    if (TurboPadded(lk, l.head_dim_k)) k_gqa = l.n_kv_heads * PadTo(l.head_dim_k, 128);
    int64_t v_gqa = v_trans ? v_max : l.n_kv_heads * l.head_dim_v;
    if (!shape.mla && TurboPadded(lv, l.head_dim_v)) {
      v_gqa = v_gqa / l.head_dim_v * PadTo(l.head_dim_v, 128);
    }
    if (k_gqa % BlockSize(lk) != 0 || (!shape.mla && v_gqa % BlockSize(lv) != 0)) {
      const bool k_bad = k_gqa % BlockSize(lk) != 0;
      return absl::InvalidArgumentError(
          absl::StrCat("layer ", il, ": a ", k_bad ? "K" : "V", " row of ", k_bad ? k_gqa : v_gqa,
                       " values cannot be stored as ", KvTypeName(k_bad ? lk : lv), " (blocks of ",
                       BlockSize(k_bad ? lk : lv), ")"));
    }
    GGUFKIT_ASSIGN_OR_RETURN(const int64_t k_row, RowBytes(lk, k_gqa, options.variant));
    GGUFKIT_ASSIGN_OR_RETURN(const int64_t k_bytes, MulChecked(k_row, rows));
    GGUFKIT_ASSIGN_OR_RETURN(cache->k_bytes, AddChecked(cache->k_bytes, k_bytes));
    if (regions != nullptr && k_bytes > 0) {
      const bool padded = TurboPadded(lk, l.head_dim_k);
      regions->push_back(
          Region{k_bytes, rows, lk, padded ? l.n_kv_heads : 1, padded ? l.head_dim_k : k_gqa});
    }
    if (!shape.mla) {
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t v_row, RowBytes(lv, v_gqa, options.variant));
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t v_bytes, MulChecked(v_row, rows));
      GGUFKIT_ASSIGN_OR_RETURN(cache->v_bytes, AddChecked(cache->v_bytes, v_bytes));
      if (regions != nullptr && v_bytes > 0) {
        const bool padded = TurboPadded(lv, l.head_dim_v);
        regions->push_back(Region{v_bytes, rows, lv, padded ? v_gqa / PadTo(l.head_dim_v, 128) : 1,
                                  padded ? l.head_dim_v : v_gqa});
      }
    }
  }
  if (cache->layers > 0 && IsTurbo(type_k)) {
    cache->rotation_bytes = kTurboRotationBytes;
    if (regions != nullptr) regions->push_back(Region{kTurboRotationBytes, 0});
  }
  return absl::OkStatus();
}

absl::StatusOr<Layout> BuildLayout(const ModelKvShape& shape, int64_t ctx, KvType k_type,
                                   KvType v_type, const RuntimeOptions& options,
                                   bool want_regions) {
  GGUFKIT_RETURN_ERROR_IF(ctx < 1 || ctx > (int64_t{1} << 40), "context must be in [1, 2^40], got ",
                          ctx);
  GGUFKIT_RETURN_IF_ERROR(ValidateRuntimeOptions(options));
  GGUFKIT_RETURN_ERROR_IF(shape.layers.empty(), "model has no layers");
  Layout out;
  KvCost& cost = out.cost;
  cost.ctx = ctx;
  cost.k_type = k_type;
  cost.v_type = v_type;
  cost.weights_bytes = shape.weights_bytes;

  // llama_context: batch, micro-batch and cells.
  const int64_t n_batch = shape.causal ? std::min(ctx, options.n_batch) : options.n_batch;
  cost.n_ubatch = std::min(n_batch, options.n_ubatch);
  cost.n_ctx = PadTo(ctx, kCellPad);
  if (options.kv_unified) {
    cost.n_ctx_seq = cost.n_ctx;
  } else {
    cost.n_ctx_seq = PadTo(cost.n_ctx / options.n_seq, kCellPad);
    GGUFKIT_RETURN_ERROR_IF(cost.n_ctx_seq == 0, "context ", ctx, " is less than one cell per ",
                            "sequence (", options.n_seq, " sequences)");
    cost.n_ctx = cost.n_ctx_seq * options.n_seq;
  }
  const int64_t streams = options.kv_unified ? 1 : options.n_seq;

  const bool has_kv = shape.memory == MemoryKind::kKv || shape.memory == MemoryKind::kKvIswa ||
                      shape.memory == MemoryKind::kHybrid ||
                      shape.memory == MemoryKind::kHybridIswa;
  if (has_kv) {
    // llama_init_from_model: flash attention and the head-size checks.
    FlashAttn fa = options.flash_attn;
    if (shape.flash_attn_unsupported) fa = FlashAttn::kOff;
    if (fa != FlashAttn::kOff) {
      for (size_t il = 0; il < shape.layers.size(); ++il) {
        const LayerKvShape& l = shape.layers[il];
        for (int side = 0; side < 2; ++side) {
          const KvType t = side == 0 ? k_type : v_type;
          int64_t head = side == 0 ? l.head_dim_k : l.head_dim_v;
          if (!IsQuantized(t)) continue;
          if (IsTurbo(t) && head % 128 != 0 && (side == 0 || !shape.mla)) head = PadTo(head, 128);
          if (head % BlockSize(t) != 0) {
            return absl::InvalidArgumentError(
                absl::StrCat(side == 0 ? "K" : "V", " cache type ", KvTypeName(t),
                             " with block size ", BlockSize(t), " does not divide the head size ",
                             side == 0 ? l.head_dim_k : l.head_dim_v, " of layer ", il));
          }
        }
      }
    }
    if (fa == FlashAttn::kOff && (IsTurbo(k_type) || IsTurbo(v_type))) fa = FlashAttn::kOn;
    if (fa == FlashAttn::kOff && IsQuantized(v_type)) {
      return absl::InvalidArgumentError(
          absl::StrCat("a ", KvTypeName(v_type), " V cache needs flash attention (llama.cpp)"));
    }
    cost.v_trans = fa == FlashAttn::kOff;

    const int64_t n_layer = static_cast<int64_t>(shape.layers.size());
    const int adaptive_mode = options.turbo_layer_adaptive >= 0
                                  ? options.turbo_layer_adaptive
                                  : (v_type == KvType::kTurbo2 && n_layer >= 8 ? 7 : 0);
    const bool iswa =
        shape.memory == MemoryKind::kKvIswa || shape.memory == MemoryKind::kHybridIswa;
    std::vector<bool> base(shape.layers.size()), swa(shape.layers.size());
    for (size_t il = 0; il < shape.layers.size(); ++il) {
      const LayerKvShape& l = shape.layers[il];
      base[il] = l.attention && !(iswa && l.sliding);
      swa[il] = l.attention && iswa && l.sliding;
    }
    std::vector<Region>* regions = want_regions ? &out.regions : nullptr;
    GGUFKIT_RETURN_IF_ERROR(BuildCache(shape, base, cost.n_ctx_seq, streams, k_type, v_type,
                                       cost.v_trans, adaptive_mode, options, &cost.base,
                                       &cost.k_upgraded, regions));
    if (iswa) {
      int64_t swa_cells = cost.n_ctx_seq;
      if (!options.swa_full) {
        swa_cells = PadTo(std::min(cost.n_ctx_seq,
                                   shape.sliding_window * (options.kv_unified ? options.n_seq : 1) +
                                       cost.n_ubatch),
                          kCellPad);
      }
      GGUFKIT_RETURN_IF_ERROR(BuildCache(shape, swa, swa_cells, streams, k_type, v_type,
                                         cost.v_trans, adaptive_mode, options, &cost.swa,
                                         &cost.k_upgraded, regions));
    }
  }

  const bool has_state = shape.memory == MemoryKind::kRecurrent ||
                         shape.memory == MemoryKind::kHybrid ||
                         shape.memory == MemoryKind::kHybridIswa;
  if (has_state) {
    cost.state_cells = std::max<int64_t>(1, options.n_seq);
    for (const LayerKvShape& l : shape.layers) {
      if (!l.recurrent) continue;
      ++cost.state_layers;
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t r, MulChecked(shape.n_embd_r * 4, cost.state_cells));
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t s, MulChecked(shape.n_embd_s * 4, cost.state_cells));
      GGUFKIT_ASSIGN_OR_RETURN(cost.r_bytes, AddChecked(cost.r_bytes, r));
      GGUFKIT_ASSIGN_OR_RETURN(cost.s_bytes, AddChecked(cost.s_bytes, s));
      if (want_regions) {
        if (r > 0) out.regions.push_back(Region{r, 0});
        if (s > 0) out.regions.push_back(Region{s, 0});
      }
    }
  }
  int64_t total = 0;
  for (int64_t x : {cost.k_bytes(), cost.v_bytes(), cost.rotation_bytes(), cost.r_bytes,
                    cost.s_bytes, cost.weights_bytes}) {
    GGUFKIT_ASSIGN_OR_RETURN(total, AddChecked(total, x));
  }
  return out;
}

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

// How many distinct quantized rows each tensor's cells cycle through.
constexpr int64_t kDistinctRows = 16;

// Quantized source rows for one K or V tensor.
absl::StatusOr<std::vector<uint8_t>> QuantizedSourceRows(const Region& region, TurboVariant variant,
                                                         uint32_t seed) {
  const int64_t row_bytes = region.bytes / region.rows;
  std::vector<float> x(
      static_cast<size_t>(kDistinctRows * region.fill_heads * region.fill_head_dim));
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  for (float& v : x) v = normal(rng);
  std::vector<uint8_t> q(static_cast<size_t>(kDistinctRows * row_bytes));
  GGUFKIT_RETURN_IF_ERROR(QuantizeKvRows(region.type, kDistinctRows, region.fill_heads,
                                         region.fill_head_dim, x.data(), q.data(), variant));
  return q;
}

}  // namespace

absl::Status ValidateRuntimeOptions(const RuntimeOptions& o) {
  GGUFKIT_RETURN_ERROR_IF(o.n_seq < 1 || o.n_seq > kMaxSeq, "--parallel must be in [1, ", kMaxSeq,
                          "], got ", o.n_seq);
  GGUFKIT_RETURN_ERROR_IF(o.n_ubatch < 1 || o.n_ubatch > (int64_t{1} << 24),
                          "--ubatch must be in [1, 2^24], got ", o.n_ubatch);
  GGUFKIT_RETURN_ERROR_IF(o.n_batch < 1 || o.n_batch > (int64_t{1} << 24),
                          "--batch must be in [1, 2^24], got ", o.n_batch);
  const int m = o.turbo_layer_adaptive;
  GGUFKIT_RETURN_ERROR_IF(m != -1 && m != 0 && m != 1 && m != 2 && m != 5 && m != 6 && m != 7,
                          "--turbo-layer-adaptive must be one of 0, 1, 2, 5, 6, 7, got ", m);
  return absl::OkStatus();
}

absl::StatusOr<KvCost> ComputeKvCost(const ModelKvShape& shape, int64_t ctx, KvType k_type,
                                     KvType v_type, const RuntimeOptions& options) {
  GGUFKIT_ASSIGN_OR_RETURN(
      Layout layout, BuildLayout(shape, ctx, k_type, v_type, options, /*want_regions=*/false));
  return layout.cost;
}

absl::StatusOr<int64_t> LargestFittingContext(const ModelKvShape& shape, KvType k_type,
                                              KvType v_type, const RuntimeOptions& options,
                                              int64_t budget_bytes, int64_t max_ctx) {
  // Cost never decreases with ctx: binary search for the last fit.
  int64_t lo = 0, hi = max_ctx;
  while (lo < hi) {
    const int64_t mid = lo + (hi - lo + 1) / 2;
    auto cost = ComputeKvCost(shape, mid, k_type, v_type, options);
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
                                                   const RuntimeOptions& options) {
  GGUFKIT_ASSIGN_OR_RETURN(const Layout layout,
                           BuildLayout(shape, ctx, k_type, v_type, options, /*want_regions=*/true));
  const int64_t total = layout.cost.memory_bytes();
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t available, ReadMemAvailableBytes());
  if (total > available / 10 * 9) {
    return absl::ResourceExhaustedError(
        absl::StrFormat("buffers of %.2f MiB do not fit in available memory (%.2f MiB)",
                        ToMiB(total), ToMiB(available)));
  }
  // Source rows first, so their memory is in the baseline.
  std::vector<std::vector<uint8_t>> sources(layout.regions.size());
  for (size_t i = 0; i < layout.regions.size(); ++i) {
    const Region& r = layout.regions[i];
    if (r.rows == 0) continue;
    GGUFKIT_ASSIGN_OR_RETURN(sources[i],
                             QuantizedSourceRows(r, options.variant, static_cast<uint32_t>(i)));
  }
  std::vector<float> floats(4096);
  {
    std::mt19937 rng(7);
    std::normal_distribution<float> normal;
    for (float& f : floats) f = normal(rng);
  }
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t rss_before, ReadProcStatusBytes("VmRSS"));
  GGUFKIT_ASSIGN_OR_RETURN(Mapping buffer, Mapping::Create(total));
  uint8_t* dst = buffer.data();
  for (size_t i = 0; i < layout.regions.size(); ++i) {
    const Region& r = layout.regions[i];
    if (r.rows == 0) {
      // f32 buffers (rotation matrices, recurrent state): random floats.
      const int64_t chunk = static_cast<int64_t>(floats.size() * sizeof(float));
      for (int64_t off = 0; off < r.bytes; off += chunk) {
        std::memcpy(dst + off, floats.data(), static_cast<size_t>(std::min(chunk, r.bytes - off)));
      }
    } else {
      const int64_t row = r.bytes / r.rows;
      for (int64_t c = 0; c < r.rows; ++c) {
        std::memcpy(dst + c * row, sources[i].data() + (c % kDistinctRows) * row,
                    static_cast<size_t>(row));
      }
    }
    dst += r.bytes;
  }
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t rss_after, ReadProcStatusBytes("VmRSS"));
  MeasuredKv m;
  m.resident_bytes = rss_after - rss_before;
  m.calculated_bytes = total;
  return m;
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
        GGUFKIT_ASSIGN_OR_RETURN(row.cost, ComputeKvCost(shape, ctx, k, v, options.runtime));
        if (options.budget_bytes) row.fits = row.cost.total_bytes() <= *options.budget_bytes;
        if (options.measure) {
          auto m = MeasureKvResidentMemory(shape, ctx, k, v, options.runtime);
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
                                 LargestFittingContext(shape, k, v, options.runtime,
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
    if (l.attention && l.n_kv_heads > 0) return l;
  }
  return s.layers.front();
}

std::string ShapeSummary(const ModelKvShape& s) {
  int64_t min_heads = kInt64Max, max_heads = 0, n_sliding = 0, n_attention = 0, n_recurrent = 0;
  for (const LayerKvShape& l : s.layers) {
    n_recurrent += l.recurrent ? 1 : 0;
    if (!l.attention || l.n_kv_heads == 0) continue;
    ++n_attention;
    min_heads = std::min(min_heads, l.n_kv_heads);
    max_heads = std::max(max_heads, l.n_kv_heads);
    n_sliding += l.sliding ? 1 : 0;
  }
  std::string out =
      absl::StrCat(s.architecture.empty() ? "" : s.architecture + ", ", s.layers.size(), " layers");
  if (s.memory == MemoryKind::kNone) return out + ", no KV cache";
  if (n_attention != static_cast<int64_t>(s.layers.size())) {
    absl::StrAppend(&out, " (", n_attention, " with KV");
    if (n_recurrent > 0) absl::StrAppend(&out, ", ", n_recurrent, " recurrent");
    absl::StrAppend(&out, ")");
  }
  if (n_attention > 0) {
    const LayerKvShape& first = FirstAttentionLayer(s);
    const std::string heads =
        min_heads == max_heads ? absl::StrCat(min_heads) : absl::StrCat(min_heads, "-", max_heads);
    absl::StrAppend(
        &out, ", ", heads, " KV heads, head_dim K ", first.head_dim_k, " / V ",
        s.mla ? std::string("- (MLA: V is a view of K)") : absl::StrCat(first.head_dim_v));
  }
  if (n_sliding > 0) {
    absl::StrAppend(&out, ", ", n_sliding, " sliding-window layers (window ", s.sliding_window,
                    s.swa_type == SwaType::kChunked ? ", chunked" : "", ")");
  }
  if (n_recurrent > 0) {
    absl::StrAppend(&out, ", recurrent state r ", s.n_embd_r, " + s ", s.n_embd_s,
                    " f32 per sequence and layer");
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

const char* FlashAttnName(FlashAttn f) {
  return f == FlashAttn::kOn ? "on" : f == FlashAttn::kOff ? "off" : "auto";
}

std::string OptionsSummary(const RuntimeOptions& o) {
  return absl::StrCat(o.n_seq, " sequence", o.n_seq == 1 ? "" : "s",
                      o.kv_unified ? " (unified cache)" : " (one stream each)", ", ubatch ",
                      o.n_ubatch, ", batch ", o.n_batch, ", flash attention ",
                      FlashAttnName(o.flash_attn), o.swa_full ? ", full-size SWA cache" : "");
}

std::string CellsText(const KvCost& c) {
  std::string s = absl::StrCat(c.base.cells);
  if (c.swa.layers > 0) absl::StrAppend(&s, "+", c.swa.cells);
  if (c.base.streams > 1) absl::StrAppend(&s, "x", c.base.streams);
  return s;
}

}  // namespace

std::string FormatPlanTable(const Plan& plan) {
  const ModelKvShape& s = plan.shape;
  const RuntimeOptions& o = plan.options.runtime;
  std::string out = absl::StrCat("model: ", s.source, " (", ShapeSummary(s), ")\n");
  absl::StrAppend(&out, "memory: ", MemoryKindName(s.memory), "; ", OptionsSummary(o), "\n");
  absl::StrAppend(&out, "weights: ",
                  s.weights_bytes > 0 ? absl::StrFormat("%.2f MiB", ToMiB(s.weights_bytes))
                                      : std::string("unknown (0)"),
                  "\n");
  for (const std::string& note : s.notes) absl::StrAppend(&out, "note: ", note, "\n");
  if (UsesTurbo(plan.options)) {
    absl::StrAppend(&out, "turbo variant: ", VariantName(o.variant),
                    o.turbo_auto_asymmetric ? "" : ", GQA rule off", "\n");
  }
  if (plan.options.budget_bytes) {
    absl::StrAppend(&out, absl::StrFormat("budget: %.2f MiB\n", ToMiB(*plan.options.budget_bytes)));
  }
  bool any_upgrade = false, any_state = false;
  for (const PlanRow& r : plan.rows) {
    any_upgrade |= r.cost.k_upgraded;
    any_state |= r.cost.state_layers > 0;
  }
  absl::StrAppend(&out, absl::StrFormat("%9s  %-6s  %-6s  %12s  %10s  %10s", "ctx", "K type",
                                        "V type", "cells", "K MiB", "V MiB"));
  if (any_state) absl::StrAppend(&out, absl::StrFormat("  %10s", "state MiB"));
  absl::StrAppend(&out,
                  absl::StrFormat("  %10s  %11s  %10s", "cache MiB", "weights MiB", "total MiB"));
  if (plan.options.budget_bytes) absl::StrAppend(&out, "  fits");
  if (plan.options.measure) absl::StrAppend(&out, "  measured MiB  diff");
  absl::StrAppend(&out, "\n");
  for (const PlanRow& r : plan.rows) {
    const KvCost& c = r.cost;
    const std::string k_name =
        c.k_upgraded ? absl::StrCat("q8_0*") : std::string(KvTypeName(c.k_type));
    absl::StrAppend(&out, absl::StrFormat("%9d  %-6s  %-6s  %12s  %10.2f  %10.2f", c.ctx, k_name,
                                          std::string(KvTypeName(c.v_type)), CellsText(c),
                                          ToMiB(c.k_bytes()), ToMiB(c.v_bytes())));
    if (any_state) absl::StrAppend(&out, absl::StrFormat("  %10.2f", ToMiB(c.state_bytes())));
    absl::StrAppend(&out, absl::StrFormat("  %10.2f  %11.2f  %10.2f", ToMiB(c.memory_bytes()),
                                          ToMiB(c.weights_bytes), ToMiB(c.total_bytes())));
    if (r.fits) absl::StrAppend(&out, *r.fits ? "  yes " : "  no  ");
    if (r.measured) {
      absl::StrAppend(
          &out,
          absl::StrFormat("  %12.2f  %+.2f%%", ToMiB(r.measured->resident_bytes),
                          100.0 * (r.measured->resident_bytes - r.measured->calculated_bytes) /
                              std::max<int64_t>(1, r.measured->calculated_bytes)));
    } else if (plan.options.measure) {
      absl::StrAppend(&out, "  not measured: ", r.measure_error);
    }
    absl::StrAppend(&out, "\n");
  }
  if (any_upgrade) {
    absl::StrAppend(&out,
                    "* the fork stores turbo K as q8_0 when K and V share a turbo type and the "
                    "GQA ratio is 6 or more (--no-turbo-gqa-rule keeps turbo, as "
                    "TURBO_AUTO_ASYMMETRIC=0 does)\n");
  }
  absl::StrAppend(&out, "cache = K + V");
  for (const PlanRow& r : plan.rows) {
    if (r.cost.rotation_bytes() > 0) {
      absl::StrAppend(&out, " + turbo rotation matrices (128.5 KiB per cache with turbo K)");
      break;
    }
  }
  if (any_state) absl::StrAppend(&out, " + recurrent state (r, s; f32, one per sequence)");
  absl::StrAppend(&out, "\n");
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
  const RuntimeOptions& o = plan.options.runtime;
  std::string out = "{\n";
  absl::StrAppend(&out, "  \"source\": ", JsonString(s.source), ",\n");
  absl::StrAppend(&out, "  \"architecture\": ", JsonString(s.architecture), ",\n");
  absl::StrAppend(&out, "  \"memory\": ", JsonString(MemoryKindName(s.memory)), ",\n");
  absl::StrAppend(&out, "  \"layers\": ", s.layers.size(), ",\n");
  absl::StrAppend(&out, "  \"kv_heads\": [");
  for (size_t i = 0; i < s.layers.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", s.layers[i].attention ? s.layers[i].n_kv_heads : 0);
  }
  absl::StrAppend(&out, "],\n");
  int64_t n_sliding = 0, n_recurrent = 0, n_attention = 0;
  for (const LayerKvShape& l : s.layers) {
    n_sliding += l.attention && l.sliding ? 1 : 0;
    n_recurrent += l.recurrent ? 1 : 0;
    n_attention += l.attention ? 1 : 0;
  }
  absl::StrAppend(&out, "  \"kv_layers\": ", n_attention, ",\n");
  absl::StrAppend(&out, "  \"recurrent_layers\": ", n_recurrent, ",\n");
  absl::StrAppend(&out, "  \"head_dim_k\": ", FirstAttentionLayer(s).head_dim_k, ",\n");
  absl::StrAppend(&out, "  \"head_dim_v\": ", FirstAttentionLayer(s).head_dim_v, ",\n");
  absl::StrAppend(&out, "  \"mla\": ", s.mla ? "true" : "false", ",\n");
  absl::StrAppend(&out, "  \"sliding_window\": ", s.sliding_window, ",\n");
  absl::StrAppend(&out, "  \"sliding_window_layers\": ", n_sliding, ",\n");
  absl::StrAppend(&out, "  \"n_embd_r\": ", s.n_embd_r, ",\n");
  absl::StrAppend(&out, "  \"n_embd_s\": ", s.n_embd_s, ",\n");
  absl::StrAppend(&out, "  \"context_length\": ", s.context_length, ",\n");
  absl::StrAppend(&out, "  \"weights_bytes\": ", s.weights_bytes, ",\n");
  absl::StrAppend(&out, "  \"notes\": [");
  for (size_t i = 0; i < s.notes.size(); ++i) {
    absl::StrAppend(&out, i ? ", " : "", JsonString(s.notes[i]));
  }
  absl::StrAppend(&out, "],\n");
  absl::StrAppend(&out, "  \"parallel\": ", o.n_seq, ",\n");
  absl::StrAppend(&out, "  \"kv_unified\": ", o.kv_unified ? "true" : "false", ",\n");
  absl::StrAppend(&out, "  \"swa_full\": ", o.swa_full ? "true" : "false", ",\n");
  absl::StrAppend(&out, "  \"ubatch\": ", o.n_ubatch, ",\n");
  absl::StrAppend(&out, "  \"batch\": ", o.n_batch, ",\n");
  absl::StrAppend(&out, "  \"flash_attn\": \"", FlashAttnName(o.flash_attn), "\",\n");
  absl::StrAppend(&out, "  \"turbo_gqa_rule\": ", o.turbo_auto_asymmetric ? "true" : "false",
                  ",\n");
  absl::StrAppend(&out, "  \"turbo_layer_adaptive\": ", o.turbo_layer_adaptive, ",\n");
  absl::StrAppend(&out, "  \"turbo_variant\": \"", VariantName(o.variant), "\",\n");
  if (plan.options.budget_bytes) {
    absl::StrAppend(&out, "  \"budget_bytes\": ", *plan.options.budget_bytes, ",\n");
  }
  absl::StrAppend(&out, "  \"rows\": [\n");
  for (size_t i = 0; i < plan.rows.size(); ++i) {
    const PlanRow& r = plan.rows[i];
    const KvCost& c = r.cost;
    absl::StrAppend(
        &out, "    {\"ctx\": ", c.ctx, ", \"k_type\": \"", KvTypeName(c.k_type),
        "\", \"v_type\": \"", KvTypeName(c.v_type), "\", \"k_type_used\": \"",
        KvTypeName(c.base.layers > 0 ? c.base.k_type : c.swa.k_type), "\", \"n_ctx\": ", c.n_ctx,
        ", \"n_ctx_seq\": ", c.n_ctx_seq, ", \"cells\": ", c.base.cells,
        ", \"swa_cells\": ", c.swa.cells, ", \"streams\": ", c.base.streams,
        ", \"state_cells\": ", c.state_cells, ", \"k_bytes\": ", c.k_bytes(),
        ", \"v_bytes\": ", c.v_bytes(), ", \"kv_bytes\": ", c.kv_bytes(),
        ", \"swa_k_bytes\": ", c.swa.k_bytes, ", \"swa_v_bytes\": ", c.swa.v_bytes,
        ", \"rotation_bytes\": ", c.rotation_bytes(), ", \"r_bytes\": ", c.r_bytes,
        ", \"s_bytes\": ", c.s_bytes, ", \"state_bytes\": ", c.state_bytes(),
        ", \"memory_bytes\": ", c.memory_bytes(), ", \"weights_bytes\": ", c.weights_bytes,
        ", \"total_bytes\": ", c.total_bytes(),
        absl::StrFormat(", \"k_mib\": %.2f, \"v_mib\": %.2f, \"kv_mib\": %.2f, \"state_mib\": "
                        "%.2f, \"memory_mib\": %.2f, \"total_mib\": %.2f",
                        ToMiB(c.k_bytes()), ToMiB(c.v_bytes()), ToMiB(c.kv_bytes()),
                        ToMiB(c.state_bytes()), ToMiB(c.memory_bytes()), ToMiB(c.total_bytes())));
    if (r.fits) absl::StrAppend(&out, ", \"fits\": ", *r.fits ? "true" : "false");
    if (r.measured) {
      absl::StrAppend(&out, ", \"measured_bytes\": ", r.measured->resident_bytes,
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
