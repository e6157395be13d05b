// IQ4_NL / IQ4_XS quantization WITH an importance matrix, checked against
// ggml itself. The expected bytes were produced once by ggml's
// quantize_iq4_nl / quantize_iq4_xs (ggml-org/ggml d99724f2, built for
// baseline x86-64 without FMA contraction, like the golden set) on
// golden/ggml/input.f32 with the importance vector ImportanceWeight() below;
// to keep binary data out of the repository, the test holds the 64-bit
// FNV-1a hash of each 4096-column row of the result.
#include <cstdint>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/common/test_data.h"
#include "tests/quants_extra/extra_test_util.h"

namespace ggufkit::testing {
namespace {

constexpr int64_t kRows = 25;
constexpr int64_t kCols = 4096;

// Exactly representable, varied, strictly positive weights.
float ImportanceWeight(int64_t column) {
  return static_cast<float>(1 + (column * 37) % 101) / 8.0f;
}

constexpr uint64_t kIq4NlRowHashes[kRows] = {
    0x0446f4baff0e8538ull, 0xb649c74951d76789ull, 0x120b01ce0562c97eull, 0x99642f2c0ea588a5ull,
    0x6aa9382aa9b01a26ull, 0x4a5bf4e8cd96ffc6ull, 0x20f0ce4428817351ull, 0x50e8045717ac986cull,
    0x9336d345ab150285ull, 0x8a88aa2f1ce51b63ull, 0x4d97d313cd68f9beull, 0x51e3402aaf995e2dull,
    0x82994b8d454dd936ull, 0xe24fdf13a81a35ceull, 0xbeca735eef90e33eull, 0xc4ab1d2ed4b9b281ull,
    0x5f3e431df5905725ull, 0xc342f4db331f2255ull, 0xe4b81848e9be7435ull, 0x9993157f60e5bb3cull,
    0x3c867f543fb0856full, 0x5f3e431df5905725ull, 0xbe8a02a092bc3a47ull, 0x3f6b872d9db700ebull,
    0xbee334428aa3879dull,
};

constexpr uint64_t kIq4XsRowHashes[kRows] = {
    0xd5d7ceb3f23efd5cull, 0x02d2a117fb8fd302ull, 0x34ddca7e2273c302ull, 0xec31a3faf4077f83ull,
    0xedec18ab9a413462ull, 0x2ac56b67c600c40full, 0x75cf070493ea7beeull, 0x9399003e14ced276ull,
    0x182d35b023a81b9bull, 0x25db7b3eaf1695b7ull, 0xd01264ca4f1bdfadull, 0x89f5917f3d718596ull,
    0xf348b34ca449d92cull, 0xd407f72587976bb5ull, 0x98b3e4d309874108ull, 0xb44900a7b7b88733ull,
    0xfe787f9661f9ada5ull, 0xb34f8ae4e881b4b3ull, 0x2d544a48ee354e9full, 0xd3ac595321889987ull,
    0x327130663a749172ull, 0xfe787f9661f9ada5ull, 0x841ea02bb5a45f56ull, 0x64628f475bfdbd08ull,
    0xbe2251ca8d57f88full,
};

void ExpectRowHashes(GgmlType type, const uint64_t (&want)[kRows]) {
  const std::vector<float> input = ReadFloats(GoldenPath("ggml/input.f32"));
  ASSERT_EQ(static_cast<int64_t>(input.size()), kRows * kCols);
  std::vector<float> imatrix(kCols);
  for (int64_t c = 0; c < kCols; ++c) imatrix[c] = ImportanceWeight(c);
  const int64_t row_bytes = *RowSizeBytes(type, kCols);
  std::vector<uint8_t> row(static_cast<size_t>(row_bytes));
  for (int64_t r = 0; r < kRows; ++r) {
    GetReferenceCodec(type).quantize(input.data() + r * kCols, row.data(), kCols, imatrix.data());
    EXPECT_EQ(Fnv1a64(row.data(), row.size()), want[r]) << GgmlTypeName(type) << " row " << r;
  }
}

TEST(ImatrixGolden, Iq4NlMatchesGgmlWithImportanceMatrix) {
  ExpectRowHashes(GgmlType::kIQ4_NL, kIq4NlRowHashes);
}

TEST(ImatrixGolden, Iq4XsMatchesGgmlWithImportanceMatrix) {
  ExpectRowHashes(GgmlType::kIQ4_XS, kIq4XsRowHashes);
}

}  // namespace
}  // namespace ggufkit::testing
