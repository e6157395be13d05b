// gguf-kvplan: what a KV cache costs before a runtime is launched.
//
//   gguf-kvplan MODEL.gguf --ctx 2048,8192,32768,65536 --ctk f16,q8_0,turbo4 --ctv f16,turbo3
//   gguf-kvplan --layers 40 --kv-heads 8 --head-dim 128 --ctx 8192 --ctk turbo4 --ctv turbo4
//               --turbo-variant v1 --budget 4GiB --json    (one line)
//
// Exit status: 0 on success, 1 when the model cannot be read or planned, 2 on
// a usage error (one line naming the flag).
#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/types/optional.h"
#include "tools/lib/kvplan.h"

namespace ggufkit {
namespace {

constexpr char kUsage[] =
    "usage: gguf-kvplan [MODEL.gguf] [--ctx LIST] [--ctk TYPES] [--ctv TYPES]\n"
    "                   [--layers N --kv-heads N --head-dim N [--head-dim-v N]\n"
    "                    [--weights-bytes SIZE]] [--turbo-variant current|v1]\n"
    "                   [--budget SIZE] [--json] [--measure]\n"
    "  --ctx LIST        context lengths in cells (default 2048,8192,32768,65536; 32K ok)\n"
    "  --ctk / --ctv     K / V cache types: f16 bf16 q8_0 q4_0 turbo2 turbo3 turbo4 (default f16)\n"
    "  --layers, --kv-heads, --head-dim, --head-dim-v, --weights-bytes\n"
    "                    describe the model without a file (or override the file's values)\n"
    "  --turbo-variant   turbo block layout: current (default, 66-byte turbo4) or v1 (68)\n"
    "  --budget SIZE     memory budget (4GiB, 512MiB, 8GB): marks what fits and prints the\n"
    "                    largest context that fits per (K, V) pair\n"
    "  --json            machine-readable output\n"
    "  --measure         allocate and fill each cache through the codecs; report resident memory\n";

struct UsageError {
  std::string message;
};

// argv cursor: flags take their value as the next argument or after '='.
class Args {
 public:
  Args(int argc, char** argv) : args_(argv + 1, argv + argc) {}
  bool done() const { return i_ >= args_.size(); }
  std::string Next() { return args_[i_++]; }
  // The value of `flag` (from "--flag=value" or the next argument).
  bool Value(const std::string& flag, const std::string& arg, std::string* value,
             UsageError* error) {
    if (arg.size() > flag.size() && arg[flag.size()] == '=') {
      *value = arg.substr(flag.size() + 1);
      return true;
    }
    if (done()) {
      error->message = absl::StrCat("flag ", flag, " needs a value");
      return false;
    }
    *value = Next();
    return true;
  }

 private:
  std::vector<std::string> args_;
  size_t i_ = 0;
};

struct Options {
  std::string model_path;
  absl::optional<int64_t> layers, kv_heads, head_dim, head_dim_v, weights_bytes;
  kvplan::PlanOptions plan;
  bool json = false;
  bool help = false;
};

bool ParseInt(const std::string& flag, const std::string& text, absl::optional<int64_t>* out,
              UsageError* error) {
  int64_t v = 0;
  if (!absl::SimpleAtoi(text, &v) || v < 1) {
    error->message = absl::StrCat("flag ", flag, ": expected a positive integer, got '", text, "'");
    return false;
  }
  *out = v;
  return true;
}

bool ParseOptions(int argc, char** argv, Options* o, UsageError* error) {
  Args args(argc, argv);
  o->plan.contexts = {2048, 8192, 32768, 65536};
  o->plan.k_types = {KvType::kF16};
  o->plan.v_types = {KvType::kF16};
  while (!args.done()) {
    const std::string arg = args.Next();
    auto is = [&](const char* flag) {
      return arg == flag || (absl::StartsWith(arg, flag) && arg[std::string(flag).size()] == '=');
    };
    std::string value;
    auto take = [&](const char* flag) { return args.Value(flag, arg, &value, error); };
    if (arg == "-h" || arg == "--help") {
      o->help = true;
    } else if (arg == "--json") {
      o->json = true;
    } else if (arg == "--measure") {
      o->plan.measure = true;
    } else if (is("--ctx")) {
      if (!take("--ctx")) return false;
      auto v = kvplan::ParseContextList(value);
      if (!v.ok())
        return (error->message = absl::StrCat("flag --ctx: ", v.status().message())), false;
      o->plan.contexts = *v;
    } else if (is("--ctk") || is("--ctv")) {
      const char* flag = is("--ctk") ? "--ctk" : "--ctv";
      if (!take(flag)) return false;
      auto v = kvplan::ParseKvTypeList(value);
      if (!v.ok())
        return (error->message = absl::StrCat("flag ", flag, ": ", v.status().message())), false;
      (is("--ctk") ? o->plan.k_types : o->plan.v_types) = *v;
    } else if (is("--turbo-variant")) {
      if (!take("--turbo-variant")) return false;
      if (value == "current") {
        o->plan.variant = TurboVariant::kCurrent;
      } else if (value == "v1") {
        o->plan.variant = TurboVariant::kV1;
      } else {
        error->message =
            absl::StrCat("flag --turbo-variant: expected current or v1, got '", value, "'");
        return false;
      }
    } else if (is("--budget") || is("--weights-bytes")) {
      const char* flag = is("--budget") ? "--budget" : "--weights-bytes";
      if (!take(flag)) return false;
      auto v = kvplan::ParseByteSize(value);
      if (!v.ok())
        return (error->message = absl::StrCat("flag ", flag, ": ", v.status().message())), false;
      if (is("--budget")) {
        o->plan.budget_bytes = *v;
      } else {
        o->weights_bytes = *v;
      }
    } else if (is("--layers") || is("--kv-heads") || is("--head-dim-v") || is("--head-dim")) {
      const char* flag = is("--layers")       ? "--layers"
                         : is("--kv-heads")   ? "--kv-heads"
                         : is("--head-dim-v") ? "--head-dim-v"
                                              : "--head-dim";
      if (!take(flag)) return false;
      absl::optional<int64_t>* dst = is("--layers")       ? &o->layers
                                     : is("--kv-heads")   ? &o->kv_heads
                                     : is("--head-dim-v") ? &o->head_dim_v
                                                          : &o->head_dim;
      if (!ParseInt(flag, value, dst, error)) return false;
    } else if (absl::StartsWith(arg, "-") && arg != "-") {
      error->message = absl::StrCat("unknown flag '", arg, "'");
      return false;
    } else if (o->model_path.empty()) {
      o->model_path = arg;
    } else {
      error->message = absl::StrCat("unexpected argument '", arg, "' (one model file at most)");
      return false;
    }
  }
  if (!o->help && o->model_path.empty() && !(o->layers && o->kv_heads && o->head_dim)) {
    error->message = "give a MODEL.gguf or all of --layers, --kv-heads, --head-dim";
    return false;
  }
  return true;
}

int Main(int argc, char** argv) {
  Options o;
  UsageError usage;
  if (!ParseOptions(argc, argv, &o, &usage)) {
    std::fprintf(stderr, "gguf-kvplan: %s\n", usage.message.c_str());
    return 2;
  }
  if (o.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }
  kvplan::ModelKvShape shape;
  if (!o.model_path.empty()) {
    std::fprintf(stderr, "gguf-kvplan: %s: reading GGUF files is not available in this build\n",
                 o.model_path.c_str());
    return 1;
  } else {
    auto s = kvplan::UniformShape(*o.layers, *o.kv_heads, *o.head_dim,
                                  o.head_dim_v.value_or(*o.head_dim), o.weights_bytes.value_or(0));
    if (!s.ok()) {
      std::fprintf(stderr, "gguf-kvplan: %s\n", std::string(s.status().message()).c_str());
      return 2;
    }
    shape = *std::move(s);
  }
  auto plan = kvplan::MakePlan(shape, o.plan);
  if (!plan.ok()) {
    std::fprintf(stderr, "gguf-kvplan: %s: %s\n", shape.source.c_str(),
                 std::string(plan.status().message()).c_str());
    return 1;
  }
  const std::string text = o.json ? kvplan::FormatPlanJson(*plan) : kvplan::FormatPlanTable(*plan);
  std::fputs(text.c_str(), stdout);
  return 0;
}

}  // namespace
}  // namespace ggufkit

int main(int argc, char** argv) { return ggufkit::Main(argc, argv); }
