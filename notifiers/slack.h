#pragma once

// Slack: an incoming webhook (`api_url` / `api_url_file`, or the global
// one) or the Web API's chat.postMessage with a bot token (`app_token`, sent
// as a bearer token; the loader has already put it into http_config). The
// message is one attachment with every templated field Alertmanager sends.
// A webhook answers "ok" as text; the Web API answers JSON with "ok": true.
// A 429 is retried after its Retry-After.

#include <memory>

#include "net/http_client.h"
#include "notifiers/integration.h"
#include "notifiers/render.h"

namespace vigil::notifiers {

class Slack final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;

  // The request body (exposed for tests).
  Json request(Renderer& r) const;

};

}  // namespace vigil::notifiers
