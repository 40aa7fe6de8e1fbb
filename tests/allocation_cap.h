#pragma once

// Caps the size of any single allocation made through operator new on the
// calling thread while an AllocationCap is alive: a larger request throws
// std::bad_alloc instead of being served. Tests use it to show that code
// refuses oversized work before allocating for it, without the machine
// having to survive the allocation when it does not.
//
// Sanitizer builds keep their own allocator (the cap is then not enforced
// and active() is false).

#include <cstddef>

namespace vigil::testing {

class AllocationCap {
 public:
  explicit AllocationCap(size_t max_bytes);
  ~AllocationCap();
  AllocationCap(const AllocationCap&) = delete;
  AllocationCap& operator=(const AllocationCap&) = delete;

  // Whether this build enforces caps.
  static bool active();
  // The largest single request refused or served under a cap on this thread
  // since the cap was set.
  size_t largest_request() const;

 private:
  size_t previous_;
};

}  // namespace vigil::testing
