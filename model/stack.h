#pragma once

// How much native stack the calling thread has left. Recursive readers of
// untrusted input (the PromQL parser, the template parser and executor)
// count nesting levels, but what a level costs in bytes depends on the
// compiler, its flags (sanitizers make frames several times larger) and the
// thread's stack size; so they also stop, with their "nested too deeply"
// error, once less than kStackMargin is left. Whatever the build and the
// thread, deep input then ends in an error, never a stack overflow.

#include <cstddef>

namespace vigil {

// What a recursive reader leaves for the frames below its last check: the
// error path (formatting, allocation, unwinding) and a sanitizer's larger
// frames fit in it many times over.
inline constexpr size_t kStackMargin = 256 * 1024;

// Bytes between the caller's frame and the lowest address of its thread's
// stack (read once per thread). Stacks grow down on every platform vigil
// runs on.
size_t stack_remaining();

// Whether fewer than `margin` bytes of stack are left.
inline bool stack_low(size_t margin = kStackMargin) { return stack_remaining() < margin; }

}  // namespace vigil
