#pragma once

// Discord: a webhook (`webhook_url` / `webhook_url_file`) receiving one
// embed (title, message as description, red while firing, green once
// resolved), optional `content`, `username` and `avatar_url`, with
// Discord's length limits applied as upstream.

#include <memory>

#include "net/http_client.h"
#include "notifiers/integration.h"

namespace vigil::notifiers {

class Discord final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;
};

}  // namespace vigil::notifiers
