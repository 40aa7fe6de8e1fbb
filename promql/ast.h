#pragma once

// The PromQL syntax tree the parser produces and the engine evaluates.
//
// Nodes own their children (std::unique_ptr). Every node knows its value type
// and the byte range of the input it came from, so the engine can point at the
// part of a query that failed. Durations and timestamps are milliseconds.
//
// Walking a tree: switch on Expr::kind and downcast with as<T>(), e.g.
//   if (auto* call = as<Call>(e)) for (auto& arg : call->args) walk(arg.get());
// Trees from parse_expr are at most ParseOptions::max_depth deep, so
// recursive walks are safe.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/duration.h"
#include "model/matcher.h"

namespace vigil::promql {

struct Function;

enum class ValueType { kNone, kScalar, kVector, kMatrix, kString };

// Upstream's internal names: "none", "scalar", "vector", "matrix", "string".
std::string_view value_type_name(ValueType t);
// Names used in user-facing type errors: "instant vector", "range vector", ...
std::string_view documented_type_name(ValueType t);

// Half-open byte range [start, end) of the input.
struct PosRange {
  int start = 0;
  int end = 0;
};

enum class BinaryOp {
  kAdd, kSub, kMul, kDiv, kMod, kPow, kAtan2,
  kEql, kNeq, kGtr, kLss, kGte, kLte,
  kTrimUpper,  // "</": clamps the left side's upper bound to the right side
  kTrimLower,  // ">/"
  kAnd, kOr, kUnless,
};
std::string_view binary_op_string(BinaryOp op);
bool is_comparison(BinaryOp op);
bool is_set_operator(BinaryOp op);

enum class AggregateOp {
  kSum, kAvg, kCount, kMin, kMax, kGroup, kStddev, kStdvar,
  kTopk, kBottomk, kCountValues, kQuantile, kLimitk, kLimitRatio,
};
std::string_view aggregate_op_string(AggregateOp op);
// topk, bottomk, count_values, quantile, limitk, limit_ratio take a parameter first.
bool takes_parameter(AggregateOp op);

enum class UnaryOp { kAdd, kSub };

// Where an @ modifier pins evaluation: a fixed timestamp, or the query's
// start or end (resolved by the engine).
enum class AtKind { kNone, kTimestamp, kStart, kEnd };

enum class ExprKind {
  kNumberLiteral, kStringLiteral, kVectorSelector, kMatrixSelector, kSubquery,
  kAggregate, kBinary, kUnary, kParen, kCall, kDuration,
};

struct Expr {
  explicit Expr(ExprKind k) : kind(k) {}
  virtual ~Expr() = default;
  virtual ValueType type() const = 0;

  const ExprKind kind;
  PosRange pos;
  // Nodes on the longest path down from here, this one included. The parser
  // bounds it (ParseOptions::max_depth) so recursive walks cannot overflow.
  int height = 1;
};
using ExprPtr = std::unique_ptr<Expr>;

// Calls fn(const Expr&) for each direct child, in source order (including
// duration expressions in ranges and offsets).
template <typename Fn>
void for_each_child(const Expr& e, Fn&& fn);

struct NumberLiteral final : Expr {
  NumberLiteral() : Expr(ExprKind::kNumberLiteral) {}
  ValueType type() const override { return ValueType::kScalar; }
  double value = 0;
  // Written as a duration ("5m"); value is then in seconds. Printed back as one.
  bool duration = false;
};

struct StringLiteral final : Expr {
  StringLiteral() : Expr(ExprKind::kStringLiteral) {}
  ValueType type() const override { return ValueType::kString; }
  std::string value;  // unquoted
};

// Arithmetic over durations inside [...] and after offset (experimental
// duration expressions). Evaluates to seconds; step() and range() are the
// query's step and range.
enum class DurationOp { kAdd, kSub, kMul, kDiv, kMod, kPow, kStep, kRange, kMinOf, kMaxOf };

struct DurationExpr final : Expr {
  DurationExpr() : Expr(ExprKind::kDuration) {}
  ValueType type() const override { return ValueType::kScalar; }
  DurationOp op = DurationOp::kAdd;
  // Unary + and - have no lhs. step()/range() have neither.
  ExprPtr lhs, rhs;
  bool wrapped = false;  // written in parentheses
};

// The time modifiers shared by selectors and subqueries.
struct TimeModifiers {
  Millis offset = 0;
  std::unique_ptr<DurationExpr> offset_expr;  // set instead of offset when computed
  AtKind at = AtKind::kNone;
  Millis at_timestamp = 0;  // when at == kTimestamp
};

struct VectorSelector final : Expr {
  VectorSelector() : Expr(ExprKind::kVectorSelector) {}
  ValueType type() const override { return ValueType::kVector; }
  // Empty when the name is only given as a matcher ({"name"} or {__name__=...}).
  std::string name;
  // All matchers, including __name__="name" (last) when name is set.
  std::vector<Matcher> matchers;
  TimeModifiers mods;
  // Extended range selectors (experimental).
  bool anchored = false;
  bool smoothed = false;
  // info()'s second argument may consist of empty-matching matchers only.
  bool bypass_empty_matcher_check = false;
};

struct MatrixSelector final : Expr {
  MatrixSelector() : Expr(ExprKind::kMatrixSelector) {}
  ValueType type() const override { return ValueType::kMatrix; }
  // Offset, @, anchored and smoothed are kept on the vector selector.
  std::unique_ptr<VectorSelector> selector;
  Millis range = 0;
  std::unique_ptr<DurationExpr> range_expr;
};

struct SubqueryExpr final : Expr {
  SubqueryExpr() : Expr(ExprKind::kSubquery) {}
  ValueType type() const override { return ValueType::kMatrix; }
  ExprPtr expr;
  Millis range = 0;
  std::unique_ptr<DurationExpr> range_expr;
  Millis step = 0;  // 0: the engine's default evaluation interval
  std::unique_ptr<DurationExpr> step_expr;
  TimeModifiers mods;
};

struct AggregateExpr final : Expr {
  AggregateExpr() : Expr(ExprKind::kAggregate) {}
  ValueType type() const override { return ValueType::kVector; }
  AggregateOp op = AggregateOp::kSum;
  ExprPtr expr;
  ExprPtr param;  // only for ops that take_parameter
  std::vector<std::string> grouping;
  bool without = false;
};

enum class Cardinality { kOneToOne, kManyToOne, kOneToMany, kManyToMany };

// How the series of two instant vectors are paired.
struct VectorMatching {
  Cardinality card = Cardinality::kOneToOne;
  std::vector<std::string> matching_labels;
  bool on = false;  // matching_labels are on(...) rather than ignoring(...)
  // group_left/group_right extra labels taken from the "one" side.
  std::vector<std::string> include;
  // fill()/fill_left()/fill_right(): value used for a missing side (experimental).
  std::optional<double> fill_lhs, fill_rhs;
};

struct BinaryExpr final : Expr {
  BinaryExpr() : Expr(ExprKind::kBinary) {}
  ValueType type() const override {
    return lhs->type() == ValueType::kScalar && rhs->type() == ValueType::kScalar
               ? ValueType::kScalar
               : ValueType::kVector;
  }
  BinaryOp op = BinaryOp::kAdd;
  ExprPtr lhs, rhs;
  bool return_bool = false;
  // Present only when both sides are instant vectors.
  std::optional<VectorMatching> matching;
};

struct UnaryExpr final : Expr {
  UnaryExpr() : Expr(ExprKind::kUnary) {}
  ValueType type() const override { return expr->type(); }
  UnaryOp op = UnaryOp::kSub;
  ExprPtr expr;
};

struct ParenExpr final : Expr {
  ParenExpr() : Expr(ExprKind::kParen) {}
  ValueType type() const override { return expr->type(); }
  ExprPtr expr;
};

struct Call final : Expr {
  Call() : Expr(ExprKind::kCall) {}
  ValueType type() const override;
  const Function* func = nullptr;  // points into the static function table
  std::vector<ExprPtr> args;
};

// Checked downcast helper: `if (auto* vs = as<VectorSelector>(e)) ...`.
template <typename T>
T* as(Expr* e);
template <typename T>
const T* as(const Expr* e);

#define VIGIL_PROMQL_AS(T, K)                                                           \
  template <>                                                                           \
  inline T* as<T>(Expr * e) { return e && e->kind == ExprKind::K ? static_cast<T*>(e) : nullptr; } \
  template <>                                                                           \
  inline const T* as<T>(const Expr* e) {                                                \
    return e && e->kind == ExprKind::K ? static_cast<const T*>(e) : nullptr;            \
  }
VIGIL_PROMQL_AS(NumberLiteral, kNumberLiteral)
VIGIL_PROMQL_AS(StringLiteral, kStringLiteral)
VIGIL_PROMQL_AS(VectorSelector, kVectorSelector)
VIGIL_PROMQL_AS(MatrixSelector, kMatrixSelector)
VIGIL_PROMQL_AS(SubqueryExpr, kSubquery)
VIGIL_PROMQL_AS(AggregateExpr, kAggregate)
VIGIL_PROMQL_AS(BinaryExpr, kBinary)
VIGIL_PROMQL_AS(UnaryExpr, kUnary)
VIGIL_PROMQL_AS(ParenExpr, kParen)
VIGIL_PROMQL_AS(Call, kCall)
VIGIL_PROMQL_AS(DurationExpr, kDuration)
#undef VIGIL_PROMQL_AS

template <typename Fn>
void for_each_child(const Expr& e, Fn&& fn) {
  auto visit = [&](const Expr* c) {
    if (c) fn(*c);
  };
  switch (e.kind) {
    case ExprKind::kNumberLiteral:
    case ExprKind::kStringLiteral:
      break;
    case ExprKind::kVectorSelector:
      visit(static_cast<const VectorSelector&>(e).mods.offset_expr.get());
      break;
    case ExprKind::kMatrixSelector: {
      const auto& m = static_cast<const MatrixSelector&>(e);
      visit(m.selector.get());
      visit(m.range_expr.get());
      break;
    }
    case ExprKind::kSubquery: {
      const auto& s = static_cast<const SubqueryExpr&>(e);
      visit(s.expr.get());
      visit(s.range_expr.get());
      visit(s.step_expr.get());
      visit(s.mods.offset_expr.get());
      break;
    }
    case ExprKind::kAggregate: {
      const auto& a = static_cast<const AggregateExpr&>(e);
      visit(a.param.get());
      visit(a.expr.get());
      break;
    }
    case ExprKind::kBinary: {
      const auto& b = static_cast<const BinaryExpr&>(e);
      visit(b.lhs.get());
      visit(b.rhs.get());
      break;
    }
    case ExprKind::kUnary: visit(static_cast<const UnaryExpr&>(e).expr.get()); break;
    case ExprKind::kParen: visit(static_cast<const ParenExpr&>(e).expr.get()); break;
    case ExprKind::kCall:
      for (const auto& a : static_cast<const Call&>(e).args) visit(a.get());
      break;
    case ExprKind::kDuration: {
      const auto& d = static_cast<const DurationExpr&>(e);
      visit(d.lhs.get());
      visit(d.rhs.get());
      break;
    }
  }
}

// The first expression under any parentheses.
const Expr& unwrap_parens(const Expr& e);

// The metric name a selector asks for by equality (its name, or an =
// matcher on __name__), or "" when it asks for none.
std::string_view metric_name(const VectorSelector& vs);

// Every vector selector in the tree (those of range selectors included), in
// source order.
std::vector<const VectorSelector*> vector_selectors(const Expr& e);

// Structural equality: same node kinds, operators, values, matchers and
// modifiers. Positions and the order of matchers are ignored, so a printed
// and re-parsed tree compares equal to the original.
bool equal(const Expr& a, const Expr& b);

}  // namespace vigil::promql
