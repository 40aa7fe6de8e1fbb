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
  CHECK(garbage.error().message == "write request: the body is not a valid protobuf message");
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
