#pragma once

// Pushover: one message per notification, its parameters (token, user,
// title, message, url, url_title, priority, retry, expire, device, sound,
// html/monospace, ttl) in the query string of a POST to Pushover's messages
// API, keys sorted and values query-escaped as upstream sends them. Title,
// message and URL are cut to Pushover's limits (250, 1024 and 512
// characters); an empty message becomes "(no details)", which Pushover
// accepts where it refuses an empty one. With `html: true` the message is
// rendered with HTML escaping.

#include <memory>
#include <string>

#include "notifiers/integration.h"

namespace vigil::notifiers {

class Pushover final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings,
                                                     const IntegrationOptions& opts);
  AttemptResult send(const Message& m) override;

 private:
  std::string api_url_;
};

}  // namespace vigil::notifiers
