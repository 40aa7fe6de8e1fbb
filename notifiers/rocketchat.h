#pragma once

// Rocket.Chat: chat.postMessage on `api_url` with the X-Auth-Token and
// X-User-Id headers (`token`/`token_id` or their files, read when the
// integration is built). One attachment carries the title (cut to 1 024
// characters), title link, text, colour, image/thumb URLs, fields and
// button actions. Rocket.Chat may refuse a message with a 200 answer: the
// body's `success` decides.

#include <memory>
#include <string>

#include "notifiers/integration.h"

namespace vigil::notifiers {

class RocketChat final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;

 private:
  std::string token_, token_id_;
};

}  // namespace vigil::notifiers
