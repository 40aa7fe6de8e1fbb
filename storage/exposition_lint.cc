#include "storage/exposition_lint.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>
#include <re2/re2.h>

#include "storage/exposition.h"

namespace vigil::storage {
namespace {

struct Family {
  MetricType type = MetricType::kUnknown;
  bool help = false;
  // One entry per metric: its labels without __name__ (and without le or
  // quantile in histograms and summaries, whose samples make one metric).
  std::vector<std::vector<std::pair<std::string, std::string>>> metrics;
};

std::string_view type_name(MetricType t) {
  switch (t) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
    case MetricType::kSummary: return "summary";
    case MetricType::kGaugeHistogram: return "gauge_histogram";
    default: return "untyped";
  }
}

bool has_part(std::string_view name, std::string_view part) {
  const std::string mid = fmt::format("_{}_", part), end = fmt::format("_{}", part);
  return name.find(mid) != std::string_view::npos || name.ends_with(end);
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The unit a name's parts spell, and its base unit ("" when none).
std::pair<std::string, std::string> metric_unit(std::string_view name) {
  static const std::map<std::string, std::string, std::less<>> kUnits = {
      {"amperes", "amperes"}, {"bytes", "bytes"},     {"celsius", "celsius"}, {"grams", "grams"},
      {"joules", "joules"},   {"kelvin", "kelvin"},   {"meters", "meters"},   {"metres", "metres"},
      {"seconds", "seconds"}, {"volts", "volts"},     {"minutes", "seconds"}, {"hours", "seconds"},
      {"days", "seconds"},    {"weeks", "seconds"},   {"kelvins", "kelvin"},  {"fahrenheit", "celsius"},
      {"rankine", "celsius"}, {"inches", "meters"},   {"yards", "meters"},    {"miles", "meters"},
      {"bits", "bytes"},      {"calories", "joules"}, {"pounds", "grams"},    {"ounces", "grams"}};
  static constexpr std::string_view kPrefixes[] = {"pico", "nano", "micro", "milli", "centi", "deci",
                                                   "deca", "hecto", "kilo",  "kibi",  "mega",  "mibi",
                                                   "giga", "gibi", "tera",  "tebi",  "peta",  "pebi"};
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('_', start);
    if (end == std::string_view::npos) end = name.size();
    std::string_view part = name.substr(start, end - start);
    if (auto it = kUnits.find(part); it != kUnits.end()) return {std::string(part), it->second};
    for (std::string_view p : kPrefixes) {
      if (part.starts_with(p))
        if (auto it = kUnits.find(part.substr(p.size())); it != kUnits.end()) return {std::string(part), it->second};
    }
    start = end + 1;
  }
  return {"", ""};
}

void lint_family(const std::string& name, const Family& f, std::vector<LintProblem>& out) {
  auto problem = [&](std::string text) { out.push_back({name, std::move(text)}); };
  const bool untyped = f.type == MetricType::kUnknown;
  const bool counter = f.type == MetricType::kCounter, histogram = f.type == MetricType::kHistogram,
             summary = f.type == MetricType::kSummary;
  if (!f.help) problem("no help text");
  if (auto [unit, base] = metric_unit(name); !unit.empty() && unit != base)
    problem(fmt::format("use base unit \"{}\" instead of \"{}\"", base, unit));
  const bool total = name.ends_with("_total");
  if (counter && !total) problem("counter metrics should have \"_total\" suffix");
  else if (!untyped && !counter && total) problem("non-counter metrics should not have \"_total\" suffix");
  if (!untyped) {
    if (!histogram && name.ends_with("_bucket")) problem("non-histogram metrics should not have \"_bucket\" suffix");
    if (!histogram && !summary && name.ends_with("_count"))
      problem("non-histogram and non-summary metrics should not have \"_count\" suffix");
    if (!histogram && !summary && name.ends_with("_sum"))
      problem("non-histogram and non-summary metrics should not have \"_sum\" suffix");
    for (const auto& m : f.metrics)
      for (const auto& [label, value] : m) {
        if (!histogram && label == "le") problem("non-histogram metrics should not have \"le\" label");
        if (!summary && label == "quantile") problem("non-summary metrics should not have \"quantile\" label");
      }
    const std::string type(type_name(f.type));
    if (has_part(lower(name), type)) problem(fmt::format("metric name should not include type '{}'", type));
  }
  if (name.find(':') != std::string::npos) problem("metric names should not contain ':'");
  static const RE2 kCamel("[a-z][A-Z]");
  if (RE2::PartialMatch(name, kCamel)) problem("metric names should be written in 'snake_case' not 'camelCase'");
  for (const auto& m : f.metrics)
    for (const auto& [label, value] : m)
      if (RE2::PartialMatch(label, kCamel)) problem("label names should be written in 'snake_case' not 'camelCase'");
  const std::string low = lower(name);
  for (std::string_view a : {"s", "ms", "us", "ns", "sec", "b", "kb", "mb", "gb", "tb", "pb", "m", "h", "d"})
    if (has_part(low, a)) problem("metric names should not contain abbreviated units");
  for (size_t i = 0; i < f.metrics.size(); ++i)
    for (size_t j = i + 1; j < f.metrics.size(); ++j)
      if (f.metrics[i] == f.metrics[j]) {
        problem("metric not unique");
        break;
      }
}

}  // namespace

Result<std::vector<LintProblem>> lint_exposition(std::string_view text) {
  auto parsed = parse_exposition(text, ExpositionFormat::kPrometheusText);
  if (!parsed) return std::unexpected(parsed.error());
  std::set<std::string, std::less<>> helped;
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (line.starts_with("# HELP ")) {
      std::string_view rest = line.substr(7);
      helped.emplace(rest.substr(0, rest.find(' ')));
    }
    start = end + 1;
  }
  // Samples join their family as the text parser groups them: by name, the
  // _bucket, _sum and _count series of a histogram or summary with it.
  std::map<std::string, Family> families;
  std::map<std::string, std::map<std::vector<std::pair<std::string, std::string>>, bool>> grouped;
  for (const ScrapedSample& s : parsed->samples) {
    const std::string name(s.labels.get("__name__"));
    std::string family = name;
    MetricType type = MetricType::kUnknown;
    if (auto it = parsed->types.find(name); it != parsed->types.end()) {
      type = it->second;
    } else {
      for (std::string_view suffix : {"_bucket", "_sum", "_count"}) {
        if (!name.ends_with(suffix)) continue;
        std::string base = name.substr(0, name.size() - suffix.size());
        auto b = parsed->types.find(base);
        if (b != parsed->types.end() &&
            (b->second == MetricType::kHistogram || (b->second == MetricType::kSummary && suffix != "_bucket"))) {
          family = base;
          type = b->second;
        }
      }
    }
    Family& f = families[family];
    f.type = type;
    f.help = helped.count(family) > 0;
    std::vector<std::pair<std::string, std::string>> labels;
    for (const auto& l : s.labels) {
      if (l.name == "__name__") continue;
      if ((type == MetricType::kHistogram && l.name == "le") || (type == MetricType::kSummary && l.name == "quantile"))
        continue;
      labels.emplace_back(std::string(l.name), std::string(l.value));
    }
    if (type == MetricType::kHistogram || type == MetricType::kSummary) {
      if (grouped[family].emplace(labels, true).second) f.metrics.push_back(std::move(labels));
    } else {
      f.metrics.push_back(std::move(labels));
    }
  }
  std::vector<LintProblem> problems;
  for (const auto& [name, f] : families) lint_family(name, f, problems);
  std::stable_sort(problems.begin(), problems.end(), [](const LintProblem& a, const LintProblem& b) {
    return a.metric != b.metric ? a.metric < b.metric : a.text < b.text;
  });
  return problems;
}

}  // namespace vigil::storage
