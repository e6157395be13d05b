// Runs a built tool as a child process and measures it: exit status, stdout
// and stderr (through files, so a chatty child cannot block on a pipe), wall
// time and peak resident memory (ru_maxrss from wait4). The address-space
// limit (RLIMIT_AS) is deliberately not used: AddressSanitizer reserves
// terabytes of shadow address space and would fail at start-up under it.
#ifndef GGUFKIT_TESTS_MALFORMED_CHILD_PROCESS_H_
#define GGUFKIT_TESTS_MALFORMED_CHILD_PROCESS_H_

#include <cstdint>
#include <string>
#include <vector>

namespace ggufkit::testing {

struct ChildResult {
  bool exited = false;     // exited normally (not killed by a signal)
  int exit_code = -1;      // when exited
  int signal = 0;          // when killed
  bool timed_out = false;  // killed by us after the hard limit
  std::string out;
  std::string err;
  double wall_seconds = 0;
  int64_t max_rss_bytes = 0;  // peak resident set of the child
};

// Runs argv[0] (a path) with argv, in `work_dir`, killing it (SIGKILL) after
// `kill_after_seconds`. Never throws; a fork/exec failure gives exited=false.
ChildResult RunChild(const std::vector<std::string>& argv, const std::string& work_dir,
                     double kill_after_seconds);

}  // namespace ggufkit::testing

#endif  // GGUFKIT_TESTS_MALFORMED_CHILD_PROCESS_H_
