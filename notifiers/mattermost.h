#pragma once

// Mattermost through an incoming webhook (`webhook_url` /
// `webhook_url_file`). Without `attachments`, the settings make the one
// attachment (text, fallback, colour, title, fields, ...); with them, each
// configured attachment is rendered and the text goes at the top of the
// message, cut to Mattermost's 16 383 characters. A message `priority`
// (urgent, important, standard) is normalized as Mattermost requires:
// requested_ack needs more than standard, persistent_notifications urgent.

#include <memory>

#include "notifiers/integration.h"

namespace vigil::notifiers {

class Mattermost final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;
};

}  // namespace vigil::notifiers
