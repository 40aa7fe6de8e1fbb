#include "model/stack.h"

#include <pthread.h>

#include <cstdint>

namespace vigil {

namespace {

// The lowest usable address of this thread's stack. For the main thread
// glibc derives it from RLIMIT_STACK, for other threads it is the start of
// the mapping they were created with (the guard page lies below it).
uintptr_t stack_low_end() {
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return 0;
  void* addr = nullptr;
  size_t size = 0;
  int rc = pthread_attr_getstack(&attr, &addr, &size);
  pthread_attr_destroy(&attr);
  return rc == 0 ? reinterpret_cast<uintptr_t>(addr) : 0;
}

}  // namespace

[[gnu::noinline]] size_t stack_remaining() {
  thread_local const uintptr_t low = stack_low_end();
  // The frame's address, not a local's: sanitizers may keep locals on a
  // separate heap-allocated stack.
  auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
  if (low == 0) return SIZE_MAX;  // unknown: the readers' level counts still bound them
  return here > low ? here - low : 0;
}

}  // namespace vigil
