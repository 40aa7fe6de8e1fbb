#pragma once

// Splunk On-Call (VictorOps): the REST endpoint integration. One JSON object
// per notification, POSTed to `api_url` + api key + "/" + routing key:
// message_type (CRITICAL, WARNING or INFO while firing, RECOVERY once
// resolved), entity_id (the group's hash, so that updates land on the same
// incident), entity_display_name, state_message (cut to 20 480 characters),
// monitoring_tool, and the templated `custom_fields`.

#include <memory>

#include "notifiers/integration.h"

namespace vigil::notifiers {

class VictorOps final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;
};

}  // namespace vigil::notifiers
