#include "tests/common/hostile_groups.h"

#include <limits>

namespace ggufkit::testing {

std::vector<float> HostileKvGroups(int64_t n_groups, std::mt19937& rng) {
  std::normal_distribution<float> normal;
  std::vector<float> x(static_cast<size_t>(n_groups) * 128);
  for (int64_t g = 0; g < n_groups; ++g) {
    float* v = x.data() + g * 128;
    const int kind = static_cast<int>(g % 12);
    for (int i = 0; i < 128; ++i) {
      const float r = normal(rng);
      switch (kind) {
        case 0:
          v[i] = 0.0f;
          break;
        case 1:
          v[i] = (i % 2) ? -0.0f : 0.0f;
          break;
        case 2:
          v[i] = r * 1e-30f;
          break;
        case 3:
          v[i] = r * 1e-42f;  // subnormal
          break;
        case 4:
          v[i] = r * 1e19f;  // squares overflow
          break;
        case 5:
          v[i] = i == 5 ? std::numeric_limits<float>::infinity() : r;
          break;
        case 6:
          v[i] = i == 77 ? std::numeric_limits<float>::quiet_NaN() : r;
          break;
        case 7:
          v[i] = 0.75f;
          break;
        case 8:
          v[i] = i == 0 ? 1.0f : 0.0f;  // one spike: all rotated values equal
          break;
        case 9:
          v[i] = r * 60000.0f;  // fp16 norm overflow
          break;
        default:
          v[i] = r;
          break;
      }
    }
  }
  return x;
}

}  // namespace ggufkit::testing
