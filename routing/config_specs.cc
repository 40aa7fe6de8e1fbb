#include "routing/config_specs.h"

#include "config/http_config.h"

namespace vigil::routing {

using config::FieldSpec;
using config::FieldType;
using config::ObjectSpec;
using config::header_spec;
using config::http_config_spec;
using config::tls_config_spec;

namespace {

using T = FieldType;

// Each integration's templates default to the named template of the default
// notification templates.
#define TMPL(name) "{{ template \"" name "\" . }}"

const FieldSpec kSendResolvedTrue{"send_resolved", T::kBool, "true"};
const FieldSpec kSendResolvedFalse{"send_resolved", T::kBool, "false"};

FieldSpec http_config_field() { return {"http_config", T::kObject, nullptr, &http_config_spec()}; }

const ObjectSpec& sigv4_spec() {
  static const ObjectSpec s{"sigv4.plain",
                            {{"region"}, {"access_key"}, {"secret_key", T::kSecret}, {"profile"},
                             {"role_arn"}, {"external_id"}, {"use_fips_sts_endpoint", T::kBool},
                             {"service_name"}}};
  return s;
}

// ---- integrations ----

const ObjectSpec& email_spec() {
  static const ObjectSpec threading{"config.ThreadingConfig",
                                    {{"enabled", T::kBool}, {"thread_by_date"}}};
  static const ObjectSpec s{
      "config.plain",
      {kSendResolvedFalse, {"to"}, {"from"}, {"hello"}, {"smarthost", T::kHostPort},
       {"auth_username"}, {"auth_password", T::kSecret}, {"auth_password_file"},
       {"auth_secret", T::kSecret}, {"auth_secret_file"}, {"auth_identity"},
       {"headers", T::kStringMap}, {"html", T::kString, TMPL("email.default.html")},
       {"text", T::kString, ""}, {"require_tls", T::kBool},
       {"tls_config", T::kObject, nullptr, &tls_config_spec()},
       {"force_implicit_tls", T::kBool}, {"threading", T::kObject, nullptr, &threading}}};
  return s;
}

const ObjectSpec& slack_spec() {
  static const ObjectSpec field{"config.plain",
                                {{"title"}, {"value"}, {"short", T::kBool}}};
  static const ObjectSpec confirm{"config.plain",
                                  {{"text"}, {"title"}, {"ok_text"}, {"dismiss_text"}}};
  static const ObjectSpec action{"config.plain",
                                 {{"type"}, {"text"}, {"url"}, {"style"}, {"name"}, {"value"},
                                  {"confirm", T::kObject, nullptr, &confirm}}};
  static const ObjectSpec s{
      "config.plain",
      {kSendResolvedFalse, http_config_field(), {"api_url", T::kSecretUrl}, {"api_url_file"},
       {"app_token", T::kSecret}, {"app_token_file"}, {"app_url", T::kUrl}, {"channel"},
       {"username", T::kString, TMPL("slack.default.username")},
       {"color", T::kString, TMPL("slack.default.color")},
       {"title", T::kString, TMPL("slack.default.title")},
       {"title_link", T::kString, TMPL("slack.default.titlelink")},
       {"pretext", T::kString, TMPL("slack.default.pretext")},
       {"text", T::kString, TMPL("slack.default.text")}, {"message_text"},
       {"fields", T::kObjectList, nullptr, &field}, {"short_fields", T::kBool},
       {"footer", T::kString, TMPL("slack.default.footer")},
       {"fallback", T::kString, TMPL("slack.default.fallback")},
       {"callback_id", T::kString, TMPL("slack.default.callbackid")},
       {"icon_emoji", T::kString, TMPL("slack.default.iconemoji")},
       {"icon_url", T::kString, TMPL("slack.default.iconurl")}, {"image_url"}, {"thumb_url"},
       {"link_names", T::kBool}, {"mrkdwn_in", T::kStringList},
       {"actions", T::kObjectList, nullptr, &action}, {"update_message", T::kBool},
       {"timeout", T::kGoDuration}}};
  return s;
}

const ObjectSpec& pagerduty_spec() {
  static const ObjectSpec image{"pagerduty.PagerdutyImage", {{"src"}, {"alt"}, {"href"}}};
  static const ObjectSpec link{"pagerduty.PagerdutyLink", {{"href"}, {"text"}}};
  static const ObjectSpec s{
      "pagerduty.plain",
      {kSendResolvedTrue, http_config_field(), {"service_key", T::kSecret}, {"service_key_file"},
       {"routing_key", T::kSecret}, {"routing_key_file"}, {"url", T::kUrl},
       {"client", T::kString, TMPL("pagerduty.default.client")},
       {"client_url", T::kString, TMPL("pagerduty.default.clientURL")},
       {"description", T::kString, "{{ template \"pagerduty.default.description\" .}}"},
       {"details", T::kAny}, {"images", T::kObjectList, nullptr, &image},
       {"links", T::kObjectList, nullptr, &link}, {"source"}, {"severity"}, {"class"},
       {"component"}, {"group"}, {"timeout", T::kGoDuration}}};
  return s;
}

const ObjectSpec& webhook_spec() {
  static const ObjectSpec s{"webhook.plain",
                            {kSendResolvedTrue, http_config_field(), {"url", T::kTemplateUrl},
                             {"url_file"}, {"max_alerts", T::kUInt}, {"timeout", T::kGoDuration},
                             {"payload", T::kAny}}};
  return s;
}

const ObjectSpec& opsgenie_spec() {
  static const ObjectSpec responder{"opsgenie.OpsGenieConfigResponder",
                                    {{"id"}, {"name"}, {"username"}, {"type"}}};
  static const ObjectSpec s{
      "opsgenie.plain",
      {kSendResolvedTrue, http_config_field(), {"api_key", T::kSecret}, {"api_key_file"},
       {"api_url", T::kUrl}, {"message", T::kString, TMPL("opsgenie.default.message")},
       {"description", T::kString, TMPL("opsgenie.default.description")},
       {"source", T::kString, TMPL("opsgenie.default.source")}, {"details", T::kStringMap},
       {"entity"}, {"responders", T::kObjectList, nullptr, &responder}, {"actions"}, {"tags"},
       {"note"}, {"priority"}, {"update_alerts", T::kBool}}};
  return s;
}

const ObjectSpec& wechat_spec() {
  static const ObjectSpec s{
      "config.plain",
      {kSendResolvedFalse, http_config_field(), {"api_secret", T::kSecret}, {"api_secret_file"},
       {"corp_id"}, {"message", T::kString, TMPL("wechat.default.message")},
       {"api_url", T::kUrl}, {"to_user", T::kString, TMPL("wechat.default.to_user")},
       {"to_party", T::kString, TMPL("wechat.default.to_party")},
       {"to_tag", T::kString, TMPL("wechat.default.to_tag")},
       {"agent_id", T::kString, TMPL("wechat.default.agent_id")}, {"message_type"}}};
  return s;
}

const ObjectSpec& victorops_spec() {
  static const ObjectSpec s{
      "config.plain",
      {kSendResolvedTrue, http_config_field(), {"api_key", T::kSecret}, {"api_key_file"},
       {"api_url", T::kUrl}, {"routing_key"}, {"message_type", T::kString, "CRITICAL"},
       {"state_message", T::kString, TMPL("victorops.default.state_message")},
       {"entity_display_name", T::kString, TMPL("victorops.default.entity_display_name")},
       {"monitoring_tool", T::kString, TMPL("victorops.default.monitoring_tool")},
       {"custom_fields", T::kStringMap}}};
  return s;
}

const ObjectSpec& pushover_spec() {
  static const ObjectSpec s{
      "config.plain",
      {kSendResolvedTrue, http_config_field(), {"user_key", T::kSecret}, {"user_key_file"},
       {"token", T::kSecret}, {"token_file"},
       {"title", T::kString, TMPL("pushover.default.title")},
       {"message", T::kString, TMPL("pushover.default.message")},
       {"url", T::kString, TMPL("pushover.default.url")}, {"url_title"}, {"device"}, {"sound"},
       {"priority", T::kString, "{{ if eq .Status \"firing\" }}2{{ else }}0{{ end }}"},
       {"retry", T::kGoDuration, "1m"}, {"expire", T::kGoDuration, "1h"},
       {"ttl", T::kGoDuration}, {"html", T::kBool}, {"monospace", T::kBool}}};
  return s;
}

const ObjectSpec& sns_spec() {
  static const ObjectSpec s{
      "config.plain",
      {kSendResolvedTrue, http_config_field(), {"api_url"},
       {"sigv4", T::kObject, nullptr, &sigv4_spec()}, {"topic_arn"}, {"phone_number"},
       {"target_arn"}, {"subject", T::kString, TMPL("sns.default.subject")},
       {"message", T::kString, TMPL("sns.default.message")}, {"attributes", T::kStringMap},
       {"use_aws_http_client", T::kBool}}};
  return s;
}

const ObjectSpec& telegram_spec() {
  static const ObjectSpec s{
      "telegram.plain",
      {kSendResolvedTrue, http_config_field(), {"api_url", T::kUrl}, {"bot_token", T::kSecret},
       {"bot_token_file"}, {"chat_id", T::kInt}, {"chat_id_file"}, {"message_thread_id", T::kInt},
       {"message", T::kString, TMPL("telegram.default.message")},
       {"disable_notifications", T::kBool}, {"parse_mode", T::kString, "HTML"}}};
  return s;
}

const ObjectSpec& discord_spec() {
  static const ObjectSpec s{
      "discord.plain",
      {kSendResolvedTrue, http_config_field(), {"webhook_url", T::kSecretUrl},
       {"webhook_url_file"}, {"content"}, {"title", T::kString, TMPL("discord.default.title")},
       {"message", T::kString, TMPL("discord.default.message")}, {"username"}, {"avatar_url"}}};
  return s;
}

const ObjectSpec& webex_spec() {
  static const ObjectSpec s{"config.plain",
                            {kSendResolvedTrue, http_config_field(), {"api_url", T::kUrl},
                             {"message", T::kString, TMPL("webex.default.message")},
                             {"room_id"}}};
  return s;
}

const ObjectSpec& msteams_spec() {
  static const ObjectSpec s{
      "msteams.plain",
      {kSendResolvedTrue, http_config_field(), {"webhook_url", T::kSecretUrl},
       {"webhook_url_file"}, {"title", T::kString, TMPL("msteams.default.title")},
       {"summary", T::kString, TMPL("msteams.default.summary")},
       {"text", T::kString, TMPL("msteams.default.text")}}};
  return s;
}

const ObjectSpec& msteamsv2_spec() {
  static const ObjectSpec s{
      "msteamsv2.plain",
      {kSendResolvedTrue, http_config_field(), {"webhook_url", T::kSecretUrl},
       {"webhook_url_file"}, {"title", T::kString, TMPL("msteamsv2.default.title")},
       {"text", T::kString, TMPL("msteamsv2.default.text")}}};
  return s;
}

const ObjectSpec& jira_spec() {
  static const ObjectSpec summary_default{
      "jira.plain",
      {{"template", T::kString, TMPL("jira.default.summary")}, {"enable_update", T::kBool}},
      "template"};
  static const ObjectSpec description_default{
      "jira.plain",
      {{"template", T::kString, TMPL("jira.default.description")}, {"enable_update", T::kBool}},
      "template"};
  static const ObjectSpec s{
      "jira.plain",
      {kSendResolvedTrue, http_config_field(), {"api_url", T::kUrl},
       {"api_type", T::kString, "auto"}, {"project"},
       {"summary", T::kObject, "", &summary_default},
       {"description", T::kObject, "", &description_default}, {"labels", T::kStringList},
       {"priority", T::kString, TMPL("jira.default.priority")}, {"issue_type"},
       {"reopen_transition"}, {"resolve_transition"}, {"wont_fix_resolution"},
       {"reopen_duration", T::kDuration}, {"fields", T::kAny}}};
  return s;
}

const ObjectSpec& incidentio_spec() {
  static const ObjectSpec s{
      "incidentio.plain",
      {kSendResolvedTrue, http_config_field(), {"url", T::kUrl}, {"url_file"},
       {"alert_source_token", T::kSecret}, {"alert_source_token_file"}, {"max_alerts", T::kUInt},
       {"timeout", T::kGoDuration}}};
  return s;
}

const ObjectSpec& rocketchat_spec() {
  // These two have no yaml tags upstream: Go's yaml lowercases the field names.
  static const ObjectSpec field{"config.RocketchatAttachmentField",
                                {{"short", T::kBool}, {"title"}, {"value"}}};
  static const ObjectSpec action{
      "config.RocketchatAttachmentAction",
      {{"type"}, {"text"}, {"url"}, {"imageurl"}, {"iswebview", T::kBool},
       {"webviewheightratio"}, {"msg"}, {"msginchatwindow", T::kBool}, {"msgprocessingtype"}}};
  static const ObjectSpec s{
      "config.plain",
      {kSendResolvedFalse, http_config_field(), {"api_url", T::kUrl}, {"token_id", T::kSecret},
       {"token_id_file"}, {"token", T::kSecret}, {"token_file"}, {"channel"},
       {"color", T::kString, "{{ if eq .Status \"firing\" }}red{{ else }}green{{ end }}"},
       {"title", T::kString, TMPL("rocketchat.default.title")},
       {"title_link", T::kString, TMPL("rocketchat.default.titlelink")},
       {"text", T::kString, TMPL("rocketchat.default.text")},
       {"fields", T::kObjectList, nullptr, &field}, {"short_fields", T::kBool},
       {"emoji", T::kString, TMPL("rocketchat.default.emoji")},
       {"icon_url", T::kString, TMPL("rocketchat.default.iconurl")}, {"image_url"},
       {"thumb_url"}, {"link_names", T::kBool}, {"actions", T::kObjectList, nullptr, &action}}};
  return s;
}

const ObjectSpec& mattermost_spec() {
  static const ObjectSpec field{"mattermost.plain",
                                {{"title"}, {"value"}, {"short", T::kBool}}};
  static const ObjectSpec attachment{
      "mattermost.MattermostAttachment",
      {{"fallback"}, {"color"}, {"pretext"}, {"text"}, {"author_name"}, {"author_link"},
       {"author_icon"}, {"title"}, {"title_link"}, {"fields", T::kObjectList, nullptr, &field},
       {"thumb_url"}, {"footer"}, {"footer_icon"}, {"image_url"}}};
  static const ObjectSpec props{"mattermost.MattermostProps", {{"card"}}};
  static const ObjectSpec priority{
      "mattermost.MattermostPriority",
      {{"priority"}, {"requested_ack", T::kBool}, {"persistent_notifications", T::kBool}}};
  static const ObjectSpec s{
      "mattermost.plain",
      {kSendResolvedTrue, http_config_field(), {"webhook_url", T::kSecretUrl},
       {"webhook_url_file"}, {"channel"},
       {"username", T::kString, TMPL("mattermost.default.username")},
       {"text", T::kString, TMPL("mattermost.default.text")},
       {"fallback", T::kString, TMPL("mattermost.default.fallback")},
       {"color", T::kString, TMPL("mattermost.default.color")}, {"pretext"}, {"author_name"},
       {"author_link"}, {"author_icon"}, {"title", T::kString, TMPL("mattermost.default.title")},
       {"title_link", T::kString, TMPL("mattermost.default.titlelink")},
       {"fields", T::kObjectList, nullptr, &field}, {"thumb_url"}, {"footer"}, {"footer_icon"},
       {"image_url"}, {"icon_url"}, {"icon_emoji"},
       {"attachments", T::kObjectList, nullptr, &attachment}, {"type"},
       {"props", T::kObject, nullptr, &props}, {"priority", T::kObject, nullptr, &priority}}};
  return s;
}

// vigil's own local receiver: one JSON line per notification.
const ObjectSpec& file_spec() {
  static const ObjectSpec s{"file.plain", {kSendResolvedTrue, {"path"}}};
  return s;
}

// ---- the rest of the file ----

const ObjectSpec& tracing_spec() {
  static const ObjectSpec s{
      "tracing.plain",
      {{"client_type", T::kString, "grpc"}, {"endpoint"}, {"sampling_fraction", T::kFloat},
       {"insecure", T::kBool}, {"tls_config", T::kObject, nullptr, &tls_config_spec()},
       {"headers", T::kObjectMap, nullptr, &header_spec()}, {"compression"},
       {"timeout", T::kDuration}}};
  return s;
}

const ObjectSpec& event_recorder_spec() {
  static const ObjectSpec file{"eventrecorder.plain", {{"path"}}};
  static const ObjectSpec webhook{
      "eventrecorder.plain",
      {{"url", T::kSecretUrl}, http_config_field(), {"timeout", T::kDuration},
       {"workers", T::kInt}, {"max_retries", T::kInt}, {"retry_backoff", T::kDuration},
       {"batch", T::kBool}, {"batch_max_events", T::kInt}, {"batch_max_bytes", T::kInt},
       {"batch_flush_interval", T::kDuration}}};
  static const ObjectSpec kafka{
      "eventrecorder.plain",
      {{"brokers", T::kStringList}, {"topic"}, {"client_id"}, {"format"}, {"acks"},
       {"compression"}, {"buffer_size", T::kInt},
       {"tls_config", T::kObject, nullptr, &tls_config_spec()}}};
  static const ObjectSpec out_stdout{"eventrecorder.StdoutOutputConfig", {}};
  static const ObjectSpec s{"eventrecorder.Config",
                            {{"file_outputs", T::kObjectList, nullptr, &file},
                             {"webhook_outputs", T::kObjectList, nullptr, &webhook},
                             {"kafka_outputs", T::kObjectList, nullptr, &kafka},
                             {"stdout_outputs", T::kObjectList, nullptr, &out_stdout}}};
  return s;
}

}  // namespace

const std::vector<IntegrationKind>& integration_kinds() {
  static const std::vector<IntegrationKind> kinds{
      {"webhook_configs", "webhook", &webhook_spec()},
      {"email_configs", "email", &email_spec()},
      {"pagerduty_configs", "pagerduty", &pagerduty_spec()},
      {"opsgenie_configs", "opsgenie", &opsgenie_spec()},
      {"wechat_configs", "wechat", &wechat_spec()},
      {"slack_configs", "slack", &slack_spec()},
      {"victorops_configs", "victorops", &victorops_spec()},
      {"pushover_configs", "pushover", &pushover_spec()},
      {"sns_configs", "sns", &sns_spec()},
      {"telegram_configs", "telegram", &telegram_spec()},
      {"discord_configs", "discord", &discord_spec()},
      {"webex_configs", "webex", &webex_spec()},
      {"msteams_configs", "msteams", &msteams_spec()},
      {"msteamsv2_configs", "msteamsv2", &msteamsv2_spec()},
      {"jira_configs", "jira", &jira_spec()},
      {"incidentio_configs", "incidentio", &incidentio_spec()},
      {"rocketchat_configs", "rocketchat", &rocketchat_spec()},
      {"mattermost_configs", "mattermost", &mattermost_spec()},
      {"file_configs", "file", &file_spec()},  // vigil's addition
  };
  return kinds;
}

const ObjectSpec& global_spec() {
  static const ObjectSpec s{
      "config.plain",
      {{"resolve_timeout", T::kDuration, "5m"}, {"http_config", T::kObject, "", &http_config_spec()},
       {"jira_api_url", T::kUrl}, {"smtp_from"}, {"smtp_hello", T::kString, "localhost"},
       {"smtp_smarthost", T::kHostPort}, {"smtp_auth_username"},
       {"smtp_auth_password", T::kSecret}, {"smtp_auth_password_file"},
       {"smtp_auth_secret", T::kSecret}, {"smtp_auth_secret_file"}, {"smtp_auth_identity"},
       {"smtp_require_tls", T::kBool, "true"},
       {"smtp_tls_config", T::kObject, "", &tls_config_spec()},
       {"smtp_force_implicit_tls", T::kBool}, {"slack_api_url", T::kSecretUrl},
       {"slack_api_url_file"}, {"slack_app_token", T::kSecret}, {"slack_app_token_file"},
       {"slack_app_url", T::kUrl, "https://slack.com/api/chat.postMessage"},
       {"pagerduty_url", T::kUrl, "https://events.pagerduty.com/v2/enqueue"},
       {"opsgenie_api_url", T::kUrl, "https://api.opsgenie.com/"},
       {"opsgenie_api_key", T::kSecret}, {"opsgenie_api_key_file"},
       {"wechat_api_url", T::kUrl, "https://qyapi.weixin.qq.com/cgi-bin/"},
       {"wechat_api_secret", T::kSecret}, {"wechat_api_secret_file"}, {"wechat_api_corp_id"},
       {"victorops_api_url", T::kUrl,
        "https://alert.victorops.com/integrations/generic/20131114/alert/"},
       {"victorops_api_key", T::kSecret}, {"victorops_api_key_file"},
       {"telegram_api_url", T::kUrl, "https://api.telegram.org"},
       {"telegram_bot_token", T::kSecret}, {"telegram_bot_token_file"},
       {"webex_api_url", T::kUrl, "https://webexapis.com/v1/messages"},
       {"rocketchat_api_url", T::kUrl, "https://open.rocket.chat/"},
       {"rocketchat_token", T::kSecret}, {"rocketchat_token_file"},
       {"rocketchat_token_id", T::kSecret}, {"rocketchat_token_id_file"},
       {"mattermost_webhook_url", T::kSecretUrl}, {"mattermost_webhook_url_file"}}};
  return s;
}

const ObjectSpec& route_spec() {
  // The tree refers to itself: child routes are routes.
  static const ObjectSpec s{"config.plain",
                            {{"receiver"}, {"group_by", T::kStringList}, {"match", T::kStringMap},
                             {"match_re", T::kStringMap}, {"matchers", T::kStringList},
                             {"mute_time_intervals", T::kStringList},
                             {"active_time_intervals", T::kStringList}, {"continue", T::kBool},
                             {"routes", T::kObjectList, nullptr, &s},
                             {"group_wait", T::kDuration}, {"group_interval", T::kDuration},
                             {"repeat_interval", T::kDuration}, {"labels", T::kStringMap}}};
  return s;
}

const ObjectSpec& inhibit_rule_spec() {
  static const ObjectSpec s{"common.plain",
                            {{"name"}, {"source_match", T::kStringMap},
                             {"source_match_re", T::kStringMap},
                             {"source_matchers", T::kStringList},
                             {"target_match", T::kStringMap},
                             {"target_match_re", T::kStringMap},
                             {"target_matchers", T::kStringList}, {"equal", T::kStringList}}};
  return s;
}

const ObjectSpec& receiver_spec() {
  static const ObjectSpec s = [] {
    ObjectSpec o{"config.plain", {{"name"}, {"labels", T::kStringMap}}};
    for (const IntegrationKind& k : integration_kinds())
      o.fields.push_back({k.key, T::kObjectList, nullptr, k.spec});
    return o;
  }();
  return s;
}

const ObjectSpec& time_interval_spec() {
  static const ObjectSpec range{"timeinterval.yamlTimeRange", {{"start_time"}, {"end_time"}}};
  static const ObjectSpec s{"timeinterval.TimeInterval",
                            {{"times", T::kObjectList, nullptr, &range},
                             {"weekdays", T::kStringList}, {"days_of_month", T::kStringList},
                             {"months", T::kStringList}, {"years", T::kStringList},
                             {"location"}}};
  return s;
}

const ObjectSpec& named_time_interval_spec() {
  static const ObjectSpec s{"config.plain",
                            {{"name"},
                             {"time_intervals", T::kObjectList, nullptr, &time_interval_spec()}}};
  return s;
}

const ObjectSpec& config_spec() {
  static const ObjectSpec s{
      "config.plain",
      {{"global", T::kObject, nullptr, &global_spec()},
       {"route", T::kObject, nullptr, &route_spec()},
       {"inhibit_rules", T::kObjectList, nullptr, &inhibit_rule_spec()},
       {"receivers", T::kObjectList, nullptr, &receiver_spec()},
       {"templates", T::kStringList},
       {"mute_time_intervals", T::kObjectList, nullptr, &named_time_interval_spec()},
       {"time_intervals", T::kObjectList, nullptr, &named_time_interval_spec()},
       {"tracing", T::kObject, nullptr, &tracing_spec()},
       {"event_recorder", T::kObject, nullptr, &event_recorder_spec()}}};
  return s;
}

}  // namespace vigil::routing
