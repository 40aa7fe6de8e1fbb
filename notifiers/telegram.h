#pragma once

// Telegram: the Bot API's sendMessage (`api_url`, `bot_token` /
// `bot_token_file`, `chat_id` / `chat_id_file`, `message_thread_id`,
// `parse_mode`, `disable_notifications`). With HTML parse mode the message
// is rendered with HTML escaping; a message over Telegram's 4096 characters
// is cut (or, in HTML, replaced by a notice, since a cut could break tags).
// As upstream, every failure may be retried.

#include <memory>

#include "net/http_client.h"
#include "notifiers/integration.h"

namespace vigil::notifiers {

class Telegram final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;
};

}  // namespace vigil::notifiers
