#include "tests/stream/counting_allocator.h"
#include "tests/common/test_data.h"

#include <malloc.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <new>

#if defined(GGUFKIT_TESTING_UNDER_ASAN)

namespace ggufkit::stream::testing {
bool HeapCountingActive() { return false; }
int64_t HeapBytesInUse() { return 0; }
int64_t HeapPeakBytes() { return 0; }
void ResetHeapPeak() {}
}  // namespace ggufkit::stream::testing

#else

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
void* __libc_memalign(size_t, size_t);
}

namespace {

std::atomic<int64_t> g_in_use{0};
std::atomic<int64_t> g_peak{0};

void* Count(void* p) {
  if (p != nullptr) {
    const int64_t now =
        g_in_use.fetch_add(static_cast<int64_t>(malloc_usable_size(p))) +
        static_cast<int64_t>(malloc_usable_size(p));
    int64_t peak = g_peak.load(std::memory_order_relaxed);
    while (now > peak && !g_peak.compare_exchange_weak(peak, now)) {
    }
  }
  return p;
}

void Uncount(void* p) {
  if (p != nullptr) g_in_use.fetch_sub(static_cast<int64_t>(malloc_usable_size(p)));
}

}  // namespace

extern "C" {

void* malloc(size_t n) { return Count(__libc_malloc(n)); }
void* calloc(size_t n, size_t size) { return Count(__libc_calloc(n, size)); }
void free(void* p) {
  Uncount(p);
  __libc_free(p);
}
void* realloc(void* p, size_t n) {
  // Counted as free + malloc: the peak includes both blocks only if glibc
  // really moves the data, which the usable-size accounting cannot see; the
  // streaming code never calls realloc on big blocks.
  Uncount(p);
  return Count(__libc_realloc(p, n));
}
void* memalign(size_t alignment, size_t n) { return Count(__libc_memalign(alignment, n)); }
void* aligned_alloc(size_t alignment, size_t n) { return Count(__libc_memalign(alignment, n)); }
void* valloc(size_t n) { return Count(__libc_memalign(4096, n)); }
void* pvalloc(size_t n) { return Count(__libc_memalign(4096, (n + 4095) / 4096 * 4096)); }
int posix_memalign(void** out, size_t alignment, size_t n) {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  void* p = Count(__libc_memalign(alignment, n));
  if (p == nullptr && n != 0) return ENOMEM;
  *out = p;
  return 0;
}

}  // extern "C"

// operator new / delete go through the counted malloc / free.
void* operator new(size_t n) {
  void* p = malloc(n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n) { return operator new(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept { return malloc(n == 0 ? 1 : n); }
void* operator new[](size_t n, const std::nothrow_t&) noexcept { return malloc(n == 0 ? 1 : n); }
void* operator new(size_t n, std::align_val_t a) {
  void* p = memalign(static_cast<size_t>(a), n == 0 ? 1 : n);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
void* operator new[](size_t n, std::align_val_t a) { return operator new(n, a); }
void operator delete(void* p) noexcept { free(p); }
void operator delete[](void* p) noexcept { free(p); }
void operator delete(void* p, size_t) noexcept { free(p); }
void operator delete[](void* p, size_t) noexcept { free(p); }
void operator delete(void* p, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { free(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { free(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { free(p); }

namespace ggufkit::stream::testing {
bool HeapCountingActive() { return true; }
int64_t HeapBytesInUse() { return g_in_use.load(); }
int64_t HeapPeakBytes() { return g_peak.load(); }
void ResetHeapPeak() { g_peak.store(g_in_use.load()); }
}  // namespace ggufkit::stream::testing

#endif
