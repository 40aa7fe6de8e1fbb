#include <doctest/doctest.h>

#include <string>

#include "routing/config.h"

using namespace vigil;
using namespace vigil::config;
using namespace vigil::routing;

namespace {

std::string errors_of(std::string_view yaml, LoadOptions opts = {}) {
  std::string out;
  for (const Error& e : parse_config(yaml, opts).errors) out += format_error("f", e) + "\n";
  return out;
}

bool fails_with(std::string_view yaml, std::string_view want, LoadOptions opts = {}) {
  std::string got = errors_of(yaml, opts);
  if (got.find(want) != std::string::npos) return true;
  MESSAGE("got: " << got);
  return false;
}

const IntegrationConfig& first(const Config& c, size_t receiver = 0, size_t i = 0) {
  return c.receivers.at(receiver).integrations.at(i);
}

}  // namespace

// Upstream's inline config tests (config_test.go), message for message.
TEST_CASE("config: upstream's validations") {
  CHECK(fails_with("", "no route provided in config"));
  CHECK(fails_with("route:\n   group_wait: 30s\n", "root route must specify a default receiver"));
  CHECK(fails_with("route:\n    receiver: team-X\nreceivers:\n- name: 'team-X'\n- name: 'team-X'\n",
                   "notification config name \"team-X\" is not unique"));
  CHECK(fails_with("route:\n    receiver: team-X\nreceivers:\n- name: 'team-Y'\n",
                   "undefined receiver \"team-X\" used in route"));
  CHECK(fails_with(R"(route:
    receiver: team-X
    routes:
      - match:
          foo: bar
        routes:
        - match:
            foo: bar
          receiver: nonexistent
receivers:
- name: 'team-X'
)", "undefined receiver \"nonexistent\" used in route"));
  CHECK(fails_with("route:\nreceivers:\n- name: ''\n", "missing name in receiver"));
  CHECK(fails_with(R"(route:
    receiver: team-X
receivers:
- name: 'team-X'
  labels:
    name: 'different-name'
)", "receiver label \"name\" must match receiver name \"team-X\", got \"different-name\""));
  CHECK(fails_with(R"(route:
    receiver: team-Y
    routes:
    -  match:
        severity: critical
       mute_time_intervals:
       - business_hours
receivers:
- name: 'team-Y'
)", "undefined time interval \"business_hours\" used in route"));
  CHECK(fails_with(R"(time_intervals:
- name:
  time_intervals:
  - times:
     - start_time: '09:00'
       end_time: '17:00'
receivers:
- name: 'team-X-mails'
route:
  receiver: 'team-X-mails'
)", "missing name in time interval"));
  CHECK(fails_with(R"(mute_time_intervals:
- name: duplicate
  time_intervals:
  - times:
     - start_time: '09:00'
       end_time: '17:00'
- name: duplicate
  time_intervals:
  - times:
     - start_time: '10:00'
       end_time: '14:00'
receivers:
- name: 'team-X-mails'
route:
  receiver: 'team-X-mails'
)", "mute time interval \"duplicate\" is not unique"));
  CHECK(fails_with("route:\n  group_by: ['alertname', 'cluster', 'service', 'cluster']\n  receiver: r\nreceivers:\n- name: r\n",
                   "duplicated label \"cluster\" in group_by"));
  CHECK(fails_with("route:\n  group_by: ['alertname', 'cluster', '...']\n  receiver: r\nreceivers:\n- name: r\n",
                   "cannot have wildcard group_by (`...`) and other labels at the same time"));
  CHECK(fails_with("route:\n  labels:\n    '': v\n  receiver: r\nreceivers:\n- name: r\n",
                   "invalid label name \"\" in route labels"));
  CHECK(fails_with("receivers:\n- name: 'team-X-mails'\n", "no routes provided"));
  CHECK(fails_with(R"(time_intervals:
- name: my_active_time
  time_intervals:
  - times:
     - start_time: '09:00'
       end_time: '17:00'
receivers:
- name: 'team-X-mails'
route:
  receiver: 'team-X-mails'
  active_time_intervals:
  - my_active_time
)", "root route must not have any active time intervals"));
  CHECK(fails_with("route:\n  receiver: 'team-X'\n  matchers:\n    - severity=critical\nreceivers:\n- name: 'team-X'\n",
                   "root route must not have any matchers"));
  CHECK(fails_with("route:\n  receiver: 'team-X'\n  match:\n    severity: critical\nreceivers:\n- name: 'team-X'\n",
                   "root route must not have any matchers"));
  CHECK(fails_with("route:\n    receiver: r\n    continue: true\nreceivers:\n- name: r\n",
                   "cannot have continue in root route"));
  CHECK(fails_with("route:\n    receiver: r\n    group_interval: 0s\nreceivers:\n- name: r\n",
                   "group_interval cannot be zero"));
  CHECK(fails_with("route:\n    receiver: r\n    repeat_interval: 0s\nreceivers:\n- name: r\n",
                   "repeat_interval cannot be zero"));
}

TEST_CASE("config: group_by label names depend on the matcher syntax") {
  LoadOptions classic;
  classic.matcher_syntax = MatcherSyntax::kClassic;
  const char* yaml = "route:\n  group_by: ['-invalid-']\n  receiver: r\nreceivers:\n- name: r\n";
  CHECK(fails_with(yaml, "invalid label name \"-invalid-\" in group_by list",
                   classic));
  // Alertmanager's default (fallback) and utf8-strict modes take UTF-8 names.
  CHECK(parse_config(yaml).ok());
}

TEST_CASE("config: an empty integration item is an error for most integrations") {
  struct {
    const char* key;
    const char* error;
  } cases[] = {
      {"discord_configs", "missing discord config"},
      {"email_configs", "missing email config"},
      {"incidentio_configs", "missing incidentio config"},
      {"pagerduty_configs", "missing pagerduty config"},
      {"webhook_configs", "missing webhook config"},
      {"pushover_configs", "missing pushover config"},
      {"victorops_configs", "missing victorops config"},
      {"sns_configs", "missing sns config"},
      {"telegram_configs", "missing telegram config"},
      {"webex_configs", "missing webex config"},
      {"msteams_configs", "missing msteams config"},
      {"msteamsv2_configs", "missing msteamsv2 config"},
      {"jira_configs", "missing jira config"},
      {"mattermost_configs", "missing mattermost config"},
      {"slack_configs", "no Slack API URL nor App token set either inline or in a file"},
      {"opsgenie_configs", "no global OpsGenie API Key set either inline or in a file"},
      {"wechat_configs", "no global Wechat Api Secret set either inline or in a file"},
      {"rocketchat_configs", "no global Rocketchat TokenID set either inline or in a file"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.key);
    std::string yaml = std::string("global:\nroute:\n  receiver: 'test-receiver'\nreceivers:\n- name: "
                                   "'test-receiver'\n  ") + c.key + ":\n  -\n";
    CHECK(fails_with(yaml, c.error));
  }
}

TEST_CASE("config: integrations take defaults and global values") {
  LoadResult r = parse_config(R"(global:
  smtp_smarthost: 'localhost:25'
  smtp_from: 'alertmanager@example.org'
  smtp_auth_username: 'globaluser'
  smtp_auth_password_file: '/tmp/globaluserpassword'
  smtp_auth_secret_file: '/tmp/globalusersecret'
  slack_api_url: 'https://hooks.slack.com/services/x'
  http_config:
    follow_redirects: false
route:
  receiver: r
receivers:
- name: r
  email_configs:
  - to: one@example.org
  - to: two@example.org
    auth_password: 'mysecret'
    auth_secret: 'myprecious'
  slack_configs:
  - channel: '#a'
  - channel: '#b'
    http_config:
      proxy_url: 'http://proxy:3128'
)");
  REQUIRE_MESSAGE(r.ok(), errors_of(""));
  const ReceiverConfig& rc = r.config.receivers[0];
  REQUIRE(rc.integrations.size() == 4);
  const ConfigValue& e1 = rc.integrations[0].settings;
  CHECK(rc.integrations[0].type == "email");
  CHECK(e1.str("smarthost") == "localhost:25");
  CHECK(e1.str("auth_password_file") == "/tmp/globaluserpassword");
  CHECK(e1.str("auth_password") == "");
  CHECK(e1.str("auth_secret_file") == "/tmp/globalusersecret");
  CHECK(e1.str("hello") == "localhost");
  CHECK(e1.flag("require_tls"));
  CHECK(e1.str("html") == "{{ template \"email.default.html\" . }}");
  CHECK_FALSE(rc.integrations[0].send_resolved);
  const ConfigValue& e2 = rc.integrations[1].settings;
  CHECK(e2.str("auth_password") == "mysecret");
  CHECK(e2.str("auth_password_file") == "");
  CHECK(e2.str("auth_secret_file") == "");  // a local secret keeps the global file out
  const ConfigValue& s1 = rc.integrations[2].settings;
  CHECK(rc.integrations[2].type == "slack");
  CHECK(s1.str("api_url") == "https://hooks.slack.com/services/x");
  CHECK(s1.str("title") == "{{ template \"slack.default.title\" . }}");
  CHECK_FALSE(s1.find("http_config")->flag("follow_redirects"));  // the global one
  const ConfigValue& s2 = rc.integrations[3].settings;
  CHECK(s2.find("http_config")->flag("follow_redirects"));  // its own, with defaults
  CHECK(rc.labels == std::vector<Label>{{"name", "r"}});
}

TEST_CASE("config: a Slack app token becomes a bearer authorization on the app URL") {
  LoadResult r = parse_config(R"(global:
  slack_app_token: 'xoxb-1234'
route:
  receiver: r
receivers:
- name: r
  slack_configs:
  - channel: '#a'
)");
  REQUIRE(r.ok());
  const ConfigValue& s = first(r.config).settings;
  CHECK(s.str("api_url") == "https://slack.com/api/chat.postMessage");
  const ConfigValue* auth = s.find("http_config")->find("authorization");
  REQUIRE(auth != nullptr);
  CHECK(auth->str("type") == "Bearer");
  CHECK(auth->str("credentials") == "xoxb-1234");
}

TEST_CASE("config: PagerDuty details defaults and OpsGenie URL slash") {
  LoadResult r = parse_config(R"(global:
  opsgenie_api_url: https://og.example.com
route:
  receiver: r
receivers:
- name: r
  pagerduty_configs:
  - routing_key: k
    details:
      extra: x
  opsgenie_configs:
  - api_key: k
)");
  REQUIRE(r.ok());
  const ConfigValue& pd = first(r.config).settings;
  CHECK(pd.find("details")->str("extra") == "x");
  CHECK(pd.find("details")->str("num_firing") == "{{ .Alerts.Firing | len }}");
  CHECK(pd.str("source") == "{{ template \"pagerduty.default.client\" . }}");
  CHECK(pd.str("url") == "https://events.pagerduty.com/v2/enqueue");
  CHECK(first(r.config, 0, 1).settings.str("api_url") == "https://og.example.com/");
}

TEST_CASE("config: routes keep the matchers of match, match_re and matchers, sorted") {
  LoadResult r = parse_config(R"(route:
  receiver: r
  group_by: [alertname]
  routes:
  - match:
      service: files
    match_re:
      env: prod|staging
    matchers:
    - 'severity=~"critical|page", team!="x"'
    - '"host name" = "a b"'
    receiver: r
    group_by: []
    continue: true
    group_wait: 10s
receivers:
- name: r
)");
  REQUIRE_MESSAGE(r.ok(), errors_of(""));
  const RouteConfig& child = r.config.route.routes.at(0);
  CHECK(child.matchers.to_string() ==
        "{env=~\"^(?:prod|staging)$\",\"host name\"=\"a b\",service=\"files\","
        "severity=~\"critical|page\",team!=\"x\"}");
  REQUIRE(child.group_by.has_value());
  CHECK(child.group_by->empty());
  CHECK(child.continue_matching);
  CHECK(child.group_wait == 10000);
  CHECK_FALSE(child.group_interval.has_value());
}

TEST_CASE("config: strict decoding") {
  CHECK(fails_with("route:\n  receiver: r\n  recevier: x\nreceivers:\n- name: r\n",
                   "f:3:3: field recevier not found in type config.plain"));
  CHECK(fails_with("route:\n  receiver: r\n  receiver: s\nreceivers:\n- name: r\n",
                   "f:3:3: field receiver already set in type config.plain"));
  CHECK(fails_with("route:\n  receiver: r\n  group_wait: soon\nreceivers:\n- name: r\n",
                   "f:3:15: group_wait: not a valid duration string: \"soon\""));
  CHECK(fails_with("route:\n  receiver: r\n  continue: maybe\nreceivers:\n- name: r\n",
                   "continue: cannot unmarshal !!str `maybe` into bool"));
  CHECK(fails_with("BAD\n", "cannot unmarshal !!str `BAD` into config.plain"));
  CHECK(fails_with("route: [\n", "yaml: line"));
  CHECK(fails_with("route:\n  receiver: r\nreceivers:\n- name: r\n  webhook_configs:\n  - url: ftp://x\n",
                   "url: invalid URL: unsupported scheme \"ftp\" for URL"));
  CHECK(fails_with("route:\n  receiver: r\nreceivers:\n- name: r\n  slack_configs:\n  - api_url: http://secret.example.com/abc\n    app_url: notaurl\n",
                   "app_url: unsupported scheme \"\" for URL"));
  CHECK(fails_with("global:\n  smtp_smarthost: localhost\nroute:\n  receiver: r\nreceivers:\n- name: r\n",
                   "address localhost: missing port in address"));
  // YAML 1.1 booleans, as Go's yaml.v2 reads them.
  LoadResult r = parse_config("route:\n  receiver: r\nreceivers:\n- name: r\n  webhook_configs:\n  - url: http://x/\n    send_resolved: no\n");
  REQUIRE(r.ok());
  CHECK_FALSE(first(r.config).send_resolved);
}

TEST_CASE("config: bad input gets an error, never a crash") {
  CHECK(fails_with("route:\n  receiver: r\n  routes:\n  - match_re:\n      a: '(('\n    receiver: r\nreceivers:\n- name: r\n",
                   "f:5:10: match_re: error parsing regexp"));
  CHECK(fails_with("route:\n  receiver: r\n  routes:\n  - matchers: ['a=~\"((\"']\n    receiver: r\nreceivers:\n- name: r\n",
                   "error parsing regexp"));
  CHECK(fails_with(R"(time_intervals:
- name: t
  time_intervals:
  - location: Mars/Olympus_Mons
route:
  receiver: r
receivers:
- name: r
)", "location: unknown time zone Mars/Olympus_Mons"));
  CHECK(fails_with("route:\n  receiver: r\n  routes:\n  -\nreceivers:\n- name: r\n", "empty route in routes"));
  // Billion laughs: aliases expanding without bound inside a free-form field.
  std::string bomb = "route:\n  receiver: r\nreceivers:\n- name: r\n  webhook_configs:\n  - url: http://x/\n    payload:\n    - &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'i'; ++c) {
    bomb += std::string("    - &") + c + " [";
    for (int k = 0; k < 10; ++k) bomb += std::string(k ? ", *" : "*") + static_cast<char>(c - 1);
    bomb += "]\n";
  }
  CHECK(fails_with(bomb, "document contains excessive aliasing"));
}

TEST_CASE("config: ten thousand routes load, route and print") {
  std::string yaml = "route:\n  receiver: r\n  routes:\n";
  for (int i = 0; i < 10000; ++i)
    yaml += "  - matchers: ['service=\"svc-" + std::to_string(i) + "\"']\n    receiver: r" +
            std::to_string(i % 10) + "\n";
  yaml += "receivers:\n- name: r\n";
  for (int i = 0; i < 10; ++i) yaml += "- name: r" + std::to_string(i) + "\n";
  LoadResult r = parse_config(yaml);
  REQUIRE(r.ok());
  CHECK(r.config.route.routes.size() == 10000);
}

TEST_CASE("config: deeply nested routes are an error, not a stack overflow") {
  std::string yaml = "receivers:\n- name: r\nroute:\n  receiver: r\n";
  std::string indent = "  ";
  for (int i = 0; i < 450; ++i) {
    yaml += indent + "routes:\n" + indent + "- matchers: [a=b]\n";
    indent += "  ";
  }
  CHECK(fails_with(yaml, "nested deeper than"));
}

TEST_CASE("config: receivers the caller cannot deliver to are said at load time, where they are written") {
  const char* yaml =
      "route:\n  receiver: ops\nreceivers:\n- name: ops\n  webhook_configs:\n  - url: http://127.0.0.1/\n"
      "  opsgenie_configs:\n  - api_key: k\n";
  LoadOptions opts;
  opts.deliverable = [](std::string_view type) { return type == "webhook"; };
  LoadResult r = parse_config(yaml, opts);
  REQUIRE(r.ok());
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].message ==
        "receiver \"ops\": vigil cannot deliver to opsgenie_configs yet; its notifications would fail");
  CHECK(r.warnings[0].line == 8);
  opts.strict = true;
  r = parse_config(yaml, opts);
  REQUIRE_FALSE(r.ok());
  CHECK(r.errors[0].line == 8);
  CHECK(r.errors[0].message.find("opsgenie_configs") != std::string::npos);
  // Unset, every type upstream knows is taken silently.
  CHECK(parse_config(yaml).warnings.empty());
}
