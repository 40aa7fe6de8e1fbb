#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil::templates {

// How much native stack a recursive walk has used since it started. Parsing
// and executing count their nesting levels too, but the bytes a level costs
// differ between builds (sanitizers and debug builds use several times more),
// so both also stop when this budget is spent: whatever the build, a deep
// template ends in an error, never a stack overflow.
class StackBudget {
 public:
  // The defaults leave a 8 MiB thread (Linux's default) most of its stack.
  explicit StackBudget(size_t bytes = 2u << 20)
      : base_(reinterpret_cast<uintptr_t>(__builtin_frame_address(0))), bytes_(bytes) {}

  // Call from the deepest frame; stacks grow down on every platform vigil runs on.
  [[gnu::noinline]] bool exceeded() const {
    auto here = reinterpret_cast<uintptr_t>(__builtin_frame_address(0));
    return here < base_ && base_ - here > bytes_;
  }

 private:
  uintptr_t base_;
  size_t bytes_;
};

}  // namespace vigil::templates
