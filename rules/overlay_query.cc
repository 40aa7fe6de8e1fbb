// overlay_query (rules/evaluation.h): in sidecar mode, rules that read
// series vigil records run on the in-process engine over those series and
// the datasource's.
#include <algorithm>
#include <vector>

#include "promql/ast.h"
#include "rules/evaluation.h"
#include "rules/lookback.h"

namespace vigil::rules {


QueryFn overlay_query(QueryFn remote, SeriesReader series, storage::MemoryStore& store,
                      std::function<bool(std::string_view name)> recorded) {
  QueryFn local = engine_query(store);
  return [remote = std::move(remote), series = std::move(series), &store, recorded = std::move(recorded),
          local = std::move(local)](const promql::Expr& expr, int64_t t) -> Result<promql::Vector> {
    std::vector<const promql::VectorSelector*> sels = promql::vector_selectors(expr);
    auto is_recorded = [&recorded](const promql::VectorSelector* s) {
      std::string_view name = promql::metric_name(*s);
      return !name.empty() && recorded(name);
    };
    if (std::none_of(sels.begin(), sels.end(), is_recorded)) return remote(expr, t);
    // Everything the expression reads, from the furthest back it looks.
    const Millis window = lookback(expr);
    for (const auto* s : sels) {
      if (is_recorded(s)) continue;
      auto got = series(s->matchers, t - window, t);
      if (!got) return std::unexpected(got.error());
      for (const auto& r : *got) {
        storage::SeriesRef ref = store.series(r.labels);
        // Samples the store already holds are refused as out of order.
        for (size_t i = 0; i < r.t.size(); ++i) {
          if (!r.h.empty() && r.h[i]) (void)store.append_histogram(ref, r.t[i], r.h[i]);
          else (void)store.append(ref, r.t[i], r.v[i]);
        }
      }
    }
    return local(expr, t);
  };
}

}  // namespace vigil::rules
