#pragma once

// Internal to promql/: the evaluator the engine runs. Every node is evaluated
// over a grid of steps (one step for instant queries) into a matrix of series
// whose points sit at step timestamps; per-step work walks those series with
// cursors. Errors are thrown as EvalError and turned into Result at the
// engine's boundary.

#include <algorithm>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <type_traits>
#include <cstdint>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/labels.h"
#include "promql/ast.h"
#include "promql/engine.h"
#include "promql/value.h"
#include "storage/memory_store.h"

namespace vigil::promql::detail {

struct EvalError {
  std::string message;
};
[[noreturn]] void eval_fail(std::string message);

// A growable array of one series' timestamps or values that holds a single
// element in place: in an instant query (every rule evaluation) each series
// has one point, and allocating an array for it cost more than the work done
// on it. Elements are trivially copyable numbers.
template <typename T>
class Points {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  Points() noexcept : one_() {}
  Points(std::initializer_list<T> xs) : Points() {
    reserve(xs.size());
    for (T x : xs) push_back(x);
  }
  Points(const Points& o) : Points() { append(o.data(), o.size()); }
  Points(Points&& o) noexcept : Points() { take(o); }
  Points& operator=(const Points& o) {
    if (this != &o) {
      clear();
      append(o.data(), o.size());
    }
    return *this;
  }
  Points& operator=(Points&& o) noexcept {
    if (this != &o) {
      release();
      take(o);
    }
    return *this;
  }
  Points& operator=(const std::vector<T>& xs) {
    clear();
    append(xs.data(), xs.size());
    return *this;
  }
  ~Points() { release(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* data() { return cap_ > 1 ? many_ : &one_; }
  const T* data() const { return cap_ > 1 ? many_ : &one_; }
  T* begin() { return data(); }
  T* end() { return data() + size_; }
  const T* begin() const { return data(); }
  const T* end() const { return data() + size_; }
  T& operator[](size_t i) { return data()[i]; }
  const T& operator[](size_t i) const { return data()[i]; }
  T& back() { return data()[size_ - 1]; }
  const T& back() const { return data()[size_ - 1]; }

  void push_back(T x) {
    if (size_ == cap_) grow(cap_ * 2);
    data()[size_++] = x;
  }
  void reserve(size_t n) {
    if (n > cap_) grow(n);
  }
  void resize(size_t n) {
    reserve(n);
    for (size_t i = size_; i < n; ++i) data()[i] = T{};
    size_ = n;
  }
  void assign(size_t n, T x) {
    clear();
    reserve(n);
    for (size_t i = 0; i < n; ++i) data()[i] = x;
    size_ = n;
  }
  void clear() { size_ = 0; }
  std::vector<T> to_vector() const { return std::vector<T>(begin(), end()); }

 private:
  void append(const T* xs, size_t n) {
    reserve(size_ + n);
    if (n) std::memcpy(data() + size_, xs, n * sizeof(T));
    size_ += n;
  }
  void grow(size_t n) {
    T* p = static_cast<T*>(::operator new(n * sizeof(T)));
    if (size_) std::memcpy(p, data(), size_ * sizeof(T));
    release();
    many_ = p;
    cap_ = n;
  }
  void release() noexcept {
    if (cap_ > 1) ::operator delete(many_);
    cap_ = 1;
  }
  void take(Points& o) noexcept {
    if (o.cap_ > 1) {
      many_ = o.many_;
    } else {
      one_ = o.one_;
    }
    size_ = o.size_;
    cap_ = o.cap_;
    o.size_ = 0;
    o.cap_ = 1;
  }

  union {
    T one_;    // cap_ == 1
    T* many_;  // cap_ > 1
  };
  size_t size_ = 0;
  size_t cap_ = 1;
};

// One evaluated series: points at step timestamps (or raw samples, for range
// selectors and subqueries). drop_name marks a series whose __name__ is
// removed when the query finishes (upstream's delayed name removal).
//
// Native histograms: `h` stays empty while every point is a float (the fast
// path pays nothing for them); once a point is a histogram it runs parallel
// to `t`, and a set entry makes that point a histogram (`v` is NaN there).
struct SeriesData {
  Labels labels;
  Points<int64_t> t;
  Points<double> v;
  bool drop_name = false;
  std::vector<HistogramPtr> h = {};

  bool is_hist(size_t i) const { return !h.empty() && h[i] != nullptr; }
  bool has_hist() const { return !h.empty(); }
  // Appends a point, float or histogram.
  void push(int64_t ts, double val, HistogramPtr hp = nullptr) {
    if (hp || !h.empty()) {
      h.resize(t.size());
      h.push_back(hp);
      val = hp ? std::numeric_limits<double>::quiet_NaN() : val;
    }
    t.push_back(ts);
    v.push_back(val);
  }
};
using Mat = std::vector<SeriesData>;

// The state of one query, shared by every evaluator it creates.
struct QueryContext {
  const storage::MemoryStore* store = nullptr;
  const EngineOptions* opts = nullptr;
  int64_t query_start = 0, query_end = 0, query_step = 0;  // step 0: instant query
  Annotations annotations;
  // Selectors whose histograms only feed histogram_count, histogram_sum or
  // histogram_avg (see stats_selectors()); usually none.
  std::vector<const VectorSelector*> stats_selectors;
  bool stats_only(const VectorSelector& vs) const {
    return !stats_selectors.empty() &&
           std::find(stats_selectors.begin(), stats_selectors.end(), &vs) != stats_selectors.end();
  }
  int64_t samples = 0;  // samples currently held
  Millis deadline = 0;  // on now_ms()'s clock
  uint32_t ticks = 0;

  // Fails once the deadline has passed or the query was canceled.
  void check_deadline() const;
  // For loops over steps or series: checks the deadline every 1024 calls,
  // so a loop that produces nothing still stops in time.
  void tick() {
    if ((++ticks & 1023) == 0) check_deadline();
  }
  Millis now_ms() const;
  // Counts n more samples held; fails past opts->max_samples.
  void hold(int64_t n) {
    samples += n;
    if (samples > opts->max_samples) too_many_samples();
  }
  void release(int64_t n) { samples -= n; }
  // Fails unless n more samples would fit: before allocating per-step arrays
  // for a grid of n steps.
  void fit(int64_t n) const {
    if (n > opts->max_samples - samples) too_many_samples();
  }
  [[noreturn]] static void too_many_samples();
  void info(std::string message, PosRange pos) {
    annotations.add(AnnotationKind::kInfo, "PromQL info: " + std::move(message), pos);
  }
  void warn(std::string message, PosRange pos) {
    annotations.add(AnnotationKind::kWarning, "PromQL warning: " + std::move(message), pos);
  }
};

// Evaluation times: start, start+interval, ... <= end.
struct Grid {
  int64_t start = 0, end = 0, interval = 1;
  int64_t steps() const { return end < start ? 0 : (end - start) / interval + 1; }
  int64_t at(int64_t i) const { return start + i * interval; }
  int64_t index(int64_t t) const { return (t - start) / interval; }
};

// Walks a matrix step by step: values(t) yields, for each series with a point
// at t, its index and value. Points of each series must be at grid times.
class StepCursor {
 public:
  explicit StepCursor(const Mat& m) : m_(m), pos_(m.size(), 0) {}
  struct Item {
    size_t series;
    double value;
    const HistogramPtr* h = nullptr;  // set for a native-histogram point
  };
  const std::vector<Item>& values(int64_t t);

 private:
  const Mat& m_;
  std::vector<size_t> pos_;
  std::vector<Item> items_;
};

// Collects per-step output into series keyed by label set, in first-seen
// order. Two outputs with the same labels at one step are an error, as
// upstream ("vector cannot contain metrics with the same labelset").
class OutputBuilder {
 public:
  explicit OutputBuilder(QueryContext& ctx) : ctx_(ctx) {}
  void add(const Labels& labels, bool drop_name, int64_t t, double v, HistogramPtr h = nullptr);
  Mat take() { return std::move(out_); }

 private:
  QueryContext& ctx_;
  Mat out_;
  // Outputs by label hash: the first with each hash, then a chain through
  // next_ (per output; SIZE_MAX ends it).
  std::unordered_map<uint64_t, size_t> by_hash_;
  std::vector<size_t> next_;
};

class Evaluator {
 public:
  Evaluator(QueryContext& ctx, Grid grid) : ctx_(ctx), grid_(grid) {}

  // Any expression but a string literal.
  Mat eval(const Expr& e);
  // The same without native-histogram points: for operations defined on
  // floats only, which ignore histograms as upstream does.
  Mat eval_floats(const Expr& e);
  std::string eval_string(const Expr& e);

  QueryContext& ctx() { return ctx_; }
  const Grid& grid() const { return grid_; }

  // Scalar arguments, one value per step (NaN where absent).
  std::vector<double> eval_scalar_steps(const Expr& e);
  // A subquery's points: its expression evaluated on the subquery's own grid,
  // covering every window the current grid's steps read.
  Mat eval_subquery_points(const SubqueryExpr& sq);
  // The time (ms) a selector with these modifiers reads at step time t.
  int64_t ref_time(const TimeModifiers& m, int64_t t);
  Millis range_of(const MatrixSelector& ms) { return duration_of(ms.range, ms.range_expr.get()); }
  // Samples at or before this time are outside a window of `range` ending at
  // t: t - range, or one millisecond earlier with left-closed windows.
  int64_t window_open_start(int64_t t, Millis range) const {
    return t - range - (ctx_.opts->left_closed_windows ? 1 : 0);
  }
  Millis range_of(const SubqueryExpr& sq) { return duration_of(sq.range, sq.range_expr.get()); }
  // One series without labels holding v at every step.
  Mat constant(double v);
  // The latest sample of each selected series within the lookback window at
  // every step; with sample_times, the samples' own times in seconds instead
  // of their values (timestamp()).
  Mat eval_vector_selector(const VectorSelector& vs, bool sample_times = false);
  Millis offset_of(const TimeModifiers& m);

 private:
  Mat eval_matrix_selector(const MatrixSelector& ms);
  Mat eval_smoothed_selector(const VectorSelector& vs);
  Mat eval_unary(const UnaryExpr& u);
  Millis duration_of(Millis fixed, const DurationExpr* e);

  QueryContext& ctx_;
  Grid grid_;
};

// Parts split across files.
Mat eval_binary_op(Evaluator& ev, const BinaryExpr& b);
Mat eval_aggregation(Evaluator& ev, const AggregateExpr& a);
Mat eval_function(Evaluator& ev, const Call& c);
// info() (info_function.cc).
Mat info_function(Evaluator& ev, const Call& c);
// Functions whose argument is a range vector (rate, *_over_time, ...).
bool is_range_function(std::string_view name);
Mat eval_range_function(Evaluator& ev, const Call& c, size_t matrix_arg);

// Removes __name__ (delayed removal) from series flagged drop_name.
void drop_metric_name(SeriesData& s);
// Upstream's Labels.Hash() (xxhash64 over name, 0xff, value, 0xff ...): used
// where results depend on it (limit_ratio sampling).
uint64_t prometheus_labels_hash(const Labels& ls);
// Merges series whose label sets collide into one when their points do not
// overlap; fails when they do.
Mat merge_same_labelsets(Mat m);
// The labels absent() and absent_over_time() give their output: the
// equality matchers of a selector argument, except __name__ and names matched
// more than once.
Labels absent_labels(const Expr& arg);
// Appends a stored series' floats and native histograms with timestamps in
// (after, until] to `out`, merged in time order. With stats_hints, each
// histogram without a counter-reset hint gets one from comparing it with the
// histogram read before it (upstream reads selectors that only feed
// histogram_count/sum/avg that way, and its annotations about conflicting
// resets depend on those hints); the first one read keeps none.
void read_with_histograms(const storage::Series& s, int64_t after, int64_t until, SeriesData& out,
                          bool skip_stale, bool stats_hints = false);
// The selectors of `e` read for histogram statistics only: under a call of
// histogram_count, histogram_sum or histogram_avg, with no subquery, trim
// operator or histogram_quantile(s)/histogram_fraction on the way.
std::vector<const VectorSelector*> stats_selectors(const Expr& e);
// Removes native-histogram points (and series left empty); releases them.
void strip_histograms(QueryContext& ctx, Mat& m);
// Total points held by a matrix.
int64_t count_points(const Mat& m);

}  // namespace vigil::promql::detail
