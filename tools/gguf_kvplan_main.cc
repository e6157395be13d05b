// gguf-kvplan: what a KV cache costs before a runtime is launched.
//
//   gguf-kvplan MODEL.gguf --ctx 2048,8192,32768,65536 --ctk f16,q8_0,turbo4 --ctv f16,turbo3
//   gguf-kvplan MODEL.gguf --ctx 32K --parallel 1 --swa-full --ubatch 1024
//   gguf-kvplan --layers 40 --kv-heads 8 --head-dim 128 --ctk turbo4 --ctv turbo4
//               --turbo-variant v1 --budget 4GiB --json                       (one line)
//
// Exit status: 0 on success, 1 when the model cannot be read or planned, 2 on
// a usage error (one line naming the flag).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ggufkit/base/byte_size.h"
#include "ggufkit/cli/cli_args.h"
#include "ggufkit/kvplan/kvplan.h"

namespace ggufkit {
namespace {

constexpr char kSummary[] =
    "Plan the memory llama.cpp allocates for a model: K / V caches and recurrent state\n"
    "per context length and cache type, next to the weights, with llama.cpp's rules for\n"
    "the model's architecture (sliding windows, hybrid and recurrent models, MLA, the\n"
    "TurboQuant fork's turbo rules); which contexts fit a memory budget; optionally\n"
    "measured for real. The model comes from MODEL.gguf (its metadata and tensor sizes)\n"
    "or from --layers, --kv-heads and --head-dim (flags override the file's values).\n"
    "Runtime defaults are llama-server's: 4 slots sharing one unified cache, ubatch 512,\n"
    "flash attention auto. Cache types: f16 bf16 q8_0 q4_0 turbo2 turbo3 turbo4.";

int Main(int argc, char** argv) {
  cli::ArgParser args("gguf-kvplan", kSummary);
  std::string model_path, variant = "current", flash_attn = "auto";
  int64_t layers = 0, kv_heads = 0, heads = 0, head_dim = 0, head_dim_v = 0;
  int64_t parallel = 4, ubatch = 512, batch = 2048, layer_adaptive = -1;
  bool json = false, kv_unified = true, swa_full = false, gqa_rule = true;
  kvplan::PlanOptions plan_options;
  plan_options.contexts = {2048, 8192, 32768, 65536};
  plan_options.k_types = {KvType::kF16};
  plan_options.v_types = {KvType::kF16};
  absl::optional<int64_t> weights_bytes;

  args.AddPositional("MODEL.gguf", "the model (optional with --layers/--kv-heads/--head-dim)",
                     &model_path, /*required=*/false);
  args.AddCustom("ctx", "LIST", "context lengths in cells (default 2048,8192,32768,65536; 32K ok)",
                 [&](absl::string_view v) -> absl::Status {
                   auto list = kvplan::ParseContextList(v);
                   if (!list.ok()) return list.status();
                   plan_options.contexts = *list;
                   return absl::OkStatus();
                 });
  args.AddCustom("ctk", "TYPES", "K cache types, comma-separated (default f16)",
                 [&](absl::string_view v) -> absl::Status {
                   auto list = kvplan::ParseKvTypeList(v);
                   if (!list.ok()) return list.status();
                   plan_options.k_types = *list;
                   return absl::OkStatus();
                 });
  args.AddCustom("ctv", "TYPES", "V cache types, comma-separated (default f16)",
                 [&](absl::string_view v) -> absl::Status {
                   auto list = kvplan::ParseKvTypeList(v);
                   if (!list.ok()) return list.status();
                   plan_options.v_types = *list;
                   return absl::OkStatus();
                 });
  args.AddInt("parallel", "N",
              "sequences / server slots (default: llama-server's auto, 4 with a unified cache)",
              &parallel, 1, 256);
  args.AddBool("kv-unified",
               "one cache shared by all sequences (default: on unless --parallel is given)",
               &kv_unified);
  args.AddBool("swa-full", "full-size sliding-window cache (llama.cpp --swa-full)", &swa_full);
  args.AddInt("ubatch", "N", "micro-batch size (default 512)", &ubatch, 1, int64_t{1} << 24);
  args.AddInt("batch", "N", "batch size (default 2048)", &batch, 1, int64_t{1} << 24);
  args.AddChoice("flash-attn", "MODE", "flash attention auto|on|off (off: V stored transposed)",
                 {"auto", "on", "off"}, &flash_attn);
  args.AddChoice("turbo-variant", "V", "turbo block layout (current: 66-byte turbo4; v1: 68)",
                 {"current", "v1"}, &variant);
  args.AddBool("turbo-gqa-rule",
               "the fork's rule: turbo K as q8_0 when K and V share a turbo type and the GQA "
               "ratio is >= 6 (default on; --no-turbo-gqa-rule = TURBO_AUTO_ASYMMETRIC=0)",
               &gqa_rule);
  args.AddInt("turbo-layer-adaptive", "MODE",
              "the fork's TURBO_LAYER_ADAPTIVE (0 off, 1, 2, 5, 6, 7; default: 7 for turbo2 V "
              "on 8+ layers)",
              &layer_adaptive, -1, 7);
  args.AddInt("layers", "N", "number of layers", &layers, 1, 4096);
  args.AddInt("kv-heads", "N", "KV heads per layer", &kv_heads, 1, 65536);
  args.AddInt("heads", "N", "query heads (GQA ratio for the turbo rule; default = --kv-heads)",
              &heads, 1, 65536);
  args.AddInt("head-dim", "N", "K head size (and V unless --head-dim-v)", &head_dim, 1, 65536);
  args.AddInt("head-dim-v", "N", "V head size", &head_dim_v, 1, 65536);
  args.AddCustom("weights-bytes", "SIZE", absl::StrCat("weights size: ", kByteSizeHelp),
                 [&](absl::string_view v) -> absl::Status {
                   auto n = ParseByteSize(v);
                   if (!n.ok()) return n.status();
                   weights_bytes = static_cast<int64_t>(*n);
                   return absl::OkStatus();
                 });
  args.AddCustom("budget", "SIZE",
                 absl::StrCat("memory budget: marks what fits and prints the largest context that "
                              "fits per (K, V) pair; ",
                              kByteSizeHelp),
                 [&](absl::string_view v) -> absl::Status {
                   auto n = ParseByteSize(v);
                   if (!n.ok()) return n.status();
                   plan_options.budget_bytes = static_cast<int64_t>(*n);
                   return absl::OkStatus();
                 });
  args.AddBool("json", "print JSON", &json);
  args.AddBool("measure",
               "allocate and fill every buffer (K, V through the codecs, recurrent state); report "
               "resident memory",
               &plan_options.measure);

  const absl::Status parsed = args.Parse(argc, argv);
  if (args.help_requested()) {
    std::fputs(args.Usage().c_str(), stdout);
    return 0;
  }
  if (!parsed.ok()) {
    std::fprintf(stderr, "gguf-kvplan: %s\n", std::string(parsed.message()).c_str());
    return 2;
  }
  if (args.WasSet("turbo-layer-adaptive") &&
      (layer_adaptive == 3 || layer_adaptive == 4 || layer_adaptive < 0)) {
    std::fprintf(stderr, "gguf-kvplan: --turbo-layer-adaptive: must be 0, 1, 2, 5, 6 or 7\n");
    return 2;
  }
  kvplan::RuntimeOptions& runtime = plan_options.runtime;
  runtime.variant = variant == "v1" ? TurboVariant::kV1 : TurboVariant::kCurrent;
  runtime.n_seq = parallel;
  // llama-server: --parallel auto means 4 slots and a unified cache; an
  // explicit --parallel keeps one stream per slot unless --kv-unified.
  runtime.kv_unified = args.WasSet("kv-unified") ? kv_unified : !args.WasSet("parallel");
  runtime.swa_full = swa_full;
  runtime.n_ubatch = ubatch;
  runtime.n_batch = batch;
  runtime.flash_attn = flash_attn == "on"    ? kvplan::FlashAttn::kOn
                       : flash_attn == "off" ? kvplan::FlashAttn::kOff
                                             : kvplan::FlashAttn::kAuto;
  runtime.turbo_auto_asymmetric = gqa_rule;
  runtime.turbo_layer_adaptive = static_cast<int>(layer_adaptive);
  const bool explicit_shape = args.WasSet("layers") || args.WasSet("kv-heads") ||
                              args.WasSet("head-dim") || args.WasSet("head-dim-v");
  if (model_path.empty()) {
    for (const char* flag : {"layers", "kv-heads", "head-dim"}) {
      if (!args.WasSet(flag)) {
        std::fprintf(stderr,
                     "gguf-kvplan: give MODEL.gguf or --%s (with --layers, --kv-heads, "
                     "--head-dim)\n",
                     flag);
        return 2;
      }
    }
  }

  kvplan::ModelKvShape shape;
  if (!model_path.empty()) {
    auto s = kvplan::ShapeFromFile(model_path);
    if (!s.ok()) {
      std::fprintf(stderr, "gguf-kvplan: %s\n", std::string(s.status().message()).c_str());
      return 1;
    }
    shape = *std::move(s);
    // Flags override what the file says.
    if (explicit_shape) {
      for (kvplan::LayerKvShape& l : shape.layers) {
        if (args.WasSet("kv-heads") && l.n_kv_heads > 0) l.n_kv_heads = kv_heads;
        if (args.WasSet("heads") && l.n_head > 0) l.n_head = heads;
        if (args.WasSet("head-dim")) l.head_dim_k = l.head_dim_v = head_dim;
        if (args.WasSet("head-dim-v")) l.head_dim_v = head_dim_v;
      }
      if (args.WasSet("layers")) {
        shape.layers.resize(static_cast<size_t>(layers), shape.layers.back());
      }
    }
    if (weights_bytes) shape.weights_bytes = *weights_bytes;
  } else {
    auto s = kvplan::UniformShape(layers, kv_heads, head_dim,
                                  args.WasSet("head-dim-v") ? head_dim_v : head_dim,
                                  weights_bytes.value_or(0), heads);
    if (!s.ok()) {
      std::fprintf(stderr, "gguf-kvplan: %s\n", std::string(s.status().message()).c_str());
      return 2;
    }
    shape = *std::move(s);
  }
  auto plan = kvplan::MakePlan(shape, plan_options);
  if (!plan.ok()) {
    std::fprintf(stderr, "gguf-kvplan: %s: %s\n", shape.source.c_str(),
                 std::string(plan.status().message()).c_str());
    return 1;
  }
  const std::string text = json ? kvplan::FormatPlanJson(*plan) : kvplan::FormatPlanTable(*plan);
  std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace
}  // namespace ggufkit

int main(int argc, char** argv) { return ggufkit::Main(argc, argv); }
