#pragma once

// Opsgenie: the Alert API v2 at `api_url` (the global opsgenie_api_url, US
// or EU), authorised by `GenieKey <api_key>` (or api_key_file; the key is a
// template too, as upstream). A firing group creates an alert whose alias
// is the SHA-256 of the group key, so Opsgenie deduplicates every
// notification of the group into one alert; with update_alerts, its message
// and description are then replaced through the alias endpoints. A resolved
// group closes the alert by alias.
//
// The create body is upstream's: message (cut at 130 characters), templated
// description, details (the common labels, then the configured details),
// source, responders (`teams` expands a comma-separated list of team
// names), tags and actions (comma-separated), note, priority and entity;
// empty optional fields are left out. Retried as upstream: transport
// errors, 5xx and 429.

#include <memory>

#include "notifiers/integration.h"
#include "notifiers/render.h"

namespace vigil::notifiers {

class Opsgenie final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;

 private:
  // The create request's body (firing groups).
  Json create_body(Renderer& r, const Message& m, const std::string& alias) const;
};

}  // namespace vigil::notifiers
