#include "ggufkit/quantize/type_selection.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <initializer_list>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"

namespace ggufkit::quantize {
namespace {

// ---------------------------------------------------------------------------
// Tensor categories (llama.cpp's tensor_get_category): by exact name or by
// substring, first match wins.
// ---------------------------------------------------------------------------
enum Cat : int {
  kTokenEmbd,
  kAttnQ,
  kAttnV,
  kAttnK,
  kAttnQkv,
  kAttnKvB,
  kAttnOutput,
  kFfnUp,
  kFfnGate,
  kFfnDown,
  kOutput,
  kOther,
};

bool IsTokenEmbd(absl::string_view n) {
  return n == "token_embd.weight" || n == "per_layer_token_embd.weight";
}

Cat CategoryOf(absl::string_view n) {
  if (n == "output.weight") return kOutput;
  if (IsTokenEmbd(n)) return kTokenEmbd;
  static constexpr std::pair<absl::string_view, Cat> kBySubstring[] = {
      {"attn_qkv.weight", kAttnQkv},
      {"attn_kv_b.weight", kAttnKvB},
      {"attn_v.weight", kAttnV},
      {"attn_k.weight", kAttnK},
      {"attn_q.weight", kAttnQ},
      {"attn_output.weight", kAttnOutput},
      {"ffn_up", kFfnUp},
      {"ffn_gate", kFfnGate},
      {"ffn_down", kFfnDown},
  };
  for (const auto& [sub, cat] : kBySubstring) {
    if (absl::StrContains(n, sub)) return cat;
  }
  return kOther;
}

// attn_v, attn_qkv and attn_kv_b share the attn_v rules and counter.
bool IsAttnVLike(Cat c) { return c == kAttnV || c == kAttnQkv || c == kAttnKvB; }

// ---------------------------------------------------------------------------
// Rule tables.
// ---------------------------------------------------------------------------
using FtypeSet = uint64_t;  // bit i: Ftype id i
constexpr FtypeSet F(std::initializer_list<Ftype> list) {
  FtypeSet s = 0;
  for (Ftype f : list) s |= FtypeSet{1} << static_cast<uint32_t>(f);
  return s;
}
constexpr FtypeSet kAnyFtype = ~FtypeSet{0};
bool In(FtypeSet s, Ftype f) { return (s >> static_cast<uint32_t>(f)) & 1; }

struct Ctx {
  const ModelParams* p;
  Ftype ftype;
  bool has_imatrix;
  bool falcon;
  int i_layer;  // layer of an ffn tensor
  int n_layer;
  int i_attn_v;  // attn_v counter before this tensor
  int n_attn_v;
  bool more_bits(int i, int n) const { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }
  bool gqa4() const { return p->n_gqa() >= 4; }
  bool experts8() const { return p->n_expert == 8; }
};

using Pred = bool (*)(const Ctx&);
bool Always(const Ctx&) { return true; }

struct Rule {
  Cat cat;
  FtypeSet ftypes;
  Pred when;
  GgmlType type;
};

// First matching rule (same category, ftype in the set, predicate true)
// decides; none: the type stays.
GgmlType Apply(const Rule* begin, const Rule* end, Cat cat, const Ctx& c, GgmlType current) {
  for (const Rule* r = begin; r != end; ++r) {
    if (r->cat == cat && In(r->ftypes, c.ftype) && r->when(c)) return r->type;
  }
  return current;
}

using T = GgmlType;
using Fx = Ftype;

// The very-low-bit IQ mixes.
constexpr FtypeSet kLowBitIq =
    F({Fx::kIQ2_XXS, Fx::kIQ2_XS, Fx::kIQ1_S, Fx::kIQ2_S, Fx::kIQ2_M, Fx::kIQ1_M});
constexpr FtypeSet kIq2SM = F({Fx::kIQ2_S, Fx::kIQ2_M});

// Rules for the kLowBitIq mixes (ffn_down's layer is its raw counter here).
const Rule kLowBitRules[] = {
    {kAttnV, kAnyFtype, [](const Ctx& c) { return c.gqa4() || c.p->n_expert >= 4; }, T::kQ4_K},
    {kAttnV, kIq2SM, Always, T::kIQ3_S},
    {kAttnV, kAnyFtype, Always, T::kQ2_K},
    {kAttnK, kAnyFtype, [](const Ctx& c) { return c.experts8(); }, T::kQ4_K},
    {kFfnDown, kIq2SM, [](const Ctx& c) { return c.i_layer < c.n_layer / 8; }, T::kIQ3_S},
    {kFfnDown, kAnyFtype, [](const Ctx& c) { return c.i_layer < c.n_layer / 8; }, T::kQ2_K},
    {kAttnOutput, kAnyFtype, [](const Ctx& c) { return c.experts8(); }, T::kQ5_K},
    {kAttnOutput, F({Fx::kIQ1_S, Fx::kIQ1_M}), Always, T::kIQ2_XXS},
    {kAttnOutput, kIq2SM, Always, T::kIQ3_S},
};

bool FirstEighth(const Ctx& c) { return c.i_layer < c.n_layer / 8; }
bool MoreBits(const Ctx& c) { return c.more_bits(c.i_layer, c.n_layer); }
bool NotFalconNot8(const Ctx& c) { return !c.falcon && !c.experts8(); }

// Rules for every other mix.
const Rule kMixRules[] = {
    // attn_v (and attn_qkv, attn_kv_b); the 70B and 8-expert bumps follow.
    {kAttnV, F({Fx::kQ2_K}), [](const Ctx& c) { return c.gqa4(); }, T::kQ4_K},
    {kAttnV, F({Fx::kQ2_K}), Always, T::kQ3_K},
    {kAttnV, F({Fx::kQ2_K_S}), [](const Ctx& c) { return c.gqa4(); }, T::kQ4_K},
    {kAttnV, F({Fx::kIQ3_XXS}), [](const Ctx& c) { return c.gqa4(); }, T::kQ4_K},
    {kAttnV, F({Fx::kIQ3_XXS}), [](const Ctx& c) { return !c.has_imatrix; }, T::kIQ3_S},
    {kAttnV, F({Fx::kIQ3_XXS}), Always, T::kIQ3_XXS},
    {kAttnV, F({Fx::kIQ3_XS, Fx::kIQ3_S}), [](const Ctx& c) { return c.gqa4(); }, T::kQ4_K},
    {kAttnV, F({Fx::kIQ3_M}), Always, T::kQ4_K},
    {kAttnV, F({Fx::kQ3_K_M}), [](const Ctx& c) { return c.i_attn_v < 2; }, T::kQ5_K},
    {kAttnV, F({Fx::kQ3_K_M}), Always, T::kQ4_K},
    {kAttnV, F({Fx::kQ3_K_L}), Always, T::kQ5_K},
    {kAttnV, F({Fx::kIQ4_NL, Fx::kIQ4_XS}), [](const Ctx& c) { return c.gqa4(); }, T::kQ5_K},
    {kAttnV, F({Fx::kQ4_K_M, Fx::kQ5_K_M}),
     [](const Ctx& c) { return c.more_bits(c.i_attn_v, c.n_attn_v); }, T::kQ6_K},
    {kAttnV, F({Fx::kQ4_K_S}), [](const Ctx& c) { return c.i_attn_v < 4; }, T::kQ5_K},
    // attn_k
    {kAttnK, kAnyFtype, [](const Ctx& c) { return c.experts8(); }, T::kQ8_0},
    {kAttnK, F({Fx::kIQ3_XS}), Always, T::kIQ3_XXS},
    {kAttnK, F({Fx::kIQ3_XXS}), Always, T::kIQ2_S},
    // attn_q
    {kAttnQ, F({Fx::kIQ3_XS}), Always, T::kIQ3_XXS},
    {kAttnQ, F({Fx::kIQ3_XXS}), Always, T::kIQ2_S},
    // ffn_down (layer from the counter, or from the name for MoE models)
    {kFfnDown, F({Fx::kQ2_K}), Always, T::kQ3_K},
    {kFfnDown, F({Fx::kQ2_K_S}), FirstEighth, T::kQ4_K},
    {kFfnDown, F({Fx::kIQ3_XXS}), [](const Ctx& c) { return !c.has_imatrix && FirstEighth(c); },
     T::kQ4_K},
    {kFfnDown, F({Fx::kIQ3_XXS}), [](const Ctx& c) { return !c.has_imatrix; }, T::kQ3_K},
    {kFfnDown, F({Fx::kQ3_K_M}), [](const Ctx& c) { return c.i_layer < c.n_layer / 16; }, T::kQ5_K},
    {kFfnDown, F({Fx::kQ3_K_M}), [](const Ctx& c) { return !c.falcon || MoreBits(c); }, T::kQ4_K},
    {kFfnDown, F({Fx::kQ3_K_M}), Always, T::kQ3_K},
    {kFfnDown, F({Fx::kIQ3_M}),
     [](const Ctx& c) { return FirstEighth(c) || (c.experts8() && MoreBits(c)); }, T::kQ4_K},
    {kFfnDown, F({Fx::kQ3_K_L}), [](const Ctx& c) { return c.falcon; }, T::kQ4_K},
    {kFfnDown, F({Fx::kQ3_K_L}), Always, T::kQ5_K},
    {kFfnDown, F({Fx::kQ4_K_M}),
     [](const Ctx& c) { return c.falcon && c.i_layer < c.n_layer / 16; }, T::kQ6_K},
    {kFfnDown, F({Fx::kQ4_K_M}), [](const Ctx& c) { return c.falcon && MoreBits(c); }, T::kQ5_K},
    {kFfnDown, F({Fx::kQ4_K_M}), [](const Ctx& c) { return c.falcon; }, T::kQ4_K},
    {kFfnDown, F({Fx::kQ4_K_M}), MoreBits, T::kQ6_K},
    {kFfnDown, F({Fx::kIQ4_NL, Fx::kIQ4_XS}),
     [](const Ctx& c) { return FirstEighth(c) && !c.has_imatrix; }, T::kQ5_K},
    {kFfnDown, F({Fx::kQ5_K_M}), MoreBits, T::kQ6_K},
    {kFfnDown, F({Fx::kQ4_K_S}), [](const Ctx& c) { return !c.falcon && FirstEighth(c); },
     T::kQ5_K},
    {kFfnDown, F({Fx::kQ4_0}), [](const Ctx& c) { return c.has_imatrix && FirstEighth(c); },
     T::kQ4_1},
    {kFfnDown, F({Fx::kQ5_0}), [](const Ctx& c) { return c.has_imatrix && FirstEighth(c); },
     T::kQ5_1},
    // attn_output
    {kAttnOutput,
     F({Fx::kQ2_K, Fx::kIQ3_XS, Fx::kIQ3_XXS, Fx::kQ3_K_S, Fx::kQ3_K_M, Fx::kIQ4_NL, Fx::kQ4_K_S,
        Fx::kQ4_K_M, Fx::kIQ3_S, Fx::kIQ3_M, Fx::kIQ4_XS}),
     [](const Ctx& c) { return !c.falcon && c.experts8(); }, T::kQ5_K},
    {kAttnOutput, F({Fx::kQ2_K}), NotFalconNot8, T::kQ3_K},
    {kAttnOutput, F({Fx::kIQ3_XXS}), NotFalconNot8, T::kIQ3_S},
    {kAttnOutput, F({Fx::kQ3_K_M}), NotFalconNot8, T::kQ4_K},
    {kAttnOutput, F({Fx::kQ3_K_L}), NotFalconNot8, T::kQ5_K},
    {kAttnOutput, F({Fx::kIQ3_M}), NotFalconNot8, T::kQ4_K},
    {kAttnOutput, F({Fx::kQ3_K_L}), [](const Ctx& c) { return c.falcon; }, T::kQ4_K},
    // ffn_gate / ffn_up
    {kFfnGate, F({Fx::kIQ3_XS}),
     [](const Ctx& c) { return !FirstEighth(c) && c.i_layer < 7 * c.n_layer / 8; }, T::kIQ3_XXS},
    {kFfnUp, F({Fx::kIQ3_XS}),
     [](const Ctx& c) { return !FirstEighth(c) && c.i_layer < 7 * c.n_layer / 8; }, T::kIQ3_XXS},
};

// token_embd when it is not tied to the output.
const Rule kTokenEmbdRules[] = {
    {kTokenEmbd, F({Fx::kIQ2_XXS, Fx::kIQ2_XS, Fx::kIQ1_S, Fx::kIQ1_M}), Always, T::kQ2_K},
    {kTokenEmbd, F({Fx::kIQ2_S, Fx::kIQ2_M, Fx::kIQ3_XXS}), Always, T::kIQ3_S},
    {kTokenEmbd, F({Fx::kTQ1_0, Fx::kTQ2_0}), Always, T::kQ4_K},
};

constexpr FtypeSet kOutputQ5K =
    F({Fx::kIQ2_XXS, Fx::kIQ2_XS, Fx::kIQ3_XXS, Fx::kIQ1_S, Fx::kIQ2_S, Fx::kIQ2_M, Fx::kIQ1_M});

// The fallback when a row is not a whole number of blocks.
struct FallbackRule {
  std::initializer_list<GgmlType> from;
  GgmlType to;
};
const FallbackRule kFallbacks[] = {
    {{T::kIQ1_S, T::kIQ1_M, T::kIQ2_XXS, T::kIQ2_XS, T::kIQ2_S, T::kIQ3_XXS, T::kIQ3_S, T::kIQ4_XS},
     T::kIQ4_NL},
    {{T::kQ2_K, T::kQ3_K, T::kTQ1_0, T::kTQ2_0}, T::kQ4_0},
    {{T::kQ4_K}, T::kQ5_0},
    {{T::kQ5_K}, T::kQ5_1},
    {{T::kQ6_K}, T::kQ8_0},
};

bool IsQuantizedType(GgmlType t) { return GetTypeTraits(t).kind == TypeKind::kQuantized; }

// sscanf(name, "blk.%d.", &layer) == 1.
bool ParseBlockLayer(absl::string_view name, int* layer) {
  if (!absl::StartsWith(name, "blk.")) return false;
  size_t i = 4;
  while (i < name.size() && std::isspace(static_cast<unsigned char>(name[i]))) ++i;
  bool neg = false;
  if (i < name.size() && (name[i] == '+' || name[i] == '-')) neg = name[i++] == '-';
  if (i >= name.size() || !std::isdigit(static_cast<unsigned char>(name[i]))) return false;
  int64_t v = 0;
  while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i]))) {
    v = std::min<int64_t>(v * 10 + (name[i++] - '0'), int64_t{1} << 40);
  }
  if (neg) v = -v;
  *layer = static_cast<int>(std::clamp<int64_t>(v, INT_MIN, INT_MAX));
  return true;
}

int ParamInt(const Metadata& md, const std::string& key, int64_t def, bool* found) {
  const MetadataValue* v = md.Find(key);
  *found = false;
  if (v == nullptr) return static_cast<int>(def);
  if (v->is_array()) {
    if (v->size() == 0 || GgufValueTypeSize(v->element_type()) == 0) return static_cast<int>(def);
    *found = true;
    return static_cast<int>(std::clamp<int64_t>(v->int_at(0), INT_MIN, INT_MAX));
  }
  auto i = md.GetInteger(key);
  if (!i.ok()) return static_cast<int>(def);
  *found = true;
  return static_cast<int>(std::clamp<int64_t>(*i, INT_MIN, INT_MAX));
}

}  // namespace

absl::StatusOr<TensorTypeOverride> ParseTensorTypeOverride(absl::string_view text) {
  const size_t eq = text.find('=');
  if (eq == absl::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat("malformed tensor type '", text, "'"));
  }
  if (eq == 0)
    return absl::InvalidArgumentError("missing tensor name in '" + std::string(text) + "'");
  if (eq + 1 == text.size()) {
    return absl::InvalidArgumentError("missing quantization type in '" + std::string(text) + "'");
  }
  auto t = ParseGgmlType(text.substr(eq + 1));
  if (!t.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid quantization type '", text.substr(eq + 1), "'"));
  }
  return TensorTypeOverride{absl::AsciiStrToLower(text.substr(0, eq)), *t};
}

absl::StatusOr<std::vector<TensorTypeOverride>> ReadTensorTypeFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return absl::NotFoundError(
        absl::StrCat("failed to open file '", path, "': ", std::strerror(errno)));
  }
  std::vector<TensorTypeOverride> out;
  std::string word;
  while (in >> word) {
    auto o = ParseTensorTypeOverride(word);
    if (!o.ok()) return absl::InvalidArgumentError(absl::StrCat(path, ": ", o.status().message()));
    out.push_back(std::move(*o));
  }
  return out;
}

absl::StatusOr<ModelParams> ModelParamsFromMetadata(const Metadata& md) {
  ModelParams p;
  auto arch = md.GetString("general.architecture");
  if (!arch.ok()) return arch.status();
  p.arch = *arch;
  const std::string block_count = p.arch + ".block_count";
  auto n = md.GetInteger(block_count);
  if (!n.ok()) return n.status();
  if (*n < 0 || *n > (1 << 20)) {
    return absl::InvalidArgumentError(absl::StrCat(md.source_name(), ": metadata key '",
                                                   block_count, "' = ", *n, " is out of range"));
  }
  p.n_layer = static_cast<int>(*n);
  bool found = false;
  p.n_expert = std::max(0, ParamInt(md, p.arch + ".expert_count", 0, &found));
  p.n_head =
      static_cast<uint32_t>(std::max(0, ParamInt(md, p.arch + ".attention.head_count", 0, &found)));
  const int kv = ParamInt(md, p.arch + ".attention.head_count_kv", p.n_head, &found);
  p.n_head_kv = static_cast<uint32_t>(std::max(0, kv));
  // llama.cpp's LLM_TYPE_70B, the only model size the rules read.
  struct SeventyB {
    absl::string_view arch;
    int n_layer;
    bool needs_gqa;
  };
  static constexpr SeventyB k70B[] = {
      {"llama", 80, true}, {"deci", 80, false},  {"qwen2", 80, false},
      {"olmo", 80, false}, {"jais2", 68, false},
  };
  for (const SeventyB& e : k70B) {
    if (p.arch == e.arch && p.n_layer == e.n_layer && (!e.needs_gqa || p.n_head != p.n_head_kv) &&
        !(p.arch == "llama" && p.n_expert > 1)) {
      p.is_70b = true;
    }
  }
  return p;
}

bool TensorAllowsQuantization(const TensorShape& t, bool quantize_output_tensor, bool copy_only) {
  if (copy_only) return false;
  // ggml_n_dims: trailing dimensions of 1 do not count.
  int n_dims = 1;
  for (int i = 3; i >= 1; --i) {
    if (t.ne[i] > 1) {
      n_dims = i + 1;
      break;
    }
  }
  if (n_dims < 2) return false;
  const std::string& name = t.name;
  // llama.cpp tests name.rfind("weight") == name.size() - 6, which also holds
  // for every 5-character name (npos == size_t(-1)); kept for identical output.
  bool q = name.size() >= 6 ? absl::EndsWith(name, "weight") : name.size() == 5;
  static constexpr absl::string_view kNever[] = {
      "_norm.weight",
      "ffn_gate_inp.weight",
      "altup",
      "laurel",
      "per_layer_model_proj",
      "ssm_conv1d",
      "shortconv.conv.weight",
      "time_mix_first.weight",
      "time_mix_w0.weight",
      "time_mix_w1.weight",
      "time_mix_w2.weight",
      "time_mix_v0.weight",
      "time_mix_v1.weight",
      "time_mix_v2.weight",
      "time_mix_a0.weight",
      "time_mix_a1.weight",
      "time_mix_a2.weight",
      "time_mix_g1.weight",
      "time_mix_g2.weight",
      "time_mix_decay_w1.weight",
      "time_mix_decay_w2.weight",
      "time_mix_lerp_fused.weight",
      "attn_rel_b.weight",
      ".position_embd",
      "sam.pos_embd",
      "sam.neck.",
      "sam.net_",
      ".rel_pos",
      ".patch_embd",
      ".patch_merger",
  };
  for (absl::string_view s : kNever) q = q && !absl::StrContains(name, s);
  q = q && (quantize_output_tensor || name != "output.weight");
  q = q && name != "position_embd.weight" && name != "token_types.weight";
  return q;
}

std::vector<size_t> LlamaQuantizeOrder(const std::vector<std::string>& names) {
  std::vector<int> layer(names.size(), -1);
  for (size_t i = 0; i < names.size(); ++i) {
    int l = -1;
    if (ParseBlockLayer(names[i], &l)) layer[i] = l;
  }
  std::vector<size_t> order(names.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (layer[a] != layer[b]) return layer[a] < layer[b];
    return names[a] < names[b];
  });
  return order;
}

absl::StatusOr<TypeSelector> TypeSelector::Create(const ModelParams& params,
                                                  const SelectionOptions& options,
                                                  const std::vector<std::string>& all_names) {
  TypeSelector s;
  s.params_ = params;
  s.options_ = options;
  std::optional<GgmlType> def = FtypeDefaultType(options.ftype);
  if (!def) {
    return absl::UnimplementedError(absl::StrCat("ftype ", FtypeName(options.ftype),
                                                 " uses a type of the TurboQuant fork that "
                                                 "ggufkit does not implement"));
  }
  s.default_type_ = *def;
  for (const TensorTypeOverride& o : options.tensor_types) {
    try {
      s.patterns_.emplace_back(std::regex(o.pattern), o.type);
    } catch (const std::regex_error& e) {
      return absl::InvalidArgumentError(
          absl::StrCat("--tensor-type: bad regular expression '", o.pattern, "': ", e.what()));
    }
  }
  for (const std::string& n : all_names) {
    const Cat c = CategoryOf(n);
    if (IsAttnVLike(c)) ++s.n_attention_wv_;
    if (c == kOutput) s.has_tied_embeddings_ = false;
  }
  return s;
}

absl::StatusOr<GgmlType> TypeSelector::MixType(const TensorShape& t, GgmlType new_type,
                                               int category) {
  const Cat cat = static_cast<Cat>(category);
  const Ftype ftype = options_.ftype;
  Ctx c{&params_, ftype,           options_.has_imatrix, params_.arch == "falcon",
        0,        params_.n_layer, i_attention_wv_,      n_attention_wv_};

  // output.weight, and token_embd.weight when the model has no output.weight.
  if (cat == kOutput || (has_tied_embeddings_ && cat == kTokenEmbd)) {
    if (options_.output_tensor_type) return *options_.output_tensor_type;
    if (ftype == Fx::kMXFP4_MOE) return T::kQ8_0;
    if (c.falcon || t.ne[0] % GetTypeTraits(new_type).block_size != 0) return T::kQ8_0;
    if (In(kOutputQ5K, ftype)) return T::kQ5_K;
    return new_type != T::kQ8_0 ? T::kQ6_K : new_type;
  }
  if (ftype == Fx::kMXFP4_MOE) return t.ne[2] > 1 ? T::kMXFP4 : T::kQ8_0;
  if (cat == kTokenEmbd) {
    if (options_.token_embedding_type) return *options_.token_embedding_type;
    return Apply(std::begin(kTokenEmbdRules), std::end(kTokenEmbdRules), kTokenEmbd, c, new_type);
  }
  const Cat rule_cat = IsAttnVLike(cat) ? kAttnV : cat;
  if (In(kLowBitIq, ftype)) {
    c.i_layer = i_ffn_down_;
    GgmlType r = Apply(std::begin(kLowBitRules), std::end(kLowBitRules), rule_cat, c, new_type);
    if (rule_cat == kAttnV) ++i_attention_wv_;
    if (rule_cat == kFfnDown) ++i_ffn_down_;
    return r;
  }
  // ffn_* layer: the tensor's counter, or (MoE) the layer in its name.
  int* counter = rule_cat == kFfnDown   ? &i_ffn_down_
                 : rule_cat == kFfnGate ? &i_ffn_gate_
                 : rule_cat == kFfnUp   ? &i_ffn_up_
                                        : nullptr;
  if (counter != nullptr) {
    c.i_layer = *counter;
    if (std::max(1, params_.n_expert) > 1) {
      if (!ParseBlockLayer(t.name, &c.i_layer)) {
        return absl::InvalidArgumentError(
            absl::StrCat("tensor ", t.name, ": no layer number in its name (blk.N.), which the "
                         "expert-model rules need"));
      }
      if (c.i_layer < 0 || c.i_layer >= c.n_layer) {
        return absl::InvalidArgumentError(absl::StrCat(
            "tensor ", t.name, ": layer ", c.i_layer, " is outside the model's ", c.n_layer,
            " layers"));
      }
    }
  }
  GgmlType r = Apply(std::begin(kMixRules), std::end(kMixRules), rule_cat, c, new_type);
  if (rule_cat == kAttnV) {
    if (params_.is_70b && (r == T::kQ3_K || r == T::kQ4_K)) r = T::kQ5_K;
    if (c.experts8()) r = T::kQ8_0;
    ++i_attention_wv_;
  }
  if (counter != nullptr) ++*counter;
  return r;
}

absl::StatusOr<GgmlType> TypeSelector::Fallback(const TensorShape& t, GgmlType type,
                                                std::optional<GgmlType>* from) {
  const int64_t ncols = t.ne[0];
  if (ncols % GetTypeTraits(type).block_size == 0) return type;
  ++n_fallback_;
  *from = type;
  for (const FallbackRule& f : kFallbacks) {
    if (std::find(f.from.begin(), f.from.end(), type) != f.from.end()) {
      // A fallback that still does not fit: F16.
      return ncols % GetTypeTraits(f.to).block_size == 0 ? f.to : T::kF16;
    }
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "no tensor type fallback is defined for type ", GgmlTypeName(type), " (tensor ", t.name,
      ": ncols ", ncols, " not divisible by ", GetTypeTraits(type).block_size, ")"));
}

absl::StatusOr<TensorChoice> TypeSelector::Choose(const TensorShape& t) {
  TensorChoice ch;
  ch.type = t.type;
  ch.quantizable = TensorAllowsQuantization(t, options_.quantize_output_tensor, options_.copy_only);
  const Cat cat = CategoryOf(t.name);
  if (ch.quantizable) {
    if (options_.token_embedding_type && cat == kTokenEmbd) {
      ch.type = *options_.token_embedding_type;
    } else if (options_.output_tensor_type && cat == kOutput) {
      ch.type = *options_.output_tensor_type;
    } else {
      GgmlType new_type = default_type_;
      if (!options_.pure && IsQuantizedType(default_type_)) {
        bool manual = false;
        for (const auto& [re, type] : patterns_) {
          // Like llama.cpp: a pattern naming the mix's default type does not
          // count as an override, and the search goes on.
          if (std::regex_search(t.name, re) && type != new_type) {
            new_type = type;
            manual = true;
            break;
          }
        }
        ch.manual_override = manual;
        if (!manual) {
          GGUFKIT_ASSIGN_OR_RETURN(new_type, MixType(t, new_type, cat));
        }
        GGUFKIT_ASSIGN_OR_RETURN(new_type, Fallback(t, new_type, &ch.fallback_from));
      }
      ch.type = new_type;
    }
  }
  // tensor_requires_imatrix
  if (!IsTokenEmbd(t.name) && t.name != "output.weight") {
    switch (ch.type) {
      case T::kIQ3_XXS:
      case T::kIQ2_XXS:
      case T::kIQ2_XS:
      case T::kIQ2_S:
      case T::kIQ1_M:
      case T::kIQ1_S:
        ch.requires_imatrix = true;
        break;
      case T::kQ2_K:
        ch.requires_imatrix = options_.ftype == Fx::kQ2_K_S;
        break;
      default:
        break;
    }
  }
  return ch;
}

}  // namespace ggufkit::quantize
