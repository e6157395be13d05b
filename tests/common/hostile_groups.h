// Hostile 128-element KV groups shared by the KV codec tests.
#ifndef GGUFKIT_TESTS_COMMON_HOSTILE_GROUPS_H_
#define GGUFKIT_TESTS_COMMON_HOSTILE_GROUPS_H_

#include <cstdint>
#include <random>
#include <vector>

namespace ggufkit::testing {

// n_groups groups of 128 floats; group g is of kind g % 12: zeros, +-0.0,
// tiny (1e-30), subnormal, huge (squares overflow), one inf, one NaN, a
// constant, one spike (every rotated value equal), fp16-norm overflow, and
// two of plain N(0,1). One normal draw per element, group after group.
std::vector<float> HostileKvGroups(int64_t n_groups, std::mt19937& rng);

}  // namespace ggufkit::testing

#endif  // GGUFKIT_TESTS_COMMON_HOSTILE_GROUPS_H_
