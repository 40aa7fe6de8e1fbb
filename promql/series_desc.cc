#include "promql/series_desc.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "model/duration.h"
#include "model/names.h"
#include "promql/ast.h"
#include "promql/parser.h"
#include "storage/memory_store.h"

namespace vigil::promql {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) != b[i]) return false;
  }
  return true;
}

// Reads an unsigned PromQL number or duration at the front of `s`.
std::optional<double> take_number(std::string_view* s) {
  std::string_view in = *s;
  for (std::string_view word : {"inf", "nan"}) {
    if (in.size() >= 3 && iequals(in.substr(0, 3), word)) {
      *s = in.substr(3);
      return word == "inf" ? std::numeric_limits<double>::infinity()
                           : std::numeric_limits<double>::quiet_NaN();
    }
  }
  size_t i = 0;
  // No hexadecimal here: "0x3" reads as 0 repeated 3 times, as upstream.
  while (i < in.size() && is_digit(in[i])) ++i;
  size_t int_end = i;
  // A duration: digits followed by unit letters (1h30m, 5m, 500ms).
  if (int_end > 0 && i < in.size() && std::string_view("smhdwy").find(in[i]) != std::string_view::npos) {
    size_t j = i;
    while (j < in.size() && (is_digit(in[j]) || std::string_view("smhdwy").find(in[j]) != std::string_view::npos)) ++j;
    auto d = parse_duration(in.substr(0, j));
    if (!d) return std::nullopt;
    *s = in.substr(j);
    return static_cast<double>(*d) / 1000.0;
  }
  if (i < in.size() && in[i] == '.') {
    ++i;
    while (i < in.size() && is_digit(in[i])) ++i;
  }
  if (i == 0 || (i == 1 && in[0] == '.')) return std::nullopt;
  if (i < in.size() && (in[i] == 'e' || in[i] == 'E')) {
    size_t j = i + 1;
    if (j < in.size() && (in[j] == '+' || in[j] == '-')) ++j;
    if (j < in.size() && is_digit(in[j])) {
      while (j < in.size() && is_digit(in[j])) ++j;
      i = j;
    }
  }
  std::string num(in.substr(0, i));
  double v = std::strtod(num.c_str(), nullptr);
  *s = in.substr(i);
  return v;
}

std::optional<double> take_signed(std::string_view* s) {
  bool neg = false;
  if (!s->empty() && (s->front() == '+' || s->front() == '-')) {
    neg = s->front() == '-';
    s->remove_prefix(1);
  }
  auto v = take_number(s);
  if (!v) return std::nullopt;
  return neg ? -*v : *v;
}

std::optional<uint64_t> take_times(std::string_view* s) {
  if (s->empty() || s->front() != 'x') return std::nullopt;
  std::string_view d = s->substr(1);
  uint64_t n = 0;
  auto r = std::from_chars(d.data(), d.data() + d.size(), n);
  if (r.ec != std::errc() || r.ptr == d.data()) return std::nullopt;
  *s = d.substr(r.ptr - d.data());
  return n;
}

// A bound on expanded values, so a typo like 1x99999999999 fails instead of
// exhausting memory.
constexpr uint64_t kMaxValues = 50'000'000;

}  // namespace

Result<std::vector<SequenceValue>> parse_series_values(std::string_view text) {
  std::vector<SequenceValue> out;
  size_t pos = 0;
  auto err = [&](size_t at, std::string_view item, std::string_view what) {
    return fail(fmt::format("bad series value {}: expected {}", go_quote(item), what), 1,
                static_cast<int>(at) + 1);
  };
  while (pos < text.size()) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
    if (pos >= text.size()) break;
    if (text.substr(pos, 2) == "{{") return fail("native histograms are not supported", 1, static_cast<int>(pos) + 1);
    size_t end = text.find_first_of(" \t", pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view item = text.substr(pos, end - pos);
    std::string_view rest = item;
    if (rest.front() == '_') {
      rest.remove_prefix(1);
      uint64_t n = 1;
      if (!rest.empty()) {
        auto t = take_times(&rest);
        if (!t || !rest.empty()) return err(pos, item, "'_' or '_x<count>'");
        n = *t;
      }
      if (out.size() + n > kMaxValues) return err(pos, item, "fewer than 50000000 values in all");
      out.insert(out.end(), n, SequenceValue{0, true});
    } else if (rest == "stale") {
      out.push_back({storage::stale_nan(), false});
    } else {
      auto a = take_signed(&rest);
      if (!a) return err(pos, item, "a number, '_' or \"stale\"");
      if (rest.empty()) {
        out.push_back({*a, false});
      } else {
        double step = 0;
        if (rest.front() == '+' || rest.front() == '-') {
          auto b = take_signed(&rest);
          if (!b) return err(pos, item, "a number after the sign");
          step = *b;
        }
        auto n = take_times(&rest);
        if (!n || !rest.empty()) return err(pos, item, "'<a>x<n>' or '<a>+<b>x<n>'");
        if (out.size() + *n + 1 > kMaxValues) return err(pos, item, "fewer than 50000000 values in all");
        double cur = *a;
        for (uint64_t k = 0; k <= *n; ++k) {
          out.push_back({cur, false});
          cur += step;
        }
      }
    }
    pos = end;
  }
  return out;
}

Result<SeriesDesc> parse_series_desc(std::string_view text) {
  // The metric part ends at the closing brace, or at the first blank when there
  // are no braces. Quoted strings may hold braces and blanks.
  size_t i = 0;
  bool in_braces = false;
  char quote = 0;
  for (; i < text.size(); ++i) {
    char c = text[i];
    if (quote) {
      if (c == '\\' && quote != '`') ++i;
      else if (c == quote) quote = 0;
      continue;
    }
    if (in_braces && (c == '"' || c == '\'' || c == '`')) quote = c;
    else if (c == '{') in_braces = true;
    else if (c == '}' && in_braces) {
      ++i;
      break;
    } else if (!in_braces && (c == ' ' || c == '\t')) break;
  }
  std::string_view metric = text.substr(0, i);
  ParseOptions opts;
  opts.allow_empty_selectors = true;
  auto expr = parse_expr(metric, opts);
  if (!expr) return std::unexpected(expr.error());
  const auto* vs = as<VectorSelector>(expr->get());
  if (!vs || vs->mods.at != AtKind::kNone || vs->mods.offset != 0) {
    return fail(fmt::format("expected a series like metric{{label=\"value\"}}, got {}", go_quote(metric)), 1, 1);
  }
  std::vector<Label> labels;
  for (const auto& m : vs->matchers) {
    if (m.type() != MatchType::kEqual) {
      return fail(fmt::format("series {} may only use '=' between label name and value", go_quote(metric)), 1, 1);
    }
    labels.push_back({m.name(), m.value()});
  }
  auto values = parse_series_values(text.substr(i));
  if (!values) {
    Error e = values.error();
    e.column += static_cast<int>(i);
    return std::unexpected(e);
  }
  return SeriesDesc{Labels(labels), std::move(*values)};
}

}  // namespace vigil::promql
