// gguf_tensors.h promises that calls on one model may run from several
// threads at once. Plain files: in parallel, every result exact. .gguf.zst
// models (a forward-only zstd stream): reads are serialized, and a call that
// falls behind another fails with FailedPrecondition; never a data race, a
// crash or wrong values (run under ASan / TSan to see the race this guards).
#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ggufkit/gguf/split.h"
#include "ggufkit/gguf/zstd_sink.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/stream/model_gen.h"
#include "ggufkit/stream/gguf_tensors.h"

namespace ggufkit::stream {
namespace {

using ::ggufkit::testing::ReadFileBytes;
using ::ggufkit::testing::TempDir;

constexpr int kThreads = 6;

std::vector<testing::GenTensor> Tensors() {
  // Several 512 KiB read chunks per tensor, so that threads interleave inside
  // one tensor as well as between tensors.
  std::vector<testing::GenTensor> tensors;
  for (int i = 0; i < 6; ++i) {
    tensors.push_back(
        {absl::StrCat("blk.", i, ".w"), i % 2 ? GgmlType::kQ8_0 : GgmlType::kQ4_K, {4096, 96}});
  }
  return tensors;
}

// Every tensor of `path` dequantized on one thread.
std::vector<std::vector<float>> Reference(const std::string& path) {
  auto model = GgufModel::Open(path);
  EXPECT_TRUE(model.ok()) << model.status();
  std::vector<std::vector<float>> out;
  if (!model.ok()) return out;
  for (const TensorInfo& t : (*model)->tensors()) {
    out.emplace_back(static_cast<size_t>(t.n_elements));
    EXPECT_TRUE(DequantizeTensor(**model, t, out.back().data(), out.back().size()).ok());
  }
  return out;
}

bool SameBits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0;
}

class ConcurrentModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    plain_ = dir_.File("m.gguf");
    ASSERT_TRUE(testing::WriteRandomModel(plain_, Tensors(), 7).ok());
    zst_ = dir_.File("m.gguf.zst");
    const std::vector<uint8_t> bytes = ReadFileBytes(plain_);
    ZstdSinkOptions options;
    options.level = 1;
    auto sink = OpenZstdFileSink(zst_, options);
    ASSERT_TRUE(sink.ok()) << sink.status();
    ASSERT_TRUE((*sink)->Write(bytes.data(), bytes.size()).ok());
    ASSERT_TRUE((*sink)->Finish().ok());
    reference_ = Reference(plain_);
    ASSERT_EQ(reference_.size(), Tensors().size());
  }

  TempDir dir_;
  std::string plain_, zst_;
  std::vector<std::vector<float>> reference_;
};

TEST_F(ConcurrentModelTest, PlainFileServesThreadsInParallelExactly) {
  auto model = GgufModel::Open(plain_);
  ASSERT_TRUE(model.ok()) << model.status();
  const std::vector<TensorInfo>& tensors = (*model)->tensors();
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Each thread walks every tensor, starting at a different one.
      for (size_t k = 0; k < tensors.size(); ++k) {
        const size_t i = (k + static_cast<size_t>(t)) % tensors.size();
        std::vector<float> out(static_cast<size_t>(tensors[i].n_elements));
        const absl::Status s = DequantizeTensor(**model, tensors[i], out.data(), out.size());
        if (!s.ok() || !SameBits(out, reference_[i])) ++wrong;
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

TEST_F(ConcurrentModelTest, ZstdModelIsSerializedAndFailsCleanlyWhenReadsGoBack) {
  for (int round = 0; round < 4; ++round) {
    auto model = GgufModel::Open(zst_);
    ASSERT_TRUE(model.ok()) << model.status();
    ASSERT_TRUE((*model)->shard(0).source().forward_only());
    const std::vector<TensorInfo>& tensors = (*model)->tensors();
    std::atomic<int> ok{0}, refused{0}, ready{0};
    std::vector<std::string> problems(kThreads);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        ++ready;
        while (ready.load() < kThreads) std::this_thread::yield();
        // All threads walk the rows of every tensor in file order at once:
        // many small reads, interleaved.
        for (size_t i = 0; i < tensors.size(); ++i) {
          const int64_t ne0 = tensors[i].ne[0];
          std::vector<float> row(static_cast<size_t>(ne0));
          for (int64_t r = 0; r < tensors[i].n_rows(); ++r) {
            const absl::Status s = DequantizeRows(**model, tensors[i], r, r + 1, OutputType::kF32,
                                                  row.data(), row.size() * sizeof(float));
            if (s.ok()) {
              if (std::memcmp(row.data(), reference_[i].data() + r * ne0, row.size() * 4) == 0) {
                ++ok;
              } else {
                problems[t] += absl::StrCat(tensors[i].name, " row ", r, ": wrong values; ");
              }
            } else if (s.code() == absl::StatusCode::kFailedPrecondition &&
                       s.message().find("m.gguf.zst") != absl::string_view::npos) {
              ++refused;
            } else {
              problems[t] += absl::StrCat(tensors[i].name, " row ", r, ": ", s.ToString(), "; ");
            }
            if (problems[t].size() > 2000) return;
          }
        }
      });
    }
    for (std::thread& th : threads) th.join();
    for (int t = 0; t < kThreads; ++t) EXPECT_EQ(problems[t], "") << "thread " << t;
    EXPECT_GT(ok.load(), 0);
  }
  // One thread in file order still reads everything exactly.
  auto model = GgufModel::Open(zst_);
  ASSERT_TRUE(model.ok()) << model.status();
  for (size_t i = 0; i < (*model)->tensors().size(); ++i) {
    const TensorInfo& t = (*model)->tensors()[i];
    std::vector<float> out(static_cast<size_t>(t.n_elements));
    ASSERT_TRUE(DequantizeTensor(**model, t, out.data(), out.size()).ok()) << t.name;
    EXPECT_TRUE(SameBits(out, reference_[i])) << t.name;
  }
}

}  // namespace
}  // namespace ggufkit::stream
