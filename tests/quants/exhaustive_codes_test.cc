// Exhaustive small-domain tests of the reference dequantizers: every code
// value in every element position, every scale / min field value, every
// finite half as a block scale. The expected values come from this file's
// own reading of the layouts (written from the format descriptions, not from
// the codec sources), so a wrong bit position or nibble order shows up.
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include "gtest/gtest.h"
#include "ggufkit/quants/block_k.h"
#include "ggufkit/quants/block_legacy.h"
#include "ggufkit/quants/half.h"
#include "ggufkit/quants/quants.h"

namespace ggufkit {
namespace {

uint32_t Bits(float f) { return FloatBits(f); }

// Decodes `blocks` of `type` and checks every element against expect(block,
// element), comparing bit patterns.
template <typename Block>
void CheckDecode(GgmlType type, const std::vector<Block>& blocks,
                 const std::function<float(int64_t, int)>& expect) {
  const int64_t per_block = GetTypeTraits(type).block_size;
  const int64_t n = static_cast<int64_t>(blocks.size()) * per_block;
  std::vector<float> out(static_cast<size_t>(n));
  const auto bytes = absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(blocks.data()),
                                         blocks.size() * sizeof(Block));
  ASSERT_TRUE(reference::Dequantize(type, bytes, n, out.data()).ok());
  for (int64_t b = 0; b < static_cast<int64_t>(blocks.size()); ++b) {
    for (int e = 0; e < per_block; ++e) {
      const float want = expect(b, e);
      ASSERT_EQ(Bits(out[b * per_block + e]), Bits(want))
          << GgmlTypeName(type) << " block " << b << " element " << e << ": got "
          << out[b * per_block + e] << " want " << want;
    }
  }
}

// The code of element e in test block (pos, code): `code` at pos, a varying
// filler elsewhere, so neighbours are checked too.
int CodeAt(int pos, int code, int e, int n_codes) {
  return e == pos ? code : (code + 5 + 3 * e) % n_codes;
}

const uint16_t kD = F32ToF16(0.0371f);
const uint16_t kM = F32ToF16(-0.4142f);

// ----------------------------------------------------------- legacy formats

// Sets 4-bit code q of element e (0..31) of a 32-weight nibble array.
void SetNibble32(uint8_t* qs, int e, int q) {
  if (e < 16) {
    qs[e] = static_cast<uint8_t>((qs[e] & 0xF0) | q);
  } else {
    qs[e - 16] = static_cast<uint8_t>((qs[e - 16] & 0x0F) | (q << 4));
  }
}

TEST(ExhaustiveCodes, Q4_0EveryCodeInEveryPosition) {
  std::vector<BlockQ4_0> blocks;
  for (int pos = 0; pos < 32; ++pos) {
    for (int code = 0; code < 16; ++code) {
      BlockQ4_0 b{};
      b.d = kD;
      for (int e = 0; e < 32; ++e) SetNibble32(b.qs, e, CodeAt(pos, code, e, 16));
      blocks.push_back(b);
    }
  }
  CheckDecode<BlockQ4_0>(GgmlType::kQ4_0, blocks, [](int64_t b, int e) {
    const int q = CodeAt(static_cast<int>(b / 16), static_cast<int>(b % 16), e, 16);
    return static_cast<float>(q - 8) * F16ToF32(kD);
  });
}

TEST(ExhaustiveCodes, Q4_1EveryCodeInEveryPosition) {
  std::vector<BlockQ4_1> blocks;
  for (int pos = 0; pos < 32; ++pos) {
    for (int code = 0; code < 16; ++code) {
      BlockQ4_1 b{};
      b.d = kD;
      b.m = kM;
      for (int e = 0; e < 32; ++e) SetNibble32(b.qs, e, CodeAt(pos, code, e, 16));
      blocks.push_back(b);
    }
  }
  CheckDecode<BlockQ4_1>(GgmlType::kQ4_1, blocks, [](int64_t b, int e) {
    const int q = CodeAt(static_cast<int>(b / 16), static_cast<int>(b % 16), e, 16);
    return static_cast<float>(q) * F16ToF32(kD) + F16ToF32(kM);
  });
}

// 5-bit code: low 4 bits as the nibble layout, bit 4 at bit e of qh (LE u32).
void SetCode5(uint8_t* qs, uint8_t* qh, int e, int q) {
  SetNibble32(qs, e, q & 15);
  if (q & 16) {
    qh[e / 8] = static_cast<uint8_t>(qh[e / 8] | (1 << (e % 8)));
  } else {
    qh[e / 8] = static_cast<uint8_t>(qh[e / 8] & ~(1 << (e % 8)));
  }
}

TEST(ExhaustiveCodes, Q5_0AndQ5_1EveryCodeInEveryPosition) {
  std::vector<BlockQ5_0> b0;
  std::vector<BlockQ5_1> b1;
  for (int pos = 0; pos < 32; ++pos) {
    for (int code = 0; code < 32; ++code) {
      BlockQ5_0 x{};
      BlockQ5_1 y{};
      x.d = y.d = kD;
      y.m = kM;
      for (int e = 0; e < 32; ++e) {
        SetCode5(x.qs, x.qh, e, CodeAt(pos, code, e, 32));
        SetCode5(y.qs, y.qh, e, CodeAt(pos, code, e, 32));
      }
      b0.push_back(x);
      b1.push_back(y);
    }
  }
  CheckDecode<BlockQ5_0>(GgmlType::kQ5_0, b0, [](int64_t b, int e) {
    const int q = CodeAt(static_cast<int>(b / 32), static_cast<int>(b % 32), e, 32);
    return static_cast<float>(q - 16) * F16ToF32(kD);
  });
  CheckDecode<BlockQ5_1>(GgmlType::kQ5_1, b1, [](int64_t b, int e) {
    const int q = CodeAt(static_cast<int>(b / 32), static_cast<int>(b % 32), e, 32);
    return static_cast<float>(q) * F16ToF32(kD) + F16ToF32(kM);
  });
}

TEST(ExhaustiveCodes, Q8_0AndQ8_1EveryInt8InEveryPosition) {
  std::vector<BlockQ8_0> b0;
  std::vector<BlockQ8_1> b1;
  for (int pos = 0; pos < 32; ++pos) {
    for (int code = 0; code < 256; ++code) {
      BlockQ8_0 x{};
      BlockQ8_1 y{};
      x.d = y.d = kD;
      y.s = kM;  // not used by the decoder
      for (int e = 0; e < 32; ++e) {
        x.qs[e] = y.qs[e] = static_cast<int8_t>(CodeAt(pos, code, e, 256) - 128);
      }
      b0.push_back(x);
      b1.push_back(y);
    }
  }
  auto expect = [](int64_t b, int e) {
    const int q = CodeAt(static_cast<int>(b / 256), static_cast<int>(b % 256), e, 256) - 128;
    return static_cast<float>(q) * F16ToF32(kD);
  };
  CheckDecode<BlockQ8_0>(GgmlType::kQ8_0, b0, expect);
  CheckDecode<BlockQ8_1>(GgmlType::kQ8_1, b1, expect);
}

// Every finite half as the Q8_0 / Q4_0 scale, through the f32, f16 and bf16
// outputs. Codes +1 and -1 must give back d and -d exactly.
TEST(ExhaustiveCodes, EveryFiniteHalfAsQ8_0AndQ4_0Scale) {
  std::vector<BlockQ8_0> q8;
  std::vector<BlockQ4_0> q4;
  std::vector<uint16_t> halves;
  for (uint32_t h = 0; h < 65536; ++h) {
    if (((h >> 10) & 0x1F) == 0x1F) continue;  // inf / NaN
    halves.push_back(static_cast<uint16_t>(h));
    BlockQ8_0 x{};
    x.d = static_cast<uint16_t>(h);
    // Codes 1, -1, 0, then a spread over the int8 range.
    for (int e = 0; e < 32; ++e)
      x.qs[e] = static_cast<int8_t>(e == 0 ? 1 : e == 1 ? -1 : e == 2 ? 0 : -128 + 8 * e + 7);
    q8.push_back(x);
    BlockQ4_0 y{};
    y.d = static_cast<uint16_t>(h);
    for (int e = 0; e < 32; ++e) SetNibble32(y.qs, e, e == 0 ? 9 : e == 1 ? 7 : e % 16);
    q4.push_back(y);
  }
  const int64_t n = static_cast<int64_t>(halves.size()) * 32;
  auto check = [&](GgmlType type, const uint8_t* data, size_t bytes,
                   const std::function<int(int)>& level) {
    std::vector<float> f32(static_cast<size_t>(n));
    std::vector<uint16_t> f16(static_cast<size_t>(n)), bf16(static_cast<size_t>(n));
    const auto span = absl::MakeConstSpan(data, bytes);
    ASSERT_TRUE(reference::Dequantize(type, span, n, f32.data()).ok());
    ASSERT_TRUE(reference::DequantizeToF16(type, span, n, f16.data()).ok());
    ASSERT_TRUE(reference::DequantizeToBF16(type, span, n, bf16.data()).ok());
    for (size_t b = 0; b < halves.size(); ++b) {
      const uint16_t h = halves[b];
      const float d = F16ToF32(h);
      // +1 and -1 reproduce the scale exactly in every output.
      ASSERT_EQ(f16[b * 32 + 0], h) << "half " << h;
      ASSERT_EQ(f16[b * 32 + 1], h ^ 0x8000u) << "half " << h;
      ASSERT_EQ(Bits(f32[b * 32 + 0]), Bits(d)) << "half " << h;
      // 0 * d keeps the sign of d (ggml multiplies; -0.0 for negative d).
      if (type == GgmlType::kQ8_0) {
        ASSERT_EQ(Bits(f32[b * 32 + 2]), Bits(d) & 0x80000000u) << "half " << h;
      }
      for (int e = 0; e < 32; ++e) {
        const float want = static_cast<float>(level(e)) * d;
        ASSERT_EQ(Bits(f32[b * 32 + e]), Bits(want)) << "half " << h << " element " << e;
        ASSERT_EQ(f16[b * 32 + e], F32ToF16(want)) << "half " << h << " element " << e;
        ASSERT_EQ(bf16[b * 32 + e], F32ToBF16(want)) << "half " << h << " element " << e;
      }
    }
  };
  check(GgmlType::kQ8_0, reinterpret_cast<const uint8_t*>(q8.data()), q8.size() * sizeof(BlockQ8_0),
        [](int e) {
          return e == 0 ? 1 : e == 1 ? -1 : e == 2 ? 0 : -128 + 8 * e + 7;
        });
  check(GgmlType::kQ4_0, reinterpret_cast<const uint8_t*>(q4.data()), q4.size() * sizeof(BlockQ4_0),
        [](int e) {
          return (e == 0 ? 9 : e == 1 ? 7 : e % 16) - 8;
        });
}

// ---------------------------------------------------------------- K-quants

// Q4_K / Q5_K: write the 6-bit scale and min of sub-block s (spec layout).
void SetScaleMinK4(uint8_t* scales, int s, int sc, int m) {
  if (s < 4) {
    scales[s] = static_cast<uint8_t>((scales[s] & 0xC0) | sc);
    scales[s + 4] = static_cast<uint8_t>((scales[s + 4] & 0xC0) | m);
  } else {
    scales[s + 4] = static_cast<uint8_t>((sc & 15) | ((m & 15) << 4));
    scales[s - 4] = static_cast<uint8_t>((scales[s - 4] & 0x3F) | ((sc >> 4) << 6));
    scales[s] = static_cast<uint8_t>((scales[s] & 0x3F) | ((m >> 4) << 6));
  }
}

// Q4_K element e: chunk c = e / 64; low nibble of qs[32c + r] for r < 32,
// high nibble of qs[32c + r - 32] otherwise. Q5_K adds bit 4 at qh[r % 32]
// bit 2c + (r >= 32).
void SetCodeK4(uint8_t* qs, uint8_t* qh, int e, int q) {
  const int c = e / 64, r = e % 64;
  uint8_t& byte = qs[32 * c + r % 32];
  byte = r < 32 ? static_cast<uint8_t>((byte & 0xF0) | (q & 15))
                : static_cast<uint8_t>((byte & 0x0F) | ((q & 15) << 4));
  if (qh != nullptr) {
    const int bit = 2 * c + (r >= 32 ? 1 : 0);
    qh[r % 32] = static_cast<uint8_t>((qh[r % 32] & ~(1 << bit)) | (((q >> 4) & 1) << bit));
  }
}

struct K4Params {
  int sc[8];
  int m[8];
};

template <typename Block>
float ExpectK4(const Block& b, const K4Params& p, int e, int q) {
  const int s = e / 32;
  return F16ToF32(b.d) * static_cast<float>(p.sc[s]) * static_cast<float>(q) -
         F16ToF32(b.dmin) * static_cast<float>(p.m[s]);
}

template <typename Block, int kBits>
void CheckK4AllCodesAndScales(GgmlType type) {
  constexpr int kCodes = 1 << kBits;
  std::vector<Block> blocks;
  std::vector<K4Params> params;
  std::vector<std::vector<int>> codes;
  auto add = [&](const K4Params& p, const std::vector<int>& q) {
    Block b{};
    b.d = kD;
    b.dmin = F32ToF16(0.0123f);
    for (int s = 0; s < 8; ++s) SetScaleMinK4(b.scales, s, p.sc[s], p.m[s]);
    uint8_t* qh = nullptr;
    if constexpr (kBits == 5) qh = b.qh;
    for (int e = 0; e < 256; ++e) SetCodeK4(b.qs, qh, e, q[e]);
    blocks.push_back(b);
    params.push_back(p);
    codes.push_back(q);
  };
  // Every 6-bit scale and min value in every sub-block.
  for (int s = 0; s < 8; ++s) {
    for (int v = 0; v < 64; ++v) {
      K4Params p;
      for (int t = 0; t < 8; ++t) {
        p.sc[t] = (v + 11 * t + 1) % 64;
        p.m[t] = (2 * v + 7 * t + 5) % 64;
      }
      p.sc[s] = v;
      p.m[s] = 63 - v;
      std::vector<int> q(256);
      for (int e = 0; e < 256; ++e) q[e] = (e * 7 + v) % kCodes;
      add(p, q);
    }
  }
  // Every code in every position.
  for (int pos = 0; pos < 256; ++pos) {
    for (int code = 0; code < kCodes; ++code) {
      K4Params p;
      for (int t = 0; t < 8; ++t) {
        p.sc[t] = (pos + 9 * t + 1) % 64;
        p.m[t] = (pos + 5 * t) % 64;
      }
      std::vector<int> q(256);
      for (int e = 0; e < 256; ++e) q[e] = CodeAt(pos, code, e, kCodes);
      add(p, q);
    }
  }
  CheckDecode<Block>(type, blocks, [&](int64_t b, int e) {
    return ExpectK4(blocks[b], params[b], e, codes[b][e]);
  });
}

TEST(ExhaustiveCodes, Q4_KEveryCodeScaleAndMin) {
  CheckK4AllCodesAndScales<BlockQ4_K, 4>(GgmlType::kQ4_K);
}
TEST(ExhaustiveCodes, Q5_KEveryCodeScaleAndMin) {
  CheckK4AllCodesAndScales<BlockQ5_K, 5>(GgmlType::kQ5_K);
}

// Q6_K element e: half h = e / 128, i = e % 128, l = i % 32, quarter k = i / 32;
// low 4 bits in ql[64h + l + 32 (k & 1)], nibble k / 2; high 2 bits in
// qh[32h + l] at bits 2k; scale index 8h + l / 16 + 2k.
void SetCodeQ6K(BlockQ6_K* b, int e, int q) {
  const int h = e / 128, i = e % 128, l = i % 32, k = i / 32;
  uint8_t& lo = b->ql[64 * h + l + 32 * (k & 1)];
  lo = (k / 2) == 0 ? static_cast<uint8_t>((lo & 0xF0) | (q & 15))
                    : static_cast<uint8_t>((lo & 0x0F) | ((q & 15) << 4));
  uint8_t& hi = b->qh[32 * h + l];
  hi = static_cast<uint8_t>((hi & ~(3 << (2 * k))) | (((q >> 4) & 3) << (2 * k)));
}
int ScaleIndexQ6K(int e) {
  const int h = e / 128, i = e % 128;
  return 8 * h + (i % 32) / 16 + 2 * (i / 32);
}

TEST(ExhaustiveCodes, Q6_KEveryCodeAndEveryInt8Scale) {
  std::vector<BlockQ6_K> blocks;
  std::vector<std::vector<int>> codes;
  auto add = [&](const std::vector<int>& q, const int* sc) {
    BlockQ6_K b{};
    b.d = kD;
    for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<int8_t>(sc[s]);
    for (int e = 0; e < 256; ++e) SetCodeQ6K(&b, e, q[e]);
    blocks.push_back(b);
    codes.push_back(q);
  };
  for (int pos = 0; pos < 256; ++pos) {
    for (int code = 0; code < 64; ++code) {
      std::vector<int> q(256);
      for (int e = 0; e < 256; ++e) q[e] = CodeAt(pos, code, e, 64);
      int sc[16];
      for (int s = 0; s < 16; ++s) sc[s] = (pos * 3 + 17 * s) % 256 - 128;
      add(q, sc);
    }
  }
  for (int s = 0; s < 16; ++s) {
    for (int v = -128; v < 128; ++v) {
      std::vector<int> q(256);
      for (int e = 0; e < 256; ++e) q[e] = (e * 5 + v + 128) % 64;
      int sc[16];
      for (int t = 0; t < 16; ++t) sc[t] = (v + 128 + 29 * t) % 256 - 128;
      sc[s] = v;
      add(q, sc);
    }
  }
  CheckDecode<BlockQ6_K>(GgmlType::kQ6_K, blocks, [&](int64_t b, int e) {
    const float scale = static_cast<float>(blocks[b].scales[ScaleIndexQ6K(e)]);
    return F16ToF32(blocks[b].d) * scale * static_cast<float>(codes[b][e] - 32);
  });
}

// Q2_K / Q3_K element e = 128h + 32j + r: 2-bit code at bits 2j of
// qs[32h + r]; sub-block 8h + 2j + r / 16; Q3_K's high bit at hmask[r] bit
// 4h + j.
void SetCode2(uint8_t* qs, int e, int q) {
  const int h = e / 128, j = (e % 128) / 32, r = e % 32;
  uint8_t& byte = qs[32 * h + r];
  byte = static_cast<uint8_t>((byte & ~(3 << (2 * j))) | ((q & 3) << (2 * j)));
}
int SubBlock16(int e) { return 8 * (e / 128) + 2 * ((e % 128) / 32) + (e % 32) / 16; }

TEST(ExhaustiveCodes, Q2_KEveryCodeScaleAndMin) {
  std::vector<BlockQ2_K> blocks;
  std::vector<std::vector<int>> codes;
  auto add = [&](const std::vector<int>& q, const int* sc, const int* m) {
    BlockQ2_K b{};
    b.d = kD;
    b.dmin = F32ToF16(0.0123f);
    for (int s = 0; s < 16; ++s) b.scales[s] = static_cast<uint8_t>(sc[s] | (m[s] << 4));
    for (int e = 0; e < 256; ++e) SetCode2(b.qs, e, q[e]);
    blocks.push_back(b);
    codes.push_back(q);
  };
  for (int pos = 0; pos < 256; ++pos) {
    for (int code = 0; code < 4; ++code) {
      std::vector<int> q(256);
      for (int e = 0; e < 256; ++e) q[e] = CodeAt(pos, code, e, 4);
      int sc[16], m[16];
      for (int s = 0; s < 16; ++s) {
        sc[s] = (pos + 3 * s + 1) % 16;
        m[s] = (pos + 5 * s) % 16;
      }
      add(q, sc, m);
    }
  }
  for (int s = 0; s < 16; ++s) {
    for (int v = 0; v < 16; ++v) {
      std::vector<int> q(256);
      for (int e = 0; e < 256; ++e) q[e] = (e + v) % 4;
      int sc[16], m[16];
      for (int t = 0; t < 16; ++t) {
        sc[t] = (v + t) % 16;
        m[t] = (3 * v + t) % 16;
      }
      sc[s] = v;
      m[s] = 15 - v;
      add(q, sc, m);
    }
  }
  CheckDecode<BlockQ2_K>(GgmlType::kQ2_K, blocks, [&](int64_t b, int e) {
    const int s = SubBlock16(e);
    const float sc = static_cast<float>(blocks[b].scales[s] & 15);
    const float m = static_cast<float>(blocks[b].scales[s] >> 4);
    return F16ToF32(blocks[b].d) * sc * static_cast<float>(codes[b][e]) -
           F16ToF32(blocks[b].dmin) * m;
  });
}

// Q3_K's 6-bit scale code of sub-block s: low 4 bits in nibble s / 8 of
// scales[s % 8], high 2 bits at bits 2 (s / 4) of scales[8 + s % 4].
void SetScaleQ3K(uint8_t* scales, int s, int v) {
  uint8_t& lo = scales[s % 8];
  lo = s < 8 ? static_cast<uint8_t>((lo & 0xF0) | (v & 15))
             : static_cast<uint8_t>((lo & 0x0F) | ((v & 15) << 4));
  uint8_t& hi = scales[8 + s % 4];
  hi = static_cast<uint8_t>((hi & ~(3 << (2 * (s / 4)))) | (((v >> 4) & 3) << (2 * (s / 4))));
}

TEST(ExhaustiveCodes, Q3_KEveryCodeAndScale) {
  std::vector<BlockQ3_K> blocks;
  std::vector<std::vector<int>> codes;
  std::vector<std::vector<int>> scales;
  auto add = [&](const std::vector<int>& q, const std::vector<int>& sc) {
    BlockQ3_K b{};
    b.d = kD;
    for (int s = 0; s < 16; ++s) SetScaleQ3K(b.scales, s, sc[s]);
    for (int e = 0; e < 256; ++e) {
      SetCode2(b.qs, e, q[e] & 3);
      const int r = e % 32, bit = 4 * (e / 128) + (e % 128) / 32;
      if (q[e] & 4) b.hmask[r] = static_cast<uint8_t>(b.hmask[r] | (1 << bit));
    }
    blocks.push_back(b);
    codes.push_back(q);
    scales.push_back(sc);
  };
  for (int pos = 0; pos < 256; ++pos) {
    for (int code = 0; code < 8; ++code) {
      std::vector<int> q(256), sc(16);
      for (int e = 0; e < 256; ++e) q[e] = CodeAt(pos, code, e, 8);
      for (int s = 0; s < 16; ++s) sc[s] = (pos + 7 * s) % 64;
      add(q, sc);
    }
  }
  for (int s = 0; s < 16; ++s) {
    for (int v = 0; v < 64; ++v) {
      std::vector<int> q(256), sc(16);
      for (int e = 0; e < 256; ++e) q[e] = (e * 3 + v) % 8;
      for (int t = 0; t < 16; ++t) sc[t] = (v + 13 * t + 1) % 64;
      sc[s] = v;
      add(q, sc);
    }
  }
  CheckDecode<BlockQ3_K>(GgmlType::kQ3_K, blocks, [&](int64_t b, int e) {
    // Stored 3-bit code c means level c - 4 (high bit set: 0..3, clear: -4..-1).
    const float dl = F16ToF32(blocks[b].d) * static_cast<float>(scales[b][SubBlock16(e)] - 32);
    return dl * static_cast<float>(codes[b][e] - 4);
  });
}

TEST(ExhaustiveCodes, Q8_KEveryInt8InEveryPosition) {
  std::vector<BlockQ8_K> blocks;
  for (int pos = 0; pos < 256; ++pos) {
    for (int code = 0; code < 256; ++code) {
      BlockQ8_K b{};
      b.d = 0.00731f;
      for (int e = 0; e < 256; ++e) b.qs[e] = static_cast<int8_t>(CodeAt(pos, code, e, 256) - 128);
      blocks.push_back(b);
    }
  }
  CheckDecode<BlockQ8_K>(GgmlType::kQ8_K, blocks, [&](int64_t b, int e) {
    return 0.00731f * static_cast<float>(blocks[b].qs[e]);
  });
}

}  // namespace
}  // namespace ggufkit
