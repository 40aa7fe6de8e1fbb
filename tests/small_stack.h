#pragma once

// Runs a function on a new thread with a stack of the given size and waits
// for it: to show that a recursive reader stops with its error, rather than
// overflowing, on a stack smaller than the one its level limits were
// measured on.

#include <pthread.h>

#include <cstddef>
#include <functional>
#include <stdexcept>

namespace vigil::testing {

inline void run_on_stack(size_t bytes, std::function<void()> fn) {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, bytes);
  pthread_t t;
  auto body = [](void* arg) -> void* {
    (*static_cast<std::function<void()>*>(arg))();
    return nullptr;
  };
  int rc = pthread_create(&t, &attr, body, &fn);
  pthread_attr_destroy(&attr);
  if (rc != 0) throw std::runtime_error("pthread_create failed");
  pthread_join(t, nullptr);
}

}  // namespace vigil::testing
