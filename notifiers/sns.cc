#include "notifiers/sns.h"

#include <map>

#include <fmt/format.h>

#include "model/names.h"
#include "notifiers/render.h"

namespace vigil::notifiers {

using config::ConfigValue;
using net::HttpResponse;
namespace aws = net::aws;

namespace {

// SNS's limits on a message: 256 KiB, and 1600 for an SMS.
constexpr size_t kMaxMessageBytes = 256 * 1024;
constexpr size_t kMaxSmsBytes = 1600;

// At most `n` bytes. Upstream cuts at the byte, which can split a character
// and leave the message invalid UTF-8; here the cut moves back to the
// character's start. No marker is added: the truncated attribute says it.
std::string cut_bytes(std::string_view s, size_t n, bool* truncated) {
  if (s.size() <= n) return std::string(s);
  *truncated = true;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return std::string(s.substr(0, n));
}

// An AWS answer: check_http's rules (transport errors, 5xx and 429 retried,
// Retry-After kept), plus the SDK's retryable error codes; the error shows
// the AWS message, as upstream's does.
AttemptResult classify(const Result<HttpResponse>& resp, Millis now) {
  AttemptResult res = check_http(resp, now);
  if (res.ok || !resp) return res;
  aws::ApiError e = aws::parse_error(resp->body);
  if (aws::retryable_code(e.code)) res.retry = true;
  if (!e.message.empty()) res.error = fmt::format("unexpected status code {}: {}", resp->status, e.message);
  return res;
}

}  // namespace

Result<std::unique_ptr<Integration>> Sns::create(const ConfigValue& settings, const IntegrationOptions& opts) {
  auto s = std::make_unique<Sns>();
  if (auto ok = s->init(settings, "sns"); !ok) return std::unexpected(ok.error());
  s->env_ = opts.env ? opts.env : aws::process_env();
  s->sts_url_ = opts.sts_url;
  return std::unique_ptr<Integration>(std::move(s));
}

std::expected<net::sigv4::Credentials, AttemptResult> Sns::credentials(const Message& m,
                                                                       const std::string& region) const {
  const ConfigValue* sigv4 = settings_.find("sigv4");
  auto base = aws::resolve_credentials(sigv4, env_);
  if (!base) return std::unexpected(AttemptResult::transient(base.error().message));
  if (sigv4 == nullptr || !sigv4->has("role_arn")) return *base;
  // A dry run asks nothing of STS: the request shown is signed with the
  // base keys.
  if (m.dry_run != nullptr) return *base;

  // One AssumeRole at a time per integration; the answer serves every
  // notification until a minute before it expires.
  std::lock_guard lock(mu_);
  if (role_ && role_->expires - kMinute > m.now) return role_->creds;
  aws::AssumeRoleRequest ar;
  ar.sts_url = sts_url_.empty() ? aws::default_endpoint("sts", region) : sts_url_;
  ar.region = region;
  ar.role_arn = std::string(sigv4->str("role_arn"));
  ar.external_id = std::string(sigv4->str("external_id"));
  ar.session_name = fmt::format("vigil-{}", m.now);
  ar.now = m.now;
  ar.timeout = m.time_left(0);
  ar.cancel = m.cancel;
  auto got = aws::assume_role(*http_, ar, *base);
  if (!got) {
    AttemptResult f;
    f.retry = got.error().retry;
    f.reason = got.error().status != 0 ? reason_from_status(got.error().status) : FailureReason::kOther;
    f.error = "assume role " + ar.role_arn + ": " + got.error().message;
    return std::unexpected(f);
  }
  role_ = *got;
  return role_->creds;
}

AttemptResult Sns::send(const Message& m) {
  const ConfigValue& c = settings_;
  Renderer r(m.templates, m.value);
  // As upstream, a template that fails is retried, as every error before
  // the request is.
  auto template_failed = [&](std::string_view field) {
    return AttemptResult::transient(fmt::format("execute '{}' template: {}", field, r.error()->message),
                                    FailureReason::kClientError);
  };

  std::string api_url = r.text(c.str("api_url"));
  if (r.error()) return template_failed("api_url");
  const std::string region = aws::resolve_region(c.find("sigv4"), env_);
  if (region.empty())
    return AttemptResult::transient("region not configured in sns.sigv4.region or in default credentials chain");

  std::map<std::string, std::string> attributes;
  if (const ConfigValue* a = c.find("attributes"); a != nullptr && a->is_map())
    for (const auto& [k, v] : a->entries()) attributes[r.text(k)] = r.text(v.as_string());
  if (r.error()) return template_failed("attributes");

  aws::Params params{{"Action", "Publish"}, {"Version", "2010-03-31"}};
  size_t limit = kMaxMessageBytes;
  if (c.has("topic_arn")) {
    std::string topic = r.text(c.str("topic_arn"));
    if (r.error()) return template_failed("topic_arn");
    if (topic.ends_with(".fifo")) {
      const std::string key = sha256_hex(m.notification.group_key);
      params.emplace_back("MessageDeduplicationId", key);
      params.emplace_back("MessageGroupId", key);
    }
    params.emplace_back("TopicArn", std::move(topic));
  }
  if (c.has("phone_number")) {
    params.emplace_back("PhoneNumber", r.text(c.str("phone_number")));
    if (r.error()) return template_failed("phone_number");
    limit = kMaxSmsBytes;
  }
  if (c.has("target_arn")) {
    params.emplace_back("TargetArn", r.text(c.str("target_arn")));
    if (r.error()) return template_failed("target_arn");
  }

  std::string message = r.text(c.str("message"));
  if (r.error()) return template_failed("message");
  if (!is_valid_utf8(message)) return AttemptResult::transient("non utf8 encoded message string");
  bool truncated = false;
  params.emplace_back("Message", cut_bytes(message, limit, &truncated));
  if (truncated) attributes["truncated"] = "true";
  int n = 0;
  for (const auto& [name, value] : attributes) {
    const std::string entry = fmt::format("MessageAttributes.entry.{}.", ++n);
    params.emplace_back(entry + "Name", name);
    params.emplace_back(entry + "Value.DataType", "String");
    params.emplace_back(entry + "Value.StringValue", value);
  }
  if (c.has("subject")) {
    params.emplace_back("Subject", r.text(c.str("subject")));
    if (r.error()) return template_failed("subject");
  }

  auto creds = credentials(m, region);
  if (!creds) return creds.error();
  auto ep = aws::parse_endpoint(api_url.empty() ? aws::default_endpoint("sns", region) : api_url);
  if (!ep) return AttemptResult::transient(ep.error().message);
  net::HttpRequest req = aws::signed_post(*ep, aws::form_encode(std::move(params)), *creds, region, "sns", m.now);
  req.timeout = m.time_left(0);
  return classify(exchange(m, req), m.now);
}

}  // namespace vigil::notifiers
