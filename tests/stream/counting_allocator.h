// A counting allocator for heap-budget tests: the test executable that links
// counting_allocator.cc replaces malloc / calloc / realloc / free / memalign /
// posix_memalign / aligned_alloc / valloc and operator new / delete, forwarding
// to glibc's __libc_* functions and keeping the bytes currently allocated
// (malloc_usable_size) and their high-water mark.
// Not available under AddressSanitizer (it replaces the same functions).
#ifndef GGUFKIT_TESTS_STREAM_COUNTING_ALLOCATOR_H_
#define GGUFKIT_TESTS_STREAM_COUNTING_ALLOCATOR_H_

#include <cstdint>

namespace ggufkit::stream::testing {

// True when the counting allocator is linked in and active.
bool HeapCountingActive();
int64_t HeapBytesInUse();
int64_t HeapPeakBytes();
// Sets the high-water mark to the bytes in use now.
void ResetHeapPeak();

}  // namespace ggufkit::stream::testing

#endif  // GGUFKIT_TESTS_STREAM_COUNTING_ALLOCATOR_H_
