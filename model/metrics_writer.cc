#include "model/metrics_writer.h"

#include <cmath>
#include <cstdint>

#include <fmt/format.h>

namespace vigil {

std::string escape_metric_label(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_metric_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  // Whole numbers as integers ("3", not "3.0"), the rest in the shortest
  // form that reads back exactly.
  if (v == std::trunc(v) && std::fabs(v) < 1e15) return fmt::format("{}", static_cast<int64_t>(v));
  return fmt::format("{}", v);
}

void MetricsWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  for (char c : help) {
    if (c == '\\') {
      out_ += "\\\\";
    } else if (c == '\n') {
      out_ += "\\n";
    } else {
      out_ += c;
    }
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void MetricsWriter::label(bool& first, std::string_view k, std::string_view v) {
  out_ += first ? '{' : ',';
  first = false;
  out_ += k;
  out_ += "=\"";
  out_ += escape_metric_label(v);
  out_ += '"';
}

void MetricsWriter::value(double v) {
  out_ += ' ';
  out_ += format_metric_value(v);
  out_ += '\n';
}

void MetricsWriter::sample(std::string_view name, MetricLabels labels, double v) {
  out_ += name;
  bool first = true;
  for (const auto& [k, val] : labels) label(first, k, val);
  if (!first) out_ += '}';
  value(v);
}

void MetricsWriter::sample(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels,
                           double v) {
  out_ += name;
  bool first = true;
  for (const auto& [k, val] : labels) label(first, k, val);
  if (!first) out_ += '}';
  value(v);
}

void MetricsWriter::single(std::string_view name, std::string_view type, std::string_view help, double v) {
  family(name, type, help);
  sample(name, {}, v);
}

void MetricsWriter::histogram(std::string_view name, MetricLabels labels, const std::vector<double>& bounds,
                              const std::vector<uint64_t>& cumulative, double sum, uint64_t count) {
  const std::string bucket = std::string(name) + "_bucket";
  for (size_t i = 0; i < bounds.size() && i < cumulative.size(); ++i) {
    out_ += bucket;
    bool first = true;
    for (const auto& [k, v] : labels) label(first, k, v);
    label(first, "le", format_metric_value(bounds[i]));
    out_ += '}';
    value(static_cast<double>(cumulative[i]));
  }
  out_ += bucket;
  bool first = true;
  for (const auto& [k, v] : labels) label(first, k, v);
  label(first, "le", "+Inf");
  out_ += '}';
  value(static_cast<double>(count));
  sample(std::string(name) + "_sum", labels, sum);
  sample(std::string(name) + "_count", labels, static_cast<double>(count));
}

}  // namespace vigil
