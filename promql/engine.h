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
// Native histograms are values like floats (Sample::h, RangeSeries::h); float-only
// operations leave them out as upstream does.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <cstdint>
#include <memory>
#include <mutex>

#include "model/clock.h"
#include "model/duration.h"
#include "model/error.h"
#include "promql/ast.h"
#include "promql/value.h"
#include "storage/memory_store.h"

namespace vigil::promql {

// Bounds how many queries evaluate at once (Prometheus' --query.max-concurrency,
// its active query tracker): a query past the bound waits for a slot until its
// own deadline. Shared by every engine that should count against one bound.
// Thread-safe.
class QueryGate {
 public:
  explicit QueryGate(int slots) : free_(slots > 0 ? slots : 1) {}

  // Takes a slot, waiting until one frees or `deadline` (steady clock) passes:
  // false then, without a slot.
  bool enter(std::chrono::steady_clock::time_point deadline);
  void leave();
  // Queries waiting for a slot now.
  int waiting() const;

 private:
  mutable std::mutex mu_;
  std::condition_variable freed_;
  int free_;         // guarded by mu_
  int waiting_ = 0;  // guarded by mu_
};

// Start timestamps (the time a counter began counting) of stored samples, by
// series and sample time: rate, increase, irate and resets read them to see
// restarts the values alone do not show, and start_timestamp() returns them.
// The embedded store keeps none; test scripts give them (`metric@st ...`).
struct StartTimes {
  std::map<Labels, std::map<int64_t, int64_t>> by_series;
};

struct EngineOptions {
  // How far back an instant selector looks for the latest sample.
  Millis lookback_delta = 5 * kMinute;
  // Most samples a query may hold in memory at once, as Prometheus counts them:
  // selected and computed points, subquery outputs included, checked as they
  // are produced ("query processing would load too many samples into memory in
  // query execution"). Working arrays of one entry per evaluation step count
  // too: a subquery whose grid alone has more steps than this fails before
  // anything is allocated for it.
  int64_t max_samples = 50'000'000;
  // Budget of one query, waiting for a gate slot included; the evaluator
  // checks it between nodes and every few thousand steps or series inside
  // them ("query timed out in expression evaluation").
  std::chrono::milliseconds timeout{std::chrono::minutes(2)};
  // Where that budget is read; null: the monotonic clock. Tests move time.
  const Clock* clock = nullptr;
  // Set (by the daemon at shutdown) to stop every query at its next check:
  // "query was canceled in expression evaluation". Null: never.
  const std::atomic<bool>* cancel = nullptr;
  // Shared bound on concurrent queries; null: none.
  std::shared_ptr<QueryGate> gate;
  // Step of subqueries written without one ([5m:]).
  Millis default_subquery_step = kMinute;
  // Prometheus 2.x windows: range selectors, subqueries and the lookback
  // include a sample exactly at their start ([t - range, t]) instead of
  // excluding it ((t - range, t], Prometheus 3.x). For unit tests whose
  // expectations were recorded with promtool 2.x.
  bool left_closed_windows = false;
  // Start timestamps of samples; null: none known.
  const StartTimes* start_times = nullptr;
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
