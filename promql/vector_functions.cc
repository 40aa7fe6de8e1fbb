// Functions over instant vectors and scalars, and the dispatch of every call.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <numbers>
#include <unordered_map>

#include <fmt/format.h>
#include <re2/re2.h>

#include "model/go_format.h"
#include "model/names.h"
#include "promql/evaluator.h"
#include "promql/functions.h"
#include "promql/label_subset.h"
#include "promql/numeric.h"

namespace vigil::promql::detail {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

// Applies f to every value of the argument; the result loses its name.
template <typename F>
Mat map_values(Evaluator& ev, const Expr& arg, F f) {
  Mat m = ev.eval_floats(arg);
  const Grid& g = ev.grid();
  for (auto& s : m) {
    for (size_t k = 0; k < s.v.size(); ++k) s.v[k] = f(s.v[k], g.index(s.t[k]));
    s.drop_name = true;
  }
  return m;
}

double sgn(double v) { return v < 0 ? -1 : v > 0 ? 1 : v; }

struct MathFunction {
  std::string_view name;
  double (*fn)(double);
};

const MathFunction kMath[] = {
    {"abs", [](double v) { return std::fabs(v); }},
    {"ceil", [](double v) { return std::ceil(v); }},
    {"floor", [](double v) { return std::floor(v); }},
    {"exp", [](double v) { return std::exp(v); }},
    {"sqrt", [](double v) { return std::sqrt(v); }},
    {"ln", [](double v) { return std::log(v); }},
    {"log2", [](double v) { return std::log2(v); }},
    {"log10", [](double v) { return std::log10(v); }},
    {"sin", [](double v) { return std::sin(v); }},
    {"cos", [](double v) { return std::cos(v); }},
    {"tan", [](double v) { return std::tan(v); }},
    {"asin", [](double v) { return std::asin(v); }},
    {"acos", [](double v) { return std::acos(v); }},
    {"atan", [](double v) { return std::atan(v); }},
    {"sinh", [](double v) { return std::sinh(v); }},
    {"cosh", [](double v) { return std::cosh(v); }},
    {"tanh", [](double v) { return std::tanh(v); }},
    {"asinh", [](double v) { return std::asinh(v); }},
    {"acosh", [](double v) { return std::acosh(v); }},
    {"atanh", [](double v) { return std::atanh(v); }},
    {"rad", [](double v) { return v * std::numbers::pi / 180; }},
    {"deg", [](double v) { return v * 180 / std::numbers::pi; }},
    {"sgn", sgn},
};

// ---- calendar (UTC), for the date functions ---------------------------------

struct Civil {
  int64_t year;
  int month, day, hour, minute, weekday, yday;
};

bool leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int64_t days_from_civil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Civil civil_from_unix(int64_t secs) {
  int64_t days = floor_div(secs, 86400);
  int64_t sod = secs - days * 86400;
  int64_t z = days + 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  int64_t y = yoe + era * 400 + (m <= 2);
  Civil c{y, m, d, static_cast<int>(sod / 3600), static_cast<int>(sod % 3600 / 60), 0, 0};
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  c.yday = static_cast<int>(days - days_from_civil(y, 1, 1) + 1);
  return c;
}

// Go's int64(f) on amd64: NaN and out-of-range values become the minimum.
int64_t go_int64(double f) {
  if (!(f > -9.223372036854775808e18 && f < 9.223372036854775808e18)) {
    return std::numeric_limits<int64_t>::min();
  }
  return static_cast<int64_t>(f);
}

double date_part(std::string_view name, const Civil& c) {
  if (name == "day_of_month") return c.day;
  if (name == "day_of_week") return c.weekday;
  if (name == "day_of_year") return c.yday;
  if (name == "hour") return c.hour;
  if (name == "minute") return c.minute;
  if (name == "month") return c.month;
  if (name == "year") return static_cast<double>(c.year);
  // days_in_month
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return c.month == 2 && leap(c.year) ? 29 : kDays[c.month - 1];
}

bool is_date_function(std::string_view n) {
  for (std::string_view d : {"day_of_month", "day_of_week", "day_of_year", "days_in_month", "hour",
                             "minute", "month", "year"}) {
    if (n == d) return true;
  }
  return false;
}

Mat date_function(Evaluator& ev, const Call& c) {
  std::string_view name = c.func->name;
  if (c.args.empty()) {
    Mat m = ev.constant(0);
    for (size_t k = 0; k < m[0].t.size(); ++k) {
      m[0].v[k] = date_part(name, civil_from_unix(floor_div(m[0].t[k], 1000)));
    }
    return m;
  }
  return map_values(ev, *c.args[0], [&](double v, int64_t) {
    return date_part(name, civil_from_unix(go_int64(v)));
  });
}

// ---- label functions ---------------------------------------------------------

// Go's regexp.Expand: $1, ${1}, $name, ${name}; $$ is a dollar.
std::string expand_template(const re2::RE2& re, std::string_view tmpl,
                            const std::vector<std::string_view>& groups) {
  std::string out;
  const auto& names = re.NamedCapturingGroups();
  size_t i = 0;
  while (i < tmpl.size()) {
    char ch = tmpl[i];
    if (ch != '$') {
      out += ch;
      ++i;
      continue;
    }
    std::string_view rest = tmpl.substr(i + 1);
    if (!rest.empty() && rest[0] == '$') {
      out += '$';
      i += 2;
      continue;
    }
    bool brace = !rest.empty() && rest[0] == '{';
    size_t p = brace ? 1 : 0;
    size_t start = p;
    auto word = [](char x) { return std::isalnum(static_cast<unsigned char>(x)) || x == '_'; };
    while (p < rest.size() && word(rest[p])) ++p;
    std::string_view name = rest.substr(start, p - start);
    bool ok = !name.empty() && (!brace || (p < rest.size() && rest[p] == '}'));
    if (!ok) {
      out += '$';
      ++i;
      continue;
    }
    size_t consumed = 1 + p + (brace ? 1 : 0);
    int num = 0;
    bool numeric = std::all_of(name.begin(), name.end(), [](char x) { return x >= '0' && x <= '9'; });
    if (numeric) {
      for (char x : name) {
        num = num * 10 + (x - '0');
        if (num >= 100000000) {
          num = -1;
          break;
        }
      }
    }
    if (numeric && num >= 0) {
      if (static_cast<size_t>(num) < groups.size() && groups[num].data()) out += groups[num];
    } else if (!numeric) {
      auto it = names.find(std::string(name));
      if (it != names.end() && static_cast<size_t>(it->second) < groups.size() && groups[it->second].data()) {
        out += groups[it->second];
      }
    }
    i += consumed;
  }
  return out;
}

Mat label_replace(Evaluator& ev, const Call& c) {
  std::string dst = ev.eval_string(*c.args[1]);
  std::string repl = ev.eval_string(*c.args[2]);
  std::string src = ev.eval_string(*c.args[3]);
  std::string pattern = ev.eval_string(*c.args[4]);
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  re2::RE2 re("^(?s:" + pattern + ")$", opts);
  if (!re.ok()) eval_fail("invalid regular expression in label_replace(): " + pattern);
  if (!is_valid_label_name(dst)) eval_fail("invalid destination label name in label_replace(): " + dst);
  Mat m = ev.eval_floats(*c.args[0]);
  int n = re.NumberOfCapturingGroups() + 1;
  std::vector<re2::StringPiece> sub(n);
  for (auto& s : m) {
    std::string_view value = s.labels.get(src);
    if (!re.Match(re2::StringPiece(value.data(), value.size()), 0, value.size(), re2::RE2::UNANCHORED,
                  sub.data(), n)) {
      continue;
    }
    std::vector<std::string_view> groups;
    for (const auto& g : sub) groups.emplace_back(g.data(), g.size());
    s.labels = LabelsBuilder(s.labels).set(dst, expand_template(re, repl, groups)).build();
    if (dst == "__name__") s.drop_name = false;
  }
  return merge_same_labelsets(std::move(m));
}

Mat label_join(Evaluator& ev, const Call& c) {
  std::string dst = ev.eval_string(*c.args[1]);
  std::string sep = ev.eval_string(*c.args[2]);
  std::vector<std::string> srcs;
  for (size_t i = 3; i < c.args.size(); ++i) {
    srcs.push_back(ev.eval_string(*c.args[i]));
    if (!is_valid_label_name(srcs.back())) eval_fail("invalid source label name in label_join(): " + srcs.back());
  }
  if (!is_valid_label_name(dst)) eval_fail("invalid destination label name in label_join(): " + dst);
  Mat m = ev.eval_floats(*c.args[0]);
  for (auto& s : m) {
    std::string joined;
    for (size_t i = 0; i < srcs.size(); ++i) {
      if (i > 0) joined += sep;
      joined += s.labels.get(srcs[i]);
    }
    s.labels = LabelsBuilder(s.labels).set(dst, joined).build();
    if (dst == "__name__") s.drop_name = false;
  }
  return merge_same_labelsets(std::move(m));
}

// ---- histograms over classic buckets ----------------------------------------

struct Bucket {
  double upper;
  double count;
};

// Go's strconv.ParseFloat for an `le` value.
std::optional<double> parse_bucket_bound(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::string_view body = s;
  bool neg = false;
  if (body[0] == '+' || body[0] == '-') {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  std::string lower;
  for (char ch : body) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (lower == "inf" || lower == "infinity") return neg ? -kInf : kInf;
  if (lower == "nan") return kNaN;
  double v = 0;
  auto [ptr, ec] = std::from_chars(s.data() + (s[0] == '+' ? 1 : 0), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) return neg ? -kInf : kInf;
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

void sort_and_coalesce(std::vector<Bucket>& b) {
  std::stable_sort(b.begin(), b.end(), [](const Bucket& x, const Bucket& y) { return x.upper < y.upper; });
  size_t w = 0;
  for (size_t i = 1; i < b.size(); ++i) {
    if (b[i].upper == b[w].upper) {
      b[w].count += b[i].count;
    } else {
      b[++w] = b[i];
    }
  }
  b.resize(w + 1);
}

struct Monotonicity {
  bool forced = false;
  double min_bucket = kInf, max_bucket = -kInf, max_diff = 0;
};

Monotonicity make_monotonic(std::vector<Bucket>& b) {
  Monotonicity m;
  double prev = b[0].count;
  for (size_t i = 1; i < b.size(); ++i) {
    double cur = b[i].count;
    if (cur == prev) continue;
    if (almost_equal(prev, cur, 1e-12)) {
      b[i].count = prev;
      continue;
    }
    if (cur < prev) {
      b[i].count = prev;
      m.forced = true;
      m.min_bucket = std::min(m.min_bucket, b[i].upper);
      m.max_bucket = std::max(m.max_bucket, b[i].upper);
      m.max_diff = std::max(m.max_diff, prev - cur);
      continue;
    }
    prev = cur;
  }
  return m;
}

double bucket_quantile(double q, std::vector<Bucket>& b, Monotonicity& mono) {
  if (std::isnan(q)) return kNaN;
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  sort_and_coalesce(b);
  if (!std::isinf(b.back().upper) || b.back().upper < 0) return kNaN;
  mono = make_monotonic(b);
  if (b.size() < 2) return kNaN;
  double observations = b.back().count;
  if (observations == 0) return kNaN;
  double rank = q * observations;
  size_t i = 0;
  while (i < b.size() - 1 && !(b[i].count >= rank)) ++i;
  if (i == b.size() - 1) return b[b.size() - 2].upper;
  if (i == 0 && b[0].upper <= 0) return b[0].upper;
  double start = 0, end = b[i].upper, count = b[i].count;
  if (i > 0) {
    start = b[i - 1].upper;
    count -= b[i - 1].count;
    rank -= b[i - 1].count;
  }
  return start + (end - start) * (rank / count);
}

double bucket_fraction(double lower, double upper, std::vector<Bucket>& b) {
  sort_and_coalesce(b);
  if (!std::isinf(b.back().upper) || b.back().upper < 0) return kNaN;
  double count = b.back().count;
  if (count == 0 || std::isnan(lower) || std::isnan(upper)) return kNaN;
  if (lower >= upper) return 0;
  double rank = 0, lower_rank = 0, upper_rank = 0;
  bool lower_set = false, upper_set = false;
  double lower_bound = b[0].upper <= 0 ? -kInf : 0.0;
  for (size_t i = 0; i < b.size(); ++i) {
    if (i > 0) lower_bound = b[i - 1].upper;
    double upper_bound = b[i].upper;
    auto interpolate = [&](double v) {
      if (lower_bound == -kInf) return b[i].count;
      return rank + (b[i].count - rank) * (v - lower_bound) / (upper_bound - lower_bound);
    };
    if (!lower_set && lower_bound >= lower) {
      lower_rank = rank;
      lower_set = true;
    }
    if (!upper_set && lower_bound >= upper) {
      upper_rank = rank;
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    if (!lower_set && lower_bound < lower && upper_bound > lower) {
      lower_rank = interpolate(lower);
      lower_set = true;
    }
    if (!upper_set && lower_bound < upper && upper_bound > upper) {
      upper_rank = interpolate(upper);
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    rank = b[i].count;
  }
  if (!lower_set || lower_rank > count) lower_rank = count;
  if (!upper_set || upper_rank > count) upper_rank = count;
  return (upper_rank - lower_rank) / count;
}

std::string rfc3339(int64_t ms) {
  Civil c = civil_from_unix(floor_div(ms, 1000));
  int64_t sec = floor_div(ms, 1000) % 60;
  if (sec < 0) sec += 60;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", c.year, c.month, c.day, c.hour, c.minute, sec);
}

// Upstream's label value for a quantile: "0.0", "0.25", "1.0", "+Inf".
std::string quantile_label(double q) {
  if (q == 1) return "1.0";
  if (q == 0) return "0.0";
  if (q == -1) return "-1.0";
  std::string s = go_format_float(q, 'g', -1);
  if (std::isfinite(q) && s.find_first_of("e.") == std::string::npos) s += ".0";
  return s;
}

enum class BucketMode { kQuantile, kQuantiles, kFraction };

// ---- native histograms -------------------------------------------------------

// Iterates buckets as upstream's AllBucketIterator (ascending) or its reverse.
// *nan_info: 1 when NaN observations made the result NaN, 2 when they skew it.
double native_quantile(double q, const FloatHistogram& h, int* nan_info) {
  if (q < 0) return -kInf;
  if (q > 1) return kInf;
  if (h.count == 0 || std::isnan(q)) return kNaN;
  std::vector<HistogramBucket> bs = h.buckets();
  const bool forward = std::isnan(h.sum) || q < 0.5;
  if (!forward) std::reverse(bs.begin(), bs.end());
  double rank = forward ? q * h.count : (1 - q) * h.count;
  double count = 0;
  HistogramBucket b;
  size_t at = 0;
  for (; at < bs.size(); ++at) {
    b = bs[at];
    if (b.count == 0) continue;
    count += b.count;
    if (count >= rank) break;
  }
  if (!h.custom() && b.lower < 0 && b.upper > 0) {
    if (h.negative_buckets.empty() && !h.positive_buckets.empty()) b.lower = 0;
    else if (h.positive_buckets.empty() && !h.negative_buckets.empty()) b.upper = 0;
  } else if (h.custom()) {
    if (b.lower == -kInf) {
      if (b.upper <= 0) return b.upper;
      b.lower = 0;
    } else if (b.upper == kInf) {
      return b.lower;
    }
  }
  if (count > h.count) count = h.count;
  if (count < rank) {
    if (std::isnan(h.sum)) {
      *nan_info = 1;
      return kNaN;
    }
    return b.upper;
  }
  rank = forward ? rank - (count - b.count) : count - rank;
  if (std::isnan(h.sum)) {
    double total = count;
    for (size_t k = at + 1; k < bs.size(); ++k) total += bs[k].count;
    if (total < h.count) *nan_info = 2;
  }
  double fraction = rank / b.count;
  if (h.custom() || (b.lower <= 0 && b.upper >= 0)) return b.lower + (b.upper - b.lower) * fraction;
  double log_lower = std::log2(std::fabs(b.lower)), log_upper = std::log2(std::fabs(b.upper));
  if (b.lower > 0) return std::exp2(log_lower + (log_upper - log_lower) * fraction);
  return -std::exp2(log_upper + (log_lower - log_upper) * (1 - fraction));
}

double fraction_below(const HistogramBucket& b, double v, bool linear) {
  if (linear) return (v - b.lower) / (b.upper - b.lower);
  double log_lower = std::log2(std::fabs(b.lower)), log_upper = std::log2(std::fabs(b.upper));
  double log_v = std::log2(std::fabs(v));
  if (v > 0) return (log_v - log_lower) / (log_upper - log_lower);
  return 1 - ((log_v - log_upper) / (log_lower - log_upper));
}

double native_fraction(double lower, double upper, const FloatHistogram& h, bool* nan_info) {
  if (h.count == 0 || std::isnan(lower) || std::isnan(upper)) return kNaN;
  if (lower >= upper) return 0;
  double count = 0, rank = 0, lower_rank = 0, upper_rank = 0;
  bool lower_set = false, upper_set = false;
  std::vector<HistogramBucket> all = h.buckets();
  size_t at = 0;
  for (; at < all.size(); ++at) {
    HistogramBucket b = all[at];
    count += b.count;
    bool zero = false;
    auto linear = [&](double v) { return b.lower == -kInf ? b.count : rank + b.count * fraction_below(b, v, true); };
    auto expo = [&](double v) { return rank + b.count * fraction_below(b, v, false); };
    if (b.lower <= 0 && b.upper >= 0) {
      zero = true;
      if (h.negative_buckets.empty() && !h.positive_buckets.empty()) b.lower = 0;
      else if (h.positive_buckets.empty() && !h.negative_buckets.empty()) b.upper = 0;
    }
    if (!lower_set && b.lower >= lower) lower_rank = rank, lower_set = true;
    if (!upper_set && b.lower >= upper) upper_rank = rank, upper_set = true;
    if (lower_set && upper_set) break;
    if (!lower_set && b.lower < lower && b.upper > lower) {
      lower_rank = h.custom() || zero ? linear(lower) : expo(lower);
      lower_set = true;
    }
    if (!upper_set && b.lower < upper && b.upper > upper) {
      upper_rank = h.custom() || zero ? linear(upper) : expo(upper);
      upper_set = true;
    }
    if (lower_set && upper_set) break;
    rank += b.count;
  }
  if (std::isnan(h.sum)) {
    for (size_t k = at + 1; k < all.size(); ++k) count += all[k].count;
    if (count < h.count) *nan_info = true;
  } else {
    count = h.count;
  }
  if (!lower_set || lower_rank > count) lower_rank = count;
  if (!upper_set || upper_rank > count) upper_rank = count;
  return (upper_rank - lower_rank) / h.count;
}

double native_variance(const FloatHistogram& h) {
  double mean = h.sum / h.count;
  double var = 0;
  for (const auto& b : h.buckets()) {
    if (b.count == 0) continue;
    double val;
    if (h.custom()) {
      val = (b.upper + b.lower) / 2.0;
    } else if (b.lower <= 0 && b.upper >= 0) {
      val = 0;
    } else {
      val = std::sqrt(b.upper * b.lower);
      if (b.upper < 0) val = -val;
    }
    double d = val - mean;
    var += b.count * d * d;
  }
  return var / h.count;
}

// histogram_count/sum/avg/stddev/stdvar: one float per histogram point;
// float samples yield nothing.
Mat histogram_property(Evaluator& ev, const Call& c) {
  std::string_view name = c.func->name;
  Mat in = ev.eval(*c.args[0]);
  Mat out;
  for (auto& s : in) {
    if (!s.has_hist()) {
      ev.ctx().release(static_cast<int64_t>(s.t.size()));
      continue;
    }
    SeriesData o{s.labels, {}, {}, true, {}};
    for (size_t i = 0; i < s.t.size(); ++i) {
      if (!s.h[i]) {
        ev.ctx().release(1);
        continue;
      }
      const FloatHistogram& h = *s.h[i];
      double v = 0;
      if (name == "histogram_count") v = h.count;
      else if (name == "histogram_sum") v = h.sum;
      else if (name == "histogram_avg") v = h.sum / h.count;
      else if (name == "histogram_stdvar") v = native_variance(h);
      else v = std::sqrt(native_variance(h));
      o.push(s.t[i], v);
    }
    if (!o.t.empty()) out.push_back(std::move(o));
  }
  return out;
}

// histogram_quantile, histogram_quantiles and histogram_fraction: classic
// histograms are the series of one label set differing only in `le`.
Mat bucket_function(Evaluator& ev, const Call& c, BucketMode mode) {
  size_t vec_arg = mode == BucketMode::kQuantile ? 1 : mode == BucketMode::kFraction ? 2 : 0;
  std::string quantile_name;
  std::vector<std::vector<double>> scalars;  // per scalar argument, per step
  std::vector<const Expr*> scalar_exprs;
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (i == vec_arg) continue;
    if (mode == BucketMode::kQuantiles && i == 1) {
      quantile_name = ev.eval_string(*c.args[1]);
      continue;
    }
    scalars.push_back(ev.eval_scalar_steps(unwrap_parens(*c.args[i])));
    scalar_exprs.push_back(c.args[i].get());
  }
  Mat in = ev.eval(*c.args[vec_arg]);
  const Expr& vec_expr = *c.args[vec_arg];
  OutputBuilder out(ev.ctx());
  // Classic histograms (their label sets without `le`) that a native one
  // shares: neither gives a result, with a warning.
  std::vector<Labels> classic;
  for (const auto& s : in) {
    if (!s.has_hist() && s.labels.has("le")) classic.push_back(LabelsBuilder(s.labels).del("le").build());
  }
  std::vector<Labels> mixed;
  // Native histograms: one result per histogram point.
  for (const auto& s : in) {
    if (!s.has_hist()) continue;
    if (std::find(classic.begin(), classic.end(), s.labels) != classic.end()) {
      ev.ctx().warn(fmt::format("vector contains a mix of classic and native histograms for metric name {}",
                                go_quote(s.labels.get("__name__"))),
                    vec_expr.pos);
      mixed.push_back(s.labels);
      continue;
    }
    for (size_t i = 0; i < s.t.size(); ++i) {
      if (!s.h[i]) continue;
      int64_t step = ev.grid().index(s.t[i]);
      const FloatHistogram& h = *s.h[i];
      std::string metric_suffix;
      if (s.labels.has("__name__")) metric_suffix = " for metric name " + go_quote(s.labels.get("__name__"));
      int nan_info = 0;
      if (mode == BucketMode::kFraction) {
        bool nans = false;
        out.add(s.labels, true, s.t[i], native_fraction(scalars[0][step], scalars[1][step], h, &nans));
        if (nans) {
          ev.ctx().info("input to histogram_fraction has NaN observations, which are excluded from all fractions" +
                            metric_suffix,
                        vec_expr.pos);
        }
      } else if (mode == BucketMode::kQuantile) {
        out.add(s.labels, true, s.t[i], native_quantile(scalars[0][step], h, &nan_info));
      } else {
        for (size_t k = 0; k < scalars.size(); ++k) {
          double q = scalars[k][step];
          out.add(LabelsBuilder(s.labels).set(quantile_name, quantile_label(q)).build(), true, s.t[i],
                  native_quantile(q, h, &nan_info));
        }
      }
      if (nan_info == 1) {
        ev.ctx().info("input to histogram_quantile has NaN observations, result is NaN" + metric_suffix, vec_expr.pos);
      } else if (nan_info == 2) {
        ev.ctx().info("input to histogram_quantile has NaN observations, result is skewed higher" + metric_suffix,
                      vec_expr.pos);
      }
    }
  }
  strip_histograms(ev.ctx(), in);
  if (!mixed.empty()) {
    std::erase_if(in, [&](const SeriesData& s) {
      bool gone = s.labels.has("le") &&
                  std::find(mixed.begin(), mixed.end(), LabelsBuilder(s.labels).del("le").build()) != mixed.end();
      if (gone) ev.ctx().release(static_cast<int64_t>(s.t.size()));
      return gone;
    });
  }
  // Group series by their labels without `le`, once.
  struct Group {
    Labels labels;
    std::vector<Bucket> buckets;
  };
  std::vector<Group> groups;
  std::vector<int> group_of(in.size(), -1);
  std::vector<double> bound(in.size());
  GroupTable index;
  std::vector<size_t> first_in;  // per group: its first series
  auto not_le = [](LabelView l) { return l.name != "le"; };
  for (size_t i = 0; i < in.size(); ++i) {
    auto b = parse_bucket_bound(in[i].labels.get("le"));
    if (!b) continue;
    bound[i] = *b;
    // Keyed in place; the set without `le` is built once per group.
    size_t found = index.find_or_add(subset_hash(in[i].labels, not_le), [&](size_t k) {
      return same_subset(in[i].labels, in[first_in[k]].labels, not_le);
    });
    if (found == groups.size()) {
      first_in.push_back(i);
      groups.push_back(Group{subset(in[i].labels, not_le), {}});
    }
    group_of[i] = static_cast<int>(found);
  }
  const Grid& g = ev.grid();
  StepCursor cur(in);
  std::vector<Bucket> work;
  for (int64_t step = 0; step < g.steps(); ++step) {
    ev.ctx().tick();
    int64_t t = g.at(step);
    const auto& items = cur.values(t);
    if (mode != BucketMode::kFraction) {
      for (size_t k = 0; k < scalars.size(); ++k) {
        double q = scalars[k][step];
        if (std::isnan(q) || q < 0 || q > 1) {
          ev.ctx().warn(fmt::format("quantile value should be between 0 and 1, got {}", go_format_float(q, 'g', -1)),
                        scalar_exprs[k]->pos);
        }
      }
    }
    for (auto& gr : groups) gr.buckets.clear();
    for (const auto& it : items) {
      if (group_of[it.series] < 0) {
        const Labels& ls = in[it.series].labels;
        std::string msg = fmt::format("bucket label \"le\" is missing or has a malformed value of {}",
                                      go_quote(ls.get("le")));
        if (!ls.get("__name__").empty()) msg += fmt::format(" for metric name {}", go_quote(ls.get("__name__")));
        ev.ctx().warn(std::move(msg), vec_expr.pos);
        continue;
      }
      groups[group_of[it.series]].buckets.push_back({bound[it.series], it.value});
    }
    if (mode == BucketMode::kFraction) {
      for (auto& gr : groups) {
        if (gr.buckets.empty()) continue;
        out.add(gr.labels, true, t, bucket_fraction(scalars[0][step], scalars[1][step], gr.buckets));
      }
      continue;
    }
    for (size_t k = 0; k < scalars.size(); ++k) {
      double q = scalars[k][step];
      for (auto& gr : groups) {
        if (gr.buckets.empty()) continue;
        work = gr.buckets;
        Monotonicity mono;
        double v = bucket_quantile(q, work, mono);
        if (mono.forced) {
          std::string msg =
              "input to histogram_quantile needed to be fixed for monotonicity (see "
              "https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile)";
          std::string_view name = gr.labels.get("__name__");
          if (!name.empty()) msg += fmt::format(" for metric name {}", go_quote(name));
          msg += fmt::format(", from buckets {} to {}, with a max diff of {}, over 1 samples from {} to {}",
                             go_format_float(mono.min_bucket, 'g', -1), go_format_float(mono.max_bucket, 'g', -1),
                             go_format_float(mono.max_diff, 'g', 2), rfc3339(t), rfc3339(t));
          ev.ctx().info(std::move(msg), vec_expr.pos);
        }
        if (mode == BucketMode::kQuantiles) {
          out.add(LabelsBuilder(gr.labels).set(quantile_name, quantile_label(q)).build(), true, t, v);
        } else {
          out.add(gr.labels, true, t, v);
        }
      }
    }
  }
  ev.ctx().release(count_points(in));
  return out.take();
}

// ---- sorting -----------------------------------------------------------------

// Natural order: runs of digits compare by numeric value.
bool natural_less(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  while (i < a.size() && j < b.size()) {
    if (digit(a[i]) && digit(b[j])) {
      size_t ie = i, je = j;
      while (ie < a.size() && digit(a[ie])) ++ie;
      while (je < b.size() && digit(b[je])) ++je;
      std::string_view na = a.substr(i, ie - i), nb = b.substr(j, je - j);
      size_t za = na.find_first_not_of('0'), zb = nb.find_first_not_of('0');
      na = za == std::string_view::npos ? std::string_view() : na.substr(za);
      nb = zb == std::string_view::npos ? std::string_view() : nb.substr(zb);
      if (na.size() != nb.size()) return na.size() < nb.size();
      if (na != nb) return na < nb;
      i = ie;
      j = je;
      continue;
    }
    if (a[i] != b[j]) return a[i] < b[j];
    ++i;
    ++j;
  }
  return a.size() - i < b.size() - j;
}

Mat sort_function(Evaluator& ev, const Call& c) {
  std::string_view name = c.func->name;
  if (ev.ctx().query_step != 0) {
    ev.ctx().warn("sort is ineffective for range queries since results are always ordered by labels", c.pos);
  }
  std::vector<std::string> by;
  for (size_t i = 1; i < c.args.size(); ++i) by.push_back(ev.eval_string(*c.args[i]));
  Mat m = ev.eval_floats(*c.args[0]);
  if (ev.grid().steps() != 1) return m;  // range results are ordered by labels anyway
  auto value = [](const SeriesData& s) { return s.v.empty() ? kNaN : s.v[0]; };
  if (name == "sort" || name == "sort_desc") {
    bool desc = name == "sort_desc";
    std::stable_sort(m.begin(), m.end(), [&](const SeriesData& x, const SeriesData& y) {
      double a = value(x), b = value(y);
      if (std::isnan(a)) return false;
      if (std::isnan(b)) return true;
      return desc ? a > b : a < b;
    });
    return m;
  }
  bool desc = name == "sort_by_label_desc";
  std::stable_sort(m.begin(), m.end(), [&](const SeriesData& x, const SeriesData& y) {
    for (const auto& l : by) {
      std::string_view a = x.labels.get(l), b = y.labels.get(l);
      if (a == b) continue;
      return desc ? natural_less(b, a) : natural_less(a, b);
    }
    return desc ? y.labels < x.labels : x.labels < y.labels;
  });
  return m;
}

// ---- the rest ----------------------------------------------------------------

Mat absent(Evaluator& ev, const Call& c) {
  Mat in = ev.eval(*c.args[0]);
  const Grid& g = ev.grid();
  std::vector<char> present(g.steps(), 0);
  for (const auto& s : in) {
    for (int64_t t : s.t) present[g.index(t)] = 1;
  }
  ev.ctx().release(count_points(in));
  SeriesData out;
  out.labels = absent_labels(unwrap_parens(*c.args[0]));
  for (int64_t i = 0; i < g.steps(); ++i) {
    if (present[i]) continue;
    out.t.push_back(g.at(i));
    out.v.push_back(1);
  }
  Mat m;
  if (!out.t.empty()) {
    ev.ctx().hold(static_cast<int64_t>(out.t.size()));
    m.push_back(std::move(out));
  }
  return m;
}

Mat scalar_of(Evaluator& ev, const Call& c) {
  Mat in = ev.eval_floats(*c.args[0]);
  const Grid& g = ev.grid();
  std::vector<int> count(g.steps(), 0);
  std::vector<double> value(g.steps(), kNaN);
  for (const auto& s : in) {
    for (size_t k = 0; k < s.t.size(); ++k) {
      int64_t i = g.index(s.t[k]);
      value[i] = ++count[i] == 1 ? s.v[k] : kNaN;
    }
  }
  ev.ctx().release(count_points(in));
  Mat m = ev.constant(0);
  for (int64_t i = 0; i < g.steps(); ++i) m[0].v[i] = count[i] == 1 ? value[i] : kNaN;
  return m;
}

Mat timestamp_of(Evaluator& ev, const Call& c) {
  const Expr& arg = unwrap_parens(*c.args[0]);
  auto* vs = as<VectorSelector>(&arg);
  if (!vs) {
    // Points of computed vectors sit at their step time.
    return map_values(ev, arg, [&](double, int64_t i) { return static_cast<double>(ev.grid().at(i)) / 1000; });
  }
  // A selector's own sample times.
  return ev.eval_vector_selector(*vs, true);
}

// start_timestamp(v): the start time (seconds) of each sample a selector
// picks, 0 when that sample has none; nothing for a computed vector, or when
// no start times are known at all.
Mat start_timestamp_of(Evaluator& ev, const Call& c) {
  const StartTimes* known = ev.ctx().opts->start_times;
  auto* vs = as<VectorSelector>(&unwrap_parens(*c.args[0]));
  if (!known || !vs) {
    ev.ctx().release(count_points(ev.eval(*c.args[0])));
    return {};
  }
  Mat m = ev.eval_vector_selector(*vs, true);
  for (auto& s : m) {
    auto series = known->by_series.find(s.labels);
    for (double& v : s.v) {
      int64_t st = 0;
      if (series != known->by_series.end()) {
        auto found = series->second.find(std::llround(v * 1000));
        if (found != series->second.end()) st = found->second;
      }
      v = static_cast<double>(st) / 1000;
    }
  }
  return m;
}

// Go's math.Max and math.Min: infinities win over NaN, NaN wins otherwise.
double go_max(double a, double b) {
  if (std::isinf(a) && a > 0) return a;
  if (std::isinf(b) && b > 0) return b;
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  return std::fmax(a, b);
}
double go_min(double a, double b) {
  if (std::isinf(a) && a < 0) return a;
  if (std::isinf(b) && b < 0) return b;
  if (std::isnan(a) || std::isnan(b)) return kNaN;
  return std::fmin(a, b);
}

Mat clamp_function(Evaluator& ev, const Call& c) {
  std::string_view name = c.func->name;
  std::vector<double> lo, hi;
  if (name == "clamp") {
    lo = ev.eval_scalar_steps(*c.args[1]);
    hi = ev.eval_scalar_steps(*c.args[2]);
  } else if (name == "clamp_min") {
    lo = ev.eval_scalar_steps(*c.args[1]);
  } else {
    hi = ev.eval_scalar_steps(*c.args[1]);
  }
  Mat m = ev.eval_floats(*c.args[0]);
  const Grid& g = ev.grid();
  Mat out;
  for (auto& s : m) {
    size_t w = 0;
    for (size_t k = 0; k < s.t.size(); ++k) {
      int64_t i = g.index(s.t[k]);
      double min = lo.empty() ? -kInf : lo[i];
      double max = hi.empty() ? kInf : hi[i];
      if (max < min) continue;
      s.t[w] = s.t[k];
      s.v[w] = go_max(min, go_min(max, s.v[k]));
      ++w;
    }
    ev.ctx().release(static_cast<int64_t>(s.t.size() - w));
    s.t.resize(w);
    s.v.resize(w);
    if (w == 0) continue;
    s.drop_name = true;
    out.push_back(std::move(s));
  }
  return out;
}

Mat round_function(Evaluator& ev, const Call& c) {
  std::vector<double> to(ev.grid().steps(), 1.0);
  if (c.args.size() > 1) to = ev.eval_scalar_steps(*c.args[1]);
  return map_values(ev, *c.args[0], [&](double v, int64_t i) {
    double inverse = 1.0 / to[i];
    return std::floor(v * inverse + 0.5) / inverse;
  });
}

Mat scalar_function(Evaluator& ev, const Call& c, double (*f)(double, double)) {
  std::vector<double> a = ev.eval_scalar_steps(*c.args[0]);
  std::vector<double> b = ev.eval_scalar_steps(*c.args[1]);
  Mat m = ev.constant(0);
  for (size_t i = 0; i < a.size(); ++i) m[0].v[i] = f(a[i], b[i]);
  return m;
}


}  // namespace

Mat eval_function(Evaluator& ev, const Call& c) {
  std::string_view name = c.func->name;
  for (size_t i = 0; i < c.args.size(); ++i) {
    if (unwrap_parens(*c.args[i]).type() == ValueType::kMatrix) return eval_range_function(ev, c, i);
  }
  for (const auto& m : kMath) {
    if (m.name == name) return map_values(ev, *c.args[0], [f = m.fn](double v, int64_t) { return f(v); });
  }
  if (is_date_function(name)) return date_function(ev, c);
  auto& ctx = ev.ctx();
  if (name == "time") {
    Mat m = ev.constant(0);
    for (size_t k = 0; k < m[0].t.size(); ++k) m[0].v[k] = static_cast<double>(m[0].t[k]) / 1000;
    return m;
  }
  if (name == "pi") return ev.constant(std::numbers::pi);
  if (name == "start") return ev.constant(static_cast<double>(ctx.query_start) / 1000);
  if (name == "end") return ev.constant(static_cast<double>(ctx.query_end) / 1000);
  if (name == "range") return ev.constant(static_cast<double>(ctx.query_end - ctx.query_start) / 1000);
  if (name == "step") return ev.constant(static_cast<double>(ctx.query_step) / 1000);
  if (name == "max_of") return scalar_function(ev, c, go_max);
  if (name == "min_of") return scalar_function(ev, c, go_min);
  if (name == "vector") {
    std::vector<double> v = ev.eval_scalar_steps(*c.args[0]);
    Mat m = ev.constant(0);
    m[0].v = std::move(v);
    return m;
  }
  if (name == "scalar") return scalar_of(ev, c);
  if (name == "timestamp") return timestamp_of(ev, c);
  if (name == "start_timestamp") return start_timestamp_of(ev, c);
  if (name == "absent") return absent(ev, c);
  if (name == "info") return info_function(ev, c);
  if (name == "label_replace") return label_replace(ev, c);
  if (name == "label_join") return label_join(ev, c);
  if (name == "clamp" || name == "clamp_min" || name == "clamp_max") return clamp_function(ev, c);
  if (name == "round") return round_function(ev, c);
  if (name.starts_with("sort")) return sort_function(ev, c);
  if (name == "histogram_quantile") return bucket_function(ev, c, BucketMode::kQuantile);
  if (name == "histogram_quantiles") return bucket_function(ev, c, BucketMode::kQuantiles);
  if (name == "histogram_fraction") return bucket_function(ev, c, BucketMode::kFraction);
  if (name == "histogram_count" || name == "histogram_sum" || name == "histogram_avg" ||
      name == "histogram_stddev" || name == "histogram_stdvar") {
    return histogram_property(ev, c);
  }
  eval_fail(fmt::format("function \"{}\" is not supported", name));
}

}  // namespace vigil::promql::detail
