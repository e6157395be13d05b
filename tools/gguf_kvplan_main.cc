// gguf-kvplan: what a KV cache costs before a runtime is launched.
//
//   gguf-kvplan MODEL.gguf --ctx 2048,8192,32768,65536 --ctk f16,q8_0,turbo4 --ctv f16,turbo3
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
#include "ggufkit/gguf/reader.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/cli/cli_args.h"
#include "ggufkit/kvplan/kvplan.h"

namespace ggufkit {
namespace {

constexpr char kSummary[] =
    "Plan a KV cache: K / V / total MiB per context length and cache type, next to the\n"
    "weights; which contexts fit a memory budget; optionally measured for real.\n"
    "The model comes from MODEL.gguf (its metadata and tensor sizes) or from --layers,\n"
    "--kv-heads and --head-dim (flags override the file's values).\n"
    "Cache types: f16 bf16 q8_0 q4_0 turbo2 turbo3 turbo4.";

// GGUF metadata seen through the planner's lookup interface.
class GgufMetadataLookup : public kvplan::KvMetadataLookup {
 public:
  explicit GgufMetadataLookup(const Metadata& md) : md_(md) {}

  absl::StatusOr<absl::optional<std::string>> String(absl::string_view key) const override {
    if (md_.Find(key) == nullptr) return absl::optional<std::string>();
    auto s = md_.GetString(key);
    if (!s.ok()) return s.status();
    return absl::optional<std::string>(*std::move(s));
  }

  absl::StatusOr<absl::optional<std::vector<int64_t>>> Integers(
      absl::string_view key) const override {
    const MetadataValue* v = md_.Find(key);
    if (v == nullptr) return absl::optional<std::vector<int64_t>>();
    const GgufValueType t = v->element_type();
    const bool integer =
        t == GgufValueType::kU8 || t == GgufValueType::kI8 || t == GgufValueType::kU16 ||
        t == GgufValueType::kI16 || t == GgufValueType::kU32 || t == GgufValueType::kI32 ||
        t == GgufValueType::kU64 || t == GgufValueType::kI64 || t == GgufValueType::kBool;
    if (!integer) {
      return absl::InvalidArgumentError(absl::StrCat(md_.source_name(), ": metadata key '", key,
                                                     "' is ", GgufValueTypeName(v->type()),
                                                     ", expected an integer"));
    }
    if (!v->is_array()) {
      auto x = md_.GetInteger(key);
      if (!x.ok()) {
        if (t != GgufValueType::kBool) return x.status();
        return absl::optional<std::vector<int64_t>>(std::vector<int64_t>{v->boolean() ? 1 : 0});
      }
      return absl::optional<std::vector<int64_t>>(std::vector<int64_t>{*x});
    }
    // Arrays: the element count is bounded by the file size (the reader
    // checked it), and per-layer arrays are small.
    if (v->size() > 100000) {
      return absl::InvalidArgumentError(absl::StrCat(md_.source_name(), ": metadata key '", key,
                                                     "' has ", v->size(),
                                                     " elements, more than any layer count"));
    }
    std::vector<int64_t> out(static_cast<size_t>(v->size()));
    for (uint64_t i = 0; i < v->size(); ++i) out[i] = v->int_at(i);
    return absl::optional<std::vector<int64_t>>(std::move(out));
  }

 private:
  const Metadata& md_;
};

// A split model is opened as one model (all shards validated, weights summed
// over every shard), like gguf-inspect and gguf-dequant do.
absl::StatusOr<kvplan::ModelKvShape> ShapeFromFile(const std::string& path) {
  auto model = GgufModel::Open(path);
  if (!model.ok()) return model.status();
  int64_t weights = 0;
  for (const TensorInfo& t : (*model)->tensors()) {
    weights += static_cast<int64_t>(t.size_bytes);  // each bounded by its shard's size
  }
  GgufMetadataLookup lookup((*model)->metadata());
  return kvplan::ShapeFromMetadata(lookup, path, weights);
}

int Main(int argc, char** argv) {
  cli::ArgParser args("gguf-kvplan", kSummary);
  std::string model_path, variant = "current";
  int64_t layers = 0, kv_heads = 0, head_dim = 0, head_dim_v = 0;
  bool json = false;
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
  args.AddChoice("turbo-variant", "V", "turbo block layout (current: 66-byte turbo4; v1: 68)",
                 {"current", "v1"}, &variant);
  args.AddInt("layers", "N", "number of layers", &layers, 1, 100000);
  args.AddInt("kv-heads", "N", "KV heads per layer", &kv_heads, 1, 65536);
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
                              "fits per (K, V) pair; ", kByteSizeHelp),
                 [&](absl::string_view v) -> absl::Status {
                   auto n = ParseByteSize(v);
                   if (!n.ok()) return n.status();
                   plan_options.budget_bytes = static_cast<int64_t>(*n);
                   return absl::OkStatus();
                 });
  args.AddBool("json", "print JSON", &json);
  args.AddBool("measure", "allocate and fill each cache through the codecs; report resident memory",
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
  plan_options.variant = variant == "v1" ? TurboVariant::kV1 : TurboVariant::kCurrent;
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
    auto s = ShapeFromFile(model_path);
    if (!s.ok()) {
      std::fprintf(stderr, "gguf-kvplan: %s\n", std::string(s.status().message()).c_str());
      return 1;
    }
    shape = *std::move(s);
    // Flags override what the file says.
    if (explicit_shape) {
      for (kvplan::LayerKvShape& l : shape.layers) {
        if (args.WasSet("kv-heads") && l.n_kv_heads > 0) l.n_kv_heads = kv_heads;
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
                                  weights_bytes.value_or(0));
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
