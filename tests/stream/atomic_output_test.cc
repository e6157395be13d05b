// The two atomic-output sinks (gguf's OpenAtomicFileSink and the streaming
// layer's DirectFileSink): one temp-file scheme, the final file's mode is
// 0666 minus the umask, and neither reads or changes the process umask
// (umask() is process-wide: changing it, even briefly, races with any other
// thread creating files). This binary wraps umask() to count the calls.
#include <dirent.h>
#include <dlfcn.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <atomic>
#include <cctype>
#include <memory>
#include <string>
#include <vector>

#include "ggufkit/gguf/output_sink.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "ggufkit/stream/direct_file_sink.h"

namespace {
std::atomic<int> g_umask_calls{0};
}  // namespace

// Every umask() of this process goes through here (the sinks are linked
// statically into this executable, so their calls resolve to it).
extern "C" mode_t umask(mode_t mask) {
  using UmaskFn = mode_t (*)(mode_t);
  static UmaskFn real = reinterpret_cast<UmaskFn>(dlsym(RTLD_NEXT, "umask"));
  ++g_umask_calls;
  return real(mask);
}

namespace ggufkit {
namespace {

using ::ggufkit::testing::TempDir;

// Sets the umask for the test's lifetime, then restores it.
class ScopedUmask {
 public:
  explicit ScopedUmask(mode_t mask) : old_(::umask(mask)) { g_umask_calls = 0; }
  ~ScopedUmask() { ::umask(old_); }

 private:
  mode_t old_;
};

enum class SinkKind { kAtomic, kDirect, kBuffered };

std::unique_ptr<OutputSink> Open(SinkKind kind, const std::string& path) {
  if (kind == SinkKind::kAtomic) {
    auto sink = OpenAtomicFileSink(path);
    EXPECT_TRUE(sink.ok()) << sink.status();
    return sink.ok() ? std::move(*sink) : nullptr;
  }
  stream::DirectFileSinkOptions options;
  options.try_direct = kind == SinkKind::kDirect;
  auto sink = stream::DirectFileSink::Create(path, options);
  EXPECT_TRUE(sink.ok()) << sink.status();
  return sink.ok() ? std::move(*sink) : nullptr;
}

std::vector<std::string> Entries(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  closedir(d);
  return names;
}

class AtomicOutputTest : public ::testing::TestWithParam<SinkKind> {};

TEST_P(AtomicOutputTest, NeverTouchesTheUmaskAndTheModeRespectsIt) {
  for (mode_t mask : {mode_t{002}, mode_t{022}, mode_t{027}, mode_t{077}}) {
    TempDir dir;
    const std::string path = dir.File("out.gguf");
    ScopedUmask scoped(mask);
    std::unique_ptr<OutputSink> sink = Open(GetParam(), path);
    ASSERT_NE(sink, nullptr);
    const std::string data(10000, 'x');
    ASSERT_TRUE(sink->Write(data.data(), data.size()).ok());
    ASSERT_TRUE(sink->Finish().ok());
    EXPECT_EQ(g_umask_calls.load(), 0) << "umask() called while creating or finishing the output";
    struct stat st;
    ASSERT_EQ(stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0666 & ~mask) << "umask " << std::oct << mask;
  }
}

TEST_P(AtomicOutputTest, WritesTheOneTempNameSchemeBesideTheOutput) {
  TempDir dir;
  const std::string path = dir.File("model.gguf");
  std::unique_ptr<OutputSink> sink = Open(GetParam(), path);
  ASSERT_NE(sink, nullptr);
  ASSERT_TRUE(sink->Write("abc", 3).ok());
  const std::vector<std::string> names = Entries(dir.path());
  ASSERT_EQ(names.size(), 1u);
  const std::string prefix = ".model.gguf.tmp.";
  EXPECT_EQ(dir.path() + "/" + prefix, TempOutputPrefix(path));
  ASSERT_EQ(names[0].size(), prefix.size() + 6) << names[0];
  EXPECT_EQ(names[0].substr(0, prefix.size()), prefix) << names[0];
  for (char c : names[0].substr(prefix.size())) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << names[0];
  }
  if (GetParam() != SinkKind::kAtomic) {
    EXPECT_EQ(static_cast<stream::DirectFileSink*>(sink.get())->temp_path(),
              dir.path() + "/" + names[0]);
  }
  ASSERT_TRUE(sink->Finish().ok());
  EXPECT_EQ(Entries(dir.path()), std::vector<std::string>({"model.gguf"}));
}

TEST(TempOutputFileTest, NamesAreUniqueAndMissingFoldersAreNamed) {
  TempDir dir;
  const std::string path = dir.File("x.bin");
  std::vector<TempOutputFile> files;
  for (int i = 0; i < 50; ++i) {
    auto f = CreateTempOutputFile(path);
    ASSERT_TRUE(f.ok()) << f.status();
    files.push_back(*f);
  }
  EXPECT_EQ(Entries(dir.path()).size(), files.size());
  for (const TempOutputFile& f : files) {
    close(f.fd);
    unlink(f.path.c_str());
  }
  auto missing = CreateTempOutputFile("/nonexistent-dir-ggufkit/x.gguf");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nonexistent-dir-ggufkit/x.gguf"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Sinks, AtomicOutputTest,
                         ::testing::Values(SinkKind::kAtomic, SinkKind::kDirect,
                                           SinkKind::kBuffered),
                         [](const ::testing::TestParamInfo<SinkKind>& p) {
                           return p.param == SinkKind::kAtomic   ? std::string("Atomic")
                                  : p.param == SinkKind::kDirect ? std::string("Direct")
                                                                 : std::string("Buffered");
                         });

}  // namespace
}  // namespace ggufkit
