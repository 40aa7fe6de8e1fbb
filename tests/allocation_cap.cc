#include "tests/allocation_cap.h"

#include <cstdlib>
#include <new>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define VIGIL_ALLOCATION_CAP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define VIGIL_ALLOCATION_CAP 0
#endif
#endif
#ifndef VIGIL_ALLOCATION_CAP
#define VIGIL_ALLOCATION_CAP 1
#endif

namespace vigil::testing {
namespace {
constexpr size_t kNoCap = ~size_t{0};
thread_local size_t cap = kNoCap;
thread_local size_t largest = 0;
}  // namespace

AllocationCap::AllocationCap(size_t max_bytes) : previous_(cap) {
  cap = max_bytes;
  largest = 0;
}
AllocationCap::~AllocationCap() { cap = previous_; }
bool AllocationCap::active() { return VIGIL_ALLOCATION_CAP != 0; }
size_t AllocationCap::largest_request() const { return largest; }

#if VIGIL_ALLOCATION_CAP
namespace {
void* capped_alloc(size_t n) {
  if (cap != kNoCap) {
    if (n > largest) largest = n;
    if (n > cap) throw std::bad_alloc();
  }
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
}  // namespace
#endif

}  // namespace vigil::testing

#if VIGIL_ALLOCATION_CAP
// The replaceable global allocation functions the standard library's
// containers use, over malloc; so deallocation is free.
void* operator new(size_t n) { return vigil::testing::capped_alloc(n); }
void* operator new[](size_t n) { return vigil::testing::capped_alloc(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
#endif
