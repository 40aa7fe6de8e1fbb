#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "storage/memory_store.h"
#include "storage/remote_protocol.h"

using namespace vigil;
using namespace vigil::storage;

TEST_CASE("remote protocol: a write request survives protobuf and snappy") {
  remote::WriteRequest req;
  remote::TimeSeries* ts = req.add_timeseries();
  const Labels ls{{"__name__", "job:up:sum"}, {"job", "node"}, {"zone", "é"}};
  set_labels(*ts, ls);
  for (int i = 0; i < 3; ++i) {
    remote::Sample* s = ts->add_samples();
    s->set_timestamp(1'700'000'000'000 + i * 15'000);
    s->set_value(i == 2 ? stale_nan() : 0.5 * i);
  }
  std::string body = snappy_compress(req.SerializeAsString());
  auto back = decode_snappy_message<remote::WriteRequest>(body, 1 << 20, "write request");
  REQUIRE(back);
  REQUIRE(back->timeseries_size() == 1);
  auto got = labels_of(back->timeseries(0));
  REQUIRE(got);
  CHECK(*got == ls);
  REQUIRE(back->timeseries(0).samples_size() == 3);
  CHECK(back->timeseries(0).samples(1).timestamp() == 1'700'000'000'000 + 15'000);
  CHECK(back->timeseries(0).samples(1).value() == 0.5);
  // The stale marker keeps its exact bits: Prometheus tells it from other NaNs.
  CHECK(is_stale_nan(back->timeseries(0).samples(2).value()));
}

TEST_CASE("remote protocol: the wire numbers are Prometheus'") {
  // Label{name=1,value=2} inside TimeSeries.labels=1 inside WriteRequest.timeseries=1,
  // as prompb encodes it.
  remote::WriteRequest req;
  remote::TimeSeries* ts = req.add_timeseries();
  set_labels(*ts, Labels{{"a", "b"}});
  const std::string wire = req.SerializeAsString();
  CHECK(wire == std::string("\x0a\x08\x0a\x06\x0a\x01" "a" "\x12\x01" "b", 10));
  remote::ReadRequest rr;
  rr.add_accepted_response_types(remote::ReadRequest::STREAMED_XOR_CHUNKS);
  remote::Query* q = rr.add_queries();
  q->set_start_timestamp_ms(1);
  q->set_end_timestamp_ms(2);
  remote::LabelMatcher* m = q->add_matchers();
  m->set_type(remote::LabelMatcher::RE);
  m->set_name("n");
  m->set_value("v");
  CHECK(rr.SerializeAsString() == std::string("\x0a\x0e\x08\x01\x10\x02\x1a\x08\x08\x02\x12\x01n\x1a\x01v\x12\x01\x01", 19));
}

TEST_CASE("remote protocol: bad bodies are errors, not crashes") {
  CHECK(!snappy_decompress("not snappy at all \xff\xff\xff\xff\xff", 1 << 20));
  // A valid block that expands past the limit is refused before decoding.
  const std::string big = snappy_compress(std::string(10'000, 'x'));
  auto r = snappy_decompress(big, 1000);
  REQUIRE(!r);
  CHECK(r.error().message.find("exceeds the limit") != std::string::npos);
  auto garbage = decode_snappy_message<remote::WriteRequest>(snappy_compress("\xff\xff\xff"), 1 << 20, "write request");
  REQUIRE(!garbage);
  CHECK(garbage.error().message ==
        "write request: the body is not a valid protobuf message (or holds a string that is not UTF-8)");
  // A label value that is not UTF-8 fails the parse (proto3 strings).
  const std::string bad_utf8("\x0a\x08\x0a\x06\x0a\x01" "a" "\x12\x01" "\xff", 10);
  CHECK(!decode_snappy_message<remote::WriteRequest>(snappy_compress(bad_utf8), 1 << 20, "write request"));
}

TEST_CASE("remote protocol: labels and matchers from the wire") {
  remote::TimeSeries ts;
  remote::Label* l = ts.add_labels();
  l->set_name("");
  l->set_value("x");
  CHECK(!labels_of(ts));
  remote::TimeSeries dup;
  for (const char* v : {"1", "2"}) {
    remote::Label* d = dup.add_labels();
    d->set_name("a");
    d->set_value(v);
  }
  CHECK(!labels_of(dup));
  remote::LabelMatcher m;
  m.set_type(remote::LabelMatcher::NRE);
  m.set_name("job");
  m.set_value("no.*");
  auto got = matcher_of(m);
  REQUIRE(got);
  CHECK(got->type() == MatchType::kNotRegex);
  CHECK(!got->matches("node"));
  CHECK(got->matches("api"));
  m.set_value("(");
  CHECK(!matcher_of(m));
}

namespace {

FloatHistogram exponential_histogram() {
  FloatHistogram h;
  h.hint = CounterResetHint::kNotReset;
  h.schema = 1;
  h.zero_threshold = 0.001;
  h.zero_count = 2;
  h.count = 19;
  h.sum = -3.25;
  h.negative_spans = {{-2, 2}};
  h.negative_buckets = {1, 4};
  h.positive_spans = {{0, 2}, {3, 1}};
  h.positive_buckets = {5, 0.5, 6.5};
  return h;
}

bool same(const FloatHistogram& a, const FloatHistogram& b) {
  return a.hint == b.hint && a.schema == b.schema && a.zero_threshold == b.zero_threshold &&
         a.zero_count == b.zero_count && a.count == b.count && a.sum == b.sum && a.negative_spans == b.negative_spans &&
         a.negative_buckets == b.negative_buckets && a.positive_spans == b.positive_spans &&
         a.positive_buckets == b.positive_buckets && a.custom_values == b.custom_values;
}

// An integer-form histogram as an instrumented process sends it.
remote::Histogram integer_form() {
  remote::Histogram m;
  m.set_count_int(15);  // 1 zero, 2 negative, 12 positive
  m.set_sum(30.5);
  m.set_schema(0);
  m.set_zero_threshold(1e-128);
  m.set_zero_count_int(1);
  auto* n = m.add_negative_spans();
  n->set_offset(1);
  n->set_length(1);
  m.add_negative_deltas(2);
  for (auto [off, len] : {std::pair{-1, 2}, std::pair{1, 2}}) {
    auto* s = m.add_positive_spans();
    s->set_offset(off);
    s->set_length(static_cast<uint32_t>(len));
  }
  for (int64_t d : {3, -2, 4, -2}) m.add_positive_deltas(d);  // counts 3 1 5 3
  m.set_reset_hint(remote::Histogram::YES);
  m.set_timestamp(1234);
  return m;
}

}  // namespace

TEST_CASE("remote protocol: a float histogram survives the wire, every field") {
  for (const CounterResetHint hint :
       {CounterResetHint::kUnknown, CounterResetHint::kReset, CounterResetHint::kNotReset, CounterResetHint::kGauge}) {
    FloatHistogram h = exponential_histogram();
    h.hint = hint;
    remote::WriteRequest req;
    remote::Histogram* m = req.add_timeseries()->add_histograms();
    set_histogram(*m, h, 1'700'000'000'123);
    auto back = decode_snappy_message<remote::WriteRequest>(snappy_compress(req.SerializeAsString()), 1 << 20, "w");
    REQUIRE(back);
    const remote::Histogram& got = back->timeseries(0).histograms(0);
    CHECK(got.count_case() == remote::Histogram::kCountFloat);
    CHECK(got.zero_count_case() == remote::Histogram::kZeroCountFloat);
    CHECK(got.timestamp() == 1'700'000'000'123);
    CHECK(got.positive_deltas_size() == 0);
    auto decoded = histogram_of(got);
    REQUIRE(decoded);
    CHECK(same(*decoded, h));
  }
  // Custom buckets carry their bounds.
  FloatHistogram c;
  c.schema = kCustomBucketsSchema;
  c.custom_values = {0.1, 1, 10};
  c.positive_spans = {{0, 2}, {1, 1}};
  c.positive_buckets = {1, 2, 3};
  c.count = 6;
  c.sum = 40;
  c.hint = CounterResetHint::kGauge;
  remote::Histogram m;
  set_histogram(m, c, 5);
  CHECK(m.custom_values_size() == 3);
  auto decoded = histogram_of(m);
  REQUIRE(decoded);
  CHECK(same(*decoded, c));
}

TEST_CASE("remote protocol: the histogram's wire numbers are Prometheus'") {
  // TimeSeries.histograms is field 4; inside it count_float is field 2
  // (a fixed64), schema field 4 as a zigzag varint, reset_hint 14, timestamp 15.
  remote::TimeSeries ts;
  remote::Histogram* m = ts.add_histograms();
  m->set_count_float(1.0);
  m->set_schema(-1);
  m->set_reset_hint(remote::Histogram::GAUGE);
  m->set_timestamp(7);
  const std::string one("\x00\x00\x00\x00\x00\x00\xf0\x3f", 8);
  const std::string inner = std::string("\x11", 1) + one + std::string("\x20\x01\x70\x03\x78\x07", 6);
  CHECK(ts.SerializeAsString() == std::string("\x22", 1) + static_cast<char>(inner.size()) + inner);
  // An integer count is field 1, a span's offset a zigzag varint.
  remote::Histogram i;
  i.set_count_int(3);
  auto* s = i.add_positive_spans();
  s->set_offset(-2);
  s->set_length(1);
  i.add_positive_deltas(-1);
  CHECK(i.SerializeAsString() == std::string("\x08\x03\x5a\x04\x08\x03\x10\x01\x62\x01\x01", 11));
}

TEST_CASE("remote protocol: the integer form reads as absolute counts") {
  auto h = histogram_of(integer_form());
  REQUIRE(h);
  CHECK(h->count == 15);
  CHECK(h->sum == 30.5);
  CHECK(h->schema == 0);
  CHECK(h->zero_threshold == 1e-128);
  CHECK(h->zero_count == 1);
  CHECK(h->hint == CounterResetHint::kReset);
  CHECK(h->negative_spans == std::vector<HistogramSpan>{{1, 1}});
  CHECK(h->negative_buckets == std::vector<double>{2});
  CHECK(h->positive_spans == std::vector<HistogramSpan>{{-1, 2}, {1, 2}});
  CHECK(h->positive_buckets == std::vector<double>{3, 1, 5, 3});
  // An unset count is the integer form's zero.
  remote::Histogram empty;
  auto e = histogram_of(empty);
  REQUIRE(e);
  CHECK(e->count == 0);
  CHECK(e->buckets().empty());
}

TEST_CASE("remote protocol: malformed histograms are clear errors") {
  auto error_of = [](const remote::Histogram& m) {
    auto r = histogram_of(m);
    REQUIRE(!r);
    return r.error().message;
  };
  {
    remote::Histogram m = integer_form();
    m.set_positive_deltas(1, -5);  // 3 then -2
    CHECK(error_of(m) == "positive bucket number 2 has a negative or overflowing count");
  }
  {
    remote::Histogram m = integer_form();
    m.add_positive_deltas(1);  // one more bucket than the spans hold
    CHECK(error_of(m).find("positive side: spans need 4 buckets, have 5 buckets") != std::string::npos);
  }
  {
    remote::Histogram m = integer_form();
    m.set_positive_deltas(0, INT64_MAX);
    m.set_positive_deltas(1, INT64_MAX);
    CHECK(error_of(m) == "positive bucket number 2 has a negative or overflowing count");
  }
  {
    remote::Histogram m = integer_form();
    m.set_count_int(14);
    CHECK(error_of(m) == "histogram count is 14 but its buckets hold 15 observations");
    m.set_count_int(16);
    CHECK(error_of(m) == "histogram count is 16 but its buckets hold 15 observations");
    m.set_sum(std::nan(""));  // a NaN observation is counted in no bucket
    CHECK(histogram_of(m));
  }
  {
    remote::Histogram m = integer_form();
    m.add_positive_counts(1);
    CHECK(error_of(m).find("mixes the integer form") != std::string::npos);
  }
  {
    remote::Histogram m;
    m.set_count_float(1);
    m.set_zero_count_int(1);
    CHECK(error_of(m).find("mixes the float form") != std::string::npos);
  }
  {
    remote::Histogram m = integer_form();
    m.set_schema(9);
    CHECK(error_of(m).find("invalid schema") != std::string::npos);
  }
  {
    remote::Histogram m = integer_form();
    m.set_zero_threshold(-1);
    CHECK(error_of(m) == "histogram has an invalid zero threshold -1");
    m.set_zero_threshold(std::nan(""));
    CHECK(error_of(m).find("invalid zero threshold") != std::string::npos);
  }
  {
    remote::Histogram m = integer_form();
    m.add_custom_values(1);
    CHECK(error_of(m).find("has custom_values") != std::string::npos);
  }
  {
    remote::Histogram m;
    m.set_count_float(3);
    m.add_negative_counts(-1);
    auto* s = m.add_negative_spans();
    s->set_length(1);
    CHECK(error_of(m) == "histogram has a negative bucket with a negative count");
  }
  {
    remote::Histogram m;  // custom buckets: bounds 1, 2 give buckets 0..2
    m.set_schema(kCustomBucketsSchema);
    m.set_count_float(3);
    m.add_custom_values(1);
    m.add_custom_values(2);
    auto* s = m.add_positive_spans();
    s->set_offset(2);
    s->set_length(2);
    m.add_positive_counts(1);
    m.add_positive_counts(2);
    CHECK(error_of(m) == "histogram of custom buckets has buckets beyond its 2 bounds");
    s->set_offset(1);
    CHECK(histogram_of(m));
    m.set_custom_values(1, 0.5);
    CHECK(error_of(m).find("strictly increasing") != std::string::npos);
    m.set_custom_values(1, INFINITY);
    CHECK(error_of(m) == "histogram of custom buckets has a bound that is not finite");
    m.set_custom_values(1, 2);
    m.set_zero_count_float(1);
    CHECK(error_of(m).find("has a zero bucket") != std::string::npos);
  }
  {
    remote::Histogram m;  // indices past 32 bits
    m.set_count_float(2);
    for (int32_t off : {INT32_MAX, 5}) {
      auto* s = m.add_positive_spans();
      s->set_offset(off);
      s->set_length(1);
      m.add_positive_counts(1);
    }
    CHECK(error_of(m) == "histogram has a span that ends past the highest bucket index");
    m.mutable_positive_spans(0)->set_offset(INT32_MIN);
    m.mutable_positive_spans(1)->set_offset(0);
    CHECK(histogram_of(m));
    m.mutable_positive_spans(0)->set_offset(INT32_MIN + 1);
    m.mutable_positive_spans(1)->set_offset(-3);  // rejected before: a later span's offset is negative
    CHECK(!histogram_of(m));
  }
  // A histogram in a corrupt message: the parse fails first.
  remote::WriteRequest req;
  *req.add_timeseries()->add_histograms() = integer_form();
  std::string wire = req.SerializeAsString();
  wire.resize(wire.size() - 3);
  CHECK(!decode_snappy_message<remote::WriteRequest>(snappy_compress(wire), 1 << 20, "w"));
}
