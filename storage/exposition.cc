#include "storage/exposition.h"

#include <charconv>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "model/go_format.h"
#include "model/names.h"

namespace vigil::storage {

namespace {

MetricType parse_type(std::string_view t) {
  if (t == "counter") return MetricType::kCounter;
  if (t == "gauge") return MetricType::kGauge;
  if (t == "histogram") return MetricType::kHistogram;
  if (t == "gaugehistogram") return MetricType::kGaugeHistogram;
  if (t == "summary") return MetricType::kSummary;
  if (t == "info") return MetricType::kInfo;
  if (t == "stateset") return MetricType::kStateSet;
  return MetricType::kUnknown;
}

std::optional<double> parse_float(std::string_view s) {
  if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (s == "+Inf" || s == "Inf") return std::numeric_limits<double>::infinity();
  if (s == "-Inf") return -std::numeric_limits<double>::infinity();
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

bool is_name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
         (!first && c >= '0' && c <= '9');
}

// Reads one line's tokens, with errors naming the line.
class LineParser {
 public:
  // `type`: the family type the last # TYPE line declared.
  LineParser(std::string_view line, int lineno, MetricType type = MetricType::kUnknown)
      : s_(line), lineno_(lineno), type_(type) {}

  Result<ScrapedSample> sample(ExpositionFormat fmt) {
    std::vector<Label> labels;
    if (auto r = series_labels(labels); !r) return std::unexpected(r.error());
    ScrapedSample out{Labels(labels), 0, std::nullopt};
    if (auto r = value_and_timestamp(fmt, out.value, out.timestamp_ms); !r) return std::unexpected(r.error());
    return out;
  }

  // The metric name and label block's text, checked only for quoting and
  // the closing brace, then the value and timestamp.
  Result<RawSample> raw(ExpositionFormat fmt) {
    RawSample out;
    out.line = lineno_;
    if (peek() != '{' && !name_token()) return err("metric name");
    if (peek() == '{') {
      ++pos_;
      bool in_quotes = false;
      for (;;) {
        if (pos_ >= s_.size()) return err("'}'");
        const char c = s_[pos_++];
        if (in_quotes) {
          if (c == '\\' && pos_ < s_.size()) ++pos_;
          else if (c == '"') in_quotes = false;
        } else if (c == '"') {
          in_quotes = true;
        } else if (c == '}') {
          break;
        }
      }
    }
    out.series = s_.substr(0, pos_);
    if (auto r = value_and_timestamp(fmt, out.value, out.timestamp_ms); !r) return std::unexpected(r.error());
    return out;
  }

  // A whole `series` text: the labels with __name__, nothing after them.
  Result<Labels> series_only() {
    std::vector<Label> labels;
    if (auto r = series_labels(labels); !r) return std::unexpected(r.error());
    if (pos_ < s_.size()) return err("end of the label block", s_.substr(pos_));
    return Labels(labels);
  }

 private:
  std::unexpected<Error> err(std::string_view expected, std::string_view got = {}) {
    if (got.empty() && pos_ < s_.size()) got = s_.substr(pos_, 1);
    return fail(got.empty() ? fmt::format("line {}: expected {}, got end of line", lineno_, expected)
                            : fmt::format("line {}: expected {}, got {}", lineno_, expected,
                                          go_quote(got)),
                lineno_, static_cast<int>(pos_) + 1);
  }

  // The metric name and label block, __name__ last in `labels`.
  Result<void> series_labels(std::vector<Label>& labels) {
    std::string name;
    if (peek() == '{') {
      // A quoted UTF-8 metric name may stand first inside the braces.
    } else {
      auto n = name_token();
      if (!n) return n.error_or_unexpected("metric name");
      name = std::string(*n);
    }
    if (peek() == '{') {
      ++pos_;
      if (auto r = label_list(&labels, &name); !r) return std::unexpected(r.error());
    }
    if (name.empty()) return err("metric name");
    // As Prometheus 3 reads text formats: a histogram's `le` and a summary's
    // `quantile` are written as it formats floats ("1" becomes "1.0").
    const std::string_view normalized =
        type_ == MetricType::kHistogram ? "le" : type_ == MetricType::kSummary ? "quantile" : "";
    if (!normalized.empty())
      for (Label& l : labels)
        if (l.name == normalized)
          if (auto v = parse_float(l.value)) l.value = format_openmetrics_float(*v);
    labels.push_back({std::string(kMetricNameLabel), std::move(name)});
    return {};
  }

  Result<void> value_and_timestamp(ExpositionFormat fmt, double& value, std::optional<int64_t>& timestamp_ms) {
    if (!skip_spaces()) return err("value");
    std::string_view vtok = token();
    auto v = parse_float(vtok);
    if (!v) return err("a float value", vtok);
    value = *v;
    skip_spaces();
    if (pos_ < s_.size() && s_[pos_] != '#') {
      std::string_view ttok = token();
      if (fmt == ExpositionFormat::kOpenMetrics) {
        auto ts = parse_float(ttok);
        if (!ts || !std::isfinite(*ts)) return err("a timestamp", ttok);
        timestamp_ms = static_cast<int64_t>(std::llround(*ts * 1000));
      } else {
        int64_t ts;
        auto r = std::from_chars(ttok.data(), ttok.data() + ttok.size(), ts);
        if (r.ec != std::errc() || r.ptr != ttok.data() + ttok.size()) {
          return err("a timestamp in milliseconds", ttok);
        }
        timestamp_ms = ts;
      }
      skip_spaces();
    }
    // OpenMetrics exemplars (" # {...} v [ts]") are accepted and not stored.
    if (pos_ < s_.size() && !(fmt == ExpositionFormat::kOpenMetrics && s_[pos_] == '#')) {
      return err("end of line", s_.substr(pos_));
    }
    return {};
  }

  char peek() const { return pos_ < s_.size() ? s_[pos_] : '\0'; }

  bool skip_spaces() {
    size_t start = pos_;
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t')) ++pos_;
    return pos_ > start;
  }

  std::string_view token() {
    size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] != ' ' && s_[pos_] != '\t') ++pos_;
    return s_.substr(start, pos_ - start);
  }

  // A metric or label name in the classic character set.
  class NameTok {
   public:
    NameTok(std::string_view v, LineParser* p) : v_(v), p_(p) {}
    explicit operator bool() const { return !v_.empty(); }
    std::string_view operator*() const { return v_; }
    std::unexpected<Error> error_or_unexpected(std::string_view what) { return p_->err(what); }

   private:
    std::string_view v_;
    LineParser* p_;
  };

  NameTok name_token() {
    size_t start = pos_;
    while (pos_ < s_.size() && is_name_char(s_[pos_], pos_ == start)) ++pos_;
    return NameTok(s_.substr(start, pos_ - start), this);
  }

  // A double-quoted string with \\, \" and \n escapes.
  Result<std::string> quoted() {
    if (peek() != '"') return err("'\"'");
    ++pos_;
    std::string out;
    while (pos_ < s_.size()) {
      char c = s_[pos_++];
      if (c == '"') {
        if (!is_valid_utf8(out)) return err("valid UTF-8 in a label value");
        return out;
      }
      if (c == '\\' && pos_ < s_.size()) {
        char e = s_[pos_++];
        out += e == 'n' ? '\n' : e;
        continue;
      }
      out += c;
    }
    return err("closing '\"'");
  }

  Result<void> label_list(std::vector<Label>* labels, std::string* name) {
    skip_spaces();
    bool first = true;
    while (peek() != '}') {
      if (pos_ >= s_.size()) return err("'}'");
      std::string lname;
      if (peek() == '"') {
        auto q = quoted();
        if (!q) return std::unexpected(q.error());
        skip_spaces();
        if (first && name->empty() && (peek() == ',' || peek() == '}')) {
          *name = std::move(*q);  // {"metric.name", ...}
          goto next;
        }
        lname = std::move(*q);
      } else {
        auto n = name_token();
        if (!n) return err("label name");
        lname = std::string(*n);
      }
      skip_spaces();
      if (peek() != '=') return err("'='");
      ++pos_;
      skip_spaces();
      {
        auto v = quoted();
        if (!v) return std::unexpected(v.error());
        labels->push_back({std::move(lname), std::move(*v)});
      }
    next:
      first = false;
      skip_spaces();
      if (peek() == ',') {
        ++pos_;
        skip_spaces();
      } else if (peek() != '}') {
        return err("',' or '}'");
      }
    }
    ++pos_;
    return {};
  }

  std::string_view s_;
  size_t pos_ = 0;
  int lineno_;
  MetricType type_;
};

// Walks a body's lines: comments, # TYPE and # EOF here, each sample line
// (leading blanks removed) handed to `on_sample(line, lineno, type)` with the
// type the last # TYPE line declared.
template <class OnSample>
Result<void> walk_lines(std::string_view body, ExpositionFormat format, ScrapeResult::TypeMap* types,
                        OnSample&& on_sample) {
  int lineno = 0;
  bool saw_eof = false;
  MetricType type = MetricType::kUnknown;
  while (!body.empty()) {
    size_t nl = body.find('\n');
    std::string_view line = body.substr(0, nl);
    body = nl == std::string_view::npos ? std::string_view{} : body.substr(nl + 1);
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (saw_eof) {
      if (line.empty() && body.empty()) break;
      return fail(fmt::format("line {}: unexpected data after # EOF", lineno), lineno, 1);
    }
    size_t first = line.find_first_not_of(" \t");
    if (first == std::string_view::npos) continue;
    line.remove_prefix(first);
    if (line[0] == '#') {
      if (line == "# EOF") {
        saw_eof = true;
        continue;
      }
      if (line.starts_with("# TYPE ")) {
        std::string_view rest = line.substr(7);
        size_t sp = rest.find(' ');
        if (sp == std::string_view::npos) {
          return fail(fmt::format("line {}: expected a metric type after # TYPE name", lineno),
                      lineno, 1);
        }
        type = parse_type(rest.substr(sp + 1));
        if (types) (*types)[std::string(rest.substr(0, sp))] = type;
      }
      continue;  // HELP, UNIT and plain comments
    }
    if (auto r = on_sample(line, lineno, type); !r) return r;
  }
  if (format == ExpositionFormat::kOpenMetrics && !saw_eof) {
    return fail("expected # EOF at the end of an OpenMetrics body", lineno, 1);
  }
  return {};
}

}  // namespace

Result<ScrapeResult> parse_exposition(std::string_view body, ExpositionFormat format) {
  ScrapeResult out;
  auto r = walk_lines(body, format, &out.types, [&](std::string_view line, int lineno, MetricType type) -> Result<void> {
    auto s = LineParser(line, lineno, type).sample(format);
    if (!s) return std::unexpected(s.error());
    out.samples.push_back(std::move(*s));
    return {};
  });
  if (!r) return std::unexpected(r.error());
  return out;
}

Result<void> split_exposition(std::string_view body, ExpositionFormat format, std::vector<RawSample>& out,
                              ScrapeResult::TypeMap* types) {
  out.clear();
  return walk_lines(body, format, types, [&](std::string_view line, int lineno, MetricType type) -> Result<void> {
    auto s = LineParser(line, lineno).raw(format);
    if (!s) return std::unexpected(s.error());
    s->type = type;
    out.push_back(*s);
    return {};
  });
}

Result<Labels> parse_series(std::string_view series, int line, MetricType type) {
  return LineParser(series, line, type).series_only();
}

std::string format_openmetrics_float(double v) {
  std::string s = go_format_float(v, 'g', -1);
  if (std::isfinite(v) && s.find_first_of("e.") == std::string::npos) s += ".0";
  return s;
}

RawSample& ParsedBody::add(std::string series, double value, std::optional<int64_t> timestamp_ms, int line) {
  texts.push_back(std::move(series));
  samples.push_back(RawSample{texts.back(), value, timestamp_ms, line, 0});
  return samples.back();
}

RawSample& ParsedBody::add_histogram(std::string series, HistogramPtr h, std::optional<int64_t> timestamp_ms,
                                     int line) {
  histograms.push_back(std::move(h));
  RawSample& s = add(std::move(series), 0, timestamp_ms, line);
  s.histogram = static_cast<uint32_t>(histograms.size());
  return s;
}

namespace {

void write_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
}

}  // namespace

void write_series_text(std::string& out, std::string_view name,
                       const std::vector<std::pair<std::string_view, std::string_view>>& labels) {
  const bool quoted_name = !is_legacy_metric_name(name);
  if (!quoted_name) out += name;
  if (labels.empty() && !quoted_name) return;
  out += '{';
  bool first = true;
  if (quoted_name) {
    write_quoted(out, name);
    first = false;
  }
  for (const auto& [k, v] : labels) {
    if (!first) out += ',';
    first = false;
    if (is_legacy_label_name(k)) out += k;
    else write_quoted(out, k);
    out += '=';
    write_quoted(out, v);
  }
  out += '}';
}

}  // namespace vigil::storage
