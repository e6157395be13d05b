// ShapeFromMetadata: llama.cpp's per-architecture reading of the hyper-
// parameters that size its memory (llama_model::load_hparams and
// llama_model::create_memory at the TurboQuant fork's 69d8e4be), as a table.
// Every rule below names what llama.cpp does; keys an architecture does not
// read are not looked at.
#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ggufkit/base/status_macros.h"
#include "ggufkit/kvplan/kvplan.h"

namespace ggufkit::kvplan {
namespace {

constexpr int64_t kMaxLayers = 4096;  // llama.cpp: LLAMA_MAX_LAYERS = 512; room for more
constexpr int64_t kMaxHeads = 65536;
constexpr int64_t kMaxDim = int64_t{1} << 24;

// How the architecture decides its sliding-window layers.
enum class Swa : uint8_t {
  kNone,      // never (also phi3: its window is read and discarded)
  kIfWindow,  // window key present and > 0: period pattern (gemma3, olmo2, ...)
  kAlways,    // always: window key (or default_window), period pattern (gemma2, ...)
  kLlama4,    // chunked attention of 8192 unless the window key is 0
  kExaone4,   // only the 64-layer model: window (default 4096), period 4
  kPerLayer,  // sliding_window_pattern holds one flag per layer (required)
  kLfm2,      // window key > 0: every attention layer slides
};

// Which layers are recurrent (hybrid / recurrent models).
enum class Recurrent : uint8_t {
  kNone,
  kAll,              // every layer (pure recurrent models, falcon-h1)
  kHeadKvZero,       // head_count_kv[il] == 0 (jamba, plamo2, granitehybrid, lfm2, kimi)
  kHeadKvAndFfZero,  // head_count_kv[il] == 0 and feed_forward_length[il] == 0 (nemotron_h)
  kInterval,         // (il + 1) % full_attention_interval != 0 (qwen3next, qwen35)
};

// What one recurrent layer keeps per sequence (llama_hparams::n_embd_r/s).
enum class State : uint8_t {
  kNone,
  kMamba,        // r: (conv - 1) * inner, s: state * inner (no group count)
  kMambaGroups,  // r: (conv - 1) * (inner + 2 * groups * state), s: state * inner
  kRwkv,         // r: token_shift_count * n_embd, s: n_embd * wkv head size
  kShortConv,    // r: n_embd * (l_cache - 1), s: 0 (lfm2)
  kKda,          // r: 3 * (conv - 1) * n_head * kda, s: kda^2 * n_head (kimi-linear)
};

// Which layers keep K/V at all (llama_hparams::n_layer_kv_from_start).
enum class KvLayers : uint8_t {
  kAll,
  kNextN,     // all but the last nextn_predict_layers (MTP layers)
  kGemma3n,   // the first 20 (the others reuse their caches)
  kSharedKv,  // all but the last attention.shared_kv_layers (gemma4)
};

// Which layers of a hybrid go to the KV cache / the recurrent state.
enum class HybridFilter : uint8_t {
  kDefault,    // attention: not recurrent; state: recurrent
  kAll,        // falcon-h1: every layer has both
  kNemotronH,  // feed_forward_length[il] == 0 layers only (the others are MLPs)
};

enum class Mla : uint8_t { kNo, kOptional, kRequired };

struct ArchRule {
  const char* name;
  MemoryKind memory = MemoryKind::kKv;  // kNone, kKv, kRecurrent or kHybrid (iSWA decided later)
  Swa swa = Swa::kNone;
  int64_t period = 0;          // default sliding_window_pattern period
  bool dense_first = false;    // period pattern: layer il slides iff il % n != 0
  int64_t default_window = 0;  // window before the key is read; 0 = the key is required
  bool window_fixed = false;   // the key only switches SWA on; the window stays default
  Recurrent recurrent = Recurrent::kNone;
  State state = State::kNone;
  KvLayers kv_layers = KvLayers::kAll;
  HybridFilter filter = HybridFilter::kDefault;
  Mla mla = Mla::kNo;
  bool no_flash_attn = false;
};

ArchRule Kv(const char* name) { return ArchRule{name}; }
ArchRule NoMemory(const char* name) {
  ArchRule r{name};
  r.memory = MemoryKind::kNone;
  return r;
}
ArchRule SwaIfWindow(const char* name, int64_t period, bool dense_first = false) {
  ArchRule r{name};
  r.swa = Swa::kIfWindow;
  r.period = period;
  r.dense_first = dense_first;
  return r;
}
ArchRule SwaAlways(const char* name, int64_t period, int64_t default_window) {
  ArchRule r{name};
  r.swa = Swa::kAlways;
  r.period = period;
  r.default_window = default_window;
  return r;
}
ArchRule SwaPerLayer(const char* name) {
  ArchRule r{name};
  r.swa = Swa::kPerLayer;
  return r;
}
ArchRule PureRecurrent(const char* name, State state) {
  ArchRule r{name};
  r.memory = MemoryKind::kRecurrent;
  r.recurrent = Recurrent::kAll;
  r.state = state;
  return r;
}
ArchRule Hybrid(const char* name, Recurrent recurrent, State state) {
  ArchRule r{name};
  r.memory = MemoryKind::kHybrid;
  r.recurrent = recurrent;
  r.state = state;
  return r;
}
ArchRule WithKvLayers(ArchRule r, KvLayers kv_layers) {
  r.kv_layers = kv_layers;
  return r;
}
ArchRule WithMla(ArchRule r, Mla mla) {
  r.mla = mla;
  return r;
}

// Every architecture llama.cpp knows (LLM_ARCH_NAMES at 69d8e4be, less clip).
const std::vector<ArchRule>& ArchRules() {
  static const std::vector<ArchRule>* rules = [] {
    auto* r = new std::vector<ArchRule>;
    // Plain KV cache of every layer, no sliding window.
    for (const char* name :
         {"llama",         "deci",           "falcon",       "grok",        "gpt2",
          "gptj",          "gptneox",        "mpt",          "baichuan",    "starcoder",
          "refact",        "bloom",          "stablelm",     "qwen",        "qwen2",
          "qwen2moe",      "qwen2vl",        "qwen3",        "qwen3moe",    "qwen3vl",
          "qwen3vlmoe",    "phi2",           "phi3",         "phimoe",      "plamo",
          "codeshell",     "orion",          "internlm2",    "minicpm",     "minicpm3",
          "gemma",         "starcoder2",     "xverse",       "command-r",   "dbrx",
          "olmo",          "olmoe",          "openelm",      "arctic",      "deepseek",
          "deepseek2-ocr", "chatglm",        "bitnet",       "t5",          "t5encoder",
          "jais",          "jais2",          "nemotron",     "exaone",      "granite",
          "granitemoe",    "chameleon",      "plm",          "bailingmoe",  "dots1",
          "arcee",         "ernie4_5",       "ernie4_5-moe", "hunyuan-moe", "hunyuan-dense",
          "smollm3",       "seed_oss",       "grovemoe",     "apertus",     "minimax-m2",
          "cogvlm",        "pangu-embedded", "mistral3",     "paddleocr",   "llama-embed",
          "maincoder"}) {
      r->push_back(Kv(name));
    }
    for (ArchRule& a : *r) {
      if (std::string(a.name) == "grok") a.no_flash_attn = true;
    }
    // No memory module (create_memory returns none).
    for (const char* name : {"bert", "modern-bert", "nomic-bert", "nomic-bert-moe", "neo-bert",
                             "jina-bert-v2", "jina-bert-v3", "eurobert", "wavtokenizer-dec",
                             "gemma-embedding", "dream", "llada", "llada-moe", "rnd1"}) {
      r->push_back(NoMemory(name));
    }
    // Sliding windows.
    {
      ArchRule a{"llama4"};
      a.swa = Swa::kLlama4;
      a.period = 4;
      a.default_window = 8192;
      r->push_back(a);
    }
    r->push_back(SwaIfWindow("afmoe", 4));
    r->push_back(SwaIfWindow("plamo3", 8));
    r->push_back(SwaIfWindow("gemma3", 6));
    r->push_back(SwaIfWindow("olmo2", 4));
    {
      ArchRule a = SwaIfWindow("smallthinker", 4, /*dense_first=*/true);
      a.default_window = 4096;
      a.window_fixed = true;
      r->push_back(a);
    }
    r->push_back(SwaAlways("gemma2", 2, 4096));
    r->push_back(SwaAlways("cohere2", 4, 0));
    r->push_back(SwaAlways("gpt-oss", 2, 0));
    r->push_back(SwaAlways("exaone-moe", 4, 0));
    r->push_back(WithKvLayers(SwaAlways("gemma3n", 5, 0), KvLayers::kGemma3n));
    {
      ArchRule a{"exaone4"};
      a.swa = Swa::kExaone4;
      a.period = 4;
      a.default_window = 4096;
      r->push_back(a);
    }
    r->push_back(WithKvLayers(SwaPerLayer("gemma4"), KvLayers::kSharedKv));
    r->push_back(SwaPerLayer("mimo2"));
    r->push_back(SwaPerLayer("step35"));
    // Multi-token-prediction layers without a cache.
    r->push_back(WithKvLayers(Kv("glm4"), KvLayers::kNextN));
    r->push_back(WithKvLayers(Kv("glm4moe"), KvLayers::kNextN));
    r->push_back(WithKvLayers(Kv("bailingmoe2"), KvLayers::kNextN));
    // MLA (key_length_mla / value_length_mla present: V is a view of K).
    r->push_back(WithMla(Kv("deepseek2"), Mla::kOptional));
    r->push_back(WithMla(Kv("mistral4"), Mla::kOptional));
    r->push_back(WithMla(WithKvLayers(Kv("glm-dsa"), KvLayers::kNextN), Mla::kOptional));
    // Recurrent.
    r->push_back(PureRecurrent("mamba", State::kMamba));
    r->push_back(PureRecurrent("mamba2", State::kMambaGroups));
    for (const char* name : {"rwkv6", "rwkv6qwen2", "rwkv7", "arwkv7"}) {
      r->push_back(PureRecurrent(name, State::kRwkv));
    }
    // Hybrid.
    r->push_back(Hybrid("jamba", Recurrent::kHeadKvZero, State::kMamba));
    r->push_back(Hybrid("plamo2", Recurrent::kHeadKvZero, State::kMambaGroups));
    r->push_back(Hybrid("granitehybrid", Recurrent::kHeadKvZero, State::kMambaGroups));
    {
      ArchRule a = Hybrid("falcon-h1", Recurrent::kAll, State::kMambaGroups);
      a.filter = HybridFilter::kAll;
      r->push_back(a);
    }
    for (const char* name : {"nemotron_h", "nemotron_h_moe"}) {
      ArchRule a = Hybrid(name, Recurrent::kHeadKvAndFfZero, State::kMambaGroups);
      a.filter = HybridFilter::kNemotronH;
      r->push_back(a);
    }
    for (const char* name : {"qwen3next", "qwen35", "qwen35moe"}) {
      r->push_back(Hybrid(name, Recurrent::kInterval, State::kMambaGroups));
    }
    {
      ArchRule a = Hybrid("lfm2", Recurrent::kHeadKvZero, State::kShortConv);
      a.swa = Swa::kLfm2;
      r->push_back(a);
    }
    r->push_back(Hybrid("lfm2moe", Recurrent::kHeadKvZero, State::kShortConv));
    r->push_back(
        WithMla(Hybrid("kimi-linear", Recurrent::kHeadKvZero, State::kKda), Mla::kRequired));
    return r;
  }();
  return *rules;
}

const ArchRule* FindRule(absl::string_view arch) {
  for (const ArchRule& r : ArchRules()) {
    if (arch == r.name) return &r;
  }
  return nullptr;
}

// Metadata reading with llama.cpp's semantics and clear errors.
class Reader {
 public:
  Reader(const KvMetadataLookup& md, const std::string& source, const std::string& arch,
         int64_t n_layer)
      : md_(md), source_(source), arch_(arch), n_layer_(n_layer) {}

  std::string Key(absl::string_view suffix) const { return absl::StrCat(arch_, ".", suffix); }

  absl::Status Error(absl::string_view key, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": metadata key '", key, "' ", what));
  }

  // A scalar key (llama.cpp's get_key). An array is an error; absent gives
  // `fallback`, or an error when there is none (a required key).
  absl::StatusOr<int64_t> Scalar(absl::string_view suffix, absl::optional<int64_t> fallback,
                                 int64_t lo = 0, int64_t hi = kMaxDim) const {
    const std::string key = Key(suffix);
    GGUFKIT_ASSIGN_OR_RETURN(const absl::optional<std::vector<int64_t>> v, md_.Integers(key));
    if (!v) {
      if (fallback) return *fallback;
      return absl::NotFoundError(
          absl::StrCat(source_, ": metadata key '", key, "' not found (", arch_, " requires it)"));
    }
    if (md_.IsArray(key) || v->size() != 1) return Error(key, "is an array, expected one integer");
    if ((*v)[0] < lo || (*v)[0] > hi) {
      return Error(key, absl::StrCat("value ", (*v)[0], " is outside [", lo, ", ", hi, "]"));
    }
    return (*v)[0];
  }

  // Whether a scalar key is present (llama.cpp's `found` of get_key).
  absl::StatusOr<absl::optional<int64_t>> OptionalScalar(absl::string_view suffix,
                                                         int64_t hi = kMaxDim) const {
    GGUFKIT_ASSIGN_OR_RETURN(const absl::optional<std::vector<int64_t>> v,
                             md_.Integers(Key(suffix)));
    if (!v) return absl::optional<int64_t>();
    GGUFKIT_ASSIGN_OR_RETURN(const int64_t x, Scalar(suffix, absl::nullopt, 0, hi));
    return absl::optional<int64_t>(x);
  }

  // llama.cpp's get_key_or_arr(key, uint32_t&) for a period: a scalar value,
  // or `fallback` when the key is absent or an array (llama.cpp then keeps its
  // default without a word).
  absl::StatusOr<int64_t> PeriodOr(absl::string_view suffix, int64_t fallback) const {
    const std::string key = Key(suffix);
    GGUFKIT_ASSIGN_OR_RETURN(const absl::optional<std::vector<int64_t>> v, md_.Integers(key));
    if (!v || md_.IsArray(key)) return fallback;
    return Scalar(suffix, absl::nullopt, 0, kMaxLayers);
  }

  // llama.cpp's get_key_or_arr(key, array, n_layer): a scalar broadcast to
  // every layer, or an array of exactly n_layer values.
  absl::StatusOr<absl::optional<std::vector<int64_t>>> PerLayer(absl::string_view suffix,
                                                                int64_t hi) const {
    const std::string key = Key(suffix);
    GGUFKIT_ASSIGN_OR_RETURN(const absl::optional<std::vector<int64_t>> v, md_.Integers(key));
    if (!v) return absl::optional<std::vector<int64_t>>();
    if (md_.IsArray(key) && static_cast<int64_t>(v->size()) != n_layer_) {
      return Error(
          key, absl::StrCat("has ", v->size(), " values, expected ", n_layer_, " (block_count)"));
    }
    if (v->size() != 1 && static_cast<int64_t>(v->size()) != n_layer_) {
      return Error(key, absl::StrCat("has ", v->size(), " values, expected 1 or ", n_layer_));
    }
    for (int64_t x : *v) {
      if (x < 0 || x > hi)
        return Error(key, absl::StrCat("value ", x, " is outside [0, ", hi, "]"));
    }
    std::vector<int64_t> out = *v;
    if (out.size() == 1) out.assign(static_cast<size_t>(n_layer_), (*v)[0]);
    return absl::optional<std::vector<int64_t>>(std::move(out));
  }

 private:
  const KvMetadataLookup& md_;
  const std::string& source_;
  const std::string& arch_;
  int64_t n_layer_;
};

// llama_hparams::set_swa_pattern.
std::vector<bool> PeriodPattern(int64_t n_layer, int64_t period, bool dense_first) {
  std::vector<bool> swa(static_cast<size_t>(n_layer));
  for (int64_t il = 0; il < n_layer; ++il) {
    swa[il] = period == 0 || (dense_first ? il % period != 0 : il % period < period - 1);
  }
  return swa;
}

}  // namespace

absl::string_view MemoryKindName(MemoryKind kind) {
  switch (kind) {
    case MemoryKind::kNone:
      return "none";
    case MemoryKind::kKv:
      return "kv";
    case MemoryKind::kKvIswa:
      return "kv+swa";
    case MemoryKind::kRecurrent:
      return "recurrent";
    case MemoryKind::kHybrid:
      return "hybrid";
    case MemoryKind::kHybridIswa:
      return "hybrid+swa";
  }
  return "?";
}

absl::StatusOr<ModelKvShape> ShapeFromMetadata(const KvMetadataLookup& md,
                                               const std::string& source, int64_t weights_bytes) {
  GGUFKIT_ASSIGN_OR_RETURN(const absl::optional<std::string> arch_value,
                           md.String("general.architecture"));
  if (!arch_value || arch_value->empty()) {
    return absl::NotFoundError(
        absl::StrCat(source, ": metadata key 'general.architecture' not found"));
  }
  const std::string& arch = *arch_value;
  ModelKvShape shape;
  shape.source = source;
  shape.architecture = arch;
  shape.weights_bytes = weights_bytes;

  const ArchRule* found = FindRule(arch);
  ArchRule generic = Kv("");
  if (found == nullptr) {
    shape.notes.push_back(absl::StrCat("'", arch,
                                       "' is not an architecture llama.cpp knows: planned as a "
                                       "KV cache of every layer, without sliding window"));
  }
  const ArchRule& rule = found != nullptr ? *found : generic;

  {
    Reader r0(md, source, arch, 0);
    GGUFKIT_ASSIGN_OR_RETURN(const int64_t n_layer,
                             r0.Scalar("block_count", absl::nullopt, 1, kMaxLayers));
    shape.layers.resize(static_cast<size_t>(n_layer));
  }
  const int64_t n_layer = static_cast<int64_t>(shape.layers.size());
  const Reader r(md, source, arch, n_layer);
  GGUFKIT_ASSIGN_OR_RETURN(shape.context_length,
                           r.Scalar("context_length", 0, 0, int64_t{1} << 40));
  shape.memory = rule.memory;
  if (rule.memory == MemoryKind::kNone) {
    shape.notes.push_back(absl::StrCat(arch, " has no KV cache or recurrent state in llama.cpp"));
    for (LayerKvShape& l : shape.layers) l.attention = false;
    return shape;
  }
  shape.flash_attn_unsupported = rule.no_flash_attn;
  GGUFKIT_ASSIGN_OR_RETURN(const absl::optional<int64_t> n_embd_opt,
                           r.OptionalScalar("embedding_length"));
  GGUFKIT_ASSIGN_OR_RETURN(const absl::optional<int64_t> causal,
                           r.OptionalScalar("attention.causal", 1));
  shape.causal = !causal || *causal != 0;

  // Heads: per-layer or scalar; head_count_kv defaults to head_count.
  GGUFKIT_ASSIGN_OR_RETURN(const auto n_head_opt, r.PerLayer("attention.head_count", kMaxHeads));
  std::vector<int64_t> n_head =
      n_head_opt ? *n_head_opt : std::vector<int64_t>(static_cast<size_t>(n_layer), 0);
  GGUFKIT_ASSIGN_OR_RETURN(const auto n_head_kv_opt,
                           r.PerLayer("attention.head_count_kv", kMaxHeads));
  std::vector<int64_t> n_head_kv = n_head_kv_opt ? *n_head_kv_opt : n_head;
  GGUFKIT_ASSIGN_OR_RETURN(const auto n_ff_opt, r.PerLayer("feed_forward_length", kMaxDim));
  const std::vector<int64_t> n_ff =
      n_ff_opt ? *n_ff_opt : std::vector<int64_t>(static_cast<size_t>(n_layer), 0);

  // Head sizes: only when layer 0 has heads ("non-transformer models do not
  // have attention heads"); embedding_length / head_count by default.
  int64_t k_full = 0, v_full = 0;
  if (n_head[0] > 0) {
    absl::optional<int64_t> fallback;
    if (n_embd_opt) fallback = *n_embd_opt / n_head[0];
    GGUFKIT_ASSIGN_OR_RETURN(k_full, r.Scalar("attention.key_length", fallback));
    GGUFKIT_ASSIGN_OR_RETURN(v_full, r.Scalar("attention.value_length", fallback));
  }
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t k_swa, r.Scalar("attention.key_length_swa", k_full));
  GGUFKIT_ASSIGN_OR_RETURN(const int64_t v_swa, r.Scalar("attention.value_length_swa", v_full));

  // Recurrent layers.
  std::vector<bool> recurrent(static_cast<size_t>(n_layer), false);
  switch (rule.recurrent) {
    case Recurrent::kNone:
      break;
    case Recurrent::kAll:
      recurrent.assign(recurrent.size(), true);
      break;
    case Recurrent::kHeadKvZero:
      for (int64_t il = 0; il < n_layer; ++il) recurrent[il] = n_head_kv[il] == 0;
      break;
    case Recurrent::kHeadKvAndFfZero:
      for (int64_t il = 0; il < n_layer; ++il) {
        recurrent[il] = n_head_kv[il] == 0 && n_ff[il] == 0;
      }
      break;
    case Recurrent::kInterval: {
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t interval,
                               r.Scalar("full_attention_interval", 4, 1, kMaxLayers));
      for (int64_t il = 0; il < n_layer; ++il) recurrent[il] = (il + 1) % interval != 0;
      break;
    }
  }

  // Sliding window.
  std::vector<bool> swa(static_cast<size_t>(n_layer), false);
  switch (rule.swa) {
    case Swa::kNone:
      break;
    case Swa::kIfWindow: {
      GGUFKIT_ASSIGN_OR_RETURN(const absl::optional<int64_t> window,
                               r.OptionalScalar("attention.sliding_window"));
      if (window && *window > 0) {
        shape.swa_type = SwaType::kStandard;
        shape.sliding_window = rule.window_fixed ? rule.default_window : *window;
        GGUFKIT_ASSIGN_OR_RETURN(const int64_t period,
                                 r.PeriodOr("attention.sliding_window_pattern", rule.period));
        swa = PeriodPattern(n_layer, period, rule.dense_first);
      }
      break;
    }
    case Swa::kAlways: {
      shape.swa_type = SwaType::kStandard;
      GGUFKIT_ASSIGN_OR_RETURN(
          shape.sliding_window,
          r.Scalar("attention.sliding_window", rule.default_window > 0
                                                   ? absl::optional<int64_t>(rule.default_window)
                                                   : absl::nullopt));
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t period,
                               r.PeriodOr("attention.sliding_window_pattern", rule.period));
      swa = PeriodPattern(n_layer, period, rule.dense_first);
      break;
    }
    case Swa::kLlama4: {
      GGUFKIT_ASSIGN_OR_RETURN(const absl::optional<int64_t> window,
                               r.OptionalScalar("attention.sliding_window"));
      if (!window || *window != 0) {
        shape.swa_type = SwaType::kChunked;
        shape.sliding_window = rule.default_window;  // the key's value is not used
        GGUFKIT_ASSIGN_OR_RETURN(const int64_t period,
                                 r.PeriodOr("attention.sliding_window_pattern", rule.period));
        swa = PeriodPattern(n_layer, period, false);
      }
      break;
    }
    case Swa::kExaone4: {
      if (n_layer == 64) {
        shape.swa_type = SwaType::kStandard;
        GGUFKIT_ASSIGN_OR_RETURN(const int64_t period,
                                 r.PeriodOr("attention.sliding_window_pattern", rule.period));
        swa = PeriodPattern(n_layer, period, false);
      }
      GGUFKIT_ASSIGN_OR_RETURN(shape.sliding_window,
                               r.Scalar("attention.sliding_window", rule.default_window));
      if (shape.swa_type == SwaType::kNone) shape.sliding_window = 0;
      break;
    }
    case Swa::kPerLayer: {
      shape.swa_type = SwaType::kStandard;
      GGUFKIT_ASSIGN_OR_RETURN(shape.sliding_window,
                               r.Scalar("attention.sliding_window", absl::nullopt));
      GGUFKIT_ASSIGN_OR_RETURN(const auto flags,
                               r.PerLayer("attention.sliding_window_pattern", int64_t{1} << 32));
      if (!flags) {
        return absl::NotFoundError(absl::StrCat(source, ": metadata key '",
                                                r.Key("attention.sliding_window_pattern"),
                                                "' not found (", arch, " requires it)"));
      }
      for (int64_t il = 0; il < n_layer; ++il) swa[il] = (*flags)[il] != 0;
      break;
    }
    case Swa::kLfm2: {
      GGUFKIT_ASSIGN_OR_RETURN(const absl::optional<int64_t> window,
                               r.OptionalScalar("attention.sliding_window"));
      if (window && *window > 0) {
        shape.swa_type = SwaType::kStandard;
        shape.sliding_window = *window;
        for (int64_t il = 0; il < n_layer; ++il) swa[il] = !recurrent[il];
      }
      break;
    }
  }

  // Layers that keep K/V at all.
  int64_t kv_from_start = n_layer;
  switch (rule.kv_layers) {
    case KvLayers::kAll:
      break;
    case KvLayers::kNextN: {
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t nextn,
                               r.Scalar("nextn_predict_layers", 0, 0, n_layer - 1));
      kv_from_start = n_layer - nextn;
      break;
    }
    case KvLayers::kGemma3n:
      kv_from_start = 20;
      break;
    case KvLayers::kSharedKv: {
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t shared,
                               r.Scalar("attention.shared_kv_layers", 0, 0, n_layer));
      kv_from_start = n_layer - shared;
      break;
    }
  }

  // MLA: both MLA head sizes present.
  if (rule.mla != Mla::kNo) {
    const absl::optional<int64_t> none;
    const absl::optional<int64_t> zero = 0;
    const auto& fallback = rule.mla == Mla::kRequired ? none : zero;
    GGUFKIT_ASSIGN_OR_RETURN(const int64_t k_mla, r.Scalar("attention.key_length_mla", fallback));
    GGUFKIT_ASSIGN_OR_RETURN(const int64_t v_mla, r.Scalar("attention.value_length_mla", fallback));
    if ((k_mla == 0) != (v_mla == 0)) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": metadata keys '", r.Key("attention.key_length_mla"), "' and '",
                       r.Key("attention.value_length_mla"), "' must both be set or both be 0"));
    }
    shape.mla = k_mla != 0;
  }

  // Recurrent state sizes (llama_hparams::n_embd_r / n_embd_s).
  auto need_embd = [&]() -> absl::StatusOr<int64_t> {
    if (n_embd_opt) return *n_embd_opt;
    return absl::NotFoundError(
        absl::StrCat(source, ": metadata key '", r.Key("embedding_length"), "' not found"));
  };
  // llama.cpp computes the state sizes in 32 bits; larger values are refused
  // here rather than wrapped.
  auto state_size = [&](std::initializer_list<int64_t> factors) -> absl::StatusOr<int64_t> {
    int64_t p = 1;
    for (int64_t f : factors) {
      if (f != 0 && p > (int64_t{1} << 32) / f) {
        return absl::InvalidArgumentError(absl::StrCat(
            source, ": the recurrent state of ", arch,
            " (from its ssm / wkv / shortconv / kda keys) exceeds 2^32 values per layer"));
      }
      p *= f;
    }
    if (p >= (int64_t{1} << 32)) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": the recurrent state of ", arch,
                                                     " exceeds 2^32 values per layer"));
    }
    return p;
  };
  switch (rule.state) {
    case State::kNone:
      break;
    case State::kMamba:
    case State::kMambaGroups: {
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t conv, r.Scalar("ssm.conv_kernel", absl::nullopt));
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t inner, r.Scalar("ssm.inner_size", absl::nullopt));
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t state, r.Scalar("ssm.state_size", absl::nullopt));
      int64_t groups = 0;
      if (rule.state == State::kMambaGroups) {
        GGUFKIT_ASSIGN_OR_RETURN(groups, r.Scalar("ssm.group_count", absl::nullopt));
      }
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t group_state, state_size({2, groups, state}));
      GGUFKIT_ASSIGN_OR_RETURN(shape.n_embd_r,
                               state_size({conv > 0 ? conv - 1 : 0, inner + group_state}));
      GGUFKIT_ASSIGN_OR_RETURN(shape.n_embd_s, state_size({state, inner}));
      break;
    }
    case State::kRwkv: {
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t n_embd, need_embd());
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t head, r.Scalar("wkv.head_size", absl::nullopt));
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t shift, r.Scalar("token_shift_count", 2));
      if (head != 0) {
        GGUFKIT_ASSIGN_OR_RETURN(shape.n_embd_r, state_size({shift, n_embd}));
        GGUFKIT_ASSIGN_OR_RETURN(shape.n_embd_s, state_size({n_embd, head}));
      }
      break;
    }
    case State::kShortConv: {
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t n_embd, need_embd());
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t l_cache, r.Scalar("shortconv.l_cache", absl::nullopt));
      GGUFKIT_ASSIGN_OR_RETURN(shape.n_embd_r,
                               state_size({n_embd, l_cache != 0 ? l_cache - 1 : 0}));
      shape.n_embd_s = 0;  // lfm2 reads no ssm keys: ssm_d_state * ssm_d_inner = 0
      break;
    }
    case State::kKda: {
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t conv, r.Scalar("ssm.conv_kernel", absl::nullopt));
      GGUFKIT_ASSIGN_OR_RETURN(const int64_t kda, r.Scalar("kda.head_dim", absl::nullopt));
      if (kda != 0) {
        GGUFKIT_ASSIGN_OR_RETURN(shape.n_embd_r,
                                 state_size({3, conv > 0 ? conv - 1 : 3, n_head[0], kda}));
        GGUFKIT_ASSIGN_OR_RETURN(shape.n_embd_s, state_size({kda, kda, n_head[0]}));
      }
      break;
    }
  }

  // Per layer.
  for (int64_t il = 0; il < n_layer; ++il) {
    LayerKvShape& l = shape.layers[il];
    l.n_head = n_head[il];
    l.n_kv_heads = n_head_kv[il];
    l.sliding = swa[il];
    l.head_dim_k = swa[il] ? k_swa : k_full;
    l.head_dim_v = swa[il] ? v_swa : v_full;
    const bool has_kv = il < kv_from_start;
    switch (rule.memory) {
      case MemoryKind::kRecurrent:
        l.attention = false;
        l.recurrent = true;
        break;
      case MemoryKind::kHybrid:
        switch (rule.filter) {
          case HybridFilter::kDefault:
            l.attention = has_kv && !recurrent[il];
            l.recurrent = recurrent[il];
            break;
          case HybridFilter::kAll:
            l.attention = has_kv;
            l.recurrent = true;
            break;
          case HybridFilter::kNemotronH:
            l.attention = has_kv && !recurrent[il] && n_ff[il] == 0;
            l.recurrent = recurrent[il] && n_ff[il] == 0;
            break;
        }
        break;
      default:
        l.attention = has_kv;
        l.recurrent = false;
        break;
    }
  }

  if (shape.swa_type != SwaType::kNone) {
    bool any = false;
    for (int64_t il = 0; il < n_layer; ++il) any |= swa[il];
    if (!any) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": ", arch,
                       " has a sliding window but its pattern makes no layer slide "
                       "(llama.cpp aborts on this model)"));
    }
    if (shape.memory == MemoryKind::kKv) shape.memory = MemoryKind::kKvIswa;
    if (shape.memory == MemoryKind::kHybrid) shape.memory = MemoryKind::kHybridIswa;
  }

  if (shape.memory == MemoryKind::kKv || shape.memory == MemoryKind::kKvIswa) {
    bool any_attention = false;
    for (const LayerKvShape& l : shape.layers) any_attention |= l.attention && l.n_kv_heads > 0;
    if (!any_attention) {
      return absl::InvalidArgumentError(
          absl::StrCat(source, ": no layer has KV heads ('", r.Key("attention.head_count_kv"),
                       "' / '", r.Key("attention.head_count"), "' missing or 0)"));
    }
  }
  return shape;
}

absl::StatusOr<ModelKvShape> UniformShape(int64_t n_layers, int64_t n_kv_heads, int64_t head_dim_k,
                                          int64_t head_dim_v, int64_t weights_bytes,
                                          int64_t n_head) {
  GGUFKIT_RETURN_ERROR_IF(n_layers < 1 || n_layers > kMaxLayers, "--layers must be in [1, ",
                          kMaxLayers, "], got ", n_layers);
  GGUFKIT_RETURN_ERROR_IF(n_kv_heads < 1 || n_kv_heads > kMaxHeads,
                          "--kv-heads must be in [1, 65536], got ", n_kv_heads);
  GGUFKIT_RETURN_ERROR_IF(n_head < 0 || n_head > kMaxHeads, "--heads must be in [1, 65536], got ",
                          n_head);
  GGUFKIT_RETURN_ERROR_IF(head_dim_k < 1 || head_dim_k > 65536,
                          "--head-dim must be in [1, 65536], got ", head_dim_k);
  GGUFKIT_RETURN_ERROR_IF(head_dim_v < 1 || head_dim_v > 65536,
                          "--head-dim-v must be in [1, 65536], got ", head_dim_v);
  GGUFKIT_RETURN_ERROR_IF(weights_bytes < 0, "--weights-bytes must be >= 0, got ", weights_bytes);
  ModelKvShape shape;
  shape.source = "flags";
  LayerKvShape layer;
  layer.n_head = n_head > 0 ? n_head : n_kv_heads;
  layer.n_kv_heads = n_kv_heads;
  layer.head_dim_k = head_dim_k;
  layer.head_dim_v = head_dim_v;
  shape.layers.assign(static_cast<size_t>(n_layers), layer);
  shape.weights_bytes = weights_bytes;
  return shape;
}

}  // namespace ggufkit::kvplan
