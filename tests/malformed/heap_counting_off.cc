// Stand-in for tests/stream/counting_allocator.cc in sanitizer builds: ASan
// owns malloc there, so the heap is not counted and the heap tests skip.
// (counting_allocator.cc only detects GCC's __SANITIZE_ADDRESS__; under
// clang + ASan linking it would replace ASan's malloc and crash at start-up.)
#include "tests/stream/counting_allocator.h"

namespace ggufkit::stream::testing {
bool HeapCountingActive() { return false; }
int64_t HeapBytesInUse() { return 0; }
int64_t HeapPeakBytes() { return 0; }
void ResetHeapPeak() {}
}  // namespace ggufkit::stream::testing
