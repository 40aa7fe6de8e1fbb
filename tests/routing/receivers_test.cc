// Each integration's own checks and http_config's, with upstream's messages.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <string>

#include "routing/config.h"

using namespace vigil;
using namespace vigil::config;
using namespace vigil::routing;

namespace {

// A configuration whose only receiver holds `integration` (YAML under the
// receiver, indented by four spaces).
std::string with(std::string_view integration) {
  return "global:\n  smtp_smarthost: 'mail:25'\n  smtp_from: am@example.org\nroute:\n  receiver: r\n"
         "receivers:\n- name: r\n" + std::string(integration);
}

std::string first_error(std::string_view yaml) {
  LoadResult r = parse_config(yaml);
  return r.errors.empty() ? "" : r.errors.front().message;
}

}  // namespace

TEST_CASE("receivers: every integration's own checks") {
  struct {
    const char* yaml;
    const char* error;  // "" when it loads
  } cases[] = {
      {"  email_configs:\n  - headers: {a: b}\n", "missing to address in email config"},
      {"  email_configs:\n  - to: a@b\n    headers: {subject: a, Subject: b}\n",
       "duplicate header \"Subject\" in email config"},
      {"  email_configs:\n  - to: a@b\n    threading: {enabled: true}\n",
       "threading.thread_by_date must be either 'none' or 'daily'"},
      {"  email_configs:\n  - to: a@b\n    threading: {enabled: true, thread_by_date: daily}\n", ""},
      {"  victorops_configs:\n  - api_key: k\n", "missing Routing key in VictorOps config"},
      {"  victorops_configs:\n  - routing_key: r\n    api_key: k\n    api_key_file: f\n",
       "at most one of api_key & api_key_file must be configured"},
      {"  victorops_configs:\n  - routing_key: r\n    api_key: k\n    custom_fields: {entity_state: x}\n",
       "victorOps config contains custom field entity_state which cannot be used as it conflicts with "
       "the fixed/static fields"},
      {"  pushover_configs:\n  - token: t\n", "one of user_key or user_key_file must be configured"},
      {"  pushover_configs:\n  - user_key: u\n    user_key_file: f\n    token: t\n",
       "at most one of user_key & user_key_file must be configured"},
      {"  pushover_configs:\n  - user_key: u\n", "one of token or token_file must be configured"},
      {"  pushover_configs:\n  - user_key: u\n    token: t\n    html: true\n    monospace: true\n",
       "at most one of monospace & html must be configured"},
      {"  pushover_configs:\n  - user_key: u\n    token: t\n    retry: 1d\n",
       "retry: time: unknown unit \"d\" in duration \"1d\""},
      {"  slack_configs:\n  - api_url: http://x/\n    fields: [{title: t}]\n",
       "missing value in Slack field configuration"},
      {"  slack_configs:\n  - api_url: http://x/\n    actions: [{type: button, text: t}]\n",
       "missing name or url in Slack action configuration"},
      {"  slack_configs:\n  - api_url: http://x/\n    actions: [{type: button, text: t, url: http://y/, "
       "confirm: {title: c}}]\n",
       "missing text in Slack confirmation configuration"},
      {"  pagerduty_configs:\n  - description: d\n", "missing service or routing key in PagerDuty config"},
      {"  pagerduty_configs:\n  - routing_key: k\n    routing_key_file: f\n",
       "at most one of routing_key & routing_key_file must be configured"},
      {"  opsgenie_configs:\n  - api_key: k\n    responders: [{type: team}]\n",
       "opsGenieConfig responder {   team} has to have at least one of id, username or name specified"},
      {"  opsgenie_configs:\n  - api_key: k\n    responders: [{name: n, type: crowd}]\n",
       "opsGenieConfig responder { n  crowd} type does not match valid options "
       "^(team|teams|user|escalation|schedule)$"},
      {"  opsgenie_configs:\n  - api_key: k\n    responders: [{name: n, type: '{{ .x }}'}]\n", ""},
      {"  wechat_configs:\n  - api_secret: s\n    corp_id: c\n    message_type: html\n",
       "weChat message type \"html\" does not match valid options ^(text|markdown)$"},
      {"  wechat_configs:\n  - api_secret: s\n", "no global Wechat CorpID set"},
      {"  telegram_configs:\n  - bot_token: t\n", "missing chat_id or chat_id_file on telegram_config"},
      {"  telegram_configs:\n  - bot_token: t\n    chat_id: 1\n    parse_mode: BBCode\n",
       "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string"},
      {"  discord_configs:\n  - content: c\n", "one of webhook_url or webhook_url_file must be configured"},
      {"  webex_configs:\n  - room_id: r\n", "missing webex_configs.http_config.authorization"},
      {"  webex_configs:\n  - http_config: {authorization: {credentials: x}}\n",
       "missing room_id on webex_config"},
      {"  webex_configs:\n  - room_id: r\n    http_config: {authorization: {credentials: x}}\n", ""},
      {"  msteams_configs:\n  - webhook_url: http://x/\n    webhook_url_file: f\n",
       "at most one of webhook_url & webhook_url_file must be configured"},
      {"  msteamsv2_configs:\n  - title: t\n", "one of webhook_url or webhook_url_file must be configured"},
      {"  jira_configs:\n  - api_url: http://jira/\n    issue_type: Bug\n", "missing project in jira_config"},
      {"  jira_configs:\n  - api_url: http://jira/\n    project: P\n    issue_type: Bug\n    api_type: x\n",
       "unknown api_type on jira_config, must be auto, cloud or datacenter"},
      {"  jira_configs:\n  - project: P\n    issue_type: Bug\n", "no global Jira Cloud URL set"},
      {"  jira_configs:\n  - api_url: http://jira/\n    project: P\n    issue_type: Bug\n"
       "    summary: {template: s, enable_update: false}\n    description: d\n    fields: {customfield_1: [1, 2]}\n",
       ""},
      {"  incidentio_configs:\n  - url: http://x/\n    http_config: {follow_redirects: true}\n",
       "at least one of alert_source_token, alert_source_token_file or http_config.authorization must be "
       "configured"},
      {"  incidentio_configs:\n  - url: http://x/\n    alert_source_token: t\n"
       "    http_config: {authorization: {credentials: x}}\n",
       "cannot specify alert_source_token or alert_source_token_file when using http_config.authorization"},
      {"  sns_configs:\n  - topic_arn: t\n    sigv4: {access_key: a}\n",
       "must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the SigV4 config"},
      {"  rocketchat_configs:\n  - token: t\n    token_id: i\n    token_file: f\n",
       "at most one of token & token_file must be configured"},
      {"  mattermost_configs:\n  - webhook_url: http://x/\n    attachments: [{fields: [{title: t}]}]\n",
       "missing value in Mattermost field configuration"},
      {"  webhook_configs:\n  - url_file: /f\n    max_alerts: -1\n", "cannot unmarshal !!int `-1` into uint64"},
      {"  webhook_configs:\n  - url: 'http://x/{{ .GroupLabels.a }}'\n", ""},
      {"  webhook_configs:\n  - url: 'http://x/{{ .GroupLabels.a'\n", "invalid template syntax"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.yaml);
    std::string got = first_error(with(c.yaml));
    if (std::string_view(c.error).empty()) CHECK(got == "");
    else CHECK_MESSAGE(got.find(c.error) != std::string::npos, got);
  }
}

TEST_CASE("receivers: http_config rules and normalisation") {
  auto err = [](std::string_view http) {
    return first_error(with("  webhook_configs:\n  - url: http://x/\n    http_config: " + std::string(http) + "\n"));
  };
  CHECK(err("{bearer_token: a, bearer_token_file: b}") ==
        "at most one of bearer_token & bearer_token_file must be configured");
  CHECK(err("{basic_auth: {username: u}, bearer_token: a}") ==
        "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured");
  CHECK(err("{authorization: {type: Basic, credentials: x}}") ==
        "authorization type cannot be set to \"basic\", use \"basic_auth\" instead");
  CHECK(err("{oauth2: {client_id: c}}") == "oauth2 token_url must be configured");
  CHECK(err("{no_proxy: localhost}") == "if no_proxy is configured, proxy_url must also be configured");
  CHECK(err("{http_headers: {authorization: {values: [x]}}}") == "setting header \"Authorization\" is not allowed");
  CHECK(err("{tls_config: {cert_file: c}}") ==
        "exactly one of key or key_file must be configured when a client certificate is configured");
  CHECK(err("{tls_config: {min_version: TLS14}}") == "min_version: unknown TLS version: TLS14");
  LoadResult r = parse_config(with("  webhook_configs:\n  - url: http://x/\n    http_config: {bearer_token: s}\n"));
  REQUIRE(r.ok());
  const ConfigValue* auth = r.config.receivers[0].integrations[0].settings.find("http_config")->find("authorization");
  REQUIRE(auth != nullptr);
  CHECK(auth->str("type") == "Bearer");
  CHECK(auth->str("credentials") == "s");
}

TEST_CASE("receivers: relative http_config files are made absolute against the config's directory") {
  const std::string dir = "/tmp";
  char path[] = "/tmp/vigil-am-XXXXXX.yml";
  int fd = mkstemps(path, 4);
  REQUIRE(fd >= 0);
  std::string yaml = with("  webhook_configs:\n  - url: http://x/\n    http_config:\n"
                          "      authorization: {credentials_file: token}\n      tls_config: {ca_file: /abs/ca.pem}\n");
  yaml += "templates: ['tmpl/*.tmpl']\n";
  REQUIRE(write(fd, yaml.data(), yaml.size()) == static_cast<ssize_t>(yaml.size()));
  close(fd);
  LoadResult r = load_config(path);
  unlink(path);
  REQUIRE(r.ok());
  const ConfigValue* http = r.config.receivers[0].integrations[0].settings.find("http_config");
  CHECK(http->find("authorization")->str("credentials_file") == "/tmp/token");
  CHECK(http->find("tls_config")->str("ca_file") == "/abs/ca.pem");
  CHECK(r.config.templates == std::vector<std::string>{"/tmp/tmpl/*.tmpl"});
}
