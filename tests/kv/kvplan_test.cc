// gguf-kvplan: sizes reproduce llama.cpp's and the fork's measured numbers to
// the byte, the budget search finds the last context that fits, --measure
// agrees with the calculation within 1 %, and the CLI's flag handling.
#include "ggufkit/kvplan/kvplan.h"

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/common/test_data.h"

namespace ggufkit::kvplan {
namespace {

using ::ggufkit::testing::PythonPath;
using ::ggufkit::testing::RunCommand;
using ::ggufkit::testing::TempDir;
using ::ggufkit::testing::ToolsDir;

ModelKvShape Uniform(int64_t layers, int64_t heads, int64_t head_dim, int64_t weights = 0) {
  auto s = UniformShape(layers, heads, head_dim, head_dim, weights);
  EXPECT_TRUE(s.ok()) << s.status();
  return *s;
}

int64_t KvMiB(const ModelKvShape& shape, int64_t ctx, KvType k, KvType v,
              TurboVariant variant = TurboVariant::kCurrent, int64_t* k_bytes = nullptr,
              int64_t* v_bytes = nullptr) {
  auto cost = ComputeKvCost(shape, ctx, k, v, variant);
  EXPECT_TRUE(cost.ok()) << cost.status();
  if (k_bytes) *k_bytes = cost->k_bytes;
  if (v_bytes) *v_bytes = cost->v_bytes;
  EXPECT_EQ(cost->kv_bytes() % kMiB, 0) << "not a whole number of MiB";
  return cost->kv_bytes() / kMiB;
}

// llama.cpp's log for Bonsai-8B (36 layers, 8 KV heads, head_dim 128), 4096
// cells: f16 288 + 288 = 576 MiB, q8_0 153 + 153 = 306 MiB.
TEST(KvPlanTest, Bonsai8BAt4096) {
  const ModelKvShape bonsai = Uniform(36, 8, 128);
  int64_t k = 0, v = 0;
  EXPECT_EQ(KvMiB(bonsai, 4096, KvType::kF16, KvType::kF16, TurboVariant::kCurrent, &k, &v), 576);
  EXPECT_EQ(k, 288 * kMiB);
  EXPECT_EQ(v, 288 * kMiB);
  EXPECT_EQ(KvMiB(bonsai, 4096, KvType::kQ8_0, KvType::kQ8_0, TurboVariant::kCurrent, &k, &v), 306);
  EXPECT_EQ(k, 153 * kMiB);
  EXPECT_EQ(v, 153 * kMiB);
}

// A 40-layer, 8-KV-head, head_dim-128 model: f16 320 / 1,280 / 5,120 /
// 10,240 MiB and turbo4 v1 85 / 340 / 1,360 / 2,720 MiB at 2K / 8K / 32K / 64K.
TEST(KvPlanTest, FortyLayerModel) {
  const ModelKvShape m = Uniform(40, 8, 128);
  const int64_t ctx[] = {2048, 8192, 32768, 65536};
  const int64_t f16[] = {320, 1280, 5120, 10240};
  const int64_t turbo4_v1[] = {85, 340, 1360, 2720};
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(KvMiB(m, ctx[i], KvType::kF16, KvType::kF16), f16[i]) << ctx[i];
    EXPECT_EQ(KvMiB(m, ctx[i], KvType::kTurbo4, KvType::kTurbo4, TurboVariant::kV1), turbo4_v1[i])
        << ctx[i];
  }
  // The current 66-byte turbo4 block is 2/68 smaller than v1.
  auto current = ComputeKvCost(m, 2048, KvType::kTurbo4, KvType::kTurbo4, TurboVariant::kCurrent);
  ASSERT_TRUE(current.ok());
  EXPECT_EQ(current->kv_bytes(), int64_t{2} * 40 * 2048 * 8 * 66);
}

TEST(KvPlanTest, SlidingWindowLayersKeepTheWindow) {
  ModelKvShape m = Uniform(4, 2, 128);
  m.sliding_window = 1024;
  m.layers[0].sliding = m.layers[2].sliding = true;
  auto cost = ComputeKvCost(m, 8192, KvType::kF16, KvType::kF16, TurboVariant::kCurrent);
  ASSERT_TRUE(cost.ok());
  EXPECT_EQ(cost->k_bytes, (2 * 8192 + 2 * 1024) * int64_t{2 * 128 * 2});
  // Below the window, sliding layers cost the same as the others.
  cost = ComputeKvCost(m, 512, KvType::kF16, KvType::kF16, TurboVariant::kCurrent);
  EXPECT_EQ(cost->k_bytes, 4 * 512 * int64_t{2 * 128 * 2});
}

TEST(KvPlanTest, LargestFittingContextIsTheLastThatFits) {
  const ModelKvShape m = Uniform(40, 8, 128, int64_t{2} << 30);
  const int64_t budget = int64_t{4} << 30;
  for (KvType t : {KvType::kF16, KvType::kTurbo4, KvType::kTurbo3}) {
    auto best = LargestFittingContext(m, t, t, TurboVariant::kV1, budget, int64_t{1} << 24);
    ASSERT_TRUE(best.ok());
    ASSERT_GT(*best, 0);
    EXPECT_LE(ComputeKvCost(m, *best, t, t, TurboVariant::kV1)->total_bytes(), budget);
    EXPECT_GT(ComputeKvCost(m, *best + 1, t, t, TurboVariant::kV1)->total_bytes(), budget);
  }
  // f16: 2 GiB left / (40 layers x 2 x 2048 bytes per cell) = 13107.2 -> 13107.
  EXPECT_EQ(*LargestFittingContext(m, KvType::kF16, KvType::kF16, TurboVariant::kCurrent, budget,
                                   int64_t{1} << 24),
            13107);
  // Weights alone over budget: nothing fits.
  EXPECT_EQ(*LargestFittingContext(m, KvType::kF16, KvType::kF16, TurboVariant::kCurrent,
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
  EXPECT_FALSE(ComputeKvCost(Uniform(2, 2, 48), 16, KvType::kQ8_0, KvType::kF16,
                             TurboVariant::kCurrent)
                   .ok());  // q8_0 needs head_dim % 32 == 0
}

bool HasCodec(GgmlType t) { return GetReferenceCodec(t).quantize != nullptr; }

// Allocating and filling the cache for real: VmRSS grows by the calculated
// size, within 1 %.
TEST(KvPlanTest, MeasuredResidentMemoryMatchesCalculation) {
  const ModelKvShape m = Uniform(8, 8, 128);
  for (KvType t : {KvType::kF16, KvType::kBF16, KvType::kQ8_0, KvType::kQ4_0, KvType::kTurbo2,
                   KvType::kTurbo3, KvType::kTurbo4}) {
    if ((t == KvType::kQ8_0 && !HasCodec(GgmlType::kQ8_0)) ||
        (t == KvType::kQ4_0 && !HasCodec(GgmlType::kQ4_0))) {
      continue;  // reference codec not in this build (covered once it is)
    }
    auto measured = MeasureKvResidentMemory(m, 8192, t, t, TurboVariant::kCurrent);
    ASSERT_TRUE(measured.ok()) << measured.status();
    EXPECT_EQ(measured->calculated_bytes,
              ComputeKvCost(m, 8192, t, t, TurboVariant::kCurrent)->kv_bytes());
    EXPECT_LT(measured->relative_difference(), 0.01)
        << KvTypeName(t) << ": resident " << measured->resident_bytes << " calculated "
        << measured->calculated_bytes;
  }
}

// Metadata held in maps, standing in for a GGUF file's.
class MapLookup : public KvMetadataLookup {
 public:
  std::map<std::string, std::string> strings;
  std::map<std::string, std::vector<int64_t>> integers;
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
  ASSERT_EQ(shape->layers.size(), 36u);
  EXPECT_EQ(shape->layers[0].n_kv_heads, 8);
  EXPECT_EQ(shape->layers[0].head_dim_k, 128);
  EXPECT_EQ(shape->layers[0].head_dim_v, 128);
  EXPECT_EQ(shape->context_length, 65536);
  EXPECT_EQ(shape->weights_bytes, 1000);
  EXPECT_EQ(KvMiB(*shape, 4096, KvType::kQ8_0, KvType::kQ8_0), 306);
}

TEST(KvPlanMetadataTest, ExplicitKeyAndValueLengths) {
  MapLookup md = LlamaLike();
  md.integers["llama.attention.key_length"] = {192};
  md.integers["llama.attention.value_length"] = {128};
  auto shape = ShapeFromMetadata(md, "m.gguf", 0);
  ASSERT_TRUE(shape.ok()) << shape.status();
  EXPECT_EQ(shape->layers[5].head_dim_k, 192);
  EXPECT_EQ(shape->layers[5].head_dim_v, 128);
  // No head_count_kv: every head has its own KV (no GQA).
  md.integers.erase("llama.attention.head_count_kv");
  shape = ShapeFromMetadata(md, "m.gguf", 0);
  ASSERT_TRUE(shape.ok());
  EXPECT_EQ(shape->layers[0].n_kv_heads, 32);
}

TEST(KvPlanMetadataTest, PerLayerKvHeadsAndLayersWithoutAttention) {
  MapLookup md = LlamaLike();
  md.integers["llama.block_count"] = {4};
  md.integers["llama.attention.head_count_kv"] = {8, 0, 4, 0};
  auto shape = ShapeFromMetadata(md, "hybrid.gguf", 0);
  ASSERT_TRUE(shape.ok()) << shape.status();
  auto cost = ComputeKvCost(*shape, 100, KvType::kF16, KvType::kF16, TurboVariant::kCurrent);
  ASSERT_TRUE(cost.ok());
  EXPECT_EQ(cost->k_bytes, 100 * (8 + 4) * 128 * int64_t{2});
  md.integers["llama.attention.head_count_kv"] = {8, 0, 4};  // wrong length
  auto bad = ShapeFromMetadata(md, "hybrid.gguf", 0);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("head_count_kv"), absl::string_view::npos);
  EXPECT_NE(bad.status().message().find("hybrid.gguf"), absl::string_view::npos);
}

TEST(KvPlanMetadataTest, SlidingWindowPatterns) {
  MapLookup md;
  md.strings["general.architecture"] = "gemma3";
  md.integers["gemma3.block_count"] = {12};
  md.integers["gemma3.attention.head_count"] = {8};
  md.integers["gemma3.attention.head_count_kv"] = {4};
  md.integers["gemma3.attention.key_length"] = {256};
  md.integers["gemma3.attention.value_length"] = {256};
  md.integers["gemma3.attention.sliding_window"] = {1024};
  // gemma3's built-in pattern: 5 sliding layers, then one global.
  auto shape = ShapeFromMetadata(md, "g.gguf", 0);
  ASSERT_TRUE(shape.ok()) << shape.status();
  int n_sliding = 0;
  for (const LayerKvShape& l : shape->layers) n_sliding += l.sliding;
  EXPECT_EQ(n_sliding, 10);
  EXPECT_FALSE(shape->layers[5].sliding);
  EXPECT_FALSE(shape->layers[11].sliding);
  auto cost = ComputeKvCost(*shape, 32768, KvType::kF16, KvType::kF16, TurboVariant::kCurrent);
  EXPECT_EQ(cost->k_bytes, (2 * int64_t{32768} + 10 * int64_t{1024}) * 4 * 256 * 2);
  // A per-layer bool pattern overrides it.
  md.integers["gemma3.attention.sliding_window_pattern"] = {1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0};
  shape = ShapeFromMetadata(md, "g.gguf", 0);
  ASSERT_TRUE(shape.ok());
  EXPECT_TRUE(shape->layers[0].sliding);
  EXPECT_FALSE(shape->layers[1].sliding);
  // An architecture without a known pattern: full attention and a note.
  md.strings["general.architecture"] = "mystery";
  for (auto& kv : std::map<std::string, std::vector<int64_t>>(md.integers)) {
    md.integers["mystery" + kv.first.substr(kv.first.find('.'))] = kv.second;
  }
  md.integers.erase("mystery.attention.sliding_window_pattern");
  shape = ShapeFromMetadata(md, "x.gguf", 0);
  ASSERT_TRUE(shape.ok()) << shape.status();
  for (const LayerKvShape& l : shape->layers) EXPECT_FALSE(l.sliding);
  ASSERT_EQ(shape->notes.size(), 1u);
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
}

// Measuring a mixed model: sliding-window layers and layers without attention.
TEST(KvPlanTest, MeasuredMixedModelMatchesCalculation) {
  ModelKvShape m = Uniform(6, 8, 128);
  m.sliding_window = 1024;
  m.layers[1].n_kv_heads = 0;
  m.layers[2].sliding = m.layers[4].sliding = true;
  m.layers[3].head_dim_k = 64;  // turbo pads it to 128
  auto measured =
      MeasureKvResidentMemory(m, 16384, KvType::kTurbo4, KvType::kF16, TurboVariant::kV1);
  ASSERT_TRUE(measured.ok()) << measured.status();
  const int64_t cells = 3 * 16384 + 2 * 1024;  // layers 0, 3, 5 full; 2, 4 sliding
  EXPECT_EQ(measured->calculated_bytes, cells * (8 * 68 + 8 * 128 * 2));
  EXPECT_LT(measured->relative_difference(), 0.01) << measured->resident_bytes;
}

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
  EXPECT_NE(out.find("13107 cells"), std::string::npos) << out;
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
      "print([r['kv_bytes'] // 2**20 for r in p['rows']], p['turbo_variant'], p['layers'])";
  ASSERT_EQ(RunCommand(PythonPath() + " -c \"" + check + "\" " + json, &out), 0) << out;
  EXPECT_EQ(out, "[85, 2720] v1 40\n");
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
      "print(p['architecture'], p['layers'], p['sliding_window_layers'], p['weights_bytes'], "
      "r['k_bytes'], p['context_length'])";
  ASSERT_EQ(RunCommand(PythonPath() + " -c \"" + check + "\" " + json, &out), 0) << out;
  // 2 global layers x 32768 + 10 sliding x 1024 cells, 4 heads x 256 x 2 bytes.
  const int64_t k_bytes = (2 * int64_t{32768} + 10 * 1024) * 4 * 256 * 2;
  EXPECT_EQ(out, "gemma3 12 10 " + std::to_string(64 * 1024 * 4 + 256 * 2) + " " +
                     std::to_string(k_bytes) + " 131072\n");
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
