#pragma once

// Cisco Webex: the rendered message, as Markdown, posted to the messages API
// (`api_url`) for `room_id`, authorized by http_config's bearer credentials.
// Messages longer than Webex accepts are cut.

#include <memory>

#include "notifiers/integration.h"

namespace vigil::notifiers {

class Webex final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;
};

}  // namespace vigil::notifiers
