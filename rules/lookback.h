#pragma once

// How much history rules need: what a store must keep for them to evaluate
// as they would over a store that keeps everything.

#include <vector>

#include "model/duration.h"
#include "promql/ast.h"
#include "rules/manager.h"

namespace vigil::rules {

// How far back an expression reads from its evaluation time: its longest
// range or subquery with their offsets, and the look-back of instant
// selectors. Unknown ranges (computed durations) count as a day, unknown
// offsets as an hour.
Millis lookback(const promql::Expr& e);

// What the store must keep for `groups`: each rule's look-back plus its
// group's query offset and two intervals, and never less than an hour.
Millis retention_for(const std::vector<GroupStatus>& groups);

}  // namespace vigil::rules
