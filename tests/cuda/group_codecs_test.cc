// Host build of the CUDA kernels' per-group math (kernels/cuda/group_codecs.h)
// against ggml's and the TurboQuant fork's golden vectors. The device kernels
// call exactly these functions, so this proves their arithmetic on machines
// without a GPU; cuda_codecs_test.cc then proves the device build equal.
#include "ggufkit/kernels/cuda/group_codecs.h"

#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <limits>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/turbo.h"
#include "ggufkit/quants/type_traits.h"
#include "tests/common/hostile_groups.h"
#include "tests/common/test_data.h"

namespace ggufkit::cuda::internal {
namespace {

using ::ggufkit::testing::GoldenPath;
using ::ggufkit::testing::ReadFileBytes;
using ::ggufkit::testing::ReadFloats;

constexpr int kRows = 25;
constexpr int kCols = 4096;

// Decodes every block of a golden .q file with Decoder and compares the bit
// patterns with the golden .deq.f32.
template <class Decoder>
void ExpectDecodesGolden(const std::string& q_path, const std::string& deq_path,
                         const DecodeTable& table) {
  const std::vector<uint8_t> q = ReadFileBytes(GoldenPath(q_path));
  const std::vector<float> want = ReadFloats(GoldenPath(deq_path));
  ASSERT_EQ(want.size(), static_cast<size_t>(kRows) * kCols);
  const size_t n_blocks = want.size() / Decoder::kBlockElems;
  ASSERT_EQ(q.size(), n_blocks * Decoder::kBlockBytes) << q_path;
  constexpr int kGroups = Decoder::kBlockElems / kGroupElems;
  size_t mismatches = 0;
  for (size_t b = 0; b < n_blocks; ++b) {
    for (int g = 0; g < kGroups; ++g) {
      float out[kGroupElems];
      Decoder::Decode(q.data() + b * Decoder::kBlockBytes, g, table.values, out);
      for (int k = 0; k < kGroupElems; ++k) {
        const size_t i = b * Decoder::kBlockElems + g * kGroupElems + k;
        if (FloatBits(out[k]) != FloatBits(want[i]) && mismatches++ < 5) {
          ADD_FAILURE() << deq_path << " element " << i << ": got " << out[k] << " want "
                        << want[i];
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0u) << deq_path;
}

TEST(GroupCodecsTest, Q8_0MatchesGolden) {
  ExpectDecodesGolden<Q8_0Decoder>("ggml/q8_0.q", "ggml/q8_0.deq.f32", kNoTable);
}
TEST(GroupCodecsTest, Q4_0MatchesGolden) {
  ExpectDecodesGolden<Q4_0Decoder>("ggml/q4_0.q", "ggml/q4_0.deq.f32", kNoTable);
}
TEST(GroupCodecsTest, Q1_0MatchesGolden) {
  ExpectDecodesGolden<Q1_0Decoder>("ggml/q1_0.q", "ggml/q1_0.deq.f32", kNoTable);
}
TEST(GroupCodecsTest, Q4_KMatchesGolden) {
  ExpectDecodesGolden<Q4_KDecoder>("ggml/q4_K.q", "ggml/q4_K.deq.f32", kNoTable);
}
TEST(GroupCodecsTest, Q5_KMatchesGolden) {
  ExpectDecodesGolden<Q5_KDecoder>("ggml/q5_K.q", "ggml/q5_K.deq.f32", kNoTable);
}
TEST(GroupCodecsTest, Q6_KMatchesGolden) {
  ExpectDecodesGolden<Q6_KDecoder>("ggml/q6_K.q", "ggml/q6_K.deq.f32", kNoTable);
}
TEST(GroupCodecsTest, Iq4NlMatchesGolden) {
  ExpectDecodesGolden<Iq4NlDecoder>("ggml/iq4_nl.q", "ggml/iq4_nl.deq.f32", kIq4NlTable);
}
TEST(GroupCodecsTest, Mxfp4MatchesGolden) {
  ExpectDecodesGolden<Mxfp4Decoder>("ggml/mxfp4.q", "ggml/mxfp4.deq.f32", kMxfp4Table);
}

// The host decoders equal the scalar reference codecs of quants/ on random
// blocks: every nibble, scale and sign pattern, and inf / NaN / subnormal
// scales (NaN compared as NaN: payloads are not part of the contract).
template <class Decoder>
void ExpectMatchesReference(GgmlType type, const DecodeTable& table) {
  const ReferenceCodec& reference = GetReferenceCodec(type);
  ASSERT_NE(reference.dequantize, nullptr) << GgmlTypeName(type);
  std::mt19937 rng(static_cast<uint32_t>(type));
  constexpr int kBlocks = 4099;
  std::vector<uint8_t> blocks(static_cast<size_t>(kBlocks) * Decoder::kBlockBytes);
  for (uint8_t& b : blocks) b = static_cast<uint8_t>(rng());
  const int64_t n = int64_t{kBlocks} * Decoder::kBlockElems;
  std::vector<float> want(static_cast<size_t>(n));
  reference.dequantize(blocks.data(), want.data(), n);
  size_t mismatches = 0;
  for (int b = 0; b < kBlocks; ++b) {
    for (int g = 0; g < Decoder::kBlockElems / kGroupElems; ++g) {
      float out[kGroupElems];
      Decoder::Decode(blocks.data() + static_cast<size_t>(b) * Decoder::kBlockBytes, g,
                      table.values, out);
      for (int k = 0; k < kGroupElems; ++k) {
        const float w = want[static_cast<size_t>(b) * Decoder::kBlockElems + g * kGroupElems + k];
        const bool same =
            FloatBits(out[k]) == FloatBits(w) || (std::isnan(out[k]) && std::isnan(w));
        if (!same && mismatches++ < 5) {
          ADD_FAILURE() << GgmlTypeName(type) << " block " << b << " element "
                        << g * kGroupElems + k << ": got " << out[k] << " want " << w;
        }
      }
    }
  }
  EXPECT_EQ(mismatches, 0u) << GgmlTypeName(type);
}

TEST(GroupCodecsTest, DecodersMatchReferenceCodecsOnRandomBlocks) {
  ExpectMatchesReference<Q8_0Decoder>(GgmlType::kQ8_0, kNoTable);
  ExpectMatchesReference<Q4_0Decoder>(GgmlType::kQ4_0, kNoTable);
  ExpectMatchesReference<Q1_0Decoder>(GgmlType::kQ1_0, kNoTable);
  ExpectMatchesReference<Q4_KDecoder>(GgmlType::kQ4_K, kNoTable);
  ExpectMatchesReference<Q5_KDecoder>(GgmlType::kQ5_K, kNoTable);
  ExpectMatchesReference<Q6_KDecoder>(GgmlType::kQ6_K, kNoTable);
  ExpectMatchesReference<Iq4NlDecoder>(GgmlType::kIQ4_NL, kIq4NlTable);
  ExpectMatchesReference<Mxfp4Decoder>(GgmlType::kMXFP4, kMxfp4Table);
}

// q8_0 / q4_0 block quantizers equal the reference on hostile blocks: zeros,
// -0.0, tiny and subnormal values, huge values, constants, one spike. Blocks
// holding inf or NaN, or so small that 1/d overflows, make the reference
// convert inf/NaN to int8 (undefined in C) and are left out.
TEST(GroupCodecsTest, KvQuantizersMatchReferenceCodecs) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  constexpr int kBlocks = 32 * 9;
  std::vector<float> x(kBlocks * 32);
  for (int b = 0; b < kBlocks; ++b) {
    for (int i = 0; i < 32; ++i) {
      const float r = normal(rng);
      float& v = x[b * 32 + i];
      switch (b % 9) {
        case 0:
          v = 0.0f;
          break;
        case 1:
          v = (i % 2) ? -0.0f : 0.0f;
          break;
        case 2:
          v = r * 1e-30f;
          break;
        case 3:
          v = r * 1e-36f;
          break;
        case 4:
          v = r * 1e30f;
          break;
        case 5:
          v = -2.0f;
          break;
        case 6:
          v = i == 9 ? -1.0f : 0.0f;
          break;
        case 7:
          v = r * 70000.0f;
          break;
        default:
          v = r;
          break;
      }
    }
  }
  for (GgmlType type : {GgmlType::kQ8_0, GgmlType::kQ4_0}) {
    const ReferenceCodec& reference = GetReferenceCodec(type);
    ASSERT_NE(reference.quantize, nullptr);
    const int block_bytes = type == GgmlType::kQ8_0 ? 34 : 18;
    std::vector<uint8_t> want(static_cast<size_t>(kBlocks) * block_bytes);
    std::vector<uint8_t> got(want.size());
    reference.quantize(x.data(), want.data(), static_cast<int64_t>(x.size()), nullptr);
    for (int b = 0; b < kBlocks; ++b) {
      if (type == GgmlType::kQ8_0) {
        QuantizeBlockQ8_0(x.data() + b * 32, got.data() + b * block_bytes);
      } else {
        QuantizeBlockQ4_0(x.data() + b * 32, got.data() + b * block_bytes);
      }
    }
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i], want[i]) << GgmlTypeName(type) << " byte " << i << " block "
                                 << i / block_bytes << " (kind " << (i / block_bytes) % 9 << ")";
    }
  }
}

DecodeTable CentroidsOf(const TurboTables& t) {
  DecodeTable table{};
  for (int i = 0; i < 16; ++i) table.values[i] = t.centroids[i];
  return table;
}

TEST(GroupCodecsTest, TurboDequantizeMatchesGolden) {
  ExpectDecodesGolden<Turbo2Decoder>("turbo/current/turbo2.q", "turbo/current/turbo2.deq.f32",
                                     CentroidsOf(kTurbo2Tables));
  ExpectDecodesGolden<Turbo3Decoder>("turbo/current/turbo3.q", "turbo/current/turbo3.deq.f32",
                                     CentroidsOf(kTurbo3Tables));
  ExpectDecodesGolden<Turbo4Decoder>("turbo/current/turbo4.q", "turbo/current/turbo4.deq.f32",
                                     CentroidsOf(kTurbo4Tables));
  ExpectDecodesGolden<Turbo2Decoder>("turbo/v1/turbo2.q", "turbo/v1/turbo2.deq.f32",
                                     CentroidsOf(kTurbo2Tables));
  ExpectDecodesGolden<Turbo3Decoder>("turbo/v1/turbo3.q", "turbo/v1/turbo3.deq.f32",
                                     CentroidsOf(kTurbo3V1Tables));
  ExpectDecodesGolden<Turbo4V1Decoder>("turbo/v1/turbo4.q", "turbo/v1/turbo4.deq.f32",
                                       CentroidsOf(kTurbo4V1Tables));
}

// The centroid floats are the ones the fork compiled (manifest hex values).
TEST(GroupCodecsTest, CentroidBitsMatchManifest) {
  EXPECT_EQ(FloatBits(kTurbo3Tables.centroids[0]), 0xbe42c5a0u);
  EXPECT_EQ(FloatBits(kTurbo3Tables.centroids[4]), 0x3cb1769bu);
  EXPECT_EQ(FloatBits(kTurbo4Tables.centroids[0]), 0xbe775361u);
  EXPECT_EQ(FloatBits(kTurbo4Tables.centroids[7]), 0xbc39f128u);
  EXPECT_EQ(FloatBits(kTurbo2Tables.centroids[1]), 0xbd23d0c0u);
  EXPECT_EQ(FloatBits(kTurbo4V1Tables.centroids[8]), 0x3be3582au);
  EXPECT_EQ(FloatBits(kTurbo3V1Tables.centroids[7]), 0x3e4342eeu);
  for (const TurboTables* t :
       {&kTurbo2Tables, &kTurbo3Tables, &kTurbo4Tables, &kTurbo3V1Tables, &kTurbo4V1Tables}) {
    const int n = 1 << t->bits;
    for (int i = 0; i < n; ++i) EXPECT_EQ(t->centroids[i], -t->centroids[n - 1 - i]);
    for (int i = 0; i + 1 < n - 1; ++i) EXPECT_LT(t->thresholds[i], t->thresholds[i + 1]);
    EXPECT_EQ(t->thresholds[n / 2 - 1], 0.0f);
  }
}

// The packed sign words spell the sign strings of formats.md.
TEST(GroupCodecsTest, SignTablesMatchSpec) {
  const char* s1 =
      "-++--+-+--+++++++-+-+--+++-++---"
      "-++-++-+-++--+-++++-----+-++++-+"
      "--+---+---+---+++--+++--++-++-+-"
      "-++-+-+-++++-+-++-++-----++-++-+";
  const char* s2 =
      "++++-++-+---+---++--+-+-+--+-+++"
      "++---+------+++-+-+++--+------++"
      "+-+----+-+-+--++-+-++-+----+--+-"
      "+-+++--+-+-++--+-+-++-+-+-----+-";
  for (int i = 0; i < kTurboGroup; ++i) {
    EXPECT_EQ(SignOf(kTurboSigns.s1, i), s1[i] == '-' ? -1.0f : 1.0f) << i;
    EXPECT_EQ(SignOf(kTurboSigns.s2, i), s2[i] == '-' ? -1.0f : 1.0f) << i;
  }
}

TEST(GroupCodecsTest, HalfToFloatEveryHalf) {
  for (uint32_t h = 0; h < 65536; ++h) {
    ASSERT_EQ(FloatBits(HalfToFloat(static_cast<uint16_t>(h))),
              FloatBits(F16ToF32(static_cast<uint16_t>(h))))
        << h;
  }
}

TEST(GroupCodecsTest, FloatToHalfAndBfloat16MatchQuants) {
  // A stride that is odd and not a power of two visits every exponent with
  // varied low mantissa bits (~1.05 M values), plus the edges by hand.
  std::vector<uint32_t> bits;
  for (uint64_t u = 0; u <= 0xFFFFFFFFull; u += 4093) bits.push_back(static_cast<uint32_t>(u));
  for (uint32_t u : {0x00000000u, 0x80000000u, 0x7F800000u, 0xFF800000u, 0x7FC00000u, 0xFFC00001u,
                     0x7F800001u, 0x477FEFFFu, 0x477FF000u, 0x33000000u, 0x33000001u, 0x387FC000u,
                     0x38800000u, 0x3F801000u, 0x3F803000u, 0x3F808000u, 0x3F818000u}) {
    bits.push_back(u);
  }
  for (uint32_t u : bits) {
    const float f = BitsToFloat(u);
    ASSERT_EQ(FloatToHalf(f), F32ToF16(f)) << std::hex << u;
    ASSERT_EQ(FloatToBfloat16(f), F32ToBF16(f)) << std::hex << u;
  }
}

TEST(GroupCodecsTest, E8M0HalfScale) {
  EXPECT_EQ(E8M0ToFloatHalf(127), 0.5f);
  EXPECT_EQ(E8M0ToFloatHalf(128), 1.0f);
  EXPECT_EQ(E8M0ToFloatHalf(1), std::ldexp(1.0f, -127));
  EXPECT_EQ(E8M0ToFloatHalf(0), std::ldexp(1.0f, -128));
  EXPECT_EQ(E8M0ToFloatHalf(254), std::ldexp(1.0f, 126));
}

template <void (*Quantize)(const float*, uint8_t*)>
void ExpectQuantizesGolden(const std::string& q_path, int block_bytes) {
  const std::vector<float> x = ReadFloats(GoldenPath("ggml/input.f32"));
  const std::vector<uint8_t> want = ReadFileBytes(GoldenPath(q_path));
  ASSERT_EQ(want.size(), x.size() / 32 * block_bytes);
  std::vector<uint8_t> got(want.size());
  for (size_t b = 0; b < x.size() / 32; ++b)
    Quantize(x.data() + 32 * b, got.data() + b * block_bytes);
  for (size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i], want[i]) << q_path << " byte " << i << " (block " << i / block_bytes << ")";
  }
}

TEST(GroupCodecsTest, QuantizeQ8_0MatchesGolden) {
  ExpectQuantizesGolden<QuantizeBlockQ8_0>("ggml/q8_0.q", 34);
}
TEST(GroupCodecsTest, QuantizeQ4_0MatchesGolden) {
  ExpectQuantizesGolden<QuantizeBlockQ4_0>("ggml/q4_0.q", 18);
}

// Against the scalar TurboQuant reference of quants/turbo.h: quantized bytes, dequantized floats
// and both rotations, on hostile groups (zeros, -0.0, tiny, subnormal, overflowing squares, inf,
// NaN, constants, a single spike, fp16-overflowing norms, Gaussian).
TEST(GroupCodecsTest, TurboMatchesQuantsReference) {
  std::mt19937 rng(99);
  struct Case {
    TurboFormat format;
    TurboVariant variant;
    const TurboTables* tables;
  };
  const Case cases[] = {{TurboFormat::kTurbo2, TurboVariant::kCurrent, &kTurbo2Tables},
                        {TurboFormat::kTurbo3, TurboVariant::kCurrent, &kTurbo3Tables},
                        {TurboFormat::kTurbo4, TurboVariant::kCurrent, &kTurbo4Tables},
                        {TurboFormat::kTurbo2, TurboVariant::kV1, &kTurbo2Tables},
                        {TurboFormat::kTurbo3, TurboVariant::kV1, &kTurbo3V1Tables},
                        {TurboFormat::kTurbo4, TurboVariant::kV1, &kTurbo4V1Tables}};
  auto same = [](float a, float b) {
    return FloatBits(a) == FloatBits(b) || (std::isnan(a) && std::isnan(b));
  };
  const std::vector<float> groups = ::ggufkit::testing::HostileKvGroups(12 * 50, rng);
  for (int g = 0; g < 12 * 50; ++g) {
    const float* x = groups.data() + g * kTurboGroup;
    const int kind = g % 12;
    for (const Case& c : cases) {
      ASSERT_EQ(TurboBlockBytes(c.format, c.variant), c.tables->block_bytes);
      uint8_t want[68], got[68];
      float u[kTurboGroup];
      uint8_t idx[kTurboGroup];
      QuantizeTurboGroup(c.format, c.variant, x, want);
      TurboQuantizeGroup(*c.tables, kTurboSigns, x, got, u, idx, 0, 1, NoBarrier());
      ASSERT_EQ(std::memcmp(want, got, c.tables->block_bytes), 0)
          << "bits " << c.tables->bits << " kind " << kind;
      float want_y[kTurboGroup], got_y[kTurboGroup];
      DequantizeTurboGroup(c.format, c.variant, want, want_y);
      const DecodeTable table = CentroidsOf(*c.tables);
      for (int k = 0; k < kTurboGroup / kGroupElems; ++k) {
        float* out = got_y + k * kGroupElems;
        if (c.tables->bits == 2) Turbo2Decoder::Decode(want, k, table.values, out);
        if (c.tables->bits == 3) Turbo3Decoder::Decode(want, k, table.values, out);
        if (c.tables->block_bytes == 66) Turbo4Decoder::Decode(want, k, table.values, out);
        if (c.tables->block_bytes == 68) Turbo4V1Decoder::Decode(want, k, table.values, out);
      }
      for (int i = 0; i < kTurboGroup; ++i) ASSERT_TRUE(same(got_y[i], want_y[i])) << i;
    }
    float a[kTurboGroup], b[kTurboGroup];
    std::memcpy(a, x, sizeof a);
    std::memcpy(b, x, sizeof b);
    WhtForward128(a);
    Rotate128(b, kTurboSigns.s1, kTurboSigns.s2, 0, 1, NoBarrier());
    for (int i = 0; i < kTurboGroup; ++i) ASSERT_TRUE(same(a[i], b[i])) << "forward " << i;
    WhtInverse128(a);
    Rotate128(b, kTurboSigns.s2, kTurboSigns.s1, 0, 1, NoBarrier());
    for (int i = 0; i < kTurboGroup; ++i) ASSERT_TRUE(same(a[i], b[i])) << "inverse " << i;
  }
}

// Each group of the input quantized by one lane (what the host runs).
void ExpectTurboQuantizesGolden(const TurboTables& t, const std::string& q_path) {
  const std::vector<float> x = ReadFloats(GoldenPath("ggml/input.f32"));
  const std::vector<uint8_t> want = ReadFileBytes(GoldenPath(q_path));
  const size_t n_groups = x.size() / kTurboGroup;
  ASSERT_EQ(want.size(), n_groups * t.block_bytes) << q_path;
  std::vector<uint8_t> got(want.size(), 0xAA);
  float u[kTurboGroup];
  uint8_t idx[kTurboGroup];
  for (size_t g = 0; g < n_groups; ++g) {
    TurboQuantizeGroup(t, kTurboSigns, x.data() + g * kTurboGroup, got.data() + g * t.block_bytes,
                       u, idx, 0, 1, NoBarrier());
  }
  size_t mismatches = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    if (got[i] != want[i] && mismatches++ < 5) {
      ADD_FAILURE() << q_path << " byte " << i << " (block " << i / t.block_bytes << "): got "
                    << int{got[i]} << " want " << int{want[i]};
    }
  }
  EXPECT_EQ(mismatches, 0u) << q_path;
}

TEST(GroupCodecsTest, TurboQuantizeMatchesGolden) {
  ExpectTurboQuantizesGolden(kTurbo2Tables, "turbo/current/turbo2.q");
  ExpectTurboQuantizesGolden(kTurbo3Tables, "turbo/current/turbo3.q");
  ExpectTurboQuantizesGolden(kTurbo4Tables, "turbo/current/turbo4.q");
  ExpectTurboQuantizesGolden(kTurbo2Tables, "turbo/v1/turbo2.q");
  ExpectTurboQuantizesGolden(kTurbo3V1Tables, "turbo/v1/turbo3.q");
  ExpectTurboQuantizesGolden(kTurbo4V1Tables, "turbo/v1/turbo4.q");
}

// A reusable barrier for host threads standing in for the lanes of a warp.
class LaneBarrier {
 public:
  explicit LaneBarrier(int n) : n_(n) {}
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t generation = generation_;
    if (++waiting_ == n_) {
      waiting_ = 0;
      ++generation_;
      cv_.notify_all();
    } else {
      cv_.wait(lock, [&] { return generation_ != generation; });
    }
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int n_;
  int waiting_ = 0;
  uint64_t generation_ = 0;
};

struct ThreadBarrier {
  LaneBarrier* barrier;
  void operator()() const { barrier->Wait(); }
};

// The device partition: 32 lanes share the scratch arrays and meet at the
// barriers, here as 32 host threads, on groups with ties, zeros and outliers.
TEST(GroupCodecsTest, TurboQuantizeWith32LanesEqualsOneLane) {
  const std::vector<float> x = ReadFloats(GoldenPath("ggml/input.f32"));
  for (const TurboTables* t : {&kTurbo2Tables, &kTurbo3Tables, &kTurbo4Tables, &kTurbo4V1Tables}) {
    for (int row : {0, 16, 17, 19, 20, 21, 22}) {
      const float* group = x.data() + static_cast<size_t>(row) * kCols + (row == 19 ? 896 : 0);
      std::vector<uint8_t> one(t->block_bytes, 0x55), many(t->block_bytes, 0x33);
      float u[kTurboGroup];
      uint8_t idx[kTurboGroup];
      TurboQuantizeGroup(*t, kTurboSigns, group, one.data(), u, idx, 0, 1, NoBarrier());
      LaneBarrier barrier(32);
      std::vector<std::thread> lanes;
      for (int lane = 0; lane < 32; ++lane) {
        lanes.emplace_back([&, lane] {
          TurboQuantizeGroup(*t, kTurboSigns, group, many.data(), u, idx, lane, 32,
                             ThreadBarrier{&barrier});
        });
      }
      for (std::thread& th : lanes) th.join();
      EXPECT_EQ(one, many) << "bits " << t->bits << " row " << row;
    }
  }
}

// The fork's inverse WHT of each turbo3 reconstruction (wht_inverse.f32).
TEST(GroupCodecsTest, InverseRotationMatchesGolden) {
  for (const char* set : {"current", "v1"}) {
    std::vector<float> y = ReadFloats(GoldenPath(std::string("turbo/") + set + "/turbo3.deq.f32"));
    const std::vector<float> want =
        ReadFloats(GoldenPath(std::string("turbo/") + set + "/wht_inverse.f32"));
    ASSERT_EQ(y.size(), want.size());
    for (size_t g = 0; g < y.size() / kTurboGroup; ++g) {
      Rotate128(y.data() + g * kTurboGroup, kTurboSigns.s2, kTurboSigns.s1, 0, 1, NoBarrier());
    }
    for (size_t i = 0; i < y.size(); ++i) {
      ASSERT_EQ(FloatBits(y[i]), FloatBits(want[i])) << set << " element " << i;
    }
  }
}

// Forward then inverse is the identity up to rounding (checks the pairing of
// the sign tables, not just one direction).
TEST(GroupCodecsTest, ForwardThenInverseIsNearIdentity) {
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  float x[kTurboGroup], u[kTurboGroup];
  for (float& v : x) v = normal(rng);
  std::memcpy(u, x, sizeof u);
  Rotate128(u, kTurboSigns.s1, kTurboSigns.s2, 0, 1, NoBarrier());
  Rotate128(u, kTurboSigns.s2, kTurboSigns.s1, 0, 1, NoBarrier());
  for (int i = 0; i < kTurboGroup; ++i) EXPECT_NEAR(u[i], x[i], 1e-5f) << i;
}

}  // namespace
}  // namespace ggufkit::cuda::internal
