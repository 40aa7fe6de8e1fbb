#pragma once

// Internal to promql/: float helpers shared by the evaluator and the test
// runner: compensated (Kahan-Neumaier) summation, as upstream's aggregations and
// *_over_time functions add floats, and relative float comparison.

#include <cmath>
#include <limits>

namespace vigil::promql::detail {

// Adds inc to sum, tracking the lost low-order part in c. An infinite sum
// resets the compensation.
inline void kahan_inc(double inc, double& sum, double& c) {
  double t = sum + inc;
  if (t > std::numeric_limits<double>::max() || t < -std::numeric_limits<double>::max()) {
    c = 0;
  } else if (std::fabs(sum) >= std::fabs(inc)) {
    c += (sum - t) + inc;
  } else {
    c += (inc - t) + sum;
  }
  sum = t;
}

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

}  // namespace vigil::promql::detail
