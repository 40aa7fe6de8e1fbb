#include "model/histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "model/go_format.h"
#include "model/kahan.h"

namespace vigil {

namespace {

using Dense = std::vector<std::pair<int32_t, double>>;  // (index, count), ascending

Dense decode(const std::vector<HistogramSpan>& spans, const std::vector<double>& buckets) {
  Dense out;
  out.reserve(buckets.size());
  int32_t idx = 0;
  size_t b = 0;
  for (size_t i = 0; i < spans.size(); ++i) {
    idx += spans[i].offset;
    for (uint32_t k = 0; k < spans[i].length && b < buckets.size(); ++k) out.emplace_back(idx++, buckets[b++]);
  }
  return out;
}

void encode(const Dense& d, std::vector<HistogramSpan>* spans, std::vector<double>* buckets) {
  spans->clear();
  buckets->clear();
  int32_t next = 0;  // index after the last span
  for (size_t i = 0; i < d.size(); ++i) {
    if (spans->empty() || d[i].first != next) {
      spans->push_back({spans->empty() ? d[i].first : d[i].first - next, 0});
    }
    spans->back().length++;
    buckets->push_back(d[i].second);
    next = d[i].first + 1;
  }
}

double lower_exponential(int32_t index, int32_t schema) { return exponential_bucket_bound(index - 1, schema); }

Dense reduce(const Dense& d, int32_t from, int32_t to) {
  Dense out;
  for (const auto& [idx, v] : d) {
    int32_t t = ((idx - 1) >> (from - to)) + 1;
    if (!out.empty() && out.back().first == t) {
      out.back().second += v;
    } else {
      out.emplace_back(t, v);
    }
  }
  return out;
}

// The zero count `h` would have with its zero bucket widened to `threshold`,
// and the threshold it ends up with (widened further to the upper bound of a
// populated bucket the threshold falls inside).
std::pair<double, double> zero_count_for_threshold(const FloatHistogram& h, double threshold) {
  if (threshold == h.zero_threshold) return {h.zero_count, threshold};
  while (true) {
    double zc = h.zero_count;
    bool again = false;
    for (const auto& b : h.positive()) {
      if (b.lower >= threshold) break;
      zc += b.count;
      if (b.upper > threshold) {
        if (b.count != 0) threshold = b.upper;
        break;
      }
    }
    for (const auto& b : h.negative()) {  // from the zero bucket outwards
      if (b.upper <= -threshold) break;
      zc += b.count;
      if (b.lower < -threshold) {
        if (b.count != 0) {
          threshold = -b.lower;
          again = true;
        }
        break;
      }
    }
    if (!again) return {zc, threshold};
  }
}

// Widens the zero bucket of `h` to `threshold` (already reconciled), moving
// the buckets inside it into the zero count.
void widen_zero_bucket(FloatHistogram& h, double threshold, double zero_count) {
  h.zero_count = zero_count;
  h.zero_threshold = threshold;
  Dense p = decode(h.positive_spans, h.positive_buckets);
  Dense n = decode(h.negative_spans, h.negative_buckets);
  std::erase_if(p, [&](const auto& e) { return lower_exponential(e.first, h.schema) < threshold; });
  std::erase_if(n, [&](const auto& e) { return lower_exponential(e.first, h.schema) < threshold; });
  encode(p, &h.positive_spans, &h.positive_buckets);
  encode(n, &h.negative_spans, &h.negative_buckets);
  h.compact();
}

void merge_into(Dense& a, const Dense& b, bool subtract, double threshold, int32_t schema, bool custom) {
  std::map<int32_t, double> m(a.begin(), a.end());
  for (const auto& [idx, v] : b) {
    if (!custom && exponential_bucket_bound(idx, schema) <= threshold) continue;
    m[idx] += subtract ? -v : v;
  }
  a.assign(m.begin(), m.end());
}

// Maps custom buckets onto the coarser layout `bounds` (a subset of `from`).
Dense map_custom(const Dense& d, const std::vector<double>& from, const std::vector<double>& bounds) {
  std::map<int32_t, double> m;
  for (const auto& [idx, v] : d) {
    double upper = idx < static_cast<int32_t>(from.size()) ? from[idx] : std::numeric_limits<double>::infinity();
    int32_t t = static_cast<int32_t>(std::lower_bound(bounds.begin(), bounds.end(), upper) - bounds.begin());
    m[t] += v;
  }
  return Dense(m.begin(), m.end());
}

// The hint of a sum: a gauge with anything is a gauge, unknown with anything
// else unknown; a reset with a non-reset collides (and becomes unknown).
CounterResetHint combined_hint(CounterResetHint a, CounterResetHint b, bool* collision) {
  using H = CounterResetHint;
  if (a == b || a == H::kGauge) return a;
  if (b == H::kGauge) return H::kGauge;
  if (a == H::kUnknown || b == H::kUnknown) return H::kUnknown;
  if (collision) *collision = true;
  return H::kUnknown;
}

// Buckets with their compensation terms, for compensated sums.
struct KBucket {
  int32_t index;
  double v, c;
};
using KDense = std::vector<KBucket>;

KDense decode_k(const std::vector<HistogramSpan>& spans, const std::vector<double>& buckets,
                const std::vector<double>& comp) {
  KDense out;
  out.reserve(buckets.size());
  bool with_comp = comp.size() == buckets.size();
  size_t k = 0;
  for (const auto& [idx, v] : decode(spans, buckets)) {
    out.push_back({idx, v, with_comp ? comp[k] : 0.0});
    ++k;
  }
  return out;
}

void encode_k(const KDense& d, std::vector<HistogramSpan>* spans, std::vector<double>* buckets,
              std::vector<double>* comp) {
  Dense plain;
  plain.reserve(d.size());
  comp->clear();
  for (const auto& b : d) {
    plain.emplace_back(b.index, b.v);
    comp->push_back(b.c);
  }
  encode(plain, spans, buckets);
}

// Adds bucket `v` (with its own compensation `c`) into `into`.
void kahan_merge_bucket(KBucket& into, double v, double c) {
  kahan_inc(v, into.v, into.c);
  if (c != 0) kahan_inc(c, into.v, into.c);
}

// reduce() for compensated buckets.
KDense reduce_k(const KDense& d, int32_t from, int32_t to) {
  KDense out;
  for (const auto& b : d) {
    int32_t t = ((b.index - 1) >> (from - to)) + 1;
    if (!out.empty() && out.back().index == t) {
      kahan_merge_bucket(out.back(), b.v, b.c);
    } else {
      out.push_back({t, b.v, b.c});
    }
  }
  return out;
}

// map_custom() for compensated buckets.
KDense map_custom_k(const KDense& d, const std::vector<double>& from, const std::vector<double>& bounds) {
  std::map<int32_t, KBucket> m;
  for (const auto& b : d) {
    double upper = b.index < static_cast<int32_t>(from.size()) ? from[b.index] : std::numeric_limits<double>::infinity();
    int32_t t = static_cast<int32_t>(std::lower_bound(bounds.begin(), bounds.end(), upper) - bounds.begin());
    auto [it, fresh] = m.try_emplace(t, KBucket{t, 0, 0});
    kahan_merge_bucket(it->second, b.v, b.c);
  }
  KDense out;
  for (const auto& [idx, b] : m) out.push_back(b);
  return out;
}

// Adds plain buckets `b` into compensated ones `a` (exponential buckets at
// or below the zero threshold are left out: they are in the zero count).
void kahan_merge_into(KDense& a, const Dense& b, double threshold, int32_t schema, bool custom) {
  KDense out;
  out.reserve(a.size() + b.size());
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    if (j < b.size() && !custom && exponential_bucket_bound(b[j].first, schema) <= threshold) {
      ++j;
      continue;
    }
    if (j == b.size() || (i < a.size() && a[i].index < b[j].first)) {
      out.push_back(a[i++]);
    } else if (i == a.size() || b[j].first < a[i].index) {
      out.push_back({b[j].first, b[j].second, 0});
      ++j;
    } else {
      KBucket x = a[i++];
      kahan_inc(b[j++].second, x.v, x.c);
      out.push_back(x);
    }
  }
  a = std::move(out);
}

bool almost(double a, double b, double eps) {
  if (a == b) return true;
  if (std::isnan(a) && std::isnan(b)) return true;
  double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || diff < std::numeric_limits<double>::min()) {
    return diff < eps * std::numeric_limits<double>::min();
  }
  return diff / std::min(std::fabs(a) + std::fabs(b), std::numeric_limits<double>::max()) < eps;
}

std::string bucket_list(const std::vector<double>& b) {
  std::string s = "[";
  for (size_t i = 0; i < b.size(); ++i) {
    if (i) s += ' ';
    s += go_format_float(b[i], 'g', -1);
  }
  return s + "]";
}

double midpoint(double lo, double hi, bool positive, bool linear) {
  if (std::isinf(lo)) {
    if (std::isinf(hi)) return 0;
    return hi > 0 ? hi / 2 : hi;
  }
  if (std::isinf(hi)) return lo;
  if (linear) return (lo + hi) / 2;
  double g = std::sqrt(std::fabs(lo * hi));
  return positive ? g : -g;
}

double fraction_below(const HistogramBucket& b, double v, bool linear) {
  if (linear) return (v - b.lower) / (b.upper - b.lower);
  double log_lower = std::log2(std::fabs(b.lower)), log_upper = std::log2(std::fabs(b.upper));
  double log_v = std::log2(std::fabs(v));
  if (v > 0) return (log_v - log_lower) / (log_upper - log_lower);
  return 1 - ((log_v - log_upper) / (log_lower - log_upper));
}

// A bucket with an infinite bound (custom buckets' first and last).
std::pair<double, double> trim_infinite(bool upper, const HistogramBucket& b, double rhs) {
  auto zero_if_inf = [](double x) { return std::isinf(x) ? 0.0 : x; };
  if (std::isinf(b.lower) && b.lower < 0) {
    if (upper) {
      if (rhs >= b.upper) return {b.count, 0};
      if (rhs > 0 && b.upper > 0 && !std::isinf(b.upper)) return {b.count * rhs / b.upper, rhs / 2};
      if (b.upper <= 0) return {b.count, rhs};
      return {0, zero_if_inf(b.upper)};
    }
    if (rhs <= b.lower) return {b.count, 0};
    if (rhs >= 0 && b.upper > rhs && !std::isinf(b.upper)) return {b.count * (1 - rhs / b.upper), (rhs + b.upper) / 2};
    return {0, zero_if_inf(b.upper)};
  }
  if (upper) return {0, zero_if_inf(b.lower)};
  if (rhs >= b.lower) return {b.count, rhs};
  return {0, zero_if_inf(b.lower)};
}

// The part of bucket `b` kept by the trim, and the midpoint it counts at.
std::pair<double, double> trim_bucket(const HistogramBucket& b, double rhs, bool upper, bool positive, bool custom) {
  if ((std::isinf(b.lower) && b.lower < 0) || (std::isinf(b.upper) && b.upper > 0)) return trim_infinite(upper, b, rhs);
  double under = rhs <= b.lower ? 0 : rhs >= b.upper ? b.count : b.count * fraction_below(b, rhs, custom);
  if (upper) return {under, midpoint(b.lower, rhs, positive, custom)};
  return {b.count - under, midpoint(rhs, b.upper, positive, custom)};
}

}  // namespace

void FloatHistogram::trim(double rhs, bool upper) {
  double new_count = 0, new_sum = 0;
  bool trimmed = false, has_pos = false, has_neg = false;
  auto side = [&](const std::vector<HistogramBucket>& bs, std::vector<double>& counts, bool positive) {
    for (size_t i = 0; i < bs.size(); ++i) {
      const HistogramBucket& b = bs[i];
      if (b.count == 0) continue;
      (positive ? has_pos : has_neg) = true;
      bool whole = upper ? b.upper <= rhs : b.lower >= rhs;
      bool part = upper ? b.lower < rhs : b.upper > rhs;
      if (whole) {
        new_count += b.count;
        new_sum += midpoint(b.lower, b.upper, positive, custom()) * b.count;
      } else if (part) {
        auto [keep, mid] = trim_bucket(b, rhs, upper, positive, custom());
        new_count += keep;
        new_sum += mid * keep;
        if (counts[i] != keep) {
          counts[i] = keep;
          trimmed = true;
        }
      } else {
        counts[i] = 0;
        trimmed = true;
      }
    }
  };
  side(positive(), positive_buckets, true);
  side(negative(), negative_buckets, false);
  if (zero_count > 0) {
    double lo = -zero_threshold, hi = zero_threshold;
    if (has_neg && !has_pos) hi = 0;
    if (has_pos && !has_neg) lo = 0;
    double keep = 0, mid = 0;
    if (upper) {
      if (rhs <= lo) keep = 0, mid = 0;
      else if (rhs >= hi) keep = zero_count, mid = (lo + hi) / 2;
      else keep = zero_count * (rhs - lo) / (hi - lo), mid = (lo + rhs) / 2;
    } else {
      if (rhs <= lo) keep = zero_count, mid = (lo + hi) / 2;
      else if (rhs >= hi) keep = 0, mid = 0;
      else keep = zero_count * (hi - rhs) / (hi - lo), mid = (rhs + hi) / 2;
    }
    if (zero_count != keep) {
      zero_count = keep;
      trimmed = true;
    }
    new_sum += mid * keep;
    new_count += keep;
  }
  if (trimmed) {
    count = new_count;
    sum = new_sum;
    compact();
  }
}

double exponential_bucket_bound(int32_t index, int32_t schema) {
  // 2^(index / 2^schema), computed as a power of the base of the schema so
  // that whole powers of two come out exact.
  if (schema <= 0) return std::ldexp(1.0, index * (1 << -schema));
  int32_t per = 1 << schema;
  int32_t whole = index >= 0 ? index / per : -((-index + per - 1) / per);
  int32_t frac = index - whole * per;
  return std::ldexp(std::exp2(static_cast<double>(frac) / per), whole);
}

std::string FloatHistogram::validate() const {
  if (custom()) {
    if (!negative_spans.empty() || !negative_buckets.empty()) return "custom buckets histograms have no negative buckets";
    for (size_t i = 1; i < custom_values.size(); ++i) {
      if (!(custom_values[i] > custom_values[i - 1])) return "custom buckets bounds must be in strictly increasing order";
    }
  } else if (schema < -4 || schema > 8) {
    return fmt::format("histogram has an invalid schema, which must be between -4 and 8 or -53, got {}", schema);
  }
  auto check = [](const std::vector<HistogramSpan>& s, const std::vector<double>& b, const char* side) -> std::string {
    size_t n = 0;
    for (size_t i = 0; i < s.size(); ++i) {
      if (i > 0 && s[i].offset < 0) return fmt::format("{} side: span number {} with offset {}", side, i + 1, s[i].offset);
      n += s[i].length;
    }
    if (n != b.size()) return fmt::format("{} side: spans need {} buckets, have {} buckets", side, n, b.size());
    return {};
  };
  if (auto e = check(negative_spans, negative_buckets, "negative"); !e.empty()) return e;
  return check(positive_spans, positive_buckets, "positive");
}

std::vector<HistogramBucket> FloatHistogram::positive() const {
  std::vector<HistogramBucket> out;
  for (const auto& [idx, v] : decode(positive_spans, positive_buckets)) {
    HistogramBucket b;
    b.index = idx;
    b.count = v;
    if (custom()) {
      size_t i = static_cast<size_t>(idx);
      b.upper = i < custom_values.size() ? custom_values[i] : std::numeric_limits<double>::infinity();
      b.lower = i == 0 ? -std::numeric_limits<double>::infinity()
                       : (i - 1 < custom_values.size() ? custom_values[i - 1] : std::numeric_limits<double>::infinity());
    } else {
      b.lower = lower_exponential(idx, schema);
      b.upper = exponential_bucket_bound(idx, schema);
    }
    out.push_back(b);
  }
  return out;
}

std::vector<HistogramBucket> FloatHistogram::negative() const {
  std::vector<HistogramBucket> out;
  for (const auto& [idx, v] : decode(negative_spans, negative_buckets)) {
    HistogramBucket b;
    b.index = idx;
    b.count = v;
    b.upper = -lower_exponential(idx, schema);
    b.lower = -exponential_bucket_bound(idx, schema);
    b.lower_inclusive = true;
    b.upper_inclusive = false;
    out.push_back(b);
  }
  return out;
}

std::vector<HistogramBucket> FloatHistogram::buckets() const {
  std::vector<HistogramBucket> out = negative();
  std::reverse(out.begin(), out.end());
  if (!custom() && (zero_count != 0 || zero_threshold != 0)) {
    HistogramBucket z;
    z.lower = -zero_threshold;
    z.upper = zero_threshold;
    z.count = zero_count;
    z.lower_inclusive = true;
    out.push_back(z);
  }
  for (const auto& b : positive()) out.push_back(b);
  return out;
}

void FloatHistogram::mul(double f) {
  zero_count *= f;
  count *= f;
  sum *= f;
  for (double& b : positive_buckets) b *= f;
  for (double& b : negative_buckets) b *= f;
  if (f < 0) hint = CounterResetHint::kGauge;
}

void FloatHistogram::div(double f) {
  zero_count /= f;
  count /= f;
  sum /= f;
  if (f == 0) {
    positive_buckets.clear();
    negative_buckets.clear();
    positive_spans.clear();
    negative_spans.clear();
    return;
  }
  for (double& b : positive_buckets) b /= f;
  for (double& b : negative_buckets) b /= f;
  if (f < 0) hint = CounterResetHint::kGauge;
}

namespace {

// The custom bucket bounds two histograms share: what their sum or
// difference keeps, and what a reset is judged on, when their bounds differ.
std::vector<double> common_bounds(const std::vector<double>& a, const std::vector<double>& b) {
  std::vector<double> common;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(common));
  return common;
}

}  // namespace

bool FloatHistogram::add(const FloatHistogram& o, bool subtract, bool* hint_collision, bool* bounds_reconciled) {
  if (custom() != o.custom()) return false;
  hint = combined_hint(hint, o.hint, hint_collision);
  double sign = subtract ? -1 : 1;
  count += sign * o.count;
  sum += sign * o.sum;
  Dense p = decode(positive_spans, positive_buckets);
  Dense op = decode(o.positive_spans, o.positive_buckets);
  if (custom()) {
    if (custom_values != o.custom_values) {
      std::vector<double> common = common_bounds(custom_values, o.custom_values);
      p = map_custom(p, custom_values, common);
      op = map_custom(op, o.custom_values, common);
      custom_values = std::move(common);
      if (bounds_reconciled) *bounds_reconciled = true;
    }
    merge_into(p, op, subtract, 0, schema, true);
    encode(p, &positive_spans, &positive_buckets);
    return true;
  }
  // Zero buckets: both widened to the larger threshold.
  double other_zero = o.zero_count;
  double other_threshold = o.zero_threshold;
  while (other_threshold != zero_threshold) {
    if (zero_threshold > other_threshold) {
      std::tie(other_zero, other_threshold) = zero_count_for_threshold(o, zero_threshold);
    }
    if (other_threshold > zero_threshold) {
      auto [zc, th] = zero_count_for_threshold(*this, other_threshold);
      widen_zero_bucket(*this, th, zc);
    }
  }
  zero_count += sign * other_zero;
  p = decode(positive_spans, positive_buckets);
  Dense n = decode(negative_spans, negative_buckets);
  Dense on = decode(o.negative_spans, o.negative_buckets);
  if (o.schema < schema) {
    p = reduce(p, schema, o.schema);
    n = reduce(n, schema, o.schema);
    schema = o.schema;
  } else if (o.schema > schema) {
    op = reduce(op, o.schema, schema);
    on = reduce(on, o.schema, schema);
  }
  merge_into(p, op, subtract, zero_threshold, schema, false);
  merge_into(n, on, subtract, zero_threshold, schema, false);
  encode(p, &positive_spans, &positive_buckets);
  encode(n, &negative_spans, &negative_buckets);
  return true;
}

bool FloatHistogram::kahan_add(const FloatHistogram& o, FloatHistogram& comp, bool* hint_collision,
                               bool* bounds_reconciled) {
  if (custom() != o.custom()) return false;
  hint = combined_hint(hint, o.hint, hint_collision);
  kahan_inc(o.count, count, comp.count);
  kahan_inc(o.sum, sum, comp.sum);
  KDense p = decode_k(positive_spans, positive_buckets, comp.positive_buckets);
  Dense op = decode(o.positive_spans, o.positive_buckets);
  KDense n;
  Dense on;
  if (custom()) {
    if (custom_values != o.custom_values) {
      std::vector<double> common = common_bounds(custom_values, o.custom_values);
      p = map_custom_k(p, custom_values, common);
      op = map_custom(op, o.custom_values, common);
      custom_values = std::move(common);
      if (bounds_reconciled) *bounds_reconciled = true;
    }
  } else {
    n = decode_k(negative_spans, negative_buckets, comp.negative_buckets);
    on = decode(o.negative_spans, o.negative_buckets);
    // Zero buckets: both widened to the larger threshold; buckets of this
    // one that fall inside move into its zero count with their compensation.
    double other_zero = o.zero_count;
    double other_threshold = o.zero_threshold;
    while (other_threshold != zero_threshold) {
      if (zero_threshold > other_threshold) {
        std::tie(other_zero, other_threshold) = zero_count_for_threshold(o, zero_threshold);
      }
      if (other_threshold > zero_threshold) {
        double th = zero_count_for_threshold(*this, other_threshold).second;
        auto inside = [&](const KBucket& b) {
          if (lower_exponential(b.index, schema) >= th) return false;
          kahan_inc(b.v, zero_count, comp.zero_count);
          if (b.c != 0) kahan_inc(b.c, zero_count, comp.zero_count);
          return true;
        };
        std::erase_if(p, inside);
        std::erase_if(n, inside);
        zero_threshold = th;
      }
    }
    kahan_inc(other_zero, zero_count, comp.zero_count);
    if (o.schema < schema) {
      p = reduce_k(p, schema, o.schema);
      n = reduce_k(n, schema, o.schema);
      schema = o.schema;
    } else if (o.schema > schema) {
      op = reduce(op, o.schema, schema);
      on = reduce(on, o.schema, schema);
    }
  }
  kahan_merge_into(p, op, zero_threshold, schema, custom());
  encode_k(p, &positive_spans, &positive_buckets, &comp.positive_buckets);
  if (!custom()) {
    kahan_merge_into(n, on, zero_threshold, schema, false);
    encode_k(n, &negative_spans, &negative_buckets, &comp.negative_buckets);
  }
  comp.schema = schema;
  comp.zero_threshold = zero_threshold;
  comp.positive_spans = positive_spans;
  comp.negative_spans = negative_spans;
  comp.custom_values = custom_values;
  return true;
}

void FloatHistogram::add_compensation(const FloatHistogram& comp) {
  count += comp.count;
  sum += comp.sum;
  zero_count += comp.zero_count;
  if (comp.positive_buckets.size() == positive_buckets.size()) {
    for (size_t i = 0; i < positive_buckets.size(); ++i) positive_buckets[i] += comp.positive_buckets[i];
  }
  if (comp.negative_buckets.size() == negative_buckets.size()) {
    for (size_t i = 0; i < negative_buckets.size(); ++i) negative_buckets[i] += comp.negative_buckets[i];
  }
}

bool FloatHistogram::has_overflow() const {
  auto inf = [](double x) { return std::isinf(x); };
  return inf(zero_count) || inf(count) || inf(sum) || std::any_of(positive_buckets.begin(), positive_buckets.end(), inf) ||
         std::any_of(negative_buckets.begin(), negative_buckets.end(), inf);
}

bool HistogramAccumulator::add(const FloatHistogram& h, bool* bounds_reconciled) {
  if (h.hint == CounterResetHint::kReset) reset_seen_ = true;
  if (h.hint == CounterResetHint::kNotReset) not_reset_seen_ = true;
  if (n_ == 0) {
    acc_ = h;
    comp_ = FloatHistogram{};
    n_ = 1;
    return true;
  }
  n_ += 1;
  if (!mean_) return acc_.kahan_add(h, comp_, nullptr, bounds_reconciled);
  if (!incremental_) {
    // The direct sum while it stays finite.
    FloatHistogram sum = acc_, comp = comp_;
    if (!sum.kahan_add(h, comp, nullptr, bounds_reconciled)) return false;
    if (!sum.has_overflow()) {
      acc_ = std::move(sum);
      comp_ = std::move(comp);
      return true;
    }
    incremental_ = true;
    acc_.div(n_ - 1);
    comp_.div(n_ - 1);
  }
  double q = (n_ - 1) / n_;
  acc_.mul(q);
  comp_.mul(q);
  FloatHistogram part = h;
  part.div(n_);
  return acc_.kahan_add(part, comp_, nullptr, bounds_reconciled);
}

FloatHistogram HistogramAccumulator::take() {
  if (mean_ && !incremental_) {
    acc_.div(n_);
    comp_.div(n_);
  }
  acc_.add_compensation(comp_);
  return std::move(acc_);
}

void FloatHistogram::compact() {
  Dense p = decode(positive_spans, positive_buckets);
  Dense n = decode(negative_spans, negative_buckets);
  std::erase_if(p, [](const auto& e) { return e.second == 0; });
  std::erase_if(n, [](const auto& e) { return e.second == 0; });
  encode(p, &positive_spans, &positive_buckets);
  encode(n, &negative_spans, &negative_buckets);
}

void FloatHistogram::reduce_resolution(int32_t target) {
  if (custom() || target >= schema) return;
  Dense p = reduce(decode(positive_spans, positive_buckets), schema, target);
  Dense n = reduce(decode(negative_spans, negative_buckets), schema, target);
  encode(p, &positive_spans, &positive_buckets);
  encode(n, &negative_spans, &negative_buckets);
  schema = target;
}

bool FloatHistogram::detect_reset(const FloatHistogram& prev) const {
  if (hint == CounterResetHint::kReset) return true;
  if (hint == CounterResetHint::kNotReset) return false;
  if (count < prev.count) return true;
  if (custom() != prev.custom()) return true;
  if (custom()) {
    if (custom_values != prev.custom_values) {
      const std::vector<double> common = common_bounds(custom_values, prev.custom_values);
      Dense c = map_custom(decode(positive_spans, positive_buckets), custom_values, common);
      Dense p = map_custom(decode(prev.positive_spans, prev.positive_buckets), prev.custom_values, common);
      std::map<int32_t, double> cm(c.begin(), c.end());
      for (const auto& [idx, v] : p) {
        auto it = cm.find(idx);
        if ((it == cm.end() ? 0.0 : it->second) < v) return true;
      }
      return false;
    }
  } else {
    if (schema > prev.schema) return true;
    if (zero_threshold < prev.zero_threshold) return true;
    auto [pz, th] = zero_count_for_threshold(prev, zero_threshold);
    if (th != zero_threshold) return true;
    if (zero_count < pz) return true;
  }
  auto side_reset = [&](Dense cur, Dense old) {
    if (!custom()) {
      old = reduce(old, prev.schema, schema);
      auto outside = [&](const auto& e) { return exponential_bucket_bound(e.first, schema) <= zero_threshold; };
      std::erase_if(cur, outside);
      std::erase_if(old, outside);
    }
    std::map<int32_t, double> cm(cur.begin(), cur.end());
    for (const auto& [idx, v] : old) {
      auto it = cm.find(idx);
      if (it == cm.end()) {
        if (v != 0) return true;
      } else if (it->second < v) {
        return true;
      }
    }
    return false;
  };
  if (side_reset(decode(positive_spans, positive_buckets), decode(prev.positive_spans, prev.positive_buckets))) {
    return true;
  }
  return side_reset(decode(negative_spans, negative_buckets), decode(prev.negative_spans, prev.negative_buckets));
}

bool FloatHistogram::approx_equal(const FloatHistogram& o, double eps, bool with_hint) const {
  if (schema != o.schema || !almost(count, o.count, eps) || !almost(sum, o.sum, eps)) return false;
  if (custom() && custom_values != o.custom_values) return false;
  if (zero_threshold != o.zero_threshold || !almost(zero_count, o.zero_count, eps)) return false;
  auto same = [&](const std::vector<HistogramSpan>& s1, const std::vector<double>& b1,
                  const std::vector<HistogramSpan>& s2, const std::vector<double>& b2) {
    Dense d1 = decode(s1, b1), d2 = decode(s2, b2);
    if (d1.size() != d2.size()) return false;
    for (size_t i = 0; i < d1.size(); ++i) {
      if (d1[i].first != d2[i].first || !almost(d1[i].second, d2[i].second, eps)) return false;
    }
    return true;
  };
  if (!same(negative_spans, negative_buckets, o.negative_spans, o.negative_buckets)) return false;
  if (!same(positive_spans, positive_buckets, o.positive_spans, o.positive_buckets)) return false;
  return !with_hint || hint == o.hint;
}

std::string FloatHistogram::to_notation() const {
  auto num = [](double v) { return go_format_float(v, 'g', -1); };
  std::string s = fmt::format("{{{{schema:{} count:{} sum:{}", schema, num(count), num(sum));
  if (zero_threshold != 0) s += " z_bucket_w:" + num(zero_threshold);
  if (zero_count != 0) s += " z_bucket:" + num(zero_count);
  if (custom()) s += " custom_values:" + bucket_list(custom_values);
  auto side = [&](const std::vector<HistogramSpan>& spans, const std::vector<double>& b, const char* off,
                  const char* bk) {
    if (b.empty()) return;
    // Gaps between spans are written out as empty buckets.
    Dense d = decode(spans, b);
    std::vector<double> dense;
    for (size_t i = 0; i < d.size(); ++i) {
      if (i > 0) dense.insert(dense.end(), static_cast<size_t>(d[i].first - d[i - 1].first - 1), 0.0);
      dense.push_back(d[i].second);
    }
    if (d.front().first != 0) s += fmt::format(" {}:{}", off, d.front().first);
    s += fmt::format(" {}:{}", bk, bucket_list(dense));
  };
  side(positive_spans, positive_buckets, "offset", "buckets");
  side(negative_spans, negative_buckets, "n_offset", "n_buckets");
  static const char* hints[] = {"unknown", "reset", "not_reset", "gauge"};
  if (hint != CounterResetHint::kUnknown) s += fmt::format(" counter_reset_hint:{}", hints[static_cast<int>(hint)]);
  return s + "}}";
}

}  // namespace vigil
