#include "notifiers/integration.h"

#include <fmt/format.h>

#include "notifiers/discord.h"
#include "notifiers/email.h"
#include "notifiers/file_receiver.h"
#include "notifiers/msteams.h"
#include "notifiers/pagerduty.h"
#include "notifiers/slack.h"
#include "notifiers/telegram.h"
#include "notifiers/webhook.h"

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

Result<std::unique_ptr<Integration>> make_integration(const routing::IntegrationConfig& ic,
                                                      const IntegrationOptions& opts) {
  const config::ConfigValue& s = ic.settings;
  if (!s.is_map()) return fail(ic.type + ": the integration has no settings");
  if (ic.type == "webhook") return Webhook::create(s);
  if (ic.type == "file") return FileReceiver::create(s);
  if (ic.type == "slack") return Slack::create(s);
  if (ic.type == "pagerduty") return PagerDuty::create(s, opts);
  if (ic.type == "email") return Email::create(s, opts);
  if (ic.type == "discord") return Discord::create(s);
  if (ic.type == "msteams") return MsTeams::create(s);
  if (ic.type == "telegram") return Telegram::create(s);
  return fail(ic.type + ": vigil cannot deliver to this integration yet");
}

}  // namespace vigil::notifiers
