// vigil's default notification templates render what Alertmanager 0.33's
// render: every template name its default templates define, with amtool's
// example data and with the notifications of tests/templates/defaults/data/,
// against the outputs amtool 0.33 gave (tests/templates/defaults/expected.json,
// recorded by scripts/default_templates.py record).
#include <doctest/doctest.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "templates/alertmanager.h"
#include "templates/notification_data.h"

using namespace vigil::templates;

namespace {

const std::string kDefaults = std::string(VIGIL_SOURCE_DIR) + "/tests/templates/defaults";

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

GoTime now() {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                std::chrono::system_clock::now().time_since_epoch())
                .count();
  return go_time_from_unix(ns / 1'000'000'000, static_cast<int32_t>(ns % 1'000'000'000));
}

NotificationData data_named(const std::string& key) {
  if (key == "example") return example_notification_data(now());
  auto d = notification_data_from_json(slurp(kDefaults + "/data/" + key + ".json"));
  REQUIRE_MESSAGE(d, key);
  return *d;
}

const nlohmann::json& expected() {
  static const nlohmann::json j = nlohmann::json::parse(slurp(kDefaults + "/expected.json"));
  return j;
}

// What Go's html/template makes of text it writes into a page.
std::string html_escaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      case '+': out += "&#43;"; break;
      default: out += c;
    }
  }
  return out;
}

// What Go's html/template makes of a URL in an attribute: bytes outside
// RFC 3986's unreserved and reserved sets (parentheses and quotes included)
// percent-encoded, existing escapes kept.
std::string url_normalized(const std::string& s) {
  static const std::string kKept = "-._~!#$&*+,/:;=?@[]%";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || kKept.find(static_cast<char>(c)) != std::string::npos) {
      out += static_cast<char>(c);
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("default templates render what Alertmanager 0.33's render") {
  auto tmpl = NotificationTemplates::load({});
  REQUIRE(tmpl);
  const auto& calls = expected().at("calls");
  const auto& renderings = expected().at("renderings");
  REQUIRE(calls.size() >= 60);
  REQUIRE(renderings.size() >= 6);
  int compared = 0;
  for (const auto& [key, outputs] : renderings.items()) {
    NotificationData data = data_named(key);
    for (const auto& [name, call] : calls.items()) {
      std::string want = outputs.at(name).get<std::string>();
      // vigil names itself where Alertmanager does (__alertmanager and the
      // templates that print it: slack's username, pagerduty's client, ...).
      if (want == "Alertmanager") want = "vigil";
      auto got = tmpl->execute_text(call.get<std::string>(), data);
      REQUIRE_MESSAGE(got, name, " with ", key, ": ", got ? "" : got.error().message);
      CHECK_MESSAGE(*got == want, name, " with ", key, "\n want: ", want, "\n  got: ", *got);
      compared += *got == want;
    }
  }
  CHECK(compared == static_cast<int>(calls.size() * renderings.size()));
}

// email.default.html keeps vigil's own layout; it carries what Alertmanager's
// carries: the subject, every alert's labels and annotations and source link,
// and a link to the alert list under the external URL.
TEST_CASE("the default HTML email carries what Alertmanager's carries") {
  auto tmpl = NotificationTemplates::load({});
  REQUIRE(tmpl);
  for (const auto& [key, outputs] : expected().at("renderings").items()) {
    NotificationData data = data_named(key);
    auto page = tmpl->execute_html("{{ template \"email.default.html\" . }}", data);
    REQUIRE_MESSAGE(page, key);
    auto has = [&](const std::string& s) { return page->find(s) != std::string::npos; };
    std::string subject = outputs.at("email.default.subject").get<std::string>();
    CHECK_MESSAGE(has("<title>" + html_escaped(subject) + "</title>"), key);
    CHECK_MESSAGE(has("href=\"" + html_escaped(data.external_url) + "/#/alerts?receiver="), key);
    for (const NotificationAlert& a : data.alerts) {
      for (const auto& [name, value] : a.labels) {
        CHECK_MESSAGE(has(html_escaped(name)), key, ": label ", name);
        CHECK_MESSAGE(has(html_escaped(value)), key, ": label value ", value);
      }
      for (const auto& [name, value] : a.annotations) {
        CHECK_MESSAGE(has(html_escaped(value)), key, ": annotation ", name);
      }
      if (!a.generator_url.empty()) {
        CHECK_MESSAGE(has("href=\"" + html_escaped(url_normalized(a.generator_url)) + "\""), key, ": ", a.generator_url);
      }
    }
  }
}
