// The inputs and importance matrices of the IQ quantizer conformance data
// (tests/data/iq_quants/README.md), defined by formula so that the test
// regenerates them and only ggml's output bytes (or their hashes) are stored.
//
// Header-only, no dependencies beyond <cmath>/<cstdint>: the harness that
// produced the expected data (linking ggml, outside this repository) included
// this very file, so inputs are identical by construction. Compile with
// -ffp-contract=off (the project does) so every float is rounded as written.
#ifndef GGUFKIT_TESTS_QUANTS_IQ_QUANT_CASES_H_
#define GGUFKIT_TESTS_QUANTS_IQ_QUANT_CASES_H_

#include <cmath>
#include <cstdint>

namespace ggufkit::testing::iq_cases {

// The seven codebook types, with ggml's type ids and whether ggml refuses to
// quantize them without an importance matrix (ggml_quantize_requires_imatrix).
struct IqType {
  const char* name;
  int ggml_type;
  bool requires_imatrix;
};
inline constexpr IqType kTypes[] = {
    {"iq2_xxs", 16, true}, {"iq2_xs", 17, true}, {"iq3_xxs", 18, false}, {"iq1_s", 19, true},
    {"iq3_s", 21, false},  {"iq2_s", 22, false}, {"iq1_m", 29, false},
};

// Importance matrix variants. 0 = none (null), 1 = W1, 2 = W2.
inline constexpr int kNumImatrixVariants = 3;
inline constexpr const char* kImatrixNames[kNumImatrixVariants] = {"none", "w1", "w2"};

// W1: w[j] = 0.25 + ((j * 7919) mod 1000) * 0.004, in [0.25, 4.246].
inline float ImatrixW1(int64_t j) {
  return 0.25f + static_cast<float>(static_cast<uint64_t>(j) * 7919u % 1000u) * 0.004f;
}
// W2: W1 with zeros: every 7th column, and all of columns 288..319 (a whole
// 32-weight sub-block of the second super-block).
inline float ImatrixW2(int64_t j) {
  if (j % 7 == 3) return 0.0f;
  if (j % 512 >= 288 && j % 512 < 320) return 0.0f;
  return ImatrixW1(j);
}
inline float ImatrixValue(int variant, int64_t j) {
  return variant == 1 ? ImatrixW1(j) : ImatrixW2(j);
}

// splitmix64, as in golden/ggml/manifest.json.
struct SplitMix64 {
  uint64_t s;
  uint64_t Next() {
    s += 0x9E3779B97F4A7C15ull;
    uint64_t z = s;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double Uniform() {
    return (static_cast<double>(Next() >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  }
  // Box-Muller in double; both values of a pair are used, cos first.
  bool have_spare = false;
  double spare = 0;
  double Gaussian() {
    if (have_spare) {
      have_spare = false;
      return spare;
    }
    const double u1 = Uniform();
    const double u2 = Uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double t = 2.0 * 3.14159265358979323846 * u2;
    spare = r * std::sin(t);
    have_spare = true;
    return r * std::cos(t);
  }
};

// The extra ("hidden") cases: kExtraRows rows of kExtraCols floats, one case
// per row. kExtraCols = 2 super-blocks, so a row has full and partial
// structure; the importance matrix of the extras has kExtraCols entries.
inline constexpr int kExtraRows = 34;
inline constexpr int kExtraCols = 512;
inline constexpr uint64_t kExtraSeed = 0x1D0C0DE5EEDull;

// What each extra row holds (documentation; the formulas are in FillExtras).
inline constexpr const char* kExtraRowNames[kExtraRows] = {
    "gaussian",
    "gaussian",
    "gaussian",
    "gaussian",
    "gaussian",
    "gaussian",
    "gaussian",
    "gaussian",
    "gaussian*0.02",
    "gaussian*1e-3",
    "gaussian*30",
    "gaussian*1e4",
    "zeros",
    "negative zeros",
    "constant 0.75",
    "constant -2",
    "constant 1e-6",
    "constant 3e3",
    "gaussian+outliers",
    "gaussian*1e-6",
    "gaussian*1e-12",
    "gaussian*1e-20",
    "gaussian*1e-37",
    "gaussian*1e6",
    "gaussian*3e7",
    "sparse gaussian",
    "small integers",
    "alternating sign",
    "uniform [0,1)",
    "uniform (-1,0]",
    "ramp",
    "scale per 32",
    "zero sub-block",
    "half tiny",
};

// Fills x[kExtraRows * kExtraCols]. One generator, consumed in row order;
// rows that are not random consume nothing.
inline void FillExtras(float* x) {
  SplitMix64 rng{kExtraSeed};
  auto gauss = [&rng]() { return static_cast<float>(rng.Gaussian()); };
  for (int r = 0; r < kExtraRows; ++r) {
    float* y = x + static_cast<int64_t>(r) * kExtraCols;
    for (int j = 0; j < kExtraCols; ++j) {
      float v = 0.0f;
      switch (r) {
        case 8:
          v = gauss() * 0.02f;
          break;
        case 9:
          v = gauss() * 1e-3f;
          break;
        case 10:
          v = gauss() * 30.0f;
          break;
        case 11:
          v = gauss() * 1e4f;
          break;
        case 12:
          v = 0.0f;
          break;
        case 13:
          v = -0.0f;
          break;
        case 14:
          v = 0.75f;
          break;
        case 15:
          v = -2.0f;
          break;
        case 16:
          v = 1e-6f;
          break;
        case 17:
          v = 3e3f;
          break;
        case 18:
          v = gauss();
          if (j == 100) v = 1e4f;
          if (j == 300) v = -5e3f;
          break;
        case 19:
          v = gauss() * 1e-6f;
          break;
        case 20:
          v = gauss() * 1e-12f;
          break;
        case 21:
          v = gauss() * 1e-20f;
          break;
        case 22:
          v = gauss() * 1e-37f;
          break;
        case 23:
          v = gauss() * 1e6f;
          break;
        case 24:
          v = gauss() * 3e7f;
          break;
        case 25:
          v = j % 13 == 0 ? gauss() : 0.0f;
          break;
        case 26:
          v = static_cast<float>((j * 5 + r) % 5 - 2);
          break;
        case 27:
          v = (j % 2 ? -1.0f : 1.0f) * (0.5f + 0.25f * static_cast<float>(j % 5));
          break;
        case 28:
          v = static_cast<float>(rng.Uniform());
          break;
        case 29:
          v = -static_cast<float>(rng.Uniform());
          break;
        case 30:
          v = static_cast<float>(j - kExtraCols / 2) / static_cast<float>(kExtraCols / 2);
          break;
        case 31: {
          constexpr float kScales[8] = {1e-4f, 1e-3f, 1e-2f, 1e-1f, 1.0f, 10.0f, 100.0f, 1000.0f};
          v = gauss() * kScales[(j / 32) % 8];
          break;
        }
        case 32:
          v = (j >= 64 && j < 96) ? 0.0f : gauss();
          break;
        case 33:
          v = j % 256 < 128 ? gauss() * 1e-9f : gauss();
          break;
        default:
          v = gauss();
          break;  // rows 0..7
      }
      y[j] = v;
    }
  }
}

// FNV-1a, 64-bit, of a byte run: the stored fingerprint of one output row.
inline uint64_t Fnv1a64(const uint8_t* p, int64_t n) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (int64_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace ggufkit::testing::iq_cases

#endif  // GGUFKIT_TESTS_QUANTS_IQ_QUANT_CASES_H_
