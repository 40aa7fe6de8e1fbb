#pragma once

// Internal to promql/: float helpers shared by the evaluator and the test
// runner: compensated (Kahan-Neumaier) summation, as upstream's aggregations and
// *_over_time functions add floats, and relative float comparison.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "model/kahan.h"

namespace vigil::promql::detail {

using vigil::kahan_inc;

// True when a and b are both NaN, equal, or within a relative error of epsilon
// (absolute near zero), as upstream compares floats.
inline bool almost_equal(double a, double b, double epsilon) {
  constexpr double kMinNormal = 2.2250738585072014e-308;
  if (std::isnan(a) && std::isnan(b)) return true;
  if (a == b) return true;
  double abs_sum = std::fabs(a) + std::fabs(b);
  double diff = std::fabs(a - b);
  if (a == 0 || b == 0 || abs_sum < kMinNormal) return diff < epsilon * kMinNormal;
  return diff / std::fmin(abs_sum, std::numeric_limits<double>::max()) < epsilon;
}

// The q-quantile of values by linear interpolation between closest ranks
// (values are reordered): NaN for no values or q NaN, -Inf/+Inf for q out of
// [0, 1]. NaN values sort first, as upstream orders them.
inline double quantile(double q, std::vector<double>& values) {
  if (values.empty() || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  std::sort(values.begin(), values.end(), [](double a, double b) {
    if (std::isnan(a)) return !std::isnan(b);
    return a < b;
  });
  double n = static_cast<double>(values.size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return values[static_cast<size_t>(lower)] * (1 - weight) + values[static_cast<size_t>(upper)] * weight;
}

// Integer division rounding toward negative infinity.
inline int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace vigil::promql::detail
