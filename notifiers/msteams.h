#pragma once

// Microsoft Teams through an incoming webhook (`webhook_url` /
// `webhook_url_file`): a MessageCard with title, summary and text, its theme
// colour red while firing and green once resolved.

#include <memory>

#include "net/http_client.h"
#include "notifiers/integration.h"

namespace vigil::notifiers {

class MsTeams final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;
};

}  // namespace vigil::notifiers
