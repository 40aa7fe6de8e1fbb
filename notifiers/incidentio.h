#pragma once

// incident.io's Alertmanager alert source: the webhook body (version "1",
// groupKey, truncatedAlerts and the template data) POSTed to `url` /
// `url_file` with the alert source token as a bearer token. `max_alerts`
// caps the alerts sent; a body over incident.io's 512 KiB limit is sent
// again with only its first alert (the one incident.io opens the incident
// from). 429 is retried, and an error names what incident.io's answer says.

#include <memory>

#include "notifiers/integration.h"

namespace vigil::notifiers {

class IncidentIo final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;
  size_t max_alerts() const override { return max_alerts_; }

 private:
  size_t max_alerts_ = 0;
  Millis timeout_ = 0;
  std::string token_;  // empty: http_config's own authorization, if any
};

}  // namespace vigil::notifiers
