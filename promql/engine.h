#pragma once

// The PromQL engine: instant and range queries over the in-memory store, with
// Prometheus 3.x semantics (5m lookback, left-open range windows, staleness,
// offset and @, subqueries aligned to absolute step multiples, delayed
// metric-name removal).
//
//   Engine engine;
//   auto expr = parse_expr("sum by (job) (rate(x[5m]))");
//   auto res = engine.range(store, **expr, start_ms, end_ms, 15'000);
//   if (!res) report(res.error().message);
//
// Native histograms are not supported; floats only.

#include <chrono>
#include <cstdint>

#include "model/duration.h"
#include "model/error.h"
#include "promql/ast.h"
#include "promql/value.h"
#include "storage/memory_store.h"

namespace vigil::promql {

struct EngineOptions {
  // How far back an instant selector looks for the latest sample.
  Millis lookback_delta = 5 * kMinute;
  // Most samples a query may hold in memory at once ("query processing would
  // load too many samples into memory in ...").
  int64_t max_samples = 50'000'000;
  // Wall-clock budget of one query.
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
  // Step of subqueries written without one ([5m:]).
  Millis default_subquery_step = kMinute;
  // Prometheus 2.x windows: range selectors, subqueries and the lookback
  // include a sample exactly at their start ([t - range, t]) instead of
  // excluding it ((t - range, t], Prometheus 3.x). For unit tests whose
  // expectations were recorded with promtool 2.x.
  bool left_closed_windows = false;
};

struct QueryResult {
  Value value;
  Annotations annotations;
};

class Engine {
 public:
  explicit Engine(EngineOptions opts = {}) : opts_(opts) {}

  // Evaluates `expr` at time t (ms). Scalars, strings, vectors and (for range
  // selectors and subqueries) matrices come back as they are.
  Result<QueryResult> instant(const storage::MemoryStore& store, const Expr& expr,
                              int64_t t) const;

  // Evaluates `expr` at start, start+step, ... up to end; the result is a
  // matrix sorted by labels. The expression must yield a scalar or an instant
  // vector.
  Result<QueryResult> range(const storage::MemoryStore& store, const Expr& expr, int64_t start,
                            int64_t end, int64_t step) const;

  const EngineOptions& options() const { return opts_; }

 private:
  EngineOptions opts_;
};

}  // namespace vigil::promql
