// Shared helpers for the libFuzzer targets in tests/fuzz (issue 7).
//
// A finding is anything that makes a target abort: an ASan / UBSan report, a
// libFuzzer timeout or out-of-memory, or FUZZ_CHECK failing on a property the
// code promises (a file the writer produced must read back equal, ...).
#ifndef GGUFKIT_TESTS_FUZZ_FUZZ_COMMON_H_
#define GGUFKIT_TESTS_FUZZ_FUZZ_COMMON_H_

#include <cstdio>
#include <cstdlib>

// Aborts with a message: libFuzzer records the input as a crash.
#define FUZZ_CHECK(cond, ...)                                                              \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "FUZZ_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, "  " __VA_ARGS__);                                              \
      std::fprintf(stderr, "\n");                                                          \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

#endif  // GGUFKIT_TESTS_FUZZ_FUZZ_COMMON_H_
