#pragma once

// Runs a function on a new thread with a stack of exactly the given size
// (and a guard page below it) and waits for it: to show that a recursive
// reader stops with its error, rather than overflowing, on a stack smaller
// than the one its level limits were measured on. The stack is mapped here
// rather than sized through the attributes, which glibc may satisfy with a
// larger cached stack.

#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <functional>
#include <stdexcept>

namespace vigil::testing {

// glibc puts a thread's static TLS at the top of a stack it is given, and
// ThreadSanitizer's per-thread state (about 0.9 MiB) lives there: under
// TSan this much is added, so that about `bytes` stay for frames.
#if defined(__SANITIZE_THREAD__)
inline constexpr size_t kStackExtra = size_t{1} << 20;
#else
inline constexpr size_t kStackExtra = 0;
#endif

inline void run_on_stack(size_t bytes, std::function<void()> fn) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  bytes += kStackExtra;
  bytes = (bytes + page - 1) / page * page;
  void* map = ::mmap(nullptr, bytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (map == MAP_FAILED) throw std::runtime_error("mmap failed");
  ::mprotect(map, page, PROT_NONE);  // an overflow faults instead of writing below
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstack(&attr, static_cast<char*>(map) + page, bytes);
  pthread_t t;
  auto body = [](void* arg) -> void* {
    (*static_cast<std::function<void()>*>(arg))();
    return nullptr;
  };
  int rc = pthread_create(&t, &attr, body, &fn);
  pthread_attr_destroy(&attr);
  if (rc == 0) pthread_join(t, nullptr);
  ::munmap(map, bytes + page);
  if (rc != 0) throw std::runtime_error("pthread_create failed");
}

}  // namespace vigil::testing
