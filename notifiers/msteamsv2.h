#pragma once

// Microsoft Teams through a Workflows (Power Automate) webhook
// (`webhook_url` / `webhook_url_file`): one Adaptive Card 1.2 attachment
// holding a heading (the title, coloured "Attention" while firing and "Good"
// once resolved) and the text below it, as Alertmanager sends it.

#include <memory>

#include "notifiers/integration.h"

namespace vigil::notifiers {

class MsTeamsV2 final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;
};

}  // namespace vigil::notifiers
