#pragma once

#include <memory>

namespace vigil::promql {

// Placeholder: the full AST lands with the parser.
struct Expr {
  virtual ~Expr() = default;
};
using ExprPtr = std::unique_ptr<Expr>;

}  // namespace vigil::promql
