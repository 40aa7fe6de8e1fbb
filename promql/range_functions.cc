// Functions over a range vector: rate, increase, delta, irate, idelta, the
// *_over_time family, changes, resets, deriv, predict_linear,
// double_exponential_smoothing, absent_over_time.
//
// Each series is walked once: for every step a window (t - range, t] slides
// over its contiguous sample arrays, and a kernel reduces the window.

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <span>
#include <unordered_map>

#include <fmt/format.h>

#include "model/go_format.h"
#include "model/names.h"
#include "promql/evaluator.h"
#include "promql/functions.h"
#include "promql/numeric.h"

namespace vigil::promql::detail {
namespace {

struct Window {
  std::span<const int64_t> t;
  std::span<const double> v;
  int64_t step_t;       // evaluation time of the step
  int64_t range_start;  // window is (range_start, range_end]
  int64_t range_end;
  Millis range;
  const double* args;  // scalar arguments at this step, in call order
  // The samples' start timestamps (0: unknown), parallel to t; empty when
  // none are known.
  std::span<const int64_t> st = {};
};

// Whether a sample's start timestamp says the counter restarted since the
// previous sample (upstream's rules: an unknown, invalid or equal-to-its-own
// time start says nothing; one pointing at the previous sample is a restart
// only when the previous one had a known start of its own, as deltas have).
bool start_time_reset(int64_t prev_st, int64_t prev_t, int64_t st, int64_t t) {
  if (st == 0 || st >= t) return false;
  if (st < prev_t) return false;
  if (st > prev_t) return true;
  if (prev_st > prev_t) return false;
  return prev_st != 0 && prev_st != prev_t;
}

bool start_time_reset_at(const Window& w, size_t i) {
  return !w.st.empty() && start_time_reset(w.st[i - 1], w.t[i - 1], w.st[i], w.t[i]);
}

// A start before the previous sample's time that is not the previous
// sample's own start: the two samples overlap.
bool start_time_overlap(const Window& w, size_t i) {
  return !w.st.empty() && w.st[i] != 0 && w.st[i] < w.t[i - 1] && w.st[i] != w.st[i - 1];
}
using Kernel = std::optional<double> (*)(const Window&);

std::optional<double> extrapolated(const Window& w, bool counter, bool rate) {
  size_t n = w.v.size();
  if (n == 0) return std::nullopt;
  double result = w.v[n - 1] - w.v[0];
  if (counter) {
    for (size_t i = 1; i < n; ++i) {
      if (w.v[i] < w.v[i - 1] || start_time_reset_at(w, i)) result += w.v[i - 1];
    }
  }
  int64_t first_t = w.t[0], last_t = w.t[n - 1];
  double to_start = static_cast<double>(first_t - w.range_start) / 1000;
  double to_end = static_cast<double>(w.range_end - last_t) / 1000;
  double sampled = static_cast<double>(last_t - first_t) / 1000;
  double avg_gap = n > 1 ? sampled / static_cast<double>(n - 1) : 0;
  double threshold = avg_gap * 1.1;
  if (counter && !w.st.empty() && w.st[0] != 0 && w.st[0] > w.range_start && w.st[0] < first_t) {
    // The counter started inside the range: count from zero at its start
    // instead of extrapolating to the left.
    to_start = 0;
    sampled = static_cast<double>(last_t - w.st[0]) / 1000;
    result += w.v[0];
  } else if (n < 2) {
    return std::nullopt;
  } else {
    if (to_start >= threshold) to_start = avg_gap / 2;
    if (counter) {
      // A counter cannot go below zero: do not extrapolate past that point.
      double to_zero = to_start;
      if (result > 0 && w.v[0] >= 0) to_zero = sampled * (w.v[0] / result);
      if (to_zero < to_start) to_start = to_zero;
    }
  }
  if (to_end >= threshold) to_end = avg_gap / 2;
  double factor = 1.0;
  if (sampled != 0) factor = (sampled + to_start + to_end) / sampled;
  if (rate) factor /= static_cast<double>(w.range) / 1000;
  return result * factor;
}

std::optional<double> k_rate(const Window& w) { return extrapolated(w, true, true); }
std::optional<double> k_increase(const Window& w) { return extrapolated(w, true, false); }
std::optional<double> k_delta(const Window& w) { return extrapolated(w, false, false); }

std::optional<double> instant_value(const Window& w, bool rate) {
  size_t n = w.v.size();
  if (n < 2) return std::nullopt;
  double prev = w.v[n - 2], last = w.v[n - 1];
  int64_t interval = w.t[n - 1] - w.t[n - 2];
  if (interval == 0) return std::nullopt;
  double result = last;
  if (!rate || !(last < prev || start_time_reset_at(w, n - 1))) result = last - prev;
  if (rate) result /= static_cast<double>(interval) / 1000;
  return result;
}
std::optional<double> k_irate(const Window& w) { return instant_value(w, true); }
std::optional<double> k_idelta(const Window& w) { return instant_value(w, false); }

std::optional<double> k_avg(const Window& w) {
  double sum = w.v[0], count = 1, mean = 0, c = 0;
  bool incremental = false;
  for (size_t i = 1; i < w.v.size(); ++i) {
    double f = w.v[i];
    count = static_cast<double>(i + 1);
    if (!incremental) {
      double s = sum, cc = c;
      kahan_inc(f, s, cc);
      if (!std::isinf(s)) {
        sum = s;
        c = cc;
        continue;
      }
      incremental = true;
      mean = sum / (count - 1);
      c /= count - 1;
    }
    double q = (count - 1) / count;
    double m = q * mean, cc = q * c;
    kahan_inc(f / count, m, cc);
    mean = m;
    c = cc;
  }
  if (incremental) return mean + c;
  return sum / count + c / count;
}

std::optional<double> k_sum(const Window& w) {
  double sum = 0, c = 0;
  for (double f : w.v) kahan_inc(f, sum, c);
  if (std::isinf(sum)) return sum;
  return sum + c;
}

std::optional<double> k_count(const Window& w) { return static_cast<double>(w.v.size()); }
std::optional<double> k_present(const Window&) { return 1.0; }
std::optional<double> k_last(const Window& w) { return w.v.back(); }
std::optional<double> k_first(const Window& w) { return w.v.front(); }
std::optional<double> k_ts_first(const Window& w) { return static_cast<double>(w.t.front()) / 1000; }
std::optional<double> k_ts_last(const Window& w) { return static_cast<double>(w.t.back()) / 1000; }

template <bool kMax, bool kTimestamp>
std::optional<double> extreme(const Window& w) {
  double best = w.v[0];
  int64_t best_t = w.t[0];
  for (size_t i = 0; i < w.v.size(); ++i) {
    double f = w.v[i];
    bool better;
    if constexpr (kTimestamp) {
      better = (kMax ? f >= best : f <= best) || std::isnan(best);
    } else {
      better = (kMax ? f > best : f < best) || std::isnan(best);
    }
    if (better) {
      best = f;
      best_t = w.t[i];
    }
  }
  if constexpr (kTimestamp) return static_cast<double>(best_t) / 1000;
  return best;
}

double variance(const Window& w) {
  double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
  for (double f : w.v) {
    count += 1;
    double delta = f - (mean + c_mean);
    kahan_inc(delta / count, mean, c_mean);
    kahan_inc(delta * (f - (mean + c_mean)), aux, c_aux);
  }
  return (aux + c_aux) / count;
}
std::optional<double> k_stdvar(const Window& w) { return variance(w); }
std::optional<double> k_stddev(const Window& w) { return std::sqrt(variance(w)); }

std::optional<double> k_quantile(const Window& w) {
  std::vector<double> values(w.v.begin(), w.v.end());
  return quantile(w.args[0], values);
}

std::optional<double> k_mad(const Window& w) {
  std::vector<double> values(w.v.begin(), w.v.end());
  for (double f : values) {
    if (std::isnan(f)) return std::nan("");
  }
  double median = quantile(0.5, values);
  for (double& f : values) f = std::fabs(f - median);
  return quantile(0.5, values);
}

std::optional<double> k_changes(const Window& w) {
  double changes = 0;
  for (size_t i = 1; i < w.v.size(); ++i) {
    double a = w.v[i - 1], b = w.v[i];
    if (a != b && !(std::isnan(a) && std::isnan(b))) changes += 1;
  }
  return changes;
}

std::optional<double> k_resets(const Window& w) {
  double resets = 0;
  for (size_t i = 1; i < w.v.size(); ++i) {
    if (w.v[i] < w.v[i - 1] || start_time_reset_at(w, i)) resets += 1;
  }
  return resets;
}

// Least-squares fit of the window against time (seconds from intercept_t).
std::pair<double, double> linear_regression(const Window& w, int64_t intercept_t) {
  double n = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0, sx2 = 0, cx2 = 0;
  double init = w.v[0];
  bool constant = true;
  for (size_t i = 0; i < w.v.size(); ++i) {
    double y = w.v[i];
    if (constant && i > 0 && y != init) constant = false;
    n += 1;
    double x = static_cast<double>(w.t[i] - intercept_t) / 1e3;
    kahan_inc(x, sx, cx);
    kahan_inc(y, sy, cy);
    kahan_inc(x * y, sxy, cxy);
    kahan_inc(x * x, sx2, cx2);
  }
  if (constant) {
    if (std::isinf(init)) return {std::nan(""), std::nan("")};
    return {0.0, init};
  }
  sx += cx;
  sy += cy;
  sxy += cxy;
  sx2 += cx2;
  double cov = sxy - sx * sy / n;
  double var = sx2 - sx * sx / n;
  double slope = cov / var;
  double intercept = sy / n - slope * sx / n;
  return {slope, intercept};
}

std::optional<double> k_deriv(const Window& w) {
  if (w.v.size() < 2) return std::nullopt;
  return linear_regression(w, w.t[0]).first;
}

std::optional<double> k_predict_linear(const Window& w) {
  if (w.v.size() < 2) return std::nullopt;
  auto [slope, intercept] = linear_regression(w, w.step_t);
  return slope * w.args[0] + intercept;
}

std::optional<double> k_double_exponential_smoothing(const Window& w) {
  double sf = w.args[0], tf = w.args[1];
  if (!(sf > 0 && sf < 1)) eval_fail(fmt::format("invalid smoothing factor. Expected: 0 < sf < 1, got: {:.6f}", sf));
  if (!(tf > 0 && tf < 1)) eval_fail(fmt::format("invalid trend factor. Expected: 0 < tf < 1, got: {:.6f}", tf));
  size_t n = w.v.size();
  if (n < 2) return std::nullopt;
  double s0 = 0, s1 = w.v[0], b = w.v[1] - w.v[0];
  for (size_t i = 1; i < n; ++i) {
    double x = sf * w.v[i];
    if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
    double y = (1 - sf) * (s1 + b);
    s0 = s1;
    s1 = x + y;
  }
  return s1;
}

struct RangeFunction {
  std::string_view name;
  Kernel kernel;
  bool keeps_name;
};

const RangeFunction kRangeFunctions[] = {
    {"rate", k_rate, false},
    {"increase", k_increase, false},
    {"delta", k_delta, false},
    {"irate", k_irate, false},
    {"idelta", k_idelta, false},
    {"avg_over_time", k_avg, false},
    {"sum_over_time", k_sum, false},
    {"count_over_time", k_count, false},
    {"min_over_time", extreme<false, false>, false},
    {"max_over_time", extreme<true, false>, false},
    {"ts_of_min_over_time", extreme<false, true>, false},
    {"ts_of_max_over_time", extreme<true, true>, false},
    {"ts_of_first_over_time", k_ts_first, false},
    {"ts_of_last_over_time", k_ts_last, false},
    {"last_over_time", k_last, true},
    {"first_over_time", k_first, true},
    {"present_over_time", k_present, false},
    {"stddev_over_time", k_stddev, false},
    {"stdvar_over_time", k_stdvar, false},
    {"quantile_over_time", k_quantile, false},
    {"mad_over_time", k_mad, false},
    {"changes", k_changes, false},
    {"resets", k_resets, false},
    {"deriv", k_deriv, false},
    {"predict_linear", k_predict_linear, false},
    {"double_exponential_smoothing", k_double_exponential_smoothing, false},
    {"absent_over_time", k_present, false},
};

const RangeFunction& find_range_function(std::string_view name) {
  for (const auto& f : kRangeFunctions) {
    if (f.name == name) return f;
  }
  eval_fail(fmt::format("function \"{}\" is not supported over range vectors", name));
}

// The series a range argument reads: stored series, decoded one at a time
// over the span the query's windows cover (stale markers left out), or the
// series a subquery produced.
struct RangeInput {
  struct View {
    const Labels* labels;
    std::span<const int64_t> t;
    std::span<const double> v;
    bool drop_name;
    const storage::Series* series = nullptr;  // decoded by load()
    // Parallel to t when the series holds native histograms (a set entry is
    // a histogram point); empty otherwise.
    std::span<const HistogramPtr> h = {};
  };
  std::vector<View> views;
  Mat owned;  // subquery output
  Millis range = 0;
  const TimeModifiers* mods = nullptr;
  bool stats_hints = false;  // see read_with_histograms
  PosRange pos;
  // The span of stored samples the windows read: (after, until].
  int64_t after = 0, until = 0;
  // One stored series' samples at a time, decoded from the chunks that
  // overlap the span.
  std::vector<int64_t> buf_t;
  std::vector<double> buf_v;
  SeriesData buf_h;  // a stored series with native histograms

  // The samples of view i: the view itself, or its series decoded into the
  // buffers (valid until the next load).
  View load(size_t i) {
    View v = views[i];
    if (!v.series) return v;
    if (!v.series->histograms().empty()) {
      buf_h = SeriesData{};
      read_with_histograms(*v.series, after, until, buf_h, true, stats_hints);
      v.t = std::span<const int64_t>(buf_h.t.data(), buf_h.t.size());
      v.v = std::span<const double>(buf_h.v.data(), buf_h.v.size());
      v.h = buf_h.h;
      return v;
    }
    buf_t.clear();
    buf_v.clear();
    v.series->read(after, until, buf_t, buf_v, true);
    v.t = buf_t;
    v.v = buf_v;
    return v;
  }
};

RangeInput read_range_arg(Evaluator& ev, const Expr& arg, int64_t first_ref, int64_t last_ref) {
  RangeInput in;
  in.pos = arg.pos;
  if (auto* ms = as<MatrixSelector>(&arg)) {
    const VectorSelector& vs = *ms->selector;
    in.range = ev.range_of(*ms);
    in.mods = &vs.mods;
    in.stats_hints = ev.ctx().stats_only(vs);
    in.after = ev.window_open_start(std::min(first_ref, last_ref), in.range);
    in.until = std::max(first_ref, last_ref);
    // Anchored and smoothed windows also read the lookback before the range
    // (smoothed: after it too).
    const Millis lookback = ev.ctx().opts->lookback_delta;
    if (vs.anchored || vs.smoothed) in.after -= lookback;
    if (vs.smoothed) in.until += lookback;
    const auto& store = *ev.ctx().store;
    auto refs = store.select(vs.matchers);
    in.views.reserve(refs.size());
    for (storage::SeriesRef r : refs) {
      const storage::Series& s = store.get(r);
      if (!s.histograms().empty()) {
        in.views.push_back({&s.labels, {}, {}, false, &s});
        continue;
      }
      if (s.empty() || s.max_time() <= in.after) continue;
      in.views.push_back({&s.labels, {}, {}, false, &s});
    }
    return in;
  }
  auto* sq = as<SubqueryExpr>(&arg);
  if (!sq) eval_fail("expected a range vector argument");
  in.range = ev.range_of(*sq);
  in.mods = &sq->mods;
  in.owned = ev.eval_subquery_points(*sq);
  for (const auto& s : in.owned) in.views.push_back({&s.labels, s.t, s.v, s.drop_name, nullptr, s.h});
  return in;
}

struct HistResult {
  double v = 0;
  HistogramPtr h;
};

// rate, increase and delta over a window of native histograms (upstream's
// histogramRate): the last minus the first, counter resets added back, at
// the lowest schema in the window, then extrapolated as floats are.
std::optional<HistResult> histogram_rate(Evaluator& ev, const Window& w, std::span<const HistogramPtr> hs,
                                         bool counter, bool rate, std::string_view metric, PosRange pos) {
  size_t n = hs.size();
  const bool counter_started_inside = counter && !w.st.empty() && w.st[0] != 0 && w.st[0] > w.range_start &&
                                      w.st[0] < w.t[0];
  if (n == 1 && counter_started_inside && hs[0]) {
    // One sample of a counter that started inside the range: its whole
    // count is the increase since the start.
    auto res = std::make_shared<FloatHistogram>(*hs[0]);
    if (rate) res->div(static_cast<double>(w.range) / 1000);
    res->hint = CounterResetHint::kGauge;
    res->compact();
    return HistResult{0, std::move(res)};
  }
  if (n < 2) return std::nullopt;
  auto mixed = [&] {
    ev.ctx().warn(fmt::format("encountered a mix of histograms and floats for metric name {}", go_quote(metric)), pos);
    return std::nullopt;
  };
  auto mixed_schemas = [&] {
    ev.ctx().warn(fmt::format("vector contains a mix of histograms with exponential and custom buckets schemas for "
                              "metric name {}", go_quote(metric)),
                  pos);
    return std::nullopt;
  };
  for (const auto& h : hs) {
    if (!h) return mixed();
  }
  FloatHistogram prev = *hs[0];
  const FloatHistogram& last = *hs[n - 1];
  bool not_counter = counter && (prev.hint == CounterResetHint::kGauge || last.hint == CounterResetHint::kGauge);
  if (counter && (start_time_reset_at(w, 1) || hs[1]->detect_reset(prev))) {
    FloatHistogram empty;
    empty.schema = hs[1]->schema;
    empty.custom_values = hs[1]->custom_values;
    prev = std::move(empty);
  }
  int32_t min_schema = std::min(prev.schema, last.schema);
  for (size_t i = 1; i + 1 < n; ++i) {
    if (!counter) continue;
    if (hs[i]->hint == CounterResetHint::kGauge) not_counter = true;
    min_schema = std::min(min_schema, hs[i]->schema);
    if (hs[i]->custom() != prev.custom()) return mixed_schemas();
  }
  if (last.custom() != prev.custom()) return mixed_schemas();
  if (not_counter) ev.ctx().warn(fmt::format("this native histogram metric is not a counter: {}", go_quote(metric)), pos);
  auto res = std::make_shared<FloatHistogram>(last);
  res->reduce_resolution(min_schema);
  bool reconciled = false;
  if (!res->add(prev, true, nullptr, &reconciled)) return mixed_schemas();
  if (counter) {
    // From the first sample, or the empty histogram standing in for it
    // when the second one already reset.
    const FloatHistogram* p = &prev;
    for (size_t i = 1; i < n; ++i) {
      if (start_time_reset_at(w, i) || hs[i]->detect_reset(*p)) res->add(*p, false, nullptr, &reconciled);
      p = hs[i].get();
    }
  } else if (hs[0]->hint != CounterResetHint::kGauge || hs[n - 1]->hint != CounterResetHint::kGauge) {
    ev.ctx().warn(fmt::format("this native histogram metric is not a gauge: {}", go_quote(metric)), pos);
  }
  if (reconciled) ev.ctx().info("mismatched custom buckets were reconciled during subtraction", pos);
  res->hint = CounterResetHint::kGauge;
  res->compact();
  // The extrapolation factor, as for floats; a counter's start is clamped
  // where its count would extrapolate to zero.
  int64_t first_t = w.t[0], last_t = w.t[n - 1];
  double to_start = static_cast<double>(first_t - w.range_start) / 1000;
  double to_end = static_cast<double>(w.range_end - last_t) / 1000;
  double sampled = static_cast<double>(last_t - first_t) / 1000;
  double avg_gap = sampled / static_cast<double>(n - 1);
  if (counter_started_inside) {
    // Counted from zero at the counter's start instead of extrapolated.
    to_start = 0;
    sampled = static_cast<double>(last_t - w.st[0]) / 1000;
    res->add(*hs[0], false, nullptr, nullptr);
    res->compact();
  } else {
    if (to_start >= avg_gap * 1.1) to_start = avg_gap / 2;
    if (counter && res->count > 0 && hs[0]->count >= 0) {
      to_start = std::min(to_start, sampled * (hs[0]->count / res->count));
    }
  }
  if (to_end >= avg_gap * 1.1) to_end = avg_gap / 2;
  double factor = sampled != 0 ? (sampled + to_start + to_end) / sampled : 1.0;
  if (rate) factor /= static_cast<double>(w.range) / 1000;
  res->mul(factor);
  return HistResult{0, std::move(res)};
}

// The samples standing for an anchored or smoothed window's bounds: the last
// at or before the range start (or the first sample), and the last sample
// (smoothed: the first at or after the range end). None when the window does
// not reach into the range.
std::optional<std::pair<size_t, size_t>> extended_bounds(const Window& w, bool smoothed) {
  const auto& t = w.t;
  size_t last = t.size() - 1;
  // The last sample at or before the range start (or the first sample).
  size_t first = static_cast<size_t>(std::partition_point(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(last),
                                                          [&](int64_t x) { return x <= w.range_start; }) -
                                     t.begin());
  first = first > 0 ? first - 1 : 0;
  if (smoothed) {
    last = static_cast<size_t>(std::partition_point(t.begin(), t.begin() + static_cast<std::ptrdiff_t>(last),
                                                    [&](int64_t x) { return x < w.range_end; }) -
                               t.begin());
  }
  if (t[last] <= w.range_start) return std::nullopt;
  if (smoothed && t[first] > w.range_end) return std::nullopt;
  return std::pair{first, last};
}

// extended_rate() over native histograms: the boundary histograms picked or
// interpolated (across a reset the later one scaled from zero), their
// difference, and the histograms before each reset inside the range added
// back.
std::optional<HistResult> extended_histogram_rate(Evaluator& ev, const Window& w, std::span<const HistogramPtr> hs,
                                                  bool smoothed, bool counter, bool rate, std::string_view metric,
                                                  PosRange pos) {
  const auto& t = w.t;
  auto warn_mixed_schemas = [&] {
    ev.ctx().warn(fmt::format("vector contains a mix of histograms with exponential and custom buckets schemas for "
                              "metric name {}", go_quote(metric)),
                  pos);
    return std::nullopt;
  };
  if (std::any_of(hs.begin(), hs.end(), [](const HistogramPtr& h) { return !h; })) {
    ev.ctx().warn(fmt::format("encountered a mix of histograms and floats for metric name {}", go_quote(metric)), pos);
    return std::nullopt;
  }
  const auto bounds = extended_bounds(w, smoothed);
  if (!bounds) return std::nullopt;
  size_t first = bounds->first, last = bounds->second;
  bool not_counter = false;
  for (size_t i = first; i <= last; ++i) {
    if (hs[i]->custom() != hs[first]->custom()) return warn_mixed_schemas();
    if (counter && hs[i]->hint == CounterResetHint::kGauge) not_counter = true;
  }
  if (not_counter) ev.ctx().warn(fmt::format("this native histogram metric is not a counter: {}", go_quote(metric)), pos);
  bool sub_reconciled = false, add_reconciled = false;
  auto interpolate = [&](size_t a, size_t b, int64_t at) {
    if (at == t[a]) return FloatHistogram(*hs[a]);
    if (at == t[b]) return FloatHistogram(*hs[b]);
    double frac = static_cast<double>(at - t[a]) / static_cast<double>(t[b] - t[a]);
    FloatHistogram r = *hs[b];
    if (counter && hs[b]->detect_reset(*hs[a])) {
      r.mul(frac);
      return r;
    }
    r.add(*hs[a], true, nullptr, &sub_reconciled);
    r.mul(frac);
    r.add(*hs[a], false, nullptr, &add_reconciled);
    return r;
  };
  FloatHistogram left = smoothed && t[first] < w.range_start ? interpolate(first, first + 1, w.range_start)
                                                              : FloatHistogram(*hs[first]);
  FloatHistogram right = smoothed && last > 0 && t[last] > w.range_end ? interpolate(last - 1, last, w.range_end)
                                                                       : FloatHistogram(*hs[last]);
  if (!counter && (left.hint != CounterResetHint::kGauge || right.hint != CounterResetHint::kGauge)) {
    ev.ctx().warn(fmt::format("this native histogram metric is not a gauge: {}", go_quote(metric)), pos);
  }
  auto res = std::make_shared<FloatHistogram>(right);
  if (!res->add(left, true, nullptr, &sub_reconciled)) return warn_mixed_schemas();
  if (counter) {
    // The boundaries are `left` and `right`; a reset the left interpolation
    // already spanned is not counted again.
    size_t from = first + 1;
    const FloatHistogram* prev = &left;
    if (smoothed && t[first] < w.range_start && hs[first + 1]->detect_reset(*hs[first])) {
      prev = hs[first + 1].get();
      ++from;
    }
    if (from <= last) {
      for (size_t i = from; i < last; ++i) {
        if (hs[i]->detect_reset(*prev) && !res->add(*prev, false, nullptr, &add_reconciled)) return warn_mixed_schemas();
        prev = hs[i].get();
      }
      if (right.detect_reset(*prev) && !res->add(*prev, false, nullptr, &add_reconciled)) return warn_mixed_schemas();
    }
  }
  if (sub_reconciled) ev.ctx().info("mismatched custom buckets were reconciled during subtraction", pos);
  if (add_reconciled) ev.ctx().info("mismatched custom buckets were reconciled during addition", pos);
  if (rate) res->div(static_cast<double>(w.range) / 1000);
  res->hint = CounterResetHint::kGauge;
  res->compact();
  return HistResult{0, std::move(res)};
}

// A window holding at least one native histogram. Functions that read
// floats only use the window's floats (an info says histograms were left
// out); nullopt: no output at this step.
std::optional<HistResult> histogram_window(Evaluator& ev, std::string_view name, const RangeFunction& fn,
                                           const Window& w, std::span<const HistogramPtr> hs,
                                           std::string_view metric, PosRange pos) {
  size_t n = w.t.size();
  size_t nh = 0;
  for (const auto& h : hs) nh += h ? 1 : 0;
  if (name == "rate" || name == "increase" || name == "delta") {
    return histogram_rate(ev, w, hs, name != "delta", name == "rate", metric, pos);
  }
  if (name == "count_over_time") return HistResult{static_cast<double>(n), nullptr};
  if (name == "present_over_time" || name == "absent_over_time") return HistResult{1, nullptr};
  if (name == "last_over_time") return HistResult{w.v[n - 1], hs[n - 1]};
  if (name == "first_over_time") return HistResult{w.v[0], hs[0]};
  if (name == "ts_of_last_over_time") return HistResult{static_cast<double>(w.t[n - 1]) / 1000, nullptr};
  if (name == "ts_of_first_over_time") return HistResult{static_cast<double>(w.t[0]) / 1000, nullptr};
  if (name == "changes" || name == "resets") {
    // Consecutive samples: histograms compare as wholes (changes) or by
    // reset detection (resets); a switch between a float and a histogram
    // counts as both.
    double k = 0;
    for (size_t i = 1; i < n; ++i) {
      const HistogramPtr& a = hs[i - 1];
      const HistogramPtr& b = hs[i];
      if (!a != !b) {
        k += 1;
      } else if (a) {
        if (name == "changes" ? !b->approx_equal(*a, 0, false) : start_time_reset_at(w, i) || b->detect_reset(*a)) {
          k += 1;
        }
      } else if (name == "changes" ? !(w.v[i] == w.v[i - 1] || (std::isnan(w.v[i]) && std::isnan(w.v[i - 1])))
                                   : w.v[i] < w.v[i - 1]) {
        k += 1;
      }
    }
    return HistResult{k, nullptr};
  }
  if (name == "irate" || name == "idelta") {
    if (n < 2) return std::nullopt;
    const HistogramPtr& a = hs[n - 2];
    const HistogramPtr& b = hs[n - 1];
    if (!a || !b) {
      ev.ctx().warn(fmt::format("encountered a mix of histograms and floats for metric name {}", go_quote(metric)), pos);
      return std::nullopt;
    }
    bool is_rate = name == "irate";
    if (is_rate && (a->hint == CounterResetHint::kGauge || b->hint == CounterResetHint::kGauge)) {
      ev.ctx().warn(fmt::format("this native histogram metric is not a counter: {}", go_quote(metric)), pos);
    }
    if (!is_rate && (a->hint != CounterResetHint::kGauge || b->hint != CounterResetHint::kGauge)) {
      ev.ctx().warn(fmt::format("this native histogram metric is not a gauge: {}", go_quote(metric)), pos);
    }
    auto res = std::make_shared<FloatHistogram>(*b);
    if (!is_rate || !(start_time_reset_at(w, n - 1) || b->detect_reset(*a))) {
      bool reconciled = false;
      if (!res->add(*a, true, nullptr, &reconciled)) {
        ev.ctx().warn(fmt::format("vector contains a mix of histograms with exponential and custom buckets schemas "
                                  "for metric name {}", go_quote(metric)),
                      pos);
        return std::nullopt;
      }
      if (reconciled) ev.ctx().info("mismatched custom buckets were reconciled during subtraction", pos);
    }
    res->hint = CounterResetHint::kGauge;
    res->compact();
    if (is_rate) {
      double interval = static_cast<double>(w.t[n - 1] - w.t[n - 2]) / 1000;
      if (interval == 0) return std::nullopt;
      res->div(interval);
    }
    return HistResult{0, std::move(res)};
  }
  if (name == "sum_over_time" || name == "avg_over_time") {
    if (nh != n) {
      ev.ctx().warn(fmt::format("encountered a mix of histograms and floats for metric name {}", go_quote(metric)), pos);
      return std::nullopt;
    }
    HistogramAccumulator acc(name == "avg_over_time");
    bool reconciled = false;
    for (size_t i = 0; i < n; ++i) {
      if (!acc.add(*hs[i], &reconciled)) {
        ev.ctx().warn(fmt::format("vector contains a mix of histograms with exponential and custom buckets schemas "
                                  "for metric name {}", go_quote(metric)),
                      pos);
        return std::nullopt;
      }
    }
    if (acc.counter_reset_collision()) ev.ctx().warn("conflicting counter resets during histogram aggregation", pos);
    if (reconciled) ev.ctx().info("mismatched custom buckets were reconciled during aggregation", pos);
    auto res = std::make_shared<FloatHistogram>(acc.take());
    res->compact();
    return HistResult{0, std::move(res)};
  }
  // Floats only.
  if (nh == n) return std::nullopt;
  std::vector<int64_t> ft;
  std::vector<double> fv;
  for (size_t i = 0; i < n; ++i) {
    if (hs[i]) continue;
    ft.push_back(w.t[i]);
    fv.push_back(w.v[i]);
  }
  ev.ctx().info(fmt::format("ignored histograms in a range containing both floats and histograms for metric name {}",
                            go_quote(metric)),
                pos);
  Window fw = w;
  fw.t = ft;
  fw.v = fv;
  std::optional<double> r = fn.kernel(fw);
  if (!r) return std::nullopt;
  return HistResult{*r, nullptr};
}

// rate, increase and delta over an anchored or smoothed window (upstream's
// extended range selectors): `w` also holds the samples the lookback reaches
// before the range (and, smoothed, after it). Anchored: the last sample at or
// before the range start stands in for the start; smoothed: the values at
// both boundaries are interpolated between their neighbours. No
// extrapolation.
double interpolate_at(int64_t t1, double y1, int64_t t2, double y2, int64_t t, bool counter) {
  if (counter && y2 < y1) y1 = 0;
  return y1 + (y2 - y1) * static_cast<double>(t - t1) / static_cast<double>(t2 - t1);
}

std::optional<double> extended_rate(const Window& w, bool smoothed, bool counter, bool rate) {
  const auto& t = w.t;
  const auto& v = w.v;
  const auto bounds = extended_bounds(w, smoothed);
  if (!bounds) return std::nullopt;
  size_t first = bounds->first, last = bounds->second;
  double left = smoothed && t[first] < w.range_start
                    ? interpolate_at(t[first], v[first], t[first + 1], v[first + 1], w.range_start, counter)
                    : v[first];
  double right = smoothed && last > 0 && t[last] > w.range_end
                     ? interpolate_at(t[last - 1], v[last - 1], t[last], v[last], w.range_end, counter)
                     : v[last];
  double result = right - left;
  if (counter) {
    // Resets strictly inside the range; the boundaries handled theirs.
    size_t lo = t[first] <= w.range_start ? first + 1 : first;
    ptrdiff_t hi = t[last] >= w.range_end ? static_cast<ptrdiff_t>(last) - 1 : static_cast<ptrdiff_t>(last);
    double prev = left;
    for (ptrdiff_t i = static_cast<ptrdiff_t>(lo); i <= hi; ++i) {
      if (v[static_cast<size_t>(i)] < prev) result += prev;
      prev = v[static_cast<size_t>(i)];
    }
    if (right < prev) result += prev;
  }
  if (rate) result /= static_cast<double>(w.range) / 1000;
  return result;
}

// The part of an anchored window resets() and changes() read: from the last
// sample at or before the range start on; nothing when no sample is inside
// the range.
std::optional<std::pair<size_t, size_t>> anchored_span(const Window& w) {
  size_t inside = static_cast<size_t>(
      std::partition_point(w.t.begin(), w.t.end(), [&](int64_t x) { return x <= w.range_start; }) - w.t.begin());
  if (inside == w.t.size()) return std::nullopt;
  size_t from = inside > 0 ? inside - 1 : 0;
  return std::pair{from, w.t.size() - from};
}

bool counter_like_name(std::string_view name) {
  for (std::string_view suffix : {"_total", "_sum", "_count", "_bucket"}) {
    if (name.ends_with(suffix)) return true;
  }
  return false;
}

}  // namespace

bool is_range_function(std::string_view name) {
  for (const auto& f : kRangeFunctions) {
    if (f.name == name) return true;
  }
  return false;
}

Mat eval_range_function(Evaluator& ev, const Call& c, size_t matrix_arg) {
  std::string_view name = c.func->name;
  const RangeFunction& fn = find_range_function(name);
  const Grid& g = ev.grid();
  const int64_t n = g.steps();
  const Expr& arg = unwrap_parens(*c.args[matrix_arg]);

  // Scalar arguments, per step.
  std::vector<std::vector<double>> scalars;
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (i == matrix_arg) continue;
    scalars.push_back(ev.eval_scalar_steps(unwrap_parens(*c.args[i])));
  }
  const TimeModifiers& mods =
      as<MatrixSelector>(&arg) ? as<MatrixSelector>(&arg)->selector->mods : as<SubqueryExpr>(&arg)->mods;
  std::vector<int64_t> ref(n);
  for (int64_t i = 0; i < n; ++i) ref[i] = ev.ref_time(mods, g.at(i));
  const VectorSelector* extended = nullptr;  // an anchored or smoothed selector
  if (auto* ms = as<MatrixSelector>(&arg); ms && (ms->selector->anchored || ms->selector->smoothed)) {
    extended = ms->selector.get();
    bool anchored = extended->anchored;
    bool safe = name == "rate" || name == "increase" || name == "delta" ||
                (anchored && (name == "resets" || name == "changes"));
    if (!safe) {
      eval_fail(fmt::format("{} modifier can only be used with: {} - not with {}", anchored ? "anchored" : "smoothed",
                            anchored ? "changes, delta, increase, rate, resets" : "delta, increase, rate", name));
    }
  }
  RangeInput in = read_range_arg(ev, arg, ref.front(), ref.back());
  const Millis range = in.range;
  const Millis before = extended ? ev.ctx().opts->lookback_delta : 0;
  const Millis after = extended && extended->smoothed ? ev.ctx().opts->lookback_delta : 0;

  if (name == "quantile_over_time") {
    for (int64_t i = 0; i < n; ++i) {
      double q = scalars[0][i];
      if (std::isnan(q) || q < 0 || q > 1) {
        bool any = false;
        for (size_t k = 0; k < in.views.size() && !any; ++k) any = !in.load(k).v.empty();
        if (any) {
          ev.ctx().warn(fmt::format("quantile value should be between 0 and 1, got {}", go_format_float(q, 'g', -1)),
                        c.args[0]->pos);
        }
      }
    }
  }

  const bool counter_function = name == "rate" || name == "increase";
  // Start timestamps reach these functions from stored series only (a
  // subquery's points have none).
  const StartTimes* start_times =
      (counter_function || name == "irate" || name == "resets") && as<MatrixSelector>(&arg) ? ev.ctx().opts->start_times
                                                                                            : nullptr;
  std::vector<int64_t> sts;
  std::vector<double> args(scalars.size());
  Mat out;
  out.reserve(in.views.size());
  for (size_t si = 0; si < in.views.size(); ++si) {
    ev.ctx().tick();
    const RangeInput::View view = in.load(si);
    sts.clear();
    if (start_times) {
      if (auto found = start_times->by_series.find(*view.labels); found != start_times->by_series.end()) {
        sts.reserve(view.t.size());
        for (int64_t t : view.t) {
          auto st = found->second.find(t);
          sts.push_back(st == found->second.end() ? 0 : st->second);
        }
      }
    }
    bool overlap_warned = false;
    SeriesData sd;
    size_t lo = 0, hi = 0;
    int64_t last_window = 0;
    for (int64_t i = 0; i < n; ++i) {
      ev.ctx().tick();
      int64_t rt = ref[i];
      if (i > 0 && rt < ref[i - 1]) lo = hi = 0;
      while (hi < view.t.size() && view.t[hi] <= rt + after) ++hi;
      while (lo < hi && view.t[lo] <= ev.window_open_start(rt, range) - before) ++lo;
      if (lo == hi) continue;
      // The window's points count against max_samples, as in Prometheus,
      // though they are read in place; this series' outputs join the count
      // once the series is done (below).
      last_window = static_cast<int64_t>(hi - lo);
      ev.ctx().fit(last_window - static_cast<int64_t>(sd.t.size()));
      for (size_t a = 0; a < scalars.size(); ++a) args[a] = scalars[a][i];
      Window w{view.t.subspan(lo, hi - lo), view.v.subspan(lo, hi - lo), g.at(i), rt - range, rt, range,
               args.data()};
      if (!sts.empty()) {
        w.st = std::span<const int64_t>(sts).subspan(lo, hi - lo);
        if (counter_function && !overlap_warned) {
          for (size_t k = 1; k < w.t.size() && !overlap_warned; ++k) {
            if (!start_time_overlap(w, k)) continue;
            overlap_warned = true;
            ev.ctx().warn(fmt::format("sample has start time that overlaps with previous sample timestamp for metric {}",
                                      go_quote(view.labels->get("__name__"))),
                          c.args[matrix_arg]->pos);
          }
        }
      }
      size_t from = lo;  // where the window's histograms start
      if (extended) {
        bool any_hist = !view.h.empty() && std::any_of(view.h.begin() + static_cast<std::ptrdiff_t>(lo),
                                                        view.h.begin() + static_cast<std::ptrdiff_t>(hi),
                                                        [](const HistogramPtr& h) { return h != nullptr; });
        if (name == "resets" || name == "changes") {
          auto span = anchored_span(w);
          if (!span) continue;
          w.t = w.t.subspan(span->first, span->second);
          w.v = w.v.subspan(span->first, span->second);
          from = lo + span->first;
        } else {
          if (any_hist) {
            auto r = extended_histogram_rate(ev, w, view.h.subspan(lo, hi - lo), extended->smoothed, name != "delta",
                                             name == "rate", view.labels->get("__name__"), c.args[matrix_arg]->pos);
            if (!r) continue;
            ev.ctx().hold(1);
            sd.push(g.at(i), 0, std::move(r->h));
            continue;
          }
          std::optional<double> r = extended_rate(w, extended->smoothed, name != "delta", name == "rate");
          if (!r) continue;
          ev.ctx().hold(1);
          sd.push(g.at(i), *r);
          continue;
        }
      }
      if (!view.h.empty()) {
        std::span<const HistogramPtr> hs = view.h.subspan(from, w.t.size());
        if (std::any_of(hs.begin(), hs.end(), [](const HistogramPtr& h) { return h != nullptr; })) {
          auto r = histogram_window(ev, name, fn, w, hs, view.labels->get("__name__"), c.args[matrix_arg]->pos);
          if (!r) continue;
          ev.ctx().hold(1);
          sd.push(g.at(i), r->v, std::move(r->h));
          continue;
        }
      }
      std::optional<double> r = fn.kernel(w);
      if (!r) continue;
      ev.ctx().hold(1);
      sd.push(g.at(i), *r);
    }
    if (sd.t.empty()) continue;
    ev.ctx().fit(last_window);  // the outputs are held; the last window still is too
    if (counter_function) {
      std::string_view metric = view.labels->get("__name__");
      if (!metric.empty() && !counter_like_name(metric)) {
        ev.ctx().info(fmt::format("metric might not be a counter, name does not end in "
                                  "_total/_sum/_count/_bucket: {}",
                                  go_quote(metric)),
                      c.args[matrix_arg]->pos);
      }
    }
    sd.labels = *view.labels;
    sd.drop_name = !fn.keeps_name || view.drop_name;
    out.push_back(std::move(sd));
  }
  ev.ctx().release(count_points(in.owned));

  if (name == "absent_over_time") {
    // One series, present at the steps where no input series had samples.
    std::vector<char> found(n, 0);
    for (const auto& s : out) {
      for (int64_t t : s.t) found[g.index(t)] = 1;
    }
    ev.ctx().release(count_points(out));
    SeriesData abs;
    abs.labels = absent_labels(arg);
    abs.drop_name = true;
    for (int64_t i = 0; i < n; ++i) {
      if (found[i]) continue;
      abs.t.push_back(g.at(i));
      abs.v.push_back(1);
    }
    Mat m;
    if (!abs.t.empty()) {
      ev.ctx().hold(static_cast<int64_t>(abs.t.size()));
      m.push_back(std::move(abs));
    }
    return m;
  }
  return out;
}

}  // namespace vigil::promql::detail
