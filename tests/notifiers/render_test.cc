// Shared rendering helpers: truncation, hashing, JSON times, MIME encodings, addresses.
#include <doctest/doctest.h>

#include <fmt/format.h>

#include "net/secrets.h"
#include "notifiers/email.h"
#include "notifiers/render.h"
#include "notifiers/webhook.h"
#include "templates/alertmanager.h"

using namespace vigil;
using namespace vigil::net;
using namespace vigil::notifiers;

TEST_CASE("render: truncation in characters and in bytes, as upstream") {
  bool cut = false;
  CHECK(truncate_runes("abcdef", 6, &cut) == "abcdef");
  CHECK_FALSE(cut);
  CHECK(truncate_runes("abcdef", 4, &cut) == "abc…");
  CHECK(cut);
  CHECK(truncate_runes("äöüäöü", 4) == "äöü…");
  CHECK(truncate_runes("abcdef", 2) == "ab");
  CHECK(truncate_bytes("abcdef", 6) == "abcdef");
  CHECK(truncate_bytes("abcdefgh", 5) == "ab…");
  // Never half a character: "ä" is two bytes.
  CHECK(truncate_bytes("äää", 5) == "ä…");
  CHECK(truncate_bytes("ääää", 7) == "ää…");
  CHECK(truncate_bytes("abcdef", 2) == "..");
}

TEST_CASE("render: sha256 of the group key") {
  CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("render: JSON as Go's encoder writes it") {
  Json j = Json::object();
  j["b"] = "<a href=\"x?y=1&z=2\">\u2028\u2029</a>";
  j["a"] = Json::array({1, "\n\t", true});
  j["bad"] = std::string("\xff");
  CHECK(go_json_value(j) == R"({"b":"\u003ca href=\"x?y=1\u0026z=2\"\u003e\u2028\u2029\u003c/a\u003e","a":[1,"\n\t",true],)"
                      "\"bad\":\"\xEF\xBF\xBD\"}");
}

TEST_CASE("render: times in Go's JSON form") {
  CHECK(json_time(templates::go_time_from_unix_millis(1'700'000'000'000)) == "2023-11-14T22:13:20Z");
  CHECK(json_time(templates::go_time_from_unix_millis(1'700'000'000'123)) == "2023-11-14T22:13:20.123Z");
  CHECK(json_time(templates::GoTime{}) == "0001-01-01T00:00:00Z");
}

TEST_CASE("email: address lists") {
  auto one = parse_address_list("team@example.org");
  REQUIRE(one);
  CHECK(*one == std::vector<std::string>{"team@example.org"});
  auto many = parse_address_list("Ops Team <ops@example.org>, \"Doe, Jane\" <jane@example.org>,b@example.org");
  REQUIRE(many);
  CHECK(*many == std::vector<std::string>{"ops@example.org", "jane@example.org", "b@example.org"});
  CHECK_FALSE(parse_address_list(""));
  CHECK_FALSE(parse_address_list("not-an-address"));
  CHECK_FALSE(parse_address_list("a@b,"));
  auto bad = parse_address_list("Ops <ops@example.org");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("angle-addr") != std::string::npos);
}

TEST_CASE("email: non-ASCII header values are RFC 2047 encoded, ASCII ones kept") {
  CHECK(encode_header_value("[FIRING:1] Disk full") == "[FIRING:1] Disk full");
  CHECK(encode_header_value("Störung") == "=?utf-8?q?St=C3=B6rung?=");
  CHECK(encode_header_value("a b=?") == "a b=?");
  CHECK(encode_header_value("ä b") == "=?utf-8?q?=C3=A4_b?=");
  // Long values are split into several words, none over 75 characters.
  std::string long_value;
  for (int i = 0; i < 40; ++i) long_value += "ü";
  std::string enc = encode_header_value(long_value);
  size_t start = 0;
  int words = 0;
  while (start < enc.size()) {
    size_t end = enc.find("\r\n ", start);
    std::string word = enc.substr(start, end == std::string::npos ? std::string::npos : end - start);
    CHECK(word.size() <= 75);
    CHECK(word.starts_with("=?utf-8?q?"));
    ++words;
    start = end == std::string::npos ? enc.size() : end + 3;
  }
  CHECK(words > 1);
}

TEST_CASE("email: quoted-printable bodies") {
  CHECK(quoted_printable("plain text") == "plain text");
  CHECK(quoted_printable("a=b") == "a=3Db");
  CHECK(quoted_printable("Größe") == "Gr=C3=B6=C3=9Fe");
  CHECK(quoted_printable("line one\nline two") == "line one\r\nline two");
  CHECK(quoted_printable("trailing \nx") == "trailing=20\r\nx");
  std::string long_line(200, 'a');
  std::string qp = quoted_printable(long_line);
  size_t pos = 0, prev = 0;
  while ((pos = qp.find("\r\n", prev)) != std::string::npos) {
    CHECK(pos - prev <= 76);
    prev = pos + 2;
  }
  CHECK(qp.find("=\r\n") != std::string::npos);
}

TEST_CASE("secrets: redaction replaces every known secret, longest first") {
  Redactor r;
  r.add("hunter2-long-secret");
  r.add("abc");  // too short to track
  r.add("hunter2");
  CHECK(r.redact("token=hunter2-long-secret and hunter2 and abc") == "token=<secret> and <secret> and abc");
}

// Rendering is linear in the number of labels. One alert of 2^19 labels,
// grouped by all of them, is rendered as a webhook body and through the
// default subject (which removes the group labels from the common ones):
// about a second here, and hours when either step compared every label
// with every other (64 k labels took 17 s per attempt), which the unit
// tests' ctest timeout turns into a failure. The checks are on the output.
TEST_CASE("render: a notification of half a million labels renders in one pass over them") {
  constexpr int kLabels = 1 << 19;
  std::vector<Label> ls{{"alertname", "Big"}};
  for (int i = 0; i < kLabels; ++i) ls.push_back({fmt::format("l{:07}", i), fmt::format("v{}", i)});
  Labels labels(ls);
  templates::AlertInput in;
  in.labels = labels;
  in.starts_at = templates::go_time_from_unix_millis(1'700'000'000'000);
  auto data = templates::make_notification_data("team", labels, {in}, "http://vigil",
                                                templates::go_time_from_unix_millis(1'700'000'060'000));
  std::string body = webhook_message(data).dump();
  // Every label, in order, in the alert and in the group labels.
  CHECK(body.find(R"("labels":{"alertname":"Big","l0000000":"v0","l0000001":"v1",)") != std::string::npos);
  CHECK(body.find(R"("l0524286":"v524286","l0524287":"v524287"},"annotations")") != std::string::npos);
  CHECK(body.find(R"("groupLabels":{"alertname":"Big","l0000000":"v0",)") != std::string::npos);
  CHECK(body.find(R"("l0524287":"v524287"},"commonLabels")") != std::string::npos);

  auto tmpl = templates::NotificationTemplates::load({});
  REQUIRE(tmpl);
  auto removed = tmpl->execute_text("{{ len (.CommonLabels.Remove .GroupLabels.Names) }}", data);
  REQUIRE(removed);
  CHECK(*removed == "0");
  auto kept = tmpl->execute_text("{{ len (.CommonLabels.Remove (stringSlice \"alertname\")) }}", data);
  REQUIRE(kept);
  CHECK(*kept == std::to_string(kLabels));
}
