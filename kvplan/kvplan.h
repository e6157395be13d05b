// gguf-kvplan's logic: what a KV cache of a given context costs, per K / V
// cache type, next to the weights; which contexts fit a memory budget; and a
// measurement mode that really allocates and fills the cache through the
// codecs (quants/kv_cache.h) and reads the resident memory back.
//
// Sizing (llama.cpp's): per layer and cell, K takes KvRowBytes(type_k,
// n_kv_heads, head_dim_k) and V KvRowBytes(type_v, n_kv_heads, head_dim_v)
// (turbo heads padded to a multiple of 128). A sliding-window layer keeps
// min(ctx, sliding_window) cells; llama.cpp rounds its SWA cache up by a
// micro-batch, which this planner leaves out (it reports the window itself).
// MiB = 2^20 bytes.
#ifndef GGUFKIT_TOOLS_LIB_KVPLAN_H_
#define GGUFKIT_TOOLS_LIB_KVPLAN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/optional.h"
#include "ggufkit/quants/kv_cache.h"

namespace ggufkit::kvplan {

inline constexpr int64_t kMiB = int64_t{1} << 20;

struct LayerKvShape {
  int64_t n_kv_heads = 0;  // 0: a layer without attention (recurrent / hybrid models)
  int64_t head_dim_k = 0;
  int64_t head_dim_v = 0;
  bool sliding = false;  // keeps only ModelKvShape::sliding_window cells
};

struct ModelKvShape {
  std::string source;        // file name, or "flags"
  std::string architecture;  // general.architecture ("" from flags)
  std::vector<LayerKvShape> layers;
  int64_t sliding_window = 0;      // cells of a sliding-window layer; 0: none
  int64_t weights_bytes = 0;       // total tensor bytes; 0 when unknown
  int64_t context_length = 0;      // training context from metadata; 0 unknown
  std::vector<std::string> notes;  // assumptions the planner made
};

// Metadata access for ShapeFromMetadata, so the key logic does not depend on
// how a file was read (gguf/reader.h adapter in the CLI, a map in tests).
class KvMetadataLookup {
 public:
  virtual ~KvMetadataLookup() = default;
  // nullopt when the key is absent; an error when it has another type.
  virtual absl::StatusOr<absl::optional<std::string>> String(absl::string_view key) const = 0;
  // An integer (or bool) scalar as one value, or an integer / bool array.
  virtual absl::StatusOr<absl::optional<std::vector<int64_t>>> Integers(
      absl::string_view key) const = 0;
};

// The KV-cache shape a llama.cpp runtime derives from GGUF metadata:
//   general.architecture (required), <arch>.block_count (required),
//   <arch>.attention.head_count_kv (scalar or per-layer array; 0 = a layer
//   without attention; default head_count), <arch>.attention.key_length /
//   value_length (default embedding_length / head_count of layer 0),
//   <arch>.attention.sliding_window with <arch>.attention.sliding_window_pattern
//   (per-layer bool array, or an integer n: layer i slides iff i % n < n - 1,
//   llama.cpp's rule) or, without a pattern, llama.cpp's built-in pattern for
//   gemma2 (2), gemma3 (6), cohere2 (4) and gpt-oss (2); other architectures
//   with a window but no pattern are planned as full attention (an upper
//   bound; a note says so). <arch>.context_length is reported when present.
// Errors name `source` and the key.
absl::StatusOr<ModelKvShape> ShapeFromMetadata(const KvMetadataLookup& metadata,
                                               const std::string& source, int64_t weights_bytes);

// n_layers identical full-attention layers.
absl::StatusOr<ModelKvShape> UniformShape(int64_t n_layers, int64_t n_kv_heads, int64_t head_dim_k,
                                          int64_t head_dim_v, int64_t weights_bytes);

struct KvCost {
  int64_t ctx = 0;
  KvType k_type = KvType::kF16;
  KvType v_type = KvType::kF16;
  int64_t k_bytes = 0;
  int64_t v_bytes = 0;
  int64_t weights_bytes = 0;
  int64_t kv_bytes() const { return k_bytes + v_bytes; }
  int64_t total_bytes() const { return k_bytes + v_bytes + weights_bytes; }
};

// Bytes of the K and V caches at `ctx` cells. Errors: ctx < 1, a head_dim the
// type cannot take (q8_0 / q4_0 need multiples of 32), overflow.
absl::StatusOr<KvCost> ComputeKvCost(const ModelKvShape& shape, int64_t ctx, KvType k_type,
                                     KvType v_type, TurboVariant variant);

// The largest ctx in [1, max_ctx] whose total (weights + KV) fits in
// budget_bytes; 0 when not even one cell fits.
absl::StatusOr<int64_t> LargestFittingContext(const ModelKvShape& shape, KvType k_type,
                                              KvType v_type, TurboVariant variant,
                                              int64_t budget_bytes, int64_t max_ctx);

// "2048,8192,32K" (K = 1024 cells) -> cells; each >= 1.
absl::StatusOr<std::vector<int64_t>> ParseContextList(absl::string_view text);
// "f16,q8_0,turbo4".
absl::StatusOr<std::vector<KvType>> ParseKvTypeList(absl::string_view text);

// Resident memory of a real KV cache: what --measure reports.
struct MeasuredKv {
  int64_t resident_bytes = 0;    // VmRSS after filling minus VmRSS before allocating
  int64_t calculated_bytes = 0;  // k_bytes + v_bytes
  double relative_difference() const;
};

// Allocates the K and V buffers of `ctx` cells with mmap (fresh pages, so the
// resident-size delta is the cache alone), fills every cell of every layer
// with rows quantized through QuantizeKvRows (a few distinct rows per layer,
// repeated), reads VmRSS, and unmaps. Fails when /proc/self/status is not
// readable or the cache is larger than available memory.
absl::StatusOr<MeasuredKv> MeasureKvResidentMemory(const ModelKvShape& shape, int64_t ctx,
                                                   KvType k_type, KvType v_type,
                                                   TurboVariant variant);

struct PlanOptions {
  std::vector<int64_t> contexts;
  std::vector<KvType> k_types;
  std::vector<KvType> v_types;
  TurboVariant variant = TurboVariant::kCurrent;
  absl::optional<int64_t> budget_bytes;
  bool measure = false;
  // Largest-fit search limit (cells).
  int64_t max_ctx = int64_t{1} << 24;
};

struct PlanRow {
  KvCost cost;
  absl::optional<bool> fits;            // with a budget
  absl::optional<MeasuredKv> measured;  // with measure
  std::string measure_error;            // when measuring this row failed
};

struct LargestFit {
  KvType k_type;
  KvType v_type;
  int64_t ctx;  // 0: nothing fits
};

struct Plan {
  ModelKvShape shape;
  PlanOptions options;
  std::vector<PlanRow> rows;            // ctx-major, then K type, then V type
  std::vector<LargestFit> largest_fit;  // with a budget, per (K, V) pair
};

absl::StatusOr<Plan> MakePlan(const ModelKvShape& shape, const PlanOptions& options);

// Human-readable table (MiB with two decimals) and machine-readable JSON.
std::string FormatPlanTable(const Plan& plan);
std::string FormatPlanJson(const Plan& plan);

}  // namespace ggufkit::kvplan

#endif  // GGUFKIT_TOOLS_LIB_KVPLAN_H_
