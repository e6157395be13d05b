// Helpers shared by every test binary: where the test data lives, and small
// file utilities. Tests must run without ../shared: the golden set is unpacked
// from tests/data/golden.tar.zst and golden-real.tar.zst into the build tree at
// configure time.
#ifndef GGUFKIT_TESTS_COMMON_TEST_DATA_H_
#define GGUFKIT_TESTS_COMMON_TEST_DATA_H_

#include <cstdint>
#include <string>
#include <vector>

// Defined to 1 when AddressSanitizer is on: GCC says so with
// __SANITIZE_ADDRESS__, clang with __has_feature(address_sanitizer).
#if defined(__SANITIZE_ADDRESS__)
#define GGUFKIT_TESTING_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GGUFKIT_TESTING_UNDER_ASAN 1
#endif
#endif

namespace ggufkit::testing {

// <build>/testdata/golden: ggml/, real/, turbo/ as in shared/golden.
std::string GoldenDir();
// GoldenDir() + "/" + relative
std::string GoldenPath(const std::string& relative);
// tests/data in the source tree.
std::string TestDataDir();
// Folder holding the built tools (gguf-inspect, gguf-dequant, ...).
std::string ToolsDir();
// The Python interpreter with the reference packages (gguf, numpy,
// safetensors): $GGUFKIT_TEST_PYTHON when set, else the one configured
// (-DGGUFKIT_TEST_PYTHON, default .venv/bin/python).
std::string PythonPath();
// True when PythonPath() imports every module of `modules` (comma-separated,
// e.g. "gguf, numpy"); otherwise false and *why says what is missing.
// Cached per module list.
bool PythonCanImport(const std::string& modules, std::string* why);
// True when $GGUFKIT_REQUIRE_PYTHON_REFS is 1 (scripts/test.sh, CI): a missing
// reference package is then a failure instead of a skip.
bool PythonRefsRequired();
std::string SourceDir();

// Whole file contents; fails the current test (ADD_FAILURE) and returns empty
// on error.
std::vector<uint8_t> ReadFileBytes(const std::string& path);
std::vector<float> ReadFloats(const std::string& path);
bool WriteFileBytes(const std::string& path, const void* data, size_t size);

// A fresh empty folder under $TMPDIR (or /tmp) removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Runs `command` with /bin/sh; returns the exit status (-1 if it did not exit
// normally) and captures stdout+stderr into *output when non-null.
int RunCommand(const std::string& command, std::string* output = nullptr);

}  // namespace ggufkit::testing

// In a test body: skips the test, saying why, when PythonPath() cannot
// import `modules` (a plain `cmake && ctest` without the reference packages),
// or fails it when PythonRefsRequired().
#define GGUFKIT_REQUIRE_PYTHON_MODULES(modules)                                          \
  do {                                                                                   \
    std::string ggufkit_python_why_;                                                     \
    if (!::ggufkit::testing::PythonCanImport(modules, &ggufkit_python_why_)) {           \
      if (::ggufkit::testing::PythonRefsRequired()) {                                    \
        FAIL() << ggufkit_python_why_ << " (GGUFKIT_REQUIRE_PYTHON_REFS=1 requires it)"; \
      }                                                                                  \
      GTEST_SKIP() << ggufkit_python_why_                                                \
                   << " (install them with scripts/setup.sh, or point "                  \
                      "GGUFKIT_TEST_PYTHON at a Python that has them)";                  \
    }                                                                                    \
  } while (0)

#endif  // GGUFKIT_TESTS_COMMON_TEST_DATA_H_
