// Sidecar mode: rules reading series vigil records see the values of the
// same round, with the datasource's series for their other selectors.
#include <doctest/doctest.h>

#include "promql/parser.h"
#include "promql/printer.h"
#include "rules/manager.h"
#include "tests/temp_dir.h"

using namespace vigil;
using namespace vigil::rules;

namespace {

const char* kRules = R"(groups:
- name: g
  interval: 10s
  rules:
  - record: job:errors:sum
    expr: sum by (job) (errors)
  - alert: ManyErrors
    expr: job:errors:sum > 5
  - alert: AboveThreshold
    expr: job:errors:sum > on() group_left() max(threshold)
)";

constexpr int64_t kT0 = 1'700'000'000'000;

// The datasource: a store vigil's recorded series never reach, queried
// through its own engine as Prometheus would answer.
struct Datasource {
  storage::MemoryStore store;
  std::vector<std::string> queries;
  std::vector<std::pair<std::string, int64_t>> reads;  // selector, window

  QueryFn query() {
    QueryFn engine = engine_query(store);
    return [this, engine](const promql::Expr& e, int64_t t) {
      queries.push_back(promql::to_string(e));
      return engine(e, t);
    };
  }
  SeriesReader series() {
    return [this](const std::vector<Matcher>& ms, int64_t from, int64_t to) -> Result<std::vector<RemoteSeries>> {
      std::string sel;
      for (const auto& m : ms) sel += m.to_string() + ";";
      reads.emplace_back(sel, to - from);
      std::vector<RemoteSeries> out;
      for (auto ref : store.select(ms)) {
        RemoteSeries r{store.get(ref).labels, {}, {}};
        for (int64_t t = to - to % 10'000; t > from; t -= 10'000) {
          r.t.insert(r.t.begin(), t);
          r.v.insert(r.v.begin(), 3);
        }
        out.push_back(std::move(r));
      }
      return out;
    };
  }
};

struct Fixture {
  testing::TempDir dir{"vigil-overlay"};
  ManualClock clock{kT0};
  storage::MemoryStore local;
  std::shared_mutex local_mu;
  Datasource remote;
  std::unique_ptr<RuleManager> manager;

  explicit Fixture(bool overlay) {
    for (int i = 0; i < 60; ++i) {
      REQUIRE(remote.store.append(Labels{{"__name__", "errors"}, {"job", "api"}, {"instance", "a"}},
                                  kT0 + i * 10'000, 4));
      REQUIRE(remote.store.append(Labels{{"__name__", "errors"}, {"job", "api"}, {"instance", "b"}},
                                  kT0 + i * 10'000, 4));
      REQUIRE(remote.store.append(Labels{{"__name__", "threshold"}}, kT0 + i * 10'000, 3));
    }
    EvalBackend backend{&local, &local_mu, remote.query(), overlay ? remote.series() : nullptr};
    manager = std::make_unique<RuleManager>(clock, ManagerOptions{}, backend, [](GroupAlerts&&) {});
    REQUIRE(manager->load({dir.write("rules.yml", kRules)}, ManagerOptions{}).empty());
  }
  void step() {
    clock.set(*manager->next_due());
    REQUIRE(manager->run_due() == 1);
  }
  std::vector<size_t> firing() {
    auto st = manager->status();
    std::vector<size_t> out;
    for (const auto& r : st[0].rules) out.push_back(r.alerts.size());
    return out;
  }
};

TEST_CASE("overlay: an alert sees the series its group recorded in the same round") {
  Fixture f(true);
  f.step();
  // job:errors:sum = 8 from the first round on: both alerts fire at once.
  CHECK(f.firing() == std::vector<size_t>{0, 1, 1});
  // The recording rule went to the datasource; the alerts did not.
  CHECK(f.remote.queries == std::vector<std::string>{"sum by (job) (errors)"});
  // The threshold, not recorded by vigil, was read from the datasource for
  // the window the expression reads (the 5m look-back).
  REQUIRE(f.remote.reads.size() == 1);
  CHECK(f.remote.reads[0].first == "__name__=\"threshold\";");
  CHECK(f.remote.reads[0].second == 5 * kMinute);
  f.step();
  CHECK(f.remote.queries.size() == 2);
}

TEST_CASE("overlay: without it, the datasource has no recorded series and the alerts never fire") {
  Fixture f(false);
  f.step();
  f.step();
  CHECK(f.firing() == std::vector<size_t>{0, 0, 0});
  CHECK(f.remote.queries.size() == 6);
}

}  // namespace

TEST_CASE("overlay: the datasource's native histograms, mixed with floats in a series, reach the engine") {
  storage::MemoryStore local;
  REQUIRE(local.append(Labels{{"__name__", "rec"}}, kT0, 1));
  auto h = std::make_shared<FloatHistogram>();
  h->count = 4;
  h->sum = 6;
  h->positive_spans = {{0, 1}};
  h->positive_buckets = {4};
  // One series: a float, then a histogram (a series that changed type).
  SeriesReader series = [&](const std::vector<Matcher>&, int64_t, int64_t) -> Result<std::vector<RemoteSeries>> {
    RemoteSeries r{Labels{{"__name__", "h"}}, {kT0 - 20'000, kT0 - 10'000}, {2, 0}, {nullptr, h}};
    return std::vector<RemoteSeries>{r};
  };
  QueryFn remote = [](const promql::Expr&, int64_t) -> Result<promql::Vector> { return fail("not asked"); };
  QueryFn q = overlay_query(remote, series, local, [](std::string_view n) { return n == "rec"; });
  auto expr = promql::parse_expr("histogram_sum(h) + on() group_left() rec");
  REQUIRE(expr);
  auto got = q(**expr, kT0);
  REQUIRE(got);
  REQUIRE(got->size() == 1);
  CHECK((*got)[0].value == 7);
  auto refs = local.select(std::vector<Matcher>{*Matcher::make(MatchType::kEqual, "__name__", "h")});
  REQUIRE(refs.size() == 1);
  CHECK(local.get(refs[0]).histograms().size() == 1);
  CHECK(local.get(refs[0]).num_samples() == 1);
}
