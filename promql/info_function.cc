// info(v, {data label matchers}): enriches each series of v with the data
// labels of the info series (target_info by default) that share its
// identifying labels (instance, job), as Prometheus' experimental info()
// does. The info series are read as of the time the first selector of v
// reads (its @ and offset, or those of the subqueries around it), newest
// sample winning when several info series of one metric match.

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <re2/re2.h>

#include "promql/evaluator.h"
#include "promql/functions.h"

namespace vigil::promql::detail {

namespace {

constexpr std::string_view kTargetInfo = "target_info";
constexpr std::string_view kIdentifying[] = {"instance", "job"};

Matcher must_matcher(MatchType type, std::string_view name, std::string value) {
  auto m = Matcher::make(type, std::string(name), std::move(value));
  if (!m) eval_fail(m.error().message);
  return std::move(*m);
}

// The __name__ matchers that pick info series: the given ones when any is
// positive; negative ones only narrow ".+_info"; none means target_info.
std::vector<Matcher> effective_name_matchers(const std::vector<Matcher>& ms) {
  bool positive = std::any_of(ms.begin(), ms.end(), [](const Matcher& m) {
    return m.type() == MatchType::kEqual || m.type() == MatchType::kRegex;
  });
  if (positive) return ms;
  if (!ms.empty()) {
    std::vector<Matcher> out{must_matcher(MatchType::kRegex, "__name__", ".+_info")};
    out.insert(out.end(), ms.begin(), ms.end());
    return out;
  }
  return {must_matcher(MatchType::kEqual, "__name__", std::string(kTargetInfo))};
}

// Where the info series are read: the first vector selector of `e` and the
// subqueries enclosing it, innermost first.
bool first_selector(const Expr& e, std::vector<const SubqueryExpr*>& path, const VectorSelector*& out) {
  if (auto* vs = as<VectorSelector>(&e)) {
    out = vs;
    return true;
  }
  auto* sq = as<SubqueryExpr>(&e);
  if (sq) path.push_back(sq);
  bool found = false;
  for_each_child(e, [&](const Expr& c) {
    if (!found && c.kind != ExprKind::kDuration) found = first_selector(c, path, out);
  });
  if (!found && sq) path.pop_back();
  return found;
}

// The signature an info series and a base series share: the info metric's
// name and the identifying labels.
std::string signature(std::string_view info_name, const Labels& ls) {
  std::string sig(info_name);
  for (std::string_view l : kIdentifying) {
    sig += '\xff';
    sig += ls.get(l);
  }
  return sig;
}

}  // namespace

Mat info_function(Evaluator& ev, const Call& c) {
  // The time the info series are read at, fixed before evaluating the
  // first argument.
  std::vector<const SubqueryExpr*> subqueries;
  const VectorSelector* first = nullptr;
  first_selector(*c.args[0], subqueries, first);
  Millis offset = 0;
  bool pinned = false;
  int64_t pinned_at = 0;
  if (first) {
    auto at_of = [&](const TimeModifiers& m) { return ev.ref_time(m, 0) + ev.offset_of(m); };
    offset = ev.offset_of(first->mods);
    if (first->mods.at != AtKind::kNone) {
      pinned = true;
      pinned_at = at_of(first->mods);
    }
    for (auto it = subqueries.rbegin(); !pinned && it != subqueries.rend(); ++it) {
      offset += ev.offset_of((*it)->mods);
      if ((*it)->mods.at != AtKind::kNone) {
        pinned = true;
        pinned_at = at_of((*it)->mods);
      }
    }
  }

  Mat base = ev.eval(*c.args[0]);

  // Data label matchers by name; __name__ ones pick the info metrics.
  std::map<std::string, std::vector<Matcher>, std::less<>> data;
  std::vector<Matcher> name_matchers;
  if (c.args.size() > 1) {
    const auto* sel = as<VectorSelector>(&unwrap_parens(*c.args[1]));
    if (!sel) eval_fail("info(): the second argument must be a label selector");
    for (const Matcher& m : sel->matchers) {
      if (m.name() == "__name__") {
        name_matchers.push_back(m);
      } else {
        data[m.name()].push_back(m);
      }
    }
  }
  const std::vector<Matcher> effective = effective_name_matchers(name_matchers);

  // Info series themselves are passed through as they are.
  std::vector<bool> ignored(base.size(), false);
  std::map<std::string_view, std::vector<std::string_view>> id_values;
  for (size_t i = 0; i < base.size(); ++i) {
    std::string_view name = base[i].labels.get("__name__");
    ignored[i] = std::all_of(effective.begin(), effective.end(), [&](const Matcher& m) { return m.matches(name); });
    if (ignored[i]) continue;
    for (std::string_view l : kIdentifying) {
      std::string_view v = base[i].labels.get(l);
      if (v.empty()) continue;
      auto& vs = id_values[l];
      if (std::find(vs.begin(), vs.end(), v) == vs.end()) vs.push_back(v);
    }
  }

  Mat infos;
  if (!id_values.empty()) {
    VectorSelector sel;
    for (const auto& [label, values] : id_values) {
      std::string re;
      for (size_t k = 0; k < values.size(); ++k) {
        if (k) re += '|';
        re += RE2::QuoteMeta(re2::StringPiece(values[k].data(), values[k].size()));
      }
      sel.matchers.push_back(must_matcher(MatchType::kRegex, label, std::move(re)));
    }
    for (const auto& [label, ms] : data) sel.matchers.insert(sel.matchers.end(), ms.begin(), ms.end());
    sel.matchers.insert(sel.matchers.end(), effective.begin(), effective.end());
    sel.mods.offset = offset;
    if (pinned) {
      sel.mods.at = AtKind::kTimestamp;
      sel.mods.at_timestamp = pinned_at;
    }
    // Info samples must be floats.
    const auto& store = *ev.ctx().store;
    auto refs = store.select(sel.matchers);
    if (std::any_of(refs.begin(), refs.end(), [&](storage::SeriesRef r) { return !store.get(r).histograms().empty(); })) {
      Mat values = ev.eval_vector_selector(sel);
      if (std::any_of(values.begin(), values.end(), [](const SeriesData& s) { return s.has_hist(); })) {
        eval_fail("info sample should be float");
      }
    }
    // Each point's value is the time of the info sample it stands for.
    infos = ev.eval_vector_selector(sel, true);
  }

  std::vector<std::string> info_names;
  for (const auto& s : infos) {
    std::string name(s.labels.get("__name__"));
    if (std::find(info_names.begin(), info_names.end(), name) == info_names.end()) info_names.push_back(name);
  }
  std::vector<std::string> info_sigs;
  info_sigs.reserve(infos.size());
  for (const auto& s : infos) info_sigs.push_back(signature(s.labels.get("__name__"), s.labels));
  std::vector<std::vector<std::string>> base_sigs(base.size());
  for (size_t i = 0; i < base.size(); ++i) {
    for (const auto& n : info_names) base_sigs[i].push_back(signature(n, base[i].labels));
  }
  const bool drop_unmatched = std::any_of(data.begin(), data.end(), [](const auto& e) {
    return std::any_of(e.second.begin(), e.second.end(), [](const Matcher& m) { return !m.matches(""); });
  });

  OutputBuilder out(ev.ctx());
  StepCursor base_cur(base), info_cur(infos);
  const Grid& grid = ev.grid();
  std::unordered_map<std::string_view, size_t> by_sig;  // signature -> index into infos
  std::vector<double> info_time(infos.size());
  for (int64_t step = 0; step < grid.steps(); ++step) {
    ev.ctx().tick();
    const int64_t t = grid.at(step);
    by_sig.clear();
    for (const auto& it : info_cur.values(t)) {
      info_time[it.series] = it.value;
      auto [pos, fresh] = by_sig.try_emplace(info_sigs[it.series], it.series);
      if (fresh) continue;
      double existing = info_time[pos->second];
      if (existing < it.value) {
        pos->second = it.series;
      } else if (existing == it.value) {
        eval_fail(fmt::format("found duplicate series for info metric: existing {} @ {}, new {} @ {}",
                              infos[pos->second].labels.to_string(), static_cast<int64_t>(existing * 1000),
                              infos[it.series].labels.to_string(), static_cast<int64_t>(it.value * 1000)));
      }
    }
    for (const auto& it : base_cur.values(t)) {
      const SeriesData& b = base[it.series];
      HistogramPtr h = it.h ? *it.h : nullptr;
      if (ignored[it.series]) {
        out.add(b.labels, b.drop_name, t, it.value, h);
        continue;
      }
      LabelsBuilder added;
      std::map<std::string, std::string, std::less<>> set;
      bool matched = false;
      for (const auto& sig : base_sigs[it.series]) {
        auto found = by_sig.find(sig);
        if (found == by_sig.end()) continue;
        matched = true;
        for (const auto& l : infos[found->second].labels) {
          if (l.name == "__name__") continue;
          if (!data.empty() && !data.contains(l.name)) continue;
          if (auto prev = set.find(l.name); prev != set.end() && prev->second != l.value) {
            eval_fail(fmt::format("conflicting label: {}", l.name));
          }
          if (b.labels.has(l.name)) continue;
          set.emplace(std::string(l.name), std::string(l.value));
        }
      }
      if (!matched && drop_unmatched) continue;
      LabelsBuilder lb(b.labels);
      for (const auto& [k, v] : set) lb.set(k, v);
      out.add(lb.build(), b.drop_name, t, it.value, h);
    }
  }
  return out.take();
}

}  // namespace vigil::promql::detail
