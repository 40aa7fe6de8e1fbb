#include "notifiers/integration.h"

#include <fmt/format.h>

#include "notifiers/discord.h"
#include "notifiers/email.h"
#include "notifiers/file_receiver.h"
#include "notifiers/incidentio.h"
#include "notifiers/jira.h"
#include "notifiers/mattermost.h"
#include "notifiers/msteams.h"
#include "notifiers/msteamsv2.h"
#include "notifiers/opsgenie.h"
#include "notifiers/pagerduty.h"
#include "notifiers/pushover.h"
#include "notifiers/rocketchat.h"
#include "notifiers/slack.h"
#include "notifiers/sns.h"
#include "notifiers/telegram.h"
#include "notifiers/victorops.h"
#include "notifiers/webex.h"
#include "notifiers/webhook.h"
#include "notifiers/wechat.h"

namespace vigil::notifiers {

using net::HttpClient;
using net::collect_secrets;

Result<void> HttpIntegration::init(const config::ConfigValue& settings, std::string_view name,
                                   std::string_view url_key) {
  settings_ = settings;
  auto http = HttpClient::create(settings.find("http_config"));
  if (!http) return fail(std::string(name) + ": " + http.error().message);
  http_ = std::move(*http);
  collect_secrets(settings, redactor_);
  redactor_.add_all(http_->redactor());
  if (!url_key.empty() && !settings.has(url_key) && !settings.has(std::string(url_key) + "_file"))
    return fail(fmt::format("{}: one of {} or {}_file must be configured", name, url_key, url_key));
  return {};
}

namespace {

using Factory = Result<std::unique_ptr<Integration>> (*)(const config::ConfigValue&, const IntegrationOptions&);

struct Kind {
  std::string_view type;
  Factory make;
};

constexpr Kind kKinds[] = {
    {"webhook", [](const config::ConfigValue& s, const IntegrationOptions&) { return Webhook::create(s); }},
    {"file", [](const config::ConfigValue& s, const IntegrationOptions&) { return FileReceiver::create(s); }},
    {"slack", [](const config::ConfigValue& s, const IntegrationOptions&) { return Slack::create(s); }},
    {"pagerduty", [](const config::ConfigValue& s, const IntegrationOptions& o) { return PagerDuty::create(s, o); }},
    {"email", [](const config::ConfigValue& s, const IntegrationOptions& o) { return Email::create(s, o); }},
    {"discord", [](const config::ConfigValue& s, const IntegrationOptions&) { return Discord::create(s); }},
    {"msteams", [](const config::ConfigValue& s, const IntegrationOptions&) { return MsTeams::create(s); }},
    {"telegram", [](const config::ConfigValue& s, const IntegrationOptions&) { return Telegram::create(s); }},
    {"msteamsv2", [](const config::ConfigValue& s, const IntegrationOptions&) { return MsTeamsV2::create(s); }},
    {"webex", [](const config::ConfigValue& s, const IntegrationOptions&) { return Webex::create(s); }},
    {"victorops", [](const config::ConfigValue& s, const IntegrationOptions&) { return VictorOps::create(s); }},
    {"incidentio", [](const config::ConfigValue& s, const IntegrationOptions&) { return IncidentIo::create(s); }},
    {"pushover", [](const config::ConfigValue& s, const IntegrationOptions& o) { return Pushover::create(s, o); }},
    {"mattermost", [](const config::ConfigValue& s, const IntegrationOptions&) { return Mattermost::create(s); }},
    {"rocketchat", [](const config::ConfigValue& s, const IntegrationOptions&) { return RocketChat::create(s); }},
    {"wechat", [](const config::ConfigValue& s, const IntegrationOptions&) { return WeChat::create(s); }},
    {"sns", [](const config::ConfigValue& s, const IntegrationOptions& o) { return Sns::create(s, o); }},
    {"opsgenie", [](const config::ConfigValue& s, const IntegrationOptions&) { return Opsgenie::create(s); }},
    {"jira", [](const config::ConfigValue& s, const IntegrationOptions&) { return Jira::create(s); }},
};

const Kind* find_kind(std::string_view type) {
  for (const Kind& k : kKinds)
    if (k.type == type) return &k;
  return nullptr;
}

}  // namespace

Result<std::unique_ptr<Integration>> make_integration(const routing::IntegrationConfig& ic,
                                                      const IntegrationOptions& opts) {
  const config::ConfigValue& s = ic.settings;
  if (!s.is_map()) return fail(ic.type + ": the integration has no settings");
  const Kind* k = find_kind(ic.type);
  if (k == nullptr) return fail(ic.type + ": vigil cannot deliver to this integration yet");
  return k->make(s, opts);
}

bool can_deliver(std::string_view type) { return find_kind(type) != nullptr; }

}  // namespace vigil::notifiers
