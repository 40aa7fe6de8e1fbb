#pragma once

// WeChat Work (企业微信): an access token is fetched from `api_url` +
// "gettoken" with corp_id and api_secret, kept for two hours (or until
// WeChat says it expired, errcode 42001, which is retried with a new
// token), then the message is POSTed to "message/send" as text or markdown
// for to_user / to_party / to_tag and agent_id. WeChat answers 200 with an
// errcode: 0 is success, anything else a failure naming its errmsg.

#include <memory>
#include <mutex>
#include <string>

#include "notifiers/integration.h"

namespace vigil::notifiers {

class WeChat final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings);
  AttemptResult send(const Message& m) override;

 private:
  // The cached token, or a fetched one; empty with `error` set on failure.
  std::string token(const Message& m, AttemptResult& error);

  std::mutex mu_;
  std::string token_;  // guarded by mu_
  Millis token_at_ = 0;  // guarded by mu_
};

}  // namespace vigil::notifiers
