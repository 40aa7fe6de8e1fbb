#pragma once

// Internal to promql/: how the parser's stages report an error.

#include <string>

namespace vigil::promql {

// A parse error: upstream's message and the byte offset it points at. Thrown
// inside the parser and turned into an Error at the boundary; upstream reports
// only its first error, and so do we.
struct Failure {
  std::string message;
  int pos;
};

[[noreturn]] inline void raise(int pos, std::string message) { throw Failure{std::move(message), pos}; }

}  // namespace vigil::promql
