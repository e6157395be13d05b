// The codebook quantizers (IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS, IQ3_S, IQ1_S,
// IQ1_M) against ggml's own output (tests/data/iq_quants/README.md):
//   - the golden input (25 x 4096), importance matrix W1 and none: every byte;
//   - 34 extra rows (random, constant, zero, huge, tiny, sparse, ties ...)
//     with none / W1 / W2 (W1 with zero weights): a 64-bit hash per row;
//   - refusal without an importance matrix exactly where ggml refuses;
//   - rows of six tensors llama-quantize wrote with the shared imatrix;
//   - round trip through our dequantizers; the search tables' invariants;
//     first use of the lazily built tables from many threads at once.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ggufkit/quants/iq_search_tables.h"
#include "ggufkit/quants/quants.h"
#include "ggufkit/quants/type_traits.h"
#include "gtest/gtest.h"
#include "tests/common/test_data.h"
#include "tests/quants/iq_quant_cases.h"

namespace ggufkit {
namespace {

namespace cases = testing::iq_cases;
using testing::GoldenPath;
using testing::ReadFileBytes;
using testing::ReadFloats;

constexpr int64_t kRows = 25;
constexpr int64_t kCols = 4096;

std::string DataPath(const std::string& name) {
  return std::string(GGUFKIT_IQ_QUANTS_DIR) + "/" + name;
}

std::vector<float> Imatrix(int variant, int64_t n) {
  std::vector<float> w;
  if (variant == 0) return w;
  w.resize(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) w[j] = cases::ImatrixValue(variant, j);
  return w;
}

class IqQuantizerTest : public ::testing::TestWithParam<cases::IqType> {
 protected:
  GgmlType type() const { return static_cast<GgmlType>(GetParam().ggml_type); }
};

TEST_P(IqQuantizerTest, GoldenInputMatchesGgmlByteForByte) {
  const cases::IqType& t = GetParam();
  const std::vector<float> input = ReadFloats(GoldenPath("ggml/input.f32"));
  ASSERT_EQ(input.size(), static_cast<size_t>(kRows * kCols));
  const int64_t row_bytes = *RowSizeBytes(type(), kCols);
  const int64_t block_bytes = GetTypeTraits(type()).type_size;
  int compared = 0;
  for (int variant = 0; variant < 2; ++variant) {
    if (variant == 0 && t.requires_imatrix) continue;
    const std::string file = std::string(t.name) + "." + cases::kImatrixNames[variant] + ".q";
    const std::vector<uint8_t> expected = ReadFileBytes(DataPath(file));
    ASSERT_EQ(static_cast<int64_t>(expected.size()), kRows * row_bytes) << file;
    std::vector<uint8_t> got(expected.size(), 0xA5);
    const absl::Status s =
        reference::Quantize(type(), input, absl::MakeSpan(got), Imatrix(variant, kCols));
    ASSERT_TRUE(s.ok()) << s;
    for (int64_t r = 0; r < kRows; ++r) {
      for (int64_t b = 0; b < row_bytes; ++b) {
        const int64_t at = r * row_bytes + b;
        if (got[at] != expected[at]) {
          ADD_FAILURE() << file << ": row " << r << " block " << b / block_bytes << " byte "
                        << b % block_bytes << ": got " << int(got[at]) << " want "
                        << int(expected[at]);
          break;
        }
      }
    }
    ++compared;
  }
  EXPECT_EQ(compared, t.requires_imatrix ? 1 : 2);
}

TEST_P(IqQuantizerTest, ExtraRowsMatchGgmlHashes) {
  const cases::IqType& t = GetParam();
  // "<type> <variant> <row> <hash>" lines.
  std::ifstream in(DataPath("extras.fnv"));
  ASSERT_TRUE(in) << DataPath("extras.fnv");
  std::map<std::string, std::string> want;
  std::string name, variant, hash;
  int row;
  while (in >> name >> variant >> row >> hash) {
    if (name == t.name) want[variant + " " + std::to_string(row)] = hash;
  }
  ASSERT_EQ(want.size(), static_cast<size_t>((t.requires_imatrix ? 2 : 3) * cases::kExtraRows));

  std::vector<float> x(static_cast<size_t>(cases::kExtraRows * cases::kExtraCols));
  cases::FillExtras(x.data());
  const int64_t row_bytes = *RowSizeBytes(type(), cases::kExtraCols);
  for (int v = 0; v < cases::kNumImatrixVariants; ++v) {
    if (v == 0 && t.requires_imatrix) continue;
    const std::vector<float> w = Imatrix(v, cases::kExtraCols);
    for (int r = 0; r < cases::kExtraRows; ++r) {
      std::vector<uint8_t> q(static_cast<size_t>(row_bytes));
      const absl::Span<const float> xr = absl::MakeConstSpan(x).subspan(
          static_cast<size_t>(r) * cases::kExtraCols, cases::kExtraCols);
      ASSERT_TRUE(reference::Quantize(type(), xr, absl::MakeSpan(q), w).ok());
      char got[17];
      std::snprintf(got, sizeof got, "%016llx",
                    static_cast<unsigned long long>(cases::Fnv1a64(q.data(), row_bytes)));
      EXPECT_EQ(got, want[std::string(cases::kImatrixNames[v]) + " " + std::to_string(r)])
          << t.name << " imatrix " << cases::kImatrixNames[v] << " row " << r << " ("
          << cases::kExtraRowNames[r] << ")";
    }
  }
}

// ggml_quantize_requires_imatrix: IQ2_XXS, IQ2_XS, IQ1_S. Quantize refuses
// them without one (a clear error, nothing written); the others accept.
TEST_P(IqQuantizerTest, RefusesWithoutImatrixWhereGgmlDoes) {
  const cases::IqType& t = GetParam();
  EXPECT_EQ(GetReferenceCodec(type()).requires_imatrix, t.requires_imatrix);
  EXPECT_TRUE(GetReferenceCodec(type()).uses_imatrix);
  std::vector<float> x(2 * 256, 0.5f);
  std::vector<uint8_t> q(static_cast<size_t>(*RowSizeBytes(type(), 2 * 256)), 0xA5);
  const absl::Status s = reference::Quantize(type(), x, absl::MakeSpan(q));
  if (t.requires_imatrix) {
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(s.message().find("importance matrix"), absl::string_view::npos) << s;
    EXPECT_NE(s.message().find(t.name), absl::string_view::npos) << s;
    for (uint8_t b : q) ASSERT_EQ(b, 0xA5);
  } else {
    EXPECT_TRUE(s.ok()) << s;
  }
  EXPECT_TRUE(
      reference::Quantize(type(), x, absl::MakeSpan(q), std::vector<float>(256, 1.0f)).ok());
}

// Our dequantizer decodes what our quantizer wrote; on N(0,1) rows with W1
// the error is what these bit rates give (loose bounds: a wrong layout gives
// ~1 or more).
TEST_P(IqQuantizerTest, RoundTripThroughOurDequantizer) {
  const std::vector<float> input = ReadFloats(GoldenPath("ggml/input.f32"));
  ASSERT_EQ(input.size(), static_cast<size_t>(kRows * kCols));
  const std::vector<float> x(input.begin(), input.begin() + 8 * kCols);  // rows 0..7: N(0,1)
  std::vector<uint8_t> q(static_cast<size_t>(*RowSizeBytes(type(), 8 * kCols)));
  ASSERT_TRUE(reference::Quantize(type(), x, absl::MakeSpan(q), Imatrix(1, kCols)).ok());
  std::vector<float> y(x.size());
  ASSERT_TRUE(reference::Dequantize(type(), q, static_cast<int64_t>(x.size()), y.data()).ok());
  double err = 0, ref = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    err += (static_cast<double>(x[i]) - y[i]) * (static_cast<double>(x[i]) - y[i]);
    ref += static_cast<double>(x[i]) * x[i];
  }
  const double rel_rmse = std::sqrt(err / ref);
  const std::string name = GetParam().name;
  const double bound = name.rfind("iq3", 0) == 0 ? 0.25 : name.rfind("iq2", 0) == 0 ? 0.45 : 0.7;
  std::cout << name << ": relative RMSE " << rel_rmse << "\n";
  EXPECT_LT(rel_rmse, bound);
  EXPECT_GT(rel_rmse, 0.0);
}

// NaN and infinities make ggml abort in its neighbour searches; ours must
// neither crash nor trip the sanitizers, and other rows stay as they were.
TEST_P(IqQuantizerTest, NonFiniteInputIsSafe) {
  std::vector<float> x(2 * 512, 0.25f);
  for (int i = 0; i < 512; ++i) x[i] = std::sin(0.1f * static_cast<float>(i));
  const float specials[] = {NAN, INFINITY, -INFINITY, 3.0e38f, -3.0e38f, 1e-42f};
  for (int i = 0; i < 512; i += 5) x[i] = specials[(i / 5) % 6];
  const std::vector<float> w = Imatrix(1, 512);
  std::vector<uint8_t> q(static_cast<size_t>(*RowSizeBytes(type(), 1024)));
  ASSERT_TRUE(reference::Quantize(type(), x, absl::MakeSpan(q), w).ok());
  std::vector<float> y(1024);
  ASSERT_TRUE(reference::Dequantize(type(), q, 1024, y.data()).ok());
  std::vector<uint8_t> clean(q.size() / 2);
  ASSERT_TRUE(
      reference::Quantize(type(), absl::MakeConstSpan(x).subspan(512), absl::MakeSpan(clean), w)
          .ok());
  EXPECT_EQ(0, std::memcmp(q.data() + clean.size(), clean.data(), clean.size()));
}

// Random mixes of hostile values and hostile importance weights (zero,
// negative, NaN, infinite, huge: an imatrix file is untrusted input) must
// neither crash nor read outside the tables (ASan + UBSan build).
TEST_P(IqQuantizerTest, HostileValuesAndWeightsAreSafe) {
  const float values[] = {0.0f,     -0.0f, 1.0f,     -3.5f,     1e-30f, 1e30f,
                          -3.0e38f, NAN,   INFINITY, -INFINITY, 1e-42f, 65504.0f};
  const float weights[] = {1.0f, 0.0f, -1.0f, NAN, INFINITY, 1e30f, 1e-30f, 3.0f};
  uint64_t state = 0x9E3779B97F4A7C15ull;
  auto next = [&state]() {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  constexpr int64_t kN = 1024;
  std::vector<float> x(kN), w(kN), y(kN);
  std::vector<uint8_t> q(static_cast<size_t>(*RowSizeBytes(type(), kN)));
  for (int trial = 0; trial < 24; ++trial) {
    for (int64_t i = 0; i < kN; ++i) {
      const uint64_t r = next();
      // Mostly ordinary values, with a hostile one at a trial-dependent rate.
      x[i] = (r % 8 < static_cast<uint64_t>(trial % 8))
                 ? values[(r >> 8) % 12]
                 : static_cast<float>(static_cast<int64_t>(r >> 40) % 2001 - 1000) / 300.0f;
      w[i] = (r >> 20) % 4 == 0 ? weights[(r >> 24) % 8] : 1.0f + static_cast<float>(i % 5);
    }
    ASSERT_TRUE(reference::Quantize(type(), x, absl::MakeSpan(q), w).ok());
    ASSERT_TRUE(reference::Dequantize(type(), q, kN, y.data()).ok());
    if (!GetParam().requires_imatrix) {
      ASSERT_TRUE(reference::Quantize(type(), x, absl::MakeSpan(q)).ok());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Codebook, IqQuantizerTest, ::testing::ValuesIn(cases::kTypes),
                         [](const ::testing::TestParamInfo<cases::IqType>& param_info) {
                           return std::string(param_info.param.name);
                         });

// llama-quantize (the TurboQuant fork at 69d8e4be, upstream's quantization
// code) on llama-8l with its importance matrix: the first 16 rows of six
// tensors it wrote as IQ types. The F16 weights are widened to f32 and the
// importance weights are in_sum2 / count, as llama-quantize does.
TEST(IqQuantizerLlamaQuantize, TensorsMatchLlamaQuantize) {
  std::ifstream manifest(DataPath("llama_quantize/MANIFEST.txt"));
  ASSERT_TRUE(manifest) << DataPath("llama_quantize/MANIFEST.txt");
  std::string line;
  int checked = 0;
  while (std::getline(manifest, line)) {
    std::istringstream fields(line);
    std::string tag, type_name, sha;
    int64_t cols = 0, rows = 0;
    float count = 0;
    ASSERT_TRUE(fields >> tag >> type_name >> cols >> rows >> count >> sha) << line;
    const absl::StatusOr<GgmlType> type = ParseGgmlType(type_name);
    ASSERT_TRUE(type.ok()) << type.status();
    const std::string base = DataPath("llama_quantize/" + tag);
    const std::vector<uint8_t> x16 = ReadFileBytes(base + ".x.f16");
    const std::vector<float> sums = ReadFloats(base + ".in_sum2.f32");
    const std::vector<uint8_t> want = ReadFileBytes(base + ".want");
    ASSERT_EQ(static_cast<int64_t>(x16.size()), rows * cols * 2) << tag;
    ASSERT_EQ(static_cast<int64_t>(sums.size()), cols) << tag;
    std::vector<float> x(static_cast<size_t>(rows * cols));
    ASSERT_TRUE(reference::Dequantize(GgmlType::kF16, x16, rows * cols, x.data()).ok());
    std::vector<float> w(sums.size());
    for (size_t j = 0; j < w.size(); ++j) w[j] = count > 0 ? sums[j] / count : 1.0f;
    std::vector<uint8_t> got(want.size());
    ASSERT_TRUE(reference::Quantize(*type, x, absl::MakeSpan(got), w).ok()) << tag;
    EXPECT_EQ(got, want) << tag;
    ++checked;
  }
  EXPECT_EQ(checked, 6);
}

// Every grid point maps to itself; every key a quantizer can form off the
// grid has a non-empty neighbour list of valid, distance-ordered indices.
TEST(IqSearchTables, Invariants) {
  const internal::IqSearchTable* tables[] = {
      &internal::Iq2XxsSearchTable(), &internal::Iq2XsSearchTable(),  &internal::Iq2SSearchTable(),
      &internal::Iq1SearchTable(),    &internal::Iq3XxsSearchTable(), &internal::Iq3SSearchTable()};
  for (const internal::IqSearchTable* t : tables) {
    const int mask = (1 << t->bits) - 1;
    for (int g = 0; g < t->grid_size; ++g) {
      uint32_t key = 0;
      for (int i = 0; i < t->dims; ++i) {
        key |= static_cast<uint32_t>((t->Position(g)[i] - 1) / 2) << (t->bits * i);
      }
      ASSERT_EQ(t->GridIndex(key), g);
    }
    int64_t lists = 0;
    for (uint32_t key = 0; key < t->map.size(); ++key) {
      bool reachable = true;
      for (int i = 0; i < t->dims; ++i) {
        if (t->bits == 2 && ((key >> (2 * i)) & mask) == 3) reachable = false;
      }
      if (!reachable || t->GridIndex(key) >= 0) continue;
      const uint16_t* nb = t->Neighbours(key);
      ASSERT_GT(nb[0], 0) << key;
      int last_d2 = -1;
      for (int j = 1; j <= nb[0]; ++j) {
        ASSERT_LT(nb[j], t->grid_size);
        int d2 = 0;
        for (int i = 0; i < t->dims; ++i) {
          const int pos = 2 * static_cast<int>((key >> (t->bits * i)) & mask) + 1;
          d2 += (t->Position(nb[j])[i] - pos) * (t->Position(nb[j])[i] - pos);
        }
        ASSERT_GE(d2, last_d2) << key;
        last_d2 = d2;
      }
      ++lists;
    }
    EXPECT_GT(lists, 0);
    std::cout << "grid " << t->grid_size << " x " << t->dims << ": " << t->Bytes() << " bytes, "
              << lists << " neighbour lists\n";
  }
}

// The tables are built on first use; several threads racing to quantize
// (first use in this process: ctest runs each test alone) get ggml's bytes.
TEST(IqSearchTables, FirstUseFromManyThreads) {
  const std::vector<float> input = ReadFloats(GoldenPath("ggml/input.f32"));
  ASSERT_EQ(input.size(), static_cast<size_t>(kRows * kCols));
  const std::vector<float> x(input.begin(), input.begin() + kCols);
  const std::vector<float> w = Imatrix(1, kCols);
  std::vector<std::vector<uint8_t>> out(7 * 2);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < out.size(); ++i) {
    threads.emplace_back([&, i] {
      const GgmlType type = static_cast<GgmlType>(cases::kTypes[i % 7].ggml_type);
      out[i].resize(static_cast<size_t>(*RowSizeBytes(type, kCols)));
      EXPECT_TRUE(reference::Quantize(type, x, absl::MakeSpan(out[i]), w).ok());
    });
  }
  for (std::thread& th : threads) th.join();
  for (int i = 0; i < 7; ++i) {
    const std::vector<uint8_t> golden =
        ReadFileBytes(DataPath(std::string(cases::kTypes[i].name) + ".w1.q"));
    ASSERT_GE(golden.size(), out[i].size());
    EXPECT_EQ(0, std::memcmp(out[i].data(), golden.data(), out[i].size())) << cases::kTypes[i].name;
    EXPECT_EQ(out[i], out[i + 7]) << cases::kTypes[i].name;
  }
}

}  // namespace
}  // namespace ggufkit
