#pragma once

// One kind of receiver integration (webhook, Slack, email, ...): what it is
// handed for one delivery attempt and how it reports the outcome. An
// integration is built once per configured integration and then used from
// many threads at once; it keeps no per-notification state.

#include <atomic>
#include <memory>
#include <string>

#include "model/duration.h"
#include "model/error.h"
#include "net/aws_credentials.h"
#include "net/http_client.h"
#include "net/secrets.h"
#include "notifiers/dry_run.h"
#include "notifiers/retry.h"
#include "routing/config.h"
#include "routing/notify.h"
#include "templates/alertmanager.h"
#include "templates/notification_data.h"

namespace vigil::notifiers {

// One attempt at delivering one notification.
struct Message {
  const routing::Notification& notification;
  const templates::NotificationData& data;  // after max_alerts truncation
  const templates::Value& value;            // `data` as template data
  const templates::NotificationTemplates& templates;
  Millis now = 0;       // when the attempt starts
  Millis deadline = 0;  // no attempt may last past it
  // Set when delivery stops: an attempt still talking to its receiver ends
  // at once (as a failure). Null: never.
  const std::atomic<bool>* cancel = nullptr;
  // Set in a dry run: requests are recorded there instead of being sent.
  DryRun* dry_run = nullptr;

  // Time left for this attempt, bounded by the integration's own timeout.
  Millis time_left(Millis own_timeout) const {
    Millis left = std::max<Millis>(deadline - now, 1);
    return own_timeout > 0 ? std::min(left, own_timeout) : left;
  }
};

class Integration {
 public:
  virtual ~Integration() = default;
  // Sends once. Never throws; errors are reported in the result, redacted.
  virtual AttemptResult send(const Message& m) = 0;
  // How many alerts one notification may carry (0: all); the rest are
  // counted as truncated.
  virtual size_t max_alerts() const { return 0; }
  // Secrets of this integration's settings, kept out of messages.
  const net::Redactor& redactor() const { return redactor_; }

 protected:
  net::Redactor redactor_;
};

// An integration that talks HTTP with its `http_config`: it keeps its
// settings and client, and its redactor knows the secrets of both.
class HttpIntegration : public Integration {
 protected:
  // Sets settings_, http_ and the redactor; `name` prefixes an error
  // ("slack: ...") in a bad http_config. With `url_key`, that setting or
  // its `_file` variant must be given.
  Result<void> init(const config::ConfigValue& settings, std::string_view name, std::string_view url_key = {});
  // Sends `req` through http_ for `m`: canceled with the delivery. In a dry
  // run, records it and answers with the dry run's success.
  Result<net::HttpResponse> exchange(const Message& m, net::HttpRequest& req) const {
    if (m.dry_run != nullptr) {
      m.dry_run->record(m.notification.integration, req, *http_, redactor_);
      return DryRun::answer();
    }
    req.cancel = m.cancel;
    return http_->send(req);
  }

  config::ConfigValue settings_;
  std::shared_ptr<net::HttpClient> http_;
};

// Knobs that do not come from alertmanager.yml.
struct IntegrationOptions {
  // PagerDuty's Events API v1 endpoint (used with service_key); replaceable
  // so tests can point it at a local server.
  std::string pagerduty_v1_url = "https://events.pagerduty.com/generic/2010-04-15/create_event.json";
  // Pushover's messages API, fixed upstream; replaceable for the same reason.
  std::string pushover_url = "https://api.pushover.net/1/messages.json";
  // The host name email Message-Ids are made with; empty: gethostname().
  std::string hostname;
  // Where SNS reads AWS_* variables and HOME (for ~/.aws); null: the
  // process's environment.
  net::aws::EnvFn env;
  // The STS endpoint `sigv4.role_arn` is assumed through; empty: the
  // region's (https://sts.<region>.amazonaws.com).
  std::string sts_url;
};

// Builds the integration a configuration entry describes. Errors name the
// integration's field that is wrong.
Result<std::unique_ptr<Integration>> make_integration(const routing::IntegrationConfig& ic,
                                                      const IntegrationOptions& opts);

// Whether make_integration builds this type ("slack", "email", ...): what
// config loading is told, so that a receiver vigil cannot deliver to is
// reported when the file is read, not at the first page.
bool can_deliver(std::string_view type);

}  // namespace vigil::notifiers
