#include "promql/test_runner.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <unordered_map>

#include <fmt/format.h>
#include <re2/re2.h>

#include "model/go_format.h"
#include "promql/functions.h"
#include "promql/numeric.h"
#include "promql/parser.h"
#include "promql/printer.h"
#include "promql/series_desc.h"
#include "promql/test_script.h"

namespace vigil::promql::script {

int FileReport::passed() const {
  return static_cast<int>(std::count_if(evals.begin(), evals.end(),
                                        [](const EvalReport& e) { return e.status == EvalReport::Status::kPassed; }));
}
int FileReport::failed() const {
  return static_cast<int>(std::count_if(evals.begin(), evals.end(),
                                        [](const EvalReport& e) { return e.status == EvalReport::Status::kFailed; }));
}
int FileReport::skipped() const {
  return static_cast<int>(std::count_if(evals.begin(), evals.end(),
                                        [](const EvalReport& e) { return e.status == EvalReport::Status::kSkipped; }));
}

namespace {

constexpr double kEpsilon = 0.000001;  // relative error allowed, as upstream's runner
struct State {
  storage::MemoryStore store;
  StartTimes start_times;
};

// load_with_nhcb: every classic histogram (the _bucket series with `le`, with
// _count and _sum beside them) is also stored as a native histogram with
// custom buckets, under the name without the suffix, at each time all its
// buckets have a sample.
Result<void> load_nhcb(State& st, const Load& l, const std::vector<std::pair<const Line*, SeriesDesc>>& defs) {
  struct Family {
    Labels labels;  // without le, name without _bucket
    std::vector<std::pair<double, const SeriesDesc*>> buckets;
    const SeriesDesc* count = nullptr;
    const SeriesDesc* sum = nullptr;
  };
  std::vector<Family> fams;
  auto family = [&](const Labels& ls) -> Family& {
    for (auto& f : fams) {
      if (f.labels == ls) return f;
    }
    fams.push_back(Family{ls, {}, nullptr, nullptr});
    return fams.back();
  };
  for (const auto& [line, desc] : defs) {
    std::string_view name = desc.labels.get("__name__");
    if (name.ends_with("_bucket") && desc.labels.has("le")) {
      auto le = parse_number(desc.labels.get("le"));
      if (!le) continue;
      family(LabelsBuilder(desc.labels).del("le").set("__name__", name.substr(0, name.size() - 7)).build())
          .buckets.emplace_back(*le, &desc);
    }
  }
  for (const auto& [line, desc] : defs) {
    std::string_view name = desc.labels.get("__name__");
    for (std::string_view suffix : {"_count", "_sum"}) {
      if (!name.ends_with(suffix)) continue;
      Labels base = LabelsBuilder(desc.labels).set("__name__", name.substr(0, name.size() - suffix.size())).build();
      for (auto& f : fams) {
        if (f.labels != base) continue;
        (suffix == "_count" ? f.count : f.sum) = &desc;
      }
    }
  }
  for (auto& f : fams) {
    std::sort(f.buckets.begin(), f.buckets.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    size_t len = f.buckets.front().second->values.size();
    for (const auto& b : f.buckets) len = std::min(len, b.second->values.size());
    storage::SeriesRef ref = st.store.series(f.labels);
    for (size_t i = 0; i < len; ++i) {
      bool all = std::all_of(f.buckets.begin(), f.buckets.end(),
                             [&](const auto& b) { return !b.second->values[i].omitted; });
      if (!all) continue;
      auto h = std::make_shared<FloatHistogram>();
      h->schema = kCustomBucketsSchema;
      double prev = 0;
      std::vector<double> counts;
      for (const auto& b : f.buckets) {
        double c = b.second->values[i].value;
        if (!std::isinf(b.first)) h->custom_values.push_back(b.first);
        counts.push_back(c - prev);
        prev = c;
      }
      if (!std::isinf(f.buckets.back().first)) counts.push_back(0);
      h->count = f.count && i < f.count->values.size() && !f.count->values[i].omitted ? f.count->values[i].value : prev;
      if (f.sum && i < f.sum->values.size() && !f.sum->values[i].omitted) h->sum = f.sum->values[i].value;
      h->positive_spans = {{0, static_cast<uint32_t>(counts.size())}};
      h->positive_buckets = std::move(counts);
      h->compact();
      auto r = st.store.append_histogram(ref, static_cast<int64_t>(i) * l.interval, std::move(h));
      if (!r) return fail(fmt::format("line {}: {}", l.line, r.error().message));
    }
  }
  return {};
}

Result<void> load(State& st, const Load& l) {
  // A series given twice in one load keeps its last definition, as upstream.
  std::vector<std::pair<const Line*, SeriesDesc>> defs;
  for (const Line& line : l.series) {
    auto desc = parse_series_desc(line.text);
    if (!desc) return fail(fmt::format("line {}: {}", line.number, desc.error().message));
    auto same = std::find_if(defs.begin(), defs.end(), [&](const auto& d) { return d.second.labels == desc->labels; });
    if (same != defs.end()) {
      same->second = std::move(*desc);
    } else {
      defs.emplace_back(&line, std::move(*desc));
    }
  }
  for (auto& [line, desc] : defs) {
    storage::SeriesRef ref = st.store.series(desc.labels);
    for (size_t i = 0; i < desc.values.size(); ++i) {
      if (desc.values[i].omitted) continue;
      int64_t t = static_cast<int64_t>(i) * l.interval;
      const SequenceValue& sv = desc.values[i];
      if (sv.histogram) {
        if (std::string why = sv.histogram->validate(); !why.empty()) {
          return fail(fmt::format("line {}: invalid histogram: {}", line->number, why));
        }
      }
      auto r = sv.histogram ? st.store.append_histogram(ref, t, sv.histogram) : st.store.append(ref, t, sv.value);
      if (!r) return fail(fmt::format("line {}: {}", line->number, r.error().message));
    }
  }
  // metric@st lines: each value is the offset of a sample's start from the
  // sample's own time.
  for (const Line& line : l.start_times) {
    auto desc = parse_series_desc(line.text);
    if (!desc) return fail(fmt::format("line {}: invalid @st line: {}", line.number, desc.error().message));
    auto def = std::find_if(defs.begin(), defs.end(), [&](const auto& d) { return d.second.labels == desc->labels; });
    if (def == defs.end()) {
      return fail(fmt::format("line {}: @st metric does not match a sample line metric", line.number));
    }
    if (def->second.values.size() != desc->values.size()) {
      return fail(fmt::format("line {}: @st line has {} values but sample line has {}", line.number,
                              desc->values.size(), def->second.values.size()));
    }
    auto& times = st.start_times.by_series[desc->labels];
    for (size_t i = 0; i < desc->values.size(); ++i) {
      if (desc->values[i].omitted || def->second.values[i].omitted) continue;
      int64_t t = static_cast<int64_t>(i) * l.interval;
      times[t] = t + std::llround(desc->values[i].value * 1000);
    }
  }
  if (l.with_nhcb) {
    if (auto r = load_nhcb(st, l, defs); !r) return r;
  }
  return {};
}

struct Expected {
  struct Entry {
    Labels labels;
    std::vector<SequenceValue> values;
    int pos = 0;  // 1-based order in the script
  };
  bool scalar = false;
  double scalar_value = 0;
  std::optional<std::string> string;
  std::vector<Entry> entries;

  const Entry* find(const Labels& ls) const {
    for (const auto& e : entries) {
      if (e.labels == ls) return &e;
    }
    return nullptr;
  }
};

Result<Expected> read_expected(const Eval& e) {
  Expected x;
  if (e.scalar) {
    x.scalar = true;
    x.scalar_value = *e.scalar;
  }
  if (e.quoted_string) {
    auto s = unquote_string(*e.quoted_string);
    if (!s) return fail("invalid expected string: " + s.error().message);
    x.string = *s;
  }
  int pos = 0;
  for (const Line& line : e.series) {
    auto d = parse_series_desc(line.text);
    if (!d) return fail(fmt::format("line {}: {}", line.number, d.error().message));
    ++pos;
    auto it = std::find_if(x.entries.begin(), x.entries.end(), [&](const auto& en) { return en.labels == d->labels; });
    if (it != x.entries.end()) {
      *it = Expected::Entry{d->labels, d->values, pos};
    } else {
      x.entries.push_back(Expected::Entry{d->labels, d->values, pos});
    }
  }
  return x;
}

std::string fmt_value(double v) { return go_format_float(v, 'g', -1); }
std::string fmt_point(double v, const HistogramPtr& h) { return h ? h->to_notation() : fmt_value(v); }

std::string values_string(const std::vector<SequenceValue>& vals) {
  std::string s = "[";
  for (size_t i = 0; i < vals.size(); ++i) {
    if (i) s += ' ';
    s += vals[i].omitted ? "_" : fmt_point(vals[i].value, vals[i].histogram);
  }
  return s + "]";
}

HistogramPtr hist_at(const RangeSeries& s, size_t i) { return s.h.empty() ? nullptr : s.h[i]; }

std::string series_string(const RangeSeries& s) {
  std::string out = s.labels.to_string() + " =>";
  for (size_t i = 0; i < s.t.size(); ++i) out += fmt::format(" {} @[{}]", fmt_point(s.v[i], hist_at(s, i)), s.t[i]);
  return out;
}

// Whether an actual point (float v, or histogram h) is the expected value;
// the message says how it differs otherwise.
std::optional<std::string> point_differs(const SequenceValue& want, double v, const HistogramPtr& h) {
  if (want.histogram) {
    if (!h) return fmt::format("expected histogram {} but got float {}", want.histogram->to_notation(), fmt_value(v));
    // Compared without their empty buckets, as upstream's runner compacts
    // both sides first: [0 100] and offset:1 [100] are the same histogram.
    FloatHistogram a = *want.histogram, b = *h;
    a.compact();
    b.compact();
    if (!a.approx_equal(b, kEpsilon, want.hint_set)) {
      return fmt::format("expected histogram {} but got {}", want.histogram->to_notation(), h->to_notation());
    }
    return std::nullopt;
  }
  if (h) return fmt::format("expected float {} but got histogram {}", fmt_value(want.value), h->to_notation());
  if (!detail::almost_equal(v, want.value, kEpsilon)) {
    return fmt::format("expected {} but got {}", fmt_value(want.value), fmt_value(v));
  }
  return std::nullopt;
}

struct Times {
  int64_t start = 0, end = 0, step = 0;
};

std::optional<std::string> compare(const Value& result, const Expected& x, const Times& times, bool ordered) {
  if (auto* mat = std::get_if<Matrix>(&result)) {
    if (ordered) return "expected ordered result, but query returned a matrix";
    if (x.scalar) return "expected scalar result, but got matrix";
    for (size_t i = 1; i < mat->size(); ++i) {
      if ((*mat)[i].labels < (*mat)[i - 1].labels) return "matrix results should always be sorted by labels";
    }
    std::vector<const Expected::Entry*> seen;
    for (const auto& s : *mat) {
      const Expected::Entry* en = x.find(s.labels);
      if (!en) return fmt::format("unexpected metric {} in result, has {}", s.labels.to_string(), series_string(s));
      seen.push_back(en);
      std::vector<std::pair<int64_t, const SequenceValue*>> want;
      for (size_t i = 0; i < en->values.size(); ++i) {
        int64_t ts = times.start + static_cast<int64_t>(i) * times.step;
        if (ts > times.end) {
          return fmt::format("expected {} points for {}, but query time range cannot return this many points",
                             en->values.size(), s.labels.to_string());
        }
        if (!en->values[i].omitted) want.emplace_back(ts, &en->values[i]);
      }
      if (want.size() != s.t.size()) {
        return fmt::format("expected {} points for {}, but got {}", want.size(), s.labels.to_string(),
                           series_string(s));
      }
      for (size_t i = 0; i < want.size(); ++i) {
        if (want[i].first != s.t[i]) {
          return fmt::format("expected value at index {} for {} to have timestamp {}, but it had timestamp {} (result has {})",
                             i, s.labels.to_string(), want[i].first, s.t[i], series_string(s));
        }
        if (auto d = point_differs(*want[i].second, s.v[i], hist_at(s, i))) {
          return fmt::format("value at index {} (t={}) for {}: {} (result has {})", i, s.t[i], s.labels.to_string(), *d,
                             series_string(s));
        }
      }
    }
    for (const auto& en : x.entries) {
      if (std::find(seen.begin(), seen.end(), &en) == seen.end()) {
        return fmt::format("expected metric {} not found", en.labels.to_string());
      }
    }
    return std::nullopt;
  }
  if (auto* vec = std::get_if<Vector>(&result)) {
    if (x.scalar) return "expected scalar result, but got vector";
    std::vector<const Expected::Entry*> seen;
    for (size_t pos = 0; pos < vec->size(); ++pos) {
      const Sample& s = (*vec)[pos];
      const Expected::Entry* en = x.find(s.labels);
      if (!en) return fmt::format("unexpected metric {} in result, has value {}", s.labels.to_string(), fmt_point(s.value, s.h));
      if (ordered && en->pos != static_cast<int>(pos) + 1) {
        return fmt::format("expected metric {} with {} at position {} but was at {}", s.labels.to_string(),
                           values_string(en->values), en->pos, pos + 1);
      }
      SequenceValue want = en->values.empty() ? SequenceValue{} : en->values[0];
      if (auto d = point_differs(want, s.value, s.h)) return fmt::format("{}: {}", s.labels.to_string(), *d);
      seen.push_back(en);
    }
    for (const auto& en : x.entries) {
      if (std::find(seen.begin(), seen.end(), &en) == seen.end()) {
        return fmt::format("expected metric {} with {} not found", en.labels.to_string(), values_string(en.values));
      }
    }
    return std::nullopt;
  }
  if (auto* sc = std::get_if<Scalar>(&result)) {
    if (!x.scalar) return fmt::format("expected vector or matrix result, but got scalar {}", fmt_value(sc->value));
    if (!detail::almost_equal(x.scalar_value, sc->value, kEpsilon)) {
      return fmt::format("expected scalar {} but got {}", fmt_value(x.scalar_value), fmt_value(sc->value));
    }
    return std::nullopt;
  }
  const auto& str = std::get<String>(result);
  if (!x.string || *x.string != str.value) {
    return fmt::format("expected string \"{}\" but got \"{}\"", x.string.value_or(""), str.value);
  }
  return std::nullopt;
}

bool message_matches(const Expect& e, const std::string& actual) {
  switch (e.match) {
    case MessageMatch::kAny: return true;
    case MessageMatch::kExact: return e.text == actual;
    case MessageMatch::kRegex: return RE2::PartialMatch(actual, e.text);
  }
  return false;
}

std::optional<std::string> check_failure(const Eval& e, const std::string& actual) {
  for (const auto& x : e.expects) {
    if (x.kind != ExpectKind::kFail) continue;
    if (!message_matches(x, actual)) {
      return fmt::format("expected error matching \"{}\", but got: {}", x.text, actual);
    }
    break;
  }
  return std::nullopt;
}

std::optional<std::string> check_annotations(const Eval& e, const Annotations& annos, std::string_view query) {
  auto check_kind = [&](ExpectKind kind, AnnotationKind ak, ExpectKind none, std::string_view what)
      -> std::optional<std::string> {
    std::vector<std::string> actual = annos.strings(ak, query);
    std::vector<const Expect*> wanted;
    bool forbid = false;
    for (const auto& x : e.expects) {
      if (x.kind == kind) wanted.push_back(&x);
      if (x.kind == none) forbid = true;
    }
    if (forbid && !actual.empty()) {
      return fmt::format("unexpected {} annotations: {}", what, actual.front());
    }
    if (wanted.empty()) return std::nullopt;
    if (actual.empty()) return fmt::format("expected {} annotations but none were found", what);
    for (const Expect* w : wanted) {
      bool found = std::any_of(actual.begin(), actual.end(), [&](const std::string& a) { return message_matches(*w, a); });
      if (!found) {
        return fmt::format("expected {} annotation matching \"{}\" but no matching annotation was found, found: {}",
                           what, w->text, fmt::join(actual, "; "));
      }
    }
    for (const auto& a : actual) {
      bool found = std::any_of(wanted.begin(), wanted.end(), [&](const Expect* w) { return message_matches(*w, a); });
      if (!found) return fmt::format("unexpected {} annotation \"{}\"", what, a);
    }
    return std::nullopt;
  };
  if (auto err = check_kind(ExpectKind::kWarn, AnnotationKind::kWarning, ExpectKind::kNoWarn, "warn")) return err;
  return check_kind(ExpectKind::kInfo, AnnotationKind::kInfo, ExpectKind::kNoInfo, "info");
}

bool is_unsafe_for_at(std::string_view fn) {
  for (std::string_view n : {"days_in_month", "day_of_month", "day_of_week", "day_of_year", "end", "hour",
                             "minute", "month", "year", "predict_linear", "range", "start", "step", "time",
                             "timestamp"}) {
    if (fn == n) return true;
  }
  return false;
}

// Pins every selector and subquery (outside subqueries already pinned) at ts,
// as upstream's runner does to check @ handling. Returns false when the
// expression has functions whose value depends on the evaluation time.
bool pin_at(Expr& e, int64_t ts) {
  auto pin = [&](TimeModifiers& m) {
    if (m.at == AtKind::kNone) {
      m.at = AtKind::kTimestamp;
      m.at_timestamp = ts;
    }
  };
  bool safe = true;
  switch (e.kind) {
    case ExprKind::kVectorSelector: pin(static_cast<VectorSelector&>(e).mods); return true;
    case ExprKind::kMatrixSelector: pin(static_cast<MatrixSelector&>(e).selector->mods); return true;
    case ExprKind::kSubquery: pin(static_cast<SubqueryExpr&>(e).mods); return true;
    case ExprKind::kCall:
      if (is_unsafe_for_at(static_cast<Call&>(e).func->name)) safe = false;
      break;
    default: break;
  }
  for_each_child(e, [&](const Expr& c) {
    if (c.kind == ExprKind::kDuration) return;
    if (!pin_at(const_cast<Expr&>(c), ts)) safe = false;
  });
  return safe;
}

class EvalRunner {
 public:
  EvalRunner(State& st, const Engine& engine, const Eval& e, const Expected& x)
      : st_(st), engine_(engine), e_(e), x_(x) {}

  std::optional<std::string> run() {
    if (e_.range) return run_range();
    int64_t t = e_.range_vector ? e_.rv_end : e_.at;
    std::vector<std::pair<std::string, int64_t>> queries{{e_.expr, t}};
    auto pinned = parse_expr(e_.expr);
    if (pinned && pin_at(**pinned, t)) {
      std::string text = to_string(**pinned);
      std::vector<int64_t> times = t == 0 ? std::vector<int64_t>{-1000, 0, 1000}
                                          : std::vector<int64_t>{-10 * t, 0, t / 5, t, 10 * t};
      for (int64_t at : times) queries.emplace_back(text, at);
    }
    for (const auto& [text, at] : queries) {
      if (auto err = run_instant(text, at)) {
        return text == e_.expr ? *err : fmt::format("{} (as {} at {})", *err, text, at);
      }
    }
    return std::nullopt;
  }

 private:
  bool expects_failure() const { return e_.has(ExpectKind::kFail); }
  bool ordered() const { return e_.has(ExpectKind::kOrdered); }

  std::optional<std::string> run_range() {
    auto expr = parse_expr(e_.expr);
    if (!expr) return on_error(format_parse_error(expr.error()));
    auto res = engine_.range(st_.store, **expr, e_.start, e_.end, e_.step);
    if (!res) return on_error(res.error().message);
    if (expects_failure()) return "expected error evaluating query but got none";
    if (auto err = check_annotations(e_, res->annotations, e_.expr)) return err;
    return compare(res->value, x_, Times{e_.start, e_.end, e_.step}, false);
  }

  std::optional<std::string> on_error(const std::string& message) {
    if (expects_failure()) return check_failure(e_, message);
    return "error evaluating query: " + message;
  }

  std::optional<std::string> run_instant(const std::string& text, int64_t t) {
    auto expr = parse_expr(text);
    if (!expr) return on_error(format_parse_error(expr.error()));
    auto res = engine_.instant(st_.store, **expr, t);
    if (!res) return on_error(res.error().message);
    if (expects_failure()) return "expected error evaluating query but got none";
    if (auto err = check_annotations(e_, res->annotations, text)) return err;
    Times times = e_.range_vector ? Times{e_.rv_start, e_.rv_end, e_.rv_step} : Times{t, t, 0};
    if (auto err = compare(res->value, x_, times, ordered())) return err;
    // The same query in range mode must agree at the evaluation time.
    if (e_.range_vector || x_.string || RE2::PartialMatch(text, R"((start|end|range|step)\(\))")) {
      return std::nullopt;
    }
    auto range = engine_.range(st_.store, **expr, t - 60'000, t + 60'000, 60'000);
    if (!range) return "error evaluating query in range mode: " + range.error().message;
    if (ordered()) return std::nullopt;
    Vector vec;
    for (auto& s : std::get<Matrix>(range->value)) {
      for (size_t i = 0; i < s.t.size(); ++i) {
        if (s.t[i] == t) vec.push_back(Sample{s.labels, s.v[i], t, hist_at(s, i)});
      }
    }
    std::optional<std::string> err;
    if (std::holds_alternative<Scalar>(res->value)) {
      if (vec.empty()) return "range mode returned no value for a scalar";
      err = compare(Scalar{vec[0].value, t}, x_, times, false);
    } else {
      err = compare(vec, x_, times, false);
    }
    if (err) return "in range mode: " + *err;
    return std::nullopt;
  }

  State& st_;
  const Engine& engine_;
  const Eval& e_;
  const Expected& x_;
};

EvalReport run_eval(State& st, const Engine& engine, const Eval& e) {
  EvalReport r{EvalReport::Status::kPassed, e.line, e.expr, {}};
  auto x = read_expected(e);
  if (!x) {
    r.status = EvalReport::Status::kFailed;
    r.message = x.error().message;
    return r;
  }
  if (auto err = EvalRunner(st, engine, e, *x).run()) {
    r.status = EvalReport::Status::kFailed;
    r.message = *err;
  }
  return r;
}

}  // namespace

Result<FileReport> run_script(std::string_view text, std::string path, const EngineOptions& opts) {
  auto commands = parse(text);
  if (!commands) return std::unexpected(commands.error());
  State st;
  EngineOptions with_start_times = opts;
  with_start_times.start_times = &st.start_times;
  Engine engine(with_start_times);
  FileReport report;
  report.path = std::move(path);
  for (const auto& cmd : *commands) {
    if (auto* l = std::get_if<Load>(&cmd)) {
      auto r = load(st, *l);
      if (!r) return std::unexpected(r.error());
    } else if (std::holds_alternative<Clear>(cmd)) {
      st = State{};
    } else {
      report.evals.push_back(run_eval(st, engine, std::get<Eval>(cmd)));
    }
  }
  return report;
}

}  // namespace vigil::promql::script
