#include "tests/common/test_data.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>

#include "gtest/gtest.h"

namespace ggufkit::testing {

std::string GoldenDir() { return GGUFKIT_GOLDEN_DIR; }
std::string GoldenPath(const std::string& relative) { return GoldenDir() + "/" + relative; }
std::string TestDataDir() { return GGUFKIT_TEST_DATA_DIR; }
std::string ToolsDir() { return GGUFKIT_TOOLS_DIR; }
std::string PythonPath() {
  const char* env = std::getenv("GGUFKIT_TEST_PYTHON");
  return env != nullptr && *env != '\0' ? std::string(env) : std::string(GGUFKIT_TEST_PYTHON);
}

bool PythonCanImport(const std::string& modules, std::string* why) {
  static std::mutex mu;
  static std::map<std::string, std::string>* cache = new std::map<std::string, std::string>();
  const std::string python = PythonPath();
  const std::string key = python + "\n" + modules;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache->find(key);
  if (it == cache->end()) {
    std::string output;
    // From "/": `python -c` puts the current folder first on sys.path, and a
    // source tree's gguf/ folder would pass for the gguf package.
    const int rc = RunCommand("cd / && '" + python + "' -c 'import " + modules + "'", &output);
    std::string problem;
    if (rc != 0) {
      // The last line of the traceback names the module
      // ("ModuleNotFoundError: No module named 'gguf'").
      while (!output.empty() && output.back() == '\n') output.pop_back();
      const size_t nl = output.rfind('\n');
      problem = "Python reference packages missing: '" + python + "' cannot import " + modules +
                ": " + (nl == std::string::npos ? output : output.substr(nl + 1));
    }
    it = cache->emplace(key, problem).first;
  }
  if (it->second.empty()) return true;
  if (why != nullptr) *why = it->second;
  return false;
}

bool PythonRefsRequired() {
  const char* env = std::getenv("GGUFKIT_REQUIRE_PYTHON_REFS");
  return env != nullptr && std::string(env) == "1";
}
std::string SourceDir() { return GGUFKIT_SOURCE_DIR; }

std::vector<uint8_t> ReadFileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot open " << path;
    return {};
  }
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

std::vector<float> ReadFloats(const std::string& path) {
  std::vector<uint8_t> bytes = ReadFileBytes(path);
  std::vector<float> out(bytes.size() / sizeof(float));
  if (!out.empty()) std::memcpy(out.data(), bytes.data(), out.size() * sizeof(float));
  return out;
}

bool WriteFileBytes(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  return static_cast<bool>(out);
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string templ = std::string(base && *base ? base : "/tmp") + "/ggufkit_test_XXXXXX";
  std::vector<char> buf(templ.begin(), templ.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp failed: " << std::strerror(errno);
  }
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

int RunCommand(const std::string& command, std::string* output) {
  std::string cmd = command + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) {
    if (output != nullptr) output->append(buf, n);
  }
  int status = pclose(pipe);
  if (status == -1 || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

}  // namespace ggufkit::testing
