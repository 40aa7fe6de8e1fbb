// The one-pass reader of POST /api/v2/alerts bodies: what it reads, and that
// it declines (for the general parser to answer) whatever it is not sure of.
#include <doctest/doctest.h>

#include <string>

#include "model/timestamp.h"
#include "server/alert_reader.h"

using namespace vigil;
using vigil::server::read_postable_alerts;

TEST_CASE("alert reader: reads the fields of postable alerts") {
  auto got = read_postable_alerts(R"( [
    {"labels": {"alertname": "Down", "instance": "h1:9100", "empty": ""},
     "annotations": {"summary": "h1 is down", "z": "", "a": "first", "a": "second"},
     "startsAt": "2026-11-21T10:00:00.000Z", "endsAt": "2026-11-21T11:00:00Z",
     "generatorURL": "http://prom/graph?g0.expr=up",
     "status": {"state": "active", "silencedBy": [], "n": -1.5e3, "t": true, "f": false, "x": null}},
    {"labels": {"alertname": "Slow"}, "annotations": null, "generatorURL": null, "endsAt": null, "startsAt": ""}
  ] )");
  REQUIRE(got);
  REQUIRE(got->size() == 2);
  const auto& a = (*got)[0];
  CHECK(a.labels == Labels{{"alertname", "Down"}, {"instance", "h1:9100"}});
  REQUIRE(a.annotations.size() == 2);  // sorted, last of a repeated name, empty dropped
  CHECK(a.annotations == Labels{{"a", "second"}, {"summary", "h1 is down"}});
  CHECK(a.starts_at == *parse_rfc3339("2026-11-21T10:00:00Z"));
  CHECK(a.ends_at == *parse_rfc3339("2026-11-21T11:00:00Z"));
  CHECK(a.generator_url == "http://prom/graph?g0.expr=up");
  const auto& b = (*got)[1];
  CHECK(b.labels == Labels{{"alertname", "Slow"}});
  CHECK(b.annotations.empty());
  CHECK(b.starts_at == 0);
  CHECK(b.ends_at == 0);
  CHECK(b.generator_url.empty());
  CHECK(read_postable_alerts("[]")->empty());
}

TEST_CASE("alert reader: decodes string escapes") {
  auto got = read_postable_alerts(
      R"([{"labels": {"alertname": "A\"q\\b\/s", "v": "\u00e9\ud83d\udd25\n\t"}}])");
  REQUIRE(got);
  CHECK((*got)[0].labels.get("alertname") == "A\"q\\b/s");
  CHECK((*got)[0].labels.get("v") == "\xc3\xa9\xf0\x9f\x94\xa5\n\t");
  auto raw = read_postable_alerts("[{\"labels\": {\"alertname\": \"h\xc3\xa9llo\"}}]");
  REQUIRE(raw);
  CHECK((*raw)[0].labels.get("alertname") == "h\xc3\xa9llo");
}

TEST_CASE("alert reader: declines what the general parser must answer") {
  const std::string deep = "[{\"labels\": {\"a\": \"b\"}, \"x\": " + std::string(100, '[') + std::string(100, ']') + "}]";
  for (std::string_view body : {
           std::string_view(""),
           std::string_view("{}"),                                          // not an array
           std::string_view("[{\"annotations\": {}}]"),                     // labels required
           std::string_view("[{\"labels\": null}]"),                        // labels required
           std::string_view("[{\"labels\": {\"a\": 1}}]"),                  // not a string
           std::string_view("[{\"labels\": {\"a\": \"b\"}, \"labels\": {\"c\": \"d\"}}]"),
           std::string_view("[{\"labels\": {\"a\": \"b\"}},]"),             // trailing comma
           std::string_view("[{\"labels\": {\"a\": \"b\"}}] x"),            // trailing text
           std::string_view("[{\"labels\": {\"a\": \"b\"}, \"startsAt\": \"yesterday\"}]"),
           std::string_view("[{\"labels\": {\"a\": \"b\"}, \"endsAt\": 5}]"),
           std::string_view("[{\"labels\": {\"a\": \"\\ud800\"}}]"),        // a lone surrogate
           std::string_view("[{\"labels\": {\"a\": \"\\x\"}}]"),            // no such escape
           std::string_view("[{\"labels\": {\"a\": \"b\xff\"}}]"),          // not UTF-8
           std::string_view("[{\"labels\": {\"a\": \"tab\there\"}}]"),       // raw control character
           std::string_view("[{\"labels\": {\"a\": \"b\"}, \"n\": 01}]"),   // not a JSON number
           std::string_view("[{\"labels\": {\"a\": \"b\"}, \"t\": tru}]"),
           std::string_view("[1]"),
           std::string_view(deep),
       }) {
    CAPTURE(body);
    CHECK_FALSE(read_postable_alerts(body));
  }
}
