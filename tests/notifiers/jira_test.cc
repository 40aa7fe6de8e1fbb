// Jira against a local fake of its REST API: the search, create, update and
// transition requests Alertmanager 0.34 sends, byte for byte, the flows
// that chain them, and which failures are tried again.
#include <doctest/doctest.h>

#include <atomic>
#include <functional>

#include <fmt/format.h>

#include "net/http_client.h"
#include "notifiers/delivery.h"
#include "tests/notifiers/harness.h"
#include "tests/notifiers/test_server.h"

using namespace vigil;
using namespace vigil::notifiers;
using namespace vigil::notifiers::testing;

namespace {

// The label of the fixtures' group: sha256 of {}:{alertname="DiskFull"}.
const std::string kLabel = "ALERT{17c4e445d234645c9e547ff6d32a864af0ebdadcd1902771c24c8d366637ff41}";
const std::string kOrder = " order by status ASC,resolutiondate DESC";

const char* kOpenIssue =
    R"({"issues":[{"key":"OPS-7","fields":{"status":{"name":"Open","statusCategory":{"key":"new"}}}}]})";
const char* kDoneIssue =
    R"({"issues":[{"key":"OPS-7","fields":{"status":{"name":"Closed","statusCategory":{"key":"done"}}}}]})";

// Answers as Jira does: the search with `search`, the transitions list,
// 201 or 204 to the rest; `fail` may answer first.
struct FakeJira {
  std::string search = R"({"issues":[]})";
  std::function<bool(const Captured&, httplib::Response&)> fail;
  TestServer server{[this](const Captured& c, httplib::Response& res) {
    if (fail && fail(c, res)) return;
    if (c.path.find("/search") != std::string::npos) {
      res.set_content(search, "application/json");
    } else if (c.method == "GET" && c.path.ends_with("/transitions")) {
      res.set_content(R"({"transitions":[{"id":"11","name":"Start"},{"id":"31","name":"Done"},)"
                      R"({"id":"41","name":"Reopen"}]})",
                      "application/json");
    } else if (c.method == "POST" && c.path.ends_with("/issue")) {
      res.status = 201;
      res.set_content(R"({"id":"10000","key":"OPS-8"})", "application/json");
    } else {
      res.status = 204;
    }
  }};
};

std::string jira_config(const FakeJira& j, std::string_view extra = "", std::string_view api = "/rest/api/2") {
  return receiver_config(std::string("  jira_configs:\n  - api_url: '") + j.server.url(api) + "'\n" +
                         "    project: OPS\n"
                         "    issue_type: Bug\n"
                         "    summary: '{{ .CommonLabels.alertname }} & co'\n"
                         "    description: 'Disk <b>'\n"
                         "    labels: ['{{ .CommonLabels.severity }}', alertmanager]\n"
                         "    fields:\n"
                         "      customfield_10001: '{{ .CommonLabels.severity }}'\n"
                         "      customfield_10002: '42'\n"
                         "      components: [{name: '{{ .GroupLabels.alertname }}'}]\n"
                         "      zzz: '{{ .CommonLabels.missing }}'\n"
                         "    http_config:\n      basic_auth: {username: bot, password: jira-pass-1}\n" +
                         std::string(extra));
}

DeliveryOutcome run(const std::string& yaml, std::vector<std::shared_ptr<const routing::Alert>> alerts) {
  auto cfg = load(yaml);
  ManualClock clock(kT0);
  LogCapture logs;
  Delivery d(clock, options(logs));
  return deliver_all(d, clock, notification(cfg, "r", 0, std::move(alerts)));
}

std::vector<std::shared_ptr<const routing::Alert>> resolved_alerts() {
  return {make_alert({{"alertname", "DiskFull"}, {"severity", "critical"}}, {}, kT0 - kMinute, kT0 - 1000)};
}

std::string search_body(const std::string& conditions) {
  return R"({"fields":["status"],"jql":")" + conditions + R"(project=\"OPS\" and labels=\")" + kLabel + "\\\"" +
         kOrder + R"(","maxResults":2})" + "\n";
}

// The issue fields the config above renders for two_alerts(), summary and
// description optional.
std::string issue_body(bool summary = true, bool description = true) {
  std::string b = R"({"fields":{"components":[{"name":"DiskFull"}],"customfield_10001":"critical",)"
                  R"("customfield_10002":42,)";
  if (description) b += R"("description":"Disk \u003cb\u003e",)";
  b += R"("issuetype":{"name":"Bug"},"labels":[")" + kLabel + R"(","alertmanager","critical"],)"
       R"("priority":{"name":"High"},"project":{"key":"OPS"},)";
  if (summary) b += R"("summary":"DiskFull \u0026 co",)";
  return b + "\"zzz\":null}}\n";
}

}  // namespace

TEST_CASE("jira: no issue found, a firing group creates one") {
  FakeJira j;
  DeliveryOutcome o = run(jira_config(j), two_alerts());
  REQUIRE(o.delivered);
  auto reqs = j.server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].method == "POST");
  CHECK(reqs[0].path == "/rest/api/2/search");
  CHECK(reqs[0].body == search_body("statusCategory != Done and "));
  CHECK(reqs[1].method == "POST");
  CHECK(reqs[1].path == "/rest/api/2/issue");
  CHECK(reqs[1].body == issue_body());
  for (const Captured& c : reqs) {
    CHECK(c.header("Content-Type") == "application/json");
    CHECK(c.header("Accept-Language") == "en");
    CHECK(c.header("Authorization") == "Basic " + net::base64_encode("bot:jira-pass-1"));
  }
}

TEST_CASE("jira: custom fields: rendered text that reads as YAML structure becomes that structure") {
  FakeJira j;
  std::string cfg = receiver_config(
      "  jira_configs:\n  - api_url: '" + j.server.url("/rest/api/2") + "'\n    project: OPS\n    issue_type: Bug\n" +
      "    priority: ''\n    description: ''\n    fields:\n"
      "      customfield_1: '[{{ .CommonLabels.severity }}, 2, true]'\n"
      "      customfield_2: '{value: {{ .GroupLabels.alertname }}, n: 1.0}'\n"
      "      customfield_3: {'{{ .CommonLabels.severity }}': 'x # y'}\n"
      "      customfield_4: [1.5, null, 'null', '  spaced  ']\n");
  REQUIRE(run(cfg, two_alerts()).delivered);
  const std::string body = j.server.requests().at(1).body;
  CHECK(body.find(R"("customfield_1":["critical",2,true],"customfield_2":{"n":1,"value":"DiskFull"},)"
                  R"("customfield_3":{"critical":"x # y"},"customfield_4":[1.5,null,null,"  spaced  "],)"
                  R"("issuetype":{"name":"Bug"},"labels")") != std::string::npos);
}

TEST_CASE("jira: a field that fails to render is named, after the search") {
  FakeJira j;
  std::string cfg = jira_config(j);
  cfg.replace(cfg.find("alertmanager]"), 13, "'{{ kaput }}']");
  DeliveryOutcome o = run(cfg, two_alerts());
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts == 1);
  CHECK(j.server.count() == 1);
  CHECK(o.error.find("labels[1] template: ") != std::string::npos);
}

TEST_CASE("jira: an open issue is updated, summary and description only when enable_update allows") {
  FakeJira j;
  j.search = kOpenIssue;
  REQUIRE(run(jira_config(j), two_alerts()).delivered);
  auto reqs = j.server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[1].method == "PUT");
  CHECK(reqs[1].path == "/rest/api/2/issue/OPS-7");
  CHECK(reqs[1].body == issue_body());

  FakeJira k;
  k.search = kOpenIssue;
  std::string cfg = jira_config(k);
  cfg.replace(cfg.find("    summary: "), 0, "    summary: {template: x, enable_update: false}\n");
  cfg.erase(cfg.find("    summary: '"), std::string("    summary: '{{ .CommonLabels.alertname }} & co'\n").size());
  cfg.replace(cfg.find("    description: 'Disk <b>'"), std::string("    description: 'Disk <b>'").size(),
              "    description: {template: 'Disk <b>', enable_update: false}");
  REQUIRE(run(cfg, two_alerts()).delivered);
  reqs = k.server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[1].method == "PUT");
  CHECK(reqs[1].body == issue_body(false, false));
}

TEST_CASE("jira: a resolved group moves its open issue through resolve_transition") {
  FakeJira j;
  j.search = kOpenIssue;
  REQUIRE(run(jira_config(j, "    resolve_transition: Done\n"), resolved_alerts()).delivered);
  auto reqs = j.server.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[0].body == search_body("statusCategory != Done and "));
  CHECK(reqs[1].method == "PUT");
  CHECK(reqs[1].path == "/rest/api/2/issue/OPS-7");
  CHECK(reqs[2].method == "GET");
  CHECK(reqs[2].path == "/rest/api/2/issue/OPS-7/transitions");
  CHECK(reqs[2].body.empty());
  CHECK(reqs[3].method == "POST");
  CHECK(reqs[3].path == "/rest/api/2/issue/OPS-7/transitions");
  CHECK(reqs[3].body == "{\"transition\":{\"id\":\"31\"}}\n");
}

TEST_CASE("jira: without resolve_transition a resolved group only updates its issue") {
  FakeJira j;
  j.search = kOpenIssue;
  REQUIRE(run(jira_config(j), resolved_alerts()).delivered);
  auto reqs = j.server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[1].method == "PUT");
}

TEST_CASE("jira: a resolved group with no issue sends nothing more") {
  FakeJira j;
  REQUIRE(run(jira_config(j, "    resolve_transition: Done\n"), resolved_alerts()).delivered);
  CHECK(j.server.count() == 1);
}

TEST_CASE("jira: a firing group reopens an issue resolved within reopen_duration, won't-fix ones excluded") {
  FakeJira j;
  j.search = kDoneIssue;
  REQUIRE(run(jira_config(j, "    reopen_transition: Reopen\n    reopen_duration: 1h30m\n"
                             "    wont_fix_resolution: \"Won't Fix\"\n"),
              two_alerts())
              .delivered);
  auto reqs = j.server.requests();
  REQUIRE(reqs.size() == 4);
  CHECK(reqs[0].body == search_body(R"((resolution is EMPTY or resolution != \"Won't Fix\") and )"
                                    R"((resolutiondate is EMPTY OR resolutiondate \u003e= -90m) and )"));
  CHECK(reqs[1].method == "PUT");
  CHECK(reqs[2].method == "GET");
  CHECK(reqs[3].path == "/rest/api/2/issue/OPS-7/transitions");
  CHECK(reqs[3].body == "{\"transition\":{\"id\":\"41\"}}\n");
}

TEST_CASE("jira: reopen_duration matters only with reopen_transition, and in whole minutes") {
  for (std::string extra : {"    reopen_duration: 1h\n", "    reopen_transition: Reopen\n    reopen_duration: 30s\n"}) {
    FakeJira j;
    REQUIRE(run(jira_config(j, extra), two_alerts()).delivered);
    CHECK(j.server.requests().at(0).body == search_body("statusCategory != Done and "));
  }
}

TEST_CASE("jira: a transition the issue lacks is an error, not retried") {
  FakeJira j;
  j.search = kOpenIssue;
  DeliveryOutcome o = run(jira_config(j, "    resolve_transition: Finish\n"), resolved_alerts());
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts == 1);
  CHECK(o.error.find("can't find transition Finish for issue OPS-7") != std::string::npos);
}

TEST_CASE("jira: api_type cloud searches through v3 search/jql; a v3 api_url takes ADF descriptions as is") {
  FakeJira j;
  const std::string adf = "'{\"type\": \"doc\", \"version\": 1, \"content\": [{\"type\": \"paragraph\",\n"
                          "      \"content\": [{\"type\": \"text\",\n"
                          "      \"text\": \"{{ .CommonLabels.alertname }} <x>\"}]}]}'";
  std::string cfg = jira_config(j, "    api_type: cloud\n", "/rest/api/3/");
  cfg.replace(cfg.find("'Disk <b>'"), std::string("'Disk <b>'").size(), adf);
  REQUIRE(run(cfg, two_alerts()).delivered);
  auto reqs = j.server.requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].path == "/rest/api/3/search/jql");
  CHECK(reqs[1].path == "/rest/api/3/issue");
  CHECK(reqs[1].body.find(R"("description":{"type":"doc","version":1,"content":[{"type":"paragraph","content":)"
                          R"([{"type":"text","text":"DiskFull \u003cx\u003e"}]}]},"issuetype")") != std::string::npos);

  // A v2 api_url with api_type cloud: v3 search, v2 issues, plain descriptions.
  FakeJira k;
  REQUIRE(run(jira_config(k, "    api_type: cloud\n"), two_alerts()).delivered);
  reqs = k.server.requests();
  CHECK(reqs.at(0).path == "/rest/api/3/search/jql");
  CHECK(reqs.at(1).path == "/rest/api/2/issue");
  CHECK(reqs.at(1).body == issue_body());
}

TEST_CASE("jira: a v3 description that is not JSON fails after the search, not retried") {
  FakeJira j;
  DeliveryOutcome o = run(jira_config(j, "", "/rest/api/3"), two_alerts());
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts == 1);
  CHECK(j.server.count() == 1);
  CHECK(o.error.find("description template: invalid JSON for API v3") != std::string::npos);
}

TEST_CASE("jira: api_type auto picks v3 search for *.atlassian.net, datacenter keeps v2") {
  // The fake is reached as a proxy, so the request keeps the Jira host.
  for (auto [type, path] : {std::pair{"auto", "/rest/api/3/search/jql"}, {"datacenter", "/rest/api/2/search"}}) {
    CAPTURE(type);
    FakeJira j;
    std::string cfg = receiver_config(std::string("  jira_configs:\n") +
                                      "  - api_url: http://acme.atlassian.net/rest/api/2\n" +
                                      "    api_type: " + type + "\n    project: OPS\n    issue_type: Bug\n" +
                                      "    http_config:\n      proxy_url: '" + j.server.url("") + "'\n");
    REQUIRE(run(cfg, two_alerts()).delivered);
    auto reqs = j.server.requests();
    REQUIRE(reqs.size() == 2);
    CHECK(reqs[0].path.ends_with(path));
    CHECK(reqs[0].header("Host") == "acme.atlassian.net");
    CHECK(reqs[1].path.ends_with("/rest/api/2/issue"));
  }
}

TEST_CASE("jira: default templates; the summary is cut at 255 characters") {
  FakeJira j;
  std::string cfg = receiver_config("  jira_configs:\n  - api_url: '" + j.server.url("/rest/api/2") +
                                    "'\n    project: OPS\n    issue_type: Task\n");
  REQUIRE(run(cfg, two_alerts()).delivered);
  json fields = j.server.requests().at(1).body_json()["fields"];
  CHECK(fields["summary"] == "[FIRING:2] DiskFull (critical)");
  CHECK(fields["priority"] == json{{"name", "High"}});
  CHECK(fields["labels"] == json::array({kLabel}));
  CHECK(fields["description"].get<std::string>().find("Disk on a is full") != std::string::npos);

  FakeJira k;
  std::string long_cfg = receiver_config("  jira_configs:\n  - api_url: '" + k.server.url("/rest/api/2") +
                                         "'\n    project: OPS\n    issue_type: Task\n    summary: " +
                                         std::string(300, 'x') + "\n    priority: ''\n");
  REQUIRE(run(long_cfg, two_alerts()).delivered);
  fields = k.server.requests().at(1).body_json()["fields"];
  CHECK(fields["summary"] == std::string(254, 'x') + "…");
  CHECK_FALSE(fields.contains("priority"));
}

TEST_CASE("jira: 5xx and 429 are retried from the search on, other 4xx are not") {
  for (int status : {500, 503, 429}) {
    for (const char* failing : {"/search", "/issue"}) {
      CAPTURE(status);
      CAPTURE(failing);
      FakeJira j;
      std::atomic<int> failed{0};
      j.fail = [&](const Captured& c, httplib::Response& res) {
        if (!c.path.ends_with(failing) || failed++ > 0) return false;
        res.status = status;
        return true;
      };
      DeliveryOutcome o = run(jira_config(j), two_alerts());
      CHECK(o.delivered);
      CHECK(o.attempts == 2);
      CHECK(j.server.requests().back().path == "/rest/api/2/issue");
    }
  }
  for (int status : {400, 401, 404}) {
    CAPTURE(status);
    FakeJira j;
    j.fail = [&](const Captured& c, httplib::Response& res) {
      if (!c.path.ends_with("/issue")) return false;
      res.status = status;
      res.set_content(R"({"errorMessages":[],"errors":{"priority":"invalid"}})", "application/json");
      return true;
    };
    DeliveryOutcome o = run(jira_config(j), two_alerts());
    CHECK_FALSE(o.delivered);
    CHECK(o.attempts == 1);
    CHECK(o.error.find(fmt::format("failed to POST request to \"issue\": unexpected status code {}: ", status)) !=
          std::string::npos);
  }
}

TEST_CASE("jira: a failed search says so; a receiver that hangs up is not retried, as upstream") {
  FakeJira j;
  j.fail = [](const Captured&, httplib::Response& res) {
    res.status = 400;
    res.set_content("bad jql", "text/plain");
    return true;
  };
  DeliveryOutcome o = run(jira_config(j), two_alerts());
  CHECK_FALSE(o.delivered);
  CHECK(o.error.find("failed to look up existing issues: HTTP request to JIRA API: unexpected status code 400: "
                     "bad jql") != std::string::npos);

  HangUpServer hangs;
  std::string url = hangs.url();
  o = run(receiver_config("  jira_configs:\n  - api_url: '" + url + "'\n    project: OPS\n    issue_type: Bug\n"),
          two_alerts());
  CHECK_FALSE(o.delivered);
  CHECK(o.attempts == 1);
  CHECK(hangs.accepted() == 1);
}
