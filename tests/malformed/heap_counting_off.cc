// Stand-in for tests/stream/counting_allocator.cc in sanitizer builds: ASan
// owns malloc there, so the heap is not counted and the heap tests skip.
// (counting_allocator.cc also turns itself off under ASan, GCC's or clang's,
// via GGUFKIT_TESTING_UNDER_ASAN.)
#include "tests/stream/counting_allocator.h"

namespace ggufkit::stream::testing {
bool HeapCountingActive() { return false; }
int64_t HeapBytesInUse() { return 0; }
int64_t HeapPeakBytes() { return 0; }
void ResetHeapPeak() {}
}  // namespace ggufkit::stream::testing
