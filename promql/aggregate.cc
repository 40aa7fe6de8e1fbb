// Aggregation operators: sum avg count min max group stddev stdvar quantile
// topk bottomk limitk limit_ratio count_values.

#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

#include "model/go_format.h"
#include "model/names.h"
#include "promql/evaluator.h"
#include "promql/functions.h"
#include "promql/label_subset.h"
#include "promql/numeric.h"

namespace vigil::promql::detail {
namespace {

bool listed(const std::vector<std::string>& names, std::string_view n) {
  return std::find(names.begin(), names.end(), n) != names.end();
}

// Whether a label of an input series is part of its output group's labels.
bool kept_in_group(LabelView l, const std::vector<std::string>& grouping, bool without) {
  bool in = listed(grouping, l.name);
  return without ? (!in && l.name != "__name__") : in;
}

Labels group_labels(const Labels& ls, const std::vector<std::string>& grouping, bool without) {
  return subset(ls, [&](LabelView l) { return kept_in_group(l, grouping, without); });
}

struct LabelsHash {
  size_t operator()(const Labels& ls) const { return ls.hash(); }
};
// Output groups by their label set, numbered in first-seen order.
using GroupIndex = std::unordered_map<Labels, size_t, LabelsHash>;

// Maps every input series to its output group, in first-seen order.
struct Grouping {
  std::vector<size_t> group_of;
  std::vector<Labels> labels;  // per group
};

Grouping assign_groups(const Mat& in, const std::vector<std::string>& grouping, bool without) {
  // Groups are found by hashing each series' kept labels in place; a group's
  // label set is built once, when it is first seen. Which labels of a series
  // are kept is worked out once per series, as a bit mask over its labels.
  Grouping g;
  GroupTable index;
  g.group_of.reserve(in.size());
  for (const auto& s : in) {
    const Labels& ls = s.labels;
    const bool masked = ls.size() <= 64;  // more labels than that: never in practice
    uint64_t mask = 0;
    if (masked) {
      size_t i = 0;
      for (const LabelView l : ls) {
        if (kept_in_group(l, grouping, without)) mask |= uint64_t{1} << i;
        ++i;
      }
    }
    auto kept = [&](size_t i) { return masked ? ((mask >> i) & 1) != 0 : kept_in_group(ls[i], grouping, without); };
    size_t pos = 0;
    uint64_t h = subset_hash(s.labels, [&](LabelView) { return kept(pos++); });
    // Whether this series' kept labels are exactly group k's labels.
    auto same_as = [&](size_t k) {
      const Labels& group = g.labels[k];
      auto it = group.begin();
      auto l = ls.begin();
      for (size_t i = 0; i < ls.size(); ++i, ++l) {
        if (!kept(i)) continue;
        if (it == group.end() || !(*it == *l)) return false;
        ++it;
      }
      return it == group.end();
    };
    size_t group = index.find_or_add(h, same_as);
    if (group == g.labels.size()) {
      pos = 0;
      g.labels.push_back(subset(s.labels, [&](LabelView) { return kept(pos++); }));
    }
    g.group_of.push_back(group);
  }
  return g;
}

struct Acc {
  bool seen = false;
  bool drop = false;
  bool incremental = false;
  double value = 0, mean = 0, comp = 0, count = 0;
  std::vector<double> values;
};

void accumulate(AggregateOp op, Acc& a, double f, bool drop) {
  if (!a.seen) {
    a = Acc{};
    a.seen = true;
    a.drop = drop;
    a.value = f;
    a.mean = f;
    a.count = 1;
    switch (op) {
      case AggregateOp::kStddev: case AggregateOp::kStdvar:
        a.value = std::isnan(f) || std::isinf(f) ? std::nan("") : 0;
        break;
      case AggregateOp::kQuantile: a.values.assign(1, f); break;
      case AggregateOp::kGroup: a.value = 1; break;
      default: break;
    }
    return;
  }
  a.drop = a.drop || drop;
  switch (op) {
    case AggregateOp::kSum:
      kahan_inc(f, a.value, a.comp);
      break;
    case AggregateOp::kAvg: {
      a.count += 1;
      if (!a.incremental) {
        double v = a.value, c = a.comp;
        kahan_inc(f, v, c);
        if (!std::isinf(v)) {
          a.value = v;
          a.comp = c;
          break;
        }
        // The running sum would overflow: continue with an incremental mean.
        a.incremental = true;
        a.mean = a.value / (a.count - 1);
        a.comp /= a.count - 1;
      }
      double q = (a.count - 1) / a.count;
      double m = q * a.mean, c = q * a.comp;
      kahan_inc(f / a.count, m, c);
      a.mean = m;
      a.comp = c;
      break;
    }
    case AggregateOp::kMax:
      if (a.value < f || std::isnan(a.value)) a.value = f;
      break;
    case AggregateOp::kMin:
      if (a.value > f || std::isnan(a.value)) a.value = f;
      break;
    case AggregateOp::kCount: a.count += 1; break;
    case AggregateOp::kStddev: case AggregateOp::kStdvar: {
      a.count += 1;
      double delta = f - a.mean;
      a.mean += delta / a.count;
      a.value += delta * (f - a.mean);
      break;
    }
    case AggregateOp::kQuantile: a.values.push_back(f); break;
    default: break;
  }
}

double finish(AggregateOp op, Acc& a, double q) {
  switch (op) {
    case AggregateOp::kAvg:
      return a.incremental ? a.mean + a.comp : a.value / a.count + a.comp / a.count;
    case AggregateOp::kCount: return a.count;
    case AggregateOp::kStdvar: return a.value / a.count;
    case AggregateOp::kStddev: return std::sqrt(a.value / a.count);
    case AggregateOp::kQuantile: return quantile(q, a.values);
    case AggregateOp::kSum: return a.value + a.comp;
    default: return a.value;
  }
}

struct ParamRange {
  double min = std::numeric_limits<double>::infinity();
  double max = -std::numeric_limits<double>::infinity();
  bool any_nan = false;
};

ParamRange param_range(const std::vector<double>& p) {
  ParamRange r;
  for (double v : p) {
    if (std::isnan(v)) {
      r.any_nan = true;
      continue;
    }
    r.min = std::min(r.min, v);
    r.max = std::max(r.max, v);
  }
  return r;
}

std::string fmt_g(double v) { return go_format_float(v, 'g', -1); }

// sum and avg over groups holding native histograms (upstream's rules: a
// group mixing floats and histograms yields nothing, with a warning;
// exponential and custom buckets do not mix).
struct HistAcc {
  HistAcc() : acc(false) {}
  HistogramAccumulator acc;
  bool has_float = false, has_hist = false, incompatible = false;
};

void accumulate_hist(Evaluator& ev, const AggregateExpr& a, HistAcc& acc, const FloatHistogram& h,
                     std::string_view metric) {
  if (!acc.has_hist) acc.acc = HistogramAccumulator(a.op == AggregateOp::kAvg);
  acc.has_hist = true;
  if (acc.incompatible) return;
  bool reconciled = false;
  if (!acc.acc.add(h, &reconciled)) {
    ev.ctx().warn(fmt::format("vector contains a mix of histograms with exponential and custom buckets schemas for "
                              "metric name {}", go_quote(metric)),
                  a.expr->pos);
    acc.incompatible = true;
    return;
  }
  if (reconciled) ev.ctx().info("mismatched custom buckets were reconciled during aggregation", a.expr->pos);
}

Mat simple_aggregation(Evaluator& ev, const AggregateExpr& a, const Mat& in, const Grouping& g,
                       const std::vector<double>& params) {
  const Grid& grid = ev.grid();
  Mat out(g.labels.size());
  for (size_t i = 0; i < out.size(); ++i) out[i].labels = g.labels[i];
  std::vector<Acc> acc(g.labels.size());
  const bool hist_op = a.op == AggregateOp::kSum || a.op == AggregateOp::kAvg;
  bool any_hist = false;
  for (const auto& s : in) any_hist = any_hist || s.has_hist();
  std::vector<HistAcc> hacc(hist_op && any_hist ? g.labels.size() : 0);
  StepCursor cur(in);
  for (int64_t i = 0; i < grid.steps(); ++i) {
    ev.ctx().tick();
    int64_t t = grid.at(i);
    for (auto& x : acc) x.seen = false;
    for (auto& x : hacc) x = HistAcc{};
    for (const auto& it : cur.values(t)) {
      size_t grp = g.group_of[it.series];
      if (!hacc.empty()) {
        if (it.h) {
          Acc& x = acc[grp];
          if (!x.seen) x = Acc{}, x.seen = true;
          x.drop = x.drop || in[it.series].drop_name;
          accumulate_hist(ev, a, hacc[grp], **it.h, in[it.series].labels.get("__name__"));
          continue;
        }
        hacc[grp].has_float = true;
      }
      accumulate(a.op, acc[grp], it.value, in[it.series].drop_name);
    }
    double q = params.empty() ? 0 : params[i];
    for (size_t k = 0; k < acc.size(); ++k) {
      if (!acc[k].seen) continue;
      if (!hacc.empty() && hacc[k].has_hist) {
        HistAcc& h = hacc[k];
        if (h.has_float) {
          ev.ctx().warn("encountered a mix of histograms and floats for aggregation", a.expr->pos);
          continue;
        }
        if (h.incompatible) continue;
        auto res = std::make_shared<FloatHistogram>(h.acc.take());
        res->compact();
        if (h.acc.counter_reset_collision()) {
          ev.ctx().warn("conflicting counter resets during histogram aggregation", a.expr->pos);
        }
        ev.ctx().hold(1);
        out[k].push(t, 0, std::move(res));
        out[k].drop_name = out[k].drop_name || acc[k].drop;
        continue;
      }
      ev.ctx().hold(1);
      out[k].push(t, finish(a.op, acc[k], q));
      out[k].drop_name = out[k].drop_name || acc[k].drop;
    }
  }
  std::erase_if(out, [](const SeriesData& s) { return s.t.empty(); });
  return out;
}

// NaN ranks lowest for topk and highest for bottomk, so real values win.
bool ranks_below(double a, double b, bool top) {
  if (std::isnan(a)) return !std::isnan(b);
  if (std::isnan(b)) return false;
  return top ? a < b : a > b;
}

Mat select_k(Evaluator& ev, const AggregateExpr& a, const Mat& in, const Grouping& g,
             const std::vector<double>& params) {
  const Grid& grid = ev.grid();
  ParamRange pr = param_range(params);
  if (a.op == AggregateOp::kLimitRatio) {
    if (pr.max == 0 && pr.min == 0 && !pr.any_nan) return {};
    if (pr.any_nan) eval_fail("Ratio value is NaN");
    if (pr.max > 1.0) {
      ev.ctx().warn(fmt::format("ratio value should be between -1 and 1, got {}, capping to {}", fmt_g(pr.max), fmt_g(1.0)),
                    a.param->pos);
    }
    if (pr.min < -1.0) {
      ev.ctx().warn(fmt::format("ratio value should be between -1 and 1, got {}, capping to {}", fmt_g(pr.min), fmt_g(-1.0)),
                    a.param->pos);
    }
  } else {
    if (pr.max < 1 && !pr.any_nan) return {};
    if (pr.any_nan) eval_fail("Parameter value is NaN");
    if (pr.min <= -9.223372036854775807e18) eval_fail(fmt::format("Scalar value {} underflows int64", fmt_g(pr.min)));
    if (pr.max >= 9.223372036854775807e18) eval_fail(fmt::format("Scalar value {} overflows int64", fmt_g(pr.max)));
  }
  const bool top = a.op == AggregateOp::kTopk;
  OutputBuilder out(ev.ctx());
  struct Pick {
    size_t series;
    double value;
    const HistogramPtr* h = nullptr;
  };
  std::vector<std::vector<Pick>> picks(g.labels.size());
  StepCursor cur(in);
  for (int64_t i = 0; i < grid.steps(); ++i) {
    ev.ctx().tick();
    int64_t t = grid.at(i);
    const auto& items = cur.values(t);
    double p = params[i];
    int64_t k = 0;
    double ratio = 0;
    if (a.op == AggregateOp::kLimitRatio) {
      if (p == 0) continue;
      ratio = std::clamp(p, -1.0, 1.0);
    } else {
      k = std::min(static_cast<int64_t>(p), static_cast<int64_t>(in.size()));
      if (k < 1) continue;
    }
    for (auto& v : picks) v.clear();
    for (const auto& it : items) {
      auto& heap = picks[g.group_of[it.series]];
      switch (a.op) {
        case AggregateOp::kLimitk:
          if (static_cast<int64_t>(heap.size()) < k) heap.push_back({it.series, it.value, it.h});
          break;
        case AggregateOp::kLimitRatio: {
          double offset = static_cast<double>(prometheus_labels_hash(in[it.series].labels)) /
                          static_cast<double>(std::numeric_limits<uint64_t>::max());
          bool take = (ratio >= 0 && offset < ratio) || (ratio < 0 && offset >= 1.0 + ratio);
          if (take) heap.push_back({it.series, it.value, it.h});
          break;
        }
        default: {
          // Keep the k best; heap front is the worst kept.
          auto worse_first = [&](const Pick& x, const Pick& y) { return ranks_below(y.value, x.value, top); };
          if (static_cast<int64_t>(heap.size()) < k) {
            heap.push_back({it.series, it.value});
            std::push_heap(heap.begin(), heap.end(), worse_first);
          } else if (ranks_below(heap.front().value, it.value, top)) {
            std::pop_heap(heap.begin(), heap.end(), worse_first);
            heap.back() = {it.series, it.value};
            std::push_heap(heap.begin(), heap.end(), worse_first);
          }
          break;
        }
      }
    }
    for (auto& heap : picks) {
      if (a.op == AggregateOp::kTopk || a.op == AggregateOp::kBottomk) {
        std::stable_sort(heap.begin(), heap.end(),
                         [&](const Pick& x, const Pick& y) { return ranks_below(y.value, x.value, top); });
      }
      for (const auto& pk : heap) {
        const SeriesData& s = in[pk.series];
        out.add(s.labels, s.drop_name, t, pk.value, pk.h ? *pk.h : nullptr);
      }
    }
  }
  return out.take();
}

// A native histogram as count_values writes it (upstream's
// FloatHistogram.String()): count, sum, then every populated bucket in
// ascending order as [lower,upper):count or (lower,upper]:count.
std::string histogram_label_value(const FloatHistogram& h) {
  std::string s = fmt::format("{{count:{}, sum:{}", fmt_g(h.count), fmt_g(h.sum));
  for (const auto& b : h.buckets()) {
    if (b.count == 0) continue;
    s += fmt::format(", {}{},{}{}:{}", b.lower_inclusive ? '[' : '(', fmt_g(b.lower), fmt_g(b.upper),
                     b.upper_inclusive ? ']' : ')', fmt_g(b.count));
  }
  return s + "}";
}

Mat count_values(Evaluator& ev, const AggregateExpr& a) {
  std::string label = ev.eval_string(*a.param);
  if (!is_valid_label_name(label)) eval_fail("invalid label name " + go_quote(label));
  std::vector<std::string> grouping = a.grouping;
  if (!a.without) grouping.push_back(label);
  Mat in = ev.eval(*a.expr);
  const Grid& grid = ev.grid();
  OutputBuilder out(ev.ctx());
  StepCursor cur(in);
  for (int64_t i = 0; i < grid.steps(); ++i) {
    ev.ctx().tick();
    int64_t t = grid.at(i);
    std::vector<std::pair<Labels, double>> counts;
    GroupIndex index;
    for (const auto& it : cur.values(t)) {
      std::string value = it.h ? histogram_label_value(**it.h) : go_format_float(it.value, 'f', -1);
      Labels with_value = LabelsBuilder(in[it.series].labels).set(label, value).build();
      auto [pos, fresh] = index.emplace(group_labels(with_value, grouping, a.without), counts.size());
      if (fresh) counts.emplace_back(pos->first, 0);
      counts[pos->second].second += 1;
    }
    for (const auto& [labels, n] : counts) out.add(labels, false, t, n);
  }
  ev.ctx().release(count_points(in));
  return out.take();
}

}  // namespace

Mat eval_aggregation(Evaluator& ev, const AggregateExpr& a) {
  if (a.op == AggregateOp::kCountValues) return count_values(ev, a);
  std::vector<double> params;
  if (a.param) {
    params = ev.eval_scalar_steps(unwrap_parens(*a.param));
    if (a.op == AggregateOp::kQuantile) {
      ParamRange pr = param_range(params);
      auto warn = [&](double q) {
        ev.ctx().warn(fmt::format("quantile value should be between 0 and 1, got {}", fmt_g(q)), a.param->pos);
      };
      if (pr.any_nan) {
        warn(std::nan(""));
      } else {
        if (pr.max > 1) warn(pr.max);
        if (pr.min < 0) warn(pr.min);
      }
    }
  }
  Mat in = ev.eval(*a.expr);
  switch (a.op) {
    case AggregateOp::kSum: case AggregateOp::kAvg: case AggregateOp::kCount: case AggregateOp::kGroup:
    case AggregateOp::kLimitk: case AggregateOp::kLimitRatio:
      break;
    default: {
      // The other aggregations read floats only; histograms are left out,
      // with an info.
      bool any = false;
      for (const auto& s : in) any = any || s.has_hist();
      if (!any) break;
      strip_histograms(ev.ctx(), in);
      bool select = a.op == AggregateOp::kTopk || a.op == AggregateOp::kBottomk;
      if (select || a.op == AggregateOp::kMin || a.op == AggregateOp::kMax || a.op == AggregateOp::kStddev ||
          a.op == AggregateOp::kStdvar || a.op == AggregateOp::kQuantile) {
        ev.ctx().info(fmt::format("ignored histogram in {} aggregation", aggregate_op_string(a.op)),
                      select ? a.pos : a.expr->pos);
      }
    }
  }
  Grouping g = assign_groups(in, a.grouping, a.without);
  Mat out;
  switch (a.op) {
    case AggregateOp::kTopk: case AggregateOp::kBottomk: case AggregateOp::kLimitk:
    case AggregateOp::kLimitRatio:
      out = select_k(ev, a, in, g, params);
      break;
    default:
      out = simple_aggregation(ev, a, in, g, params);
      break;
  }
  ev.ctx().release(count_points(in));
  return out;
}

}  // namespace vigil::promql::detail
