#include <doctest/doctest.h>

#include <string>

#include "routing/config_marshal.h"

// Expected texts are what Alertmanager 0.33.1 returned in config.original
// for the same input (tests/integration/am_config_original.py compares the
// two on many more configs).

namespace vigil::routing {

namespace {

std::string marshal(std::string_view text, std::string_view dir = "/etc/alertmanager") {
  auto out = marshal_config_yaml(text, dir);
  REQUIRE(out.has_value());
  return *out;
}

}  // namespace

TEST_CASE("config.original: defaults, inherited global HTTP settings, a secret URL and sorted matchers") {
  CHECK(marshal(R"(route:
  receiver: team
  group_by: [alertname]
  routes:
    - matchers: ['severity="page"', 'team=~"db|web"']
      receiver: team
      group_wait: 1m
receivers:
  - name: team
    slack_configs:
      - api_url: https://hooks.slack.com/services/T/B/X
        channel: '#alerts'
)") == R"(global:
  resolve_timeout: 5m
  http_config:
    follow_redirects: true
    enable_http2: true
  smtp_hello: localhost
  smtp_require_tls: true
  smtp_tls_config:
    insecure_skip_verify: false
  slack_app_url: https://slack.com/api/chat.postMessage
  pagerduty_url: https://events.pagerduty.com/v2/enqueue
  opsgenie_api_url: https://api.opsgenie.com/
  wechat_api_url: https://qyapi.weixin.qq.com/cgi-bin/
  victorops_api_url: https://alert.victorops.com/integrations/generic/20131114/alert/
  telegram_api_url: https://api.telegram.org
  webex_api_url: https://webexapis.com/v1/messages
  rocketchat_api_url: https://open.rocket.chat/
route:
  receiver: team
  group_by:
  - alertname
  continue: false
  routes:
  - receiver: team
    matchers:
    - severity="page"
    - team=~"db|web"
    continue: false
    group_wait: 1m
receivers:
- name: team
  labels:
    name: team
  slack_configs:
  - send_resolved: false
    http_config:
      follow_redirects: true
      enable_http2: true
    api_url: <secret>
    app_url: https://slack.com/api/chat.postMessage
    channel: '#alerts'
    username: '{{ template "slack.default.username" . }}'
    color: '{{ template "slack.default.color" . }}'
    title: '{{ template "slack.default.title" . }}'
    title_link: '{{ template "slack.default.titlelink" . }}'
    pretext: '{{ template "slack.default.pretext" . }}'
    text: '{{ template "slack.default.text" . }}'
    short_fields: false
    footer: '{{ template "slack.default.footer" . }}'
    fallback: '{{ template "slack.default.fallback" . }}'
    callback_id: '{{ template "slack.default.callbackid" . }}'
    icon_emoji: '{{ template "slack.default.iconemoji" . }}'
    icon_url: '{{ template "slack.default.iconurl" . }}'
    link_names: false
    update_message: false
    timeout: 0s
templates: []
)");
}

TEST_CASE("config.original: email defaults and headers, inhibition rules and time intervals") {
  CHECK(marshal(R"(global:
  smtp_smarthost: localhost:25
  smtp_from: am@example.org
route:
  receiver: mail
  routes:
    - receiver: mail
      mute_time_intervals: [nights]
inhibit_rules:
  - source_matchers: [severity="critical"]
    target_matchers: [severity="warning"]
    equal: [alertname]
receivers:
  - name: mail
    email_configs:
      - to: ops@example.org
time_intervals:
  - name: nights
    time_intervals:
      - times: [{start_time: "22:00", end_time: "24:00"}]
        weekdays: ['monday:friday']
        months: ['january:march']
)") == R"(global:
  resolve_timeout: 5m
  http_config:
    follow_redirects: true
    enable_http2: true
  smtp_from: am@example.org
  smtp_hello: localhost
  smtp_smarthost: localhost:25
  smtp_require_tls: true
  smtp_tls_config:
    insecure_skip_verify: false
  slack_app_url: https://slack.com/api/chat.postMessage
  pagerduty_url: https://events.pagerduty.com/v2/enqueue
  opsgenie_api_url: https://api.opsgenie.com/
  wechat_api_url: https://qyapi.weixin.qq.com/cgi-bin/
  victorops_api_url: https://alert.victorops.com/integrations/generic/20131114/alert/
  telegram_api_url: https://api.telegram.org
  webex_api_url: https://webexapis.com/v1/messages
  rocketchat_api_url: https://open.rocket.chat/
route:
  receiver: mail
  continue: false
  routes:
  - receiver: mail
    mute_time_intervals:
    - nights
    continue: false
inhibit_rules:
- source_matchers:
  - severity="critical"
  target_matchers:
  - severity="warning"
  equal:
  - alertname
receivers:
- name: mail
  labels:
    name: mail
  email_configs:
  - send_resolved: false
    to: ops@example.org
    from: am@example.org
    hello: localhost
    smarthost: localhost:25
    headers:
      From: am@example.org
      Subject: '{{ template "email.default.subject" . }}'
      To: ops@example.org
    html: '{{ template "email.default.html" . }}'
    require_tls: true
    tls_config:
      insecure_skip_verify: false
templates: []
time_intervals:
- name: nights
  time_intervals:
  - times:
    - start_time: "22:00"
      end_time: "24:00"
    weekdays: ['monday:friday']
    months: ["1:3"]
)");
}

TEST_CASE("config.original: relative paths join the config's directory") {
  std::string out = marshal(R"(route:
  receiver: r
receivers:
  - name: r
    webhook_configs:
      - url_file: hook
        http_config:
          basic_auth: {username: u, password_file: ./secrets/../pw}
templates: ['templates/*.tmpl', /abs/x.tmpl]
)");
  CHECK(out.find("      password_file: /etc/alertmanager/pw\n") != std::string::npos);
  CHECK(out.find("    url_file: hook\n") != std::string::npos);
  CHECK(out.ends_with("templates:\n- /etc/alertmanager/templates/*.tmpl\n- /abs/x.tmpl\n"));
}

TEST_CASE("config.original: values yaml.v2 would read back as another type are quoted") {
  std::string out = marshal(R"(route:
  receiver: r
  routes:
    - receiver: r
      match: {a: "true", b: "1.5", c: "09:30", d: "", e: "2024-01-02", f: "x: y", g: "0x1F"}
receivers:
  - name: r
)");
  CHECK(out.find(R"(    match:
      a: "true"
      b: "1.5"
      c: "09:30"
      d: ""
      e: "2024-01-02"
      f: 'x: y'
      g: "0x1F"
    continue: false
)") != std::string::npos);
}

TEST_CASE("config.original: text that is not YAML is an error") {
  CHECK_FALSE(marshal_config_yaml("a: [", "").has_value());
}

}  // namespace vigil::routing
