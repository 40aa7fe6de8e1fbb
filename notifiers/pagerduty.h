#pragma once

// PagerDuty: the Events API v2 (`routing_key`, posted to `url`) with
// summary, severity, source, class, component, group, custom_details,
// images, links, client and client_url; or the v1 API (`service_key`).
// The dedup (v2) or incident (v1) key is the SHA-256 of the group key, so
// every notification of a group lands on one incident; a group whose alerts
// are all resolved sends a resolve event. Summaries and descriptions are cut
// at 1024 characters and oversized custom details replaced, as upstream.
// Retried: 5xx, 429 (v2), 403 (v1, PagerDuty's rate limit there).

#include <memory>
#include <string>

#include "net/http_client.h"
#include "notifiers/integration.h"
#include "notifiers/render.h"

namespace vigil::notifiers {

class PagerDuty final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings,
                                                     const IntegrationOptions& opts);
  AttemptResult send(const Message& m) override;

 private:
  std::string v1_url_;  // set when the service_key form is used
};

}  // namespace vigil::notifiers
