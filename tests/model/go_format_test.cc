#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "model/go_format.h"

using namespace vigil;

// Expected strings are what Go's strconv.FormatFloat / fmt print for these values.
TEST_CASE("shortest %g as Go's %v prints floats") {
  CHECK(go_format_float(83.33333333333334, 'g', -1) == "83.33333333333334");
  CHECK(go_format_float(1000000, 'g', -1) == "1e+06");
  CHECK(go_format_float(123456, 'g', -1) == "123456");
  CHECK(go_format_float(123456789, 'g', -1) == "1.23456789e+08");
  CHECK(go_format_float(0.0001, 'g', -1) == "0.0001");
  CHECK(go_format_float(0.00001, 'g', -1) == "1e-05");
  CHECK(go_format_float(0, 'g', -1) == "0");
  CHECK(go_format_float(-0.0, 'g', -1) == "-0");
  CHECK(go_format_float(1.5, 'g', -1) == "1.5");
  CHECK(go_format_float(-2.25e-7, 'g', -1) == "-2.25e-07");
  CHECK(go_format_float(1e100, 'g', -1) == "1e+100");
  CHECK(go_format_float(0.1 + 0.2, 'g', -1) == "0.30000000000000004");
  CHECK(go_format_float(std::numeric_limits<double>::infinity(), 'g', -1) == "+Inf");
  CHECK(go_format_float(-std::numeric_limits<double>::infinity(), 'g', -1) == "-Inf");
  CHECK(go_format_float(std::nan(""), 'g', -1) == "NaN");
}

TEST_CASE("%g with a precision") {
  CHECK(go_format_float(1234.5, 'g', 3) == "1.23e+03");
  CHECK(go_format_float(1.0, 'g', 3) == "1");
  CHECK(go_format_float(0.000012345, 'g', 2) == "1.2e-05");
  CHECK(go_format_float(99.99, 'g', 3) == "100");
}

TEST_CASE("%E as promtool prints sample values") {
  CHECK(go_format_float(12.267, 'E', -1) == "1.2267E+01");
  CHECK(go_format_float(1000, 'E', -1) == "1E+03");
  CHECK(go_format_float(10.999999999999998, 'E', -1) == "1.0999999999999998E+01");
  CHECK(go_format_float(0, 'E', -1) == "0E+00");
  CHECK(go_format_float(3.14159, 'e', 2) == "3.14e+00");
}

TEST_CASE("%f shortest and fixed") {
  CHECK(go_format_float(0.5, 'f', -1) == "0.5");
  CHECK(go_format_float(1e21, 'f', -1) == "1000000000000000000000");
  CHECK(go_format_float(1.25e-5, 'f', -1) == "0.0000125");
  CHECK(go_format_float(300, 'f', -1) == "300");
  CHECK(go_format_float(2.675, 'f', 2) == "2.67");  // binary value is below 2.675
  CHECK(go_format_float(83.33333, 'f', 2) == "83.33");
  CHECK(go_format_float(-1.5, 'f', 0) == "-2");
}
