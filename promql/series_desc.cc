#include "promql/series_desc.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <expected>
#include <memory>
#include <optional>
#include <algorithm>
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

// Reads `{{key:value ...}}` at the front of `*s` (the braces included).
// Errors are (offset into the original item, message).
struct HistError {
  size_t at;
  std::string message;
};

std::expected<FloatHistogram, HistError> take_histogram(std::string_view* s, bool* hint_set, size_t base) {
  std::string_view in = *s;
  size_t close = in.find("}}");
  if (close == std::string_view::npos) return std::unexpected(HistError{base, "histogram description without closing '}}'"});
  std::string_view body = in.substr(2, close - 2);
  *s = in.substr(close + 2);
  FloatHistogram h;
  std::vector<std::string> seen;
  std::vector<double> buckets, n_buckets;
  int64_t offset = 0, n_offset = 0;
  size_t i = 0;
  auto skip_blanks = [&] {
    while (i < body.size() && (body[i] == ' ' || body[i] == '\t')) ++i;
  };
  while (true) {
    skip_blanks();
    if (i >= body.size()) break;
    size_t key_start = i;
    while (i < body.size() && body[i] != ':' && body[i] != ' ') ++i;
    std::string key(body.substr(key_start, i - key_start));
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t at = base + 2 + key_start;
    if (i >= body.size() || body[i] != ':') {
      return std::unexpected(HistError{at, fmt::format("expected ':' after histogram field {}", go_quote(key))});
    }
    ++i;
    skip_blanks();
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) {
      return std::unexpected(HistError{at, fmt::format("duplicate key \"{}\" in histogram", key)});
    }
    seen.push_back(key);
    std::string_view rest = body.substr(i);
    auto number = [&]() -> std::optional<double> {
      auto v = take_signed(&rest);
      if (v) i = body.size() - rest.size();
      return v;
    };
    auto list = [&]() -> std::optional<std::vector<double>> {
      if (rest.empty() || rest.front() != '[') return std::nullopt;
      size_t end = rest.find(']');
      if (end == std::string_view::npos) return std::nullopt;
      std::string_view items = rest.substr(1, end - 1);
      std::vector<double> out;
      while (true) {
        while (!items.empty() && (items.front() == ' ' || items.front() == '\t')) items.remove_prefix(1);
        if (items.empty()) break;
        auto v = take_signed(&items);
        if (!v || (!items.empty() && items.front() != ' ' && items.front() != '\t')) return std::nullopt;
        out.push_back(*v);
      }
      i += end + 1;
      return out;
    };
    auto bad = [&](std::string_view what) {
      return std::unexpected(HistError{at, fmt::format("histogram field {} expects {}", key, what)});
    };
    if (key == "schema" || key == "offset" || key == "n_offset") {
      auto v = number();
      if (!v || *v != std::trunc(*v) || std::fabs(*v) > 1e9) return bad("an integer");
      if (key == "schema") h.schema = static_cast<int32_t>(*v);
      else if (key == "offset") offset = static_cast<int64_t>(*v);
      else n_offset = static_cast<int64_t>(*v);
    } else if (key == "sum" || key == "count" || key == "z_bucket" || key == "z_bucket_w") {
      auto v = number();
      if (!v) return bad("a number");
      if (key == "sum") h.sum = *v;
      else if (key == "count") h.count = *v;
      else if (key == "z_bucket") h.zero_count = *v;
      else h.zero_threshold = *v;
    } else if (key == "buckets" || key == "n_buckets" || key == "custom_values") {
      auto v = list();
      if (!v) return bad("a list of numbers like [1 2 3]");
      if (key == "buckets") buckets = std::move(*v);
      else if (key == "n_buckets") n_buckets = std::move(*v);
      else h.custom_values = std::move(*v);
    } else if (key == "counter_reset_hint") {
      size_t e = rest.find_first_of(" \t");
      std::string_view word = rest.substr(0, e);
      i += word.size();
      *hint_set = true;
      if (word == "unknown") h.hint = CounterResetHint::kUnknown;
      else if (word == "reset") h.hint = CounterResetHint::kReset;
      else if (word == "not_reset") h.hint = CounterResetHint::kNotReset;
      else if (word == "gauge") h.hint = CounterResetHint::kGauge;
      else return bad("one of unknown, reset, not_reset, gauge");
    } else {
      return std::unexpected(HistError{at, fmt::format(
          "unknown histogram field {} (expected schema, sum, count, z_bucket, z_bucket_w, offset, buckets, "
          "n_offset, n_buckets, custom_values or counter_reset_hint)", go_quote(key))});
    }
  }
  if (!buckets.empty()) {
    h.positive_spans = {{static_cast<int32_t>(offset), static_cast<uint32_t>(buckets.size())}};
    h.positive_buckets = std::move(buckets);
  }
  if (!n_buckets.empty()) {
    h.negative_spans = {{static_cast<int32_t>(n_offset), static_cast<uint32_t>(n_buckets.size())}};
    h.negative_buckets = std::move(n_buckets);
  }
  return h;
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
    if (text.substr(pos, 2) == "{{") {
      std::string_view rest = text.substr(pos);
      auto herr = [&](const HistError& e) { return fail(e.message, 1, static_cast<int>(e.at) + 1); };
      bool hint_set = false;
      auto a = take_histogram(&rest, &hint_set, pos);
      if (!a) return herr(a.error());
      auto at = [&] { return text.size() - rest.size(); };
      auto base = std::make_shared<const FloatHistogram>(std::move(*a));
      if (rest.empty() || rest.front() == ' ' || rest.front() == '\t') {
        out.push_back({0, false, base, hint_set});
      } else if (rest.front() == 'x') {
        auto n = take_times(&rest);
        if (!n || (!rest.empty() && rest.front() != ' ' && rest.front() != '\t')) {
          return fail("expected '{{...}}x<count>'", 1, static_cast<int>(at()) + 1);
        }
        if (out.size() + *n + 1 > kMaxValues) return fail("expected fewer than 50000000 values in all", 1, static_cast<int>(pos) + 1);
        for (uint64_t k = 0; k <= *n; ++k) out.push_back({0, false, base, hint_set});
      } else if (rest.front() == '+' || rest.front() == '-') {
        bool subtract = rest.front() == '-';
        rest.remove_prefix(1);
        size_t inc_at = at();
        if (rest.substr(0, 2) != "{{") return fail("expected a histogram after the sign", 1, static_cast<int>(inc_at) + 1);
        bool inc_hint = false;
        auto inc = take_histogram(&rest, &inc_hint, inc_at);
        if (!inc) return herr(inc.error());
        auto n = take_times(&rest);
        if (!n || (!rest.empty() && rest.front() != ' ' && rest.front() != '\t')) {
          return fail("expected '{{...}}+{{...}}x<count>'", 1, static_cast<int>(at()) + 1);
        }
        if (out.size() + *n + 1 > kMaxValues) return fail("expected fewer than 50000000 values in all", 1, static_cast<int>(pos) + 1);
        out.push_back({0, false, base, inc_hint});
        HistogramPtr cur = base;
        for (uint64_t k = 1; k <= *n; ++k) {
          if (cur->schema > inc->schema) {
            return fail(fmt::format("error combining histograms: cannot merge from schema {} to {}", inc->schema, cur->schema),
                        1, static_cast<int>(pos) + 1);
          }
          auto next = std::make_shared<FloatHistogram>(*cur);
          if (!next->add(*inc, subtract, nullptr, nullptr)) {
            return fail("error combining histograms: cannot apply this operation on custom buckets histograms and "
                        "exponential buckets histograms", 1, static_cast<int>(pos) + 1);
          }
          cur = next;
          out.push_back({0, false, cur, inc_hint});
        }
      } else {
        return fail("expected a blank, 'x<count>' or '+{{...}}x<count>' after a histogram", 1, static_cast<int>(at()) + 1);
      }
      pos = at();
      continue;
    }
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
