#include "ggufkit/cli/cli_args.h"

#include <cctype>
#include <limits>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ggufkit/base/byte_size.h"

namespace ggufkit::cli {


ArgParser::ArgParser(std::string program, std::string summary)
    : program_(std::move(program)), summary_(std::move(summary)) {}

void ArgParser::AddString(std::string name, std::string value_name, std::string help,
                          std::string* out) {
  AddCustom(std::move(name), std::move(value_name), std::move(help), [out](absl::string_view v) {
    *out = std::string(v);
    return absl::OkStatus();
  });
}

void ArgParser::AddChoice(std::string name, std::string value_name, std::string help,
                          std::vector<std::string> choices, std::string* out) {
  help = absl::StrCat(help, " (", absl::StrJoin(choices, "|"), ")");
  AddCustom(std::move(name), std::move(value_name), std::move(help),
            [out, choices](absl::string_view v) {
              for (const std::string& c : choices) {
                if (c == v) {
                  *out = c;
                  return absl::OkStatus();
                }
              }
              return absl::InvalidArgumentError(
                  absl::StrCat("'", v, "' is not one of ", absl::StrJoin(choices, ", ")));
            });
}

void ArgParser::AddInt(std::string name, std::string value_name, std::string help, int64_t* out,
                       int64_t min, int64_t max) {
  AddCustom(std::move(name), std::move(value_name), std::move(help),
            [out, min, max](absl::string_view v) {
              int64_t x = 0;
              if (!absl::SimpleAtoi(v, &x)) {
                return absl::InvalidArgumentError(absl::StrCat("'", v, "' is not an integer"));
              }
              if (x < min || x > max) {
                return absl::InvalidArgumentError(absl::StrCat(x, " is outside ", min, "..", max));
              }
              *out = x;
              return absl::OkStatus();
            });
}

void ArgParser::AddSize(std::string name, std::string value_name, std::string help, uint64_t* out) {
  AddCustom(std::move(name), std::move(value_name),
            absl::StrCat(help, " (", kByteSizeHelp, ")"), [out](absl::string_view v) {
    absl::StatusOr<uint64_t> size = ggufkit::ParseByteSize(v);
    if (!size.ok()) return size.status();
    *out = *size;
    return absl::OkStatus();
  });
}

void ArgParser::AddBool(std::string name, std::string help, bool* out) {
  Flag f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.kind = Kind::kBool;
  f.bool_out = out;
  flags_.push_back(std::move(f));
}

void ArgParser::AddCustom(std::string name, std::string value_name, std::string help,
                          std::function<absl::Status(absl::string_view)> parse) {
  Flag f;
  f.name = std::move(name);
  f.value_name = std::move(value_name);
  f.help = std::move(help);
  f.kind = Kind::kValue;
  f.parse = std::move(parse);
  flags_.push_back(std::move(f));
}

void ArgParser::AddPositional(std::string name, std::string help, std::string* out, bool required) {
  positionals_.push_back(Positional{std::move(name), std::move(help), out, required});
}

ArgParser::Flag* ArgParser::FindFlag(absl::string_view name) {
  for (Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

bool ArgParser::WasSet(absl::string_view name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return f.set;
  }
  return false;
}

absl::Status ArgParser::Parse(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return Parse(args);
}

absl::Status ArgParser::Parse(const std::vector<std::string>& args) {
  size_t next_positional = 0;
  bool flags_done = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (!flags_done && (arg == "-h" || arg == "--help")) {
      help_requested_ = true;
      return absl::OkStatus();
    }
    if (!flags_done && arg == "--") {
      flags_done = true;
      continue;
    }
    if (!flags_done && arg.size() > 1 && arg[0] == '-') {
      if (arg.size() < 3 || arg[1] != '-') {
        return absl::InvalidArgumentError(
            absl::StrCat("unknown option '", arg, "' (options are --long; see --help)"));
      }
      absl::string_view body = absl::string_view(arg).substr(2);
      const size_t eq = body.find('=');
      const bool has_value = eq != absl::string_view::npos;
      absl::string_view name = has_value ? body.substr(0, eq) : body;
      absl::string_view value = has_value ? body.substr(eq + 1) : absl::string_view();
      Flag* flag = FindFlag(name);
      if (flag == nullptr && !has_value && absl::StartsWith(name, "no-")) {
        Flag* negated = FindFlag(name.substr(3));
        if (negated != nullptr && negated->kind == Kind::kBool) {
          *negated->bool_out = false;
          negated->set = true;
          continue;
        }
      }
      if (flag == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("unknown flag '--", name, "' (see --help)"));
      }
      flag->set = true;
      if (flag->kind == Kind::kBool) {
        if (!has_value) {
          *flag->bool_out = true;
        } else if (value == "true" || value == "1" || value == "yes") {
          *flag->bool_out = true;
        } else if (value == "false" || value == "0" || value == "no") {
          *flag->bool_out = false;
        } else {
          return absl::InvalidArgumentError(
              absl::StrCat("flag '--", name, "' takes no value or true/false, got '", value, "'"));
        }
        continue;
      }
      std::string text;
      if (has_value) {
        text = std::string(value);
      } else {
        if (i + 1 >= args.size()) {
          return absl::InvalidArgumentError(
              absl::StrCat("flag '--", name, "' needs a value (", flag->value_name, ")"));
        }
        text = args[++i];
      }
      absl::Status s = flag->parse(text);
      if (!s.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("bad value for flag '--", name, "': ", s.message()));
      }
      continue;
    }
    if (next_positional >= positionals_.size()) {
      return absl::InvalidArgumentError(absl::StrCat("unexpected argument '", arg, "'"));
    }
    *positionals_[next_positional++].out = arg;
  }
  for (size_t p = next_positional; p < positionals_.size(); ++p) {
    if (positionals_[p].required) {
      return absl::InvalidArgumentError(
          absl::StrCat("missing argument ", positionals_[p].name, " (see --help)"));
    }
  }
  return absl::OkStatus();
}

std::string ArgParser::Usage() const {
  std::string out = absl::StrCat("usage: ", program_, flags_.empty() ? "" : " [options]");
  for (const Positional& p : positionals_) {
    absl::StrAppend(&out, " ", p.required ? "" : "[", p.name, p.required ? "" : "]");
  }
  absl::StrAppend(&out, "\n\n", summary_, "\n");
  if (!positionals_.empty()) {
    absl::StrAppend(&out, "\narguments:\n");
    for (const Positional& p : positionals_) {
      absl::StrAppend(&out, "  ", p.name, "\n      ", p.help, "\n");
    }
  }
  absl::StrAppend(&out, "\noptions:\n");
  for (const Flag& f : flags_) {
    absl::StrAppend(&out, "  --", f.name);
    if (f.kind == Kind::kValue) absl::StrAppend(&out, " ", f.value_name);
    absl::StrAppend(&out, "\n      ", f.help, "\n");
  }
  absl::StrAppend(&out, "  -h, --help\n      show this help\n");
  return out;
}

}  // namespace ggufkit::cli
