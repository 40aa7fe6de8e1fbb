// Alertmanager's side: notification data, its helpers, the function set and
// the default templates.
#include <doctest/doctest.h>

#include "tests/temp_dir.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

#include <fmt/format.h>

#include "templates/alertmanager.h"
#include "templates/notification_data.h"

using namespace vigil;
using namespace vigil::templates;

namespace {

GoTime at(const char* rfc3339) { return go_time_parse_rfc3339(rfc3339).value(); }

NotificationData sample_data() {
  GoTime now = at("2024-05-01T12:00:00Z");
  AlertInput a;
  a.labels = Labels{{"alertname", "HighCPU"}, {"instance", "web-1"}, {"severity", "critical"}};
  a.annotations = {{"summary", "CPU <high> & rising"}};
  a.starts_at = at("2024-05-01T11:00:00Z");
  a.generator_url = "http://prom/graph?g0.expr=up";
  AlertInput b;
  b.labels = Labels{{"alertname", "HighCPU"}, {"instance", "web-2"}, {"severity", "warning"}};
  b.annotations = {{"summary", "CPU high"}};
  b.starts_at = at("2024-05-01T10:00:00Z");
  b.ends_at = at("2024-05-01T11:30:00Z");  // before now: resolved
  NotificationData d = make_notification_data("team-x (eu)", Labels{{"alertname", "HighCPU"}}, {a, b},
                                              "http://am:9093", now);
  d.group_key = "{}:{alertname=\"HighCPU\"}";
  d.truncated_alerts = 2;
  d.notification_reason = "new alerts added";
  return d;
}

std::string text(std::string_view t, const NotificationData& d = sample_data()) {
  static const NotificationTemplates tmpl = NotificationTemplates::load({}).value();
  auto r = tmpl.execute_text(t, d);
  if (!r) return "ERROR: " + r.error().message;
  return *r;
}

std::string html(std::string_view t, const NotificationData& d = sample_data()) {
  static const NotificationTemplates tmpl = NotificationTemplates::load({}).value();
  auto r = tmpl.execute_html(t, d);
  if (!r) return "ERROR: " + r.error().message;
  return *r;
}

}  // namespace

TEST_CASE("notification data is assembled as Alertmanager assembles it") {
  NotificationData d = sample_data();
  CHECK(d.status == "firing");
  CHECK(d.receiver == "team-x \\(eu\\)");  // regexp.QuoteMeta, as upstream
  REQUIRE(d.alerts.size() == 2);
  CHECK(d.alerts[0].status == "firing");
  CHECK(d.alerts[1].status == "resolved");
  CHECK(d.common_labels == KV{{"alertname", "HighCPU"}});
  CHECK(d.common_annotations.empty());
  CHECK(d.alerts[0].fingerprint.size() == 16);
  CHECK(d.alerts[0].fingerprint ==
        fmt::format("{:016x}", (Labels{{"alertname", "HighCPU"}, {"instance", "web-1"}, {"severity", "critical"}})
                                   .fingerprint()));
  CHECK(text("{{ .Status }} {{ len .Alerts.Firing }}/{{ len .Alerts.Resolved }} {{ .CommonLabels.alertname }}") ==
        "firing 1/1 HighCPU");
  CHECK(text("{{ .GroupKey }} {{ .TruncatedAlerts }}") == "{}:{alertname=\"HighCPU\"} 2");
  CHECK(text("{{ .NotificationReason }}") == "new alerts added");
  // Printed whole, the reason stands between the alerts and the group labels,
  // as amtool 0.33 prints its Data.
  CHECK(text("{{ . }}").find("] new alerts added alertname=HighCPU ") != std::string::npos);
}

TEST_CASE("the label-set helpers") {
  CHECK(text("{{ range (index .Alerts 0).Labels.SortedPairs }}{{ .Name }};{{ end }}") ==
        "alertname;instance;severity;");
  CHECK(text("{{ (index .Alerts 0).Labels.Names.Join \",\" }}") == "alertname,instance,severity");
  CHECK(text("{{ join \" \" (index .Alerts 0).Labels.Values }}") == "HighCPU web-1 critical");
  CHECK(text("{{ (index .Alerts 0).Labels.Remove (stringSlice \"instance\" \"nope\") }}") ==
        "alertname=HighCPU, severity=critical");
  // Alertmanager 0.26 and later print label sets and pairs as name=value lists.
  CHECK(text("{{ .GroupLabels }}|{{ .GroupLabels.SortedPairs }}") == "alertname=HighCPU|alertname=HighCPU");
  CHECK(text("{{ .CommonLabels.missing }}|{{ index .CommonLabels \"missing\" }}") == "|");
}

TEST_CASE("Alertmanager's functions") {
  // Go maps case rune by rune: ß has no single-rune upper case.
  CHECK(text("{{ toUpper \"straße\" }} {{ toLower \"ÀB\" }} {{ title \"hELLO wORLD\" }}") == "STRAßE àb Hello World");
  CHECK(text("[{{ trimSpace \"  \\t x y \\n\" }}]") == "[x y]");
  CHECK(text("{{ join \"-\" (stringSlice \"a\" \"b\") }}") == "a-b");
  CHECK(text("{{ match \"^web-[0-9]$\" \"web-1\" }} {{ match \"x\" \"y\" }}") == "true false");
  CHECK(text("{{ reReplaceAll \"web-(\\\\d)\" \"host$1\" \"web-7\" }}") == "host7");
  CHECK(text("{{ urlUnescape \"a%20b+c\" }}") == "a b c");
  CHECK(text("{{ urlUnescape \"%zz\" }}") ==
        "ERROR: template: :1:3: executing \"\" at <urlUnescape \"%zz\">: error calling urlUnescape: "
        "invalid URL escape \"%zz\"");
  CHECK(text("{{ safeUrl \"x\" }} {{ safeHtml \"<b>\" }}") == "x <b>");
  CHECK(text("{{ humanizeDuration 3661 }} {{ humanizeDuration 0.25 }}") == "1h 1m 1s 250ms");
  CHECK(text("{{ (index .Alerts 1).StartsAt | date \"2006-01-02 15:04\" }}") == "2024-05-01 10:00");
  CHECK(text("{{ (index .Alerts 1).StartsAt | tz \"Europe/Berlin\" | date \"15:04 MST -07:00\" }}") ==
        "12:00 CEST +02:00");
  CHECK(text("{{ (index .Alerts 1).StartsAt | tz \"America/New_York\" }}") == "2024-05-01 06:00:00 -0400 EDT");
  CHECK(text("{{ (index .Alerts 1).StartsAt | tz \"Nowhere/City\" }}").ends_with("unknown time zone Nowhere/City"));
  // since counts from the real clock: an alert from 2024 is older than a day.
  CHECK(text("{{ gt ((index .Alerts 1).StartsAt | since).Hours 24.0 }}") == "true");
}

TEST_CASE("functions of later Alertmanager releases") {
  CHECK(text("{{ .CommonLabels | toJson }}") == "{\"alertname\":\"HighCPU\"}");
  CHECK(text("{{ (index .Alerts 0).Annotations | toJson }}") ==
        "{\"summary\":\"CPU \\u003chigh\\u003e \\u0026 rising\"}");
  CHECK(text("{{ (index .Alerts 1) | toJson }}").starts_with(
      "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"HighCPU\",\"instance\":\"web-2\""));
  CHECK(text("{{ toJson (dict \"a\" 1 \"b\" (list 1.5 \"x\" true)) }}") == "{\"a\":1,\"b\":[1.5,\"x\",true]}");
  CHECK(text("{{ append (list 1) 2 3 }}") == "[1 2 3]");
  CHECK(text("{{ dict \"a\" }}").ends_with("dict requires an even number of arguments"));
  CHECK(text("{{ dict 1 2 }}").ends_with("dict keys must be strings"));
  CHECK(text("{{ base64encode \"hello?>\" }}|{{ base64decode \"aGVsbG8_Pg==\" }}|{{ base64encode \"a\" }}") ==
        "aGVsbG8_Pg==|hello?>|YQ==");
  CHECK(text("{{ base64decode \"a!\" }}").ends_with("illegal base64 data at input byte 1"));
  CHECK(text("{{ toJson (toJson 1.5) }}") == "\"1.5\"");
  CHECK(text("{{ gt now.Year 2023 }}") == "true");
}

// Alertmanager 0.34's toDate and mustToDate: time.ParseInLocation in UTC.
TEST_CASE("toDate and mustToDate read a time with a Go layout") {
  CHECK(text("{{ toDate \"2006-01-02\" \"2024-05-06\" }}") == "2024-05-06 00:00:00 +0000 UTC");
  CHECK(text("{{ toDate \"2006-01-02\" \"2024-05-06\" | date \"Monday\" }}") == "Monday");
  // An offset becomes an unnamed fixed zone; the instant is the same.
  CHECK(text("{{ toDate \"2006-01-02T15:04:05Z07:00\" \"2024-05-06T10:20:30+02:00\" }}") ==
        "2024-05-06 10:20:30 +0200 +0200");
  CHECK(text("{{ (toDate \"2006-01-02T15:04:05Z07:00\" \"2024-05-06T10:20:30+02:00\").Unix }}") == "1714983630");
  CHECK(text("{{ toDate \"02 Jan 06 15:04 MST\" \"06 May 24 10:20 UTC\" }}") == "2024-05-06 10:20:00 +0000 UTC");
  // A zone name UTC does not know keeps the clock reading, under that name.
  CHECK(text("{{ mustToDate \"Jan 2, 2006 at 3:04pm (MST)\" \"Feb 3, 2013 at 7:54pm (PST)\" }}") ==
        "2013-02-03 19:54:00 +0000 PST");
  CHECK(text("{{ mustToDate \"3:04PM\" \"12:30AM\" | date \"15:04\" }}") == "00:30");
  CHECK(text("{{ mustToDate \"15:04:05\" \"10:20:30.123\" }}") == "0000-01-01 10:20:30.123 +0000 UTC");
  CHECK(text("{{ mustToDate \"2006-002\" \"2024-060\" }}") == "2024-02-29 00:00:00 +0000 UTC");
  CHECK(text("{{ mustToDate \"Monday, January 2 2006\" \"tuesday, may 7 2024\" | date \"2006-01-02\" }}") ==
        "2024-05-07");
  // What does not fit: toDate gives Go's zero time, mustToDate Go's error.
  CHECK(text("{{ toDate \"2006-01-02\" \"nope\" }}") == "0001-01-01 00:00:00 +0000 UTC");
  CHECK(text("{{ (toDate \"2006-01-02\" \"nope\").IsZero }}") == "true");
  CHECK(text("{{ mustToDate \"2006-01-02\" \"24-05-06\" }}") ==
        "ERROR: template: :1:3: executing \"\" at <mustToDate \"2006-01-02\" \"24-05-06\">: error calling "
        "mustToDate: parsing time \"24-05-06\" as \"2006-01-02\": cannot parse \"24-05-06\" as \"2006\"");
  CHECK(text("{{ mustToDate \"2006-01-02\" \"2024-05-6\" }}")
            .ends_with("parsing time \"2024-05-6\" as \"2006-01-02\": cannot parse \"6\" as \"02\""));
  CHECK(text("{{ mustToDate \"2006-01-02\" \"2024-13-01\" }}").ends_with("parsing time \"2024-13-01\": month out of range"));
  CHECK(text("{{ mustToDate \"2006-01-02\" \"2023-02-29\" }}").ends_with("parsing time \"2023-02-29\": day out of range"));
  CHECK(text("{{ mustToDate \"2006\" \"2024x\" }}").ends_with("parsing time \"2024x\": extra text: \"x\""));
  CHECK(text("{{ mustToDate \"2006-01-02 15:04\" \"2024-05-06T10:20\" }}")
            .ends_with("cannot parse \"T10:20\" as \" \""));
  CHECK(text("{{ toDate \"2006\" }}").ends_with("wrong number of args for toDate: want 2 got 1"));
}

// Alertmanager 0.34's route labels: values are templates, read with
// routeLabels, able to read each other.
TEST_CASE("routeLabels renders a route label against the data") {
  NotificationData d = sample_data();
  d.route_labels = {{"team", "db"},
                    {"desc", "{{ .GroupLabels.alertname }} ({{ routeLabels \"team\" }})"},
                    {"a", "{{ routeLabels \"b\" }}"},
                    {"b", "{{ routeLabels \"a\" }}"},
                    {"html", "{{ routeLabels \"team\" }} & <b>"}};
  CHECK(text("{{ routeLabels \"desc\" }}|{{ routeLabels \"nope\" }}|{{ .RouteLabels.team }}", d) == "HighCPU (db)||db");
  CHECK(text("{{ routeLabels \"desc\" }}{{ routeLabels \"desc\" }}", d) == "HighCPU (db)HighCPU (db)");
  CHECK(text("{{ template \"x\" . }}{{ define \"x\" }}{{ routeLabels \"team\" }}{{ end }}", d) == "db");
  CHECK(text("{{ routeLabels \"a\" }}", d).ends_with("route label cycle detected: a -> b -> a"));
  // In HTML the label renders as HTML, then is escaped where it lands.
  CHECK(html("{{ routeLabels \"html\" }}", d) == "db &amp; &lt;b&gt;");
  // A notification's labels are rendered already: returned as they are.
  d.route_labels_rendered = true;
  CHECK(text("{{ routeLabels \"desc\" }}", d) == "{{ .GroupLabels.alertname }} ({{ routeLabels \"team\" }})");
  CHECK(text("{{ routeLabels \"x\" }}") == "");
}

TEST_CASE("route labels are rendered for a group, the failing ones left out") {
  NotificationData d = sample_data();
  d.route_labels = {{"team", "db"}, {"desc", "{{ len .Alerts }} for {{ routeLabels \"team\" }}"}, {"bad", "{{ .Nope.x }}"}};
  const NotificationTemplates tmpl = NotificationTemplates::load({}).value();
  std::vector<Error> errors;
  KV rendered = tmpl.render_route_labels(d, &errors);
  CHECK(rendered == KV{{"team", "db"}, {"desc", "2 for db"}});
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].message.starts_with("route label bad: template: "));
}

TEST_CASE("every default template renders, in text and in HTML") {
  NotificationData empty = make_notification_data("r", Labels(), {}, "", at("2024-05-01T12:00:00Z"));
  NotificationTemplates defaults = NotificationTemplates::load({}).value();
  CHECK(defaults.text_set().trees().size() > 60);
  for (const auto& [name, tree] : defaults.text_set().trees()) {
    std::string call = "{{ template \"" + name + "\" . }}";
    // A few take a list of alerts, one alert or a list of pairs rather than
    // the data.
    std::string arg = call;
    if (name.starts_with("__text_alert_list") || name == "pagerduty.default.instances") {
      arg = "{{ template \"" + name + "\" .Alerts }}";
    } else if (name.starts_with("__vigil_pairs")) {
      arg = "{{ range .Alerts }}{{ template \"" + name + "\" .Labels.SortedPairs }}{{ end }}";
    } else if (name == "__vigil_email_alert" || name.starts_with("__vigil_alert")) {
      arg = "{{ range .Alerts }}{{ template \"" + name + "\" . }}{{ end }}";
    }
    CHECK_MESSAGE(!text(arg).starts_with("ERROR"), name, ": ", text(arg));
    CHECK_MESSAGE(!text(arg, empty).starts_with("ERROR"), name, ": ", text(arg, empty));
    CHECK_MESSAGE(!html(arg).starts_with("ERROR"), name, ": ", html(arg));
  }
  // A space follows the group labels' values even when nothing else does.
  CHECK(text("{{ template \"__subject\" . }}") == "[FIRING:1] HighCPU ");
  CHECK(text("{{ template \"slack.default.color\" . }}") == "danger");
  CHECK(text("{{ template \"jira.default.priority\" . }}") == "High");
  std::string mail = html("{{ template \"email.default.html\" . }}");
  CHECK(mail.find("CPU &lt;high&gt; &amp; rising") != std::string::npos);
  CHECK(mail.find("<high>") == std::string::npos);
  CHECK(mail.find("href=\"http://am:9093/#/alerts?receiver=team-x&#43;%5C%28eu%5C%29\"") != std::string::npos);
}

TEST_CASE("user template files replace the defaults") {
  vigil::testing::TempDir tmp("vigil-templates-test");
  const auto& dir = tmp.path();
  std::ofstream(dir / "a.tmpl") << "{{ define \"__subject\" }}custom {{ .Status }}{{ end }}";
  std::ofstream(dir / "b.tmpl") << "{{ define \"mine\" }}mine{{ end }}";
  auto t = NotificationTemplates::load({(dir / "*.tmpl").string()});
  REQUIRE(t);
  CHECK(t->execute_text("{{ template \"slack.default.title\" . }} {{ template \"mine\" }}", sample_data()).value() ==
        "custom firing mine");
  std::ofstream(dir / "c.tmpl") << "{{ if }}";
  auto bad = NotificationTemplates::load({(dir / "*.tmpl").string()});
  REQUIRE(!bad);
  CHECK(bad.error().message == "template: c.tmpl:1: missing value for if");
  // A glob that matches nothing is not an error, as in Alertmanager.
  CHECK(NotificationTemplates::load({(dir / "*.none").string()}));
}

TEST_CASE("data from JSON") {
  auto d = notification_data_from_json(R"({"Receiver":"r","status":"firing","alerts":[
      {"status":"firing","labels":{"a":"1"},"startsAt":"2024-01-02T03:04:05.5+01:00"}],
      "groupLabels":{"a":"1"},"externalURL":"http://x"})");
  REQUIRE(d);
  CHECK(d->receiver == "r");  // keys match case-insensitively, as in Go
  REQUIRE(d->alerts.size() == 1);
  CHECK(go_time_string(d->alerts[0].starts_at) == "2024-01-02 03:04:05.5 +0100 +0100");
  CHECK(d->alerts[0].ends_at.is_zero());
  auto routed = notification_data_from_json(R"({"routeLabels":{"team":"db"}})");
  REQUIRE(routed);
  CHECK(routed->route_labels == KV{{"team", "db"}});
  CHECK(!notification_data_from_json("{\"alerts\": 3}"));
  CHECK(!notification_data_from_json("{\"receiver\": 3}"));
  CHECK(!notification_data_from_json("not json"));

  auto alerts = notification_data_from_alerts_json(
      R"([{"labels":{"alertname":"A","job":"x"},"annotations":{"summary":"s"},"startsAt":"2024-01-01T00:00:00Z"},
          {"labels":{"alertname":"A","job":"y"},"endsAt":"2024-01-01T00:00:00Z"}])",
      at("2024-05-01T00:00:00Z"));
  REQUIRE(alerts);
  CHECK(alerts->status == "firing");
  CHECK(alerts->alerts[1].status == "resolved");
  CHECK(alerts->common_labels == KV{{"alertname", "A"}});
  CHECK(!notification_data_from_alerts_json("{}", at("2024-05-01T00:00:00Z")));
}
