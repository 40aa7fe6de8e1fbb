#pragma once

// Slack: an incoming webhook (`api_url` / `api_url_file`, or the global
// one) or the Web API's chat.postMessage with a bot token (`app_token`, sent
// as a bearer token; the loader has already put it into http_config). The
// message is one attachment with every templated field Alertmanager sends.
// A webhook answers "ok" as text; the Web API answers JSON with "ok": true.
// A 429 is retried after its Retry-After.
//
// With `update_message` (the Web API only), the first notification of a
// group posts and the message's ts and channel, from Slack's answer, are
// kept with the group's notification log entry; later notifications of the
// group call chat.update on that message instead (beside chat.postMessage,
// at the same place). A group that fires again after its resolution, or
// whose log entry expired, gets a new message.

#include <memory>

#include "net/http_client.h"
#include "notifiers/integration.h"
#include "notifiers/render.h"

namespace vigil::notifiers {

class Slack final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;

  // A message Slack posted: where to update it.
  struct Posted {
    std::string channel, ts;
  };
  // The request body; with `update`, the one that replaces that message
  // (exposed for tests).
  Json request(Renderer& r, const Posted* update = nullptr) const;

};

}  // namespace vigil::notifiers
