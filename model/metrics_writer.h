#pragma once

// Writes the Prometheus text exposition format (version 0.0.4), the one
// shape every component's metrics take on /metrics: a family's HELP and TYPE
// lines, then its samples, label values escaped and numbers written as
// Prometheus reads them ("+Inf", "NaN", integers without a fraction).
//
//   MetricsWriter w(out);
//   w.family("vigil_http_connections", "gauge", "Open HTTP connections.");
//   w.sample("vigil_http_connections", {}, 3);
//   w.sample("vigil_http_closed_total", {{"reason", "idle"}}, 7);

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vigil {

using MetricLabels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class MetricsWriter {
 public:
  explicit MetricsWriter(std::string& out) : out_(out) {}

  // HELP and TYPE ("counter", "gauge", "histogram", "summary", "untyped").
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, MetricLabels labels, double value);
  void sample(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels, double value);
  // A family with one unlabelled sample.
  void single(std::string_view name, std::string_view type, std::string_view help, double value);
  // A histogram's buckets (cumulative counts at or below each bound), sum
  // and count, with `labels` on every line.
  void histogram(std::string_view name, MetricLabels labels, const std::vector<double>& bounds,
                 const std::vector<uint64_t>& cumulative, double sum, uint64_t count);

 private:
  void labels_open(std::string_view name);
  void label(bool& first, std::string_view k, std::string_view v);
  void value(double v);
  std::string& out_;
};

// A label value escaped for the text format: backslash, double quote, newline.
std::string escape_metric_label(std::string_view v);
// A sample value as the text format writes it.
std::string format_metric_value(double v);

}  // namespace vigil
