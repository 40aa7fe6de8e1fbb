#include "promql/ast.h"

#include <algorithm>
#include <cmath>

namespace vigil::promql {

std::string_view value_type_name(ValueType t) {
  switch (t) {
    case ValueType::kNone: return "none";
    case ValueType::kScalar: return "scalar";
    case ValueType::kVector: return "vector";
    case ValueType::kMatrix: return "matrix";
    case ValueType::kString: return "string";
  }
  return "none";
}

std::string_view documented_type_name(ValueType t) {
  switch (t) {
    case ValueType::kVector: return "instant vector";
    case ValueType::kMatrix: return "range vector";
    default: return value_type_name(t);
  }
}

std::string_view binary_op_string(BinaryOp op) {
  static constexpr std::string_view names[] = {"+",  "-", "*",  "/",  "%",  "^",   "atan2", "==",  "!=",
                                               ">",  "<", ">=", "<=", "</", ">/", "and",   "or", "unless"};
  return names[static_cast<int>(op)];
}

bool is_comparison(BinaryOp op) {
  switch (op) {
    case BinaryOp::kEql: case BinaryOp::kNeq: case BinaryOp::kGtr:
    case BinaryOp::kLss: case BinaryOp::kGte: case BinaryOp::kLte:
      return true;
    default: return false;
  }
}

bool is_set_operator(BinaryOp op) {
  return op == BinaryOp::kAnd || op == BinaryOp::kOr || op == BinaryOp::kUnless;
}

std::string_view aggregate_op_string(AggregateOp op) {
  static constexpr std::string_view names[] = {"sum",  "avg",     "count",        "min",      "max",
                                               "group", "stddev", "stdvar",       "topk",     "bottomk",
                                               "count_values",    "quantile",     "limitk",   "limit_ratio"};
  return names[static_cast<int>(op)];
}

bool takes_parameter(AggregateOp op) {
  switch (op) {
    case AggregateOp::kTopk: case AggregateOp::kBottomk: case AggregateOp::kCountValues:
    case AggregateOp::kQuantile: case AggregateOp::kLimitk: case AggregateOp::kLimitRatio:
      return true;
    default: return false;
  }
}

namespace {

bool same_number(double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); }

bool equal_ptr(const Expr* a, const Expr* b) {
  if (!a || !b) return a == b;
  return equal(*a, *b);
}

// Matcher order carries no meaning (the printer sorts them), so compare as sets.
bool same_matchers(const std::vector<Matcher>& a, const std::vector<Matcher>& b) {
  if (a.size() != b.size()) return false;
  auto keys = [](const std::vector<Matcher>& ms) {
    std::vector<std::string> k;
    k.reserve(ms.size());
    for (const auto& m : ms) k.push_back(m.to_string());
    std::sort(k.begin(), k.end());
    return k;
  };
  return keys(a) == keys(b);
}

bool equal_mods(const TimeModifiers& a, const TimeModifiers& b) {
  return a.offset == b.offset && equal_ptr(a.offset_expr.get(), b.offset_expr.get()) && a.at == b.at &&
         a.at_timestamp == b.at_timestamp;
}

bool equal_matching(const std::optional<VectorMatching>& a, const std::optional<VectorMatching>& b) {
  if (!a || !b) return a.has_value() == b.has_value();
  auto same_fill = [](const std::optional<double>& x, const std::optional<double>& y) {
    return x.has_value() == y.has_value() && (!x || same_number(*x, *y));
  };
  return a->card == b->card && a->matching_labels == b->matching_labels && a->on == b->on &&
         a->include == b->include && same_fill(a->fill_lhs, b->fill_lhs) && same_fill(a->fill_rhs, b->fill_rhs);
}

}  // namespace

const Expr& unwrap_parens(const Expr& e) {
  const Expr* p = &e;
  while (auto* paren = as<ParenExpr>(p)) p = paren->expr.get();
  return *p;
}

std::string_view metric_name(const VectorSelector& vs) {
  if (!vs.name.empty()) return vs.name;
  for (const auto& m : vs.matchers) {
    if (m.name() == "__name__" && m.type() == MatchType::kEqual) return m.value();
  }
  return {};
}

namespace {
void collect_selectors(const Expr& e, std::vector<const VectorSelector*>& out) {
  if (auto* vs = as<VectorSelector>(&e)) out.push_back(vs);
  for_each_child(e, [&out](const Expr& c) { collect_selectors(c, out); });
}
}  // namespace

std::vector<const VectorSelector*> vector_selectors(const Expr& e) {
  std::vector<const VectorSelector*> out;
  collect_selectors(e, out);
  return out;
}

bool equal(const Expr& a, const Expr& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case ExprKind::kNumberLiteral: {
      auto &x = static_cast<const NumberLiteral&>(a), &y = static_cast<const NumberLiteral&>(b);
      return same_number(x.value, y.value) && x.duration == y.duration;
    }
    case ExprKind::kStringLiteral:
      return static_cast<const StringLiteral&>(a).value == static_cast<const StringLiteral&>(b).value;
    case ExprKind::kVectorSelector: {
      auto &x = static_cast<const VectorSelector&>(a), &y = static_cast<const VectorSelector&>(b);
      return x.name == y.name && same_matchers(x.matchers, y.matchers) && equal_mods(x.mods, y.mods) &&
             x.anchored == y.anchored && x.smoothed == y.smoothed;
    }
    case ExprKind::kMatrixSelector: {
      auto &x = static_cast<const MatrixSelector&>(a), &y = static_cast<const MatrixSelector&>(b);
      return equal(*x.selector, *y.selector) && x.range == y.range &&
             equal_ptr(x.range_expr.get(), y.range_expr.get());
    }
    case ExprKind::kSubquery: {
      auto &x = static_cast<const SubqueryExpr&>(a), &y = static_cast<const SubqueryExpr&>(b);
      return equal(*x.expr, *y.expr) && x.range == y.range && equal_ptr(x.range_expr.get(), y.range_expr.get()) &&
             x.step == y.step && equal_ptr(x.step_expr.get(), y.step_expr.get()) && equal_mods(x.mods, y.mods);
    }
    case ExprKind::kAggregate: {
      auto &x = static_cast<const AggregateExpr&>(a), &y = static_cast<const AggregateExpr&>(b);
      return x.op == y.op && equal(*x.expr, *y.expr) && equal_ptr(x.param.get(), y.param.get()) &&
             x.grouping == y.grouping && x.without == y.without;
    }
    case ExprKind::kBinary: {
      auto &x = static_cast<const BinaryExpr&>(a), &y = static_cast<const BinaryExpr&>(b);
      return x.op == y.op && x.return_bool == y.return_bool && equal_matching(x.matching, y.matching) &&
             equal(*x.lhs, *y.lhs) && equal(*x.rhs, *y.rhs);
    }
    case ExprKind::kUnary: {
      auto &x = static_cast<const UnaryExpr&>(a), &y = static_cast<const UnaryExpr&>(b);
      return x.op == y.op && equal(*x.expr, *y.expr);
    }
    case ExprKind::kParen:
      return equal(*static_cast<const ParenExpr&>(a).expr, *static_cast<const ParenExpr&>(b).expr);
    case ExprKind::kCall: {
      auto &x = static_cast<const Call&>(a), &y = static_cast<const Call&>(b);
      if (x.func != y.func || x.args.size() != y.args.size()) return false;
      for (size_t i = 0; i < x.args.size(); ++i)
        if (!equal(*x.args[i], *y.args[i])) return false;
      return true;
    }
    case ExprKind::kDuration: {
      auto &x = static_cast<const DurationExpr&>(a), &y = static_cast<const DurationExpr&>(b);
      return x.op == y.op && x.wrapped == y.wrapped && equal_ptr(x.lhs.get(), y.lhs.get()) &&
             equal_ptr(x.rhs.get(), y.rhs.get());
    }
  }
  return false;
}

}  // namespace vigil::promql
