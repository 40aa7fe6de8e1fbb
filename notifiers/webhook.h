#pragma once

// Alertmanager's generic webhook: POSTs the notification as JSON (version
// "4": groupKey, truncatedAlerts and the template data) to `url` (a
// template) or the URL in `url_file`; `max_alerts` caps the alerts sent,
// `timeout` each attempt, and `payload` replaces the body with a templated
// JSON tree.

#include <memory>

#include "net/http_client.h"
#include "notifiers/integration.h"
#include "notifiers/render.h"

namespace vigil::notifiers {

// The webhook body for a notification's data (also what the file receiver writes).
Json webhook_message(const templates::NotificationData& d);

class Webhook final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;
  size_t max_alerts() const override { return max_alerts_; }

 private:
  size_t max_alerts_ = 0;
  Millis timeout_ = 0;
};

}  // namespace vigil::notifiers
