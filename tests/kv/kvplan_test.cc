// gguf-kvplan: the planner's bytes equal what llama.cpp (the TurboQuant fork
// at 69d8e4be) allocates, for every architecture and case recorded in
// tests/data/kvplan (K, V, rotation matrices, recurrent r/s, cells); the
// per-family rules on small hand-made shapes; the budget search; --measure
// agrees with the calculation within 1 %; and the CLI's flag handling.
#include "ggufkit/kvplan/kvplan.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "ggufkit/quants/type_traits.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"

namespace ggufkit::kvplan {
namespace {

using ::ggufkit::testing::PythonPath;
using ::ggufkit::testing::RunCommand;
using ::ggufkit::testing::TempDir;
using ::ggufkit::testing::ToolsDir;

// One sequence, no unified cache: the cache is exactly the context.
RuntimeOptions Single() {
  RuntimeOptions o;
  o.n_seq = 1;
  o.kv_unified = false;
  return o;
}

RuntimeOptions V1(RuntimeOptions o = RuntimeOptions()) {
  o.variant = TurboVariant::kV1;
  return o;
}

ModelKvShape Uniform(int64_t layers, int64_t heads, int64_t head_dim, int64_t weights = 0,
                     int64_t n_head = 0) {
  auto s = UniformShape(layers, heads, head_dim, head_dim, weights, n_head);
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

KvCost Cost(const ModelKvShape& shape, int64_t ctx, KvType k, KvType v,
            const RuntimeOptions& o = RuntimeOptions()) {
  auto cost = ComputeKvCost(shape, ctx, k, v, o);
  EXPECT_TRUE(cost.ok()) << cost.status();
  return cost.ok() ? *cost : KvCost();
}

// llama.cpp's log for Bonsai-8B (36 layers, 8 KV heads, head_dim 128), 4096
// cells: f16 288 + 288 = 576 MiB, q8_0 153 + 153 = 306 MiB. llama-server's
// default 4 unified slots share those 4096 cells.
TEST(KvPlanTest, Bonsai8BAt4096) {
  const ModelKvShape bonsai = Uniform(36, 8, 128);
  for (const RuntimeOptions& o : {RuntimeOptions(), Single()}) {
    KvCost c = Cost(bonsai, 4096, KvType::kF16, KvType::kF16, o);
    EXPECT_EQ(c.k_bytes(), 288 * kMiB);
    EXPECT_EQ(c.v_bytes(), 288 * kMiB);
    EXPECT_EQ(c.memory_bytes(), 576 * kMiB);
    c = Cost(bonsai, 4096, KvType::kQ8_0, KvType::kQ8_0, o);
    EXPECT_EQ(c.k_bytes(), 153 * kMiB);
    EXPECT_EQ(c.v_bytes(), 153 * kMiB);
  }
}

// A 40-layer, 8-KV-head, head_dim-128 model: f16 320 / 1,280 / 5,120 /
// 10,240 MiB and turbo4 v1 85 / 340 / 1,360 / 2,720 MiB at 2K / 8K / 32K / 64K
// (K + V; turbo K adds the fork's 128.5 KiB of rotation matrices).
TEST(KvPlanTest, FortyLayerModel) {
  const ModelKvShape m = Uniform(40, 8, 128);
  const int64_t ctx[] = {2048, 8192, 32768, 65536};
  const int64_t f16[] = {320, 1280, 5120, 10240};
  const int64_t turbo4_v1[] = {85, 340, 1360, 2720};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(Cost(m, ctx[i], KvType::kF16, KvType::kF16).kv_bytes(), f16[i] * kMiB) << ctx[i];
    const KvCost t = Cost(m, ctx[i], KvType::kTurbo4, KvType::kTurbo4, V1());
    EXPECT_EQ(t.kv_bytes(), turbo4_v1[i] * kMiB) << ctx[i];
    EXPECT_EQ(t.rotation_bytes(), 2 * 128 * 128 * 4 + 128 * 4);
  }
  // The current 66-byte turbo4 block is 2/68 smaller than v1.
  EXPECT_EQ(Cost(m, 2048, KvType::kTurbo4, KvType::kTurbo4).kv_bytes(),
            int64_t{2} * 40 * 2048 * 8 * 66);
}

// llama_context pads the context to 256 cells, and each sequence's share too.
TEST(KvPlanTest, CellsArePaddedPerSequence) {
  const ModelKvShape m = Uniform(2, 2, 128);
  KvCost c = Cost(m, 1000, KvType::kF16, KvType::kF16, Single());
  EXPECT_EQ(c.n_ctx, 1024);
  EXPECT_EQ(c.base.cells, 1024);
  RuntimeOptions three = Single();
  three.n_seq = 3;  // 5000 -> 5120 / 3 = 1706 -> 1792 cells in each of 3 streams
  c = Cost(m, 5000, KvType::kF16, KvType::kF16, three);
  EXPECT_EQ(c.n_ctx_seq, 1792);
  EXPECT_EQ(c.base.streams, 3);
  EXPECT_EQ(c.k_bytes(), 2 * 3 * 1792 * 2 * 128 * 2);
  three.kv_unified = true;  // one stream of 5120 cells
  c = Cost(m, 5000, KvType::kF16, KvType::kF16, three);
  EXPECT_EQ(c.base.streams, 1);
  EXPECT_EQ(c.k_bytes(), 2 * 5120 * 2 * 128 * 2);
}

// Metadata held in maps, standing in for a GGUF file's.
class MapLookup : public KvMetadataLookup {
 public:
  std::map<std::string, std::string> strings;
  std::map<std::string, std::vector<int64_t>> integers;
  std::set<std::string> arrays;  // integer keys stored as arrays
  absl::StatusOr<absl::optional<std::string>> String(absl::string_view key) const override {
    if (integers.count(std::string(key))) return absl::InvalidArgumentError("not a string");
    auto it = strings.find(std::string(key));
    if (it == strings.end()) return absl::optional<std::string>();
    return absl::optional<std::string>(it->second);
  }
  absl::StatusOr<absl::optional<std::vector<int64_t>>> Integers(
      absl::string_view key) const override {
    if (strings.count(std::string(key))) return absl::InvalidArgumentError("not an integer");
    auto it = integers.find(std::string(key));
    if (it == integers.end()) return absl::optional<std::vector<int64_t>>();
    return absl::optional<std::vector<int64_t>>(it->second);
  }
  bool IsArray(absl::string_view key) const override {
    auto it = integers.find(std::string(key));
    return arrays.count(std::string(key)) || (it != integers.end() && it->second.size() != 1);
  }
};

MapLookup LlamaLike() {
  MapLookup md;
  md.strings["general.architecture"] = "llama";
  md.integers["llama.block_count"] = {36};
  md.integers["llama.attention.head_count"] = {32};
  md.integers["llama.attention.head_count_kv"] = {8};
  md.integers["llama.embedding_length"] = {4096};
  md.integers["llama.context_length"] = {65536};
  return md;
}

TEST(KvPlanMetadataTest, HeadDimFallsBackToEmbeddingOverHeads) {
  const MapLookup md = LlamaLike();
  auto shape = ShapeFromMetadata(md, "bonsai.gguf", 1000);
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(shape->architecture, "llama");
  EXPECT_EQ(shape->memory, MemoryKind::kKv);
  ASSERT_EQ(shape->layers.size(), 36u);
  EXPECT_EQ(shape->layers[0].n_kv_heads, 8);
  EXPECT_EQ(shape->layers[0].head_dim_k, 128);
  EXPECT_EQ(shape->layers[0].head_dim_v, 128);
  EXPECT_EQ(shape->context_length, 65536);
  EXPECT_EQ(shape->weights_bytes, 1000);
  EXPECT_EQ(Cost(*shape, 4096, KvType::kQ8_0, KvType::kQ8_0).kv_bytes(), 306 * kMiB);
}

TEST(KvPlanMetadataTest, ExplicitKeyAndValueLengths) {
  MapLookup md = LlamaLike();
  md.integers["llama.attention.key_length"] = {192};
  md.integers["llama.attention.value_length"] = {128};
  auto shape = ShapeFromMetadata(md, "m.gguf", 0);
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(shape->layers[5].head_dim_k, 192);
  EXPECT_EQ(shape->layers[5].head_dim_v, 128);
  // turbo pads the 192-wide K heads to 256.
  const KvCost c = Cost(*shape, 256, KvType::kTurbo3, KvType::kF16, V1(Single()));
  EXPECT_EQ(c.k_bytes(), int64_t{36} * 256 * 8 * 2 * 50);
  // No head_count_kv: every head has its own KV (no GQA).
  md.integers.erase("llama.attention.head_count_kv");
  shape = ShapeFromMetadata(md, "m.gguf", 0);
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->layers[0].n_kv_heads, 32);
}

// llama: per-layer KV heads, and layers with 0 KV heads keep empty tensors.
TEST(KvPlanMetadataTest, PerLayerKvHeads) {
  MapLookup md = LlamaLike();
  md.integers["llama.block_count"] = {4};
  md.integers["llama.attention.head_count_kv"] = {8, 0, 4, 0};
  auto shape = ShapeFromMetadata(md, "deci-like.gguf", 0);
  ASSERT_TRUE(shape.ok()) << shape.status();
  const KvCost c = Cost(*shape, 100, KvType::kF16, KvType::kF16, Single());
  EXPECT_EQ(c.k_bytes(), 256 * (8 + 4) * 128 * int64_t{2});  // 100 cells -> 256
  EXPECT_EQ(c.base.layers, 4);
  md.integers["llama.attention.head_count_kv"] = {8, 0, 4};  // wrong length
  auto bad = ShapeFromMetadata(md, "deci-like.gguf", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("head_count_kv"), absl::string_view::npos);
  EXPECT_NE(bad.status().message().find("deci-like.gguf"), absl::string_view::npos);
}

// Keys an architecture does not read are ignored: llama has no sliding
// window even when the file carries one.
TEST(KvPlanMetadataTest, KeysTheArchitectureDoesNotReadAreIgnored) {
  MapLookup md = LlamaLike();
  md.integers["llama.attention.sliding_window"] = {4096};
  md.integers["llama.attention.sliding_window_pattern"] = {2};
  md.integers["llama.full_attention_interval"] = {2};
  md.integers["llama.ssm.conv_kernel"] = {4};
  auto shape = ShapeFromMetadata(md, "m.gguf", 0);
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(shape->memory, MemoryKind::kKv);
  for (const LayerKvShape& l : shape->layers) {
    EXPECT_FALSE(l.sliding);
    EXPECT_FALSE(l.recurrent);
  }
}

MapLookup Gemma3Like() {
  MapLookup md;
  md.strings["general.architecture"] = "gemma3";
  md.integers["gemma3.block_count"] = {12};
  md.integers["gemma3.embedding_length"] = {2048};
  md.integers["gemma3.attention.head_count"] = {8};
  md.integers["gemma3.attention.head_count_kv"] = {4};
  md.integers["gemma3.attention.key_length"] = {256};
  md.integers["gemma3.attention.value_length"] = {256};
  md.integers["gemma3.attention.sliding_window"] = {1024};
  return md;
}

// gemma3: 5 sliding layers then a global one; the SWA cache holds the window
// for every sequence plus a micro-batch, padded to 256 (llama_kv_cache_iswa).
TEST(KvPlanMetadataTest, SlidingWindowCache) {
  MapLookup md = Gemma3Like();
  auto shape = ShapeFromMetadata(md, "g.gguf", 0);
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(shape->memory, MemoryKind::kKvIswa);
  int n_sliding = 0;
  for (const LayerKvShape& l : shape->layers) n_sliding += l.sliding;
  EXPECT_EQ(n_sliding, 10);
  EXPECT_FALSE(shape->layers[5].sliding);
  EXPECT_FALSE(shape->layers[11].sliding);
  const int64_t row = 4 * 256 * 2;
  // llama-server's defaults: 4 unified slots: 1024 * 4 + 512 = 4608 cells.
  KvCost c = Cost(*shape, 32768, KvType::kF16, KvType::kF16);
  EXPECT_EQ(c.swa.cells, 4608);
  EXPECT_EQ(c.k_bytes(), (2 * int64_t{32768} + 10 * 4608) * row);
  // One sequence: 1024 + 512 = 1536; micro-batch 64: 1088 -> 1280.
  RuntimeOptions o = Single();
  EXPECT_EQ(Cost(*shape, 32768, KvType::kF16, KvType::kF16, o).swa.cells, 1536);
  o.n_ubatch = 64;
  EXPECT_EQ(Cost(*shape, 32768, KvType::kF16, KvType::kF16, o).swa.cells, 1280);
  // Never more than the context; --swa-full: the whole context.
  EXPECT_EQ(Cost(*shape, 1000, KvType::kF16, KvType::kF16, o).swa.cells, 1024);
  o.swa_full = true;
  EXPECT_EQ(Cost(*shape, 32768, KvType::kF16, KvType::kF16, o).swa.cells, 32768);
  // A per-layer array pattern is ignored by gemma3 (llama.cpp reads a period
  // only); a scalar period is used.
  md.integers["gemma3.attention.sliding_window_pattern"] = {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0};
  shape = ShapeFromMetadata(md, "g.gguf", 0);
  ASSERT_TRUE(shape.ok());
  EXPECT_TRUE(shape->layers[1].sliding);
  EXPECT_FALSE(shape->layers[5].sliding);
  md.integers["gemma3.attention.sliding_window_pattern"] = {2};
  shape = ShapeFromMetadata(md, "g.gguf", 0);
  ASSERT_TRUE(shape.ok());
  EXPECT_TRUE(shape->layers[0].sliding);
  EXPECT_FALSE(shape->layers[1].sliding);
  // Without a window gemma3 is a plain KV cache.
  md.integers.erase("gemma3.attention.sliding_window");
  shape = ShapeFromMetadata(md, "g.gguf", 0);
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->memory, MemoryKind::kKv);
  // An architecture llama.cpp does not know: a plain KV cache and a note.
  md = Gemma3Like();
  MapLookup mystery;
  mystery.strings["general.architecture"] = "mystery";
  for (const auto& kv : md.integers) {
    mystery.integers["mystery" + kv.first.substr(kv.first.find('.'))] = kv.second;
  }
  shape = ShapeFromMetadata(mystery, "x.gguf", 0);
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(shape->memory, MemoryKind::kKv);
  ASSERT_EQ(shape->notes.size(), 1u);
}

// qwen3.5-27B's published hyperparameters: 64 layers, full attention every
// 4th (16 layers, 24 heads / 4 KV heads of 256), Gated DeltaNet elsewhere
// (conv 4, 16 key heads and 48 value heads of 128).
MapLookup Qwen35_27B() {
  MapLookup md;
  md.strings["general.architecture"] = "qwen35";
  md.integers["qwen35.block_count"] = {64};
  md.integers["qwen35.context_length"] = {262144};
  md.integers["qwen35.embedding_length"] = {5120};
  md.integers["qwen35.feed_forward_length"] = {17408};
  md.integers["qwen35.attention.head_count"] = {24};
  md.integers["qwen35.attention.head_count_kv"] = {4};
  md.integers["qwen35.attention.key_length"] = {256};
  md.integers["qwen35.attention.value_length"] = {256};
  md.integers["qwen35.full_attention_interval"] = {4};
  md.integers["qwen35.ssm.conv_kernel"] = {4};
  md.integers["qwen35.ssm.inner_size"] = {6144};
  md.integers["qwen35.ssm.state_size"] = {128};
  md.integers["qwen35.ssm.time_step_rank"] = {48};
  md.integers["qwen35.ssm.group_count"] = {16};
  md.integers["qwen35.attention.sliding_window"] = {4096};  // not read by qwen35
  return md;
}

TEST(KvPlanMetadataTest, HybridQwen35) {
  auto shape = ShapeFromMetadata(Qwen35_27B(), "qwen3.5-27b", 0);
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(shape->memory, MemoryKind::kHybrid);
  int attention = 0, recurrent = 0;
  for (const LayerKvShape& l : shape->layers) {
    attention += l.attention;
    recurrent += l.recurrent;
    EXPECT_NE(l.attention, l.recurrent);
    EXPECT_FALSE(l.sliding);
  }
  EXPECT_EQ(attention, 16);
  EXPECT_EQ(recurrent, 48);
  EXPECT_TRUE(shape->layers[3].attention);
  EXPECT_EQ(shape->n_embd_r, 3 * (6144 + 2 * 16 * 128));
  EXPECT_EQ(shape->n_embd_s, 128 * 6144);
  // f16 at 32K: 16 layers x 32768 x 4 x 256 x 2 bytes for K and for V; the
  // state: 48 layers x 4 slots x (r + s) f32.
  const KvCost c = Cost(*shape, 32768, KvType::kF16, KvType::kF16);
  EXPECT_EQ(c.k_bytes(), int64_t{16} * 32768 * 4 * 256 * 2);
  EXPECT_EQ(c.v_bytes(), c.k_bytes());
  EXPECT_EQ(c.state_cells, 4);
  EXPECT_EQ(c.r_bytes, int64_t{48} * 4 * shape->n_embd_r * 4);
  EXPECT_EQ(c.s_bytes, int64_t{48} * 4 * shape->n_embd_s * 4);
  EXPECT_EQ(c.memory_bytes(), c.kv_bytes() + c.state_bytes());
  // GQA 24 / 4 = 6: turbo4 K with turbo4 V is stored as q8_0 by the fork.
  KvCost t = Cost(*shape, 32768, KvType::kTurbo4, KvType::kTurbo4, V1());
  EXPECT_TRUE(t.k_upgraded);
  EXPECT_EQ(t.base.k_type, KvType::kQ8_0);
  EXPECT_EQ(t.k_bytes(), int64_t{16} * 32768 * 4 * 256 / 32 * 34);
  EXPECT_EQ(t.v_bytes(), int64_t{16} * 32768 * 4 * 2 * 68);
  EXPECT_EQ(t.rotation_bytes(), 0);
  RuntimeOptions keep = V1();
  keep.turbo_auto_asymmetric = false;
  t = Cost(*shape, 32768, KvType::kTurbo4, KvType::kTurbo4, keep);
  EXPECT_FALSE(t.k_upgraded);
  EXPECT_EQ(t.k_bytes(), t.v_bytes());
  EXPECT_GT(t.rotation_bytes(), 0);
  // Different K and V types: the rule does not apply.
  EXPECT_FALSE(Cost(*shape, 32768, KvType::kTurbo4, KvType::kTurbo3, V1()).k_upgraded);
}

// turbo2 V on 8+ layers: the fork keeps the first and last two layers' V in
// q8_0 (TURBO_LAYER_ADAPTIVE mode 7, on by default).
TEST(KvPlanTest, Turbo2BoundaryLayers) {
  const ModelKvShape m = Uniform(8, 2, 128);
  const int64_t cells = 256;
  KvCost c = Cost(m, cells, KvType::kTurbo2, KvType::kTurbo2, Single());
  EXPECT_EQ(c.k_bytes(), 8 * cells * 2 * 34);
  EXPECT_EQ(c.v_bytes(), (4 * 2 * 128 / 32 * 34 + 4 * 2 * 34) * cells);
  RuntimeOptions off = Single();
  off.turbo_layer_adaptive = 0;
  c = Cost(m, cells, KvType::kTurbo2, KvType::kTurbo2, off);
  EXPECT_EQ(c.v_bytes(), 8 * cells * 2 * 34);
  // Fewer than 8 layers: never.
  c = Cost(Uniform(7, 2, 128), cells, KvType::kTurbo2, KvType::kTurbo2, Single());
  EXPECT_EQ(c.v_bytes(), 7 * cells * 2 * 34);
}

MapLookup DeepSeek2Mla() {
  MapLookup md;
  md.strings["general.architecture"] = "deepseek2";
  md.integers["deepseek2.block_count"] = {4};
  md.integers["deepseek2.embedding_length"] = {7168};
  md.integers["deepseek2.attention.head_count"] = {128};
  md.integers["deepseek2.attention.head_count_kv"] = {1};
  md.integers["deepseek2.attention.key_length"] = {576};
  md.integers["deepseek2.attention.value_length"] = {512};
  md.integers["deepseek2.attention.key_length_mla"] = {192};
  md.integers["deepseek2.attention.value_length_mla"] = {128};
  md.integers["deepseek2.attention.kv_lora_rank"] = {512};
  md.integers["deepseek2.rope.dimension_count"] = {64};
  return md;
}

// MLA: one 576-wide K row (kv_lora_rank 512 + 64 rope dims) per cell, no V
// cache (V is a view of K, with or without flash attention); turbo pads K to
// 640; 128 heads on 1 KV head trips the GQA rule.
TEST(KvPlanMetadataTest, DeepSeek2Mla) {
  MapLookup md = DeepSeek2Mla();
  auto shape = ShapeFromMetadata(md, "ds.gguf", 0);
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_TRUE(shape->mla);
  for (FlashAttn fa : {FlashAttn::kAuto, FlashAttn::kOff}) {
    RuntimeOptions o = Single();
    o.flash_attn = fa;
    const KvCost c = Cost(*shape, 4096, KvType::kF16, KvType::kF16, o);
    EXPECT_EQ(c.k_bytes(), int64_t{4} * 4096 * 576 * 2);
    EXPECT_EQ(c.v_bytes(), 0);
  }
  RuntimeOptions o = V1(Single());
  KvCost t = Cost(*shape, 4096, KvType::kTurbo3, KvType::kF16, o);
  EXPECT_EQ(t.k_bytes(), int64_t{4} * 4096 * 5 * 50);  // 640 = 5 blocks
  t = Cost(*shape, 4096, KvType::kTurbo3, KvType::kTurbo3, o);
  EXPECT_TRUE(t.k_upgraded);
  EXPECT_EQ(t.k_bytes(), int64_t{4} * 4096 * 576 / 32 * 34);
  // Without the MLA keys (older files) V is a cache of its own.
  md.integers.erase("deepseek2.attention.key_length_mla");
  md.integers.erase("deepseek2.attention.value_length_mla");
  shape = ShapeFromMetadata(md, "ds.gguf", 0);
  ASSERT_TRUE(shape.ok());
  EXPECT_FALSE(shape->mla);
  EXPECT_EQ(Cost(*shape, 4096, KvType::kF16, KvType::kF16, Single()).v_bytes(),
            int64_t{4} * 4096 * 512 * 2);
}

// Pure recurrent: no KV at all, state per sequence.
TEST(KvPlanMetadataTest, Mamba) {
  MapLookup md;
  md.strings["general.architecture"] = "mamba";
  md.integers["mamba.block_count"] = {4};
  md.integers["mamba.embedding_length"] = {768};
  md.integers["mamba.ssm.conv_kernel"] = {4};
  md.integers["mamba.ssm.inner_size"] = {1536};
  md.integers["mamba.ssm.state_size"] = {16};
  md.integers["mamba.ssm.time_step_rank"] = {48};
  md.integers["mamba.ssm.group_count"] = {8};  // mamba (1) does not read it
  auto shape = ShapeFromMetadata(md, "mamba.gguf", 0);
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(shape->memory, MemoryKind::kRecurrent);
  const KvCost c = Cost(*shape, 65536, KvType::kF16, KvType::kF16);
  EXPECT_EQ(c.kv_bytes(), 0);
  EXPECT_EQ(c.r_bytes, int64_t{4} * 4 * 3 * 1536 * 4);
  EXPECT_EQ(c.s_bytes, int64_t{4} * 4 * 16 * 1536 * 4);
  md.integers["mamba.ssm.state_size"] = {1 << 24};  // 2^24 x 1536 values: refused, not wrapped
  auto huge = ShapeFromMetadata(md, "mamba.gguf", 0);
  ASSERT_FALSE(huge.ok());
  EXPECT_NE(huge.status().message().find("mamba.gguf"), absl::string_view::npos);
  md.integers.erase("mamba.ssm.state_size");
  auto bad = ShapeFromMetadata(md, "mamba.gguf", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("mamba.ssm.state_size"), absl::string_view::npos);
}

TEST(KvPlanMetadataTest, MissingOrBadKeysAreErrors) {
  MapLookup md = LlamaLike();
  md.strings.erase("general.architecture");
  EXPECT_FALSE(ShapeFromMetadata(md, "m.gguf", 0).ok());
  md = LlamaLike();
  md.integers.erase("llama.block_count");
  auto s = ShapeFromMetadata(md, "m.gguf", 0);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("llama.block_count"), absl::string_view::npos);
  md = LlamaLike();
  md.integers["llama.block_count"] = {int64_t{1} << 40};  // absurd: rejected before allocating
  EXPECT_FALSE(ShapeFromMetadata(md, "m.gguf", 0).ok());
  md = LlamaLike();
  md.integers.erase("llama.embedding_length");  // no key_length and no fallback
  EXPECT_FALSE(ShapeFromMetadata(md, "m.gguf", 0).ok());
  md = LlamaLike();
  md.integers["llama.attention.head_count_kv"] = {0};
  EXPECT_FALSE(ShapeFromMetadata(md, "m.gguf", 0).ok());
  md = LlamaLike();
  md.strings["llama.block_count"] = "36";
  md.integers.erase("llama.block_count");
  EXPECT_FALSE(ShapeFromMetadata(md, "m.gguf", 0).ok());  // wrong type
  // gemma2 with a period that makes no layer slide: llama.cpp aborts.
  MapLookup g = Gemma3Like();
  MapLookup g2;
  g2.strings["general.architecture"] = "gemma2";
  for (const auto& kv : g.integers) g2.integers["gemma2" + kv.first.substr(6)] = kv.second;
  g2.integers["gemma2.attention.sliding_window_pattern"] = {1};
  EXPECT_FALSE(ShapeFromMetadata(g2, "g2.gguf", 0).ok());
}

TEST(KvPlanTest, LlamaCppChecksAreErrors) {
  // q8_0 needs head sizes divisible by 32 (with flash attention).
  EXPECT_FALSE(ComputeKvCost(Uniform(2, 2, 48), 16, KvType::kQ8_0, KvType::kF16, Single()).ok());
  // A quantized V cache needs flash attention.
  RuntimeOptions off = Single();
  off.flash_attn = FlashAttn::kOff;
  EXPECT_FALSE(ComputeKvCost(Uniform(2, 2, 128), 16, KvType::kF16, KvType::kQ8_0, off).ok());
  // turbo switches flash attention back on.
  EXPECT_TRUE(ComputeKvCost(Uniform(2, 2, 128), 16, KvType::kF16, KvType::kTurbo3, off).ok());
  RuntimeOptions bad = Single();
  bad.n_seq = 0;
  EXPECT_FALSE(ComputeKvCost(Uniform(2, 2, 128), 16, KvType::kF16, KvType::kF16, bad).ok());
  bad = Single();
  bad.turbo_layer_adaptive = 3;
  EXPECT_FALSE(ComputeKvCost(Uniform(2, 2, 128), 16, KvType::kF16, KvType::kF16, bad).ok());
}

TEST(KvPlanTest, LargestFittingContextIsTheLastThatFits) {
  const ModelKvShape m = Uniform(40, 8, 128, int64_t{2} << 30);
  const int64_t budget = int64_t{4} << 30;
  for (KvType t : {KvType::kF16, KvType::kTurbo4, KvType::kTurbo3}) {
    auto best = LargestFittingContext(m, t, t, V1(), budget, int64_t{1} << 24);
    ASSERT_TRUE(best.ok());
    ASSERT_GT(*best, 0);
    EXPECT_LE(Cost(m, *best, t, t, V1()).total_bytes(), budget);
    EXPECT_GT(Cost(m, *best + 1, t, t, V1()).total_bytes(), budget);
  }
  // f16: 2 GiB left / (40 layers x 2 x 2048 bytes per cell) = 13107.2 cells,
  // and llama.cpp pads the context to 256: 13056.
  EXPECT_EQ(*LargestFittingContext(m, KvType::kF16, KvType::kF16, RuntimeOptions(), budget,
                                   int64_t{1} << 24),
            13056);
  // Weights alone over budget: nothing fits.
  EXPECT_EQ(*LargestFittingContext(m, KvType::kF16, KvType::kF16, RuntimeOptions(),
                                   int64_t{1} << 30, int64_t{1} << 24),
            0);
}

TEST(KvPlanTest, ParseContextLists) {
  EXPECT_EQ(*ParseContextList("2048,8192,32K"), (std::vector<int64_t>{2048, 8192, 32768}));
  EXPECT_FALSE(ParseContextList("2048,,4096").ok());
  EXPECT_FALSE(ParseContextList("0").ok());
  EXPECT_FALSE(ParseContextList("-5").ok());
  EXPECT_EQ(ParseKvTypeList("f16,q8_0,turbo4")->size(), 3u);
  EXPECT_FALSE(ParseKvTypeList("f16,q5_1").ok());
}

bool HasCodec(GgmlType t) { return GetReferenceCodec(t).quantize != nullptr; }

// Allocating and filling the buffers for real: VmRSS grows by the calculated
// size, within 1 %.
TEST(KvPlanTest, MeasuredResidentMemoryMatchesCalculation) {
  const ModelKvShape m = Uniform(8, 8, 128);
  for (KvType t : {KvType::kF16, KvType::kBF16, KvType::kQ8_0, KvType::kQ4_0, KvType::kTurbo2,
                   KvType::kTurbo3, KvType::kTurbo4}) {
    if ((t == KvType::kQ8_0 && !HasCodec(GgmlType::kQ8_0)) ||
        (t == KvType::kQ4_0 && !HasCodec(GgmlType::kQ4_0))) {
      continue;  // reference codec not in this build (covered once it is)
    }
    auto measured = MeasureKvResidentMemory(m, 8192, t, t, RuntimeOptions());
    ASSERT_TRUE(measured.ok()) << measured.status();
    EXPECT_EQ(measured->calculated_bytes, Cost(m, 8192, t, t, RuntimeOptions()).memory_bytes());
    EXPECT_LT(measured->relative_difference(), 0.01)
        << KvTypeName(t) << ": resident " << measured->resident_bytes << " calculated "
        << measured->calculated_bytes;
  }
}

// Measuring a hybrid with sliding, turbo-padded and recurrent layers.
TEST(KvPlanTest, MeasuredHybridMatchesCalculation) {
  auto shape = ShapeFromMetadata(Qwen35_27B(), "qwen3.5-27b", 0);
  ASSERT_TRUE(shape.ok()) << shape.status();
  shape->layers.resize(16);  // 4 attention layers, 12 recurrent: quick
  auto measured =
      MeasureKvResidentMemory(*shape, 16384, KvType::kTurbo3, KvType::kQ8_0, RuntimeOptions());
  ASSERT_TRUE(measured.ok()) << measured.status();
  const KvCost c = Cost(*shape, 16384, KvType::kTurbo3, KvType::kQ8_0);
  EXPECT_GT(c.state_bytes(), 0);
  EXPECT_EQ(measured->calculated_bytes, c.memory_bytes());
  EXPECT_LT(measured->relative_difference(), 0.01) << measured->resident_bytes;

  auto gemma = ShapeFromMetadata(Gemma3Like(), "g.gguf", 0);
  ASSERT_TRUE(gemma.ok());
  gemma->layers[3].head_dim_k = 64;  // turbo pads it to 128
  measured = MeasureKvResidentMemory(*gemma, 16384, KvType::kTurbo4, KvType::kF16, V1());
  ASSERT_TRUE(measured.ok()) << measured.status();
  EXPECT_EQ(measured->calculated_bytes,
            Cost(*gemma, 16384, KvType::kTurbo4, KvType::kF16, V1()).memory_bytes());
  EXPECT_LT(measured->relative_difference(), 0.01) << measured->resident_bytes;
}

// ---------------------------------------------------------------------------
// llama.cpp's own numbers (tests/data/kvplan): every recorded case, exactly.

std::string ReferenceDir() { return GGUFKIT_KVPLAN_REFERENCE_DIR; }

struct ReferenceCase {
  std::map<std::string, std::string> f;
  int64_t Num(const std::string& c) const {
    int64_t x = 0;
    auto it = f.find(c);
    if (it == f.end() || !absl::SimpleAtoi(it->second, &x)) return 0;
    return x;
  }
  std::string Describe() const {
    return f.at("model") + " ctx " + f.at("ctx") + " " + f.at("ctk") + "/" + f.at("ctv") + " seq " +
           f.at("n_seq") + " unified " + f.at("unified") + " swa_full " + f.at("swa_full") +
           " ubatch " + f.at("ubatch") + " fa " + f.at("fa") + " gqa_rule_off " + f.at("asym_off");
  }
};

std::vector<ReferenceCase> ReadCases() {
  std::vector<ReferenceCase> out;
  std::ifstream in(ReferenceDir() + "/cases.tsv");
  std::string line;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> fields = absl::StrSplit(line, '\t');
    if (header.empty()) {
      header = fields;
      continue;
    }
    ReferenceCase c;
    for (size_t i = 0; i < header.size() && i < fields.size(); ++i) c.f[header[i]] = fields[i];
    out.push_back(std::move(c));
  }
  return out;
}

TEST(KvPlanReferenceTest, EveryRecordedCaseMatchesLlamaCpp) {
  const std::vector<ReferenceCase> cases = ReadCases();
  ASSERT_GT(cases.size(), 1000u) << "no reference cases in " << ReferenceDir();
  std::set<std::string> models, failed_models, arches;
  int matched = 0, total = 0;
  for (const ReferenceCase& rc : cases) {
    const std::string& model_name = rc.f.at("model");
    const std::string status = rc.f.at("status");
    if (status.rfind("model-error", 0) == 0) continue;  // llama.cpp could not build the model
    ++total;
    models.insert(model_name);
    auto shape = ShapeFromFile(ReferenceDir() + "/models/" + model_name + ".gguf");
    ASSERT_TRUE(shape.ok()) << rc.Describe() << ": " << shape.status();
    arches.insert(shape->architecture);
    RuntimeOptions o;
    o.n_seq = rc.Num("n_seq");
    o.kv_unified = rc.Num("unified") != 0;
    o.swa_full = rc.Num("swa_full") != 0;
    o.n_ubatch = rc.Num("ubatch");
    o.n_batch = 2048;
    o.flash_attn = rc.Num("fa") < 0    ? FlashAttn::kAuto
                   : rc.Num("fa") == 0 ? FlashAttn::kOff
                                       : FlashAttn::kOn;
    o.turbo_auto_asymmetric = rc.Num("asym_off") == 0;
    o.variant = TurboVariant::kV1;  // the fork at 69d8e4be: 68-byte turbo4
    auto k = ParseKvType(rc.f.at("ctk"));
    auto v = ParseKvType(rc.f.at("ctv"));
    ASSERT_TRUE(k.ok() && v.ok()) << rc.Describe();
    auto cost = ComputeKvCost(*shape, rc.Num("ctx"), *k, *v, o);
    if (status != "ok") {
      // llama.cpp refused the context (e.g. a quantized V cache without
      // flash attention): so does the planner.
      EXPECT_FALSE(cost.ok()) << rc.Describe() << ": llama.cpp: " << status;
      if (!cost.ok()) ++matched;
      continue;
    }
    if (!cost.ok()) {
      ADD_FAILURE() << rc.Describe() << ": " << cost.status();
      failed_models.insert(model_name);
      continue;
    }
    const KvCost& c = *cost;
    const std::vector<std::pair<const char*, std::pair<int64_t, int64_t>>> checks = {
        {"n_ctx_seq", {rc.Num("n_ctx_seq"), c.n_ctx_seq}},
        {"base cells",
         {rc.Num("base_layers") ? rc.Num("base_cells") : 0, c.base.layers ? c.base.cells : 0}},
        {"base layers", {rc.Num("base_layers"), c.base.layers}},
        {"base K", {rc.Num("base_k"), c.base.k_bytes}},
        {"base V", {rc.Num("base_v"), c.base.v_bytes}},
        {"swa cells",
         {rc.Num("swa_layers") ? rc.Num("swa_cells") : 0, c.swa.layers ? c.swa.cells : 0}},
        {"swa layers", {rc.Num("swa_layers"), c.swa.layers}},
        {"swa K", {rc.Num("swa_k"), c.swa.k_bytes}},
        {"swa V", {rc.Num("swa_v"), c.swa.v_bytes}},
        {"rotation", {rc.Num("rotation"), c.rotation_bytes()}},
        {"state cells",
         {rc.Num("rs_layers") ? rc.Num("rs_cells") : 0, c.state_layers ? c.state_cells : 0}},
        {"r", {rc.Num("rs_r"), c.r_bytes}},
        {"s", {rc.Num("rs_s"), c.s_bytes}},
        {"buffers", {rc.Num("buffers"), c.memory_bytes()}},
    };
    bool all = true;
    for (const auto& [name, values] : checks) {
      // Full-size models were sized without allocating (no buffers recorded).
      if (std::string(name) == "buffers" && rc.f.at("buffers") == "-") continue;
      if (values.first != values.second) {
        all = false;
        ADD_FAILURE() << rc.Describe() << ": " << name << " llama.cpp " << values.first
                      << " planner " << values.second;
      }
    }
    if (all) {
      ++matched;
    } else {
      failed_models.insert(model_name);
    }
  }
  std::printf(
      "kvplan reference: %d / %d cases match llama.cpp exactly (%zu models, %zu "
      "architectures)\n",
      matched, total, models.size(), arches.size());
  EXPECT_EQ(matched, total);
  EXPECT_TRUE(failed_models.empty());
  EXPECT_GE(arches.size(), 100u);
}

// ---------------------------------------------------------------------------
// The CLI.

std::string Tool() { return ToolsDir() + "/gguf-kvplan"; }

TEST(KvPlanCliTest, TableFromFlags) {
  std::string out;
  ASSERT_EQ(RunCommand(Tool() + " --layers 36 --kv-heads 8 --head-dim 128 --ctx 4096"
                                " --ctk f16,q8_0 --ctv f16,q8_0",
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("576.00"), std::string::npos) << out;
  EXPECT_NE(out.find("306.00"), std::string::npos) << out;
}

TEST(KvPlanCliTest, BudgetMarksFitAndLargestContext) {
  std::string out;
  ASSERT_EQ(RunCommand(Tool() + " --layers 40 --kv-heads 8 --head-dim 128 --weights-bytes 2GiB"
                                " --ctx 8192,32768 --budget 4GiB",
                       &out),
            0)
      << out;
  EXPECT_NE(out.find("yes"), std::string::npos) << out;
  EXPECT_NE(out.find("no"), std::string::npos) << out;
  EXPECT_NE(out.find("13056 cells"), std::string::npos) << out;
}

TEST(KvPlanCliTest, JsonIsValidAndExact) {
  GGUFKIT_REQUIRE_PYTHON_MODULES("json");
  TempDir dir;
  const std::string json = dir.File("plan.json");
  ASSERT_EQ(RunCommand(Tool() +
                       " --layers 40 --kv-heads 8 --head-dim 128 --ctx 2048,65536"
                       " --ctk turbo4 --ctv turbo4 --turbo-variant v1 --json > " +
                       json),
            0);
  std::string out;
  const std::string check =
      "import json,sys; p=json.load(open(sys.argv[1])); "
      "print([r['kv_bytes'] // 2**20 for r in p['rows']], p['turbo_variant'], p['layers'], "
      "p['parallel'], p['kv_unified'], p['rows'][0]['rotation_bytes'])";
  ASSERT_EQ(RunCommand(PythonPath() + " -c \"" + check + "\" " + json, &out), 0) << out;
  EXPECT_EQ(out, "[85, 2720] v1 40 4 True 131584\n");
}

// The runtime flags reach the plan: 2 sequences of their own, ubatch 64.
TEST(KvPlanCliTest, RuntimeFlags) {
  TempDir dir;
  const std::string json = dir.File("plan.json");
  ASSERT_EQ(RunCommand(Tool() +
                       " --layers 2 --kv-heads 2 --head-dim 128 --heads 12 --ctx 1000"
                       " --parallel 2 --ubatch 64 --ctk turbo3 --ctv turbo3"
                       " --no-turbo-gqa-rule --json > " +
                       json),
            0);
  std::string out;
  const std::string check =
      "import json,sys; p=json.load(open(sys.argv[1])); r=p['rows'][0]; "
      "print(p['parallel'], p['kv_unified'], p['ubatch'], r['cells'], r['streams'], "
      "r['k_type_used'])";
  ASSERT_EQ(RunCommand(PythonPath() + " -c \"" + check + "\" " + json, &out), 0) << out;
  EXPECT_EQ(out, "2 False 64 512 2 turbo3\n");
  ASSERT_EQ(RunCommand(Tool() + " --layers 2 --kv-heads 2 --head-dim 128 --heads 12 --ctx 1000"
                                " --ctk turbo3 --ctv turbo3",
                       &out),
            0);
  EXPECT_NE(out.find("q8_0*"), std::string::npos) << out;
}

// File mode on a real llama.cpp file: LLaMA-2 7B's vocab GGUF carries its
// hyperparameters (32 layers, 32 KV heads, 4096 / 32): llama.cpp logs
// "KV self size = 2048.00 MiB" for it at 4096 cells (f16).
TEST(KvPlanCliTest, ReadsShapeFromRealGguf) {
  std::string out;
  ASSERT_EQ(
      RunCommand(Tool() + " " + ::ggufkit::testing::GoldenPath("real/ggml-vocab-llama-spm.gguf") +
                     " --ctx 4096 --ctk f16,q8_0 --ctv f16",
                 &out),
      0)
      << out;
  EXPECT_NE(out.find("llama, 32 layers, 32 KV heads, head_dim K 128 / V 128"), std::string::npos)
      << out;
  EXPECT_NE(out.find("2048.00"), std::string::npos) << out;
  EXPECT_NE(out.find("1568.00"), std::string::npos) << out;  // q8_0 K 544 + f16 V 1024
}

// A GGUF written by gguf-py with a sliding-window architecture and two
// tensors: layers, window pattern and weight bytes come from the file.
TEST(KvPlanCliTest, ReadsShapeAndWeightsFromGgufPy) {
  GGUFKIT_REQUIRE_PYTHON_MODULES("gguf, numpy");
  TempDir dir;
  const std::string model = dir.File("gemma3.gguf");
  const std::string script = dir.File("make.py");
  const std::string py =
      "import sys, numpy as np, gguf\n"
      "w = gguf.GGUFWriter(sys.argv[1], 'gemma3')\n"
      "w.add_block_count(12)\n"
      "w.add_head_count(8)\n"
      "w.add_head_count_kv(4)\n"
      "w.add_key_length(256)\n"
      "w.add_value_length(256)\n"
      "w.add_embedding_length(2048)\n"
      "w.add_sliding_window(1024)\n"
      "w.add_context_length(131072)\n"
      "w.add_tensor('a', np.zeros((64, 1024), dtype=np.float32))\n"
      "w.add_tensor('b', np.zeros((256,), dtype=np.float16))\n"
      "w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()\n";
  ASSERT_TRUE(::ggufkit::testing::WriteFileBytes(script, py.data(), py.size()));
  std::string out;
  ASSERT_EQ(RunCommand(PythonPath() + " " + script + " " + model, &out), 0) << out;
  const std::string json = dir.File("plan.json");
  ASSERT_EQ(RunCommand(Tool() + " " + model + " --ctx 32768 --json > " + json, &out), 0) << out;
  const std::string check =
      "import json,sys; p=json.load(open(sys.argv[1])); r=p['rows'][0]; "
      "print(p['architecture'], p['memory'], p['layers'], p['sliding_window_layers'], "
      "p['weights_bytes'], r['k_bytes'], r['swa_cells'], p['context_length'])";
  ASSERT_EQ(RunCommand(PythonPath() + " -c \"" + check + "\" " + json, &out), 0) << out;
  // 2 global layers x 32768 + 10 sliding x (1024 x 4 slots + 512) cells,
  // 4 heads x 256 x 2 bytes.
  const int64_t k_bytes = (2 * int64_t{32768} + 10 * 4608) * 4 * 256 * 2;
  EXPECT_EQ(out, "gemma3 kv+swa 12 10 " + std::to_string(64 * 1024 * 4 + 256 * 2) + " " +
                     std::to_string(k_bytes) + " 4608 131072\n");
}

TEST(KvPlanCliTest, UnreadableFileExitsOne) {
  TempDir dir;
  const std::string bad = dir.File("bad.gguf");
  ASSERT_TRUE(::ggufkit::testing::WriteFileBytes(bad, "GGUF\x03\0\0\0", 8));
  std::string out;
  EXPECT_EQ(RunCommand(Tool() + " " + bad, &out), 1) << out;
  EXPECT_NE(out.find("bad.gguf"), std::string::npos) << out;
}

TEST(KvPlanCliTest, MeasureReportsResidentMemoryWithinOnePercent) {
  GGUFKIT_REQUIRE_PYTHON_MODULES("json");
  TempDir dir;
  const std::string json = dir.File("measure.json");
  ASSERT_EQ(RunCommand(Tool() +
                       " --layers 8 --kv-heads 8 --head-dim 128 --ctx 4096,8192"
                       " --ctk f16,turbo4 --ctv turbo3 --measure --json > " +
                       json),
            0);
  std::string out;
  const std::string check =
      "import json,sys; p=json.load(open(sys.argv[1])); "
      "print(len(p['rows']), max(r['measured_relative_difference'] for r in p['rows']) < 0.01)";
  ASSERT_EQ(RunCommand(PythonPath() + " -c \"" + check + "\" " + json, &out), 0) << out;
  EXPECT_EQ(out, "4 True\n");
}

TEST(KvPlanCliTest, BadFlagsExitTwoWithOneLine) {
  struct Case {
    const char* args;
    const char* names;
  };
  const Case cases[] = {
      {"--layers 4 --kv-heads 8 --head-dim 128 --bogus", "--bogus"},
      {"--layers 4 --kv-heads 8 --head-dim 128 --ctk q5_1", "--ctk"},
      {"--layers 4 --kv-heads 8 --head-dim 128 --ctx", "--ctx"},
      {"--layers 4 --kv-heads 8 --head-dim 128 --ctx 0", "--ctx"},
      {"--layers four --kv-heads 8 --head-dim 128", "--layers"},
      {"--layers 4 --kv-heads 8 --head-dim 128 --budget lots", "--budget"},
      {"--layers 4 --kv-heads 8 --head-dim 128 --turbo-variant v9", "--turbo-variant"},
      {"--layers 4 --kv-heads 8", "--head-dim"},
      {"--layers 4 --kv-heads 8 --head-dim 128 --parallel 0", "--parallel"},
      {"--layers 4 --kv-heads 8 --head-dim 128 --ubatch 0", "--ubatch"},
      {"--layers 4 --kv-heads 8 --head-dim 128 --flash-attn maybe", "--flash-attn"},
      {"--layers 4 --kv-heads 8 --head-dim 128 --turbo-layer-adaptive 3", "--turbo-layer-adaptive"},
  };
  for (const Case& c : cases) {
    std::string out;
    EXPECT_EQ(RunCommand(Tool() + " " + c.args, &out), 2) << c.args << "\n" << out;
    EXPECT_NE(out.find(c.names), std::string::npos) << c.args << "\n" << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << out;
  }
}

}  // namespace
}  // namespace ggufkit::kvplan
