#pragma once

// AWS's query protocol, as the Go SDK v2 speaks it to SNS and STS: a POST
// of `Action=...&Version=...&...` form parameters (keys sorted, values
// escaped as Go's url.Values.Encode does), SigV4-signed, answered with XML;
// errors come as <ErrorResponse><Error><Code>..</Code><Message>..</Message>.
// Also STS AssumeRole, for the temporary credentials of `sigv4.role_arn`.

#include <atomic>
#include <expected>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/duration.h"
#include "model/error.h"
#include "net/http_client.h"
#include "net/sigv4.h"

namespace vigil::net::aws {

using Params = std::vector<std::pair<std::string, std::string>>;

// The form body: sorted by key (stable), keys and values query-escaped.
std::string form_encode(Params params);

// An endpoint URL taken apart for signing. `host` is what goes in the Host
// header (the scheme's default port dropped); `path` is "/" when empty.
struct Endpoint {
  std::string url;  // as given
  std::string host;
  std::string path;
  std::string query;
};
Result<Endpoint> parse_endpoint(std::string_view url);

// A service's public endpoint in a region: https://<service>.<region>.amazonaws.com
// (amazonaws.com.cn in the China regions).
std::string default_endpoint(std::string_view service, std::string_view region);

// A signed form POST of `body` to `ep`.
HttpRequest signed_post(const Endpoint& ep, std::string body, const sigv4::Credentials& creds,
                        std::string_view region, std::string_view service, Millis now);

// The text of the first <tag>...</tag> in `xml`, entities decoded; "" when
// absent.
std::string xml_text(std::string_view xml, std::string_view tag);

struct ApiError {
  std::string code;     // "InvalidParameter", "Throttling", ...
  std::string message;  // "" when the body is not an AWS error document
};
ApiError parse_error(std::string_view body);

// The error codes the Go SDK's standard retryer tries again (throttling and
// request timeouts), whatever the status code.
bool retryable_code(std::string_view code);

// STS AssumeRole. `sts_url` is the STS endpoint.
struct AssumedRole {
  sigv4::Credentials creds;
  Millis expires = 0;
};
struct AssumeRoleRequest {
  std::string sts_url;
  std::string region;
  std::string role_arn;
  std::string external_id;   // optional
  std::string session_name;  // RoleSessionName
  Millis now = 0;
  Millis timeout = 0;
  const std::atomic<bool>* cancel = nullptr;
};
// An STS error answer fails with `status` set; a transport failure with 0.
// `retry` as for any AWS answer: transport errors, 5xx, 429, retryable codes.
struct StsFailure {
  long status = 0;
  std::string message;
  bool retry = true;
};
std::expected<AssumedRole, StsFailure> assume_role(const HttpClient& http, const AssumeRoleRequest& r,
                                                   const sigv4::Credentials& base);

}  // namespace vigil::net::aws
