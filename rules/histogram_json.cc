#include "rules/histogram_json.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>

namespace vigil::rules {

namespace {

double number(const nlohmann::json& v) { return std::strtod(v.get<std::string>().c_str(), nullptr); }

struct Bucket {
  double lower, upper, count;
};

// The exponential schema whose buckets have this upper/lower ratio, if any.
std::optional<int32_t> schema_of(double lower, double upper) {
  double r = std::log2(std::log2(upper / lower));  // = -schema
  double s = -std::round(r);
  if (std::fabs(r + s) > 1e-9 || s < -4 || s > 8) return std::nullopt;
  return static_cast<int32_t>(s);
}

void encode(const std::map<int32_t, double>& m, std::vector<HistogramSpan>* spans, std::vector<double>* buckets) {
  int32_t next = 0;
  for (const auto& [idx, v] : m) {
    if (spans->empty() || idx != next) spans->push_back({spans->empty() ? idx : idx - next, 0});
    spans->back().length++;
    buckets->push_back(v);
    next = idx + 1;
  }
}

}  // namespace

Result<FloatHistogram> histogram_from_json(const nlohmann::json& j) {
  FloatHistogram h;
  h.count = number(j.at("count"));
  h.sum = number(j.at("sum"));
  std::vector<Bucket> bs;
  if (j.contains("buckets")) {
    for (const auto& b : j.at("buckets")) bs.push_back({number(b.at(1)), number(b.at(2)), number(b.at(3))});
  }
  // Exponential: every bucket but a zero bucket [-t, t] on one schema. The
  // zero bucket is there when it holds a count, its width 0 too ([-0, 0]);
  // a bucket reaching into it is shown cut at t, so its ratio says nothing.
  auto is_zero_bucket = [](const Bucket& b) {
    return b.lower == -b.upper && b.upper >= 0 && std::isfinite(b.upper);
  };
  double zero_threshold = 0;
  for (const auto& b : bs)
    if (is_zero_bucket(b)) zero_threshold = b.upper;
  std::optional<int32_t> schema;
  bool exponential = true;
  for (const auto& b : bs) {
    if (is_zero_bucket(b)) continue;
    if (b.lower == 0 || b.upper == 0 || std::isinf(b.lower) || std::isinf(b.upper) || (b.lower < 0) != (b.upper < 0)) {
      exponential = false;
      break;
    }
    if (zero_threshold > 0 && (b.lower == zero_threshold || b.upper == -zero_threshold)) continue;
    auto s = b.lower > 0 ? schema_of(b.lower, b.upper) : schema_of(-b.upper, -b.lower);
    if (!s || (schema && *schema != *s)) {
      exponential = false;
      break;
    }
    schema = s;
  }
  if (exponential) {
    h.schema = schema.value_or(0);
    std::map<int32_t, double> pos, neg;
    double per = std::ldexp(1.0, h.schema);  // buckets per power of two
    for (const auto& b : bs) {
      if (is_zero_bucket(b)) {
        h.zero_threshold = b.upper;
        h.zero_count = b.count;
      } else if (b.lower > 0) {
        pos[static_cast<int32_t>(std::lround(std::log2(b.upper) * per))] = b.count;
      } else {
        neg[static_cast<int32_t>(std::lround(std::log2(-b.lower) * per))] = b.count;
      }
    }
    encode(pos, &h.positive_spans, &h.positive_buckets);
    encode(neg, &h.negative_spans, &h.negative_buckets);
    return h;
  }
  h.schema = kCustomBucketsSchema;
  // The answer leaves empty buckets out: the bounds are every finite bound
  // of the buckets given, lower ones included, so that a bucket after a gap
  // keeps its own lower bound; bucket i is the one whose upper bound is
  // bound i (+Inf: the last).
  for (const auto& b : bs) {
    for (double v : {b.lower, b.upper})
      if (std::isfinite(v)) h.custom_values.push_back(v);
  }
  std::sort(h.custom_values.begin(), h.custom_values.end());
  h.custom_values.erase(std::unique(h.custom_values.begin(), h.custom_values.end()), h.custom_values.end());
  auto index_of = [&](double bound) {
    return static_cast<int32_t>(std::lower_bound(h.custom_values.begin(), h.custom_values.end(), bound) -
                                h.custom_values.begin());
  };
  std::map<int32_t, double> pos;
  for (const auto& b : bs) {
    const int32_t i = std::isinf(b.upper) ? static_cast<int32_t>(h.custom_values.size()) : index_of(b.upper);
    // Its lower bound must be the bound just below (-Inf for the first).
    const bool fits = i == 0 ? b.lower == -std::numeric_limits<double>::infinity()
                             : b.lower == h.custom_values[static_cast<size_t>(i) - 1];
    if (!fits || !(b.lower < b.upper) || pos.contains(i)) return fail("histogram buckets overlap or are out of order");
    pos[i] = b.count;
  }
  encode(pos, &h.positive_spans, &h.positive_buckets);
  return h;
}

}  // namespace vigil::rules
