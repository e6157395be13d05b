// A tiny argv parser shared by the CLI tools.
//
//   cli::ArgParser args("gguf-inspect", "Show a GGUF file's header, metadata and tensors.");
//   bool json = false;
//   std::string file;
//   args.AddBool("json", "print JSON instead of text", &json);
//   args.AddPositional("FILE", "the .gguf file", &file);
//   absl::Status s = args.Parse(argc, argv);
//   if (args.help_requested()) { std::cout << args.Usage(); return 0; }
//   if (!s.ok()) { std::cerr << "gguf-inspect: " << s.message() << "\n"; return 2; }
//
// Accepted forms: --flag VALUE, --flag=VALUE, boolean --flag (or
// --flag=true/false, --no-flag), positionals anywhere, "--" ends flags,
// -h/--help. Errors name the bad flag or argument.
#ifndef GGUFKIT_TOOLS_LIB_CLI_ARGS_H_
#define GGUFKIT_TOOLS_LIB_CLI_ARGS_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ggufkit::cli {

class ArgParser {
 public:
  ArgParser(std::string program, std::string summary);

  // --name VALUE: stores the text.
  void AddString(std::string name, std::string value_name, std::string help, std::string* out);
  // --name VALUE: one of `choices` (error lists them).
  void AddChoice(std::string name, std::string value_name, std::string help,
                 std::vector<std::string> choices, std::string* out);
  // --name N: a decimal integer in [min, max].
  void AddInt(std::string name, std::string value_name, std::string help, int64_t* out,
              int64_t min = INT64_MIN, int64_t max = INT64_MAX);
  // --name SIZE: ggufkit::ParseByteSize (base/byte_size.h); the help names the units.
  void AddSize(std::string name, std::string value_name, std::string help, uint64_t* out);
  // --name (true), --no-name (false), --name=true|false|1|0.
  void AddBool(std::string name, std::string help, bool* out);
  // --name VALUE with a custom parser (its error message is prefixed with the flag).
  void AddCustom(std::string name, std::string value_name, std::string help,
                 std::function<absl::Status(absl::string_view)> parse);
  // Positionals in order. Optional ones must come after required ones.
  void AddPositional(std::string name, std::string help, std::string* out, bool required = true);

  // Parses argv[1..argc). InvalidArgument naming the flag/argument on: an
  // unknown flag, a missing or bad value, a missing required positional, an
  // extra positional. After -h/--help, help_requested() is true and the
  // rest is not checked.
  absl::Status Parse(int argc, const char* const* argv);
  absl::Status Parse(const std::vector<std::string>& args);
  bool help_requested() const { return help_requested_; }
  // True when the flag appeared on the command line.
  bool WasSet(absl::string_view name) const;

  // "usage: prog [options] FILE\n\nsummary\n\npositionals/options with help".
  std::string Usage() const;

 private:
  enum class Kind { kValue, kBool };
  struct Flag {
    std::string name;
    std::string value_name;
    std::string help;
    Kind kind;
    std::function<absl::Status(absl::string_view)> parse;
    bool* bool_out = nullptr;
    bool set = false;
  };
  struct Positional {
    std::string name;
    std::string help;
    std::string* out;
    bool required;
  };
  Flag* FindFlag(absl::string_view name);

  std::string program_;
  std::string summary_;
  std::vector<Flag> flags_;
  std::vector<Positional> positionals_;
  bool help_requested_ = false;
};

}  // namespace ggufkit::cli

#endif  // GGUFKIT_TOOLS_LIB_CLI_ARGS_H_
