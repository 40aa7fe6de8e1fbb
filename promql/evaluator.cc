#include "promql/evaluator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include <fmt/format.h>

#include "model/names.h"
#include "model/stack.h"
#include "model/xxhash.h"
#include "promql/functions.h"
#include "promql/numeric.h"

namespace vigil::promql::detail {

void eval_fail(std::string message) { throw EvalError{std::move(message)}; }

Millis QueryContext::now_ms() const {
  if (opts->clock) return opts->clock->now();
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void QueryContext::check_deadline() const {
  if (opts->cancel && opts->cancel->load(std::memory_order_relaxed)) {
    eval_fail("query was canceled in expression evaluation");
  }
  if (now_ms() >= deadline) eval_fail("query timed out in expression evaluation");
}

void QueryContext::too_many_samples() {
  eval_fail("query processing would load too many samples into memory in query execution");
}

const std::vector<StepCursor::Item>& StepCursor::values(int64_t t) {
  items_.clear();
  for (size_t i = 0; i < m_.size(); ++i) {
    const auto& ts = m_[i].t;
    size_t& p = pos_[i];
    while (p < ts.size() && ts[p] < t) ++p;
    if (p < ts.size() && ts[p] == t) {
      items_.push_back({i, m_[i].v[p], m_[i].is_hist(p) ? &m_[i].h[p] : nullptr});
      ++p;
    }
  }
  return items_;
}

void OutputBuilder::add(const Labels& labels, bool drop_name, int64_t t, double v, HistogramPtr h) {
  ctx_.tick();
  auto [it, fresh] = by_hash_.try_emplace(labels.hash(), out_.size());
  if (!fresh) {
    size_t idx = it->second;
    while (true) {
      SeriesData& s = out_[idx];
      if (s.labels == labels) {
        if (!s.t.empty() && s.t.back() == t) {
          eval_fail("vector cannot contain metrics with the same labelset");
        }
        s.push(t, v, std::move(h));
        ctx_.hold(1);
        return;
      }
      if (next_[idx] == SIZE_MAX) break;
      idx = next_[idx];
    }
    next_[idx] = out_.size();  // a new output with a colliding hash
  }
  next_.push_back(SIZE_MAX);
  out_.push_back(SeriesData{labels, {}, {}, drop_name, {}});
  out_.back().push(t, v, std::move(h));
  ctx_.hold(1);
}

void strip_histograms(QueryContext& ctx, Mat& m) {
  bool any = false;
  for (const auto& s : m) any = any || s.has_hist();
  if (!any) return;
  Mat out;
  out.reserve(m.size());
  for (auto& s : m) {
    if (!s.has_hist()) {
      out.push_back(std::move(s));
      continue;
    }
    SeriesData f{std::move(s.labels), {}, {}, s.drop_name, {}};
    for (size_t i = 0; i < s.t.size(); ++i) {
      if (s.h[i]) {
        ctx.release(1);
      } else {
        f.t.push_back(s.t[i]);
        f.v.push_back(s.v[i]);
      }
    }
    if (!f.t.empty()) out.push_back(std::move(f));
  }
  m = std::move(out);
}

Mat Evaluator::eval_floats(const Expr& e) {
  Mat m = eval(e);
  strip_histograms(ctx_, m);
  return m;
}

int64_t count_points(const Mat& m) {
  int64_t n = 0;
  for (const auto& s : m) n += static_cast<int64_t>(s.t.size());
  return n;
}

void drop_metric_name(SeriesData& s) {
  // The type and unit labels describe the metric the name names: they go
  // with it, as upstream drops every metadata label.
  if (s.labels.has("__name__") || s.labels.has("__type__") || s.labels.has("__unit__")) {
    s.labels = LabelsBuilder(s.labels).del("__name__").del("__type__").del("__unit__").build();
  }
  s.drop_name = false;
}

Mat merge_same_labelsets(Mat m) {
  std::unordered_map<uint64_t, std::vector<size_t>> groups;
  bool collision = false;
  std::vector<size_t> first_of(m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    auto& bucket = groups[m[i].labels.hash()];
    first_of[i] = i;
    for (size_t j : bucket) {
      if (m[j].labels == m[i].labels) {
        first_of[i] = j;
        collision = true;
        break;
      }
    }
    if (first_of[i] == i) bucket.push_back(i);
  }
  if (!collision) return m;
  Mat out;
  std::vector<size_t> slot(m.size(), SIZE_MAX);
  for (size_t i = 0; i < m.size(); ++i) {
    size_t f = first_of[i];
    if (f == i) {
      slot[i] = out.size();
      out.push_back(std::move(m[i]));
      continue;
    }
    SeriesData& base = out[slot[f]];
    struct Pt {
      int64_t t;
      double v;
      HistogramPtr h;
    };
    std::vector<Pt> pts;
    for (size_t k = 0; k < base.t.size(); ++k) pts.push_back({base.t[k], base.v[k], base.is_hist(k) ? base.h[k] : nullptr});
    for (size_t k = 0; k < m[i].t.size(); ++k) pts.push_back({m[i].t[k], m[i].v[k], m[i].is_hist(k) ? m[i].h[k] : nullptr});
    std::stable_sort(pts.begin(), pts.end(), [](const Pt& a, const Pt& b) { return a.t < b.t; });
    base.t.clear();
    base.v.clear();
    base.h.clear();
    for (size_t k = 0; k < pts.size(); ++k) {
      if (k > 0 && pts[k].t == pts[k - 1].t) {
        eval_fail("vector cannot contain metrics with the same labelset");
      }
      base.push(pts[k].t, pts[k].v, std::move(pts[k].h));
    }
  }
  return out;
}

uint64_t prometheus_labels_hash(const Labels& ls) {
  std::string b;
  for (const auto& l : ls) {
    b += l.name;
    b += '\xff';
    b += l.value;
    b += '\xff';
  }
  return xxhash64(b);
}

Labels absent_labels(const Expr& arg) {
  const VectorSelector* vs = as<VectorSelector>(&arg);
  if (auto* ms = as<MatrixSelector>(&arg)) vs = ms->selector.get();
  if (!vs) return {};
  LabelsBuilder b;
  std::vector<std::string> seen;
  for (const auto& m : vs->matchers) {
    if (m.name() == "__name__") continue;
    bool dup = std::find(seen.begin(), seen.end(), m.name()) != seen.end();
    if (m.type() == MatchType::kEqual && !dup) {
      b.set(m.name(), m.value());
      seen.push_back(m.name());
    } else {
      b.del(m.name());
    }
  }
  return b.build();
}

// ---------------------------------------------------------------------------

namespace {

double duration_seconds(const Expr& e, const QueryContext& ctx) {
  if (auto* n = as<NumberLiteral>(&e)) return n->value;
  if (auto* p = as<ParenExpr>(&e)) return duration_seconds(*p->expr, ctx);
  if (auto* u = as<UnaryExpr>(&e)) {
    double v = duration_seconds(*u->expr, ctx);
    return u->op == UnaryOp::kSub ? -v : v;
  }
  auto* d = as<DurationExpr>(&e);
  if (!d) eval_fail("unexpected expression in a duration");
  auto side = [&](const ExprPtr& x) { return x ? duration_seconds(*x, ctx) : 0.0; };
  switch (d->op) {
    case DurationOp::kStep:
      return static_cast<double>(ctx.query_step) / 1000.0;
    case DurationOp::kRange:
      return static_cast<double>(ctx.query_end - ctx.query_start) / 1000.0;
    case DurationOp::kAdd:
      return d->lhs ? side(d->lhs) + side(d->rhs) : side(d->rhs);
    case DurationOp::kSub:
      return d->lhs ? side(d->lhs) - side(d->rhs) : -side(d->rhs);
    case DurationOp::kMul: return side(d->lhs) * side(d->rhs);
    case DurationOp::kDiv: return side(d->lhs) / side(d->rhs);
    case DurationOp::kMod: return std::fmod(side(d->lhs), side(d->rhs));
    case DurationOp::kPow: return std::pow(side(d->lhs), side(d->rhs));
    case DurationOp::kMinOf: return std::min(side(d->lhs), side(d->rhs));
    case DurationOp::kMaxOf: return std::max(side(d->lhs), side(d->rhs));
  }
  return 0;
}

}  // namespace

Millis Evaluator::duration_of(Millis fixed, const DurationExpr* e) {
  if (!e) return fixed;
  double s = duration_seconds(*e, ctx_);
  if (!std::isfinite(s) || std::fabs(s) > 9.2e15) eval_fail("duration out of range");
  return static_cast<Millis>(std::llround(s * 1000.0));
}

Millis Evaluator::offset_of(const TimeModifiers& m) { return duration_of(m.offset, m.offset_expr.get()); }

int64_t Evaluator::ref_time(const TimeModifiers& m, int64_t t) {
  int64_t base = t;
  switch (m.at) {
    case AtKind::kNone: break;
    case AtKind::kTimestamp: base = m.at_timestamp; break;
    case AtKind::kStart: base = ctx_.query_start; break;
    case AtKind::kEnd: base = ctx_.query_end; break;
  }
  return base - offset_of(m);
}

Mat Evaluator::constant(double v) {
  SeriesData s;
  int64_t n = grid_.steps();
  ctx_.hold(n);
  s.t.reserve(n);
  for (int64_t i = 0; i < n; ++i) s.t.push_back(grid_.at(i));
  s.v.assign(n, v);
  Mat m;
  m.push_back(std::move(s));
  return m;
}

std::vector<double> Evaluator::eval_scalar_steps(const Expr& e) {
  std::vector<double> out(grid_.steps(), std::nan(""));
  Mat m = eval_floats(e);
  if (!m.empty()) {
    for (size_t k = 0; k < m[0].t.size(); ++k) out[grid_.index(m[0].t[k])] = m[0].v[k];
  }
  ctx_.release(count_points(m));
  return out;
}

std::string Evaluator::eval_string(const Expr& e) {
  const Expr& u = unwrap_parens(e);
  if (auto* s = as<StringLiteral>(&u)) return s->value;
  eval_fail("expected a string literal");
}

Mat Evaluator::eval(const Expr& e) {
  ctx_.check_deadline();
  // The parser bounds a tree's height; what evaluating a level costs in
  // stack depends on the build and the thread.
  if (stack_low()) eval_fail("expression nested too deeply to evaluate");
  if (grid_.steps() == 0) return {};
  switch (e.kind) {
    case ExprKind::kVectorSelector: case ExprKind::kMatrixSelector: case ExprKind::kSubquery:
    case ExprKind::kParen:
      break;  // no per-step arrays: what they hold is counted as it is read
    default:
      ctx_.fit(grid_.steps());
  }
  switch (e.kind) {
    case ExprKind::kNumberLiteral: return constant(static_cast<const NumberLiteral&>(e).value);
    case ExprKind::kDuration:
      return constant(duration_seconds(e, ctx_));
    case ExprKind::kStringLiteral: eval_fail("a string cannot be evaluated as a vector");
    case ExprKind::kVectorSelector: return eval_vector_selector(static_cast<const VectorSelector&>(e));
    case ExprKind::kMatrixSelector: return eval_matrix_selector(static_cast<const MatrixSelector&>(e));
    case ExprKind::kSubquery: return eval_subquery_points(static_cast<const SubqueryExpr&>(e));
    case ExprKind::kAggregate: return eval_aggregation(*this, static_cast<const AggregateExpr&>(e));
    case ExprKind::kBinary: return eval_binary_op(*this, static_cast<const BinaryExpr&>(e));
    case ExprKind::kUnary: return eval_unary(static_cast<const UnaryExpr&>(e));
    case ExprKind::kParen: return eval(*static_cast<const ParenExpr&>(e).expr);
    case ExprKind::kCall: return eval_function(*this, static_cast<const Call&>(e));
  }
  eval_fail("unknown expression");
}

namespace {

void find_stats_selectors(const Expr& e, bool stats, std::vector<const VectorSelector*>& out) {
  if (auto* vs = as<VectorSelector>(&e)) {
    if (stats) out.push_back(vs);
    return;
  }
  if (e.kind == ExprKind::kSubquery) return;
  if (auto* b = as<BinaryExpr>(&e); b && (b->op == BinaryOp::kTrimUpper || b->op == BinaryOp::kTrimLower)) return;
  if (auto* c = as<Call>(&e)) {
    std::string_view name = c->func->name;
    if (name == "histogram_quantile" || name == "histogram_quantiles" || name == "histogram_fraction") return;
    if (name == "histogram_count" || name == "histogram_sum" || name == "histogram_avg") stats = true;
  }
  for_each_child(e, [&](const Expr& child) { find_stats_selectors(child, stats, out); });
}

}  // namespace

std::vector<const VectorSelector*> stats_selectors(const Expr& e) {
  std::vector<const VectorSelector*> out;
  find_stats_selectors(e, false, out);
  return out;
}

void read_with_histograms(const storage::Series& s, int64_t after, int64_t until, SeriesData& out,
                          bool skip_stale, bool stats_hints) {
  const size_t begin = out.t.size();
  std::vector<int64_t> ft;
  std::vector<double> fv;
  s.read(after, until, ft, fv, skip_stale);
  std::vector<int64_t> ht;
  std::vector<HistogramPtr> hh;
  if (s.num_histograms() > 0) s.read_histograms(after, until, ht, hh);
  size_t fi = 0, hi = 0;
  while (fi < ft.size() || hi < ht.size()) {
    bool take_hist = hi < ht.size() && (fi >= ft.size() || ht[hi] <= ft[fi]);
    if (take_hist) {
      if (fi < ft.size() && ft[fi] == ht[hi]) ++fi;  // a histogram wins over a float at the same time
      out.push(ht[hi], 0, std::move(hh[hi]));
      ++hi;
    } else {
      out.push(ft[fi], fv[fi]);
      ++fi;
    }
  }
  if (!stats_hints) return;
  const FloatHistogram* prev = nullptr;
  for (size_t i = begin; i < out.t.size(); ++i) {
    if (!out.is_hist(i)) continue;
    const FloatHistogram* cur = out.h[i].get();
    if (cur->hint == CounterResetHint::kUnknown && prev) {
      auto hinted = std::make_shared<FloatHistogram>(*cur);
      hinted->hint = cur->detect_reset(*prev) ? CounterResetHint::kReset : CounterResetHint::kNotReset;
      out.h[i] = std::move(hinted);
    }
    prev = cur;
  }
}

Mat Evaluator::eval_vector_selector(const VectorSelector& vs, bool sample_times) {
  if (vs.anchored) eval_fail("anchored modifier can only be used with range vectors");
  if (vs.smoothed) return eval_smoothed_selector(vs);
  const auto& store = *ctx_.store;
  std::vector<storage::SeriesRef> refs = store.select(vs.matchers);
  const int64_t lookback = ctx_.opts->lookback_delta;
  const int64_t n = grid_.steps();
  // Reference times never decrease from step to step (they are constant
  // under @), so each series is walked forward once. They are computed per
  // step rather than kept in an array: a subquery's grid can have billions
  // of steps while its series hold few points.
  const bool fixed = vs.mods.at != AtKind::kNone;
  const int64_t fixed_ref = ref_time(vs.mods, grid_.start);
  const Millis offset = offset_of(vs.mods);
  auto ref_at = [&](int64_t i) { return fixed ? fixed_ref : grid_.at(i) - offset; };
  Mat out;
  for (size_t si = 0; si < refs.size(); ++si) {
    ctx_.tick();
    const storage::Series& s = store.get(refs[si]);
    if (!s.histograms().empty()) {
      // Floats and native histograms merged in time order: read the span
      // every step's lookback covers, then walk it.
      int64_t first = ref_at(0), last = ref_at(n - 1);
      SeriesData raw;
      read_with_histograms(s, window_open_start(std::min(first, last), lookback), std::max(first, last), raw, false,
                           ctx_.stats_only(vs));
      SeriesData sd;
      size_t p = 0;
      for (int64_t i = 0; i < n; ++i) {
        ctx_.tick();
        const int64_t ref = ref_at(i);
        if (i > 0 && ref < ref_at(i - 1)) p = 0;
        while (p < raw.t.size() && raw.t[p] <= ref) ++p;
        if (p == 0) continue;
        size_t k = p - 1;
        if (raw.t[k] <= window_open_start(ref, lookback)) continue;
        if (!raw.is_hist(k) && storage::is_stale_nan(raw.v[k])) continue;
        ctx_.hold(1);
        if (sample_times) {
          sd.push(grid_.at(i), static_cast<double>(raw.t[k]) / 1000);
        } else {
          sd.push(grid_.at(i), raw.v[k], raw.is_hist(k) ? raw.h[k] : nullptr);
        }
      }
      if (sd.t.empty()) continue;
      sd.labels = s.labels;
      sd.drop_name = sample_times;
      out.push_back(std::move(sd));
      continue;
    }
    if (s.empty()) continue;
    SeriesData sd;
    // `prev` is the last sample at or before the step's reference time; `it`
    // the first one after it. When the first reference time is past the
    // series' end (an evaluation at "now"), every step sees the last sample
    // and nothing is decoded.
    bool have_prev = false;
    int64_t prev_t = 0;
    double prev_v = 0;
    storage::SampleIterator it = s.samples();
    bool more = false;
    if (ref_at(0) >= s.max_time()) {
      have_prev = true;
      prev_t = s.max_time();
      prev_v = s.last_value();
    } else {
      more = it.seek_after(window_open_start(ref_at(0), lookback));
    }
    for (int64_t i = 0; i < n; ++i) {
      ctx_.tick();
      const int64_t ref = ref_at(i);
      while (more && it.t() <= ref) {
        have_prev = true;
        prev_t = it.t();
        prev_v = it.v();
        more = it.next();
      }
      if (!have_prev || prev_t <= window_open_start(ref, lookback)) continue;
      if (storage::is_stale_nan(prev_v)) continue;
      ctx_.hold(1);
      sd.t.push_back(grid_.at(i));
      sd.v.push_back(sample_times ? static_cast<double>(prev_t) / 1000 : prev_v);
    }
    if (sd.t.empty()) continue;
    sd.labels = s.labels;
    sd.drop_name = sample_times;
    out.push_back(std::move(sd));
  }
  return out;
}

// `metric smoothed`: at each step the value at the reference time itself,
// interpolated linearly between the samples on either side within the
// lookback (the last one carried forward when none follows), as upstream's
// smoothed selectors. Histograms interpolate as counters unless both are
// gauges; across a reset the later one is scaled from zero.
Mat Evaluator::eval_smoothed_selector(const VectorSelector& vs) {
  const auto& store = *ctx_.store;
  const int64_t lookback = ctx_.opts->lookback_delta;
  const int64_t n = grid_.steps();
  if (n <= 0) return {};
  std::vector<int64_t> ref(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) ref[static_cast<size_t>(i)] = ref_time(vs.mods, grid_.at(i));
  const int64_t lo_ref = *std::min_element(ref.begin(), ref.end());
  const int64_t hi_ref = *std::max_element(ref.begin(), ref.end());
  std::string_view metric;
  Mat out;
  for (storage::SeriesRef r : store.select(vs.matchers)) {
    ctx_.tick();
    const storage::Series& s = store.get(r);
    SeriesData raw;
    read_with_histograms(s, lo_ref - lookback, hi_ref + lookback, raw, true);
    metric = s.labels.get("__name__");
    SeriesData sd;
    for (int64_t i = 0; i < n; ++i) {
      ctx_.tick();
      const int64_t at = ref[static_cast<size_t>(i)];
      // The samples in (at - lookback, at + lookback].
      auto begin = std::upper_bound(raw.t.begin(), raw.t.end(), at - lookback);
      auto end = std::upper_bound(raw.t.begin(), raw.t.end(), at + lookback);
      if (begin == end) continue;
      const size_t b = static_cast<size_t>(begin - raw.t.begin()), e = static_cast<size_t>(end - raw.t.begin());
      bool hist = false, flt = false;
      for (size_t k = b; k < e; ++k) (raw.is_hist(k) ? hist : flt) = true;
      if (hist && flt) {
        ctx_.warn(fmt::format("encountered a mix of histograms and floats for metric name {}", go_quote(metric)),
                  vs.pos);
        continue;
      }
      const size_t k = static_cast<size_t>(std::lower_bound(begin, end, at) - raw.t.begin());
      if (k < e && raw.t[k] == at) {
        ctx_.hold(1);
        sd.push(grid_.at(i), raw.v[k], hist ? raw.h[k] : nullptr);
        continue;
      }
      if (k == b) continue;  // nothing at or before the reference time
      if (k == e) {  // nothing after it: the last value carries forward
        HistogramPtr h;
        if (hist) {
          auto c = std::make_shared<FloatHistogram>(*raw.h[k - 1]);
          c->hint = CounterResetHint::kUnknown;
          h = std::move(c);
        }
        ctx_.hold(1);
        sd.push(grid_.at(i), raw.v[k - 1], std::move(h));
        continue;
      }
      const double frac = static_cast<double>(at - raw.t[k - 1]) / static_cast<double>(raw.t[k] - raw.t[k - 1]);
      if (!hist) {
        ctx_.hold(1);
        sd.push(grid_.at(i), raw.v[k - 1] + (raw.v[k] - raw.v[k - 1]) * frac);
        continue;
      }
      const FloatHistogram& h1 = *raw.h[k - 1];
      const FloatHistogram& h2 = *raw.h[k];
      if (h1.custom() != h2.custom()) {
        ctx_.warn(fmt::format("vector contains a mix of histograms with exponential and custom buckets schemas for "
                              "metric name {}", go_quote(metric)),
                  vs.pos);
        continue;
      }
      bool counter = h1.hint != CounterResetHint::kGauge || h2.hint != CounterResetHint::kGauge;
      auto res = std::make_shared<FloatHistogram>(h2);
      if (!(counter && h2.detect_reset(h1))) {
        res->add(h1, true, nullptr, nullptr);
        res->mul(frac);
        res->add(h1, false, nullptr, nullptr);
      } else {
        res->mul(frac);
      }
      ctx_.hold(1);
      sd.push(grid_.at(i), 0, std::move(res));
    }
    if (sd.t.empty()) continue;
    sd.labels = s.labels;
    out.push_back(std::move(sd));
  }
  return out;
}

Mat Evaluator::eval_matrix_selector(const MatrixSelector& ms) {
  if (grid_.steps() != 1) eval_fail("cannot do range evaluation of matrix selector");
  const VectorSelector& vs = *ms.selector;
  if (vs.anchored || vs.smoothed) {
    eval_fail("the anchored and smoothed modifiers are not supported");
  }
  const auto& store = *ctx_.store;
  Millis range = duration_of(ms.range, ms.range_expr.get());
  int64_t rt = ref_time(vs.mods, grid_.start);
  Mat out;
  for (storage::SeriesRef ref : store.select(vs.matchers)) {
    ctx_.tick();
    const storage::Series& s = store.get(ref);
    SeriesData sd;
    const int64_t after = window_open_start(rt, range);
    if (!s.histograms().empty()) {
      read_with_histograms(s, after, rt, sd, true, ctx_.stats_only(vs));
      ctx_.hold(static_cast<int64_t>(sd.t.size()));
      if (sd.t.empty()) continue;
      sd.labels = s.labels;
      out.push_back(std::move(sd));
      continue;
    }
    if (s.empty() || s.max_time() <= after) continue;
    // Counted as read: one long series can exceed the limit alone.
    storage::SampleIterator it = s.samples();
    for (bool ok = it.seek_after(after); ok && it.t() <= rt; ok = it.next()) {
      const double v = it.v();
      if (storage::is_stale_nan(v)) continue;
      ctx_.hold(1);
      sd.t.push_back(it.t());
      sd.v.push_back(v);
    }
    if (sd.t.empty()) continue;
    sd.labels = s.labels;
    out.push_back(std::move(sd));
  }
  return out;
}

Mat Evaluator::eval_subquery_points(const SubqueryExpr& sq) {
  Millis range = duration_of(sq.range, sq.range_expr.get());
  Millis step = duration_of(sq.step, sq.step_expr.get());
  if (step == 0) step = ctx_.opts->default_subquery_step;
  if (step <= 0) eval_fail("zero or negative subquery step");
  int64_t ref_start, ref_end;
  if (sq.mods.at != AtKind::kNone) {
    ref_start = ref_end = ref_time(sq.mods, grid_.start);
  } else {
    Millis offset = offset_of(sq.mods);
    ref_start = grid_.start - offset;
    ref_end = grid_.at(grid_.steps() - 1) - offset;
  }
  // The first multiple of the step after the window's open start.
  int64_t start = (floor_div(window_open_start(ref_start, range), step) + 1) * step;
  Evaluator inner(ctx_, Grid{start, ref_end, step});
  Mat m = inner.eval(*sq.expr);
  // A subquery may skip samples or repeat one: counter-reset hints of its
  // histograms no longer describe neighbours, so they become unknown and
  // resets are detected from the values (as upstream).
  for (auto& s : m) {
    for (auto& h : s.h) {
      if (!h || (h->hint != CounterResetHint::kNotReset && h->hint != CounterResetHint::kReset)) continue;
      auto c = std::make_shared<FloatHistogram>(*h);
      c->hint = CounterResetHint::kUnknown;
      h = std::move(c);
    }
  }
  return m;
}

Mat Evaluator::eval_unary(const UnaryExpr& u) {
  Mat m = eval(*u.expr);
  if (u.op == UnaryOp::kSub) {
    for (auto& s : m) {
      for (double& v : s.v) v = -v;
      for (auto& h : s.h) {
        if (!h) continue;
        auto neg = std::make_shared<FloatHistogram>(*h);
        neg->mul(-1);
        h = std::move(neg);
      }
      s.drop_name = true;
    }
  }
  return m;
}

// ---------------------------------------------------------------------------

namespace {

// A slot of the query gate, left when the query ends however it ends.
class GateSlot {
 public:
  explicit GateSlot(QueryGate& gate) : gate_(gate) {}
  ~GateSlot() {
    if (held_) gate_.leave();
  }
  bool enter(std::chrono::steady_clock::time_point deadline) { return held_ = gate_.enter(deadline); }

 private:
  QueryGate& gate_;
  bool held_ = false;
};

Result<QueryResult> run_query(const storage::MemoryStore& store, const EngineOptions& opts,
                              const Expr& expr, int64_t start, int64_t end, int64_t step,
                              bool instant) {
  QueryContext ctx;
  ctx.store = &store;
  ctx.opts = &opts;
  ctx.query_start = start;
  ctx.query_end = end;
  ctx.query_step = instant ? 0 : step;
  ctx.deadline = ctx.now_ms() + opts.timeout.count();
  ctx.stats_selectors = stats_selectors(expr);
  ValueType type = expr.type();
  if (!instant && type != ValueType::kScalar && type != ValueType::kVector) {
    return fail(fmt::format("invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                            documented_type_name(type)));
  }
  if (!instant && step <= 0) return fail("zero or negative query resolution step widths are not accepted");
  if (end < start) return fail("end timestamp must not be before start time");
  std::optional<GateSlot> slot;
  if (opts.gate) {
    Millis left = std::max<Millis>(ctx.deadline - ctx.now_ms(), 0);
    slot.emplace(*opts.gate);
    // Prometheus answers a query whose time ran out in the queue with the
    // bare context error: an execution error, not a timeout.
    if (!slot->enter(std::chrono::steady_clock::now() + std::chrono::milliseconds(left))) {
      return fail("context deadline exceeded");
    }
  }
  QueryResult result;
  try {
    Evaluator ev(ctx, Grid{start, end, instant ? 1 : step});
    if (type == ValueType::kString) {
      result.value = String{ev.eval_string(expr), start};
      result.annotations = std::move(ctx.annotations);
      return result;
    }
    Mat m = ev.eval(expr);
    for (auto& s : m) {
      if (s.drop_name) drop_metric_name(s);
    }
    if (instant && type == ValueType::kScalar) {
      double v = m.empty() || m[0].v.empty() ? std::nan("") : m[0].v[0];
      result.value = Scalar{v, start};
    } else if (instant && type == ValueType::kVector) {
      Vector vec;
      vec.reserve(m.size());
      // Equal hashes first, in a sorted array (a hash set allocated per sample).
      std::vector<uint64_t> hashes;
      hashes.reserve(m.size());
      for (auto& s : m) {
        hashes.push_back(s.labels.hash());
        vec.push_back(Sample{std::move(s.labels), s.v.empty() ? 0 : s.v[0], start,
                             s.is_hist(0) ? s.h[0] : nullptr});
      }
      std::sort(hashes.begin(), hashes.end());
      bool maybe_dup = std::adjacent_find(hashes.begin(), hashes.end()) != hashes.end();
      if (maybe_dup) {
        for (size_t i = 0; i < vec.size(); ++i)
          for (size_t j = i + 1; j < vec.size(); ++j)
            if (vec[i].labels == vec[j].labels)
              return fail("vector cannot contain metrics with the same labelset");
      }
      result.value = std::move(vec);
    } else {
      m = merge_same_labelsets(std::move(m));
      std::stable_sort(m.begin(), m.end(),
                       [](const SeriesData& a, const SeriesData& b) { return a.labels < b.labels; });
      Matrix mat;
      mat.reserve(m.size());
      for (auto& s : m) {
        mat.push_back(RangeSeries{std::move(s.labels), s.t.to_vector(), s.v.to_vector(), std::move(s.h)});
      }
      result.value = std::move(mat);
    }
  } catch (const EvalError& e) {
    return fail(e.message);
  }
  result.annotations = std::move(ctx.annotations);
  return result;
}

}  // namespace

}  // namespace vigil::promql::detail

namespace vigil::promql {

bool QueryGate::enter(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  ++waiting_;
  bool got = freed_.wait_until(lock, deadline, [&] { return free_ > 0; });
  --waiting_;
  if (got) --free_;
  return got;
}

void QueryGate::leave() {
  {
    std::lock_guard lock(mu_);
    ++free_;
  }
  freed_.notify_one();
}

int QueryGate::waiting() const {
  std::lock_guard lock(mu_);
  return waiting_;
}

void Annotations::add(AnnotationKind kind, std::string message, PosRange pos) {
  for (const auto& a : items_) {
    if (a.kind == kind && a.message == message) return;
  }
  items_.push_back(Annotation{kind, std::move(message), pos});
}

void Annotations::merge(const Annotations& other) {
  for (const auto& a : other.items_) add(a.kind, a.message, a.pos);
}

size_t Annotations::count(AnnotationKind kind) const {
  return std::count_if(items_.begin(), items_.end(),
                       [&](const Annotation& a) { return a.kind == kind; });
}

std::vector<std::string> Annotations::strings(AnnotationKind kind, std::string_view query) const {
  std::vector<std::string> out;
  for (const auto& a : items_) {
    if (a.kind != kind) continue;
    int line = 1, col = 1;
    for (int i = 0; i < a.pos.start && i < static_cast<int>(query.size()); ++i) {
      if (query[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    out.push_back(fmt::format("{} ({}:{})", a.message, line, col));
  }
  return out;
}

Result<QueryResult> Engine::instant(const storage::MemoryStore& store, const Expr& expr,
                                    int64_t t) const {
  return detail::run_query(store, opts_, expr, t, t, 0, true);
}

Result<QueryResult> Engine::range(const storage::MemoryStore& store, const Expr& expr,
                                  int64_t start, int64_t end, int64_t step) const {
  return detail::run_query(store, opts_, expr, start, end, step, false);
}

}  // namespace vigil::promql
