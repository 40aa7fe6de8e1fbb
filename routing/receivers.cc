#include "routing/receivers.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "config/http_config.h"
#include "routing/config_specs.h"

namespace vigil::routing {

using config::ObjectSpec;
using config::SchemaDecoder;
using config::check_http_config;
using config::check_tls_config;
using config::http_config_spec;

using config::ConfigValue;
using config::canonical_header;

namespace {

using Errors = std::vector<Error>;

void report(Errors& errors, const ConfigValue& at, std::string msg) {
  errors.push_back(Error{std::move(msg), at.line, at.column});
}

bool present(const ConfigValue& o, std::string_view key) { return o.present(key); }

// Set to something other than the empty string.
bool set(const ConfigValue& o, std::string_view key) { return o.has(key); }

// Where to point an error about `key`: the field when written, else its object.
const ConfigValue& at(const ConfigValue& o, std::string_view key) {
  const ConfigValue* v = o.find(key);
  return v != nullptr && v->line > 0 ? *v : o;
}

// cmp.Or: the integration's own value, else the global one.
void inherit(ConfigValue& o, std::string_view key, const ConfigValue& global,
             std::string_view global_key) {
  if (set(o, key)) return;
  const ConfigValue* g = global.find(global_key);
  if (g == nullptr || g->is_null()) return;
  ConfigValue copy = *g;
  copy.line = copy.column = 0;
  o.set(std::string(key), std::move(copy));
}

// Both fields of a pair take the global pair when neither is set.
void inherit_pair(ConfigValue& o, std::string_view key, std::string_view file_key,
                  const ConfigValue& global, std::string_view gkey, std::string_view gfile_key) {
  if (set(o, key) || set(o, file_key)) return;
  inherit(o, key, global, gkey);
  inherit(o, file_key, global, gfile_key);
}

void exclusive(Errors& errors, const ConfigValue& o, std::string_view a, std::string_view b,
               bool (*is_set)(const ConfigValue&, std::string_view) = set) {
  if (is_set(o, a) && is_set(o, b))
    report(errors, at(o, b), fmt::format("at most one of {} & {} must be configured", a, b));
}

void one_of(Errors& errors, const ConfigValue& o, std::string_view a, std::string_view b) {
  if (!set(o, a) && !set(o, b))
    report(errors, o, fmt::format("one of {} or {} must be configured", a, b));
  exclusive(errors, o, a, b);
}

std::string ensure_trailing_slash(std::string url) {
  size_t end = url.find_first_of("?#");
  if (end == std::string::npos) end = url.size();
  // Without a path, "https://host" gets "/" as its path.
  if (end != 0 && url[end - 1] == '/') return url;
  // Built anew rather than insert()ed: GCC 12 misreads the insert as an
  // overlapping copy (-Wrestrict) once this is inlined.
  std::string out;
  out.reserve(url.size() + 1);
  out.append(url, 0, end).append("/").append(url, end);
  return out;
}

void slash_url(ConfigValue& o, std::string_view key) {
  ConfigValue* v = o.find(key);
  if (v == nullptr || v->kind() != ConfigValue::Kind::String) return;
  ConfigValue fixed = ConfigValue::string(ensure_trailing_slash(v->as_string()));
  fixed.line = v->line;
  fixed.column = v->column;
  *v = std::move(fixed);
}

int count_set(const ConfigValue& o, std::initializer_list<std::string_view> keys) { return o.count_set(keys); }

// The integration's http_config, or a copy of the global one.
void inherit_http(ConfigValue& o, const ConfigValue& global) {
  if (present(o, "http_config")) return;
  inherit(o, "http_config", global, "http_config");
}

// ---- sub-objects ----

void check_slack_extras(ConfigValue& o, Errors& errors) {
  if (ConfigValue* fields = o.find("fields"); fields && fields->is_list()) {
    for (const ConfigValue& f : fields->items()) {
      if (f.is_null()) continue;
      if (!set(f, "title")) report(errors, f, "missing title in Slack field configuration");
      if (!set(f, "value")) report(errors, f, "missing value in Slack field configuration");
    }
  }
  if (ConfigValue* actions = o.find("actions"); actions && actions->is_list()) {
    for (ConfigValue& a : actions->items()) {
      if (a.is_null()) continue;
      if (!set(a, "type")) report(errors, a, "missing type in Slack action configuration");
      if (!set(a, "text")) report(errors, a, "missing text in Slack action configuration");
      if (const ConfigValue* c = a.find("confirm"); c && !c->is_null() && !set(*c, "text"))
        report(errors, *c, "missing text in Slack confirmation configuration");
      if (set(a, "url")) {
        a.erase("name");
        a.erase("value");
        a.erase("confirm");
      } else if (set(a, "name")) {
        a.erase("url");
      } else {
        report(errors, a, "missing name or url in Slack action configuration");
      }
    }
  }
}

void check_mattermost_fields(const ConfigValue* fields, Errors& errors) {
  if (fields == nullptr || !fields->is_list()) return;
  for (const ConfigValue& f : fields->items()) {
    if (f.is_null()) continue;
    if (!set(f, "title")) report(errors, f, "missing title in Mattermost field configuration");
    if (!set(f, "value")) report(errors, f, "missing value in Mattermost field configuration");
  }
}

void check_opsgenie_responders(ConfigValue& o, Errors& errors) {
  ConfigValue* rs = o.find("responders");
  if (rs == nullptr || !rs->is_list()) return;
  constexpr std::string_view kTypes = "^(team|teams|user|escalation|schedule)$";
  for (ConfigValue& r : rs->items()) {
    if (r.is_null()) r = SchemaDecoder::defaults(ObjectSpec{});
    // Go prints the responder struct with %v.
    std::string shown = fmt::format("{{{} {} {} {}}}", r.str("id"), r.str("name"),
                                    r.str("username"), r.str("type"));
    if (!set(r, "id") && !set(r, "username") && !set(r, "name"))
      report(errors, r, fmt::format("opsGenieConfig responder {} has to have at least one of id, "
                                    "username or name specified", shown));
    std::string type(r.str("type"));
    if (type.find("{{") != std::string::npos) {
      if (type.find("}}") == std::string::npos)
        report(errors, at(r, "type"),
               fmt::format("opsGenieConfig responder {} type contains invalid template syntax: "
                           "template: :1: unclosed action", shown));
      continue;
    }
    for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (type != "team" && type != "teams" && type != "user" && type != "escalation" &&
        type != "schedule") {
      report(errors, at(r, "type"),
             fmt::format("opsGenieConfig responder {} type does not match valid options {}", shown,
                         kTypes));
    } else if (ConfigValue* t = r.find("type")) {
      int line = t->line, column = t->column;
      *t = ConfigValue::string(type);
      t->line = line, t->column = column;
    }
  }
}

// ---- one function per integration: its own checks, then the global ones ----
// `decoded` is false for a `- ` item (a nil pointer upstream), which skips
// the integration's own checks as upstream does.

void email(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (decoded) {
    if (!set(o, "to")) report(errors, o, "missing to address in email config");
    if (ConfigValue* headers = o.find("headers"); headers && headers->is_map()) {
      ConfigValue normalized = ConfigValue::map();
      normalized.line = headers->line, normalized.column = headers->column;
      for (const auto& [k, v] : headers->entries()) {
        std::string name = canonical_header(k);
        if (normalized.find(name)) report(errors, v, fmt::format("duplicate header \"{}\" in email config", name));
        normalized.set(std::move(name), v);
      }
      *headers = std::move(normalized);
    }
    if (const ConfigValue* th = o.find("threading"); th && th->flag("enabled")) {
      const ConfigValue* headers = o.find("headers");
      if (headers && headers->find("References"))
        report(errors, *th, "conflicting configuration: threading.enabled conflicts with custom References header");
      if (headers && headers->find("In-Reply-To"))
        report(errors, *th, "conflicting configuration: threading.enabled conflicts with custom In-Reply-To header");
      std::string_view by = th->str("thread_by_date");
      if (by != "none" && by != "daily")
        report(errors, at(*th, "thread_by_date"), "threading.thread_by_date must be either 'none' or 'daily'");
    }
  }
  if (!present(o, "tls_config")) inherit(o, "tls_config", g, "smtp_tls_config");
  inherit(o, "smarthost", g, "smtp_smarthost");
  if (!set(o, "smarthost")) report(errors, o, "no global SMTP smarthost set");
  inherit(o, "from", g, "smtp_from");
  if (!set(o, "from")) report(errors, o, "no global SMTP from set");
  inherit(o, "hello", g, "smtp_hello");
  inherit(o, "auth_username", g, "smtp_auth_username");
  inherit_pair(o, "auth_password", "auth_password_file", g, "smtp_auth_password", "smtp_auth_password_file");
  inherit_pair(o, "auth_secret", "auth_secret_file", g, "smtp_auth_secret", "smtp_auth_secret_file");
  inherit(o, "auth_identity", g, "smtp_auth_identity");
  if (!present(o, "require_tls")) inherit(o, "require_tls", g, "smtp_require_tls");
  if (!present(o, "force_implicit_tls")) inherit(o, "force_implicit_tls", g, "smtp_force_implicit_tls");
}

void slack(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (decoded) {
    exclusive(errors, o, "api_url", "api_url_file");
    exclusive(errors, o, "app_token", "app_token_file");
    if ((set(o, "api_url") || set(o, "api_url_file")) && (set(o, "app_token") || set(o, "app_token_file")))
      report(errors, o, "at most one of api_url/api_url_file & app_token/app_token_file must be configured");
    if (o.flag("update_message") && o.str("api_url") != "https://slack.com/api/chat.postMessage")
      report(errors, at(o, "update_message"),
             "update_message can only be used with bot tokens. api_url must be set to "
             "https://slack.com/api/chat.postMessage");
    check_slack_extras(o, errors);
  }
  inherit(o, "app_url", g, "slack_app_url");
  if (!set(o, "app_url")) report(errors, o, "no global Slack App URL set");
  const ConfigValue* http = o.find("http_config");
  bool local_auth = http && !http->is_null() && present(*http, "authorization");
  if (!set(o, "app_token") && !set(o, "app_token_file") && !local_auth && !set(o, "api_url")) {
    inherit(o, "app_token", g, "slack_app_token");
    inherit(o, "app_token_file", g, "slack_app_token_file");
  }
  inherit_pair(o, "api_url", "api_url_file", g, "slack_api_url", "slack_api_url_file");
  bool token = set(o, "app_token") || set(o, "app_token_file");
  if (!set(o, "api_url") && !set(o, "api_url_file") && !token)
    report(errors, o, "no Slack API URL nor App token set either inline or in a file");
  inherit_http(o, g);
  if (!token) return;
  ConfigValue* h = o.find("http_config");
  if (h == nullptr || h->is_null()) {
    o.set("http_config", SchemaDecoder::defaults(http_config_spec()));
    h = o.find("http_config");
  }
  if (present(*h, "authorization")) {
    report(errors, at(*h, "authorization"), "http authorization can't be set when using Slack App tokens");
    return;
  }
  ConfigValue auth = ConfigValue::map();
  auth.set("type", ConfigValue::string("Bearer"));
  if (const ConfigValue* t = o.find("app_token"); t && !t->is_null()) auth.set("credentials", *t);
  if (const ConfigValue* f = o.find("app_token_file"); f && !f->is_null()) auth.set("credentials_file", *f);
  h->set("authorization", std::move(auth));
  if (const ConfigValue* u = o.find("app_url")) {
    ConfigValue url = *u;
    url.secret = true;
    o.set("api_url", std::move(url));
  }
}

void pagerduty(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (!decoded) return report(errors, o, "missing pagerduty config");
  if (count_set(o, {"routing_key", "service_key", "routing_key_file", "service_key_file"}) == 0)
    report(errors, o, "missing service or routing key in PagerDuty config");
  exclusive(errors, o, "routing_key", "routing_key_file");
  exclusive(errors, o, "service_key", "service_key_file");
  ConfigValue details = present(o, "details") && o.find("details")->is_map() ? *o.find("details")
                                                                           : ConfigValue::map();
  for (auto [k, v] : {std::pair{"firing", "{{ .Alerts.Firing | toJson }}"},
                      {"resolved", "{{ .Alerts.Resolved | toJson }}"},
                      {"num_firing", "{{ .Alerts.Firing | len }}"},
                      {"num_resolved", "{{ .Alerts.Resolved | len }}"}})
    if (!details.find(k)) details.set(k, ConfigValue::string(v));
  o.set("details", std::move(details));
  if (!set(o, "source")) inherit(o, "source", o, "client");
  inherit_http(o, g);
  inherit(o, "url", g, "pagerduty_url");
  if (!set(o, "url")) report(errors, o, "no global PagerDuty URL set");
}

void opsgenie(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (decoded) {
    exclusive(errors, o, "api_key", "api_key_file");
    check_opsgenie_responders(o, errors);
  }
  inherit_http(o, g);
  inherit(o, "api_url", g, "opsgenie_api_url");
  if (!set(o, "api_url")) report(errors, o, "no global OpsGenie URL set");
  slash_url(o, "api_url");
  inherit(o, "api_key", g, "opsgenie_api_key");
  inherit(o, "api_key_file", g, "opsgenie_api_key_file");
  if (!set(o, "api_key") && !set(o, "api_key_file"))
    report(errors, o, "no global OpsGenie API Key set either inline or in a file");
}

void wechat(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (decoded) {
    if (!set(o, "message_type")) o.set("message_type", ConfigValue::string("text"));
    std::string_view type = o.str("message_type");
    if (type != "text" && type != "markdown")
      report(errors, at(o, "message_type"),
             fmt::format("weChat message type \"{}\" does not match valid options ^(text|markdown)$", type));
    exclusive(errors, o, "api_secret", "api_secret_file");
  }
  inherit_http(o, g);
  inherit(o, "api_url", g, "wechat_api_url");
  if (!set(o, "api_url")) report(errors, o, "no global Wechat URL set");
  if (!set(o, "api_secret") && !set(o, "api_secret_file")) {
    if (!set(g, "wechat_api_secret") && !set(g, "wechat_api_secret_file"))
      report(errors, o, "no global Wechat Api Secret set either inline or in a file");
    inherit_pair(o, "api_secret", "api_secret_file", g, "wechat_api_secret", "wechat_api_secret_file");
  }
  inherit(o, "corp_id", g, "wechat_api_corp_id");
  if (!set(o, "corp_id")) report(errors, o, "no global Wechat CorpID set");
  slash_url(o, "api_url");
}

void victorops(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (!decoded) return report(errors, o, "missing victorops config");
  if (!set(o, "routing_key")) report(errors, o, "missing Routing key in VictorOps config");
  exclusive(errors, o, "api_key", "api_key_file");
  if (const ConfigValue* cf = o.find("custom_fields"); cf && cf->is_map()) {
    for (std::string_view r : {"routing_key", "message_type", "state_message", "entity_display_name",
                               "monitoring_tool", "entity_id", "entity_state"})
      if (cf->find(r))
        report(errors, *cf->find(r),
               fmt::format("victorOps config contains custom field {} which cannot be used as it "
                           "conflicts with the fixed/static fields", r));
  }
  inherit_http(o, g);
  inherit(o, "api_url", g, "victorops_api_url");
  if (!set(o, "api_url")) report(errors, o, "no global VictorOps URL set");
  slash_url(o, "api_url");
  inherit(o, "api_key", g, "victorops_api_key");
  inherit(o, "api_key_file", g, "victorops_api_key_file");
  if (!set(o, "api_key") && !set(o, "api_key_file")) report(errors, o, "no global VictorOps API Key set");
}

void pushover(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (!decoded) return report(errors, o, "missing pushover config");
  one_of(errors, o, "user_key", "user_key_file");
  one_of(errors, o, "token", "token_file");
  if (o.flag("html") && o.flag("monospace"))
    report(errors, o, "at most one of monospace & html must be configured");
  inherit_http(o, g);
}

void sns(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (!decoded) return report(errors, o, "missing sns config");
  bool no_target = !set(o, "target_arn"), no_topic = !set(o, "topic_arn"), no_phone = !set(o, "phone_number");
  // Upstream's test, quirks included: all three set passes.
  if ((no_target != no_topic) != no_phone)
    report(errors, o, "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config");
  if (const ConfigValue* s = o.find("sigv4"); s && s->is_map()) {
    if (set(*s, "access_key") != set(*s, "secret_key"))
      report(errors, *s, "must provide a AWS SigV4 Access key and Secret Key if credentials are "
                         "specified in the SigV4 config");
    if (set(*s, "external_id") && !set(*s, "role_arn"))
      report(errors, *s, "external_id can only be used with role_arn");
  }
  inherit_http(o, g);
}

void telegram(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (!decoded) return report(errors, o, "missing telegram config");
  exclusive(errors, o, "bot_token", "bot_token_file");
  bool chat_id = o.num("chat_id") != 0;
  if (!chat_id && !set(o, "chat_id_file"))
    report(errors, o, "missing chat_id or chat_id_file on telegram_config");
  if (chat_id && set(o, "chat_id_file"))
    report(errors, o, "at most one of chat_id & chat_id_file must be configured");
  std::string_view mode = o.str("parse_mode");
  if (!mode.empty() && mode != "Markdown" && mode != "MarkdownV2" && mode != "HTML")
    report(errors, at(o, "parse_mode"),
           "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or empty string");
  inherit_http(o, g);
  inherit(o, "api_url", g, "telegram_api_url");
  if (!set(o, "bot_token") && !set(o, "bot_token_file")) {
    if (!set(g, "telegram_bot_token") && !set(g, "telegram_bot_token_file"))
      report(errors, o, "missing bot_token or bot_token_file on telegram_config");
    inherit_pair(o, "bot_token", "bot_token_file", g, "telegram_bot_token", "telegram_bot_token_file");
  }
}

void webhook_url_pair(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors,
                      std::string_view missing) {
  if (!decoded) return report(errors, o, std::string(missing));
  one_of(errors, o, "webhook_url", "webhook_url_file");
  inherit_http(o, g);
}

void webex(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (!decoded) return report(errors, o, "missing webex config");
  if (!set(o, "room_id")) report(errors, o, "missing room_id on webex_config");
  const ConfigValue* http = o.find("http_config");
  if (http == nullptr || http->is_null() || !present(*http, "authorization"))
    report(errors, o, "missing webex_configs.http_config.authorization");
  inherit_http(o, g);
  inherit(o, "api_url", g, "webex_api_url");
  if (!set(o, "api_url")) report(errors, o, "no global Webex URL set");
}

void msteamsv2(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (!decoded) return report(errors, o, "missing msteamsv2 config");
  one_of(errors, o, "webhook_url", "webhook_url_file");
  if (ConfigValue* h = o.find("http_config"); h && h->is_map()) {
    // A partial http_config still takes the global proxy.
    if (!present(*h, "proxy_url"))
      if (const ConfigValue* gh = g.find("http_config"); gh && gh->is_map()) inherit(*h, "proxy_url", *gh, "proxy_url");
  } else {
    inherit_http(o, g);
  }
}

void jira(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (!decoded) return report(errors, o, "missing jira config");
  if (!set(o, "project")) report(errors, o, "missing project in jira_config");
  if (!set(o, "issue_type")) report(errors, o, "missing issue_type in jira_config");
  std::string_view type = o.str("api_type");
  if (type != "auto" && type != "cloud" && type != "datacenter")
    report(errors, at(o, "api_type"), "unknown api_type on jira_config, must be auto, cloud or datacenter");
  inherit_http(o, g);
  inherit(o, "api_url", g, "jira_api_url");
  if (!set(o, "api_url")) report(errors, o, "no global Jira Cloud URL set");
}

void incidentio(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (!decoded) return report(errors, o, "missing incidentio config");
  one_of(errors, o, "url", "url_file");
  exclusive(errors, o, "alert_source_token", "alert_source_token_file");
  bool token = set(o, "alert_source_token") || set(o, "alert_source_token_file");
  const ConfigValue* http = o.find("http_config");
  bool has_http = http != nullptr && !http->is_null();
  bool auth = has_http && present(*http, "authorization");
  if (auth && token)
    report(errors, o, "cannot specify alert_source_token or alert_source_token_file when using http_config.authorization");
  // As upstream: with no http_config at all, a missing token passes here.
  if (has_http && !auth && !token)
    report(errors, o, "at least one of alert_source_token, alert_source_token_file or http_config.authorization must be configured");
  inherit_http(o, g);
}

void rocketchat(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (decoded) {
    exclusive(errors, o, "token", "token_file", present);
    exclusive(errors, o, "token_id", "token_id_file", present);
  }
  inherit_http(o, g);
  inherit(o, "api_url", g, "rocketchat_api_url");
  auto take = [&](std::string_view k, std::string_view gk) {
    if (!present(o, k)) inherit(o, k, g, gk);
  };
  take("token_id", "rocketchat_token_id");
  inherit(o, "token_id_file", g, "rocketchat_token_id_file");
  if (!present(o, "token_id") && !set(o, "token_id_file"))
    report(errors, o, "no global Rocketchat TokenID set either inline or in a file");
  take("token", "rocketchat_token");
  inherit(o, "token_file", g, "rocketchat_token_file");
  if (!present(o, "token") && !set(o, "token_file"))
    report(errors, o, "no global Rocketchat Token set either inline or in a file");
}

void mattermost(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (!decoded) return report(errors, o, "missing mattermost config");
  exclusive(errors, o, "webhook_url", "webhook_url_file");
  check_mattermost_fields(o.find("fields"), errors);
  if (const ConfigValue* as = o.find("attachments"); as && as->is_list())
    for (const ConfigValue& a : as->items())
      if (!a.is_null()) check_mattermost_fields(a.find("fields"), errors);
  inherit_http(o, g);
  if (!set(o, "webhook_url") && !set(o, "webhook_url_file")) {
    if (!set(g, "mattermost_webhook_url") && !set(g, "mattermost_webhook_url_file"))
      report(errors, o, "missing webhook_url or webhook_url_file on mattermost_config");
    inherit_pair(o, "webhook_url", "webhook_url_file", g, "mattermost_webhook_url", "mattermost_webhook_url_file");
  }
}

void webhook(ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (!decoded) return report(errors, o, "missing webhook config");
  one_of(errors, o, "url", "url_file");
  inherit_http(o, g);
}

void file(ConfigValue& o, bool decoded, Errors& errors) {
  if (!decoded) return report(errors, o, "missing file config");
  if (!set(o, "path")) report(errors, o, "missing path in file config (\"-\" writes to standard output)");
}

void apply(std::string_view type, ConfigValue& o, const ConfigValue& g, bool decoded, Errors& errors) {
  if (type == "webhook") return webhook(o, g, decoded, errors);
  if (type == "email") {
    if (!decoded) return report(errors, o, "missing email config");
    return email(o, g, decoded, errors);
  }
  if (type == "pagerduty") return pagerduty(o, g, decoded, errors);
  if (type == "opsgenie") return opsgenie(o, g, decoded, errors);
  if (type == "wechat") return wechat(o, g, decoded, errors);
  if (type == "slack") return slack(o, g, decoded, errors);
  if (type == "victorops") return victorops(o, g, decoded, errors);
  if (type == "pushover") return pushover(o, g, decoded, errors);
  if (type == "sns") return sns(o, g, decoded, errors);
  if (type == "telegram") return telegram(o, g, decoded, errors);
  if (type == "discord") return webhook_url_pair(o, g, decoded, errors, "missing discord config");
  if (type == "webex") return webex(o, g, decoded, errors);
  if (type == "msteams") return webhook_url_pair(o, g, decoded, errors, "missing msteams config");
  if (type == "msteamsv2") return msteamsv2(o, g, decoded, errors);
  if (type == "jira") return jira(o, g, decoded, errors);
  if (type == "incidentio") return incidentio(o, g, decoded, errors);
  if (type == "rocketchat") return rocketchat(o, g, decoded, errors);
  if (type == "mattermost") return mattermost(o, g, decoded, errors);
  if (type == "file") return file(o, decoded, errors);
}

}  // namespace

void check_global(ConfigValue& g, Errors& errors) {
  if (ConfigValue* h = g.find("http_config")) check_http_config(*h, errors);
  if (const ConfigValue* t = g.find("smtp_tls_config")) check_tls_config(*t, errors);
  auto pair = [&](std::string_view a, std::string_view b, bool (*is_set)(const ConfigValue&, std::string_view) = set) {
    exclusive(errors, g, a, b, is_set);
  };
  pair("slack_app_token", "slack_app_token_file");
  pair("slack_api_url", "slack_api_url_file");
  if ((set(g, "slack_app_token") || set(g, "slack_app_token_file")) &&
      (set(g, "slack_api_url") || set(g, "slack_api_url_file"))) {
    // Allowed when slack_api_url names the app URL (an old workaround for bot tokens).
    if (g.str("slack_api_url") != g.str("slack_app_url"))
      report(errors, g, "at most one of slack_app_token/slack_app_token_file & slack_api_url/slack_api_url_file must be configured");
  }
  pair("opsgenie_api_key", "opsgenie_api_key_file");
  pair("victorops_api_key", "victorops_api_key_file");
  pair("telegram_bot_token", "telegram_bot_token_file");
  pair("smtp_auth_password", "smtp_auth_password_file");
  pair("rocketchat_token", "rocketchat_token_file", present);
  pair("rocketchat_token_id", "rocketchat_token_id_file", present);
  pair("smtp_auth_secret", "smtp_auth_secret_file");
  pair("wechat_api_secret", "wechat_api_secret_file");
  pair("mattermost_webhook_url", "mattermost_webhook_url_file");
}

std::vector<IntegrationConfig> build_integrations(const ConfigValue& receiver,
                                                  const ConfigValue& global, Errors& errors) {
  std::vector<IntegrationConfig> out;
  for (const IntegrationKind& kind : integration_kinds()) {
    const ConfigValue* list = receiver.find(kind.key);
    if (list == nullptr || !list->is_list()) continue;
    int index = 0;
    for (const ConfigValue& item : list->items()) {
      IntegrationConfig ic;
      ic.type = std::string(kind.name);
      ic.index = index++;
      ic.position = {item.line, item.column};
      bool decoded = !item.is_null();
      ConfigValue o = decoded ? item : ConfigValue::map();
      o.line = item.line;
      o.column = item.column;
      if (ConfigValue* h = o.find("http_config"); h && decoded) check_http_config(*h, errors);
      if (const ConfigValue* t = o.find("tls_config"); t && decoded) check_tls_config(*t, errors);
      apply(kind.name, o, global, decoded, errors);
      ic.send_resolved = o.flag("send_resolved");
      ic.settings = std::move(o);
      out.push_back(std::move(ic));
    }
  }
  return out;
}

}  // namespace vigil::routing
