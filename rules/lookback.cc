#include "rules/lookback.h"

#include <algorithm>

namespace vigil::rules {

Millis lookback(const promql::Expr& e) {
  using promql::ExprKind;
  Millis own = 0;
  switch (e.kind) {
    case ExprKind::kVectorSelector: {
      const auto& v = static_cast<const promql::VectorSelector&>(e);
      own = 5 * kMinute + std::max<Millis>(0, v.mods.offset_expr ? kHour : v.mods.offset);
      break;
    }
    case ExprKind::kMatrixSelector: {
      const auto& m = static_cast<const promql::MatrixSelector&>(e);
      Millis range = m.range_expr ? kDay : m.range;
      own = range + std::max<Millis>(0, m.selector->mods.offset_expr ? kHour : m.selector->mods.offset);
      return own;
    }
    case ExprKind::kSubquery: {
      const auto& s = static_cast<const promql::SubqueryExpr&>(e);
      Millis range = s.range_expr ? kDay : s.range;
      return range + std::max<Millis>(0, s.mods.offset) + lookback(*s.expr);
    }
    default:
      break;
  }
  promql::for_each_child(e, [&own](const promql::Expr& c) { own = std::max(own, lookback(c)); });
  return own;
}

Millis retention_for(const std::vector<GroupStatus>& groups) {
  Millis need = kHour;
  for (const auto& g : groups) {
    for (const auto& r : g.rules) {
      if (r.rule->parsed) need = std::max(need, lookback(*r.rule->parsed) + g.query_offset + 2 * g.interval);
    }
  }
  return need;
}

}  // namespace vigil::rules
