// Native histograms read by the engine from the store's histogram chunks,
// before and after a restart through the write-ahead log: selectors, stale
// markers (a float stale NaN after the histograms, as the scraper writes
// one), counter resets and rate.
#include <doctest/doctest.h>

#include "promql/engine.h"
#include "promql/parser.h"
#include "storage/memory_store.h"
#include "storage/wal.h"
#include "tests/temp_dir.h"

namespace vigil::promql {
namespace {

HistogramPtr counter(double k) {
  auto h = std::make_shared<FloatHistogram>();
  h->schema = 0;
  h->positive_spans = {{0, 3}};
  h->positive_buckets = {k, 2 * k, k};
  h->count = 4 * k;
  h->sum = 1.5 * k;
  return h;
}

const Vector& vec(const Result<QueryResult>& r) {
  REQUIRE(r);
  REQUIRE(std::holds_alternative<Vector>(r->value));
  return std::get<Vector>(r->value);
}

Result<QueryResult> instant(const storage::MemoryStore& st, std::string_view q, int64_t t) {
  auto e = parse_expr(q);
  REQUIRE(e);
  return Engine().instant(st, **e, t);
}

// What the queries answer on `st`: the same before and after a restart.
void check_answers(const storage::MemoryStore& st) {
  // The last histogram before 4m50s: k = 12 at 4m45s (the reset at 2m
  // started the counts again from 1).
  const auto r_now = instant(st, "h", 290'000);
  const auto& now = vec(r_now);
  REQUIRE(now.size() == 1);
  REQUIRE(now[0].h);
  CHECK(now[0].h->count == 4 * 12);
  // The stale marker at 5m hides the series from then on.
  const auto r_stale = instant(st, "h", 300'000), r_later = instant(st, "h", 330'000);
  CHECK(vec(r_stale).empty());
  CHECK(vec(r_later).empty());
  // The window (4m, 5m] holds the histograms at 4m15s, 4m30s and 4m45s;
  // the marker is not counted.
  const auto r_n = instant(st, "count_over_time(h[1m])", 300'000);
  const auto& n = vec(r_n);
  REQUIRE(n.size() == 1);
  CHECK(n[0].value == 3);
  // increase across the reset counts the reset back in: k=8 at 1m45s, then
  // 1, 2, 3 from 2m.
  const auto r_inc = instant(st, "histogram_count(increase(h[1m]))", 150'000);
  const auto& inc = vec(r_inc);
  REQUIRE(inc.size() == 1);
  CHECK(inc[0].value > 0);
  const auto r_rate = instant(st, "histogram_count(rate(h[1m]))", 270'000);
  const auto& rate_count = vec(r_rate);
  REQUIRE(rate_count.size() == 1);
  // (3m30s, 4m30s]: counts 32 to 44 over 45 s, extrapolated to the window.
  CHECK(rate_count[0].value == doctest::Approx(12.0 / 45));
}

}  // namespace

TEST_CASE("native histograms from chunks answer the same after a restart: stale markers, resets, rate") {
  testing::TempDir dir;
  {
    storage::MemoryStore st(8);  // small chunks: windows cross them
    storage::Wal wal(dir.path().string());
    wal.open(st, 0);
    const auto ref = st.series(Labels{{"__name__", "h"}});
    // Every 15 s from 0 to 4m45s: k = 1.. up to 2m, then a reset.
    for (int i = 0; i < 20; ++i) {
      const double k = i < 8 ? i + 1 : i - 7;
      REQUIRE(st.append_histogram(ref, i * 15'000, counter(k)));
    }
    REQUIRE(st.append(ref, 300'000, storage::stale_nan()));
    REQUIRE(wal.flush());
    check_answers(st);
    st.set_wal(nullptr);
  }
  storage::MemoryStore again(8);
  storage::Wal wal(dir.path().string());
  auto r = wal.open(again, 0);
  CHECK(r.damage.empty());
  CHECK(r.samples == 21);
  check_answers(again);
  again.set_wal(nullptr);
}

}  // namespace vigil::promql
