#pragma once

// Amazon SNS: one Publish call (the query protocol the AWS SDK for Go v2
// speaks to SNS, SigV4-signed) to `topic_arn`, `target_arn` or
// `phone_number`, each templated, with the rendered `subject`, `message` and
// `attributes` (String message attributes), as Alertmanager 0.33/0.34 sends
// it:
//
// - the message is cut to 256 KiB (1600 bytes for a phone number) and then
//   carries the message attribute truncated=true; a message that is not
//   UTF-8 is refused;
// - a FIFO topic (an ARN ending in ".fifo") gets MessageGroupId and
//   MessageDeduplicationId, both the SHA-256 of the group key;
// - the endpoint is `api_url` (templated) or https://sns.<region>.amazonaws.com;
// - credentials and region come from `sigv4`, the environment or the shared
//   AWS files (net/aws_credentials.h); with `sigv4.role_arn` (and
//   `external_id`) they are exchanged for the role's through STS AssumeRole,
//   kept until shortly before they expire.
//
// Retried: transport errors, 5xx, 429, and the throttling and timeout error
// codes the SDK's retryer retries; every other AWS error is final. As
// upstream, failures before the request (templates, region, credentials)
// are retried too.
//
// `http_config` is the HTTP client's, as upstream's default; `use_aws_http_client`
// and AWS_CA_BUNDLE (upstream's switch to the SDK's own client) change
// nothing here, and `sigv4.service_name` and `use_fips_sts_endpoint` are
// ignored, as upstream's SNS notifier ignores them.

#include <expected>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "net/aws_query.h"
#include "notifiers/integration.h"

namespace vigil::notifiers {

class Sns final : public HttpIntegration {
 public:
  static Result<std::unique_ptr<Integration>> create(const config::ConfigValue& settings,
                                                     const IntegrationOptions& opts);
  AttemptResult send(const Message& m) override;

 private:
  // The credentials to sign Publish with: the base ones, or the role's.
  std::expected<net::sigv4::Credentials, AttemptResult> credentials(const Message& m,
                                                                    const std::string& region) const;

  net::aws::EnvFn env_;
  std::string sts_url_;
  mutable std::mutex mu_;
  mutable std::optional<net::aws::AssumedRole> role_;  // under mu_
};

}  // namespace vigil::notifiers
