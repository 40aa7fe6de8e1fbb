// The engine's limits hold where the work is done: samples are counted as
// they are produced (subquery outputs included), grids too large for the
// budget are refused before anything is allocated for them, and the deadline
// and the cancel flag are read inside long step loops, not only between
// nodes. Time is a test clock; nothing sleeps.
#include <atomic>
#include <thread>

#include <doctest/doctest.h>

#include "promql/engine.h"
#include "promql/parser.h"
#include "tests/allocation_cap.h"

namespace vigil::promql {
namespace {

using testing::AllocationCap;

constexpr char kTooMany[] = "query processing would load too many samples into memory in query execution";

// A clock that moves one millisecond each time it is read: a query's
// deadline passes after a known number of checks, however fast the machine.
class ReadCountingClock final : public Clock {
 public:
  Millis now() const override { return reads_.fetch_add(1, std::memory_order_relaxed); }
  Millis reads() const { return reads_.load(); }

 private:
  mutable std::atomic<Millis> reads_{0};
};

Result<QueryResult> instant(const storage::MemoryStore& st, std::string_view q, int64_t t, EngineOptions opts) {
  auto e = parse_expr(q);
  REQUIRE(e);
  return Engine(opts).instant(st, **e, t);
}

Result<QueryResult> range(const storage::MemoryStore& st, std::string_view q, int64_t start, int64_t end,
                          int64_t step, EngineOptions opts) {
  auto e = parse_expr(q);
  REQUIRE(e);
  return Engine(opts).range(st, **e, start, end, step);
}

std::string error_of(const Result<QueryResult>& r) { return r ? "" : r.error().message; }

// One series x sampled every second for an hour.
storage::MemoryStore dense_hour() {
  storage::MemoryStore st;
  Labels x{{"__name__", "x"}};
  for (int64_t t = 0; t <= 3'600'000; t += 1000) REQUIRE(st.append(x, t, static_cast<double>(t)));
  return st;
}

constexpr int64_t k30d = 30LL * 24 * 3600 * 1000;

TEST_CASE("a subquery of billions of steps is refused before memory is allocated for it") {
  // max_over_time(vector(1)[30d:1ms]): 2.6 billion inner steps. The engine
  // must answer with the limit, not try to allocate tens of gigabytes.
  storage::MemoryStore st;
  AllocationCap cap(64 << 20);
  auto r = instant(st, "max_over_time(vector(1)[30d:1ms])", k30d, EngineOptions{});
  CHECK(error_of(r) == kTooMany);
  if (AllocationCap::active()) CHECK(cap.largest_request() < (64u << 20));
  // Every kind of inner expression that works per step.
  for (std::string q : {"max_over_time((x + 1)[30d:1ms])", "count_over_time(vector(time())[30d:1ms])",
                        "sum_over_time(sum(x)[30d:1ms])", "max_over_time(rate(x[1m])[30d:1ms])",
                        "max_over_time(abs(x)[30d:1ms])"}) {
    CAPTURE(q);
    CHECK(error_of(instant(st, q, k30d, EngineOptions{})) == kTooMany);
  }
}

TEST_CASE("subquery outputs count towards max_samples as they are produced") {
  auto st = dense_hour();
  EngineOptions opts;
  opts.max_samples = 1000;
  // 480 inner points: within the limit, though they count twice (held as
  // the subquery's output, then read as the window), as in Prometheus.
  auto ok = instant(st, "max_over_time(x[8m:1s])", 3'600'000, opts);
  REQUIRE(ok);
  CHECK(error_of(instant(st, "max_over_time(x[10m:1s])", 3'600'000, opts)) == kTooMany);
  ok = instant(st, "max_over_time(x[8m:1s])", 3'600'000, opts);
  REQUIRE(ok);
  CHECK(std::get<Vector>(ok->value).at(0).value == 3'600'000);
  // 3600 inner points, from a selector and from a function: over it.
  CHECK(error_of(instant(st, "max_over_time(x[1h:1s])", 3'600'000, opts)) == kTooMany);
  CHECK(error_of(instant(st, "max_over_time(abs(x)[1h:1s])", 3'600'000, opts)) == kTooMany);
  // Nested subqueries: the inner one's output alone is over it.
  CHECK(error_of(instant(st, "max_over_time(max_over_time(x[1h:1s])[1m:1m])", 3'600'000, opts)) == kTooMany);
  // Range evaluation: 1201 steps of one series.
  CHECK(error_of(range(st, "x", 0, 1'200'000, 1000, opts)) == kTooMany);
  CHECK(range(st, "x", 0, 600'000, 1000, opts).has_value());
  // A raw range read holding more than the limit.
  CHECK(error_of(instant(st, "x[1h]", 3'600'000, opts)) == kTooMany);
}

TEST_CASE("a subquery over series with few points is not refused for its grid alone") {
  // Selectors hold only the points they find, however many steps they walk.
  storage::MemoryStore st;
  REQUIRE(st.append(Labels{{"__name__", "y"}}, 0, 7));
  EngineOptions opts;
  opts.max_samples = 1000;
  auto r = instant(st, "count_over_time(y[10m:1s])", 600'000, opts);
  REQUIRE(r);
  CHECK(std::get<Vector>(r->value).at(0).value == 299);  // steps within the lookback's 5 minutes
  auto none = instant(st, "max_over_time(nothing[30d:1s])", k30d, opts);
  REQUIRE(none);
  CHECK(std::get<Vector>(none->value).empty());
}

TEST_CASE("the deadline is checked inside long step loops") {
  // A selector walking 2.6 billion subquery steps produces points only in
  // its first five minutes; nothing else would stop it.
  storage::MemoryStore st;
  REQUIRE(st.append(Labels{{"__name__", "y"}}, 0, 1));
  ReadCountingClock clock;
  EngineOptions opts;
  opts.clock = &clock;
  opts.timeout = std::chrono::milliseconds(10'000);  // 10 000 reads of the clock
  auto r = instant(st, "count_over_time(y[30d:1ms])", k30d, opts);
  CHECK(error_of(r) == "query timed out in expression evaluation");
  CHECK(clock.reads() < 20'000);
  // The same in a range function's loop over a long range query.
  ReadCountingClock clock2;
  opts.clock = &clock2;
  opts.timeout = std::chrono::milliseconds(100);
  auto dense = dense_hour();
  CHECK(error_of(range(dense, "rate(x[1m])", 0, 3'600'000, 1, opts)) == "query timed out in expression evaluation");
}

TEST_CASE("a deadline already passed and a cancel flag stop a query at once") {
  auto st = dense_hour();
  EngineOptions late;
  late.timeout = std::chrono::milliseconds(0);
  CHECK(error_of(instant(st, "sum(x)", 1000, late)) == "query timed out in expression evaluation");
  std::atomic<bool> cancel{true};
  EngineOptions canceled;
  canceled.cancel = &cancel;
  CHECK(error_of(instant(st, "sum(x)", 1000, canceled)) == "query was canceled in expression evaluation");
  cancel = false;
  CHECK(instant(st, "sum(x)", 1000, canceled).has_value());
}

TEST_CASE("the query gate makes extra queries wait for a slot, within their deadline") {
  auto st = dense_hour();
  EngineOptions opts;
  opts.gate = std::make_shared<QueryGate>(1);
  REQUIRE(opts.gate->enter(std::chrono::steady_clock::now()));  // the only slot, taken
  // No time left to wait: Prometheus' answer for a query that timed out in
  // its queue.
  EngineOptions hurried = opts;
  hurried.timeout = std::chrono::milliseconds(0);
  CHECK(error_of(instant(st, "x", 1000, hurried)) == "context deadline exceeded");
  // With time left it waits, and runs once the slot is freed.
  Result<QueryResult> waited = fail("not run");
  std::thread t([&] { waited = instant(st, "x", 1000, opts); });
  while (opts.gate->waiting() == 0) std::this_thread::yield();
  opts.gate->leave();
  t.join();
  REQUIRE(waited);
  CHECK(std::get<Vector>(waited->value).size() == 1);
  // Its slot was given back.
  CHECK(opts.gate->enter(std::chrono::steady_clock::now()));
  opts.gate->leave();
}

}  // namespace
}  // namespace vigil::promql
