#pragma once

// Compensated (Kahan-Neumaier) summation, as Prometheus adds floats in its
// aggregations and *_over_time functions, and the buckets of native
// histograms when it sums them.

#include <cmath>
#include <limits>

namespace vigil {

// Adds inc to sum, tracking the lost low-order part in c (the result is
// sum + c). An infinite sum resets the compensation.
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

}  // namespace vigil
