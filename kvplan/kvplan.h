// gguf-kvplan's logic: what llama.cpp allocates for a model's memory (K and
// V caches, recurrent state) at a given context and cache type, next to the
// weights; which contexts fit a memory budget; and a measurement mode that
// really allocates and fills those buffers and reads the resident memory back.
//
// The rules are llama.cpp's (and the TurboQuant fork's at 69d8e4be), per
// architecture: which metadata keys the architecture reads (keys it does not
// read are ignored), whether its memory is a KV cache, a pair of KV caches
// (interleaved sliding-window attention, "iSWA"), a recurrent state, or a
// hybrid of both, and how many cells each holds for the runtime options
// (sequences, unified KV, swa_full, micro-batch). docs/kv-cache.md lists them.
// The test suite checks the bytes against llama.cpp's own allocations
// (tests/data/kvplan). MiB = 2^20 bytes.
#ifndef GGUFKIT_KVPLAN_KVPLAN_H_
#define GGUFKIT_KVPLAN_KVPLAN_H_

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

// What llama.cpp's llama_model::create_memory builds.
enum class MemoryKind : uint8_t {
  kNone,        // embedding / diffusion models: no memory at all
  kKv,          // one KV cache
  kKvIswa,      // a full-context KV cache and a sliding-window one
  kRecurrent,   // recurrent state only (mamba, rwkv)
  kHybrid,      // KV cache for attention layers + recurrent state
  kHybridIswa,  // hybrid whose attention layers slide (lfm2 with a window)
};
absl::string_view MemoryKindName(MemoryKind kind);

enum class SwaType : uint8_t { kNone, kStandard, kChunked, kSymmetric };

struct LayerKvShape {
  int64_t n_head = 0;      // query heads (the GQA ratio of layer 0 drives a turbo rule)
  int64_t n_kv_heads = 0;  // 0: the layer's KV tensors are empty
  int64_t head_dim_k = 0;
  int64_t head_dim_v = 0;
  bool sliding = false;    // lives in the sliding-window cache
  bool attention = true;   // has K/V tensors (after the hybrid / shared-KV filters)
  bool recurrent = false;  // has recurrent r/s state
};

struct ModelKvShape {
  std::string source;        // file name, or "flags"
  std::string architecture;  // general.architecture ("" from flags)
  std::vector<LayerKvShape> layers;
  MemoryKind memory = MemoryKind::kKv;
  SwaType swa_type = SwaType::kNone;
  int64_t sliding_window = 0;           // llama.cpp's n_swa (cells a sequence keeps)
  bool mla = false;                     // deepseek2-style MLA: V is a view of K, no V cache
  bool causal = true;                   // causal attention: the batch is capped by the context
  bool flash_attn_unsupported = false;  // grok: llama.cpp turns flash attention off
  int64_t n_embd_r = 0;                 // f32 values of r state per sequence and recurrent layer
  int64_t n_embd_s = 0;                 // f32 values of s state per sequence and recurrent layer
  int64_t weights_bytes = 0;            // total tensor bytes; 0 when unknown
  int64_t context_length = 0;           // training context from metadata; 0 unknown
  std::vector<std::string> notes;       // assumptions the planner made
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
  // True when the key exists and is an array (any element type).
  virtual bool IsArray(absl::string_view key) const = 0;
};

// The memory shape llama.cpp derives from GGUF metadata, with the rules of
// general.architecture (docs/kv-cache.md). Architectures llama.cpp does not
// know are planned as a plain KV cache of every layer, and a note says so.
// Errors name `source` and the key.
absl::StatusOr<ModelKvShape> ShapeFromMetadata(const KvMetadataLookup& metadata,
                                               const std::string& source, int64_t weights_bytes);

// MODEL.gguf's shape: its metadata through ShapeFromMetadata, its tensors'
// bytes as the weights. A split model is opened as one model (every shard
// validated, weights summed over all shards). Errors name the file.
absl::StatusOr<ModelKvShape> ShapeFromFile(const std::string& path);

// n_layers identical full-attention layers (n_head = n_kv_heads unless given).
absl::StatusOr<ModelKvShape> UniformShape(int64_t n_layers, int64_t n_kv_heads, int64_t head_dim_k,
                                          int64_t head_dim_v, int64_t weights_bytes,
                                          int64_t n_head = 0);

enum class FlashAttn : uint8_t { kAuto, kOn, kOff };

// Runtime options that change the bytes. The defaults are llama-server's:
// 4 slots sharing one unified cache (--parallel auto), micro-batch 512, batch
// 2048, flash attention auto (V not transposed), SWA cache of window size,
// and the fork's turbo defaults.
struct RuntimeOptions {
  int64_t n_seq = 4;       // --parallel: sequences (slots)
  bool kv_unified = true;  // one cache shared by all sequences
  bool swa_full = false;   // the SWA cache as large as the full one
  int64_t n_ubatch = 512;
  int64_t n_batch = 2048;
  FlashAttn flash_attn = FlashAttn::kAuto;
  // The fork turns turbo K into q8_0 when K and V have the same turbo type and
  // layer 0's GQA ratio (n_head / n_kv_heads) is 6 or more
  // (TURBO_AUTO_ASYMMETRIC=0 disables it).
  bool turbo_auto_asymmetric = true;
  // TURBO_LAYER_ADAPTIVE: -1 = the fork's default (mode 7 when V is turbo2 and
  // the model has 8+ layers), 0 = off, 1, 2, 5, 6, 7 = that mode.
  int turbo_layer_adaptive = -1;
  TurboVariant variant = TurboVariant::kCurrent;
};
absl::Status ValidateRuntimeOptions(const RuntimeOptions& options);

// One llama_kv_cache.
struct CacheCost {
  int64_t cells = 0;    // per stream
  int64_t streams = 0;  // 1 when unified, else one per sequence
  int64_t layers = 0;   // layers with K/V tensors in this cache
  int64_t k_bytes = 0;
  int64_t v_bytes = 0;
  int64_t rotation_bytes = 0;    // turbo K: the fork's rotation matrices (131,584 bytes)
  KvType k_type = KvType::kF16;  // the cache's K type after the turbo GQA rule
};

struct KvCost {
  int64_t ctx = 0;               // requested context (cells, all sequences)
  KvType k_type = KvType::kF16;  // requested
  KvType v_type = KvType::kF16;
  bool k_upgraded = false;  // turbo K became q8_0 (GQA rule)
  bool v_trans = false;     // V stored transposed (flash attention off)
  int64_t n_ctx = 0;        // llama.cpp's n_ctx after padding
  int64_t n_ctx_seq = 0;    // cells per sequence stream
  int64_t n_ubatch = 0;     // effective micro-batch
  CacheCost base;           // the (full-context) KV cache
  CacheCost swa;            // the sliding-window cache (iSWA models)
  int64_t state_cells = 0;  // recurrent state slots (= sequences)
  int64_t state_layers = 0;
  int64_t r_bytes = 0;
  int64_t s_bytes = 0;
  int64_t weights_bytes = 0;
  int64_t k_bytes() const { return base.k_bytes + swa.k_bytes; }
  int64_t v_bytes() const { return base.v_bytes + swa.v_bytes; }
  int64_t rotation_bytes() const { return base.rotation_bytes + swa.rotation_bytes; }
  int64_t kv_bytes() const { return k_bytes() + v_bytes(); }
  int64_t state_bytes() const { return r_bytes + s_bytes; }
  // Everything the memory module allocates: K + V + rotation + r + s.
  int64_t memory_bytes() const { return kv_bytes() + rotation_bytes() + state_bytes(); }
  int64_t total_bytes() const { return memory_bytes() + weights_bytes; }
};

// Bytes at `ctx` requested cells (llama.cpp's n_ctx). Errors: ctx < 1, a head
// size the type cannot take (llama.cpp's check), a quantized V cache with
// flash attention off, overflow.
absl::StatusOr<KvCost> ComputeKvCost(const ModelKvShape& shape, int64_t ctx, KvType k_type,
                                     KvType v_type, const RuntimeOptions& options);

// The largest ctx in [1, max_ctx] whose total (weights + memory) fits in
// budget_bytes; 0 when not even one cell fits.
absl::StatusOr<int64_t> LargestFittingContext(const ModelKvShape& shape, KvType k_type,
                                              KvType v_type, const RuntimeOptions& options,
                                              int64_t budget_bytes, int64_t max_ctx);

// "2048,8192,32K" (K = 1024 cells) -> cells; each >= 1.
absl::StatusOr<std::vector<int64_t>> ParseContextList(absl::string_view text);
// "f16,q8_0,turbo4".
absl::StatusOr<std::vector<KvType>> ParseKvTypeList(absl::string_view text);

// Resident memory of real buffers: what --measure reports.
struct MeasuredKv {
  int64_t resident_bytes = 0;    // VmRSS after filling minus VmRSS before allocating
  int64_t calculated_bytes = 0;  // KvCost::memory_bytes()
  double relative_difference() const;
};

// Allocates every buffer of the plan (K, V, rotation, r, s) with mmap (fresh
// pages, so the resident-size delta is the memory alone), fills every cell of
// every layer (K / V rows quantized through QuantizeKvRows, a few distinct
// rows per layer, repeated; the f32 recurrent state with random values),
// reads VmRSS, and unmaps. Fails when /proc/self/status is not readable or
// the buffers are larger than available memory.
absl::StatusOr<MeasuredKv> MeasureKvResidentMemory(const ModelKvShape& shape, int64_t ctx,
                                                   KvType k_type, KvType v_type,
                                                   const RuntimeOptions& options);

struct PlanOptions {
  std::vector<int64_t> contexts;
  std::vector<KvType> k_types;
  std::vector<KvType> v_types;
  RuntimeOptions runtime;
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

#endif  // GGUFKIT_KVPLAN_KVPLAN_H_
