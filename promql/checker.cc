#include "promql/checker.h"

#include <fmt/format.h>

#include "model/names.h"
#include "promql/failure.h"
#include "promql/functions.h"

namespace vigil::promql {

namespace {

class Checker {
 public:
  explicit Checker(std::string_view input) : in_(input) {}

  ValueType check(Expr& node) {
    switch (node.kind) {
      case ExprKind::kAggregate: {
        auto& n = static_cast<AggregateExpr&>(node);
        expect_type(*n.expr, ValueType::kVector, "aggregation expression");
        switch (n.op) {
          case AggregateOp::kTopk: case AggregateOp::kBottomk: case AggregateOp::kQuantile:
          case AggregateOp::kLimitk: case AggregateOp::kLimitRatio:
            expect_type(*n.param, ValueType::kScalar, "aggregation parameter");
            break;
          case AggregateOp::kCountValues:
            expect_type(*n.param, ValueType::kString, "aggregation parameter");
            break;
          default: break;
        }
        break;
      }
      case ExprKind::kBinary: check_binary(static_cast<BinaryExpr&>(node)); break;
      case ExprKind::kCall: check_call(static_cast<Call&>(node)); break;
      case ExprKind::kParen: check(*static_cast<ParenExpr&>(node).expr); break;
      case ExprKind::kUnary: {
        auto& n = static_cast<UnaryExpr&>(node);
        ValueType t = check(*n.expr);
        if (t != ValueType::kScalar && t != ValueType::kVector)
          raise(n.pos.start, fmt::format("unary expression only allowed on expressions of type scalar or "
                                         "instant vector, got {}",
                                         go_quote(documented_type_name(t))));
        break;
      }
      case ExprKind::kSubquery: {
        auto& n = static_cast<SubqueryExpr&>(node);
        ValueType t = check(*n.expr);
        if (t != ValueType::kVector)
          raise(n.pos.start, fmt::format("subquery is only allowed on instant vector, got {} instead",
                                         value_type_name(t)));
        break;
      }
      case ExprKind::kMatrixSelector: check(*static_cast<MatrixSelector&>(node).selector); break;
      case ExprKind::kVectorSelector: check_selector(static_cast<VectorSelector&>(node)); break;
      default: break;
    }
    return node.type();
  }

 private:
  void expect_type(Expr& e, ValueType want, std::string_view context) {
    ValueType t = check(e);
    if (t != want)
      raise(e.pos.start, fmt::format("expected type {} in {}, got {}", documented_type_name(want), context,
                                     documented_type_name(t)));
  }

  // The operator's own position: between the operands, spaces trimmed.
  int operator_pos(const BinaryExpr& n) {
    int p = n.lhs->pos.end;
    while (p < static_cast<int>(in_.size()) && std::string_view(" \t\n\r").find(in_[p]) != std::string_view::npos) ++p;
    return p;
  }

  void check_binary(BinaryExpr& n) {
    ValueType lt = check(*n.lhs);
    ValueType rt = check(*n.rhs);
    if (n.return_bool && !is_comparison(n.op))
      raise(operator_pos(n), "bool modifier can only be used on comparison operators");
    if (is_comparison(n.op) && !n.return_bool && lt == ValueType::kScalar && rt == ValueType::kScalar)
      raise(operator_pos(n), "comparisons between scalars must use BOOL modifier");
    VectorMatching& vm = *n.matching;
    if (is_set_operator(n.op) && vm.card == Cardinality::kOneToOne) vm.card = Cardinality::kManyToMany;
    if (vm.on)
      for (const auto& l1 : vm.matching_labels)
        for (const auto& l2 : vm.include)
          if (l1 == l2)
            raise(operator_pos(n), fmt::format("label {} must not occur in ON and GROUP clause at once", go_quote(l1)));
    if (lt != ValueType::kScalar && lt != ValueType::kVector)
      raise(n.lhs->pos.start, "binary expression must contain only scalar and instant vector types");
    if (rt != ValueType::kScalar && rt != ValueType::kVector)
      raise(n.rhs->pos.start, "binary expression must contain only scalar and instant vector types");
    bool filled = vm.fill_lhs || vm.fill_rhs;
    if (lt != ValueType::kVector || rt != ValueType::kVector) {
      if (!vm.matching_labels.empty()) raise(n.pos.start, "vector matching only allowed between instant vectors");
      if (filled) raise(n.pos.start, "filling in missing series only allowed between instant vectors");
      n.matching.reset();
    } else if (is_set_operator(n.op)) {
      if (vm.card == Cardinality::kOneToMany || vm.card == Cardinality::kManyToOne)
        raise(n.pos.start, fmt::format("no grouping allowed for {} operation", go_quote(binary_op_string(n.op))));
      if (vm.card != Cardinality::kManyToMany) raise(n.pos.start, "set operations must always be many-to-many");
      if (filled) raise(n.pos.start, "filling in missing series not allowed for set operators");
    }
    if ((lt == ValueType::kScalar || rt == ValueType::kScalar) && is_set_operator(n.op))
      raise(n.pos.start, fmt::format("set operator {} not allowed in binary scalar expression",
                                     go_quote(binary_op_string(n.op))));
  }

  void check_call(Call& n) {
    const Function& f = *n.func;
    int nargs = static_cast<int>(f.arg_types.size());
    int got = static_cast<int>(n.args.size());
    if (f.variadic == 0) {
      if (nargs != got)
        raise(n.pos.start, fmt::format("expected {} argument(s) in call to {}, got {}", nargs, go_quote(f.name), got));
    } else {
      int least = nargs - 1;
      if (least > got)
        raise(n.pos.start,
              fmt::format("expected at least {} argument(s) in call to {}, got {}", least, go_quote(f.name), got));
      if (f.variadic > 0 && least + f.variadic < got)
        raise(n.pos.start, fmt::format("expected at most {} argument(s) in call to {}, got {}", least + f.variadic,
                                       go_quote(f.name), got));
    }
    if (f.name == "info" && got > 1) {
      Expr& sel = *n.args[1];
      if (sel.type() != ValueType::kVector)
        raise(n.pos.start, fmt::format("expected type instant vector in call to function \"info\", got {}",
                                       documented_type_name(sel.type())));
      if (auto* vs = as<VectorSelector>(&sel)) {
        if (!vs->name.empty()) raise(sel.pos.start, "expected label selectors only, got vector selector instead");
        vs->bypass_empty_matcher_check = true;
      } else {
        raise(sel.pos.start, "expected label selectors only");
      }
    }
    for (int i = 0; i < got; ++i) {
      int k = i;
      if (k >= nargs) {
        if (f.variadic == 0) break;
        k = nargs - 1;
      }
      ValueType t = check(*n.args[i]);
      if (t != f.arg_types[k])
        raise(n.args[i]->pos.start, fmt::format("expected type {} in call to function {}, got {}",
                                                documented_type_name(f.arg_types[k]), go_quote(f.name),
                                                documented_type_name(t)));
    }
  }

  void check_selector(VectorSelector& n) {
    if (!n.name.empty()) {
      for (size_t i = 0; i + 1 < n.matchers.size(); ++i)
        if (n.matchers[i].name() == kMetricNameLabel)
          raise(n.pos.start, fmt::format("metric name must not be set twice: {} or {}", go_quote(n.name),
                                         go_quote(n.matchers[i].value())));
      return;
    }
    if (n.bypass_empty_matcher_check) return;
    for (const auto& m : n.matchers)
      if (!m.matches("")) return;
    raise(n.pos.start, "vector selector must contain at least one non-empty matcher");
  }

  std::string_view in_;
};

}  // namespace

void check_types(Expr& root, std::string_view input) { Checker(input).check(root); }

}  // namespace vigil::promql
