// The protobuf exposition parser against payloads built with the generated
// message classes: each metric type, native histograms in integer and float
// form compared with the FloatHistogram they stand for, classic histograms
// converted to custom buckets, and malformed bodies. Also the text-format
// conversion to custom buckets and the content negotiation.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <sstream>
#include <limits>
#include <map>
#include <memory>

#include "storage/exposition_proto.h"
#include "storage/metrics.pb.h"
#include "storage/nhcb.h"
#include "storage/scrape_protocol.h"

using namespace vigil;
using namespace vigil::storage;
namespace pb = vigil::storage::expo;

namespace {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  out += static_cast<char>(v);
}

std::string delimited(const std::vector<pb::MetricFamily>& families) {
  std::string out;
  for (const pb::MetricFamily& mf : families) {
    std::string b = mf.SerializeAsString();
    put_varint(out, b.size());
    out += b;
  }
  return out;
}

pb::MetricFamily family(const std::string& name, pb::MetricType type) {
  pb::MetricFamily mf;
  mf.set_name(name);
  mf.set_help("help text");
  mf.set_type(type);
  return mf;
}

void add_label(pb::Metric* m, const std::string& k, const std::string& v) {
  auto* l = m->add_label();
  l->set_name(k);
  l->set_value(v);
}

// Sample texts -> value (floats) in order, histograms by text.
struct Parsed {
  std::vector<std::pair<std::string, double>> floats;
  std::map<std::string, FloatHistogram> histograms;
  std::vector<std::optional<int64_t>> timestamps;
};

// The labels of each sample as parse_series reads its text.
Parsed parse(const std::string& body, HistogramOptions opts = {}) {
  ParsedBody out;
  auto r = parse_protobuf_exposition(body, opts, out);
  if (!r) FAIL(r.error().message);
  Parsed p;
  for (const RawSample& s : out.samples) {
    auto ls = parse_series(s.series, 0);
    REQUIRE_MESSAGE(ls.has_value(), std::string(s.series));
    p.timestamps.push_back(s.timestamp_ms);
    if (s.histogram) p.histograms[ls->to_string()] = *out.histograms.at(s.histogram - 1);
    else p.floats.emplace_back(ls->to_string(), s.value);
  }
  return p;
}

std::string error_of(const std::string& body, HistogramOptions opts = {.native = true}) {
  ParsedBody out;
  auto r = parse_protobuf_exposition(body, opts, out);
  REQUIRE_FALSE(r.has_value());
  CHECK(out.samples.empty());
  return r.error().message;
}

// An integer native histogram: schema 0, zero bucket, positive buckets at
// indexes 0, 1 and 3 (counts 1 2 1, deltas 1 1 -1), a negative one at -1.
pb::Histogram integer_native() {
  pb::Histogram h;
  h.set_sample_count(9);
  h.set_sample_sum(12.5);
  h.set_schema(0);
  h.set_zero_threshold(0.001);
  h.set_zero_count(3);
  auto* s1 = h.add_positive_span();
  s1->set_offset(0);
  s1->set_length(2);
  auto* s2 = h.add_positive_span();
  s2->set_offset(1);
  s2->set_length(1);
  for (int d : {1, 1, -1}) h.add_positive_delta(d);
  auto* n = h.add_negative_span();
  n->set_offset(-1);
  n->set_length(1);
  h.add_negative_delta(2);
  return h;
}

}  // namespace

TEST_CASE("protobuf exposition: counters, gauges, untyped and summaries") {
  auto c = family("requests_total", pb::COUNTER);
  auto* m = c.add_metric();
  add_label(m, "code", "200");
  add_label(m, "path", "a\"b\\c\nd");
  m->mutable_counter()->set_value(1027);
  m->set_timestamp_ms(1395066363000);
  auto g = family("temperature", pb::GAUGE);
  g.add_metric()->mutable_gauge()->set_value(-3.5);
  auto u = family("some.dotted", pb::UNTYPED);
  auto* um = u.add_metric();
  add_label(um, "service.name", "api");
  um->mutable_untyped()->set_value(7);
  auto s = family("latency", pb::SUMMARY);
  auto* sum = s.add_metric()->mutable_summary();
  sum->set_sample_count(10);
  sum->set_sample_sum(4.5);
  for (auto [q, v] : {std::pair{0.5, 0.3}, std::pair{0.99, 0.9}, std::pair{1.0, 1.2}}) {
    auto* qq = sum->add_quantile();
    qq->set_quantile(q);
    qq->set_value(v);
  }
  Parsed p = parse(delimited({c, g, u, s, family("empty_family_is_skipped", pb::GAUGE)}));
  CHECK(p.histograms.empty());
  REQUIRE(p.floats.size() == 8);
  CHECK(p.floats[0].first == R"({__name__="requests_total", code="200", path="a\"b\\c\nd"})");
  CHECK(p.floats[0].second == 1027);
  CHECK(p.timestamps[0] == 1395066363000);
  CHECK_FALSE(p.timestamps[1].has_value());  // 0 means none
  CHECK(p.floats[1] == std::pair<std::string, double>{R"({__name__="temperature"})", -3.5});
  CHECK(p.floats[2] == std::pair<std::string, double>{R"({__name__="some.dotted", "service.name"="api"})", 7});
  CHECK(p.floats[3] == std::pair<std::string, double>{R"({__name__="latency_count"})", 10});
  CHECK(p.floats[4] == std::pair<std::string, double>{R"({__name__="latency_sum"})", 4.5});
  CHECK(p.floats[5] == std::pair<std::string, double>{R"({__name__="latency", quantile="0.5"})", 0.3});
  CHECK(p.floats[6] == std::pair<std::string, double>{R"({__name__="latency", quantile="0.99"})", 0.9});
  CHECK(p.floats[7] == std::pair<std::string, double>{R"({__name__="latency", quantile="1.0"})", 1.2});
}

TEST_CASE("protobuf exposition: classic histograms, +Inf added, float counts preferred") {
  auto h = family("rpc_seconds", pb::HISTOGRAM);
  auto* hist = h.add_metric()->mutable_histogram();
  hist->set_sample_count(4);
  hist->set_sample_sum(2.5);
  auto* b1 = hist->add_bucket();
  b1->set_upper_bound(0.1);
  b1->set_cumulative_count(1);
  auto* b2 = hist->add_bucket();
  b2->set_upper_bound(1);
  b2->set_cumulative_count(3);
  b2->set_cumulative_count_float(3.5);
  Parsed p = parse(delimited({h}));
  REQUIRE(p.floats.size() == 5);
  CHECK(p.floats[0] == std::pair<std::string, double>{R"({__name__="rpc_seconds_count"})", 4});
  CHECK(p.floats[1] == std::pair<std::string, double>{R"({__name__="rpc_seconds_sum"})", 2.5});
  CHECK(p.floats[2] == std::pair<std::string, double>{R"({__name__="rpc_seconds_bucket", le="0.1"})", 1});
  CHECK(p.floats[3] == std::pair<std::string, double>{R"({__name__="rpc_seconds_bucket", le="1.0"})", 3.5});
  CHECK(p.floats[4] == std::pair<std::string, double>{R"({__name__="rpc_seconds_bucket", le="+Inf"})", 4});
}

TEST_CASE("protobuf exposition: an integer native histogram decodes to its FloatHistogram") {
  auto f = family("req_seconds", pb::HISTOGRAM);
  auto* m = f.add_metric();
  add_label(m, "job", "x");
  *m->mutable_histogram() = integer_native();
  const std::string body = delimited({f});

  Parsed p = parse(body, {.native = true});
  CHECK(p.floats.empty());
  REQUIRE(p.histograms.size() == 1);
  const FloatHistogram& got = p.histograms.at(R"({__name__="req_seconds", job="x"})");
  FloatHistogram want;
  want.schema = 0;
  want.zero_threshold = 0.001;
  want.zero_count = 3;
  want.count = 9;
  want.sum = 12.5;
  want.positive_spans = {{0, 2}, {1, 1}};
  want.positive_buckets = {1, 2, 1};
  want.negative_spans = {{-1, 1}};
  want.negative_buckets = {2};
  CHECK_MESSAGE(got.approx_equal(want, 1e-12, true), got.to_notation());
  CHECK(got.hint == CounterResetHint::kUnknown);
  auto pos = got.positive();
  REQUIRE(pos.size() == 3);
  CHECK(pos[2].index == 3);
  CHECK(pos[2].upper == doctest::Approx(8));  // schema 0: (4, 8]

  // Without native histograms it is read as a classic one: count, sum and
  // the +Inf bucket only (it has no classic buckets).
  Parsed classic = parse(body, {.native = false});
  CHECK(classic.histograms.empty());
  REQUIRE(classic.floats.size() == 3);
  CHECK(classic.floats[2] == std::pair<std::string, double>{R"({__name__="req_seconds_bucket", job="x", le="+Inf"})", 9});
}

TEST_CASE("protobuf exposition: float native histograms, gauge histograms, empty buckets dropped") {
  auto f = family("gh", pb::GAUGE_HISTOGRAM);
  auto* h = f.add_metric()->mutable_histogram();
  h->set_sample_count_float(7.5);
  h->set_sample_sum(-1);
  h->set_schema(3);
  h->set_zero_threshold(0);
  auto* s = h->add_positive_span();
  s->set_offset(-2);
  s->set_length(3);
  for (double c : {1.5, 0.0, 6.0}) h->add_positive_count(c);
  Parsed p = parse(delimited({f}), {.native = true});
  REQUIRE(p.histograms.size() == 1);
  const FloatHistogram& got = p.histograms.begin()->second;
  FloatHistogram want;
  want.hint = CounterResetHint::kGauge;
  want.schema = 3;
  want.count = 7.5;
  want.sum = -1;
  want.positive_spans = {{-2, 1}, {1, 1}};
  want.positive_buckets = {1.5, 6};
  CHECK_MESSAGE(got.approx_equal(want, 1e-12, true), got.to_notation());
}

TEST_CASE("protobuf exposition: always_scrape_classic_histograms keeps both forms") {
  auto f = family("both", pb::HISTOGRAM);
  pb::Histogram h = integer_native();
  auto* b = h.add_bucket();
  b->set_upper_bound(1);
  b->set_cumulative_count(5);
  *f.add_metric()->mutable_histogram() = h;
  const std::string body = delimited({f});
  Parsed native_only = parse(body, {.native = true});
  CHECK(native_only.histograms.size() == 1);
  CHECK(native_only.floats.empty());
  Parsed both = parse(body, {.native = true, .keep_classic = true});
  CHECK(both.histograms.size() == 1);
  REQUIRE(both.floats.size() == 4);  // count, sum, le=1.0, le=+Inf
  CHECK(both.floats[2] == std::pair<std::string, double>{R"({__name__="both_bucket", le="1.0"})", 5});
}

TEST_CASE("protobuf exposition: classic histograms convert to custom buckets") {
  auto f = family("c", pb::HISTOGRAM);
  auto* h = f.add_metric()->mutable_histogram();
  h->set_sample_count(4);
  h->set_sample_sum(2.5);
  for (auto [le, n] : {std::pair{0.1, 1}, std::pair{1.0, 3}}) {
    auto* b = h->add_bucket();
    b->set_upper_bound(le);
    b->set_cumulative_count(n);
  }
  const std::string body = delimited({f});
  Parsed p = parse(body, {.native = true, .convert_nhcb = true});
  CHECK(p.floats.empty());
  REQUIRE(p.histograms.size() == 1);
  const FloatHistogram& got = p.histograms.at(R"({__name__="c"})");
  CHECK(got.schema == kCustomBucketsSchema);
  CHECK(got.custom_values == std::vector<double>{0.1, 1});
  CHECK(got.positive_buckets == std::vector<double>{1, 2, 1});
  CHECK(got.count == 4);
  CHECK(got.sum == 2.5);
  CHECK(got.validate().empty());
  Parsed kept = parse(body, {.keep_classic = true, .convert_nhcb = true});
  CHECK(kept.histograms.size() == 1);
  CHECK(kept.floats.size() == 5);

  // Counts that fall fail the scrape, naming the histogram.
  h->mutable_bucket(1)->set_cumulative_count(0);
  CHECK(error_of(delimited({f}), {.convert_nhcb = true}).find("histogram \"c\": count is not cumulative") !=
        std::string::npos);
}

TEST_CASE("protobuf exposition: malformed bodies are errors that say where and what") {
  auto ok = family("m", pb::GAUGE);
  ok.add_metric()->mutable_gauge()->set_value(1);
  const std::string good = delimited({ok});
  CHECK(error_of(good + "\x80").find("byte " + std::to_string(good.size()) + ": the length of a message is cut off") !=
        std::string::npos);
  CHECK(error_of(good + "\x05\x0a").find("a message of 5 bytes, but only 1 bytes follow") != std::string::npos);
  CHECK(error_of(std::string("\x02\xff\xff", 3)).find("byte 0: the message is not a MetricFamily") != std::string::npos);

  auto typed = family("t", pb::GAUGE);
  typed.set_type(9);
  typed.add_metric()->mutable_gauge()->set_value(1);
  CHECK(error_of(delimited({typed})).find("unknown metric type 9 for metric \"t\"") != std::string::npos);

  auto unnamed = family("", pb::GAUGE);
  unnamed.add_metric();
  CHECK(error_of(delimited({unnamed})).find("invalid metric name \"\"") != std::string::npos);

  auto bad_label = family("l", pb::GAUGE);
  add_label(bad_label.add_metric(), "k", "\xff");
  CHECK(error_of(delimited({bad_label})).find("label k has a value that is not UTF-8") != std::string::npos);

  auto spans = family("h", pb::HISTOGRAM);
  pb::Histogram h = integer_native();
  h.add_positive_delta(1);  // one more than the spans cover
  *spans.add_metric()->mutable_histogram() = h;
  CHECK(error_of(delimited({spans})).find("histogram \"h\": positive side: spans require 3 buckets, have 4") !=
        std::string::npos);

  auto negative = family("h", pb::HISTOGRAM);
  h = integer_native();
  h.set_positive_delta(1, -5);  // 1, then -4
  *negative.add_metric()->mutable_histogram() = h;
  CHECK(error_of(delimited({negative})).find("bucket 2 has a count of -4") != std::string::npos);

  auto schema = family("h", pb::HISTOGRAM);
  h = integer_native();
  h.set_schema(9);
  *schema.add_metric()->mutable_histogram() = h;
  CHECK(error_of(delimited({schema})).find("schema 9 is out of range") != std::string::npos);

  auto far = family("h", pb::HISTOGRAM);
  h = integer_native();
  h.mutable_positive_span(1)->set_offset(std::numeric_limits<int32_t>::max());
  *far.add_metric()->mutable_histogram() = h;
  CHECK(error_of(delimited({far})).find("reaches bucket index") != std::string::npos);

  // The same histograms read as classic ones are fine.
  ParsedBody out;
  CHECK(parse_protobuf_exposition(delimited({spans, schema, far}), {}, out).has_value());
  // An empty body has no samples.
  CHECK(parse_protobuf_exposition("", {.native = true}, out).has_value());
  CHECK(out.samples.empty());
}

TEST_CASE("text bodies: classic histograms convert to custom buckets") {
  const std::string text =
      "# TYPE h histogram\n"
      "h_bucket{a=\"1\",le=\"0.5\"} 2\n"
      "h_bucket{a=\"1\",le=\"+Inf\"} 5\n"
      "h_sum{a=\"1\"} 3\n"
      "h_count{a=\"1\"} 5\n"
      "h_bucket{a=\"2\",le=\"1\"} 1\n"
      "h_count{a=\"2\"} 1\n"
      "other 7\n"
      "# TYPE bad histogram\n"
      "bad_bucket{le=\"1\"} 3\n"
      "bad_bucket{le=\"2\"} 1\n"
      "# TYPE s summary\n"
      "s_count 4\n";
  auto convert = [&](bool keep) {
    ParsedBody body;
    ScrapeResult::TypeMap types;
    REQUIRE(split_exposition(text, ExpositionFormat::kPrometheusText, body.samples, &types).has_value());
    convert_text_histograms(body, types, keep);
    return body;
  };
  ParsedBody body = convert(false);
  std::vector<std::string> texts;
  for (const RawSample& s : body.samples) texts.emplace_back(s.series);
  CHECK(texts == std::vector<std::string>{"h{a=\"1\"}", "h{a=\"2\"}", "other", "s_count"});
  const FloatHistogram& h1 = *body.histograms.at(body.samples[0].histogram - 1);
  CHECK(h1.custom_values == std::vector<double>{0.5});
  CHECK(h1.positive_buckets == std::vector<double>{2, 3});
  CHECK(h1.count == 5);
  CHECK(h1.sum == 3);
  CHECK(body.histograms.at(body.samples[1].histogram - 1)->count == 1);
  CHECK(body.samples[2].histogram == 0);
  CHECK(body.samples[2].value == 7);
  // Kept classic lines stay where they were, the NHCB after each run.
  CHECK(convert(true).samples.size() == 13 - 3 + 2);
}

TEST_CASE("content negotiation: Accept header and body format as Prometheus 3.5") {
  // Prometheus 3.5's own header, seen on the wire, for its default protocols
  // and for --enable-feature=native-histograms.
  CHECK(accept_header({"OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0", "PrometheusText0.0.4"},
                      "allow-utf-8") ==
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,application/openmetrics-text;"
        "version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,text/plain;version=0.0.4;q=0.3,"
        "*/*;q=0.2");
  CHECK(accept_header({"PrometheusProto", "OpenMetricsText1.0.0", "OpenMetricsText0.0.1", "PrometheusText1.0.0",
                       "PrometheusText0.0.4"},
                      "allow-utf-8") ==
        "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,"
        "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;"
        "version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,"
        "*/*;q=0.1");

  CHECK(body_format("text/plain; version=0.0.4; charset=utf-8", "") == BodyFormat::kPrometheusText);
  CHECK(body_format("application/openmetrics-text; version=1.0.0", "") == BodyFormat::kOpenMetrics);
  CHECK(body_format("Application/Vnd.Google.Protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited",
                    "") == BodyFormat::kProtobuf);
  auto blank = body_format("", "");
  REQUIRE_FALSE(blank.has_value());
  CHECK(blank.error().message ==
        "non-compliant scrape target sending blank Content-Type and no fallback_scrape_protocol specified for target");
  auto json = body_format("application/json", "");
  REQUIRE_FALSE(json.has_value());
  CHECK(json.error().message ==
        "received unsupported Content-Type \"application/json\" and no fallback_scrape_protocol specified for target");
  std::string note;
  CHECK(body_format("application/json", "PrometheusProto", &note) == BodyFormat::kProtobuf);
  CHECK(note == "received unsupported Content-Type \"application/json\", using fallback_scrape_protocol \"PrometheusProto\"");
  CHECK(body_format("", "OpenMetricsText1.0.0") == BodyFormat::kOpenMetrics);
  CHECK(body_format("text/plain; version", "PrometheusText0.0.4") == BodyFormat::kPrometheusText);
  CHECK_FALSE(body_format("text/plain; version", "").has_value());
}

TEST_CASE("le and quantile values are written as Prometheus formats floats") {
  CHECK(format_openmetrics_float(1) == "1.0");
  CHECK(format_openmetrics_float(0) == "0.0");
  CHECK(format_openmetrics_float(0.25) == "0.25");
  CHECK(format_openmetrics_float(100) == "100.0");
  CHECK(format_openmetrics_float(1e6) == "1e+06");
  CHECK(format_openmetrics_float(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(format_openmetrics_float(-std::numeric_limits<double>::infinity()) == "-Inf");
}

TEST_CASE("protobuf exposition: Prometheus 3.5's own /metrics, as it serves it") {
  // Captured with Accept: application/vnd.google.protobuf;... from a
  // Prometheus 3.5.3 (also a fuzzing seed).
  std::ifstream f(std::string(VIGIL_SOURCE_DIR) + "/fuzz/seeds/exposition_protobuf/prometheus.pb", std::ios::binary);
  REQUIRE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string body = ss.str();
  for (bool native : {false, true}) {
    ParsedBody out;
    auto r = parse_protobuf_exposition(body, {.native = native}, out);
    REQUIRE_MESSAGE(r.has_value(), r.error().message);
    CHECK(out.samples.size() > 100);
    size_t histograms = 0;
    for (const RawSample& s : out.samples) {
      CHECK_MESSAGE(parse_series(s.series, 0).has_value(), std::string(s.series));
      if (s.histogram) {
        ++histograms;
        CHECK(out.histograms.at(s.histogram - 1)->validate().empty());
      }
    }
    // Its HTTP request durations are native histograms.
    if (native) CHECK(histograms > 0);
    else CHECK(histograms == 0);
  }
}
