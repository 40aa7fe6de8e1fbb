#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "model/metrics_writer.h"

using namespace vigil;

TEST_CASE("metrics writer: families, labels escaped, values as Prometheus reads them") {
  std::string out;
  MetricsWriter w(out);
  w.family("x_total", "counter", "Things\\counted,\nper line.");
  w.sample("x_total", {{"a", "q\"uote"}, {"b", "back\\slash\nnl"}}, 3);
  w.sample("x_total", {}, 2.5);
  w.single("y", "gauge", "A gauge.", std::numeric_limits<double>::infinity());
  CHECK(out ==
        "# HELP x_total Things\\\\counted,\\nper line.\n# TYPE x_total counter\n"
        "x_total{a=\"q\\\"uote\",b=\"back\\\\slash\\nnl\"} 3\n"
        "x_total 2.5\n"
        "# HELP y A gauge.\n# TYPE y gauge\ny +Inf\n");
  CHECK(format_metric_value(std::nan("")) == "NaN");
  CHECK(format_metric_value(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(format_metric_value(1e20) == "1e+20");
  CHECK(format_metric_value(-0.25) == "-0.25");
}

TEST_CASE("metrics writer: histograms end with +Inf, sum and count") {
  std::string out;
  MetricsWriter w(out);
  w.histogram("lat_seconds", {{"h", "x"}}, {0.5, 1}, {2, 3}, 1.75, 4);
  CHECK(out ==
        "lat_seconds_bucket{h=\"x\",le=\"0.5\"} 2\n"
        "lat_seconds_bucket{h=\"x\",le=\"1\"} 3\n"
        "lat_seconds_bucket{h=\"x\",le=\"+Inf\"} 4\n"
        "lat_seconds_sum{h=\"x\"} 1.75\n"
        "lat_seconds_count{h=\"x\"} 4\n");
}
